"""The aiohttp application (routes, middlewares) and :class:`WebServer`, which runs
it in a thread with its own event loop beside the DICOM server's.

Why aiohttp: one asyncio package with the server, streaming responses,
``multipart/related`` parsing for STOW-RS and TLS, and it runs in an event
loop we own (no second process, no ASGI glue), as the DICOM server does.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from importlib import resources

from aiohttp import web

from ..archive import Archive
from . import render, retrieve, stow, wado_uri
from .auth import Credentials, add_cors, auth_middleware
from .context import CONTEXT, Context
from .errors import error_middleware
from .options import WebOptions
from .search import search

log = logging.getLogger("dicomfast.web")

STUDY = "/studies/{study}"
SERIES = STUDY + "/series/{series}"
INSTANCE = SERIES + "/instances/{instance}"
FRAMES = INSTANCE + "/frames/{frames}"


def _static_file(name: str, content_type: str) -> web.Response:
    data = resources.files("dicomfast.web").joinpath("static", name).read_bytes()
    return web.Response(body=data, content_type=content_type)


async def _viewer(request: web.Request) -> web.Response:
    return _static_file("index.html", "text/html")


_STATIC = {"viewer.js": "text/javascript", "viewer.css": "text/css"}


async def _static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in _STATIC:
        raise web.HTTPNotFound()
    return _static_file(name, _STATIC[name])


def create_app(archive: Archive, options: WebOptions | None = None) -> web.Application:
    """The DICOMweb service and viewer on ``archive``."""
    options = options or WebOptions()
    middlewares = [error_middleware]
    if options.auth_file:
        middlewares.insert(0, auth_middleware(Credentials.load(options.auth_file)))
    app = web.Application(middlewares=middlewares, client_max_size=1 << 40)
    if options.cors_origins:
        add_cors(app, options.cors_origins)
    executor = ThreadPoolExecutor(options.workers, thread_name_prefix="dicomfast-web")
    app[CONTEXT] = Context(archive, options, executor)

    async def _close(_: web.Application) -> None:
        executor.shutdown(wait=False, cancel_futures=True)

    app.on_cleanup.append(_close)
    r = app.router
    # QIDO-RS
    r.add_get("/studies", search("STUDY"))
    r.add_get(STUDY + "/series", search("SERIES"))
    r.add_get("/series", search("SERIES"))
    r.add_get(SERIES + "/instances", search("IMAGE"))
    r.add_get(STUDY + "/instances", search("IMAGE"))
    r.add_get("/instances", search("IMAGE"))
    # WADO-RS
    for path in (STUDY, SERIES, INSTANCE):
        r.add_get(path, retrieve.instances)
        r.add_get(path + "/metadata", retrieve.metadata)
        r.add_get(path + "/thumbnail", render.thumbnail)
    r.add_get(FRAMES, retrieve.frames)
    r.add_get(INSTANCE + "/bulkdata/{tag}", retrieve.bulkdata)
    r.add_get(INSTANCE + "/rendered", render.rendered)
    r.add_get(FRAMES + "/rendered", render.rendered)
    r.add_get(FRAMES + "/thumbnail", render.thumbnail)
    # STOW-RS
    r.add_post("/studies", stow.store)
    r.add_post(STUDY, stow.store)
    # WADO-URI
    r.add_get("/wado", wado_uri.wado)
    # the viewer
    r.add_get("/", _viewer)
    r.add_get("/viewer", _viewer)
    r.add_get("/static/{name}", _static)
    return app


class WebServer:
    """The app on ``options.host:options.port`` in a thread of its own; :meth:`start`
    returns once it listens (or raises why it cannot), :meth:`shutdown` stops it."""

    def __init__(self, archive: Archive, options: WebOptions) -> None:
        options.check()
        self.options = options
        self.app = create_app(archive, options)
        self.loop = asyncio.new_event_loop()
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="dicomfast-web", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._start())
        except BaseException as e:  # noqa: BLE001 - reported by start()
            self._error = e
            self._ready.set()
            return
        self._ready.set()
        self.loop.run_forever()
        if self._runner is not None:
            self.loop.run_until_complete(self._runner.cleanup())
        self.loop.close()

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner,
            self.options.host,
            self.options.port,
            ssl_context=self.options.ssl_context(),
            backlog=1024,
        )
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.options.port

    def start(self) -> WebServer:
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    @property
    def url(self) -> str:
        host = self.options.host
        if ":" in host:
            host = f"[{host}]"
        return f"{self.options.scheme}://{host}:{self.port}"

    def shutdown(self) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
