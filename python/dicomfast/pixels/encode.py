"""Encoding pixel data: RLE Lossless, JPEG Lossless (process 14, any predictor; SV1),
Deflated Image Frame Compression, JPEG-LS (lossless and near-lossless), JPEG 2000 and
HTJ2K (lossless and lossy) and JPEG baseline/extended, frame by frame in parallel in Rust; and
the data set conversions :func:`compress` and :func:`decompress`.  Lossy results are
marked as PS3.3 C.7.6.1.1.5 says (:func:`mark_lossy`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _core, syntaxes
from .. import uid as uids
from ..element import DataElement
from ..errors import PixelDataError
from .decode import decode_frames
from .info import (
    DEFLATED_IMAGE_FRAME,
    EXPLICIT_VR_BE,
    EXPLICIT_VR_LE,
    EXTENDED_OFFSET_TABLE,
    JPEG_LOSSLESS,
    JPEG_LOSSLESS_SV1,
    PIXEL_DATA,
    RLE_LOSSLESS,
    PixelInfo,
    check_native_extent,
    pixel_info,
)

if TYPE_CHECKING:
    from ..dataset import Dataset

UNDEFINED_LENGTH = 0xFFFFFFFF
_ALIASES = {
    "rle": RLE_LOSSLESS,
    "rlelossless": RLE_LOSSLESS,
    "jpegll": JPEG_LOSSLESS,
    "jpeglossless": JPEG_LOSSLESS,
    "jpegll14": JPEG_LOSSLESS,
    "jpegllsv1": JPEG_LOSSLESS_SV1,
    "jpeglosslesssv1": JPEG_LOSSLESS_SV1,
    "deflate": DEFLATED_IMAGE_FRAME,
    "deflatedimageframecompression": DEFLATED_IMAGE_FRAME,
    "jpegls": uids.JPEGLSLossless,
    "jpeglsnear": uids.JPEGLSNearLossless,
    "j2k": uids.JPEG2000Lossless,
    "j2klossy": uids.JPEG2000,
    "jpeg": uids.JPEGBaseline8Bit,
    "jpeg12": uids.JPEGExtended12Bit,
    "htj2k": uids.HTJ2KLossless,
    "htj2krpcl": uids.HTJ2KLosslessRPCL,
    "htj2klossy": uids.HTJ2K,
}
#: The Lossy Image Compression Method (0028,2114) of each lossy syntax dicomfast writes
#: (PS3.3 C.7.6.1.1.5.1).
LOSSY_METHODS = {
    uids.JPEGBaseline8Bit: "ISO_10918_1",
    uids.JPEGExtended12Bit: "ISO_10918_1",
    uids.JPEGLSNearLossless: "ISO_14495_1",
    uids.JPEG2000: "ISO_15444_1",
    uids.HTJ2K: "ISO_15444_15",
}
#: JPEG-LS near-lossless: the default maximum error (NEAR).
DEFAULT_MAX_ERROR = 2
#: JPEG 2000 and HTJ2K RGB frames are coded with the codestream's colour transform, and
#: the Photometric Interpretation says which (PS3.5 8.2.4, Table 8.2.4-1); decoders undo
#: it (RGB again).
_J2K_MCT = {
    uids.JPEG2000Lossless: "YBR_RCT",
    uids.JPEG2000: "YBR_ICT",
    uids.HTJ2KLossless: "YBR_RCT",
    uids.HTJ2KLosslessRPCL: "YBR_RCT",
    uids.HTJ2K: "YBR_ICT",
}
#: The lossy syntaxes coded to a compression ratio (``ratio``).
_BY_RATIO = frozenset({uids.JPEG2000, uids.HTJ2K})
_MCT_NAMES = ("YBR_RCT", "YBR_ICT")
#: Lossy JPEG codes samples of Bits Allocated 8 at precision 8 and the others (9-12 bits
#: stored) at 12, as the codec's encoder does (``jpeg_dct``; a test reads the precision
#: from the streams it writes).
_JPEG_DCT = frozenset({uids.JPEGBaseline8Bit, uids.JPEGExtended12Bit})


def coded_bits_stored(ts: str, info: PixelInfo) -> int:
    """The Bits Stored a data set has once its frames (``info``) are encoded in ``ts``.

    Lossy JPEG codes at precision 8 or 12, and its decoded samples may overshoot a smaller
    Bits Stored: a 6-bit white of 63 comes back as 64-66, which a reader masks to Bits
    Stored (PS3.5 8.1.1; pydicom does) as 0-2, white turned black. The stream's precision
    then becomes Bits Stored (PS3.5 8.2.1: the attributes consistent with the compressed
    stream), as DCMTK's ``dcmcjpeg`` does; the samples keep their values (DCMTK rescales
    them to the new range). Every other syntax dicomfast encodes keeps Bits Stored: its
    decoders give samples within the coded precision, which is Bits Stored."""
    if ts in _JPEG_DCT and info.pixel_representation == 0:
        return max(info.bits_stored, 8 if info.bits_allocated == 8 else 12)
    return info.bits_stored


def encode_options(
    ts: str,
    *,
    quality: int | None = None,
    max_error: int | None = None,
    ratio: int | None = None,
    colour_transform: bool = False,
    bits_stored: int = 16,
) -> dict[str, Any]:
    """The codec keywords for ``ts`` (a UID): each lossy setting only reaches the syntax
    it belongs to, so a lossless syntax never loses information. JPEG-LS near-lossless
    without ``max_error`` takes the default, or the largest NEAR samples of
    ``bits_stored`` bits allow (MAXVAL / 2, T.87 C.2.4.1.1: 1 for 2 bits)."""
    opts: dict[str, Any] = {"colour_transform": colour_transform}
    if ts in (uids.JPEGBaseline8Bit, uids.JPEGExtended12Bit) and quality is not None:
        opts["quality"] = quality
    if ts == uids.JPEGLSNearLossless:
        if max_error is None:
            max_error = min(DEFAULT_MAX_ERROR, ((1 << bits_stored) - 1) // 2)
        opts["max_error"] = max_error
    if ts in _BY_RATIO and ratio is not None:
        opts["ratio"] = ratio
    return opts


def _syntax(transfer_syntax: str) -> str:
    ts = _ALIASES.get(transfer_syntax.replace("_", "").replace("-", "").lower(), transfer_syntax)
    if ts not in syntaxes.ENCODABLE:
        raise PixelDataError(
            f"dicomfast cannot encode transfer syntax {transfer_syntax}; use "
            f"{syntaxes.describe(syntaxes.ENCODABLE)}"
        )
    return ts


def _frames_layout(arr: np.ndarray, samples_per_pixel: int) -> tuple[np.ndarray, int, int, int]:
    """``arr`` as a contiguous little-endian array and its (frames, rows, columns)."""
    a = np.asarray(arr)
    if a.dtype.byteorder == ">" or (a.dtype.byteorder == "=" and not np.little_endian):
        a = a.astype(a.dtype.newbyteorder("<"))
    if a.dtype == np.bool_:
        a = a.view(np.uint8)
    ndim = 3 if samples_per_pixel > 1 else 2
    if a.ndim == ndim:
        a = a[np.newaxis]
    if a.ndim != ndim + 1 or (samples_per_pixel > 1 and a.shape[-1] != samples_per_pixel):
        raise PixelDataError(
            f"an array of shape {a.shape} is not (frames,) rows x columns"
            + (f" x {samples_per_pixel}" if samples_per_pixel > 1 else "")
        )
    return np.ascontiguousarray(a), a.shape[0], a.shape[1], a.shape[2]


def encode_frame(
    data: Any,
    rows: int | None = None,
    columns: int | None = None,
    samples_per_pixel: int = 1,
    bits_allocated: int | None = None,
    bits_stored: int | None = None,
    pixel_representation: int | None = None,
    *,
    transfer_syntax: str = RLE_LOSSLESS,
    predictor: int = 1,
    **options: Any,
) -> bytes:
    """Encode one frame: an array ``(rows, columns[, samples])`` (the other attributes
    default to what its dtype says), or bytes in numpy's layout with every attribute given.
    Returns the compressed frame (odd length possible: encapsulation pads it)."""
    ts = _syntax(transfer_syntax)
    if isinstance(data, np.ndarray):
        a, n, r, c = _frames_layout(data, samples_per_pixel)
        if n != 1:
            raise PixelDataError("encode_frame takes one frame; use encode_frames for several")
        rows, columns = rows or r, columns or c
        if bits_allocated is None:
            bits_allocated = 8 * a.dtype.itemsize
        if pixel_representation is None:
            pixel_representation = 1 if a.dtype.kind == "i" else 0
        data = a
    if rows is None or columns is None or bits_allocated is None:
        raise PixelDataError("rows, columns and bits_allocated are needed for bytes input")
    image = _core.ImageInfo(
        rows,
        columns,
        samples_per_pixel,
        bits_allocated,
        bits_stored or bits_allocated,
        pixel_representation or 0,
    )
    options.setdefault("bits_stored", bits_stored or bits_allocated)
    return _core.encode_frame(data, image, ts, predictor, **encode_options(ts, **options))


def encode_frames(
    arr: np.ndarray,
    info: PixelInfo,
    transfer_syntax: str,
    *,
    predictor: int = 1,
    threads: int | None = None,
    **options: Any,
) -> list[bytes]:
    """Encode every frame of ``arr`` (``(frames, rows, columns[, samples])`` or one frame)
    described by ``info``, frames in parallel.  ``options``: ``quality`` (JPEG),
    ``max_error`` (JPEG-LS near-lossless), ``ratio`` (JPEG 2000 and HTJ2K lossy),
    ``colour_transform``."""
    ts = _syntax(transfer_syntax)
    a, _, _, _ = _frames_layout(arr, info.samples_per_pixel)
    options.setdefault("bits_stored", info.bits_stored)
    return _core.encode_frames(
        a, _interleaved(info), ts, predictor, threads, **encode_options(ts, **options)
    )


def _interleaved(info: PixelInfo) -> _core.ImageInfo:
    """The codecs' description of arrays as numpy holds them: samples interleaved, so
    planar configuration 0 whatever the data set says."""
    return info.with_(planar_configuration=0).image if info.planar_configuration else info.image


def _new_buffer(nbytes: int) -> np.ndarray:
    return np.empty(nbytes, np.uint8)


def encapsulated_value(
    arr: np.ndarray,
    info: PixelInfo,
    transfer_syntax: str,
    *,
    predictor: int = 1,
    threads: int | None = None,
    allocate: Callable[[int], np.ndarray] | None = None,
    **options: Any,
) -> np.ndarray:
    """Encode every frame of ``arr`` (as for :func:`encode_frames`) straight into one
    encapsulated Pixel Data value (PS3.5 A.4): a Basic Offset Table, one fragment per frame
    padded to even length, the sequence delimiter.  ``allocate(nbytes)`` gives the uint8
    array to fill (default: a new one), so a caller can reuse its buffers."""
    ts = _syntax(transfer_syntax)
    a, _, _, _ = _frames_layout(arr, info.samples_per_pixel)
    options.setdefault("bits_stored", info.bits_stored)
    value: np.ndarray = _core.encode_frames_encapsulated(
        a,
        _interleaved(info),
        ts,
        allocate or _new_buffer,
        predictor,
        threads,
        **encode_options(ts, **options),
    )
    return value


def _set_transfer_syntax(ds: Dataset, ts: str) -> None:
    if ds.file_meta is None:
        from ..dataset import FileMetaDataset

        ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ts


def _drop_offset_tables(ds: Dataset) -> None:
    for tag in (EXTENDED_OFFSET_TABLE, 0x7FE00002):
        if tag in ds:
            del ds[tag]


def compress(
    ds: Dataset,
    transfer_syntax: str,
    *,
    predictor: int = 1,
    threads: int | None = None,
    arr: np.ndarray | None = None,
    allocate: Callable[[int], np.ndarray] | None = None,
    info: PixelInfo | None = None,
    quality: int | None = None,
    max_error: int | None = None,
    ratio: int | None = None,
    keep_uid: bool = False,
    new_uid: str | None = None,
) -> Dataset:
    """Compress the pixel data of ``ds`` in place (and return ``ds``).

    ``transfer_syntax``: RLE Lossless, JPEG Lossless (4.57, ``predictor`` 1-7), JPEG
    Lossless SV1 (4.70), Deflated Image Frame Compression, JPEG-LS Lossless (4.80) and
    Near-Lossless (4.81, ``max_error`` NEAR, default 2, or 1 for 2-bit samples: at most
    half their largest value), JPEG 2000 Lossless (4.90) and
    lossy (4.91, ``ratio``: target compression ratio, default 10), HTJ2K Lossless (4.201),
    Lossless RPCL (4.202) and lossy (4.203, ``ratio``), JPEG Baseline (4.50, 8-bit) and
    Extended (4.51, 12-bit; ``quality`` 1-100, default 90), as a UID or a short name
    (``"rle"``, ``"jpegll"``, ``"jpegllsv1"``, ``"deflate"``, ``"jpeg-ls"``,
    ``"jpeg-ls-near"``, ``"j2k"``, ``"j2k-lossy"``, ``"htj2k"``, ``"htj2k-rpcl"``,
    ``"htj2k-lossy"``, ``"jpeg"``, ``"jpeg12"``).  A lossy
    syntax marks the data set as lossy (:func:`mark_lossy`) and gives it a new SOP
    Instance UID (``new_uid``, or a random one) unless ``keep_uid``.  Pixel Data becomes one
    fragment per frame with a Basic Offset Table; the file meta Transfer Syntax UID is
    set; YBR_FULL_422 (expanded on decoding) becomes YBR_FULL. ``arr`` gives the pixels
    to encode instead of the current ones (same attributes); ``allocate(nbytes)`` the
    uint8 array that receives the new value (see :func:`encapsulated_value`); ``info``
    the data set's :func:`~dicomfast.pixels.info.pixel_info` if already gathered.
    """
    ts = _syntax(transfer_syntax)
    info = info or pixel_info(ds)
    if info.is_float:
        raise PixelDataError("float pixel data cannot be compressed by dicomfast", tag=info.tag)
    if ts == JPEG_LOSSLESS_SV1 and predictor != 1:
        raise PixelDataError(f"JPEG Lossless SV1 ({ts}) uses predictor 1; use {JPEG_LOSSLESS}")
    if arr is None:
        arr = decode_frames(ds, threads=threads, info=info)
    rgb = info.samples_per_pixel == 3 and info.photometric_interpretation in ("RGB", *_MCT_NAMES)
    mct = ts in _J2K_MCT and rgb
    options = encode_options(
        ts,
        quality=quality,
        max_error=max_error,
        ratio=ratio,
        colour_transform=mct,
        bits_stored=info.bits_stored,
    )
    value = encapsulated_value(
        arr, info, ts, predictor=predictor, threads=threads, allocate=allocate, **options
    )
    set_encapsulated_pixels(ds, value, info, ts)
    if mct:
        ds.PhotometricInterpretation = _J2K_MCT[ts]
    if ts in LOSSY_METHODS and options.get("max_error", 1) != 0:
        ratio_achieved = np.asarray(arr).nbytes / max(len(value), 1)
        mark_lossy(ds, LOSSY_METHODS[ts], ratio_achieved, keep_uid=keep_uid, new_uid=new_uid)
    return ds


def _values(ds: Dataset, keyword: str) -> list[str]:
    v = ds.get(keyword)
    if v is None or v == "":
        return []
    if isinstance(v, str):
        return [v]
    return [str(x) for x in v]


def mark_lossy(
    ds: Dataset,
    method: str,
    ratio: float,
    *,
    keep_uid: bool = False,
    new_uid: str | None = None,
) -> None:
    """Record lossy compression as PS3.3 C.7.6.1.1.5 says: Lossy Image Compression "01",
    ``ratio`` and ``method`` (``ISO_10918_1``, ``ISO_14495_1``, ``ISO_15444_1``,
    ``ISO_15444_15``) appended
    to any Lossy Image Compression Ratio/Method already there, and (unless ``keep_uid``)
    a new SOP Instance UID (``new_uid``, or a random one), also in the file meta
    information."""
    ratios = _values(ds, "LossyImageCompressionRatio")
    methods = _values(ds, "LossyImageCompressionMethod")
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionRatio = [*ratios, f"{ratio:.4g}"[:16]]
    ds.LossyImageCompressionMethod = [*methods, method]
    if not keep_uid:
        from ..uid import generate_uid

        new = new_uid or generate_uid()
        ds.SOPInstanceUID = new
        if ds.file_meta is not None:
            ds.file_meta.MediaStorageSOPInstanceUID = new


def set_encapsulated_pixels(ds: Dataset, value: Any, info: PixelInfo, ts: str) -> None:
    """Make ``value`` (a whole encapsulated value: items and delimiter) the data set's
    Pixel Data, with the attributes that go with it and ``ts`` (a UID) as its transfer
    syntax: what :func:`compress` does after encoding the pixels ``info`` describes."""
    _drop_offset_tables(ds)
    ds[PIXEL_DATA] = DataElement(PIXEL_DATA, "OB", value, _length=UNDEFINED_LENGTH)
    if info.ybr422_native or info.photometric_interpretation == "YBR_FULL_422":
        ds.PhotometricInterpretation = "YBR_FULL"
    elif info.photometric_interpretation in _MCT_NAMES:
        ds.PhotometricInterpretation = "RGB"  # the JPEG 2000 decoder undid the transform
    if info.samples_per_pixel > 1:
        ds.PlanarConfiguration = 0
    bits = coded_bits_stored(ts, info)
    if bits != info.bits_stored:
        ds.BitsStored = bits
        ds.HighBit = bits - 1
    _set_transfer_syntax(ds, ts)


def native_value(arr: np.ndarray, info: PixelInfo) -> tuple[str, np.ndarray]:
    """``(VR, value)`` of native Pixel Data for ``arr`` (little endian; 1-bit packed)."""
    a = np.ascontiguousarray(arr)
    if a.dtype.byteorder == ">":
        a = a.astype(a.dtype.newbyteorder("<"))
    if info.is_float:
        return ("OF" if info.bits_allocated == 32 else "OD"), a.reshape(-1)
    if info.bits_allocated == 1:
        return "OB", np.packbits(a.reshape(-1) & 1, bitorder="little")
    b = a.reshape(-1).view(np.uint8)
    if info.bits_allocated == 8:
        return "OB", b
    return "OW", b.view("<u2")


def needs_decoding(info: PixelInfo) -> bool:
    """Whether :func:`decompress` decodes pixel data described by ``info`` (encapsulated,
    big endian or native YBR_FULL_422) rather than only relabelling it."""
    return info.transfer_syntax != EXPLICIT_VR_LE and (
        info.is_encapsulated or info.transfer_syntax == EXPLICIT_VR_BE or info.ybr422_native
    )


def decompress(
    ds: Dataset,
    *,
    threads: int | None = None,
    out: np.ndarray | None = None,
    info: PixelInfo | None = None,
) -> Dataset:
    """Replace encapsulated (or big endian) pixel data by native little-endian Pixel Data
    and set the transfer syntax to Explicit VR Little Endian; returns ``ds``.  ``out``: the
    array to decode into (as for :func:`~dicomfast.pixels.decode_frames`), which the new
    Pixel Data value then views; ``info`` the data set's
    :func:`~dicomfast.pixels.info.pixel_info` if already gathered."""
    info = info or pixel_info(ds)
    if not needs_decoding(info):
        # Relabelled, not decoded: the value must still be what the attributes say.
        check_native_extent(ds, info)
        _set_transfer_syntax(ds, EXPLICIT_VR_LE)
        return ds
    arr = decode_frames(ds, threads=threads, info=info, out=out)
    set_native_pixels(ds, arr, info)
    return ds


def set_native_pixels(ds: Dataset, arr: np.ndarray, info: PixelInfo) -> None:
    """Make ``arr`` (the decoded frames of the pixel data ``info`` describes) the data
    set's native Pixel Data, with the attributes that go with it and Explicit VR Little
    Endian as its transfer syntax: what :func:`decompress` does after decoding."""
    vr, value = native_value(arr, info)
    _drop_offset_tables(ds)
    ds[info.tag] = DataElement(info.tag, vr, value)
    if info.ybr422_native or info.photometric_interpretation == "YBR_FULL_422":
        ds.PhotometricInterpretation = "YBR_FULL"
    elif info.photometric_interpretation in _MCT_NAMES:
        ds.PhotometricInterpretation = "RGB"  # the JPEG 2000 decoder undid the transform
    if info.samples_per_pixel > 1:
        ds.PlanarConfiguration = 0
    _set_transfer_syntax(ds, EXPLICIT_VR_LE)


__all__ = [
    "coded_bits_stored",
    "compress",
    "decompress",
    "encapsulated_value",
    "encode_frame",
    "encode_frames",
    "encode_options",
    "mark_lossy",
    "native_value",
    "needs_decoding",
    "set_encapsulated_pixels",
    "set_native_pixels",
]
