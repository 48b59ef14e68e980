"""TLS for DICOM associations (PS3.15 Annex B.1 secure transport) with the
``ssl`` module.  Peer verification is on by default on both sides."""

from __future__ import annotations

import os
import ssl

PathLike = str | os.PathLike[str]


def client_context(
    *,
    ca: PathLike | None = None,
    cert: PathLike | None = None,
    key: PathLike | None = None,
    verify: bool = True,
) -> ssl.SSLContext:
    """For a requestor: verify the server against ``ca`` (default: the system
    store) and its host name; present ``cert``/``key`` if given."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=os.fspath(ca) if ca else None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert:
        ctx.load_cert_chain(os.fspath(cert), os.fspath(key) if key else None)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def server_context(
    *,
    cert: PathLike,
    key: PathLike | None = None,
    ca: PathLike | None = None,
    verify: bool = True,
) -> ssl.SSLContext:
    """For an acceptor: present ``cert``/``key``; require and verify a client
    certificate against ``ca`` (default: the system store) unless ``verify=False``."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=os.fspath(ca) if ca else None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.fspath(cert), os.fspath(key) if key else None)
    ctx.verify_mode = ssl.CERT_REQUIRED if verify else ssl.CERT_NONE
    return ctx
