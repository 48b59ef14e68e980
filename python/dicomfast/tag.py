"""Tags: ``int`` values ``group << 16 | element``, made from the forms users write."""

from __future__ import annotations

from .dictionary import tag_for_keyword

TagLike = int | str | tuple[int, int]


def Tag(arg: TagLike) -> int:  # noqa: N802 - pydicom-familiar constructor name
    """``Tag(0x00100010)``, ``Tag((0x0010, 0x0010))``, ``Tag("PatientName")``, ``Tag("00100010")``."""
    if isinstance(arg, int):
        if not 0 <= arg <= 0xFFFFFFFF:
            raise ValueError(f"tag {arg:#x} out of range")
        return arg
    if isinstance(arg, tuple):
        group, element = arg
        if not (0 <= group <= 0xFFFF and 0 <= element <= 0xFFFF):
            raise ValueError(f"tag {arg} out of range")
        return group << 16 | element
    if isinstance(arg, str):
        tag = tag_for_keyword(arg)
        if tag is not None:
            return tag
        text = arg.strip("()").replace(",", "").replace(" ", "")
        if len(text) == 8:
            try:
                return int(text, 16)
            except ValueError:
                pass
        raise KeyError(f"{arg!r} is neither a dictionary keyword nor a tag")
    raise TypeError(f"cannot make a tag from {type(arg).__name__}")


def format_tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
