"""Data elements: a tag, a VR and a value (PS3.5 §7.1).

``DataElement`` itself is implemented in the Rust core (so that a whole data
set's elements are built in one call); the helpers here are what it calls
back for comparing, printing and measuring changed values.
"""

from __future__ import annotations

from typing import Any

from ._core import DataElement
from .tag import format_tag

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
            return bytes(memoryview(np.ascontiguousarray(x)).cast("B")) == bytes(
                memoryview(np.ascontiguousarray(y)).cast("B")
            )
        except TypeError:
            return False
    return bool(x == y)


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


__all__ = ["ARRAY_VRS", "DataElement"]
