"""Encode -> decode round trips (Hypothesis), the data set conversions compress() /
decompress() through dicomfast.write, and DCMTK decoding what dicomfast encodes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import dicomfast
import numpy as np
import pytest
from dicomfast import _core
from dicomfast.dataset import Dataset, FileMetaDataset
from dicomfast.errors import PixelDataError
from dicomfast.pixels import decode_frame, encode_frame
from dicomfast.pixels.info import (
    DEFLATED_IMAGE_FRAME,
    JPEG_LOSSLESS,
    JPEG_LOSSLESS_SV1,
    RLE_LOSSLESS,
)
from hypothesis import given, settings
from hypothesis import strategies as st


def random_pixels(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    bits_allocated: int,
    bits_stored: int,
    signed: bool,
) -> np.ndarray:
    dt = np.dtype(f"<{'i' if signed else 'u'}{max(1, bits_allocated // 8)}")
    if signed:
        lo, hi = -(1 << (bits_stored - 1)), (1 << (bits_stored - 1)) - 1
    else:
        lo, hi = 0, (1 << bits_stored) - 1
    # Smooth ramps plus noise plus runs: exercises every RLE run type and JPEG difference size.
    a = rng.integers(lo, hi, size=shape, dtype=np.int64, endpoint=True)
    if a.size > 8:
        flat = a.reshape(-1)
        flat[: flat.size // 3] = flat[0]
    return a.astype(dt)


def _frames_shape(frames: int, rows: int, cols: int, spp: int) -> tuple[int, ...]:
    return (frames, rows, cols, spp) if spp > 1 else (frames, rows, cols)


@st.composite
def images(draw: st.DrawFn, codec: str) -> tuple[np.ndarray, int, int, int, int]:
    if codec == "rle":
        ba = draw(st.sampled_from([8, 16, 32]))
    else:
        ba = draw(st.sampled_from([8, 16]))
    bs = draw(
        st.integers(2, min(ba, 16)) if codec != "rle" or ba < 32 else st.sampled_from([24, 32])
    )
    signed = draw(st.booleans())
    spp = draw(st.sampled_from([1, 3]))
    if codec == "rle" and ba == 32 and spp == 3:
        spp = 3  # 12 segments: still within RLE's 15
    frames = draw(st.integers(1, 4))
    rows = draw(st.integers(1, 23))
    cols = draw(st.integers(1, 23))
    seed = draw(st.integers(0, 2**32 - 1))
    arr = random_pixels(
        np.random.default_rng(seed), _frames_shape(frames, rows, cols, spp), ba, bs, signed
    )
    return arr, ba, bs, int(signed), spp


def _roundtrip(
    arr: np.ndarray, ba: int, bs: int, pr: int, spp: int, ts: str, predictor: int = 1
) -> None:
    frames, rows, cols = arr.shape[:3]
    image = _core.ImageInfo(rows, cols, spp, ba, bs, pr)
    encoded = _core.encode_frames(arr, image, ts, predictor, None)
    assert len(encoded) == frames
    for k, data in enumerate(encoded):
        got = decode_frame(data, rows, cols, spp, ba, bs, pr, 0, ts)
        assert np.array_equal(got, arr[k]), (ts, ba, bs, pr, spp)


@settings(max_examples=60, deadline=None)
@given(images("rle"))
def test_rle_roundtrip(img: tuple) -> None:
    _roundtrip(*img, RLE_LOSSLESS)


@settings(max_examples=60, deadline=None)
@given(images("jpeg"), st.integers(1, 7))
def test_jpeg_lossless_roundtrip_any_predictor(img: tuple, predictor: int) -> None:
    _roundtrip(*img, JPEG_LOSSLESS, predictor)


@settings(max_examples=30, deadline=None)
@given(images("jpeg"))
def test_jpeg_lossless_sv1_and_deflate_roundtrip(img: tuple) -> None:
    _roundtrip(*img, JPEG_LOSSLESS_SV1)
    _roundtrip(*img, DEFLATED_IMAGE_FRAME)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_one_bit_rle_and_deflate(rows: int, cols: int, frames: int, seed: int) -> None:
    arr = np.random.default_rng(seed).integers(0, 2, size=(frames, rows, cols), dtype=np.uint8)
    _roundtrip(arr, 1, 1, 0, 1, RLE_LOSSLESS)
    _roundtrip(arr, 1, 1, 0, 1, DEFLATED_IMAGE_FRAME)


def test_encode_frame_from_array_and_sv1_predictor_check() -> None:
    arr = np.arange(35, dtype=np.int16).reshape(5, 7) - 17
    data = encode_frame(arr, transfer_syntax=JPEG_LOSSLESS, predictor=7, bits_stored=12)
    assert np.array_equal(decode_frame(data, 5, 7, 1, 16, 12, 1, 0, JPEG_LOSSLESS), arr)
    with pytest.raises(PixelDataError, match="predictor 1"):
        encode_frame(arr, transfer_syntax=JPEG_LOSSLESS_SV1, predictor=3)
    with pytest.raises(PixelDataError, match="cannot encode"):
        encode_frame(arr, transfer_syntax="1.2.840.10008.1.2.4.100")


def test_decode_errors_name_frame_and_offset() -> None:
    arr = np.arange(64, dtype=np.uint16).reshape(8, 8)
    data = bytearray(encode_frame(arr, transfer_syntax=RLE_LOSSLESS))
    data[0] = 7  # segment count
    with pytest.raises(PixelDataError) as info:
        decode_frame(bytes(data), 8, 8, 1, 16, 16, 0, 0, RLE_LOSSLESS)
    assert info.value.frame == 0 and info.value.offset == 0


def make_dataset(arr: np.ndarray, bits_stored: int, pi: str | None = None) -> Dataset:
    """A minimal Secondary Capture data set holding ``arr`` natively."""
    spp = arr.shape[-1] if arr.ndim == 4 or (arr.ndim == 3 and pi in ("RGB", "YBR_FULL")) else 1
    multi = arr.ndim == (4 if spp > 1 else 3)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = dicomfast.uid.generate_uid()
    ds.Modality = "OT"
    ds.SamplesPerPixel = spp
    ds.PhotometricInterpretation = pi or ("RGB" if spp == 3 else "MONOCHROME2")
    if spp > 1:
        ds.PlanarConfiguration = 0
    if multi:
        ds.NumberOfFrames = str(arr.shape[0])
    ds.Rows, ds.Columns = arr.shape[-3:-1] if spp > 1 else arr.shape[-2:]
    ds.BitsAllocated = arr.dtype.itemsize * 8
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if arr.dtype.kind == "i" else 0
    flat = np.ascontiguousarray(arr).reshape(-1).view(np.uint8)
    if arr.dtype.itemsize == 1:
        ds.add_new(0x7FE00010, "OB", flat)
    else:
        ds.add_new(0x7FE00010, "OW", flat.view("<u2"))
    return ds


CASES = [
    ("mono16s12_multi", (3, 33, 17), np.int16, 12, None),
    ("mono8", (1, 31, 9), np.uint8, 8, None),
    ("rgb8_multi", (2, 15, 21, 3), np.uint8, 8, "RGB"),
    ("mono16u16", (1, 40, 40), np.uint16, 16, None),
]


@pytest.mark.parametrize(
    "ts", [RLE_LOSSLESS, JPEG_LOSSLESS_SV1, JPEG_LOSSLESS, DEFLATED_IMAGE_FRAME]
)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0])
def test_compress_write_read_decompress(tmp_path: Path, case: tuple, ts: str) -> None:
    _, shape, dtype, bits, pi = case
    arr = random_pixels(
        np.random.default_rng(1),
        shape,
        np.dtype(dtype).itemsize * 8,
        bits,
        np.dtype(dtype).kind == "i",
    )
    expected = arr if shape[0] > 1 else arr[0]
    ds = make_dataset(arr if shape[0] > 1 else arr[0], bits, pi)
    assert np.array_equal(ds.pixel_array, expected)
    ds.compress(ts, predictor=5 if ts == JPEG_LOSSLESS else 1)
    assert ds.file_meta.TransferSyntaxUID == ts
    assert np.array_equal(ds.pixel_array, expected)
    dicomfast.write(ds, tmp_path / "c.dcm")
    back = dicomfast.read(tmp_path / "c.dcm")
    assert back.transfer_syntax == ts
    assert np.array_equal(back.pixel_array, expected)
    assert np.array_equal(
        np.stack(list(back.iter_frames())), expected.reshape((-1, *back.frame(0).shape))
    )
    back.decompress()
    dicomfast.write(back, tmp_path / "d.dcm")
    plain = dicomfast.read(tmp_path / "d.dcm")
    assert plain.transfer_syntax == "1.2.840.10008.1.2.1"
    assert np.array_equal(plain.pixel_array, expected)


DCMTK = {RLE_LOSSLESS: "dcmdrle", JPEG_LOSSLESS_SV1: "dcmdjpeg", JPEG_LOSSLESS: "dcmdjpeg"}


@pytest.mark.dcmtk
@pytest.mark.parametrize("ts", sorted(DCMTK))
@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0])
def test_dcmtk_decodes_what_we_encode(tmp_path: Path, case: tuple, ts: str) -> None:
    tool = DCMTK[ts]
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not installed")
    _, shape, dtype, bits, pi = case
    arr = random_pixels(
        np.random.default_rng(2),
        shape,
        np.dtype(dtype).itemsize * 8,
        bits,
        np.dtype(dtype).kind == "i",
    )
    expected = arr if shape[0] > 1 else arr[0]
    ds = make_dataset(expected, bits, pi).compress(ts, predictor=3 if ts == JPEG_LOSSLESS else 1)
    dicomfast.write(ds, tmp_path / "c.dcm")
    r = subprocess.run(
        [tool, str(tmp_path / "c.dcm"), str(tmp_path / "d.dcm")], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    out = dicomfast.read(tmp_path / "d.dcm")
    assert out.transfer_syntax in ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2")
    assert np.array_equal(out.pixel_array, expected)


def test_as_rgb_converts_ybr_full() -> None:
    rgb = random_pixels(np.random.default_rng(3), (12, 10, 3), 8, 8, False)
    from dicomfast.pixels.color import rgb_to_ybr_full

    ds = make_dataset(rgb_to_ybr_full(rgb), 8, "YBR_FULL")
    back = ds.pixel_array_as(as_rgb=True)
    assert np.abs(back.astype(int) - rgb.astype(int)).max() <= 2
    assert np.array_equal(ds.pixel_array, rgb_to_ybr_full(rgb))
