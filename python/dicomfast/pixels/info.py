"""The Image Pixel attributes (PS3.3 C.7.6.3) that decide how pixel data is laid out,
gathered once per decode, and the numpy dtype and shape they give (as pydicom shapes
``pixel_array``)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _core, syntaxes
from ..errors import PixelDataError

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


#: Compressed data never expands more than this (deflate's limit is 1032:1) ...
MAX_RATIO = 1100
#: ... except JPEG 2000 / HTJ2K and JPEG-LS, which code a blank or constant frame in a few
#: bytes per tile or run whatever its size (pydicom's JPEG2000.dcm: 1024x256x16 in 274 bytes).
MAX_RATIO_UNBOUNDED_CODECS = 1 << 16
_UNBOUNDED_CODECS = frozenset(
    "1.2.840.10008.1.2.4." + n for n in ("80", "81", "90", "91", "92", "93", "201", "202", "203")
)
#: ... plus this much per frame (headers, tables, tiny frames).
FRAME_SLACK = 64 << 10
#: Number of Frames (IS) above this is no image anyone stores (and overflows the codecs).
MAX_FRAMES = 2**31 - 1
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


def _int(ds: Dataset, keyword: str, default: int | None = None, limit: int = 0xFFFF) -> int | None:
    """The value of ``keyword`` as an int in ``0..limit`` (US values; Number of Frames
    is checked by the caller), ``default`` if absent or empty."""
    v: Any = ds.get(keyword)
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

    @property
    def is_float(self) -> bool:
        return self.tag != PIXEL_DATA

    @property
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

    @property
    def dtype(self) -> np.dtype:
        return _dtype(self.is_float, self.bits_allocated, self.pixel_representation)

    @property
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

    @property
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


def _extent(ds: Dataset, tag: int) -> tuple[int, int | None]:
    """Bytes of the pixel data element's value as it is held (read from a file: its
    extent there, encapsulated items included; else the value's size), without reading
    it; and where in the file the value ends (None if not from the file)."""
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
            MAX_RATIO_UNBOUNDED_CODECS if info.transfer_syntax in _UNBOUNDED_CODECS else MAX_RATIO
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
    tag = pixel_tag(ds)
    missing = [k for k in ("Rows", "Columns", "BitsAllocated") if k not in ds]
    if missing:
        raise PixelDataError(f"missing required element(s) for pixel data: {', '.join(missing)}")
    rows = _int(ds, "Rows") or 0
    columns = _int(ds, "Columns") or 0
    bits_allocated = _int(ds, "BitsAllocated") or 0
    samples = _int(ds, "SamplesPerPixel", 1) or 1
    bits_stored = _int(ds, "BitsStored", bits_allocated) or bits_allocated
    pr = _int(ds, "PixelRepresentation", 0) or 0
    planar = _int(ds, "PlanarConfiguration", 0) or 0
    frames = _int(ds, "NumberOfFrames", 1, limit=MAX_FRAMES) or 1
    pi = str(ds.get("PhotometricInterpretation") or ("MONOCHROME2" if samples == 1 else "RGB"))
    pi = pi.strip()
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
        transfer_syntax=transfer_syntax_of(ds),
        tag=tag,
    )
    info.image  # noqa: B018 -- checks the attributes against the codecs' rules
    available, end = _extent(ds, tag)
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
