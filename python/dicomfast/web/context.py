"""What every handler needs: the archive, the worker threads, the options."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from ..archive import Archive
from .options import WebOptions

T = TypeVar("T")


@dataclass
class Context:
    archive: Archive
    options: WebOptions
    executor: ThreadPoolExecutor

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker thread (SQL, files, decoding: never on the loop)."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)


CONTEXT = web.AppKey("dicomfast", Context)


def context(request: web.Request) -> Context:
    return request.app[CONTEXT]


def base_url(request: web.Request) -> str:
    """The service's root URL as the client reached it (the port we listen on added
    when the Host header left it out, as some clients do for any port)."""
    host = request.host
    if ":" not in host.rsplit("]", 1)[-1] and request.transport is not None:
        sock = request.transport.get_extra_info("sockname")
        port = sock[1] if sock else None
        if port and port != {"http": 80, "https": 443}.get(request.scheme):
            host = f"{host}:{port}"
    return f"{request.scheme}://{host}"
