"""Film geometry (PS3.3 C.13.5): film sizes, orientation and the Image Display
Format's layout of image boxes on the sheet, in device pixels."""

from __future__ import annotations

from dataclasses import dataclass

#: Film Size ID (PS3.3 C.13.5.1) -> (width, height) in inches, portrait.
#: 17INX17IN is not a defined term of PS3.3 but common on laser imagers.
FILM_SIZES: dict[str, tuple[float, float]] = {
    "8INX10IN": (8.0, 10.0),
    "8_5INX11IN": (8.5, 11.0),
    "10INX12IN": (10.0, 12.0),
    "10INX14IN": (10.0, 14.0),
    "11INX14IN": (11.0, 14.0),
    "11INX17IN": (11.0, 17.0),
    "14INX14IN": (14.0, 14.0),
    "14INX17IN": (14.0, 17.0),
    "17INX17IN": (17.0, 17.0),
    "24CMX24CM": (24 / 2.54, 24 / 2.54),
    "24CMX30CM": (24 / 2.54, 30 / 2.54),
    "A4": (210 / 25.4, 297 / 25.4),
    "A3": (297 / 25.4, 420 / 25.4),
}
ORIENTATIONS = ("PORTRAIT", "LANDSCAPE")


class LayoutError(ValueError):
    """An Image Display Format, Film Size ID or orientation this printer cannot lay out."""


@dataclass(frozen=True)
class Box:
    """One image box on the sheet: its position (1-based, PS3.3 C.13.5.1) and
    pixel rectangle."""

    position: int
    x: int
    y: int
    width: int
    height: int


def film_inches(size_id: str, orientation: str = "PORTRAIT") -> tuple[float, float]:
    """(width, height) of the film in inches, as laid (LANDSCAPE: the longer side across)."""
    size = FILM_SIZES.get(size_id.strip().upper())
    if size is None:
        raise LayoutError(f"unsupported Film Size ID {size_id!r}")
    orient = (orientation or "PORTRAIT").strip().upper()
    if orient not in ORIENTATIONS:
        raise LayoutError(f"unsupported Film Orientation {orientation!r}")
    w, h = size
    return (max(w, h), min(w, h)) if orient == "LANDSCAPE" else (min(w, h), max(w, h))


def film_pixels(size_id: str, orientation: str, dpi: int) -> tuple[int, int]:
    """(width, height) of the sheet in device pixels at ``dpi``."""
    w, h = film_inches(size_id, orientation)
    return round(w * dpi), round(h * dpi)


def _counts(text: str) -> list[int]:
    try:
        counts = [int(v) for v in text.split(",")]
    except ValueError:
        raise LayoutError(f"bad counts {text!r}") from None
    if not counts or any(c < 1 or c > 64 for c in counts):
        raise LayoutError(f"bad counts {text!r}")
    return counts


def parse_display_format(fmt: str) -> tuple[str, list[int]]:
    """Image Display Format -> (kind, counts): ``STANDARD\\C,R`` is C columns by R
    rows, ``ROW\\n1,n2..`` rows of n_i images, ``COL\\n1,n2..`` columns of n_i images."""
    parts = [p.strip().upper() for p in (fmt or "").split("\\")]
    if len(parts) != 2:
        raise LayoutError(f"unsupported Image Display Format {fmt!r}")
    kind, rest = parts
    counts = _counts(rest)
    if kind == "STANDARD":
        if len(counts) != 2:
            raise LayoutError(f"STANDARD needs C,R: {fmt!r}")
        return kind, counts
    if kind in ("ROW", "COL"):
        return kind, counts
    raise LayoutError(f"unsupported Image Display Format {fmt!r}")


def box_count(fmt: str) -> int:
    kind, counts = parse_display_format(fmt)
    return counts[0] * counts[1] if kind == "STANDARD" else sum(counts)


def _split(total: int, n: int) -> list[tuple[int, int]]:
    """``total`` pixels cut into ``n`` nearly equal runs: (start, length)."""
    edges = [round(i * total / n) for i in range(n + 1)]
    return [(edges[i], edges[i + 1] - edges[i]) for i in range(n)]


def layout(fmt: str, width: int, height: int) -> list[Box]:
    """The image boxes of ``fmt`` on a ``width`` x ``height`` sheet, in Image Box
    Position order: left to right, top to bottom (COL: top to bottom, left to right)."""
    kind, counts = parse_display_format(fmt)
    boxes: list[Box] = []
    if kind == "STANDARD":
        cols, rows = counts
        for y, h in _split(height, rows):
            for x, w in _split(width, cols):
                boxes.append(Box(len(boxes) + 1, x, y, w, h))
    elif kind == "ROW":
        for (y, h), n in zip(_split(height, len(counts)), counts, strict=True):
            for x, w in _split(width, n):
                boxes.append(Box(len(boxes) + 1, x, y, w, h))
    else:
        for (x, w), n in zip(_split(width, len(counts)), counts, strict=True):
            for y, h in _split(height, n):
                boxes.append(Box(len(boxes) + 1, x, y, w, h))
    return boxes
