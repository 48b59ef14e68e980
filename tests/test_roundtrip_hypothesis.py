"""Generated data sets (every VR, nesting, every uncompressed syntax): write,
read back, compare."""

from __future__ import annotations

import io
import string

import dicomfast
import numpy as np
from dicomfast import _core, uid
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SYNTAXES = list(uid.NATIVE_SYNTAXES)
TEXT_VRS = [
    "AE",
    "AS",
    "CS",
    "DA",
    "DT",
    "LO",
    "LT",
    "PN",
    "SH",
    "ST",
    "TM",
    "UC",
    "UI",
    "UR",
    "UT",
]
NUM = {
    "US": "<u2",
    "SS": "<i2",
    "UL": "<u4",
    "SL": "<i4",
    "FL": "<f4",
    "FD": "<f8",
    "SV": "<i8",
    "UV": "<u8",
}
ARR = {"OB": "u1", "OW": "<u2", "OF": "<f4", "OD": "<f8", "OL": "<u4", "OV": "<u8"}


def _tags_by_vr() -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for tag, vr, _vm, keyword, _name, retired, mask in _core.dictionary_entries():
        if mask != 0xFFFFFFFF or retired or not keyword or tag >> 16 in (0x0002, 0x0000, 0xFFFE):
            continue
        if tag in (0x00080005, 0x7FE00010, 0x00280103, 0x00280100):
            continue
        out.setdefault(vr, []).append(tag)
    return out


TAGS = _tags_by_vr()
safe = string.ascii_letters + string.digits + " _-."


def text_value(vr: str) -> st.SearchStrategy:
    if vr == "UI":
        return st.lists(st.integers(0, 99999), min_size=2, max_size=6).map(
            lambda xs: ".".join(map(str, xs))
        )
    if vr in ("DA",):
        return st.dates().map(lambda d: d.strftime("%Y%m%d"))
    if vr in ("TM",):
        return st.times().map(lambda t: t.strftime("%H%M%S"))
    if vr == "DT":
        return st.datetimes().map(lambda t: t.strftime("%Y%m%d%H%M%S"))
    if vr == "AS":
        return st.integers(0, 999).map(lambda n: f"{n:03d}Y")
    if vr in ("AE", "CS"):
        return st.text(string.ascii_uppercase + string.digits + "_", min_size=1, max_size=16)
    if vr == "UR":
        return st.text(string.ascii_letters + "/:.", min_size=1, max_size=40).map(
            lambda s: s.strip()
        )
    size = {"LT": 200, "ST": 100, "UT": 300, "UC": 100, "PN": 40, "LO": 64, "SH": 16}[vr]
    if vr == "PN":
        # Trailing empty component groups are not significant (PS3.5 6.2.1): none generated.
        return st.text(safe + "^=", min_size=1, max_size=size).map(
            lambda s: s.strip().rstrip("=").strip()
        )
    return st.text(safe, min_size=1, max_size=size).map(str.strip)


def element_value(vr: str) -> st.SearchStrategy:
    if vr in TEXT_VRS:
        return text_value(vr).filter(bool)
    if vr == "DS":
        return st.floats(-1e6, 1e6, allow_nan=False).map(
            lambda f: float(dicomfast.writer.format_ds(f))
        )
    if vr == "IS":
        return st.integers(-(2**31), 2**31 - 1)
    if vr in NUM:
        dt = np.dtype(NUM[vr])
        if dt.kind == "f":
            elems = st.floats(width=32 if dt.itemsize == 4 else 64, allow_nan=False)
        else:
            info = np.iinfo(dt)
            elems = st.integers(int(info.min), int(info.max))
        return st.lists(elems, min_size=1, max_size=4).map(lambda xs: xs[0] if len(xs) == 1 else xs)
    if vr == "AT":
        return st.integers(0, 0xFFFFFFFF)
    dt = np.dtype(ARR[vr])
    return st.binary(min_size=0, max_size=64).map(
        lambda b: np.frombuffer(b[: len(b) - len(b) % max(2, dt.itemsize)] or b"", dt).copy()
    )


VRS = [vr for vr in [*TEXT_VRS, "DS", "IS", *NUM, "AT", *ARR] if vr in TAGS]


@st.composite
def datasets(draw, depth: int = 0):  # noqa: ANN001, ANN201
    ds = dicomfast.Dataset()
    n = draw(st.integers(0, 8 if depth == 0 else 4))
    for _ in range(n):
        vr = draw(st.sampled_from(VRS + (["SQ"] if depth < 2 else [])))
        tag = draw(st.sampled_from(TAGS[vr]))
        if vr == "SQ":
            value = [draw(datasets(depth + 1)) for _ in range(draw(st.integers(0, 2)))]
            ds.add_new(tag, "SQ", dicomfast.Sequence(value))
        else:
            ds.add_new(tag, vr, draw(element_value(vr)))
    return ds


def _no_bytes(v) -> bool:  # noqa: ANN001
    """An empty binary value: read back as None, as pydicom reads it."""
    return v is None or (isinstance(v, np.ndarray | bytes | bytearray) and len(v) == 0)


def _same(a, b) -> bool:  # noqa: ANN001
    if (
        (
            isinstance(a, np.ndarray | bytes | bytearray)
            or isinstance(b, np.ndarray | bytes | bytearray)
        )
        and _no_bytes(a)
        and _no_bytes(b)
    ):
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)  # values, whatever the byte order read
        if a.dtype.itemsize == b.dtype.itemsize:
            b = b.astype(a.dtype.newbyteorder("="))
            a = a.astype(a.dtype.newbyteorder("="))
        return a.tobytes() == b.tobytes()
    if isinstance(a, dicomfast.Dataset):
        return _equal(a, b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return a == b or np.float32(a) == np.float32(b)
    return a == b


def _equal(a: dicomfast.Dataset, b: dicomfast.Dataset) -> bool:
    if a.keys() != b.keys():
        return False
    for x, y in zip(a, b, strict=True):
        if x.VR != y.VR and not (x.VR, y.VR) == ("OB", "OW"):
            return False
        if not _same(x.value, y.value):
            return False
    return True


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ds=datasets(), ts=st.sampled_from(SYNTAXES))
def test_write_read_round_trip(ds: dicomfast.Dataset, ts: str) -> None:
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.4"
    buf = io.BytesIO()
    dicomfast.write(ds, buf, transfer_syntax=ts)
    back = dicomfast.read(buf.getvalue())
    assert back.transfer_syntax == ts
    assert _equal(ds, back)
    # and writing what was read reproduces the same bytes
    again = io.BytesIO()
    dicomfast.write(back, again)
    assert again.getvalue() == buf.getvalue()
