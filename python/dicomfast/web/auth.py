"""Authentication of DICOMweb requests: a bearer token or HTTP Basic credentials.

The credentials file (``--http-auth FILE``) holds one credential a line; blank
lines and lines starting with ``#`` are ignored:

- ``user:password`` — HTTP Basic (``Authorization: Basic base64(user:password)``);
- anything else without a colon — a bearer token (``Authorization: Bearer TOKEN``).

A request without valid credentials gets 401 with ``WWW-Authenticate`` (Basic,
so that a browser asks for them; and Bearer).  Comparisons take constant time.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass, field

from aiohttp import web

from .errors import Handler


@dataclass
class Credentials:
    tokens: list[str] = field(default_factory=list)
    basic: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def load(cls, path: str) -> Credentials:
        creds = cls()
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                user, colon, password = line.partition(":")
                if colon:
                    creds.basic.append((user, password))
                else:
                    creds.tokens.append(line)
        if not creds.tokens and not creds.basic:
            raise ValueError(f"{path}: no credentials (a token or user:password a line)")
        return creds

    def allows(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, value = header.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer":
            return any(hmac.compare_digest(value.encode(), t.encode()) for t in self.tokens)
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            ok = False
            for u, p in self.basic:
                ok |= hmac.compare_digest(user.encode(), u.encode()) & hmac.compare_digest(
                    password.encode(), p.encode()
                )
            return ok
        return False


def auth_middleware(creds: Credentials) -> web.middleware:  # type: ignore[valid-type]
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "OPTIONS" or creds.allows(request.headers.get("Authorization")):
            return await handler(request)
        challenges = []
        if creds.basic:
            challenges.append('Basic realm="dicomfast", charset="UTF-8"')
        if creds.tokens:
            challenges.append('Bearer realm="dicomfast"')
        return web.Response(
            status=401,
            text="authentication required\n",
            headers={"WWW-Authenticate": ", ".join(challenges)},
        )

    return middleware


def add_cors(app: web.Application, origins: list[str]) -> None:
    """CORS for the configured origins only (``*`` for any): preflight requests are
    answered, and every response to an allowed origin carries the headers."""

    def allowed(request: web.Request) -> str | None:
        origin = request.headers.get("Origin")
        if origin is not None and ("*" in origins or origin in origins):
            return "*" if "*" in origins else origin
        return None

    @web.middleware
    async def preflight(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "OPTIONS" and allowed(request):
            return web.Response(status=204)
        return await handler(request)

    async def on_prepare(request: web.Request, resp: web.StreamResponse) -> None:
        origin = allowed(request)
        if origin:
            resp.headers["Access-Control-Allow-Origin"] = origin
            resp.headers["Access-Control-Allow-Headers"] = "Authorization, Accept, Content-Type"
            resp.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            resp.headers["Access-Control-Expose-Headers"] = "Content-Type, Warning"
            resp.headers["Vary"] = "Origin"

    app.middlewares.insert(0, preflight)
    app.on_response_prepare.append(on_prepare)
