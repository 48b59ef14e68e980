"""A data set as a flat, comparable list: (path, VR, value) for every element."""

from __future__ import annotations

from typing import Any


def flat(
    ds: Any, prefix: str = "", *, skip_group_lengths: bool = False
) -> list[tuple[str, str, Any]]:
    out: list[tuple[str, str, Any]] = []
    for e in ds:
        if skip_group_lengths and e.tag & 0xFFFF == 0 and e.tag >> 16 != 2:
            continue
        key = f"{prefix}{e.tag:08X}"
        if e.VR == "SQ":
            out.append((key, "SQ", len(e.value)))
            for i, item in enumerate(e.value):
                out += flat(item, f"{key}[{i}].", skip_group_lengths=skip_group_lengths)
            continue
        v = e.value
        if hasattr(v, "dtype"):
            v = v.astype(v.dtype.newbyteorder("<")).tobytes()
        out.append((key, e.VR, v))
    return out


def _as_words(v: Any) -> bytes | None:
    """A value of an ambiguous-VR element as little-endian 16-bit words."""
    import struct

    if v is None:  # an empty binary value, as read
        return b""
    if isinstance(v, bytes):
        return v
    if isinstance(v, int):
        v = [v]
    if isinstance(v, list) and all(isinstance(x, int) for x in v):
        return b"".join(struct.pack("<H", x & 0xFFFF) for x in v)
    return None


# VR pairs that implicit VR cannot tell apart (PS3.5 A.1, PS3.6 "US or SS", "OB or OW", …).
AMBIGUOUS_PAIRS = [
    {"OB", "OW"},
    {"US", "SS"},
    {"US", "OW"},
    {"SS", "OW"},
    {"OB", "UN"},
    {"OW", "UN"},
]


def differences(a: list[tuple[str, str, Any]], b: list[tuple[str, str, Any]]) -> list[str]:
    """Differences between two flat lists, tolerating the one known, valid
    divergence: private elements that one toolkit knows and writes with a VR
    and the other keeps as UN (their text must still agree)."""
    da = {k: (vr, v) for k, vr, v in a}
    db = {k: (vr, v) for k, vr, v in b}
    out = []
    private_un_sq = set()
    for k in sorted(set(da) | set(db)):
        if any(k.startswith(p) for p in private_un_sq):
            continue
        x, y = da.get(k), db.get(k)
        if x == y:
            continue
        if x and y and x[0] != y[0]:
            if {x[0], y[0]} in AMBIGUOUS_PAIRS and _as_words(x[1]) == _as_words(y[1]):
                continue
            if isinstance(x[1], str) and x[1] == y[1]:
                continue  # a text VR mislabelled in the source file; same value
        group = int(k.split(".")[-1][:4], 16)
        if x and y and group % 2 == 1 and "UN" in (x[0], y[0]):
            if "SQ" in (x[0], y[0]):
                private_un_sq.add(k + "[")
                continue
            un, other = (x, y) if x[0] == "UN" else (y, x)
            if un[1] == other[1]:
                continue  # same bytes, one side knows the private VR
            raw = b"" if un[1] is None else un[1]  # an empty UN value reads as None
            if isinstance(raw, bytes) and not isinstance(other[1], bytes | list):
                try:
                    text = "" if other[1] is None else str(other[1]).strip()
                    if raw.decode("latin-1").strip(" \0") == text:
                        continue
                except UnicodeDecodeError:
                    pass
            if isinstance(other[1], int | float | list):
                continue  # binary private value decoded by one side only
        out.append(f"{k}: {str(x)[:60]} != {str(y)[:60]}")
    return out
