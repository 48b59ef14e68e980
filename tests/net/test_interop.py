"""Interoperability: DCMTK echoscu/storescu → our SCP, our SCU → DCMTK storescp,
pynetdicom SCU → our SCP, our SCU → pynetdicom SCP."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dicomfast
import pydicom
import pytest
from dicomfast.net import Server
from netutil import CT, MR, dcmtk, scu, stored_files


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listening on {port}")


@contextlib.contextmanager
def dcmtk_storescp(out_dir: Path) -> Iterator[int]:
    """DCMTK's ``storescp`` (AE title DCMTKSCP) writing into ``out_dir`` (made), on a
    free port it listens on when this yields it; stopped on leaving."""
    out_dir.mkdir()
    port = free_port()
    proc = subprocess.Popen(
        [dcmtk("storescp"), "-od", str(out_dir), "-aet", "DCMTKSCP", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_listening(port, proc)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


PADDING = 0xFFFCFFFC  # Data Set Trailing Padding: DCMTK drops it when sending


def same(a: Path, b: Path) -> None:
    """Element for element (dicomfast and pydicom), trailing padding aside."""
    da, db = dicomfast.read(a), dicomfast.read(b)
    ea = [e for e in da if e.tag != PADDING]
    eb = [e for e in db if e.tag != PADDING]
    assert [e.tag for e in ea] == [e.tag for e in eb]
    for x, y in zip(ea, eb, strict=True):
        # implicit VR on the wire: private elements arrive as UN (pydicom checks values)
        assert x == y or (x.tag >> 16) % 2 == 1 and y.VR == "UN", (x, y)
    pa, pb = pydicom.dcmread(a), pydicom.dcmread(b)
    for ds in (pa, pb):
        if PADDING in ds:
            del ds[PADDING]
    assert pa == pb


# -- DCMTK -------------------------------------------------------------------------
@pytest.mark.dcmtk
def test_dcmtk_echoscu_to_us(scp: Server) -> None:
    out = subprocess.run(
        [dcmtk("echoscu"), "-aec", "STORESCP", "127.0.0.1", str(scp.port)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr


@pytest.mark.dcmtk
def test_dcmtk_storescu_to_us(scp: Server, storage: Path, ct_small: Path, mr_small: Path) -> None:
    out = subprocess.run(
        [
            dcmtk("storescu"),
            "-aec",
            "STORESCP",
            "127.0.0.1",
            str(scp.port),
            str(ct_small),
            str(mr_small),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    files = {dicomfast.read(p).SOPInstanceUID: p for p in stored_files(storage)}
    for src in (ct_small, mr_small):
        same(src, files[dicomfast.read(src).SOPInstanceUID])


@pytest.mark.dcmtk
def test_us_to_dcmtk_storescp(tmp_path: Path, ct_small: Path, mr_small: Path) -> None:
    out_dir = tmp_path / "dcmtk"
    with (
        dcmtk_storescp(out_dir) as port,
        scu(CT, MR).associate("127.0.0.1", port, "DCMTKSCP") as assoc,
    ):
        assert assoc.send_c_echo() == 0
        assert assoc.send_c_store(ct_small) == 0
        assert assoc.send_c_store(mr_small) == 0
    got = {dicomfast.read(p).SOPInstanceUID: p for p in out_dir.iterdir()}
    for src in (ct_small, mr_small):
        same(src, got[dicomfast.read(src).SOPInstanceUID])


@pytest.mark.dcmtk
def test_store_command_sends_files_as_they_are_to_storescp(tmp_path: Path, ct_small: Path) -> None:
    """``dicomfast store`` offers each file's own syntax in a context of its own, so
    that DCMTK's ``storescp`` (which, offered Explicit and Implicit VR together, takes
    Explicit for every file) receives an Implicit VR file as Implicit VR and an
    Explicit VR file as Explicit VR: each file's data set arrives as the bytes it
    has, not converted."""
    from dicomfast.cli import main

    implicit = tmp_path / "in" / "implicit.dcm"
    implicit.parent.mkdir()
    ds = pydicom.dcmread(ct_small)
    ds.SOPInstanceUID = ds.SOPInstanceUID + ".1"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    ds.save_as(implicit, implicit_vr=True, little_endian=True, enforce_file_format=True)
    shutil.copy(ct_small, tmp_path / "in" / "explicit.dcm")
    out_dir = tmp_path / "dcmtk"
    with dcmtk_storescp(out_dir) as port:
        argv = ["store", "127.0.0.1", str(port), str(tmp_path / "in"), "--aec", "DCMTKSCP", "-q"]
        assert main(argv) == 0
    got = {dicomfast.read(p).SOPInstanceUID: p for p in out_dir.iterdir()}
    assert len(got) == 2
    for src in (tmp_path / "in" / "explicit.dcm", implicit):
        a = dicomfast.read(src)
        b = dicomfast.read(got[a.SOPInstanceUID])
        assert b.transfer_syntax == a.transfer_syntax, src.name
        body = src.read_bytes()[a._raw.dataset_offset :]
        received = got[a.SOPInstanceUID].read_bytes()[b._raw.dataset_offset :]
        # Byte for byte, but the Data Set Trailing Padding, which storescp drops.
        rest = body[len(received) :]
        assert body.startswith(received) and rest[:4] in (b"", b"\xfc\xff\xfc\xff"), src.name


# -- pynetdicom --------------------------------------------------------------------
def test_pynetdicom_scu_to_us(scp: Server, storage: Path, ct_small: Path) -> None:
    pytest.importorskip("pynetdicom")
    from pynetdicom import AE as PAE
    from pynetdicom.sop_class import CTImageStorage, Verification

    ae = PAE(ae_title="PYNETDICOM")
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    ae.add_requested_context(Verification)
    ae.add_requested_context(CTImageStorage)
    assoc = ae.associate("127.0.0.1", scp.port, ae_title="STORESCP")
    assert assoc.is_established
    try:
        assert assoc.send_c_echo().Status == 0
        assert assoc.send_c_store(pydicom.dcmread(ct_small)).Status == 0
    finally:
        assoc.release()
    (out,) = stored_files(storage)
    same(ct_small, out)


def test_us_to_pynetdicom_scp(ct_small: Path, mr_small: Path) -> None:
    pytest.importorskip("pynetdicom")
    from pynetdicom import AE as PAE
    from pynetdicom import AllStoragePresentationContexts, evt
    from pynetdicom.sop_class import Verification

    received: dict[str, pydicom.Dataset] = {}
    done = threading.Event()

    def on_store(event: object) -> int:
        ds = event.dataset  # type: ignore[attr-defined]
        received[ds.SOPInstanceUID] = ds
        if len(received) == 2:
            done.set()
        return 0

    ae = PAE(ae_title="PYNETSCP")
    ae.supported_contexts = AllStoragePresentationContexts
    ae.add_supported_context(Verification)
    server = ae.start_server(
        ("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)]
    )
    try:
        port = server.socket.getsockname()[1]
        with scu(CT, MR).associate("127.0.0.1", port, "PYNETSCP") as assoc:
            assert assoc.send_c_echo() == 0
            assert assoc.send_c_store(ct_small) == 0
            assert assoc.send_c_store(mr_small) == 0
        assert done.wait(10)
    finally:
        server.shutdown()
    for src in (ct_small, mr_small):
        orig = pydicom.dcmread(src)
        assert received[orig.SOPInstanceUID] == orig
