"""Samples of JPEG-LS and JPEG 2000 frames whose codestream's precision is not Bits Stored,
as pydicom 3 gives them (issue 12: "pixel semantics as pydicom 3 gives them").

pydicom keeps such samples as their codestream decodes them, where it masks native, RLE and
JPEG samples to Bits Stored: a 12-bit frame coded near-lossless (or lossy) at 16 bits may
decode to 4097, which masked would wrap round to 1, white to black. Only the sign JPEG-LS
does not code, and a JPEG 2000 component's signedness that is not Pixel Representation, are
made the data set's, from the codestream's precision. A random differential run against
CharLS (2026-12-07) found our decoder masking them; and our JPEG-LS encoder coding signed
samples of fewer than 8 bits at 8 without their sign, which pydicom (with any plugin) then
read as positive."""

from __future__ import annotations

import io

import dicomfast
import numpy as np
import pytest
from dicomfast.pixels import encode_frame

pydicom = pytest.importorskip("pydicom")
imagecodecs = pytest.importorskip("imagecodecs")
from pydicom.dataset import FileMetaDataset  # noqa: E402
from pydicom.encaps import encapsulate  # noqa: E402
from pydicom.uid import generate_uid  # noqa: E402

JLS, JLS_NEAR = "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"
J2K_LOSSY = "1.2.840.10008.1.2.4.91"


def _file(frame: bytes, ts: str, shape: tuple[int, int], ba: int, bs: int, pr: int) -> bytes:
    """A grey one-frame file (written by pydicom) of syntax ``ts`` holding ``frame``."""
    ds = pydicom.Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ts
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.Rows, ds.Columns = shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = ba, bs, bs - 1, pr
    ds.PixelData = encapsulate([frame])
    ds["PixelData"].VR = "OB"
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _pydicom_arrays(raw: bytes) -> dict[str, np.ndarray]:
    """What each of pydicom's installed plugins decodes ``raw`` to (those that can)."""
    from pydicom.pixels import get_decoder

    ts = pydicom.dcmread(io.BytesIO(raw), stop_before_pixels=True).file_meta.TransferSyntaxUID
    out = {}
    for plugin in get_decoder(ts).available_plugins:
        try:
            out[plugin] = pydicom.pixels.pixel_array(io.BytesIO(raw), decoding_plugin=plugin)
        except Exception:  # noqa: BLE001, S112 - a plugin without this syntax or precision
            continue
    if not out:
        pytest.skip(f"no pydicom plugin decodes {ts} here")
    return out


def _near_the_top(bits: int, shape: tuple[int, int] = (48, 64)) -> np.ndarray:
    """Unsigned samples mostly within a few levels of the ``bits``-bit maximum, with dark
    specks: what near-lossless coding pushes past the top."""
    rng = np.random.default_rng(bits)
    top = (1 << bits) - 1
    a = rng.integers(top - 40, top + 1, shape)
    a[::3, ::4] = rng.integers(0, 30, a[::3, ::4].shape)
    return a.astype("u2")


@pytest.mark.parametrize("bits", [9, 12, 14])
def test_jpeg_ls_near_lossless_past_bits_stored_kept_as_pydicom(bits: int) -> None:
    arr = _near_the_top(bits)
    frame = imagecodecs.jpegls_encode(arr, level=2)  # CharLS: precision 16
    raw = _file(frame, JLS_NEAR, arr.shape, 16, bits, 0)
    ours = dicomfast.read(raw).pixel_array
    assert int(np.abs(ours.astype(np.int64) - arr).max()) <= 2  # none wrapped round
    assert int(ours.max()) > (1 << bits) - 1  # the case happens
    for plugin, theirs in _pydicom_arrays(raw).items():
        np.testing.assert_array_equal(ours, theirs, err_msg=plugin)


def test_jpeg2000_lossy_past_bits_stored_kept_as_pydicom() -> None:
    arr = _near_the_top(12, (64, 64))
    frame = imagecodecs.jpeg2k_encode(arr, level=40, reversible=False)  # precision 16
    raw = _file(frame, J2K_LOSSY, arr.shape, 16, 12, 0)
    ours = dicomfast.read(raw).pixel_array
    assert int(ours.max()) > 4095  # the case happens
    for plugin, theirs in _pydicom_arrays(raw).items():
        # two float 9/7 wavelets (ours, OpenJPEG's) round apart by a level or two
        worst = int(np.abs(ours.astype(np.int64) - theirs.astype(np.int64)).max())
        assert worst <= 2, f"{plugin}: {worst} apart"


@pytest.mark.parametrize(("ba", "bs"), [(8, 2), (8, 5), (8, 7), (16, 6)])
def test_our_signed_jpeg_ls_reads_back_negative_everywhere(ba: int, bs: int) -> None:
    """Lossless signed samples of 8 bits or fewer are coded at Bits Allocated (as DCMTK
    codes them), sign-extended: pydicom, and we, take that precision as the samples'."""
    rng = np.random.default_rng(bs)
    lo, hi = -(1 << (bs - 1)), (1 << (bs - 1)) - 1
    arr = rng.integers(lo, hi + 1, (24, 40)).astype("i1" if ba == 8 else "i2")
    frame = encode_frame(arr, samples_per_pixel=1, bits_stored=bs, transfer_syntax=JLS)
    raw = _file(frame, JLS, arr.shape, ba, bs, 1)
    np.testing.assert_array_equal(dicomfast.read(raw).pixel_array, arr)
    for plugin, theirs in _pydicom_arrays(raw).items():
        np.testing.assert_array_equal(theirs, arr, err_msg=plugin)
