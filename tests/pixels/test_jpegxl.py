"""JPEG XL decoding (PS3.5 A.4.13-15, Supplement 232; jxl-oxide): files holding
codestreams written by a real peer encoder (libjxl through imagecodecs; cjxl for JPEG
recompression) read back with ``dicomfast.dcmread(...).pixel_array``: lossless bit-exact
against the source array, lossy within 1 of libjxl's own decoder, multi-frame on one and
on two threads, and damaged or mismatching streams refused as ``PixelDataError``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import dicomfast
import numpy as np
import pytest
from dicomfast import syntaxes
from dicomfast.errors import DicomError, PixelDataError
from dicomfast.pixels import decode_frame, encapsulate
from dicomfast.pixels.encode import set_encapsulated_pixels
from dicomfast.pixels.info import pixel_info
from test_roundtrip import make_dataset

imagecodecs = pytest.importorskip("imagecodecs", reason="imagecodecs (libjxl) not installed")
if not imagecodecs.JPEGXL.available:
    pytest.skip("this imagecodecs has no JPEG XL codec (libjxl)", allow_module_level=True)

LOSSLESS = "1.2.840.10008.1.2.4.110"
RECOMPRESSION = "1.2.840.10008.1.2.4.111"
LOSSY = "1.2.840.10008.1.2.4.112"


def _file(tmp_path: Path, arr: np.ndarray, bits: int, ts: str, frames: list[bytes]) -> Path:
    """A Secondary Capture file of ``arr``'s layout whose Pixel Data is ``frames``
    encapsulated (one fragment a frame) under ``ts``."""
    ds = make_dataset(arr, bits, "RGB" if arr.shape[-1] == 3 and arr.ndim >= 3 else None)
    set_encapsulated_pixels(ds, encapsulate(frames), pixel_info(ds), ts)
    path = tmp_path / "jxl.dcm"
    dicomfast.write(ds, path)
    return path


def _ramp(shape: tuple[int, ...], bits: int, dtype: str, seed: int = 0) -> np.ndarray:
    """A smooth image with noise: something like a CT slice or a photograph."""
    rng = np.random.default_rng(seed)
    rows, cols = shape[:2]
    y, x = np.mgrid[:rows, :cols]
    top = (1 << bits) - 1
    base = (np.sin(x / 9.0) + np.cos(y / 7.0) + 2) / 4 * top
    if len(shape) == 3:
        base = np.stack([base, base[::-1], top - base], -1)
    noise = rng.integers(-(top // 64) - 1, top // 64 + 2, shape)
    return np.clip(base + noise, 0, top).astype(dtype)


def test_registry_rows() -> None:
    for ts, keyword, lossy in [
        (LOSSLESS, "JPEGXLLossless", False),
        (RECOMPRESSION, "JPEGXLJPEGRecompression", True),
        (LOSSY, "JPEGXL", True),
    ]:
        t = syntaxes.get(ts)
        assert (t.keyword, t.lossy, t.encapsulated, t.explicit_vr) == (keyword, lossy, True, True)
        assert t.codec == "JPEG XL" and t.can_decode and not t.can_encode
        assert ts in syntaxes.DECODABLE


@pytest.mark.parametrize(
    ("shape", "dtype", "bits", "bitspersample"),
    [
        ((61, 47), "u1", 8, None),
        # 12 bits stored in 16: libjxl writes what it is told (12 bits, or 16 by default)
        # and gives the integers back as coded; so must we.
        ((64, 50), "<u2", 12, 12),
        ((64, 50), "<u2", 12, None),
        ((40, 33), "<u2", 16, None),
        ((29, 31, 3), "u1", 8, None),
    ],
    ids=["grey8", "grey12-in-16-coded-12", "grey12-in-16-coded-16", "grey16", "rgb8"],
)
def test_lossless_is_bit_exact(
    tmp_path: Path, shape: tuple[int, ...], dtype: str, bits: int, bitspersample: int | None
) -> None:
    arr = _ramp(shape, bits, dtype)
    stream = imagecodecs.jpegxl_encode(arr, lossless=True, bitspersample=bitspersample)
    assert np.array_equal(imagecodecs.jpegxl_decode(stream), arr)  # the peer's round trip
    ds = dicomfast.dcmread(_file(tmp_path, arr, bits, LOSSLESS, [stream]))
    assert ds.file_meta.TransferSyntaxUID == LOSSLESS
    out = ds.pixel_array
    assert out.dtype == arr.dtype and out.shape == arr.shape
    assert np.array_equal(out, arr)


def test_lossless_both_stream_forms() -> None:
    """A bare codestream and one in the ISOBMFF container decode alike."""
    arr = _ramp((20, 24), 12, "<u2")
    # (12 bits coded: this libjxl puts a 16-bit-coded stream in the container whatever
    # usecontainer says)
    bare = imagecodecs.jpegxl_encode(arr, lossless=True, bitspersample=12, usecontainer=False)
    boxed = imagecodecs.jpegxl_encode(arr, lossless=True, bitspersample=12, usecontainer=True)
    assert bare[:2] == b"\xff\x0a" and boxed[4:8] == b"JXL "
    for stream in (bare, boxed):
        out = decode_frame(stream, 20, 24, 1, 16, 12, 0, 0, LOSSLESS)
        assert np.array_equal(out, arr)


@pytest.mark.parametrize(
    ("shape", "distance"), [((64, 80), 1.0), ((64, 80, 3), 1.0), ((45, 37, 3), 3.0)]
)
def test_lossy_is_libjxl_within_one(
    tmp_path: Path, shape: tuple[int, ...], distance: float
) -> None:
    arr = _ramp(shape, 8, "u1", seed=3)
    stream = imagecodecs.jpegxl_encode(arr, lossless=False, distance=distance)
    ref = imagecodecs.jpegxl_decode(stream)
    out = dicomfast.dcmread(_file(tmp_path, arr, 8, LOSSY, [stream])).pixel_array
    assert out.shape == ref.shape == arr.shape
    diff = np.abs(out.astype(np.int16) - ref.astype(np.int16))
    assert diff.max() <= 1, diff.max()
    # ... and it is lossy: not the source (else the test could not tell).
    assert not np.array_equal(out, arr)


@pytest.mark.skipif(shutil.which("cjxl") is None, reason="cjxl (Debian libjxl-tools) missing")
@pytest.mark.parametrize("shape", [(48, 40), (48, 40, 3)])
def test_jpeg_recompression_is_libjxl_within_one(tmp_path: Path, shape: tuple[int, ...]) -> None:
    arr = _ramp(shape, 8, "u1", seed=4)
    (tmp_path / "in.jpg").write_bytes(imagecodecs.jpeg8_encode(arr, level=90))
    r = subprocess.run(
        ["cjxl", str(tmp_path / "in.jpg"), str(tmp_path / "out.jxl"), "--lossless_jpeg=1"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    stream = (tmp_path / "out.jxl").read_bytes()
    ref = imagecodecs.jpegxl_decode(stream)
    out = dicomfast.dcmread(_file(tmp_path, arr, 8, RECOMPRESSION, [stream])).pixel_array
    assert out.shape == ref.shape == arr.shape
    assert np.abs(out.astype(np.int16) - ref.astype(np.int16)).max() <= 1


@pytest.mark.parametrize("threads", [1, 2])
def test_multi_frame(tmp_path: Path, threads: int) -> None:
    frames = np.stack([_ramp((48, 56), 12, "<u2", seed=k) for k in range(5)])
    streams = [imagecodecs.jpegxl_encode(f, lossless=True, bitspersample=12) for f in frames]
    ds = dicomfast.dcmread(_file(tmp_path, frames, 12, LOSSLESS, streams))
    assert int(ds.NumberOfFrames) == 5
    out = ds.pixel_array_as(threads=threads)
    assert out.shape == frames.shape
    assert np.array_equal(out, frames)


def test_blank_frames_in_a_few_bytes(tmp_path: Path) -> None:
    """JPEG XL codes a constant frame in a few dozen bytes: the compression-ratio guard
    against absurd sizes must let such files through, as it does JPEG 2000's."""
    frames = np.zeros((3, 512, 512), np.uint16)
    frames[1] = 4095
    streams = [imagecodecs.jpegxl_encode(f, lossless=True, bitspersample=12) for f in frames]
    assert max(map(len, streams)) < 100
    out = dicomfast.dcmread(_file(tmp_path, frames, 12, LOSSLESS, streams)).pixel_array
    assert np.array_equal(out, frames)


