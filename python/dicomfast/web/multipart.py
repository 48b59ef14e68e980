"""Writing ``multipart/related`` answers part by part (PS3.18 8.7.1.2): the
response starts before the first part is read, and each part is written as it
is produced, so no whole study is held in memory.  A client that disconnects
makes the next write raise, which ends the handler and closes its file."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, BinaryIO

from aiohttp import web

CHUNK = 1 << 20


class MultipartWriter:
    def __init__(self, request: web.Request, part_type: str, params: str = "") -> None:
        self.request = request
        self.boundary = secrets.token_hex(16)
        self.part_type = part_type
        self.response = web.StreamResponse(
            status=200,
            headers={
                "Content-Type": f'multipart/related; type="{part_type}"{params}; '
                f"boundary={self.boundary}"
            },
        )
        self.parts = 0

    async def start(self) -> None:
        self.response.enable_chunked_encoding()
        await self.response.prepare(self.request)

    async def begin_part(
        self, content_type: str | None = None, location: str | None = None
    ) -> None:
        head = f"--{self.boundary}\r\nContent-Type: {content_type or self.part_type}\r\n"
        if location:
            head += f"Content-Location: {location}\r\n"
        await self.response.write(("\r\n" if self.parts else "").encode() + head.encode() + b"\r\n")
        self.parts += 1

    async def write(self, data: bytes | memoryview) -> None:
        await self.response.write(data)

    async def copy_file(self, path: str, executor: Executor) -> None:
        """The bytes of a file, read in a worker thread a chunk at a time."""
        loop = asyncio.get_running_loop()
        fh: BinaryIO = await loop.run_in_executor(executor, open, path, "rb")
        try:
            while chunk := await loop.run_in_executor(executor, fh.read, CHUNK):
                await self.response.write(chunk)
        finally:
            fh.close()

    async def write_chunks(self, produce: Callable[[], Any], executor: Executor) -> None:
        """Write the list of byte chunks ``produce()`` returns (run in a worker thread)."""
        loop = asyncio.get_running_loop()
        for chunk in await loop.run_in_executor(executor, produce):
            await self.response.write(chunk)

    async def finish(self) -> web.StreamResponse:
        await self.response.write(f"\r\n--{self.boundary}--\r\n".encode())
        await self.response.write_eof()
        return self.response
