"""TLS: our SCU ↔ our SCP with a self-signed certificate made here."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

import pytest
from dicomfast.errors import NetworkError
from dicomfast.net import tls
from netutil import make_scp, scu

crypto = pytest.importorskip("cryptography")


def make_cert(folder: Path, name: str) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


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
