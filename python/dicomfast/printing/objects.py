"""The print SCP's managed SOP instances (PS3.4 H.4) for one association: Film
Session, Film Boxes with their Image Boxes, Presentation LUTs.  A request
that cannot be honoured raises :class:`PrintRequestError` carrying the PS3.4
status to answer with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DicomError
from . import sopclasses as S
from .film import LayoutError, box_count, film_inches, parse_display_format
from .render import MAGNIFICATIONS, FilmLayout, ImageBoxContent, PresentationLut


class PrintRequestError(DicomError):
    """A print request refused with a DIMSE status (PS3.4 H, PS3.7 C)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _get(ds: Any, tag: int, default: Any = None) -> Any:
    if ds is None or tag not in ds:
        return default
    v = ds[tag].value
    if v is None or (isinstance(v, (str, bytes, list, tuple)) and len(v) == 0):
        return default
    return v


def _text(ds: Any, tag: int, default: str | None = None) -> str | None:
    v = _get(ds, tag)
    if v is None:
        return default
    if isinstance(v, (list, tuple)):
        v = "\\".join(str(x) for x in v)
    return str(v).strip()


def _int(ds: Any, tag: int, default: int | None = None) -> int | None:
    v = _get(ds, tag)
    if v is None:
        return default
    if isinstance(v, (list, tuple)):
        v = v[0]
    try:
        return int(float(v))
    except (TypeError, ValueError):
        raise PrintRequestError(
            S.INVALID_ATTRIBUTE_VALUE, f"({tag >> 16:04X},{tag & 0xFFFF:04X}) not a number"
        ) from None


def _ref_uid(ds: Any, tag: int) -> str | None:
    seq = _get(ds, tag)
    if not seq:
        return None
    return _text(seq[0], S.REFERENCED_SOP_INSTANCE_UID)


@dataclass
class FilmBox:
    uid: str
    session: FilmSession
    layout: FilmLayout
    #: Image Box SOP Instance UID -> its position.
    image_boxes: dict[str, int]
    image_box_class: str
    attributes: dict[int, Any] = field(default_factory=dict)
    plut_uid: str | None = None
    printed: int = 0


@dataclass
class FilmSession:
    uid: str
    copies: int = 1
    label: str = ""
    plut_uid: str | None = None
    film_boxes: list[FilmBox] = field(default_factory=list)


_DENSITY_WORDS = ("BLACK", "WHITE")


def _check_density(text: str | None, what: str) -> str | None:
    if text is None:
        return None
    t = text.upper()
    if t in _DENSITY_WORDS or t.isdigit():
        return t
    raise PrintRequestError(S.INVALID_ATTRIBUTE_VALUE, f"bad {what} {text!r}")


def presentation_lut_from(ds: Any) -> PresentationLut:
    """A Presentation LUT SOP instance's attributes -> :class:`PresentationLut`."""
    seq = _get(ds, S.PRESENTATION_LUT_SEQUENCE)
    shape = _text(ds, S.PRESENTATION_LUT_SHAPE)
    if seq:
        item = seq[0]
        desc = _get(item, S.LUT_DESCRIPTOR)
        data = _get(item, S.LUT_DATA)
        if desc is None or data is None:
            raise PrintRequestError(
                S.MISSING_ATTRIBUTE, "Presentation LUT Sequence without descriptor or data"
            )
        desc = list(desc) if isinstance(desc, (list, tuple, np.ndarray)) else [desc]
        if len(desc) != 3:
            raise PrintRequestError(S.INVALID_ATTRIBUTE_VALUE, "LUT Descriptor needs 3 values")
        entries = int(desc[0]) or 65536
        bits = int(desc[2])
        if isinstance(data, (bytes, bytearray, memoryview)):
            table = np.frombuffer(bytes(data), "<u2")
        else:
            table = np.asarray(data, dtype=np.int64).reshape(-1)
        if len(table) < entries or not 8 <= bits <= 16:
            raise PrintRequestError(
                S.INVALID_ATTRIBUTE_VALUE, "LUT Data does not match its descriptor"
            )
        return PresentationLut(None, int(desc[1]), bits, np.asarray(table[:entries], np.int64))
    if shape is None:
        raise PrintRequestError(S.MISSING_ATTRIBUTE, "Presentation LUT Sequence or Shape required")
    if shape.upper() not in ("IDENTITY", "LIN OD"):
        raise PrintRequestError(S.INVALID_ATTRIBUTE_VALUE, f"Presentation LUT Shape {shape!r}")
    return PresentationLut(shape.upper())