def test_truncated_stream_is_an_error(tmp_path: Path) -> None:
    arr = _ramp((64, 64), 12, "<u2")
    stream = imagecodecs.jpegxl_encode(arr, lossless=True, bitspersample=12)
    for cut in (len(stream) // 2, len(stream) - 3, 2, 0):
        with pytest.raises(PixelDataError) as info:
            decode_frame(stream[:cut], 64, 64, 1, 16, 12, 0, 0, LOSSLESS)
        assert isinstance(info.value, DicomError)
    path = _file(tmp_path, arr, 12, LOSSLESS, [stream[: len(stream) // 2]])
    with pytest.raises(PixelDataError, match="JPEG XL|truncated"):
        dicomfast.dcmread(path).pixel_array  # noqa: B018


def test_corrupt_streams_never_crash() -> None:
    """Bytes flipped all over a valid stream: an error or some image, never a crash."""
    arr = _ramp((32, 32, 3), 8, "u1")
    stream = imagecodecs.jpegxl_encode(arr, lossless=True)
    rng = np.random.default_rng(7)
    errors = 0
    for _ in range(200):
        bad = bytearray(stream)
        for at in rng.integers(0, len(bad), 3):
            bad[at] ^= int(rng.integers(1, 256))
        try:
            decode_frame(bytes(bad), 32, 32, 3, 8, 8, 0, 0, LOSSLESS)
        except PixelDataError:
            errors += 1
    assert errors > 0


@pytest.mark.parametrize(
    ("rows", "cols", "spp", "ba", "match"),
    [
        (40, 32, 1, 8, "rows"),
        (32, 40, 1, 8, "columns"),
        (32, 32, 3, 8, "components"),
        (32, 32, 1, 16, None),  # an 8-bit stream fits 16 bits allocated
    ],
)
def test_stream_must_match_the_data_set(
    rows: int, cols: int, spp: int, ba: int, match: str | None
) -> None:
    arr = _ramp((32, 32), 8, "u1")
    stream = imagecodecs.jpegxl_encode(arr, lossless=True)
    if match is None:
        out = decode_frame(stream, rows, cols, spp, ba, 8, 0, 0, LOSSLESS)
        assert np.array_equal(out, arr.astype("<u2"))
        return
    with pytest.raises(PixelDataError, match=match):
        decode_frame(stream, rows, cols, spp, ba, 8, 0, 0, LOSSLESS)


def test_precision_above_bits_allocated_is_refused() -> None:
    arr = _ramp((16, 16), 12, "<u2")
    stream = imagecodecs.jpegxl_encode(arr, lossless=True, bitspersample=12)
    with pytest.raises(PixelDataError, match="precision"):
        decode_frame(stream, 16, 16, 1, 8, 8, 0, 0, LOSSLESS)


def test_a_huge_declared_image_is_refused_before_it_is_decoded() -> None:
    """A stream for 1 x 200000 pixels in a data set of 1 x 7: refused by the header check,
    not by allocating and decoding the 200000."""
    stream = imagecodecs.jpegxl_encode(np.zeros((1, 200_000), np.uint8), lossless=True)
    with pytest.raises(PixelDataError, match="columns"):
        decode_frame(stream, 1, 7, 1, 8, 8, 0, 0, LOSSLESS)


def test_pydicom_plugin_serves_jpeg_xl_when_pydicom_knows_it() -> None:
    import pydicom
    from dicomfast import pydicom as plugin
    from pydicom import uid as pydicom_uid

    known = {u for u in (LOSSLESS, RECOMPRESSION, LOSSY) if u in pydicom_uid.AllTransferSyntaxes}
    if not known:
        assert not {LOSSLESS, RECOMPRESSION, LOSSY} & set(plugin.SYNTAXES)
        pytest.skip(f"pydicom {pydicom.__version__} knows no JPEG XL transfer syntax")
    assert known <= set(plugin.SYNTAXES)
    assert all(plugin.is_available(u) for u in known)
