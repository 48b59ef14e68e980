"""Writing ``multipart/related`` answers part by part (PS3.18 8.7.1.2): the
response starts before the first part is read, and each part is written as it
is produced, so no whole study is held in memory.  A client that disconnects
makes the next write raise, which ends the handler and closes its file.

Files sent as they are stored (:meth:`MultipartWriter.send_files`) go from the
page cache to the socket with ``sendfile`` (no read into Python, no copy): the
sizes are known beforehand, so the answer has a ``Content-Length`` and each
part is its delimiter and headers (one small write) and the file."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any

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

    async def start(self, length: int | None = None) -> None:
        """Send the status and headers: ``Content-Length: length``, or chunked."""
        if length is None:
            self.response.enable_chunked_encoding()
        else:
            self.response.content_length = length
        await self.response.prepare(self.request)

    def head(
        self, first: bool, content_type: str | None = None, location: str | None = None
    ) -> bytes:
        """A part's delimiter and headers (the CRLF ending the previous part first)."""
        head = f"--{self.boundary}\r\nContent-Type: {content_type or self.part_type}\r\n"
        if location:
            head += f"Content-Location: {location}\r\n"
        return ("" if first else "\r\n").encode() + head.encode() + b"\r\n"

    @property
    def tail(self) -> bytes:
        return f"\r\n--{self.boundary}--\r\n".encode()

    async def begin_part(
        self, content_type: str | None = None, location: str | None = None
    ) -> None:
        await self.response.write(self.head(self.parts == 0, content_type, location))
        self.parts += 1

    async def write(self, data: bytes | memoryview) -> None:
        await self.response.write(data)

    async def write_chunks(self, produce: Callable[[], Any], executor: Executor) -> None:
        """Write the list of byte chunks ``produce()`` returns (run in a worker thread)."""
        loop = asyncio.get_running_loop()
        for chunk in await loop.run_in_executor(executor, produce):
            await self.response.write(chunk)

    async def send_files(
        self, files: Sequence[tuple[str, str]], executor: Executor
    ) -> web.StreamResponse:
        """The whole answer: one part a file, ``files`` as (path, part Content-Type),
        the bytes sent as they are on disk."""
        loop = asyncio.get_running_loop()
        sizes = await loop.run_in_executor(executor, _sizes, [p for p, _ in files])
        heads = [self.head(k == 0, ctype) for k, (_, ctype) in enumerate(files)]
        await self.start(sum(map(len, heads)) + sum(sizes) + len(self.tail))
        transport = self.request.transport
        for (path, _), head, size in zip(files, heads, sizes, strict=True):
            await self.response.write(head)
            if transport is None or transport.is_closing():
                raise ConnectionResetError("the client went away")
            with open(path, "rb") as fh:
                if os.fstat(fh.fileno()).st_size != size:  # replaced meanwhile: cannot go on
                    transport.close()
                    raise ConnectionResetError(f"{path} changed while it was being sent")
                await loop.sendfile(transport, fh, 0, size)
        await self.response.write(self.tail)
        await self.response.write_eof()
        return self.response

    async def finish(self) -> web.StreamResponse:
        await self.response.write(self.tail)
        await self.response.write_eof()
        return self.response


def _sizes(paths: list[str]) -> list[int]:
    return [os.stat(p).st_size for p in paths]
