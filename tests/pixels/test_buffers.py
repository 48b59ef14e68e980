"""Pixel data without extra copies: encoding straight into one encapsulated value
(``encapsulated_value``, a caller's buffer through ``allocate``), decoding into a caller's
array (``out=``), and native pixels viewed in place when decoding would change nothing."""

from __future__ import annotations

import dicomfast
import numpy as np
import pytest
from corpus_data import CORPUS
from dicomfast.errors import PixelDataError
from dicomfast.pixels import decode_frames
from dicomfast.pixels.decode import native_frames_view
from dicomfast.pixels.encode import (
    compress,
    decompress,
    encapsulated_value,
    encode_frames,
    needs_decoding,
)
from dicomfast.pixels.frames import encapsulate
from dicomfast.pixels.info import (
    DEFLATED_IMAGE_FRAME,
    JPEG_LOSSLESS,
    JPEG_LOSSLESS_SV1,
    RLE_LOSSLESS,
    PixelInfo,
    pixel_info,
)

CODECS = [RLE_LOSSLESS, JPEG_LOSSLESS, JPEG_LOSSLESS_SV1, DEFLATED_IMAGE_FRAME]


def _info(arr: np.ndarray, spp: int, bits_stored: int | None = None) -> PixelInfo:
    frames, rows, cols = arr.shape[:3]
    ba = 8 * arr.dtype.itemsize
    return PixelInfo(
        rows,
        cols,
        spp,
        ba,
        bits_stored or ba,
        1 if arr.dtype.kind == "i" else 0,
        0,
        frames,
        "RGB" if spp == 3 else "MONOCHROME2",
        RLE_LOSSLESS,
    )


def _images() -> list[tuple[np.ndarray, int]]:
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, (3, 17, 33, 3), dtype=np.uint8)
    rgb[1] = 200  # a frame of runs next to frames of noise
    mono = rng.integers(-2000, 3000, (2, 31, 64), dtype=np.int64).astype("<i2")
    one = rng.integers(0, 4096, (1, 7, 5), dtype=np.uint16)
    return [(rgb, 3), (mono, 1), (one, 1)]


@pytest.mark.parametrize("ts", CODECS)
@pytest.mark.parametrize("image", range(3))
def test_encapsulated_value_is_the_encapsulated_frames(ts: str, image: int) -> None:
    arr, spp = _images()[image]
    info = _info(arr, spp)
    want = encapsulate(encode_frames(arr, info, ts, threads=1))
    for threads in (1, 2):
        value = encapsulated_value(arr, info, ts, threads=threads)
        assert value.dtype == np.uint8
        assert value.tobytes() == want


def test_encapsulated_value_fills_the_buffer_allocate_gives() -> None:
    arr, spp = _images()[0]
    info = _info(arr, spp)
    big = np.full(1 << 20, 0xAB, np.uint8)
    sizes = []

    def allocate(n: int) -> np.ndarray:
        sizes.append(n)
        return big[:n]

    value = encapsulated_value(arr, info, RLE_LOSSLESS, allocate=allocate)
    assert sizes == [value.nbytes]
    assert np.shares_memory(value, big)
    assert value.tobytes() == encapsulate(encode_frames(arr, info, RLE_LOSSLESS))
    assert big[value.nbytes] == 0xAB  # nothing written past the value


def test_allocate_must_give_the_size_asked_for() -> None:
    arr, spp = _images()[1]
    info = _info(arr, spp)
    with pytest.raises(PixelDataError, match="allocate"):
        encapsulated_value(arr, info, RLE_LOSSLESS, allocate=lambda n: np.empty(n + 1, np.uint8))
    with pytest.raises(PixelDataError, match="writable"):
        encapsulated_value(
            arr, info, RLE_LOSSLESS, allocate=lambda n: np.frombuffer(bytes(n), np.uint8)
        )


def test_compress_with_allocate_then_decompress_into_out(tmp_path) -> None:  # noqa: ANN001
    ds = dicomfast.read(_rgb_rle_path())
    want = ds.pixel_array
    native = decompress(ds)
    info = pixel_info(native)
    buf = np.empty(1 << 22, np.uint8)
    compress(native, JPEG_LOSSLESS_SV1, allocate=lambda n: buf[:n], info=info)
    assert np.shares_memory(native.PixelData, buf)
    path = tmp_path / "sv1.dcm"
    dicomfast.write(native, path)
    back = dicomfast.read(path)
    info = pixel_info(back)
    out = np.empty((info.number_of_frames, *info.frame_shape), info.dtype)
    decompress(back, out=out)
    assert np.shares_memory(back.PixelData, out)
    np.testing.assert_array_equal(out.reshape(want.shape), want)
    np.testing.assert_array_equal(back.pixel_array, want)


def _rgb_rle_path() -> str:
    """16-bit RGB, RLE Lossless, 2 frames."""
    p = CORPUS / "public/pydicom/SC_rgb_rle_16bit_2frame.dcm"
    if not p.exists():
        pytest.skip("corpus not found")
    return str(p)


def test_decode_frames_into_out() -> None:
    ds = dicomfast.read(_rgb_rle_path())
    info = pixel_info(ds)
    out = np.full((info.number_of_frames, *info.frame_shape), 7, info.dtype)
    got = decode_frames(ds, out=out)
    assert got is out
    np.testing.assert_array_equal(out, decode_frames(ds))
    with pytest.raises(ValueError, match="shape"):
        decode_frames(ds, out=out[:1])
    with pytest.raises(ValueError, match="not int16"):
        decode_frames(ds, out=np.empty(out.shape, np.int16))
    with pytest.raises(ValueError, match="C-contiguous"):
        decode_frames(ds, out=np.empty(out.shape[::-1], info.dtype).T)


def test_native_frames_view_only_when_decoding_changes_nothing() -> None:
    ds = decompress(dicomfast.read(_rgb_rle_path()))
    view = native_frames_view(ds)
    assert view is not None and not view.flags.writeable
    assert np.shares_memory(view, ds.PixelData)
    np.testing.assert_array_equal(view, decode_frames(ds))
    ds.BitsStored = 12  # the decoded array would mask the unused bits
    assert native_frames_view(ds) is None
    ds.BitsStored = 16
    assert native_frames_view(decompress(ds)) is not None
    compress(ds, RLE_LOSSLESS)
    assert native_frames_view(ds) is None  # encapsulated


def test_needs_decoding() -> None:
    ds = dicomfast.read(_rgb_rle_path())
    assert needs_decoding(pixel_info(ds))
    decompress(ds)
    assert not needs_decoding(pixel_info(ds))
