"""The QIDO-RS handlers (the parsing and matching are in :mod:`dicomfast.web.qido`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from .context import base_url, context
from .mediatypes import DICOM_JSON, JSON, choose, parse_accept
from .qido import Search


def search(level: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        ctx = context(request)
        accept = request.query.get("accept") or request.headers.get("Accept")
        choose(parse_accept(accept), [DICOM_JSON, JSON], multipart=False)
        m = request.match_info
        s = Search(level, request.query, study=m.get("study"), series=m.get("series"))
        body, more = await ctx.run(s.answer, ctx.archive, base_url(request))
        if body is None:
            return web.Response(status=204)
        headers = {}
        if more:
            headers["Warning"] = (
                f'299 dicomfast "There are {more} additional results that can be requested"'
            )
        return web.Response(body=body, content_type=DICOM_JSON, headers=headers)

    return handler
