"""Every image of the real-file corpus decodes to the manifest's ``pixel_sha256`` (the
recipe of the corpus README: pydicom's ``pixel_array`` semantics, colour as stored,
little-endian bytes); syntaxes dicomfast does not decode raise a clear PixelDataError;
broken files raise PixelDataError naming the frame and the byte offset."""

from __future__ import annotations

import hashlib
import warnings

import dicomfast
import numpy as np
import pytest
from corpus_data import MANIFEST, corpus_path, lossy_within_one_of_reference
from dicomfast.errors import DicomError, PixelDataError
from dicomfast.pixels.info import CODEC_SYNTAXES, NATIVE_SYNTAXES

pytestmark = pytest.mark.corpus

DECODED = CODEC_SYNTAXES | NATIVE_SYNTAXES


def sha(arr: np.ndarray) -> str:
    a = np.ascontiguousarray(arr)
    if a.dtype.byteorder == ">":
        a = a.astype(a.dtype.newbyteorder("<"))
    return hashlib.sha256(a.tobytes()).hexdigest()


def _read(entry: dict) -> dicomfast.Dataset:
    return dicomfast.read(corpus_path(entry["path"]), force=bool(entry.get("needs_force")))


BY_PATH = {e["path"]: e for e in MANIFEST}
WITH_HASH = [e for e in MANIFEST if e.get("pixel_sha256") and e.get("expect_error") is not True]
OURS = [e for e in WITH_HASH if (e["transfer_syntax"] or "1.2.840.10008.1.2") in DECODED]
NOT_OURS = [e for e in WITH_HASH if (e["transfer_syntax"] or "1.2.840.10008.1.2") not in DECODED]

# Files no third-party decoder handles; their source (pydicom-data) says they hold the
# pixels of an uncompressed twin in the corpus.
TWINS = {
    "public/pydicom-data/liver_deflate.dcm": "public/pydicom-data/liver.dcm",
    "public/pydicom-data/liver_nonbyte_aligned_deflate.dcm": "public/pydicom-data/liver_nonbyte_aligned.dcm",
    "public/pydicom-data/liver_rle.dcm": "public/pydicom-data/liver.dcm",
    "public/pydicom-data/liver_nonbyte_aligned_rle.dcm": "public/pydicom-data/liver_nonbyte_aligned.dcm",
}


def _agreeing_hashes(entry: dict) -> set[str]:
    """The reference hash, and for a lossy syntax also what the manifest's other conformant
    decoders (DCMTK, GDCM, ...) gave: two conformant JPEG/JPEG 2000 decoders may differ by
    one in the last bit of rounding (the manifest notes every such difference, max|diff| 1)."""
    hashes = {entry["pixel_sha256"]}
    if dicomfast.syntaxes.get(entry["transfer_syntax"] or "1.2.840.10008.1.2").lossy:
        for result in (entry.get("decoder_results") or {}).values():
            if result.get("sha256") and result.get("shape") == entry["pixel_shape"]:
                hashes.add(result["sha256"])
    return hashes


def _ow_cells_of_32_bits(entry: dict) -> bool:
    """An Explicit VR Big Endian file of 32-bit cells in an OW value."""
    if entry["transfer_syntax"] != "1.2.840.10008.1.2.2" or entry.get("bits_allocated") != 32:
        return False
    return dicomfast.read(corpus_path(entry["path"]))["PixelData"].VR == "OW"


def _halves_exchanged(arr: np.ndarray) -> np.ndarray:
    u = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("=")).view(np.uint32)
    return ((u >> 16) | (u << 16)).view(arr.dtype.newbyteorder("="))


@pytest.mark.parametrize("entry", OURS, ids=lambda e: e["path"])
def test_decodes_to_reference_hash(entry: dict) -> None:
    ds = _read(entry)
    arr = ds.pixel_array
    if _ow_cells_of_32_bits(entry):
        # The reference (pydicom's reading: its rtdose_expb files) reverses each 32-bit
        # cell whole; OW is 16-bit words, each byte-swapped (PS3.5 Table 6.2-1), and
        # we read them so, as DCMTK and GDCM do: the reference's cells, halves exchanged.
        import pydicom

        theirs = pydicom.dcmread(corpus_path(entry["path"])).pixel_array
        assert sha(theirs) == entry["pixel_sha256"]
        np.testing.assert_array_equal(arr, _halves_exchanged(theirs))
        return
    assert list(arr.shape) == entry["pixel_shape"]
    assert arr.dtype.str.replace(">", "<") == entry["pixel_dtype"].replace(">", "<").replace(
        "|", "<"
    ) or (arr.dtype.itemsize == 1 and entry["pixel_dtype"][1:] == arr.dtype.str[1:])
    assert sha(arr) in _agreeing_hashes(entry) or lossy_within_one_of_reference(entry, arr)


@pytest.mark.parametrize("rel", sorted(TWINS), ids=str)
def test_files_without_third_party_decoder_match_their_twin(rel: str) -> None:
    twin = BY_PATH.get(TWINS[rel])
    if twin is None or rel not in BY_PATH:
        pytest.skip("twin not in the corpus")
    arr = _read(BY_PATH[rel]).pixel_array
    assert sha(arr) == twin["pixel_sha256"]
    assert list(arr.shape) == twin["pixel_shape"]


@pytest.mark.parametrize("entry", NOT_OURS, ids=lambda e: e["path"])
def test_other_syntaxes_raise_pixel_data_error(entry: dict) -> None:
    ds = _read(entry)
    with pytest.raises(PixelDataError, match="cannot decode pixel data in transfer syntax"):
        ds.pixel_array  # noqa: B018


MULTI = [e for e in OURS if (e.get("number_of_frames") or 1) > 1][:6]


