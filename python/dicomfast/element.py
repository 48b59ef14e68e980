"""Data elements: a tag, a VR and a value (PS3.5 §7.1)."""

from __future__ import annotations

from typing import Any

from .dictionary import entry
from .tag import format_tag

#: VRs whose values dicomfast gives as numpy arrays (views over the file where possible).
ARRAY_VRS = {"OB": "u1", "OW": "u2", "OF": "f4", "OD": "f8", "OL": "u4", "OV": "u8"}


class DataElement:
    """One element. ``value`` is typed by VR: ``str`` (or ``list[str]``) for
    text, ``int``/``float`` (or lists) for numbers, numpy arrays for OB/OW/OF/
    OD/OL/OV, ``bytes`` for UN, a list of :class:`~dicomfast.Dataset` for SQ."""

    __slots__ = ("tag", "VR", "_value", "_node", "_length", "_src")

    def __init__(
        self,
        tag: int,
        VR: str,  # noqa: N803
        value: Any,
        *,
        _node: int = -1,
        _length: int | None = None,
        _src: Any = None,
    ) -> None:
        self.tag = tag
        self.VR = VR
        self._value = value
        self._node = _node  # index of the unmodified element in the parsed file, else -1
        self._length = _length
        self._src = _src  # the RawFile _node points into

    @property
    def value(self) -> Any:
        return self._value

    @value.setter
    def value(self, v: Any) -> None:
        self._value = v
        self._node = -1
        self._length = None

    @property
    def vr(self) -> str:
        return self.VR

    @property
    def keyword(self) -> str:
        e = entry(self.tag)
        return e.keyword if e is not None else ""

    @property
    def name(self) -> str:
        if self.tag >> 16 & 1 and self.tag >> 16 not in (1, 3, 5, 7, 0xFFFF):
            if 0x10 <= self.tag & 0xFFFF <= 0xFF:
                return "Private Creator"
            return "Private tag data"
        e = entry(self.tag)
        return e.name if e is not None else "Unknown"

    @property
    def length(self) -> int:
        """The value length as read (0xFFFFFFFF for undefined), or as it would be written."""
        if self._length is not None:
            return self._length
        from .writer import encode_value

        return len(encode_value(self, explicit_vr=True, big_endian=False, charset=None))

    @property
    def is_raw(self) -> bool:
        """True while the element is exactly as it was read."""
        return self._node >= 0

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DataElement):
            return NotImplemented
        if self.tag != other.tag or self.VR != other.VR:
            return False
        a, b = self._value, other._value
        try:
            import numpy as np

            if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
                return bytes(memoryview(np.ascontiguousarray(a))) == bytes(
                    memoryview(np.ascontiguousarray(b))
                )
        except TypeError:
            return False
        return bool(a == b)

    __hash__ = None  # type: ignore[assignment]

    def repval(self, limit: int = 64) -> str:
        v = self._value
        if self.VR == "SQ":
            return f"<Sequence of {len(v)} item{'s' if len(v) != 1 else ''}>"
        if hasattr(v, "nbytes") or isinstance(v, bytes | bytearray):
            n = v.nbytes if hasattr(v, "nbytes") else len(v)
            return f"<{n} bytes>"
        text = repr(v)
        return text if len(text) <= limit else text[: limit - 3] + "..."

    def __repr__(self) -> str:
        return f"{format_tag(self.tag)} {self.name:<35} {self.VR}: {self.repval()}"
