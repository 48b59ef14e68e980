"""WADO-URI (PS3.18 9): ``GET /wado?requestType=WADO&studyUID=&seriesUID=&objectUID=``.

``contentType`` ``application/dicom`` gives the file (``transferSyntax``, default
Explicit VR Little Endian, converted with our codecs when it can be, else 406);
``image/jpeg`` (the default) or ``image/png`` a rendering of ``frameNumber``
(default 1) with ``windowCenter``/``windowWidth``, ``rows``/``columns`` (the
largest size kept within them) and ``imageQuality``, as the rendered resources
make them.  A missing or wrong ``requestType`` or UID is 400, an unknown
instance 404.
"""

from __future__ import annotations

from aiohttp import web

from . import locate
from .context import context
from .errors import BadRequest, NotAcceptable
from .mediatypes import DICOM, EXPLICIT_LE, JPEG, PNG, can_transcode
from .render import Rendering, render
from .retrieve import transcode


def _int(q: web.Request, name: str, default: int | None = None) -> int | None:
    v = q.query.get(name)
    if v is None or v == "":
        return default
    if not v.isdigit():
        raise BadRequest(f"{name} must be a positive integer, not {v!r}")
    return int(v)


async def wado(request: web.Request) -> web.StreamResponse:
    q = request.query
    if q.get("requestType") != "WADO":
        raise BadRequest("requestType=WADO is required")
    missing = [k for k in ("studyUID", "seriesUID", "objectUID") if not q.get(k)]
    if missing:
        raise BadRequest(f"missing {', '.join(missing)}")
    ctx = context(request)
    (ref,) = await ctx.run(
        locate.instances, ctx.archive, q["studyUID"], q["seriesUID"], q["objectUID"]
    )
    types = [t.split(";")[0].strip().lower() for t in q.get("contentType", JPEG).split(",")]
    for ctype in types:
        if ctype == DICOM:
            ts = q.get("transferSyntax") or EXPLICIT_LE
            if not can_transcode(ref.transfer_syntax_uid, ts):
                raise NotAcceptable(f"cannot send {ref.transfer_syntax_uid} as {ts}")
            if ts == ref.transfer_syntax_uid:
                return web.FileResponse(ref.path, headers={"Content-Type": DICOM})
            chunks = await ctx.run(transcode, ref.path, ts)
            return web.Response(body=b"".join(chunks), content_type=DICOM)
        if ctype in (JPEG, PNG, "image/*", "*/*"):
            r = Rendering(media_type=PNG if ctype == PNG else JPEG)
            wc, ww = q.get("windowCenter"), q.get("windowWidth")
            if (wc is None) != (ww is None):
                raise BadRequest("windowCenter and windowWidth go together")
            if wc is not None and ww is not None:
                try:
                    r.window = (float(wc), float(ww), "LINEAR")
                except ValueError:
                    raise BadRequest("windowCenter/windowWidth must be numbers") from None
                if r.window[1] <= 0:
                    raise BadRequest("windowWidth must be > 0")
            rows, cols = _int(request, "rows"), _int(request, "columns")
            if rows or cols:
                r.viewport = (cols or 8192, rows or 8192)
            r.quality = _int(request, "imageQuality", 90) or 90
            if not 1 <= r.quality <= 100:
                raise BadRequest("imageQuality is 1..100")
            frame = _int(request, "frameNumber", 1) or 1
            data = await ctx.run(render, ref.path, frame, r)
            return web.Response(body=data, content_type=r.media_type)
    raise NotAcceptable(f"contentType {q.get('contentType')!r} is not offered here")
