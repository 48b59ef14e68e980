"""The Image Pixel attributes (PS3.3 C.7.6.3) that decide how pixel data is laid out,
gathered once per decode, and the numpy dtype and shape they give (as pydicom shapes
``pixel_array``)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _core, syntaxes
from ..errors import PixelDataError
from ..pixel_limits import (  # the size rules (their one definition, numpy-free)
    FRAME_SLACK,
    MAX_FRAMES,
    MAX_RATIO,
    MAX_RATIO_UNBOUNDED_CODECS,
    UNBOUNDED_CODECS,
)

if TYPE_CHECKING:
    from ..dataset import Dataset

PIXEL_DATA = 0x7FE00010
FLOAT_PIXEL_DATA = 0x7FE00008
DOUBLE_FLOAT_PIXEL_DATA = 0x7FE00009
EXTENDED_OFFSET_TABLE = 0x7FE00001

RLE_LOSSLESS = "1.2.840.10008.1.2.5"
JPEG_LOSSLESS = "1.2.840.10008.1.2.4.57"
JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70"
DEFLATED_IMAGE_FRAME = "1.2.840.10008.1.2.8.1"
EXPLICIT_VR_LE = "1.2.840.10008.1.2.1"
EXPLICIT_VR_BE = "1.2.840.10008.1.2.2"
#: Native transfer syntaxes (the registry's: :mod:`dicomfast.syntaxes`).
NATIVE_SYNTAXES = syntaxes.NATIVE
#: Encapsulated transfer syntaxes a codec decodes (the registry's).
CODEC_SYNTAXES = syntaxes.DECODABLE


_ITEM_HEADER = 8

_NAMES = {
    "Rows": "Rows (0028,0010)",
    "Columns": "Columns (0028,0011)",
    "SamplesPerPixel": "SamplesPerPixel (0028,0002)",
    "BitsAllocated": "BitsAllocated (0028,0100)",
    "BitsStored": "BitsStored (0028,0101)",
    "PixelRepresentation": "PixelRepresentation (0028,0103)",
    "PlanarConfiguration": "PlanarConfiguration (0028,0006)",
    "NumberOfFrames": "NumberOfFrames (0028,0008)",
}


def _int(
    values: dict[str, Any], keyword: str, default: int | None = None, limit: int = 0xFFFF
) -> int | None:
    """The value of ``keyword`` as an int in ``0..limit`` (US values; Number of Frames
    is checked by the caller), ``default`` if absent or empty."""
    v: Any = values.get(keyword)
    if v.__class__ is int and 0 <= v <= limit:
        return v  # the usual case, first
    if isinstance(v, list | tuple):
        v = v[0] if v else None
    if v is None or v == "":
        return default
    try:
        n = int(v)
    except (TypeError, ValueError, OverflowError):
        raise PixelDataError(f"{_NAMES[keyword]} has the invalid value {v!r}") from None
    if not 0 <= n <= limit:
        raise PixelDataError(f"{_NAMES[keyword]} {n} is not in 0..{limit}")
    return n


#: The Image Pixel attributes :func:`pixel_info` reads.
_ATTRIBUTES = {
    "Rows": 0x00280010,
    "Columns": 0x00280011,
    "SamplesPerPixel": 0x00280002,
    "BitsAllocated": 0x00280100,
    "BitsStored": 0x00280101,
    "PixelRepresentation": 0x00280103,
    "PlanarConfiguration": 0x00280006,
    "NumberOfFrames": 0x00280008,
    "PhotometricInterpretation": 0x00280004,
}
_PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)  # PIXEL_DATA, FLOAT_..., DOUBLE_FLOAT_...
_FIND = (*_ATTRIBUTES.values(), *_PIXEL_TAGS, 0x7FE00001)  # ... and EXTENDED_OFFSET_TABLE
TRANSFER_SYNTAX_UID = 0x00020010


@dataclass(frozen=True)
class AsRead:
    """Where the pixel data of a data set left as read is in its file's index: its node,
    and the Extended Offset Table's (or None), found with the attributes in one call."""

    raw: Any
    pixel_node: int
    eot_node: int | None


