"""Coding while writing (``dicomfast.batch.pending``): a multi-frame file converted to an
encapsulated syntax has its frames encoded as the output is written, and an encapsulated
one converted to a little-endian native syntax has them decoded so.  The output is byte
for byte that of coding first; a bad frame is named and leaves no output; a failed write
is an OSError; big endian and deflated targets are not deferred."""

from __future__ import annotations

import os
from pathlib import Path

import dicomfast
import numpy as np
import pytest
from dicomfast import _core
from dicomfast.batch import ConvertOptions, convert_file, files, iter_sources
from dicomfast.batch import convert as C
from dicomfast.batch.pending import defer_compress, defer_decompress
from dicomfast.batch.syntaxes import NAMES
from dicomfast.pixels.frames import encapsulated_data
from dicomfast.pixels.info import pixel_info
from dicomfast.writer import encode_file

pytestmark = pytest.mark.skipif(os.name != "posix", reason="writes to a file descriptor")

CINE = {k: f"perf/us_cine/{k}" for k in ("rle", "jpll_sv1", "unc")}
SMALL = "public/pydicom/SC_rgb_rle_16bit_2frame.dcm"


def _one(corpus: Path, folder: str) -> Path:
    found = sorted((corpus / folder).glob("*.dcm"))
    if not found:
        pytest.skip(f"{folder} not in the corpus")
    return found[0]


def _reference(path: Path, ts: str) -> bytes:
    """Code first, then write (no scratch buffer: nothing deferred)."""
    ds = dicomfast.read(path)
    C.transcode(ds, ts, threads=1)
    return b"".join(bytes(c) for c in encode_file(ds, ts))


def _convert(src: Path, out: Path, target: str = "explicit-le", threads: int = 2) -> dict:
    opts = ConvertOptions(out=str(out), transfer_syntax=NAMES[target], threads=threads, fsync=False)
    (rec,) = [convert_file(s, opts) for s in iter_sources([src])]
    return rec


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list:
    """What each conversion deferred (None when it did not)."""
    made: list = []

    def recorder(real):  # noqa: ANN001, ANN202
        def record(*a, **kw):  # noqa: ANN002, ANN003, ANN202
            made.append(real(*a, **kw))
            return made[-1]

        return record

    monkeypatch.setattr(C, "defer_decompress", recorder(C.defer_decompress))
    monkeypatch.setattr(C, "defer_compress", recorder(C.defer_compress))
    return made


PAIRS = [  # (input kind, target): both directions, and decode then encode
    ("rle", "explicit-le"),
    ("rle", "implicit-le"),
    ("jpll_sv1", "explicit-le"),
    ("unc", "rle"),
    ("unc", "jpeg-ll"),
    ("rle", "jpeg-ll-p14"),
]


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize(("kind", "target"), PAIRS)
def test_output_is_that_of_coding_first(
    corpus: Path, tmp_path: Path, spy: list, kind: str, threads: int, target: str
) -> None:
    src = _one(corpus, CINE[kind])
    rec = _convert(src, tmp_path / "o", target, threads)
    assert rec["status"] == "converted", rec
    assert len(spy) == 1 and spy[0] is not None and spy[0].done
    got = Path(rec["dst"]).read_bytes()
    assert got == _reference(src, NAMES[target])
    assert rec["bytes_out"] == len(got)


@pytest.mark.parametrize(("kind", "target"), [("rle", "explicit-le"), ("unc", "rle")])
def test_a_writer_copy_of_the_buffer_is_coded_first(
    corpus: Path, tmp_path: Path, spy: list, monkeypatch: pytest.MonkeyPatch, kind: str, target: str
) -> None:
    """Should ``encode_file`` ever copy the pending buffer, the value is coded in the data
    set and the file encoded again, rather than written from the copy."""
    real = C.encode_file
    monkeypatch.setattr(C, "encode_file", lambda ds, ts: [bytes(c) for c in real(ds, ts)])
    src = _one(corpus, CINE[kind])
    rec = _convert(src, tmp_path / "o", target)
    assert rec["status"] == "converted", rec
    assert spy[0] is not None and spy[0].done
    assert Path(rec["dst"]).read_bytes() == _reference(src, NAMES[target])


def test_two_frames_and_verify(corpus: Path, tmp_path: Path, spy: list) -> None:
    src = corpus / SMALL
    opts = ConvertOptions(
        out=str(tmp_path / "o"), transfer_syntax=NAMES["explicit-le"], verify=True, fsync=False
    )
    (rec,) = [convert_file(s, opts) for s in iter_sources([src])]
    assert rec["status"] == "converted", rec
    assert spy[0] is not None
    np.testing.assert_array_equal(
        dicomfast.read(rec["dst"]).pixel_array, dicomfast.read(src).pixel_array
    )


