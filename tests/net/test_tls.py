"""TLS: our SCU ↔ our SCP with a self-signed certificate made here."""

from __future__ import annotations

from pathlib import Path

import pytest
from dicomfast.errors import NetworkError
from dicomfast.net import tls
from netutil import make_cert, make_scp, scu

crypto = pytest.importorskip("cryptography")


def test_tls_echo_and_verification(tmp_path: Path) -> None:
    server_cert, server_key = make_cert(tmp_path, "server")
    client_cert, client_key = make_cert(tmp_path, "client")
    sctx = tls.server_context(cert=server_cert, key=server_key, ca=client_cert)
    server = make_scp().start_server(("127.0.0.1", 0), block=False, ssl_context=sctx)
    try:
        cctx = tls.client_context(ca=server_cert, cert=client_cert, key=client_key)
        assoc = scu().associate("127.0.0.1", server.port, "STORESCP", ssl_context=cctx)
        assert assoc.async_association.tls
        assert assoc.send_c_echo() == 0
        assoc.release()
        # the client does not trust the server's certificate
        untrusting = tls.client_context(ca=client_cert, cert=client_cert, key=client_key)
        with pytest.raises(NetworkError, match="cannot connect"):
            scu().associate("127.0.0.1", server.port, "STORESCP", ssl_context=untrusting)
        # the server requires a client certificate
        anonymous = tls.client_context(ca=server_cert)
        with pytest.raises(NetworkError):
            a = scu().associate("127.0.0.1", server.port, "STORESCP", ssl_context=anonymous)
            a.send_c_echo()
    finally:
        server.shutdown()
