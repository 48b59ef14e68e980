"""Helpers for the network tests: corpus files, DCMTK tools, SCU/SCP factories
and a raw-socket peer for misbehaving on purpose."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from dicomfast import _core
from dicomfast import uid as uids
from dicomfast.net import AE, VERIFICATION_SOP_CLASS

CORPUS = Path(
    os.environ.get(
        "DICOMFAST_CORPUS", Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
    )
)
PYDICOM = CORPUS / "public" / "pydicom"
CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"


def corpus_file(name: str) -> Path:
    p = PYDICOM / name
    if not p.exists():
        pytest.skip(f"corpus file {p} not found")
    return p


def dcmtk(tool: str) -> str:
    """Path of a DCMTK tool (not pynetdicom's console scripts of the same name)."""
    for cand in (f"/usr/bin/{tool}", f"/usr/local/bin/{tool}", shutil.which(tool)):
        if cand and os.path.exists(cand):
            try:
                out = subprocess.run(
                    [cand, "--version"], capture_output=True, text=True, timeout=10
                )
            except (OSError, subprocess.TimeoutExpired):
                continue
            if "dcmtk" in (out.stdout + out.stderr).lower():
                return cand
    pytest.skip(f"DCMTK {tool} not installed")


def make_scp(**kw: object) -> AE:
    ae = AE("STORESCP", acse_timeout=5, dimse_timeout=5, network_timeout=10, **kw)  # type: ignore[arg-type]
    ae.add_storage_scp_contexts()
    return ae


def scu(*sop_classes: str, ts: list[str] | None = None, **kw: object) -> AE:
    ae = AE("TESTSCU", acse_timeout=5, dimse_timeout=5, connect_timeout=5, **kw)  # type: ignore[arg-type]
    ae.add_requested_context(VERIFICATION_SOP_CLASS)
    for s in sop_classes:
        ae.add_requested_context(s, ts)
    return ae


def stored_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix == ".dcm")


def partial_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(".part"))


class RawPeer:
    """A requestor speaking PDUs by hand over a blocking socket."""

    def __init__(self, port: int, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = bytearray()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv_pdu(self) -> tuple[int, object, bytes]:
        while True:
            t, n, value = _core.pdu_read(bytes(self.buf))
            if t:
                raw = bytes(self.buf[:n])
                del self.buf[:n]
                return t, value, raw
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk

    def associate(
        self, sop_class: str = CT, ts: str = uids.ExplicitVRLittleEndian, called: str = "STORESCP"
    ) -> dict:
        self.send(
            _core.encode_associate_rq(
                called,
                "RAWPEER",
                [(1, VERIFICATION_SOP_CLASS, [ts]), (3, sop_class, [ts])],
                [(0x51, 16384), (0x52, "1.2.3.4")],
            )
        )
        t, value, _ = self.recv_pdu()
        assert t == 2, (t, value)
        return value  # type: ignore[return-value]

    def closed_by_peer(self) -> bool:
        """True once the server has closed the connection (waits up to the timeout)."""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
        except (ConnectionError, OSError):
            return True

    def close(self) -> None:
        self.sock.close()


def big_file(folder: Path, megabytes: int, name: str = "big.dcm") -> Path:
    """A CT image with ``megabytes`` of pixel data (and a fresh instance UID)."""
    import pydicom
    from pydicom.uid import generate_uid

    ds = pydicom.dcmread(corpus_file("CT_small.dcm"))
    rows = 1024
    cols = megabytes * 512  # 16-bit: 1 MiB per 512 columns of 1024 rows
    ds.Rows, ds.Columns = rows, cols
    ds.PixelData = (bytes(range(256)) * (rows * cols * 2 // 256))[: rows * cols * 2]
    uid = generate_uid()
    ds.SOPInstanceUID = uid
    ds.file_meta.MediaStorageSOPInstanceUID = uid
    path = folder / name
    ds.save_as(path, enforce_file_format=True)
    return path


def make_cert(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for localhost / 127.0.0.1 and its key (PEM)."""
    import datetime
    import ipaddress

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