def film_layout_from(ds: Any, *, color: bool, default_size: str) -> FilmLayout:
    """A Film Box N-CREATE attribute list -> :class:`FilmLayout` (checked)."""
    fmt = _text(ds, S.IMAGE_DISPLAY_FORMAT)
    if not fmt:
        raise PrintRequestError(S.MISSING_ATTRIBUTE, "Image Display Format (2010,0010) required")
    size = (_text(ds, S.FILM_SIZE_ID) or default_size).upper()
    orient = (_text(ds, S.FILM_ORIENTATION) or "PORTRAIT").upper()
    mag = (_text(ds, S.MAGNIFICATION_TYPE) or "CUBIC").upper()
    try:
        parse_display_format(fmt)
        film_inches(size, orient)
    except LayoutError as e:
        raise PrintRequestError(S.INVALID_ATTRIBUTE_VALUE, str(e)) from None
    if mag not in MAGNIFICATIONS:
        raise PrintRequestError(S.INVALID_ATTRIBUTE_VALUE, f"Magnification Type {mag!r}")
    dmin = _int(ds, S.MIN_DENSITY, 20)
    dmax = _int(ds, S.MAX_DENSITY, 300)
    assert dmin is not None and dmax is not None
    if not 0 <= dmin < dmax <= 500:
        raise PrintRequestError(S.INVALID_ATTRIBUTE_VALUE, f"Min/Max Density {dmin}/{dmax}")
    trim = (_text(ds, S.TRIM) or "NO").upper()
    if trim not in ("YES", "NO"):
        raise PrintRequestError(S.INVALID_ATTRIBUTE_VALUE, f"Trim {trim!r}")
    return FilmLayout(
        display_format=fmt,
        film_size=size,
        orientation=orient,
        magnification=mag,
        border_density=_check_density(_text(ds, S.BORDER_DENSITY), "Border Density") or "BLACK",
        empty_density=_check_density(_text(ds, S.EMPTY_IMAGE_DENSITY), "Empty Image Density")
        or "BLACK",
        min_density=dmin,
        max_density=dmax,
        trim=trim == "YES",
        illumination=float(_int(ds, S.ILLUMINATION, 2000) or 2000),
        ambient=float(_int(ds, S.REFLECTED_AMBIENT_LIGHT, 10) or 0),
        color=color,
    )


