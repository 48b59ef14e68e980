"""Hostile inputs for the pixel path and ``dicomfast convert`` (issue 19, items 4-6):
each input is made here from a real corpus file, and each must fail with the exact
``DicomError`` (no output written), or be read and converted right."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import dicomfast
import numpy as np
import pydicom
import pytest
from dicomfast.batch import ConvertOptions, convert_file, iter_sources
from dicomfast.batch.syntaxes import NAMES
from dicomfast.errors import PixelDataError
from dicomfast.pixels import compress, decompress
from dicomfast.pixels.decode import frame, iter_frames, pixel_array

pytestmark = pytest.mark.corpus

CT = "public/pydicom/CT_small.dcm"  # native, explicit VR little endian, 128x128 16-bit
MR_RLE = "public/pydicom/MR_small_RLE.dcm"  # RLE, 64x64 16-bit
JPLL = "public/wg04/JPLL/NM1_JPLL"  # JPEG Lossless SV1


def _mutated(corpus: Path, tmp_path: Path, rel: str, **attrs: object) -> Path:
    ds = dicomfast.read(corpus / rel)
    for k, v in attrs.items():
        setattr(ds, k, v)
    out = tmp_path / "in" / f"{Path(rel).name}.{'_'.join(attrs)}.dcm"
    out.parent.mkdir(parents=True, exist_ok=True)
    dicomfast.write(ds, out)
    return out


def _convert(path: Path, out: Path, name: str) -> dict:
    opts = ConvertOptions(
        out=str(out), transfer_syntax=NAMES[name], threads=1, fsync=False, resume=False
    )
    (src,) = list(iter_sources([path]))
    return convert_file(src, opts)


def _outputs(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.is_file()] if out.exists() else []


def _assert_failed(rec: dict, out: Path, error: type, text: str) -> None:
    assert rec["status"] == "failed", rec
    assert rec["reason"].startswith(f"{error.__name__}: "), rec
    assert text in rec["reason"], rec
    assert _outputs(out) == []


#: (attributes set, what the error names: one of these).
BAD_ATTRIBUTES = [
    ({"NumberOfFrames": -1}, ["NumberOfFrames (0028,0008) -1 is not in"]),
    ({"SamplesPerPixel": 65535}, ["samples per pixel must be 1 to 4"]),
    # Far beyond the data held: native (bytes needed) or encapsulated (8 bytes a frame).
    ({"NumberOfFrames": 2**31 - 1}, ["x Number of Frames: ", "NumberOfFrames (0028,0008)"]),
    ({"NumberOfFrames": 2**40}, ["NumberOfFrames (0028,0008) 1099511627776 is not in"]),
    ({"Rows": 65535, "Columns": 65535}, ["Rows x Columns x Samples per Pixel"]),
    ({"Rows": 0}, ["rows and columns must be non-zero"]),
    ({"BitsAllocated": 12}, ["bits allocated must be 1, 8, 16, 32 or 64"]),
]


@pytest.mark.parametrize("rel", [CT, MR_RLE])
@pytest.mark.parametrize(("attrs", "texts"), BAD_ATTRIBUTES, ids=lambda x: str(x)[:30])
def test_bad_image_attributes_are_pixel_data_errors(
    corpus: Path, tmp_path: Path, rel: str, attrs: dict, texts: list[str]
) -> None:
    """Item 4: every pixel path checks the image attributes (and the sizes they give
    against the data held) before allocating: PixelDataError naming the attribute,
    never IndexError / ValueError / MemoryError."""
    path = _mutated(corpus, tmp_path, rel, **attrs)
    for call in (
        lambda ds: pixel_array(ds),
        lambda ds: frame(ds, 0),
        lambda ds: next(iter_frames(ds)),
        lambda ds: decompress(ds),
        lambda ds: compress(ds, "rle"),
        lambda ds: ds.pixel_array,
    ):
        ds = dicomfast.read(path)
        with pytest.raises(PixelDataError) as info:
            call(ds)
        assert type(info.value) is PixelDataError
        assert any(t in str(info.value) for t in texts), str(info.value)
    for name in ("rle", "explicit-le", "jpeg-ll"):
        out = tmp_path / f"out-{name}"
        rec = _convert(path, out, name)
        assert rec["status"] == "failed", rec
        assert rec["reason"].startswith("PixelDataError: "), rec
        assert _outputs(out) == []


def test_bad_attributes_cli_fails(corpus: Path, tmp_path: Path) -> None:
    """Item 4 through the CLI: non-zero exit, no output, the reason in the report."""
    path = _mutated(corpus, tmp_path, CT, NumberOfFrames=-1)
    out = tmp_path / "out"
    report = tmp_path / "report.jsonl"
    r = subprocess.run(
        [sys.executable, "-m", "dicomfast", "convert", str(path), "-o", str(out), "-t", "rle",
         "--workers", "1", "-q", "--no-fsync", "--report", str(report)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 1, r.stderr
    assert _outputs(out) == []
    assert "PixelDataError: NumberOfFrames (0028,0008) -1" in report.read_text()
    # -q drops the progress and the summary, not the failures: the exit status is
    # explained on stderr (a CI log with only "exited 1" once hid a real bug).
    assert f"FAILED {path}: PixelDataError: NumberOfFrames (0028,0008) -1" in r.stderr
    assert "converted 0" not in r.stderr


def _insert_after_meta(data: bytes, offset: int, element: bytes) -> bytes:
    return data[:offset] + element + data[offset:]


def _ui(group: int, elem: int, value: str) -> bytes:
    v = value.encode() + (b"\0" if len(value) % 2 else b"")
    return struct.pack("<HH2sH", group, elem, b"UI", len(v)) + v


def _stray_ts_file(corpus: Path, tmp_path: Path, where: str) -> Path:
    src = corpus / CT
    data = src.read_bytes()
    ds = dicomfast.read(src)
    stray = _ui(0x0002, 0x0010, "1.2.840.10008.1.2.4.70")
    if where == "after-meta":
        # What the writer used to make of a stray element: first in the data set.
        bad = _insert_after_meta(data, ds._raw.dataset_offset, stray)
    else:
        # A flipped byte: (0008,0016) SOP Class UID read as (0002,0016), in the middle.
        i = data.index(struct.pack("<HH2s", 0x0008, 0x0016, b"UI"), ds._raw.dataset_offset)
        bad = data[:i] + struct.pack("<H", 0x0002) + data[i + 2 :]
        bad = bad[:i] + stray + bad[i:]
    path = tmp_path / "in" / f"stray_{where}.dcm"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bad)
    return path


@pytest.mark.parametrize("where", ["after-meta", "mid-dataset"])
def test_stray_group_0002_in_data_set(corpus: Path, tmp_path: Path, where: str) -> None:
    """Item 5: the transfer syntax comes from the file meta, never from a stray (0002,0010)
    in the data set; the writer never puts group 0002 elements in the data set."""
    expected = dicomfast.read(corpus / CT).pixel_array
    path = _stray_ts_file(corpus, tmp_path, where)
    ds = dicomfast.read(path)
    assert ds.transfer_syntax == "1.2.840.10008.1.2.1"
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert np.array_equal(ds.pixel_array, expected)
    for name in ("rle", "explicit-le"):
        out = tmp_path / f"out-{name}"
        rec = _convert(path, out, name)
        assert rec["status"] == "converted", rec
        got = dicomfast.read(rec["dst"])
        assert got.transfer_syntax == NAMES[name]
        assert not [e.tag for e in got if e.tag >> 16 == 2]
        assert np.array_equal(got.pixel_array, expected)
        # DCMTK's reading of the output: same pixels, no group 0002 in the data set.
        dump = subprocess.run(
            ["dcmdump", "-q", rec["dst"]], capture_output=True, text=True, timeout=60
        )
        body = dump.stdout.split("# Dicom-Data-Set", 1)[1]
        assert "(0002," not in body
        assert np.array_equal(pydicom.dcmread(rec["dst"]).pixel_array, expected)


def test_write_drops_group_0002_from_the_data_set(corpus: Path, tmp_path: Path) -> None:
    """Item 5, writer side: dicomfast.write of a data set holding group 0002 elements
    writes them to the file meta only (its own), never to the data set."""
    ds = dicomfast.read(corpus / CT)
    ds.add_new(0x00020010, "UI", "1.2.840.10008.1.2.4.70")
    ds.add_new(0x00020016, "AE", "STRAY")
    dicomfast.write(ds, tmp_path / "w.dcm")
    got = dicomfast.read(tmp_path / "w.dcm")
    assert got.transfer_syntax == "1.2.840.10008.1.2.1"
    assert not [e.tag for e in got if e.tag >> 16 == 2]
    assert np.array_equal(got.pixel_array, dicomfast.read(corpus / CT).pixel_array)


def _patch_first_fragment(corpus: Path, tmp_path: Path, rel: str, how: str) -> Path:
    data = bytearray((corpus / rel).read_bytes())
    ds = dicomfast.read(corpus / rel)
    elem = ds[0x7FE00010]
    (frag,) = ds._raw.frame_fragments(elem._node, 1, None)[0:1]
    off, length = frag[0]
    if how == "rle-segment-count":
        data[off : off + 4] = struct.pack("<I", 1)  # 16-bit data needs 2 segments
    elif how == "zeroed-tail":
        start = off + length // 2
        data[start : off + length] = b"\x80" * (off + length - start)  # RLE no-ops
    elif how == "jpeg-garbage":
        start = off + length // 3
        n = off + length - 2 - start
        data[start : off + length - 2] = (b"\xff\x00" * n)[:n]  # stuffed 0xFF: all 1 bits
    path = tmp_path / "in" / f"{Path(rel).name}.{how}.dcm"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("rel", "how", "name"),
    [
        (MR_RLE, "rle-segment-count", "rle"),
        (MR_RLE, "zeroed-tail", "rle"),
        (JPLL, "jpeg-garbage", "jpeg-ll"),
    ],
)
def test_same_syntax_corrupt_frames_fail(
    corpus: Path, tmp_path: Path, rel: str, how: str, name: str
) -> None:
    """Item 6: an input already in the target syntax is not copied unchecked: a frame
    that does not decode fails the file, nothing is written."""
    path = _patch_first_fragment(corpus, tmp_path, rel, how)
    with pytest.raises(PixelDataError):
        dicomfast.read(path).pixel_array  # noqa: B018
    out = tmp_path / "out"
    _assert_failed(_convert(path, out, name), out, PixelDataError, "")


def _native_with(corpus: Path, tmp_path: Path, value: bytes, tag: str) -> Path:
    ds = dicomfast.read(corpus / CT)
    ds.PixelData = value
    path = tmp_path / "in" / f"ct_{tag}.dcm"
    path.parent.mkdir(parents=True, exist_ok=True)
    dicomfast.write(ds, path)
    return path


@pytest.mark.parametrize("name", ["explicit-le", "implicit-le", "rle"])
def test_native_pixel_data_length_must_match(corpus: Path, tmp_path: Path, name: str) -> None:
    """Item 6, native: Pixel Data shorter than Rows x Columns x Samples x Bits x Frames,
    or a whole frame longer, fails; the pad byte and padding shorter than a frame (as
    in MR_small_padded.dcm) pass and are kept."""
    pixels = bytes(dicomfast.read(corpus / CT)[0x7FE00010].value.tobytes())
    short = _native_with(corpus, tmp_path, pixels[:-256], "short")
    out = tmp_path / f"out-short-{name}"
    _assert_failed(_convert(short, out, name), out, PixelDataError, "native pixel data has")
    long = _native_with(corpus, tmp_path, pixels * 2, "long")
    out = tmp_path / f"out-long-{name}"
    if name == "rle":
        # Encoding reads the frames the attributes give; the data set says one frame.
        assert _convert(long, out, name)["status"] == "converted"
    else:
        _assert_failed(_convert(long, out, name), out, PixelDataError, "more than the")
    padded = corpus / "public/pydicom/MR_small_padded.dcm"
    out = tmp_path / f"out-padded-{name}"
    rec = _convert(padded, out, name)
    assert rec["status"] == "converted", rec
    assert np.array_equal(
        dicomfast.read(rec["dst"]).pixel_array, dicomfast.read(padded).pixel_array
    )


def test_same_syntax_still_converts(corpus: Path, tmp_path: Path) -> None:
    """Item 6: good inputs already in the target syntax still convert (and --verify
    compares against the pixels decoded by the check)."""
    for rel, name in [(MR_RLE, "rle"), (JPLL, "jpeg-ll"), (CT, "explicit-le")]:
        out = tmp_path / f"out-{name}"
        opts = ConvertOptions(
            out=str(out), transfer_syntax=NAMES[name], threads=1, fsync=False, verify=True
        )
        (src,) = list(iter_sources([corpus / rel]))
        rec = convert_file(src, opts)
        assert rec["status"] == "converted", rec
        assert os.path.getsize(rec["dst"]) > 0
        assert np.array_equal(
            dicomfast.read(rec["dst"]).pixel_array, dicomfast.read(corpus / rel).pixel_array
        )
