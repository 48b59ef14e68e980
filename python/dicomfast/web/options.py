"""What the web side is configured with (``dicomfast serve --http-*``)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass
class WebOptions:
    """``auth_file``: credentials (see :mod:`dicomfast.web.auth`); ``insecure``
    allows a non-loopback address without them.  ``cors_origins``: origins allowed
    to call from a browser (``*`` for any); none by default (no CORS headers)."""

    host: str = "127.0.0.1"
    port: int = 8042
    auth_file: str | None = None
    insecure: bool = False
    tls_cert: str | None = None
    tls_key: str | None = None
    cors_origins: list[str] = field(default_factory=list)
    #: Values longer than this (bytes) become BulkDataURIs in /metadata.
    bulk_data_threshold: int = 1024
    #: Threads for SQL, file reads, decoding and ingest.
    workers: int = 4

    def check(self) -> None:
        """Refuse a non-loopback address without credentials or ``insecure``."""
        if self.host not in LOOPBACK and not self.auth_file and not self.insecure:
            raise ValueError(
                f"--http-host {self.host} is not loopback: give --http-auth FILE "
                "(or --http-insecure to serve without authentication)"
            )
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("--http-tls-cert and --http-tls-key go together")

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.tls_cert:
            return None
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.tls_cert, self.tls_key)
        return ctx

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"
