"""The DICOM JSON model (PS3.18 Annex F): ``to_json`` and ``from_json``."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np

from .dataset import Dataset, Sequence
from .element import ARRAY_VRS, DataElement
from .errors import InvalidDicomError
from .writer import encode_value

_NUMBER_VRS = frozenset({"DS", "FL", "FD", "IS", "SL", "SS", "SV", "UL", "US", "UV"})
_BINARY_VRS = frozenset({*ARRAY_VRS, "UN"})
_PN_GROUPS = ("Alphabetic", "Ideographic", "Phonetic")


def _element_json(elem: DataElement, bulk_data_threshold: int | None) -> dict[str, Any]:
    return element_json(elem.tag, elem.VR, elem.value, bulk_data_threshold)


def element_json(
    tag: int, vr: str, v: Any, bulk_data_threshold: int | None = None
) -> dict[str, Any]:
    """One element's value in the JSON model (``{"vr": ..., "Value": [...]}``), from its
    tag, VR and value as a :class:`DataElement` holds them."""
    out: dict[str, Any] = {"vr": vr}
    if vr == "SQ":
        if v:
            out["Value"] = [to_json_dict(item, bulk_data_threshold) for item in v]
        return out
    if vr in _BINARY_VRS:
        elem = DataElement(tag, vr, v)
        data = encode_value(elem, explicit_vr=True, big_endian=False, charset=None)
        if data:
            out["InlineBinary"] = base64.b64encode(data).decode("ascii")
        return out
    values = v if isinstance(v, list) else [v]
    if v is None or v == "" or v == []:
        return out
    if vr == "PN":
        out["Value"] = [
            {g: part for g, part in zip(_PN_GROUPS, str(x).split("="), strict=False) if part}
            if x not in (None, "")
            else None
            for x in values
        ]
    elif vr == "AT":
        out["Value"] = [f"{t:08X}" for t in values]
    elif vr in _NUMBER_VRS:
        # Values that did not parse as numbers are kept as text (PS3.18 F.2.3 allows strings for DS/IS).
        out["Value"] = [
            None if x == "" else (x if isinstance(x, str) else (int(x) if vr == "IS" else x))
            for x in values
        ]
        out["Value"] = [float(x) if isinstance(x, np.floating) else x for x in out["Value"]]
    else:
        out["Value"] = [None if x == "" else x for x in values]
    return out


def to_json_dict(ds: Dataset, bulk_data_threshold: int | None = None) -> dict[str, Any]:
    return {f"{e.tag:08X}": _element_json(e, bulk_data_threshold) for e in ds}


def to_json(ds: Dataset, *, bulk_data_threshold: int | None = None) -> str:
    """The data set as a PS3.18 F.2 JSON object (file meta excluded)."""
    return json.dumps(to_json_dict(ds, bulk_data_threshold))


def _value_from_json(tag: int, vr: str, obj: dict[str, Any]) -> Any:
    if "InlineBinary" in obj:
        data = base64.b64decode(obj["InlineBinary"])
        if vr == "UN":
            return data
        dt = np.dtype(ARRAY_VRS.get(vr, "u1")).newbyteorder("<")
        if len(data) % dt.itemsize:
            dt = np.dtype(np.uint8)
        return np.frombuffer(data, dt).copy()
    if "BulkDataURI" in obj:
        raise InvalidDicomError(
            f"BulkDataURI is not supported (element {tag:08X}); inline the data", tag=tag
        )
    values = obj.get("Value")
    if values is None:
        if vr == "SQ":
            return Sequence([])
        # an empty number or binary value is None, as read from a file (and pydicom's)
        return None if vr in _NUMBER_VRS or vr in _BINARY_VRS else ""
    if vr == "SQ":
        return Sequence([from_json(item) for item in values])
    if vr == "PN":
        values = [
            "=".join(x.get(g, "") for g in _PN_GROUPS).rstrip("=") if isinstance(x, dict) else ""
            for x in values
        ]
    elif vr == "AT":
        values = [int(x, 16) for x in values]
    values = ["" if x is None else x for x in values]
    return values[0] if len(values) == 1 else values


def from_json(data: str | bytes | dict[str, Any]) -> Dataset:
    """Build a :class:`Dataset` from a PS3.18 F.2 JSON object (text, UTF-8 bytes or
    parsed)."""
    obj = json.loads(data) if isinstance(data, str | bytes) else data
    if not isinstance(obj, dict):
        raise InvalidDicomError("DICOM JSON must be an object keyed by tag")
    ds = Dataset()
    for key, elem in obj.items():
        try:
            tag = int(key, 16)
            vr = elem["vr"]
        except (ValueError, KeyError, TypeError):
            raise InvalidDicomError(f"bad DICOM JSON element {key!r}") from None
        ds[tag] = DataElement(tag, vr, _value_from_json(tag, vr, elem))
    return ds
