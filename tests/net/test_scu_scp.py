"""dicomfast SCU ↔ dicomfast SCP: C-ECHO, C-STORE, negotiation, storage rules."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import dicomfast
import pydicom
import pytest
from dicomfast import uid as uids
from dicomfast.errors import PresentationContextError
from dicomfast.net import AE, VERIFICATION_SOP_CLASS, Server, Status, evt
from dicomfast.net.storage import is_valid_uid
from netutil import CT, MR, corpus_file, make_scp, partial_files, scu, stored_files


def same_dataset(a: Path, b: Path) -> None:
    """Element for element, with dicomfast and with pydicom."""
    assert dicomfast.read(a) == dicomfast.read(b)
    pa, pb = pydicom.dcmread(a), pydicom.dcmread(b)
    assert pa == pb


def test_echo(scp: Server) -> None:
    assoc = scu().associate("127.0.0.1", scp.port, "STORESCP")
    assert assoc.is_established
    for _ in range(5):
        status = assoc.send_c_echo()
        assert status == 0 and isinstance(status, Status) and status.Status == 0
        assert status.category == "Success"
    assoc.release()
    assert assoc.is_released and not assoc.is_established


def test_store_files_byte_exact(scp: Server, storage: Path, ct_small: Path, mr_small: Path) -> None:
    with scu(CT, MR).associate("127.0.0.1", scp.port, "STORESCP") as assoc:
        assert assoc.send_c_store(ct_small) == 0
        assert assoc.send_c_store(str(mr_small)) == 0
        assert assoc.send_c_store(dicomfast.read(ct_small)) == 0  # a Dataset, re-encoded
    files = stored_files(storage)
    assert len(files) == 3 and not partial_files(storage)
    ct_uid = dicomfast.read(ct_small).SOPInstanceUID
    first = storage / f"{ct_uid}.dcm"
    same_dataset(ct_small, first)
    same_dataset(ct_small, storage / f"{ct_uid}_1.dcm")  # never overwritten: suffixed
    same_dataset(mr_small, storage / f"{dicomfast.read(mr_small).SOPInstanceUID}.dcm")
    # data set bytes exactly as sent (the file's own)
    src, dst = dicomfast.read(ct_small), dicomfast.read(first)
    assert bytes(src._raw.source[src._raw.dataset_offset :]) == bytes(
        dst._raw.source[dst._raw.dataset_offset :]
    )
    meta = dst.file_meta
    assert meta.MediaStorageSOPClassUID == CT and meta.TransferSyntaxUID == src.transfer_syntax
    assert meta.SourceApplicationEntityTitle == "TESTSCU"


def test_transfer_syntax_conversion(scp: Server, storage: Path) -> None:
    be = corpus_file("MR_small_bigendian.dcm")
    ae = scu(MR, ts=[uids.ImplicitVRLittleEndian])
    with ae.associate("127.0.0.1", scp.port, "STORESCP") as assoc:
        assert assoc.send_c_store(be) == 0
    (out,) = stored_files(storage)
    assert dicomfast.read(out).transfer_syntax == uids.ImplicitVRLittleEndian
    a, b = pydicom.dcmread(be), pydicom.dcmread(out)
    assert a.PixelData is not None
    for elem in a:
        if elem.tag != 0x7FE00010:  # raw OW bytes differ by byte order; compare pixels
            assert b[elem.tag].value == elem.value, elem
    assert (a.pixel_array == b.pixel_array).all()


def test_compressed_not_accepted_fails_that_file_only(scp: Server, storage: Path) -> None:
    jpeg = corpus_file("MR_small_jpeg_ls_lossless.dcm")
    mr = corpus_file("MR_small.dcm")
    with scu(MR).associate("127.0.0.1", scp.port, "STORESCP") as assoc:
        with pytest.raises(PresentationContextError, match="compressed data is not converted"):
            assoc.send_c_store(jpeg)
        assert assoc.is_established
        assert assoc.send_c_store(mr) == 0
    assert len(stored_files(storage)) == 1


def test_compressed_accepted_sent_as_is(scp: Server, storage: Path) -> None:
    jpeg = corpus_file("MR_small_jpeg_ls_lossless.dcm")
    ts = dicomfast.read(jpeg).transfer_syntax
    with scu(MR, ts=[ts]).associate("127.0.0.1", scp.port, "STORESCP") as assoc:
        assert assoc.send_c_store(jpeg) == 0
    (out,) = stored_files(storage)
    same_dataset(jpeg, out)


def test_handler_in_memory_and_status(ct_small: Path) -> None:
    got: list[tuple[str, int]] = []
    done = threading.Event()

    def on_store(event: evt.Event) -> int:
        ds = event.dataset
        got.append((ds.SOPInstanceUID, len(event.encoded or b"")))
        done.set()
        return 0xB000 if len(got) == 1 else 0xA700

    ae = make_scp()
    server = ae.start_server(
        ("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)]
    )
    try:
        with scu(CT).associate("127.0.0.1", server.port, "STORESCP") as assoc:
            s1 = assoc.send_c_store(ct_small)
            s2 = assoc.send_c_store(ct_small)
        assert (int(s1), s1.category) == (0xB000, "Warning")
        assert (int(s2), s2.category) == (0xA700, "Failure")
        assert done.wait(5) and got[0][0] == dicomfast.read(ct_small).SOPInstanceUID
    finally:
        server.shutdown()


def test_handler_refusal_leaves_no_file(storage: Path, ct_small: Path) -> None:
    async def refuse(event: evt.Event) -> int:
        assert event.path is not None and event.path.endswith(".part")
        return 0xC123

    server = make_scp().start_server(
        ("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, refuse)], storage=storage
    )
    try:
        with scu(CT).associate("127.0.0.1", server.port, "STORESCP") as assoc:
            assert assoc.send_c_store(ct_small) == 0xC123
    finally:
        server.shutdown()
    assert not list(storage.iterdir())


def test_echo_handler_status_and_events() -> None:
    seen: list[str] = []
    ae = AE("ECHOSCP")
    ae.add_supported_context(VERIFICATION_SOP_CLASS)
    handlers = [
        (evt.EVT_C_ECHO, lambda e: 0x0110),
        (evt.EVT_ACCEPTED, lambda e: seen.append("accepted")),
        (evt.EVT_RELEASED, lambda e: seen.append("released")),
    ]
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=handlers)
    try:
        assoc = scu().associate("127.0.0.1", server.port)
        assert assoc.send_c_echo() == 0x0110
        assoc.release()
    finally:
        server.shutdown()
    assert seen == ["accepted", "released"]


def test_async_api(scp: Server, ct_small: Path) -> None:
    async def main() -> tuple[int, int]:
        assoc = await scu(CT).associate_async("127.0.0.1", scp.port, "STORESCP")
        e, s = await asyncio.gather(assoc.send_c_echo(), asyncio.sleep(0))
        s = await assoc.send_c_store(ct_small)
        await assoc.release()
        return int(e), int(s)

    assert asyncio.run(main()) == (0, 0)


def test_concurrent_associations(scp: Server, storage: Path, ct_small: Path) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with scu(CT).associate("127.0.0.1", scp.port, "STORESCP") as assoc:
                for _ in range(3):
                    assert assoc.send_c_echo() == 0
                    assert assoc.send_c_store(ct_small) == 0
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert len(stored_files(storage)) == 12


def test_uid_validation() -> None:
    assert is_valid_uid("1.2.840.10008.1.1")
    for bad in ("", "1..2", "../1", "1/2", "1.2.", ".1", "1.2\\3", "1" * 65, "1.2a", None):
        assert not is_valid_uid(bad)


def test_large_file_streamed(scp: Server, storage: Path, tmp_path: Path) -> None:
    """12 MiB: sent in several 4 MiB writes, received PDU by PDU into the temp file."""
    from netutil import big_file

    src = big_file(tmp_path, 12)
    with scu(CT).associate("127.0.0.1", scp.port, "STORESCP") as assoc:
        assert assoc.send_c_store(src) == 0
    (out,) = stored_files(storage)
    a, b = dicomfast.read(src), dicomfast.read(out)
    assert bytes(a._raw.source[a._raw.dataset_offset :]) == bytes(
        b._raw.source[b._raw.dataset_offset :]
    )


def test_deflated_file(scp: Server, storage: Path) -> None:
    dfl = corpus_file("image_dfl.dcm")
    sop = dicomfast.read(dfl).SOPClassUID
    for ts in ([uids.DeflatedExplicitVRLittleEndian], [uids.ExplicitVRLittleEndian]):
        with scu(sop, ts=ts).associate("127.0.0.1", scp.port, "STORESCP") as assoc:
            assert assoc.send_c_store(dfl) == 0
    a, b = sorted(stored_files(storage))
    for out in (a, b):
        assert pydicom.dcmread(out) == pydicom.dcmread(dfl)
    assert {dicomfast.read(a).transfer_syntax, dicomfast.read(b).transfer_syntax} == {
        uids.DeflatedExplicitVRLittleEndian,
        uids.ExplicitVRLittleEndian,
    }
