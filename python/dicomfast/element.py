"""Data elements: a tag, a VR and a value (PS3.5 §7.1).

``DataElement`` itself is implemented in the Rust core (so that a whole data
set's elements are built in one call); the helpers here are what it calls
back for comparing, printing and measuring changed values.
"""

from __future__ import annotations

from collections import abc
from typing import Any

from ._core import DataElement
from .tag import BaseTag, format_tag
from .valuerep import person_name as _person_name  # noqa: F401 - called by the core

_UID: Any = None  # dicomfast.uid.UID, bound on first use (uid imports this module's users)


def _uid(value: Any) -> Any:
    """A UI element's value with its strings as :class:`dicomfast.uid.UID` (lists in place)."""
    global _UID
    UID = _UID
    if UID is None:
        from .uid import UID

        _UID = UID
    if value.__class__ is str:
        return UID(value)
    if value.__class__ is list:
        for i, v in enumerate(value):
            if v.__class__ is str:
                value[i] = UID(v)
    return value


#: VRs whose values dicomfast gives as numpy arrays (views over the file where possible).
ARRAY_VRS = {"OB": "u1", "OW": "u2", "OF": "f4", "OD": "f8", "OL": "u4", "OV": "u8"}


def _equal(a: DataElement, b: Any) -> Any:
    if not isinstance(b, DataElement):
        return NotImplemented
    if a.tag != b.tag or a.VR != b.VR:
        return False
    x, y = a.value, b.value
    if hasattr(x, "dtype") or hasattr(y, "dtype"):
        import numpy as np

        try:
            return bytes(np.ascontiguousarray(x).data.cast("B")) == bytes(
                np.ascontiguousarray(y).data.cast("B")
            )
        except TypeError:
            return False
    return bool(x == y)


def _vm(elem: DataElement) -> int:
    """Value Multiplicity counted as pydicom does (a sequence: 1; bytes and arrays: 1
    unless empty)."""
    v = elem.value
    if v is None:
        return 0
    if elem.VR == "SQ":
        return 1
    if isinstance(v, str | bytes | bytearray):
        return 1 if v else 0
    if hasattr(v, "nbytes"):
        return 1 if v.nbytes else 0
    if isinstance(v, abc.Sequence):
        return len(v)
    return 1


def _encoded_length(elem: DataElement) -> int:
    from .writer import encode_value

    return len(encode_value(elem, explicit_vr=True, big_endian=False, charset=None))


def _repval(elem: DataElement, limit: int = 64) -> str:
    v = elem.value
    if elem.VR == "SQ":
        return f"<Sequence of {len(v)} item{'s' if len(v) != 1 else ''}>"
    if hasattr(v, "nbytes") or isinstance(v, bytes | bytearray):
        n = v.nbytes if hasattr(v, "nbytes") else len(v)
        return f"<{n} bytes>"
    text = repr(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _repr(elem: DataElement) -> str:
    return f"{format_tag(elem.tag)} {elem.name:<35} {elem.VR}: {_repval(elem)}"


__all__ = ["ARRAY_VRS", "BaseTag", "DataElement"]