def _as_read(ds: Dataset) -> tuple[dict[str, Any], int, str, AsRead] | None:
    """The attribute values, pixel data tag, transfer syntax and :class:`AsRead` of a
    data set no element of which was looked at or changed since it was read (its
    element table not built), straight from the index in one call: the same values
    the data set would give.  None for any other data set, or where a value needs the
    data set's own conversion (then the elements are read the usual way)."""
    raw = ds._raw
    if raw is None or ds._map is not None:
        return None
    found = raw.find(ds._node, _FIND)
    values: dict[str, Any] = {}
    for keyword, f in zip(_ATTRIBUTES, found, strict=False):
        if f is not None:
            if not f[1]:
                return None
            values[keyword] = f[2]
    pixels = found[len(_ATTRIBUTES) : len(_ATTRIBUTES) + len(_PIXEL_TAGS)]
    at = next((k for k, f in enumerate(pixels) if f is not None), None)
    if at is None:
        return None
    ts = _syntax_as_read(ds, raw)
    if ts is None:
        return None
    eot = found[-1]
    located = AsRead(raw, pixels[at][0], eot[0] if eot is not None else None)
    return values, _PIXEL_TAGS[at], ts, located


def _syntax_as_read(ds: Dataset, raw: Any) -> str | None:
    """:func:`transfer_syntax_of` for :func:`_as_read` (None: ask the data set)."""
    fm = ds.file_meta
    ts: Any = None
    if fm is not None:
        fm_raw: Any = getattr(fm, "_raw", None)
        if fm_raw is not raw or getattr(fm, "_map", True) is not None:
            return None
        (f,) = fm_raw.find(fm._node, [TRANSFER_SYNTAX_UID])
        if f is not None:
            if not f[1] or not (f[2] is None or f[2].__class__ is str):
                return None
            ts = f[2]
    if not ts:
        ts = raw.transfer_syntax
    return str(ts).rstrip("\0 ")


@dataclass(frozen=True)
class PixelInfo:
    """How one data set's pixel data is stored and how it decodes."""

    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    planar_configuration: int
    number_of_frames: int
    photometric_interpretation: str
    transfer_syntax: str
    #: (7FE0,0010), (7FE0,0008) Float Pixel Data or (7FE0,0009) Double Float Pixel Data.
    tag: int = PIXEL_DATA
    #: Where the pixel data is in the file's index, for a data set as read (else None).
    as_read: AsRead | None = field(default=None, compare=False, repr=False)

    @property
    def is_float(self) -> bool:
        return self.tag != PIXEL_DATA

    @functools.cached_property
    def is_encapsulated(self) -> bool:
        return syntaxes.is_encapsulated(self.transfer_syntax)

    @functools.cached_property
    def image(self) -> _core.ImageInfo:
        """The attributes as the Rust codecs take them (checked when made)."""
        return _core.ImageInfo(
            self.rows,
            self.columns,
            self.samples_per_pixel,
            self.bits_allocated,
            self.bits_stored,
            self.pixel_representation,
            self.planar_configuration,
            self.is_float,
        )

    @property
    def ybr422_native(self) -> bool:
        """Native YBR_FULL_422: two bytes per pixel in the file, three samples decoded."""
        return (
            not self.is_encapsulated
            and self.photometric_interpretation == "YBR_FULL_422"
            and self.samples_per_pixel == 3
            and self.bits_allocated == 8
        )

    @functools.cached_property
    def dtype(self) -> np.dtype:
        return _dtype(self.is_float, self.bits_allocated, self.pixel_representation)

    @functools.cached_property
    def frame_shape(self) -> tuple[int, ...]:
        if self.samples_per_pixel > 1:
            return (self.rows, self.columns, self.samples_per_pixel)
        return (self.rows, self.columns)

    @property
    def shape(self) -> tuple[int, ...]:
        """pydicom's ``pixel_array`` shape: no frame axis for a single frame."""
        if self.number_of_frames > 1:
            return (self.number_of_frames, *self.frame_shape)
        return self.frame_shape

    @functools.cached_property
    def frame_nbytes(self) -> int:
        """Bytes of one decoded frame."""
        return self.rows * self.columns * self.samples_per_pixel * self.dtype.itemsize

    @property
    def native_frame_bits(self) -> int:
        """Bits of one frame as stored natively (PS3.5 8.1.1; 1-bit frames are packed)."""
        n = self.rows * self.columns
        if self.ybr422_native:
            return n * 16
        return n * self.samples_per_pixel * self.bits_allocated

    def with_(self, **changes: Any) -> PixelInfo:
        return replace(self, **changes)