@pytest.mark.parametrize("entry", MULTI, ids=lambda e: e["path"])
def test_frame_access_and_threads_agree(entry: dict) -> None:
    ds = _read(entry)
    whole = ds.pixel_array_as(threads=1)
    assert np.array_equal(ds.pixel_array_as(threads=2), whole)
    frames = list(ds.iter_frames())
    assert len(frames) == whole.shape[0]
    for k in (0, len(frames) - 1):
        assert np.array_equal(ds.frame(k), whole[k])
        assert np.array_equal(frames[k], whole[k])


J2K_FAMILY = {
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.4.201",
    "1.2.840.10008.1.2.4.202",
    "1.2.840.10008.1.2.4.203",
}
LONE_J2K = [
    e
    for e in OURS
    if e["transfer_syntax"] in J2K_FAMILY
    and (e.get("number_of_frames") or 1) == 1
    and e["rows"] * e["columns"] >= 256 * 256
][:8]


@pytest.mark.parametrize("entry", LONE_J2K, ids=lambda e: e["path"])
def test_lone_jpeg_2000_frames_on_openjpeg_threads(entry: dict) -> None:
    """A lone JPEG 2000 / HTJ2K frame of 256 x 256 or more is spread over OpenJPEG's own
    threads when more than one thread is allowed: the same pixels as on one."""
    ds = _read(entry)
    one = ds.pixel_array_as(threads=1)
    assert np.array_equal(ds.pixel_array_as(threads=2), one)


BROKEN = [
    e for e in MANIFEST if e["path"].startswith("public/broken/") and e.get("expect_error") is True
]


@pytest.mark.parametrize("entry", BROKEN, ids=lambda e: e["path"])
def test_broken_files_raise_pixel_data_error_with_frame_and_offset(entry: dict) -> None:
    try:
        ds = dicomfast.read(corpus_path(entry["path"]))
    except DicomError as e:  # damaged before the pixels: the reader refuses the file
        assert e.offset is not None
        ds = dicomfast.read(corpus_path(entry["path"]), force=True)
        if "PixelData" not in ds:
            return
    with pytest.raises(PixelDataError) as info:
        ds.pixel_array  # noqa: B018
    err = info.value
    assert err.offset is not None, str(err)
    # Every broken file is single-frame: the error names frame 0.
    assert err.frame == 0 and "frame 0" in str(err), str(err)


def test_tolerable_missing_delimiter_decodes() -> None:
    rel = "public/broken/MR4_RLE_no_sequence_delimiter.dcm"
    ref = "public/wg04/RLE/MR4_RLE"
    if rel not in BY_PATH or ref not in BY_PATH:
        pytest.skip("not in corpus")
    arr = dicomfast.read(corpus_path(rel), force=True).pixel_array
    assert sha(arr) == BY_PATH[ref]["pixel_sha256"]


def test_ybr_as_rgb_matches_pydicom() -> None:
    """``as_rgb`` as pydicom 3 gives it: YBR_FULL(_422) converted with pydicom's arithmetic
    (the same samples for lossless frames), and a JPEG stream's own colour markers heeded
    (an RGB header on a JFIF stream is YCbCr; RGB component IDs are RGB). Lossy frames may
    differ by one in each of Y, Cb and Cr before the conversion (see the hash test), which
    B = Y + 1.772 Cb' makes at most 1 + 1.772 -> 3."""
    pydicom = pytest.importorskip("pydicom")
    candidates = [
        e
        for e in OURS
        if (e.get("samples_per_pixel") == 3)
        and e["transfer_syntax"] in CODEC_SYNTAXES | NATIVE_SYNTAXES
        and (
            (e.get("photometric_interpretation") or "").startswith("YBR_FULL")
            or e["transfer_syntax"] == "1.2.840.10008.1.2.4.50"
        )
    ]
    if not candidates:
        pytest.skip("no YBR file we decode")
    for e in candidates:
        path = corpus_path(e["path"])
        theirs = pydicom.dcmread(path, force=True)
        theirs.pixel_array_options(as_rgb=True)
        ours = dicomfast.read(path, force=True).pixel_array_as(as_rgb=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = theirs.pixel_array.astype(np.int32)
        diff = np.abs(ours.astype(np.int32) - ref)
        lossy = dicomfast.syntaxes.get(e["transfer_syntax"]).lossy
        assert diff.max() <= (3 if lossy else 0), e["path"]


DAMAGED_ELSEWHERE = [
    e
    for e in MANIFEST
    if e.get("expect_error") is True and not e["path"].startswith("public/broken/")
]


WHOLE_FRAMES_TWINS = {
    "public/pydicom-data/emri_small_jpeg_2k_lossless_too_short.dcm": (
        "public/pylibjpeg-data/emri_small_jpeg_2k_lossless.dcm"
    ),
}


@pytest.mark.parametrize("entry", DAMAGED_ELSEWHERE, ids=lambda e: e["path"])
def test_other_damaged_files_raise_or_agree_with_every_decoder(entry: dict) -> None:
    """Files marked bad by their source: a PixelDataError, or (where every third-party
    decoder returned the same pixels) those pixels."""
    ds = dicomfast.read(corpus_path(entry["path"]), force=True)
    hashes = {r.get("sha256") for r in (entry.get("decoder_results") or {}).values()}
    try:
        arr = ds.pixel_array
    except PixelDataError:
        return
    twin = WHOLE_FRAMES_TWINS.get(entry["path"])
    if twin in BY_PATH:
        # Every frame is there (each codestream ends with EOC); only the sequence
        # delimiter is missing, which no third-party reader got past.
        assert sha(arr) == BY_PATH[twin]["pixel_sha256"]
        return
    assert len(hashes) == 1 and None not in hashes, "decoded pixels no other decoder produced"
    assert sha(arr) == hashes.pop()
