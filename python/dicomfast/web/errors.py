"""HTTP statuses of the errors DICOMweb answers with (PS3.18 8.6.1, 10.x.3).

Every :class:`~dicomfast.DicomError` raised by a handler becomes one of the
statuses PS3.18 names, with a plain-text reason: never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..errors import DicomError, PixelDataError

log = logging.getLogger("dicomfast.web")


class WebError(DicomError):
    """An error with the HTTP status to answer."""

    status = 400


class BadRequest(WebError, ValueError):
    status = 400


class NotFound(WebError, LookupError):
    status = 404


class NotAcceptable(WebError, ValueError):
    """No acceptable media type or transfer syntax can be produced (406)."""

    status = 406


class Conflict(WebError):
    status = 409


class UnsupportedMediaType(WebError, ValueError):
    status = 415


def status_of(error: DicomError) -> int:
    """The HTTP status for ``error``: its own for :class:`WebError`, 406 for pixel data
    that cannot be decoded or rendered, else 400."""
    if isinstance(error, WebError):
        return error.status
    if isinstance(error, PixelDataError):
        return 406
    return 400


def text_response(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=message + "\n", content_type="text/plain")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except DicomError as e:
        return text_response(status_of(e), str(e))
    except (ConnectionError, OSError) as e:
        if isinstance(e, ConnectionError):
            raise  # the client went away: nothing to answer
        log.error("%s %s: %s", request.method, request.path, e)
        return text_response(500, f"server error: {e}")
    except Exception as e:  # noqa: BLE001 - answer 500, log the traceback, keep serving
        log.exception("%s %s", request.method, request.path)
        return text_response(500, f"server error: {type(e).__name__}")
