"""``dicomfast echo``, ``store`` and ``serve``."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from dicomfast.cli import main
from dicomfast.net import Server
from netutil import stored_files

SERVE = [
    sys.executable,
    "-c",
    "import sys; from dicomfast.cli import main; sys.exit(main(sys.argv[1:]))",
]


def test_echo(scp: Server, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["echo", "127.0.0.1", str(scp.port), "--aec", "STORESCP", "--repeat", "3"]) == 0
    assert "Success" in capsys.readouterr().out


def test_echo_unreachable(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    assert main(["echo", "127.0.0.1", str(port), "--timeout", "2"]) == 2
    assert "cannot connect" in capsys.readouterr().err


def test_store_folder(
    scp: Server,
    storage: Path,
    tmp_path: Path,
    ct_small: Path,
    mr_small: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    src = tmp_path / "in" / "sub"
    src.mkdir(parents=True)
    shutil.copy(ct_small, src / "ct.dcm")
    shutil.copy(mr_small, src.parent / "mr.dcm")
    (src / "notes.txt").write_text("not DICOM")
    rc = main(["store", "127.0.0.1", str(scp.port), str(tmp_path / "in"), "--aec", "STORESCP"])
    out = capsys.readouterr()
    assert rc == 1  # the text file failed
    assert re.search(r"FAIL .*notes.txt", out.err)  # failures on stderr
    assert "FAIL" not in out.out
    assert out.out.count("SUCCESS") == 2
    assert len(stored_files(storage)) == 2
    rc = main(["store", "127.0.0.1", str(scp.port), str(src / "ct.dcm"), "--aec", "STORESCP", "-q"])
    assert rc == 0


def _start_serve(args: list[str]) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        SERVE + ["serve", "--host", "127.0.0.1", "--port", "0", "--http-port", "0", "-q", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the server is listening (or exits)
    m = re.search(r"listening on [\d.]+:(\d+)", line)
    if not m:
        proc.kill()
        raise AssertionError(
            f"serve did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}"
        )
    return proc, int(m.group(1))


def test_serve_subprocess(tmp_path: Path, ct_small: Path) -> None:
    store = tmp_path / "data"
    proc, port = _start_serve(["--storage", str(store), "--aet", "ARCHIVE", "--require-called-aet"])
    try:
        assert main(["echo", "127.0.0.1", str(port), "--aec", "ARCHIVE"]) == 0
        assert main(["echo", "127.0.0.1", str(port), "--aec", "WRONG"]) == 2
        assert main(["store", "127.0.0.1", str(port), str(ct_small), "--aec", "ARCHIVE"]) == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    # serve is the archive: <study>/<series>/<instance>.dcm plus the index
    assert len(list(store.rglob("*.dcm"))) == 1
    assert not list(store.rglob("*.part"))


def test_serve_allow_aet(tmp_path: Path) -> None:
    proc, port = _start_serve(["--storage", str(tmp_path / "d"), "--allow-aet", "GOOD", "OTHER"])
    try:
        assert main(["echo", "127.0.0.1", str(port), "--aet", "GOOD"]) == 0
        assert main(["echo", "127.0.0.1", str(port), "--aet", "BAD"]) == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)


def test_tls_serve_echo_store(tmp_path: Path, ct_small: Path) -> None:
    pytest.importorskip("cryptography")
    from netutil import make_cert

    cert, key = make_cert(tmp_path, "node")
    tls = ["--tls-cert", str(cert), "--tls-key", str(key), "--tls-ca", str(cert)]
    proc, port = _start_serve(["--storage", str(tmp_path / "d"), *tls])
    try:
        assert main(["echo", "127.0.0.1", str(port), *tls]) == 0
        assert main(["store", "127.0.0.1", str(port), str(ct_small), "-q", *tls]) == 0
        assert main(["echo", "127.0.0.1", str(port)]) == 2  # no TLS: refused
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    assert len(list((tmp_path / "d").rglob("*.dcm"))) == 1


def test_serve_keeps_instances_of_retired_storage_classes(tmp_path: Path) -> None:
    """Archives still hold instances of retired storage SOP classes (the first
    Ultrasound Image Storage, 1.2.840.10008.5.1.4.1.1.6, from older scanners; pydicom's
    ``color-pl.dcm`` is one). DCMTK's storescp takes them; serve refused them with no
    presentation context until it accepted the retired storage classes too. Sent here
    by pynetdicom (a peer proposing the class) and by ``dicomfast store``."""
    import dicomfast
    from corpus_data import CORPUS

    pynetdicom = pytest.importorskip("pynetdicom")
    src = CORPUS / "public" / "pydicom-data" / "color-pl.dcm"
    if not src.exists():
        pytest.skip(f"{src} not in the corpus")
    ds = dicomfast.read(src)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.6"
    second = tmp_path / "second.dcm"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.10.9.77"
    ds.save(second)
    store = tmp_path / "data"
    proc, port = _start_serve(["--storage", str(store)])
    try:
        import pydicom

        ae = pynetdicom.AE()
        ae.add_requested_context("1.2.840.10008.5.1.4.1.1.6", "1.2.840.10008.1.2.1")
        assoc = ae.associate("127.0.0.1", port)
        assert assoc.is_established
        try:
            status = assoc.send_c_store(pydicom.dcmread(src))
        finally:
            assoc.release()
        assert status.Status == 0x0000
        assert main(["store", "127.0.0.1", str(port), str(second), "-q"]) == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    kept = {str(dicomfast.read(p).SOPInstanceUID) for p in store.rglob("*.dcm")}
    assert kept == {str(dicomfast.read(src).SOPInstanceUID), "1.2.826.0.1.3680043.10.9.77"}
