"""The library codecs' encoders (issue 12): JPEG-LS (CharLS), JPEG 2000 (OpenJPEG) and
JPEG baseline/extended (libjpeg-turbo): round trips through our decoders (Hypothesis),
other toolkits (DCMTK, OpenJPEG's tools) decoding what we write, and lossy results
marked as PS3.3 C.7.6.1.1.5 says."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import dicomfast
import numpy as np
import pytest
from dicomfast import syntaxes
from dicomfast import uid as uids
from dicomfast.errors import PixelDataError
from dicomfast.pixels import decode_frame, encode_frame
from hypothesis import given, settings
from hypothesis import strategies as st
from test_roundtrip import make_dataset, random_pixels

LS, LS_NEAR = uids.JPEGLSLossless, uids.JPEGLSNearLossless


def _max_error(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(np.int64) - b.astype(np.int64)).max())


@st.composite
def ls_images(draw: st.DrawFn) -> tuple[np.ndarray, int, int]:
    ba = draw(st.sampled_from([8, 16]))
    bs = draw(st.integers(2, ba))
    signed = draw(st.booleans())
    spp = draw(st.sampled_from([1, 3]))
    rows, cols = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    shape = (rows, cols, spp) if spp > 1 else (rows, cols)
    arr = random_pixels(np.random.default_rng(draw(st.integers(0, 2**32))), shape, ba, bs, signed)
    return arr, bs, spp


@settings(max_examples=80, deadline=None)
@given(ls_images())
def test_jpeg_ls_lossless_round_trip(case: tuple[np.ndarray, int, int]) -> None:
    arr, bs, spp = case
    enc = encode_frame(arr, samples_per_pixel=spp, bits_stored=bs, transfer_syntax=LS)
    ba, signed = arr.dtype.itemsize * 8, int(arr.dtype.kind == "i")
    out = decode_frame(enc, arr.shape[0], arr.shape[1], spp, ba, bs, signed, 0, LS)
    assert np.array_equal(out.reshape(arr.shape), arr)


@settings(max_examples=80, deadline=None)
@given(ls_images(), st.integers(1, 10))
def test_jpeg_ls_near_lossless_within_max_error(
    case: tuple[np.ndarray, int, int], near: int
) -> None:
    arr, bs, spp = case
    near = min(near, (1 << bs) // 2 - 1) or 1
    signed = arr.dtype.kind == "i"
    if signed:
        # The ends of the signed range are refused (they meet in the coded range).
        lo, hi = -(1 << (bs - 1)) + near, (1 << (bs - 1)) - 1 - near
        if lo > hi:
            return
        arr = np.clip(arr, lo, hi).astype(arr.dtype)
    enc = encode_frame(
        arr, samples_per_pixel=spp, bits_stored=bs, transfer_syntax=LS_NEAR, max_error=near
    )
    ba = arr.dtype.itemsize * 8
    out = decode_frame(enc, arr.shape[0], arr.shape[1], spp, ba, bs, int(signed), 0, LS_NEAR)
    assert _max_error(out.reshape(arr.shape), arr) <= near


def test_jpeg_ls_near_lossless_refuses_signed_extremes() -> None:
    arr = np.array([[-2048, 0], [5, 2047]], np.int16)
    with pytest.raises(PixelDataError, match="near-lossless"):
        encode_frame(arr, bits_stored=12, transfer_syntax=LS_NEAR, max_error=2)
    # Lossless codes them.
    enc = encode_frame(arr, bits_stored=12, transfer_syntax=LS)
    assert np.array_equal(decode_frame(enc, 2, 2, 1, 16, 12, 1, 0, LS), arr)


def test_registry_says_jpeg_ls_encodes() -> None:
    assert {LS, LS_NEAR} <= syntaxes.ENCODABLE


@pytest.mark.dcmtk
@pytest.mark.parametrize(
    ("shape", "dtype", "bits"),
    [
        ((64, 48), "<u2", 12),
        ((64, 48), "<i2", 16),
        ((2, 31, 17, 3), "u1", 8),
        ((40, 30), "u1", 7),
        ((40, 30), "u1", 2),
        ((9, 30), "<u2", 10),
        ((9, 30), "<u2", 5),
    ],
)
def test_dcmtk_decodes_our_jpeg_ls_exactly(
    tmp_path: Path, shape: tuple[int, ...], dtype: str, bits: int
) -> None:
    if shutil.which("dcmdjpls") is None:
        pytest.skip("dcmdjpls not installed")
    dt = np.dtype(dtype)
    arr = random_pixels(
        np.random.default_rng(5), shape, dt.itemsize * 8, bits, dt.kind == "i"
    ).astype(dt)
    ds = make_dataset(arr, bits, "RGB" if len(shape) == 4 else None).compress("jpeg-ls")
    assert ds.file_meta.TransferSyntaxUID == LS and "LossyImageCompression" not in ds
    dicomfast.write(ds, tmp_path / "c.dcm")
    r = subprocess.run(
        ["dcmdjpls", str(tmp_path / "c.dcm"), str(tmp_path / "d.dcm")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    out = dicomfast.read(tmp_path / "d.dcm")
    assert np.array_equal(out.pixel_array, arr)


def test_lossy_marking_and_new_uid() -> None:
    arr = random_pixels(np.random.default_rng(7), (32, 32), 16, 12, False)
    ds = make_dataset(arr, 12)
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionRatio = "3.5"
    ds.LossyImageCompressionMethod = "ISO_10918_1"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    old = ds.SOPInstanceUID
    ds.compress("jpeg-ls-near", max_error=3)
    assert ds.file_meta.TransferSyntaxUID == LS_NEAR
    assert ds.LossyImageCompression == "01"
    assert list(ds.LossyImageCompressionMethod) == ["ISO_10918_1", "ISO_14495_1"]
    ratios = [float(x) for x in ds.LossyImageCompressionRatio]
    assert ratios[0] == 3.5 and ratios[1] > 1
    assert ds.SOPInstanceUID != old
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert _max_error(ds.pixel_array, arr) <= 3
    # keep_uid keeps it; a lossless syntax marks nothing.
    ds2 = make_dataset(arr, 12)
    uid = ds2.SOPInstanceUID
    ds2.compress(LS_NEAR, keep_uid=True)
    assert ds2.SOPInstanceUID == uid and list(ds2.LossyImageCompressionMethod) == ["ISO_14495_1"]
    assert _max_error(ds2.pixel_array, arr) <= 2  # the default max_error
    ds3 = make_dataset(arr, 12).compress("1.2.840.10008.1.2.4.80")
    assert "LossyImageCompression" not in ds3 and ds3.SOPInstanceUID != old
    assert np.array_equal(ds3.pixel_array, arr)


J2K, J2K_LOSSY = uids.JPEG2000Lossless, uids.JPEG2000


@st.composite
def j2k_images(draw: st.DrawFn) -> tuple[np.ndarray, int, int]:
    ba = draw(st.sampled_from([8, 16]))
    bs = draw(st.integers(1, ba))
    spp = draw(st.sampled_from([1, 3]))
    rows, cols = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    shape = (rows, cols, spp) if spp > 1 else (rows, cols)
    seed = draw(st.integers(0, 2**32))
    arr = random_pixels(np.random.default_rng(seed), shape, ba, bs, draw(st.booleans()))
    return arr, bs, spp


@settings(max_examples=80, deadline=None)
@given(j2k_images())
def test_j2k_lossless_round_trip(case: tuple[np.ndarray, int, int]) -> None:
    arr, bs, spp = case
    enc = encode_frame(arr, samples_per_pixel=spp, bits_stored=bs, transfer_syntax=J2K)
    ba, signed = arr.dtype.itemsize * 8, int(arr.dtype.kind == "i")
    out = decode_frame(enc, arr.shape[0], arr.shape[1], spp, ba, bs, signed, 0, J2K)
    assert np.array_equal(out.reshape(arr.shape), arr)


def _smooth(shape: tuple[int, ...], bits: int, dtype: str) -> np.ndarray:
    """A smooth image (what lossy coding is for): a sum of slow sinusoids plus little noise."""
    rng = np.random.default_rng(11)
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]]
    base = np.sin(x / 9.0) + np.cos(y / 13.0) + np.sin((x + y) / 21.0)
    top = (1 << bits) - 1
    img = (base - base.min()) / (base.max() - base.min()) * top * 0.9 + top * 0.05
    if len(shape) == 3:
        img = np.stack([img, img[::-1], img[:, ::-1]], axis=-1)
    img = img + rng.normal(0, top / 400, img.shape)
    return np.clip(np.round(img), 0, top).astype(dtype)


def test_j2k_lossy_by_ratio() -> None:
    arr = _smooth((96, 80), 12, "<u2")
    ds = make_dataset(arr, 12).compress("j2k-lossy", ratio=20)
    assert ds.file_meta.TransferSyntaxUID == J2K_LOSSY
    assert list(ds.LossyImageCompressionMethod) == ["ISO_15444_1"]
    assert float(ds.LossyImageCompressionRatio[-1]) >= 15
    err = np.abs(ds.pixel_array.astype(int) - arr.astype(int))
    assert err.mean() < 40 and err.max() < 400  # of 4095


@pytest.mark.parametrize(
    ("shape", "dtype", "bits"),
    [((64, 48), "<u2", 12), ((64, 48), "<i2", 16), ((31, 17, 3), "u1", 8), ((40, 30), "u1", 5)],
)
def test_other_decoders_read_our_j2k_exactly(
    tmp_path: Path, shape: tuple[int, ...], dtype: str, bits: int
) -> None:
    """OpenJPEG's opj_decompress (Debian libopenjp2-tools) decodes our codestream to the
    same samples; GDCM (gdcmconv --raw) decodes the whole file to the same pixels."""
    dt = np.dtype(dtype)
    arr = random_pixels(np.random.default_rng(9), shape, dt.itemsize * 8, bits, dt.kind == "i")
    arr = arr.astype(dt)
    ds = make_dataset(arr, bits, "RGB" if len(shape) == 3 else None).compress("j2k")
    assert ds.file_meta.TransferSyntaxUID == J2K and "LossyImageCompression" not in ds
    np.testing.assert_array_equal(ds.pixel_array, arr)
    if len(shape) == 3:  # RGB: coded with the RCT (PS3.5 8.2.4), RGB again once decoded
        assert ds.PhotometricInterpretation == "YBR_RCT"
        plain = make_dataset(arr, bits, "RGB").compress("j2k").decompress()
        assert plain.PhotometricInterpretation == "RGB"
        np.testing.assert_array_equal(plain.pixel_array, arr)
        again = make_dataset(arr, bits, "RGB").compress("j2k").compress("rle")
        assert again.PhotometricInterpretation == "RGB"
        np.testing.assert_array_equal(again.pixel_array, arr)
    ran = False
    if shutil.which("opj_decompress"):
        frame = encode_frame(
            arr,
            samples_per_pixel=3 if len(shape) == 3 else 1,
            bits_stored=bits,
            transfer_syntax=J2K,
        )
        (tmp_path / "f.j2k").write_bytes(frame)
        r = subprocess.run(
            ["opj_decompress", "-i", str(tmp_path / "f.j2k"), "-o", str(tmp_path / "f.rawl")],
            capture_output=True,
            text=True,
        )
        assert r.returncode == 0, r.stdout + r.stderr
        raw = (tmp_path / "f.rawl").read_bytes()
        # .rawl: component planes one after the other, little-endian 16-bit above 8 bits.
        spp = 3 if len(shape) == 3 else 1
        width = "<i2" if dt.kind == "i" else "<u2"
        width = ("i1" if dt.kind == "i" else "u1") if bits <= 8 else width
        planes = np.frombuffer(raw, width).reshape(spp, shape[0], shape[1])
        got = np.moveaxis(planes, 0, -1) if spp > 1 else planes[0]
        np.testing.assert_array_equal(got.astype(np.int64), arr.astype(np.int64))
        ran = True
    if shutil.which("gdcmconv"):
        dicomfast.write(ds, tmp_path / "c.dcm")
        r = subprocess.run(
            ["gdcmconv", "--raw", str(tmp_path / "c.dcm"), str(tmp_path / "d.dcm")],
            capture_output=True,
            text=True,
        )
        assert r.returncode == 0, r.stdout + r.stderr
        np.testing.assert_array_equal(dicomfast.read(tmp_path / "d.dcm").pixel_array, arr)
        ran = True
    if not ran:
        pytest.skip("neither opj_decompress nor gdcmconv installed")


JPEG, JPEG12 = uids.JPEGBaseline8Bit, uids.JPEGExtended12Bit


def _dcmdjpeg(ds: dicomfast.Dataset, tmp_path: Path) -> np.ndarray:
    """``ds`` written as ``c.dcm`` and decoded by DCMTK's ``dcmdjpeg``: its pixels."""
    dicomfast.write(ds, tmp_path / "c.dcm")
    # +cn: no colour conversion, as our decoder (samples as coded).
    r = subprocess.run(
        ["dcmdjpeg", "+cn", str(tmp_path / "c.dcm"), str(tmp_path / "d.dcm")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    return dicomfast.read(tmp_path / "d.dcm").pixel_array


@pytest.mark.dcmtk
@pytest.mark.parametrize(
    ("name", "shape", "dtype", "bits", "bound"),
    [
        # quality 90: mean error within 1.5% of the range, max within 10%.
        ("jpeg", (64, 48), "u1", 8, 255),
        ("jpeg", (40, 56, 3), "u1", 8, 255),
        ("jpeg12", (64, 48), "<u2", 12, 4095),
    ],
)
def test_dcmtk_decodes_our_jpeg(
    tmp_path: Path, name: str, shape: tuple[int, ...], dtype: str, bits: int, bound: int
) -> None:
    if shutil.which("dcmdjpeg") is None:
        pytest.skip("dcmdjpeg not installed")
    arr = _smooth(shape, bits, dtype)
    ds = make_dataset(arr, bits, "RGB" if len(shape) == 3 else None).compress(name, quality=90)
    assert ds.file_meta.TransferSyntaxUID == (JPEG if name == "jpeg" else JPEG12)
    assert list(ds.LossyImageCompressionMethod) == ["ISO_10918_1"]
    ours = ds.pixel_array
    theirs = _dcmdjpeg(ds, tmp_path)
    np.testing.assert_array_equal(ours, theirs)
    err = np.abs(theirs.astype(int) - arr.astype(int))
    assert err.mean() <= 0.015 * bound and err.max() <= 0.10 * bound, (err.mean(), err.max())


@pytest.mark.dcmtk
@pytest.mark.parametrize("name", ["MR1_JPLY", "RG3_JPLY", "XA1_JPLY"])
def test_real_12_bit_jpeg_decodes_to_dcmtks_samples(tmp_path: Path, name: str) -> None:
    """WG-04's JPEG Extended 12-bit grey files (MR, CR, XA; 12 and 10 bits stored), which
    libjpeg-turbo decodes with our IDCT: DCMTK's ``dcmdjpeg`` (its own IJG 12-bit code)
    gives the same samples, every one."""
    from corpus_data import corpus_path

    path = corpus_path(f"public/wg04/JPLY/{name}")
    if not path.exists():
        pytest.skip("wg04 files not in the corpus")
    if shutil.which("dcmdjpeg") is None:
        pytest.skip("dcmdjpeg not installed")
    ds = dicomfast.read(path)
    assert ds.file_meta.TransferSyntaxUID == JPEG12 and ds.SamplesPerPixel == 1
    np.testing.assert_array_equal(ds.pixel_array, _dcmdjpeg(ds, tmp_path))


@pytest.mark.dcmtk
@pytest.mark.parametrize("shape", [(512, 512), (486, 757, 3)])
def test_a_lone_jpeg_frame_on_every_core_decodes_as_on_one(
    tmp_path: Path, shape: tuple[int, ...]
) -> None:
    """A lone 8-bit frame compressed at the default threads is coded in bands, one per
    core, joined with restart markers: DCMTK and pydicom decode it to the samples our
    one-thread encoding gives, and so do we."""
    if shutil.which("dcmdjpeg") is None:
        pytest.skip("dcmdjpeg not installed")
    import pydicom

    arr = _smooth(shape, 8, "u1")
    pi = "RGB" if len(shape) == 3 else None
    one = make_dataset(arr, 8, pi).compress("jpeg", threads=1, quality=90)
    every = make_dataset(arr, 8, pi).compress("jpeg", quality=90)
    dri = b"\xff\xdd\x00\x04"  # a restart interval (the Pixel Data's delimiter is FFFE,E0DD)
    assert (dri in bytes(every.PixelData)) == ((os.cpu_count() or 1) > 1)
    assert dri not in bytes(one.PixelData)
    expected = one.pixel_array
    np.testing.assert_array_equal(every.pixel_array, expected)
    np.testing.assert_array_equal(_dcmdjpeg(every, tmp_path), expected)
    np.testing.assert_array_equal(pydicom.dcmread(tmp_path / "c.dcm").pixel_array, expected)


def test_a_damaged_jpeg_frame_does_not_break_the_next(tmp_path: Path) -> None:
    """Frames decoded one after another on one thread: a damaged one is an error (or
    wrong samples) for itself only; the good frame after it decodes as before. (A bogus
    Huffman table once stayed in the thread's libjpeg-turbo handle and failed every
    later frame.)"""
    good = make_dataset(_smooth((64, 80, 3), 8, "u1"), 8, "RGB").compress("jpeg", threads=1)
    expected = good.pixel_array_as(threads=1)
    dicomfast.write(good, tmp_path / "good.dcm")
    raw = (tmp_path / "good.dcm").read_bytes()
    start = raw.index(b"\xff\xd8\xff")  # the frame's SOI
    rng = np.random.default_rng(5)
    failed = 0
    for _ in range(60):
        damaged = bytearray(raw)
        for at in rng.integers(start + 2, start + 600, 3):
            damaged[at] = int(rng.integers(256))
        (tmp_path / "bad.dcm").write_bytes(bytes(damaged))
        try:
            dicomfast.read(tmp_path / "bad.dcm").pixel_array_as(threads=1)
        except PixelDataError:
            failed += 1
        again = dicomfast.read(tmp_path / "good.dcm").pixel_array_as(threads=1)
        np.testing.assert_array_equal(again, expected)
    assert failed > 5, failed


def _segments_removed(frame: bytes, marker: int) -> bytes:
    """``frame`` (a JPEG stream) without its ``marker`` segments before the first scan."""
    out, at = bytearray(frame[:2]), 2
    while frame[at + 1] != 0xDA:
        n = int.from_bytes(frame[at + 2 : at + 4], "big")
        if frame[at + 1] != marker:
            out += frame[at : at + 2 + n]
        at += 2 + n
    return bytes(out + frame[at:])


def test_a_jpeg_frame_without_its_tables_decodes_alike_whatever_came_before() -> None:
    """libjpeg-turbo keeps the tables of the last image it decoded: a frame that lacks its
    own must not be decoded with another frame's. Without its quantization table it is an
    error; without its Huffman tables the standard ones are used (those our 8-bit encoder
    codes with, so its samples come back), before and after a 12-bit frame whose tables
    differ. (Before, both took the 12-bit frame's tables: wrong samples, no error.)"""
    base, ext = "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51"
    eight = encode_frame(_smooth((48, 64), 8, "u1"), bits_stored=8, transfer_syntax=base)
    twelve_arr = _smooth((48, 64), 12, "<u2")
    twelve = encode_frame(twelve_arr, bits_stored=12, transfer_syntax=ext, quality=40)
    expected = decode_frame(eight, 48, 64, 1, 8, 8, 0, 0, base)
    no_dht, no_dqt = _segments_removed(eight, 0xC4), _segments_removed(eight, 0xDB)
    assert len(no_dht) < len(eight) and len(no_dqt) < len(eight)
    for _ in range(3):
        decode_frame(twelve, 48, 64, 1, 16, 12, 0, 0, ext)
        np.testing.assert_array_equal(decode_frame(no_dht, 48, 64, 1, 8, 8, 0, 0, base), expected)
        decode_frame(twelve, 48, 64, 1, 16, 12, 0, 0, ext)
        with pytest.raises(PixelDataError, match="Quantization table"):
            decode_frame(no_dqt, 48, 64, 1, 8, 8, 0, 0, base)


def test_a_harmless_jpeg_warning_hides_no_damage() -> None:
    """libjpeg-turbo reports an image's first warning only. A sequential scan with Se 0
    (WG04's JPLY files) decodes as 0-63, but a scan cut short after it is an error, not
    invented rows (before, that warning hid the cut); padding before EOI decodes."""
    base = "1.2.840.10008.1.2.4.50"
    frame = encode_frame(_smooth((64, 64), 8, "u1"), bits_stored=8, transfer_syntax=base)
    expected = decode_frame(frame, 64, 64, 1, 8, 8, 0, 0, base)
    sos = frame.index(b"\xff\xda")
    se = sos + 2 + 2 + 1 + 2 + 1  # marker, length, Ns, one component, Ss: then Se
    assert frame[se] == 63
    se0 = bytearray(frame)
    se0[se] = 0
    np.testing.assert_array_equal(decode_frame(bytes(se0), 64, 64, 1, 8, 8, 0, 0, base), expected)
    eoi = frame.rindex(b"\xff\xd9")
    cut = bytes(se0[: (se + eoi) // 2]) + bytes(se0[eoi - 40 :])
    with pytest.raises(PixelDataError):
        decode_frame(cut, 64, 64, 1, 8, 8, 0, 0, base)
    padded = frame[:eoi] + b"\0\0" + frame[eoi:]
    np.testing.assert_array_equal(decode_frame(padded, 64, 64, 1, 8, 8, 0, 0, base), expected)


def test_a_420_jpeg_with_restart_markers_decodes_alike_on_any_threads(tmp_path: Path) -> None:
    """A YCbCr 4:2:0 frame with a restart marker every MCU row (Pillow's libjpeg-turbo):
    its chroma is upsampled across MCU rows, so its intervals are not decoded in bands of
    their own (a band's edge rows differed from the whole frame's before): one thread and
    two give the same samples, and they are the YCbCr imagecodecs decodes."""
    pil = pytest.importorskip("PIL.Image")
    import io

    y, x = np.mgrid[0:256, 0:256]  # large enough to be decoded in bands
    smooth = (np.sin(x / 7) + np.cos(y / 5) + 2) * 60
    rgb = np.stack([smooth, smooth[::-1], 240 - smooth], -1).astype(np.uint8)
    out = io.BytesIO()
    pil.fromarray(rgb).save(out, "JPEG", quality=80, subsampling=2, restart_marker_rows=1)
    jpeg = out.getvalue()
    if b"\xff\xdd" not in jpeg:
        pytest.skip("this Pillow writes no restart markers")
    ds = make_dataset(rgb, 8, "RGB")
    from dicomfast.pixels.encode import set_encapsulated_pixels
    from dicomfast.pixels.frames import encapsulate
    from dicomfast.pixels.info import pixel_info

    set_encapsulated_pixels(ds, encapsulate([jpeg]), pixel_info(ds), uids.JPEGBaseline8Bit)
    ds.PhotometricInterpretation = "YBR_FULL_422"
    ds.save(tmp_path / "ycbcr420.dcm")
    one = dicomfast.read(tmp_path / "ycbcr420.dcm").pixel_array_as(threads=1)
    for threads in (2, 3):  # read from the file: its lone frame's intervals on the threads
        two = dicomfast.read(tmp_path / "ycbcr420.dcm").pixel_array_as(threads=threads)
        np.testing.assert_array_equal(two, one)
    imagecodecs = pytest.importorskip("imagecodecs")
    theirs = imagecodecs.jpeg8_decode(jpeg, colorspace="ycbcr", outcolorspace="ycbcr")
    np.testing.assert_array_equal(one, theirs)


def test_lossy_only_when_asked() -> None:
    """A lossless name or UID never gives a lossy result, whatever settings come along."""
    arr = _smooth((32, 32), 12, "<u2")
    for name in ("jpeg-ls", "j2k", "rle", "jpegll"):
        ds = make_dataset(arr, 12).compress(name, quality=5, max_error=9, ratio=50)
        assert "LossyImageCompression" not in ds
        np.testing.assert_array_equal(ds.pixel_array, arr)
    for u in (LS, J2K):  # the codec itself, given lossy settings
        enc = _core_encode(arr, u)
        np.testing.assert_array_equal(decode_frame(enc, 32, 32, 1, 16, 12, 0, 0, u), arr)


def _core_encode(arr: np.ndarray, ts: str) -> bytes:
    from dicomfast import _core

    image = _core.ImageInfo(arr.shape[0], arr.shape[1], 1, 16, 12, 0)
    return bytes(_core.encode_frame(arr, image, ts, 1, quality=5, max_error=9, ratio=50))


def test_jpeg_baseline_holds_8_bit_samples_only() -> None:
    """PS3.5 8.2.1: JPEG Baseline (Process 1) codes 8-bit samples; 9-12 bits need JPEG
    Extended (4.51).  A 12-bit image asked for as ``jpeg`` is refused, naming the way
    (it was written with 12-bit precision under the Baseline UID)."""
    arr = _smooth((32, 32), 12, "<u2")
    ds = make_dataset(arr, 12)
    with pytest.raises(PixelDataError, match="JPEG Baseline .* 8-bit samples.*JPEG Extended"):
        ds.compress("jpeg")
    assert ds.file_meta.TransferSyntaxUID == uids.ExplicitVRLittleEndian  # left as it was
    out = make_dataset(arr, 12).compress("jpeg12", quality=95)
    assert out.file_meta.TransferSyntaxUID == uids.JPEGExtended12Bit
    eight = _smooth((32, 32), 8, "u1")
    assert make_dataset(eight, 8).compress("jpeg").file_meta.TransferSyntaxUID == (
        uids.JPEGBaseline8Bit
    )


def _sof_precision(frame: bytes) -> int:
    """The sample precision P of a JPEG frame's SOF (T.81 B.2.2)."""
    i = 2
    while i + 4 <= len(frame):
        assert frame[i] == 0xFF, i
        marker, length = frame[i + 1], int.from_bytes(frame[i + 2 : i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return frame[i + 4]
        i += 2 + length
    raise AssertionError("no SOF")


@pytest.mark.parametrize(
    ("name", "dtype", "bits", "precision", "pi"),
    [
        ("jpeg", "u1", 6, 8, None),
        ("jpeg", "u1", 7, 8, "RGB"),
        ("jpeg", "u1", 8, 8, None),
        ("jpeg12", "<u2", 10, 12, None),
        ("jpeg12", "<u2", 11, 12, None),
        ("jpeg12", "<u2", 12, 12, None),
    ],
)
def test_lossy_jpeg_overshoot_is_not_wrapped_past_bits_stored(
    tmp_path: Path, name: str, dtype: str, bits: int, precision: int, pi: str | None
) -> None:
    """Lossy JPEG codes at precision 8 or 12: samples decoded from a white edge of a 6-bit
    (or 10-bit) image overshoot 63 (1023). With Bits Stored left at 6, a reader masks them
    (PS3.5 8.1.1, as pydicom does) to 0-2: white turned black (found by random runs of
    our encoder against libjpeg-turbo, 2026-12-08). Bits Stored becomes the stream's
    precision, as DCMTK's dcmcjpeg sets it; the samples keep their values."""
    top = (1 << bits) - 1
    y, x = np.mgrid[0:48, 0:64]
    arr = np.where(((x // 5) + (y // 7)) % 2 == 0, top, 0).astype(dtype)
    if pi == "RGB":
        arr = np.stack([arr, arr[:, ::-1], arr[::-1]], -1)
    ds = make_dataset(arr, bits, pi).compress(name, quality=90)
    assert ds.BitsStored == precision and ds.HighBit == precision - 1
    path = tmp_path / "lossy.dcm"
    dicomfast.write(ds, path)
    import pydicom
    from pydicom.encaps import generate_frames

    theirs = pydicom.dcmread(path)
    frame = next(generate_frames(theirs.PixelData, number_of_frames=1))
    assert _sof_precision(frame) == precision  # the rule in encode.coded_bits_stored
    ours = dicomfast.read(path).pixel_array.astype(int)
    near_top = arr.astype(int) == top
    # every white sample decodes near white (no wrap to black), every black near black
    assert ours[near_top].min() > top // 2, ours[near_top].min()
    assert ours[~near_top].max() < top // 2, ours[~near_top].max()
    if bits < precision:
        assert ours.max() > top  # the overshoot is there, kept, within Bits Stored
    assert ours.max() < 1 << precision
    # pydicom (its 12-bit plugin's IDCT rounds otherwise: within 4) reads no wrap either
    assert np.abs(theirs.pixel_array.astype(int) - ours).max() <= (0 if bits <= 8 else 4)
    if shutil.which("dcmdjpeg"):
        np.testing.assert_array_equal(_dcmdjpeg(ds, tmp_path), ours)


def test_jpeg_ls_near_lossless_default_fits_two_bit_samples() -> None:
    """NEAR is at most MAXVAL / 2 (T.87 C.2.4.1.1): 1 for 2-bit samples. The default of 2
    was refused for them (found by random runs of the lossy encoders, 2026-12-08); asked
    for explicitly, it still is."""
    arr = (np.arange(40 * 30).reshape(40, 30) % 4).astype("u1")
    ds = make_dataset(arr, 2).compress("jpeg-ls-near")
    assert ds.file_meta.TransferSyntaxUID == uids.JPEGLSNearLossless
    assert np.abs(ds.pixel_array.astype(int) - arr).max() <= 1
    with pytest.raises(PixelDataError, match="NEAR 2 is above 1"):
        make_dataset(arr, 2).compress("jpeg-ls-near", max_error=2)
    # the same default where frames are encoded without a data set
    frame = encode_frame(arr, bits_stored=2, transfer_syntax=uids.JPEGLSNearLossless)
    back = decode_frame(frame, 40, 30, 1, 8, 2, 0, 0, transfer_syntax=uids.JPEGLSNearLossless)
    assert np.abs(back.astype(int) - arr).max() <= 1
    eight = make_dataset((arr * 60).astype("u1"), 8).compress("jpeg-ls-near")
    assert np.abs(eight.pixel_array.astype(int) - arr * 60).max() <= 2