@pytest.mark.parametrize("target", ["explicit-be", "deflated", "rle"])
def test_other_targets_code_first(corpus: Path, tmp_path: Path, spy: list, target: str) -> None:
    """Big endian and deflated outputs are made from a copy of the pixels: they may not
    see the buffer before it is decoded; RLE to RLE copies the fragments."""
    src = corpus / SMALL
    rec = _convert(src, tmp_path / "o", target)
    assert rec["status"] == "converted", rec
    assert spy == []
    np.testing.assert_array_equal(
        dicomfast.read(rec["dst"]).pixel_array, dicomfast.read(src).pixel_array
    )


def _damaged_cine(corpus: Path, tmp_path: Path, frame: int) -> Path:
    """The RLE cine with frame ``frame``'s RLE header made to point past its data."""
    src = _one(corpus, CINE["rle"])
    ds = dicomfast.read(src)
    info = pixel_info(ds)
    offset, _ = encapsulated_data(ds, info).frames[frame][0]
    data = bytearray(src.read_bytes())
    data[offset + 4 : offset + 8] = (0x7FFFFFF0).to_bytes(4, "little")  # segment 1 offset
    bad = tmp_path / "in" / "bad.dcm"
    bad.parent.mkdir()
    bad.write_bytes(bytes(data))
    return bad


@pytest.mark.parametrize("threads", [1, 2])
def test_a_bad_frame_is_named_and_leaves_no_output(
    corpus: Path, tmp_path: Path, spy: list, threads: int
) -> None:
    bad = _damaged_cine(corpus, tmp_path, 13)
    rec = _convert(bad, tmp_path / "o", threads=threads)
    assert rec["status"] == "failed"
    assert rec["reason"].startswith("PixelDataError") and "frame 13" in rec["reason"], rec
    assert spy[0] is not None  # it failed in the deferred decode, while writing
    assert [p for p in (tmp_path / "o").rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("direction", ["decode", "encode"])
def test_a_failed_write_is_an_oserror(corpus: Path, tmp_path: Path, direction: str) -> None:
    src = corpus / SMALL
    ds = dicomfast.read(src)
    info = pixel_info(ds)
    if direction == "decode":
        out = np.empty((info.number_of_frames, *info.frame_shape), info.dtype)
        pending = defer_decompress(ds, info, out, 2)
    else:
        pixels = ds.pixel_array
        pending = defer_compress(ds, pixels, info, NAMES["jpeg-ll"], threads=2)
    assert pending is not None
    path = tmp_path / "ro"
    path.write_bytes(b"")
    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(OSError):
            pending.write_to(fd)
    finally:
        os.close(fd)
    assert not pending.done
    with pytest.raises(ValueError, match="file descriptor"):
        pending.write_to(-1)
    pending.finish()
    assert pending.done


def test_write_chunks_refuses_pending_frames_it_cannot_find(tmp_path: Path, corpus: Path) -> None:
    src = corpus / SMALL
    ds = dicomfast.read(src)
    info = pixel_info(ds)
    out = np.empty((info.number_of_frames, *info.frame_shape), info.dtype)
    pending = defer_decompress(ds, info, out, 1)
    assert pending is not None
    chunks = [bytes(c) for c in encode_file(ds, NAMES["explicit-le"])]  # copies, not views
    with pytest.raises(ValueError, match="pending"):
        files.write_chunks(str(tmp_path / "x"), chunks, fsync=False, pending=pending)
    assert not (tmp_path / "x").exists()


def test_the_core_writes_at_the_current_position(tmp_path: Path, corpus: Path) -> None:
    """``decode_frames_into(sink_fd=)`` appends the decoded frames to what the file has."""
    src = corpus / SMALL
    ds = dicomfast.read(src)
    info = pixel_info(ds)
    enc = encapsulated_data(ds, info)
    out = np.empty((info.number_of_frames, *info.frame_shape), info.dtype)
    path = tmp_path / "f"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.write(fd, b"HEAD")
        _core.decode_frames_into(
            enc.source, enc.frames, out, info.transfer_syntax, info.image, 2, 0, fd
        )
        os.write(fd, b"TAIL")
    finally:
        os.close(fd)
    data = path.read_bytes()
    assert data == b"HEAD" + out.tobytes() + b"TAIL"
    np.testing.assert_array_equal(out, dicomfast.read(src).pixel_array)