@functools.lru_cache(maxsize=64)
def _dtype(is_float: bool, bits_allocated: int, pixel_representation: int) -> np.dtype:
    if is_float:
        return np.dtype("<f4" if bits_allocated == 32 else "<f8")
    size = max(1, bits_allocated // 8)
    return np.dtype(f"<{'i' if pixel_representation == 1 else 'u'}{size}")


def pixel_tag(ds: Dataset) -> int:
    for tag in (PIXEL_DATA, FLOAT_PIXEL_DATA, DOUBLE_FLOAT_PIXEL_DATA):
        if tag in ds:
            return tag
    raise PixelDataError(
        "the data set has no Pixel Data, Float Pixel Data or Double Float Pixel Data"
    )


def transfer_syntax_of(ds: Dataset) -> str:
    ts = ds.transfer_syntax
    if not ts:
        raw = ds._raw
        ts = raw.transfer_syntax if raw is not None else EXPLICIT_VR_LE
    return str(ts).rstrip("\0 ")


def _extent(ds: Dataset, tag: int, as_read: AsRead | None = None) -> tuple[int, int | None]:
    """Bytes of the pixel data element's value as it is held (read from a file: its
    extent there, encapsulated items included; else the value's size), without reading
    it; and where in the file the value ends (None if not from the file)."""
    if as_read is not None:
        info = as_read.raw.node_info(as_read.pixel_node)
        return int(info[6] - info[5]), int(info[6])
    elem = ds[tag]
    raw = ds._raw
    if raw is not None and elem._node >= 0 and elem._src is raw:
        info = raw.node_info(elem._node)
        return int(info[6] - info[5]), int(info[6])
    value = elem.value
    if value is None:
        return 0, None
    if hasattr(value, "nbytes"):
        return int(value.nbytes), None
    try:
        return len(value), None
    except TypeError:
        return 0, None


def stored_nbytes(ds: Dataset, tag: int) -> int:
    """Bytes of the pixel data element's value as it is held (see :func:`_extent`)."""
    return _extent(ds, tag)[0]


_SIZE_ATTRIBUTES = "Rows x Columns x Samples per Pixel x Bits Allocated x Number of Frames"


def _size_values(info: PixelInfo, nframes: int | None = None) -> str:
    n = info.number_of_frames if nframes is None else nframes
    return f"{info.rows} x {info.columns} x {info.samples_per_pixel} x {info.bits_allocated} x {n}"


def check_fits(
    info: PixelInfo, nframes: int, available: int, *, compressed: bool, end: int | None = None
) -> None:
    """Raise ``PixelDataError`` unless ``available`` bytes of pixel data (compressed in a
    syntax dicomfast decodes, or native) can hold ``nframes`` frames as ``info`` describes
    them: checked before anything is allocated for them.  ``end``: where the data ends
    in the file (the error's offset; default ``available``)."""
    offset = available if end is None else end
    if compressed:
        need = nframes * info.frame_nbytes
        ratio = (
            MAX_RATIO_UNBOUNDED_CODECS if info.transfer_syntax in UNBOUNDED_CODECS else MAX_RATIO
        )
        if need > ratio * available + FRAME_SLACK * nframes:
            excess = info.frame_nbytes - FRAME_SLACK
            first_bad = (ratio * available) // excess if excess > 0 else 0
            raise PixelDataError(
                f"{available} bytes of compressed data cannot hold {nframes} frame(s) of "
                f"{info.rows}x{info.columns}x{info.samples_per_pixel} ({need} bytes; "
                f"{_SIZE_ATTRIBUTES}: {_size_values(info, nframes)})",
                offset=offset,
                tag=info.tag,
                frame=min(first_bad, nframes - 1),
            )
        return
    need = (nframes * info.native_frame_bits + 7) // 8
    if available < need:
        raise PixelDataError(
            f"native pixel data has {available} bytes but {nframes} frame(s) of "
            f"{info.rows}x{info.columns}x{info.samples_per_pixel} at {info.bits_allocated} bits "
            f"need {need} ({_SIZE_ATTRIBUTES}: {_size_values(info, nframes)})",
            offset=offset,
            tag=info.tag,
            frame=min(available * 8 // max(info.native_frame_bits, 1), nframes - 1),
        )


def check_native_extent(ds: Dataset, info: PixelInfo) -> None:
    """Raise ``PixelDataError`` unless native Pixel Data is as long as the attributes say:
    every frame (:func:`pixel_info` checked that), plus at most the pad byte to even
    length or trailing padding shorter than one frame (as some writers leave).  Checked
    where native pixels are passed on without being decoded."""
    available = stored_nbytes(ds, info.tag)
    frame_bits = info.native_frame_bits
    need = (info.number_of_frames * frame_bits + 7) // 8
    if available - need >= max(2, (frame_bits + 7) // 8):
        raise PixelDataError(
            f"native pixel data has {available} bytes, more than the {need} that "
            f"{_SIZE_ATTRIBUTES} ({_size_values(info)}) give",
            tag=info.tag,
        )


def pixel_info(ds: Dataset) -> PixelInfo:
    """Read and check the Image Pixel attributes of ``ds``: the one place they are
    checked (the rules a frame description must follow are the Rust codecs',
    ``_core.ImageInfo``), and that the pixel data held can be as large as they
    say, before anything is allocated from them."""
    fast = _as_read(ds)
    if fast is not None:
        values, tag, ts, as_read = fast
    else:
        tag, as_read = pixel_tag(ds), None
        values = {k: ds.get(k) for k in _ATTRIBUTES if k in ds}
        ts = transfer_syntax_of(ds)
    missing = [k for k in ("Rows", "Columns", "BitsAllocated") if k not in values]
    if missing:
        raise PixelDataError(f"missing required element(s) for pixel data: {', '.join(missing)}")
    rows = _int(values, "Rows") or 0
    columns = _int(values, "Columns") or 0
    bits_allocated = _int(values, "BitsAllocated") or 0
    samples = _int(values, "SamplesPerPixel", 1) or 1
    bits_stored = _int(values, "BitsStored", bits_allocated) or bits_allocated
    pr = _int(values, "PixelRepresentation", 0) or 0
    planar = _int(values, "PlanarConfiguration", 0) or 0
    frames = _int(values, "NumberOfFrames", 1, limit=MAX_FRAMES) or 1
    pi = values.get("PhotometricInterpretation") or ("MONOCHROME2" if samples == 1 else "RGB")
    pi = str(pi).strip()
    if tag != PIXEL_DATA:
        bits_allocated = 32 if tag == FLOAT_PIXEL_DATA else 64
        bits_stored, pr = bits_allocated, 0
    pr = 1 if pr == 1 else 0
    planar = 1 if planar == 1 and samples > 1 else 0
    info = PixelInfo(
        rows=rows,
        columns=columns,
        samples_per_pixel=samples,
        bits_allocated=bits_allocated,
        bits_stored=bits_stored,
        pixel_representation=pr,
        planar_configuration=planar,
        number_of_frames=frames,
        photometric_interpretation=pi,
        transfer_syntax=ts,
        tag=tag,
        as_read=as_read,
    )
    info.image  # noqa: B018 -- checks the attributes against the codecs' rules
    available, end = _extent(ds, tag, as_read)
    if info.is_encapsulated:
        if frames > available // _ITEM_HEADER:
            raise PixelDataError(
                f"{_NAMES['NumberOfFrames']} {frames} cannot be: the encapsulated Pixel Data "
                f"holds {available} bytes (at least {_ITEM_HEADER} per frame)",
                offset=available if end is None else end,
                tag=tag,
                frame=available // _ITEM_HEADER,
            )
        if info.transfer_syntax in CODEC_SYNTAXES:
            check_fits(info, frames, available, compressed=True, end=end)
    else:
        check_fits(info, frames, available, compressed=False, end=end)
    return info


__all__ = [
    "CODEC_SYNTAXES",
    "NATIVE_SYNTAXES",
    "PixelInfo",
    "check_fits",
    "check_native_extent",
    "pixel_info",
    "pixel_tag",
    "stored_nbytes",
]