def image_from(ds: Any, *, color: bool) -> ImageBoxContent:
    """An Image Box N-SET modification list -> :class:`ImageBoxContent` (checked:
    PS3.3 C.13.5/C.13.6: grey 8 or 12 bits stored, MONOCHROME1/2; colour RGB 8 bits)."""
    tag = S.BASIC_COLOR_IMAGE_SEQUENCE if color else S.BASIC_GRAYSCALE_IMAGE_SEQUENCE
    seq = _get(ds, tag)
    if not seq:
        what = "Basic Color Image Sequence" if color else "Basic Grayscale Image Sequence"
        raise PrintRequestError(S.MISSING_ATTRIBUTE, f"{what} required")
    item = seq[0]
    rows, cols = _int(item, 0x00280010), _int(item, 0x00280011)
    alloc, stored = _int(item, 0x00280100), _int(item, 0x00280101)
    spp = _int(item, 0x00280002, 3 if color else 1)
    pi = (_text(item, 0x00280004) or ("RGB" if color else "MONOCHROME2")).upper()
    data = _get(item, 0x7FE00010)
    if rows is None or cols is None or alloc is None or stored is None or data is None:
        raise PrintRequestError(
            S.MISSING_ATTRIBUTE, "image needs Rows, Columns, Bits Allocated/Stored and Pixel Data"
        )
    if not (0 < rows <= 16384 and 0 < cols <= 16384):
        raise PrintRequestError(S.INVALID_ATTRIBUTE_VALUE, f"image size {rows}x{cols}")
    raw = data.tobytes() if isinstance(data, np.ndarray) else bytes(data)
    if color:
        if (alloc, stored, spp, pi) != (8, 8, 3, "RGB"):
            raise PrintRequestError(S.INVALID_ATTRIBUTE_VALUE, "colour images are 8-bit RGB")
        if len(raw) < rows * cols * 3:
            raise PrintRequestError(
                S.INVALID_ATTRIBUTE_VALUE, "Pixel Data shorter than Rows x Columns"
            )
        planar = _int(item, 0x00280006, 1)
        flat = np.frombuffer(raw, np.uint8, rows * cols * 3)
        pixels: np.ndarray = (
            flat.reshape(3, rows, cols).transpose(1, 2, 0)
            if planar == 1
            else flat.reshape(rows, cols, 3)
        )
        return ImageBoxContent(np.ascontiguousarray(pixels), 8, **_box_options(ds))
    if spp != 1 or pi not in ("MONOCHROME1", "MONOCHROME2"):
        raise PrintRequestError(
            S.INVALID_ATTRIBUTE_VALUE, f"grayscale image must be MONOCHROME1/2, not {pi}"
        )
    if (alloc, stored) not in ((8, 8), (16, 12)):
        raise PrintRequestError(
            S.INVALID_ATTRIBUTE_VALUE, f"Bits Allocated/Stored {alloc}/{stored}: 8/8 or 16/12"
        )
    dtype = np.uint8 if alloc == 8 else np.dtype("<u2")
    need = rows * cols * (alloc // 8)
    if len(raw) < need:
        raise PrintRequestError(S.INVALID_ATTRIBUTE_VALUE, "Pixel Data shorter than Rows x Columns")
    pixels = np.frombuffer(raw, dtype, rows * cols).reshape(rows, cols)
    if stored == 12:
        pixels = np.minimum(pixels, 4095).astype(np.uint16)
    if pi == "MONOCHROME1":
        pixels = ((1 << stored) - 1 - pixels).astype(pixels.dtype)
    return ImageBoxContent(np.ascontiguousarray(pixels), stored, **_box_options(ds))


def _box_options(ds: Any) -> dict[str, Any]:
    polarity = (_text(ds, S.POLARITY) or "NORMAL").upper()
    if polarity not in ("NORMAL", "REVERSE"):
        raise PrintRequestError(S.INVALID_ATTRIBUTE_VALUE, f"Polarity {polarity!r}")
    mag = _text(ds, S.MAGNIFICATION_TYPE)
    if mag is not None and mag.upper() not in MAGNIFICATIONS:
        raise PrintRequestError(S.INVALID_ATTRIBUTE_VALUE, f"Magnification Type {mag!r}")
    size = _get(ds, S.REQUESTED_IMAGE_SIZE)
    try:
        mm = (
            float(size[0] if isinstance(size, (list, tuple)) else size)
            if size is not None
            else None
        )
    except (TypeError, ValueError):
        raise PrintRequestError(S.INVALID_ATTRIBUTE_VALUE, "Requested Image Size") from None
    return {
        "polarity": polarity,
        "magnification": mag.upper() if mag else None,
        "requested_size_mm": mm,
    }


def check_box_count(fmt: str) -> int:
    try:
        return box_count(fmt)
    except LayoutError as e:
        raise PrintRequestError(S.INVALID_ATTRIBUTE_VALUE, str(e)) from None
