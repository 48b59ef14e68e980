"""The comparable forms of the tasks' results (see ``registry.TASKS``) and the
equality the runner checks them with."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: VRs whose values are bytes/arrays, not text: left out of ``values``
BULK_VRS = frozenset({"OB", "OW", "OF", "OD", "OL", "OV", "UN", "SQ"})


def canonical(value: Any) -> str:
    """A value as text every toolkit agrees on: strings without padding (spaces,
    NULs), numbers as ``%.6g``, multiple values joined by a backslash."""
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, str):
        return value.strip(" \x00")
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float):
        return format(float(value), ".6g")
    if type(value).__name__ == "PersonName":
        return str(value).strip(" \x00")
    if type(value).__name__ in ("DSfloat", "IS", "DSdecimal"):
        return format(float(value), ".6g")
    if hasattr(value, "tolist"):  # numpy
        value = value.tolist()
        if not isinstance(value, list):
            return canonical(value)
    if isinstance(value, Iterable):
        return "\\".join(canonical(v) for v in value)
    return str(value).strip(" \x00")


def parse_form(tags: Iterable[int]) -> list[int]:
    """Top-level tags as ``parse`` compares them: without file meta (0002), item
    tags (FFFE) and Data Set Trailing Padding (FFFC,FFFC), which DCMTK drops."""
    return [int(t) for t in tags if int(t) >> 16 not in (0x0002, 0xFFFE) and int(t) != 0xFFFCFFFC]


def number_text(text: str) -> str:
    """A number printed by another toolkit, as :func:`canonical` writes it."""
    try:
        return format(float(text), ".6g")
    except ValueError:
        return text.strip()


def _private_data(tag: int) -> bool:
    """A private data element (odd group, element 0x1000 and up; its creator's LO is kept)."""
    return bool(tag >> 16 & 1) and tag & 0xFFFF >= 0x1000


def values_form(items: Iterable[tuple[int, str, Any]]) -> list[tuple[int, str]]:
    """(tag, VR, value) of every element -> the sorted (tag, text) list ``values`` compares.
    Private data elements are left out: in an implicit VR file their VRs, so their values,
    come from each toolkit's own private dictionary (pydicom gives a GE CT's 167 private
    values as numbers and text; dicomfast, with none, as bytes)."""
    return sorted(
        (tag, canonical(value))
        for tag, vr, value in items
        if vr not in BULK_VRS
        and tag >> 16 not in (0x0002, 0xFFFE)
        and tag & 0xFFFF != 0
        and not _private_data(tag)
    )


def pixels_of_file(path: Path) -> tuple[str, Any]:
    """(transfer syntax, pixels flattened) of a file, decoded by dicomfast."""
    import dicomfast

    ds = dicomfast.read(path)
    return str(ds.transfer_syntax), ds.pixel_array_as(threads=1).reshape(-1)


def decode_frames_ours(frames: list[bytes], info: Any, transfer_syntax: str) -> Any:
    """Frames another toolkit encoded, decoded by dicomfast into one flat array."""
    import numpy as np

    from dicomfast.pixels.decode import decode_frame

    return np.concatenate(
        [
            decode_frame(
                f,
                info.rows,
                info.columns,
                info.samples_per_pixel,
                info.bits_allocated,
                info.bits_stored,
                info.pixel_representation,
                0,
                transfer_syntax,
            ).reshape(-1)
            for f in frames
        ]
    )


def same(ours: Any, theirs: Any, tolerance: float = 0.0) -> bool:
    """Deep equality; numpy arrays by value (flattened, any dtype), within
    ``tolerance`` when it is not 0."""
    if hasattr(ours, "shape") or hasattr(theirs, "shape"):
        import numpy as np

        a, b = np.asarray(ours).reshape(-1), np.asarray(theirs).reshape(-1)
        if a.size != b.size:
            return False
        if tolerance:
            return bool(np.all(np.abs(a.astype(np.float64) - b.astype(np.float64)) <= tolerance))
        return bool(np.array_equal(a, b))
    if isinstance(ours, list | tuple) and isinstance(theirs, list | tuple):
        return len(ours) == len(theirs) and all(
            same(x, y, tolerance) for x, y in zip(ours, theirs, strict=True)
        )
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(
            same(ours[k], theirs[k], tolerance) for k in ours
        )
    return ours == theirs


def first_difference(ours: Any, theirs: Any, path: str = "") -> str:
    """Where two results first differ, in a few words (for the report)."""
    if isinstance(ours, list | tuple) and isinstance(theirs, list | tuple):
        if len(ours) != len(theirs):
            return f"{path or 'result'}: {len(ours)} items vs {len(theirs)}"
        for i, (x, y) in enumerate(zip(ours, theirs, strict=True)):
            if not same(x, y):
                return first_difference(x, y, f"{path}[{i}]")
        return ""
    if hasattr(ours, "shape") or hasattr(theirs, "shape"):
        return f"{path or 'result'}: {array_difference(ours, theirs)}"
    a, b = repr(ours), repr(theirs)
    return f"{path or 'result'}: ours {a[:60]} vs theirs {b[:60]}"


def array_difference(ours: Any, theirs: Any) -> str:
    """How two arrays of values differ, flattened: sizes, or how many values differ, by how
    much at most and where first (what ``--tolerance`` must allow for them to agree)."""
    import numpy as np

    a, b = np.asarray(ours).reshape(-1), np.asarray(theirs).reshape(-1)
    if a.size != b.size:
        return f"{a.size} values vs {b.size}"
    if a.dtype.kind not in "iufb" or b.dtype.kind not in "iufb":
        return f"{a.dtype} values vs {b.dtype}"
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
    bad = np.flatnonzero(diff)
    if not bad.size:
        return "equal"
    at = int(bad[0])
    return (
        f"{bad.size} of {a.size} values differ, by {diff.max():g} at most "
        f"(first at {at}: ours {a[at]}, theirs {b[at]})"
    )
