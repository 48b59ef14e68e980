"""Comparing dicomfast's reading of a file with pydicom's, element for element."""

from __future__ import annotations

from typing import Any

import numpy as np

AMBIGUOUS = {"US or SS", "OB or OW", "US or SS or OW", "US or OW", "OB or OW or UN"}


def norm(value: Any) -> Any:
    """A plain-Python form of a value from either toolkit."""
    import dicomfast
    import pydicom
    from pydicom.multival import MultiValue
    from pydicom.valuerep import PersonName

    if isinstance(value, dicomfast.Dataset | pydicom.Dataset):
        return value
    if isinstance(value, np.ndarray):
        return value.tobytes()
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, MultiValue | list | tuple):
        return [norm(v) for v in value]
    if isinstance(value, PersonName):
        return str(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str(value)
    return value


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def compare(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Differences between a dicomfast and a pydicom data set (empty if equal)."""
    diffs: list[str] = []
    our_tags = [e.tag for e in ours]
    their_tags = [int(e.tag) for e in theirs]
    if our_tags != their_tags:
        missing = sorted(set(their_tags) - set(our_tags))
        extra = sorted(set(our_tags) - set(their_tags))
        diffs.append(f"{path} tags differ: missing {missing[:5]} extra {extra[:5]}")
        return diffs
    for a, b in zip(ours, theirs, strict=True):
        where = f"{path}({a.tag >> 16:04X},{a.tag & 0xFFFF:04X})"
        bvr = b.VR
        if a.tag >> 16 & 1 and a.VR in ("UN", "UL") and bvr != "SQ":
            # Private data elements read with implicit VR: dicomfast has no
            # private dictionary (they stay UN); pydicom uses its own.
            continue
        if a.tag >> 16 & 1 and a.VR == "SQ" and bvr == "UN":
            # A private sequence read with implicit VR: dicomfast recognises the
            # items in its value (as DCMTK does); pydicom keeps the bytes.
            continue
        if (
            a.VR != bvr
            and bvr not in AMBIGUOUS
            and not (a.VR in ("OB", "OW") and bvr in ("OB", "OW"))
        ):
            diffs.append(f"{where} VR {a.VR} != {bvr}")
        if bvr == "SQ" or a.VR == "SQ":
            if len(a.value) != len(b.value):
                diffs.append(f"{where} {len(a.value)} items != {len(b.value)}")
                continue
            for n, (x, y) in enumerate(zip(a.value, b.value, strict=True)):
                diffs.extend(compare(x, y, f"{where}[{n}]"))
            continue
        va, vb = norm(a.value), norm(b.value)
        if isinstance(va, bytes) and isinstance(vb, bytes):
            # pydicom keeps encapsulated pixel data without the sequence delimiter.
            ok = va == vb or va[: len(vb)] == vb and va[len(vb) :] == b"\xfe\xff\xdd\xe0\0\0\0\0"
        elif isinstance(vb, bytes) and isinstance(va, int | float | list | str):
            continue  # pydicom left a value it could not resolve as raw bytes
        elif vb is None and va in ("", None, [], b""):
            ok = True
        elif va is None and vb in ("", None, []):
            ok = True
        elif a.VR in ("CS", "AE", "DA", "TM", "DT", "UI") and isinstance(vb, list | str):
            # Leading/trailing spaces are not significant in these VRs (PS3.5 6.2);
            # dicomfast strips every value, pydicom only the whole element.
            strip = lambda v: [x.strip() for x in v] if isinstance(v, list) else v.strip()  # noqa: E731
            ok = _equal(va, strip(vb))
        else:
            ok = _equal(va, vb)
        if not ok:
            diffs.append(f"{where} {a.VR}: {str(va)[:80]!r} != {str(vb)[:80]!r}")
    return diffs
