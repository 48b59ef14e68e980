"""The storage's writer thread (dicomfast.net.chunk_writer): every byte lands, in
order, with the exact size, through O_DIRECT when durable; failures reach commit."""

from __future__ import annotations

import errno
import fcntl
import os
import random
import struct
from pathlib import Path

import pytest
from dicomfast import digest as checksums
from dicomfast.net import chunk_writer as cw
from dicomfast.net.storage import FileStorage, file_meta
from netutil import CT

UID = "1.2.3.4"
TS = "1.2.840.10008.1.2.1"


def _direct_possible(folder: Path) -> bool:
    fd = os.open(folder / "probe", os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        return cw.set_direct(fd, True)
    finally:
        os.close(fd)
        os.unlink(folder / "probe")


@pytest.mark.parametrize(
    "size",
    [0, 1, 4095, 4096, cw.CHUNK - 200, cw.CHUNK, cw.CHUNK + 1, 2 * cw.CHUNK + 12_345],
)
@pytest.mark.parametrize("fsync", [True, False])
@pytest.mark.parametrize("inline", [False, True])
def test_every_byte_lands_in_order_with_the_exact_size(
    tmp_path: Path, size: int, fsync: bool, inline: bool
) -> None:
    """``inline``: the last part written by the committing thread (a lone association's
    event loop), or by the writer thread like the rest where chunks went before it."""
    body = random.Random(size).randbytes(size)
    storage = FileStorage(tmp_path, fsync=fsync)
    storage.keep_digest = True
    sink = storage.open(CT, UID, TS)
    sink.inline = inline
    rng = random.Random(7)
    at = 0
    while at < size:  # fragments of uneven sizes, as PDUs bring them
        n = rng.choice([1, 17, 4096, 16_372, 65_536, 300_001])
        sink.write(memoryview(body)[at : at + n])
        at += n
    sink.close()
    final = Path(storage.commit_now(sink) if inline else sink.commit())
    # Only an instance within one staging buffer is written without the writer thread.
    assert (storage.writer._pool is None) == (
        inline and len(file_meta(CT, UID, TS)) + size < cw.CHUNK
    )
    storage.close()
    data = final.read_bytes()
    meta = file_meta(CT, UID, TS, None)
    assert data == meta + body
    assert os.path.getsize(final) == len(meta) + size
    assert sink.digest() == checksums.of_bytes(data)
    assert not list(tmp_path.glob("*.part"))


def test_received_files_bypass_the_page_cache_durable_or_not(tmp_path: Path) -> None:
    if not _direct_possible(tmp_path):
        pytest.skip("this file system refuses O_DIRECT (e.g. tmpfs)")
    for fsync, expected in ((True, True), (False, True)):
        storage = FileStorage(tmp_path / str(fsync), fsync=fsync)
        sink = storage.open(CT, UID, TS)
        flags = fcntl.fcntl(sink._out.fd, fcntl.F_GETFL)
        assert bool(flags & os.O_DIRECT) is expected
        sink.write(b"\0" * 5000)
        sink.close()
        sink.commit()
        storage.close()


def test_a_file_system_refusing_direct_writes_gets_them_through_the_page_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flag is taken, the write refused (EINVAL): the writer turns the flag off
    and writes again; nothing is lost."""
    real = os.pwrite
    refused: list[int] = []

    def pwrite(fd: int, data: memoryview, offset: int) -> int:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & getattr(os, "O_DIRECT", 0):
            refused.append(fd)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real(fd, data, offset)

    monkeypatch.setattr(cw.os, "pwrite", pwrite)
    if not _direct_possible(tmp_path):
        pytest.skip("this file system refuses O_DIRECT already")
    body = os.urandom(cw.CHUNK + 999)
    storage = FileStorage(tmp_path, fsync=True)
    sink = storage.open(CT, UID, TS)
    sink.write(body)
    sink.close()
    final = Path(sink.commit())
    storage.close()
    assert refused  # the direct write was tried, and refused
    assert final.read_bytes().endswith(body)


def test_a_failed_write_fails_the_commit_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(fd: int, data: memoryview, offset: int) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cw.os, "pwrite", full)
    storage = FileStorage(tmp_path, fsync=True)
    sink = storage.open(CT, UID, TS)
    sink.write(os.urandom(3 * cw.CHUNK))
    sink.close()
    with pytest.raises(OSError, match="No space"):
        sink.commit()
    sink.discard()
    storage.close()
    assert not list(tmp_path.glob("*.dcm")) and not list(tmp_path.glob("*.part"))


def test_a_small_instance_header_is_read_from_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The UID check parses the staged bytes: no read of a file still being written."""
    import struct

    from dicomfast.net import storage as st

    def element(group: int, elem: int, vr: bytes, value: bytes) -> bytes:
        value += b"\0" if vr == b"UI" and len(value) % 2 else b" " * (len(value) % 2)
        return struct.pack("<HH2sH", group, elem, vr, len(value)) + value

    body = (
        element(0x0008, 0x0016, b"UI", CT.encode())
        + element(0x0008, 0x0018, b"UI", UID.encode())
        + element(0x0010, 0x0010, b"PN", b"Doe^Jane")
    )
    sources: list[object] = []
    real = st._read_header
    monkeypatch.setattr(st, "_read_header", lambda src: (sources.append(src), real(src))[1])
    storage = FileStorage(tmp_path, fsync=True)
    sink = storage.open(CT, UID, TS)
    sink.write(body)
    sink.close()  # as the DIMSE layer does on the last fragment, before the check
    header = sink.header()
    assert header is not None and str(header.PatientName) == "Doe^Jane"
    assert isinstance(sources[0], bytes)
    sink.commit()
    storage.close()


def test_queued_writes_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sender faster than the disk makes write() wait: at most MAX_QUEUED chunks queue."""
    monkeypatch.setattr(cw, "MAX_QUEUED", 3)
    storage = FileStorage(tmp_path, fsync=False)
    seen: list[int] = []
    real_submit = storage.writer.submit

    def submit(fn: object, *args: object) -> object:
        seen.append(sum(1 for f in storage.writer._queued if not f.done()))
        return real_submit(fn, *args)

    monkeypatch.setattr(storage.writer, "submit", submit)
    sink = storage.open(CT, UID, TS)
    for _ in range(20):
        sink.write(bytes(cw.CHUNK))
    sink.close()
    sink.commit()
    storage.close()
    assert max(seen) <= 3


def _header_copies(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The lengths of the bytes each header check parses, as they happen."""
    from dicomfast.net import storage as st

    sizes: list[int] = []
    real = st._read_header

    def recording(source: object) -> object:
        sizes.append(len(source))  # type: ignore[arg-type]
        return real(source)  # type: ignore[arg-type]

    monkeypatch.setattr(st, "_read_header", recording)
    return sizes


def test_a_long_header_is_read_whole_and_the_pixel_data_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A header of 100 KB (a palette) is read whole, not cut short, from a copy of the
    header's bytes alone: the pixel data after it is not copied."""
    import struct

    from dicomfast.net import storage as st

    sizes = _header_copies(monkeypatch)

    def short(group: int, elem: int, vr: bytes, value: bytes) -> bytes:
        value += b"\0" if vr == b"UI" and len(value) % 2 else b" " * (len(value) % 2)
        return struct.pack("<HH2sH", group, elem, vr, len(value)) + value

    def long(group: int, elem: int, vr: bytes, value: bytes) -> bytes:
        return struct.pack("<HH2sHI", group, elem, vr, 0, len(value)) + value

    body = (
        short(0x0008, 0x0016, b"UI", CT.encode())
        + short(0x0008, 0x0018, b"UI", UID.encode())
        + long(0x0028, 0x1201, b"OW", bytes(100_000))
        + short(0x0040, 0x0254, b"LO", b"after the head")
        + long(0x7FE0, 0x0010, b"OW", bytes(50_000))
    )
    storage = FileStorage(tmp_path, fsync=True)
    sink = storage.open(CT, UID, TS)
    sink.write(body)
    sink.close()
    header = sink.header()
    assert header is not None
    assert header.PerformedProcedureStepDescription == "after the head"
    assert "PixelData" not in header
    meta = len(st.file_meta(CT, UID, TS))
    assert sizes == [meta + len(body) - 50_000 - 12], sizes  # the header's bytes, once
    sink.commit()
    storage.close()


def test_a_short_header_is_checked_without_copying_the_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A staged instance's header is read from a copy of the header's bytes alone
    (the whole staged view is parsed where it lies, not copied: an instance's worth
    of new pages per C-STORE on the event loop; and the copy is what an acknowledged
    instance keeps while it waits to be placed and indexed)."""
    from dicomfast.net import storage as st

    sizes = _header_copies(monkeypatch)
    body = (
        struct.pack("<HH2sH", 0x0008, 0x0016, b"UI", len(CT) + len(CT) % 2)
        + CT.encode()
        + b"\0" * (len(CT) % 2)
        + struct.pack("<HH2sH", 0x0008, 0x0018, b"UI", len(UID) + len(UID) % 2)
        + UID.encode()
        + b"\0" * (len(UID) % 2)
        + struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, 300_000)
        + bytes(300_000)
    )
    storage = FileStorage(tmp_path, fsync=True)
    sink = storage.open(CT, UID, TS)
    sink.write(body)
    sink.close()
    header = sink.header()
    assert header is not None and header.SOPInstanceUID == UID
    # the file meta and the data set, all but the pixel data element
    header_bytes = len(st.file_meta(CT, UID, TS)) + len(body) - 300_000 - 12
    assert sizes == [header_bytes], sizes
    sink.commit()
    storage.close()


def test_any_bytes_like_fragment_is_written_as_its_bytes(tmp_path: Path) -> None:
    """bytes, bytearray, a byte view, a view of 16-bit words and a 2-D view: each
    lands as its bytes (a view's length in items is not its length in bytes)."""
    import array

    words = array.array("H", range(1000))
    pieces: list[object] = [
        b"abc",
        bytearray(b"defg"),
        memoryview(b"hij"),
        memoryview(words),
        memoryview(bytes(range(12))).cast("B", (3, 4)),
    ]
    expected = b"abc" + b"defg" + b"hij" + words.tobytes() + bytes(range(12))
    storage = FileStorage(tmp_path, fsync=True)
    sink = storage.open(CT, UID, TS)
    for piece in pieces:
        sink.write(piece)  # type: ignore[arg-type]
    sink.close()
    final = Path(sink.commit())
    storage.close()
    assert final.read_bytes() == file_meta(CT, UID, TS, None) + expected


def test_an_unexpected_writer_error_fails_the_commit_and_never_hangs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the writer thread meets, the commit learns it: no wait forever."""

    def broken(fd: int, data: memoryview, offset: int) -> int:
        raise RuntimeError("a bug, not an OSError")

    monkeypatch.setattr(cw, "_pwrite", broken)
    storage = FileStorage(tmp_path, fsync=True)
    sink = storage.open(CT, UID, TS)
    sink.write(os.urandom(5000))
    sink.close()
    with pytest.raises(OSError, match="writing failed"):
        sink.commit()
    sink.discard()
    storage.close()
    assert not list(tmp_path.glob("*.dcm"))


@pytest.mark.parametrize("fsync", [True, False])
def test_a_transfer_aborted_after_whole_chunks_is_discarded_without_waiting_forever(
    tmp_path: Path, fsync: bool
) -> None:
    """A peer aborting a large instance: chunks are queued, no last one ever comes;
    discard returns, the buffers come back, the temporary file goes."""
    import threading

    storage = FileStorage(tmp_path, fsync=fsync)
    sink = storage.open(CT, UID, TS)
    sink.write(bytes(3 * cw.CHUNK + 5))  # three whole chunks queued, a few bytes staged
    done = threading.Event()
    worker = threading.Thread(target=lambda: (sink.discard(), done.set()), daemon=True)
    worker.start()
    assert done.wait(10), "discard hung"
    storage.close()
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob("*.dcm"))


def test_the_header_of_a_large_instance_is_read_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Larger than the staging buffer: read back once written, by a worker thread; a
    failed write is refused as out of resources, not answered Success or left hanging."""
    import asyncio
    import struct
    import threading

    from dicomfast.net import storage as st

    def short(group: int, elem: int, vr: bytes, value: bytes) -> bytes:
        value += b"\0" if len(value) % 2 else b""
        return struct.pack("<HH2sH", group, elem, vr, len(value)) + value

    body = (
        short(0x0008, 0x0016, b"UI", CT.encode())
        + short(0x0008, 0x0018, b"UI", UID.encode())
        + struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OB", 0, 2 * cw.CHUNK)
        + bytes(2 * cw.CHUNK)
    )
    readers: list[str] = []
    real = st._read_header
    monkeypatch.setattr(
        st,
        "_read_header",
        lambda src: (readers.append(threading.current_thread().name), real(src))[1],
    )
    storage = FileStorage(tmp_path, fsync=True)
    sink = storage.open(CT, UID, TS)
    sink.write(body)
    sink.close()
    header = asyncio.run(sink.checked_header())
    assert header is not None and header.SOPInstanceUID == UID
    assert readers and readers[0] != threading.main_thread().name
    sink.commit()

    def full(fd: int, data: memoryview, offset: int) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cw, "_pwrite", full)
    sink = storage.open(CT, "1.2.3.5", TS)
    sink.write(body)
    sink.close()
    with pytest.raises(st.StoreRefused, match="No space"):
        asyncio.run(sink.checked_header())
    sink.discard()
    storage.close()


def test_the_commit_does_not_wait_for_the_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The digest is made on its own thread: an instance is written, flushed and named
    (what its answer waits for) while its hash is still held up; the digest, asked for
    later, waits for it and is right, and every staging buffer comes back."""
    import threading

    release = threading.Event()
    real = cw.StagedFile._hash_chunk

    def slow_hash(self: cw.StagedFile, buf: object, fill: int) -> None:
        assert threading.current_thread().name.startswith("storage-hasher")
        release.wait(10)
        real(self, buf, fill)  # type: ignore[arg-type]

    monkeypatch.setattr(cw.StagedFile, "_hash_chunk", slow_hash)
    storage = FileStorage(tmp_path, fsync=True)
    storage.keep_digest = True
    body = random.Random(3).randbytes(2 * cw.CHUNK + 999)
    sink = storage.open(CT, UID, TS)
    for at in range(0, len(body), 65_536):
        sink.write(body[at : at + 65_536])
    sink.close()
    final = Path(sink.commit())  # returns with three chunks' hashes held up
    assert final.read_bytes().endswith(body)
    assert not release.is_set()
    got: list[str | None] = []
    waiter = threading.Thread(target=lambda: got.append(sink.digest()))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive() and not got  # the digest waits for its hash
    release.set()
    waiter.join(10)
    assert got == [checksums.of_bytes(final.read_bytes())]
    assert len(storage.writer._free) == 3  # the three staging buffers given back, once hashed
    storage.close()
