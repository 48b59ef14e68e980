"""Tags: ``int`` values ``group << 16 | element``, made from the forms users write.

``Tag(...)`` gives a :class:`BaseTag`, an ``int`` with pydicom's ``.group``,
``.element`` and ``.is_private`` (``DataElement.tag`` is one too); it compares and
hashes as the int, so ``ds[0x00100010]`` and ``ds[Tag("PatientName")]`` are the same.
"""

from __future__ import annotations

from typing import Any

from .dictionary import tag_for_keyword

TagLike = int | str | tuple[int, int]


class BaseTag(int):
    """A tag: an ``int`` with pydicom's tag properties; prints as ``(GGGG,EEEE)``."""

    __slots__ = ()

    @property
    def group(self) -> int:
        return self >> 16

    @property
    def element(self) -> int:
        return self & 0xFFFF

    elem = element

    @property
    def is_private(self) -> bool:
        """An odd group (PS3.5 7.8.1), as pydicom tests it."""
        return self.group % 2 == 1

    @property
    def is_private_creator(self) -> bool:
        return self.is_private and 0x0010 <= self.element <= 0x00FF

    @property
    def private_creator(self) -> BaseTag:
        """The tag of the private creator element reserving this private tag's block."""
        return BaseTag(self.group << 16 | self.element >> 8)

    @property
    def json_key(self) -> str:
        return f"{int(self):08X}"

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, int):
            return int(self) == int(other)
        try:
            return int(self) == tag_int(other)
        except (KeyError, TypeError, ValueError):
            return False

    def __ne__(self, other: Any) -> bool:
        return not self == other

    __hash__ = int.__hash__

    def __str__(self) -> str:
        return format_tag(self)

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return str(self) if not spec else int.__format__(int(self), spec)


def tag_int(arg: TagLike, arg2: int | None = None) -> int:
    """The plain ``int`` of a tag given in any of the forms :func:`Tag` takes."""
    if arg2 is not None:
        arg = (arg, arg2)  # type: ignore[assignment]
    if isinstance(arg, int):
        if not 0 <= arg <= 0xFFFFFFFF:
            raise ValueError(f"tag {arg:#x} out of range")
        return int(arg)
    if isinstance(arg, tuple | list):
        group, element = arg
        if isinstance(group, str):
            group, element = int(group, 16), int(element, 16)
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
        raise ValueError(f"{arg!r} is neither a dictionary keyword nor a tag")
    raise TypeError(f"cannot make a tag from {type(arg).__name__}")


def Tag(arg: TagLike, arg2: int | None = None) -> BaseTag:  # noqa: N802 - pydicom's name
    """``Tag(0x00100010)``, ``Tag(0x0010, 0x0010)``, ``Tag((0x0010, 0x0010))``,
    ``Tag("PatientName")``, ``Tag("00100010")``: a :class:`BaseTag`."""
    if arg.__class__ is BaseTag and arg2 is None:
        return arg
    return BaseTag(tag_int(arg, arg2))


def format_tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
