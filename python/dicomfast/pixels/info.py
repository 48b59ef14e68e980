"""The Image Pixel attributes (PS3.3 C.7.6.3) that decide how pixel data is laid out,
gathered once per decode, and the numpy dtype and shape they give (as pydicom shapes
``pixel_array``)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

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
NATIVE_SYNTAXES = frozenset(
    {"1.2.840.10008.1.2", EXPLICIT_VR_LE, "1.2.840.10008.1.2.1.99", EXPLICIT_VR_BE}
)
#: Encapsulated transfer syntaxes dicomfast decodes and encodes.
CODEC_SYNTAXES = frozenset({RLE_LOSSLESS, JPEG_LOSSLESS, JPEG_LOSSLESS_SV1, DEFLATED_IMAGE_FRAME})


def _int(ds: Dataset, keyword: str, default: int | None = None) -> int | None:
    v: Any = ds.get(keyword)
    if isinstance(v, list | tuple):
        v = v[0] if v else None
    if v is None or v == "":
        return default
    try:
        return int(v)
    except (TypeError, ValueError):
        raise PixelDataError(f"{keyword} has the invalid value {v!r}") from None


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
        return self.transfer_syntax not in NATIVE_SYNTAXES

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


def pixel_info(ds: Dataset) -> PixelInfo:
    """Read and check the Image Pixel attributes of ``ds``."""
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
    frames = _int(ds, "NumberOfFrames", 1) or 1
    pi = str(ds.get("PhotometricInterpretation") or ("MONOCHROME2" if samples == 1 else "RGB"))
    pi = pi.strip()
    if tag != PIXEL_DATA:
        bits_allocated = 32 if tag == FLOAT_PIXEL_DATA else 64
        bits_stored, pr = bits_allocated, 0
    if rows <= 0 or columns <= 0:
        raise PixelDataError(f"Rows and Columns must be positive (got {rows} x {columns})")
    if bits_allocated not in (1, 8, 16, 32, 64):
        raise PixelDataError(f"Bits Allocated {bits_allocated} is not 1, 8, 16, 32 or 64")
    if not 1 <= bits_stored <= bits_allocated:
        raise PixelDataError(f"Bits Stored {bits_stored} is not in 1..{bits_allocated}")
    return PixelInfo(
        rows=rows,
        columns=columns,
        samples_per_pixel=samples,
        bits_allocated=bits_allocated,
        bits_stored=bits_stored,
        pixel_representation=1 if pr == 1 else 0,
        planar_configuration=1 if planar == 1 and samples > 1 else 0,
        number_of_frames=frames,
        photometric_interpretation=pi,
        transfer_syntax=transfer_syntax_of(ds),
        tag=tag,
    )


__all__ = ["CODEC_SYNTAXES", "NATIVE_SYNTAXES", "PixelInfo", "pixel_info", "pixel_tag"]
