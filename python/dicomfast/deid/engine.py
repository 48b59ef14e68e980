"""One pass over a data set's element index: every element gets the action the compiled
profile gives its tag; elements kept as they are stay in the index (the writer copies
their bytes), only changed ones become new elements.  Sequences are walked the same
way, item by item (their untouched items are copied as read, too).

What ``C`` (clean) does, by the element's VR (honest about its limits):

- DA, DT with Retain Longitudinal Temporal Information Modified Dates: moved back by
  the patient's keyed offset (time of day kept); without that option they are kept.
- TM: kept (only whole days are moved).
- Text (LO, LT, PN, SH, ST, UC, UT): kept with every occurrence of this data set's own
  identifying values (names and their components, IDs, dates, addresses... of the
  attributes the profile removes or replaces; 3 characters or more) deleted.  Words
  that identify someone but occur nowhere else in the data set are NOT found.
- SQ (Clean Structured Content): the items are kept and de-identified by the same
  table; text values inside that the table does not name are cleaned as above.
- Anything else: kept.

A sequence whose action is D (Content Sequence, Graphic Annotation Sequence) keeps its
structure, with its items de-identified by the table and every free-text value inside
that the table does not name (coded-entry attributes excepted) replaced by a dummy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from .. import uid as uids
from ..dataset import F_SEQUENCE, Dataset, FileMetaDataset, Sequence
from ..element import DataElement
from . import keys
from .dates import shift_da, shift_dt
from .patients import PatientMap
from .profile import CompiledProfile, compile_profile, method_codes

PATIENT_NAME, PATIENT_ID = 0x00100010, 0x00100020
TEXT_VRS = frozenset({"LO", "LT", "PN", "SH", "ST", "UC", "UT"})
#: Code Sequence Macro attributes (PS3.3 Table 8.8-1): coded concepts, not free text.
CODE_TAGS = frozenset(
    {0x00080100, 0x00080102, 0x00080103, 0x00080104, 0x00080105, 0x00080119, 0x00080120}
)
DUMMY = {
    "AE": "ANONYMOUS",
    "AS": "000Y",
    "CS": "ANONYMOUS",
    "DA": "19000101",
    "DT": "19000101000000",
    "TM": "000000",
    "DS": "0",
    "IS": "0",
    "UR": "urn:anonymous",
    "PN": "ANONYMOUS^ANONYMOUS",
}
_NUMERIC = frozenset({"FL", "FD", "SL", "SS", "UL", "US", "SV", "UV", "AT"})
_BINARY = frozenset({"OB", "OW", "OD", "OF", "OL", "OV", "UN"})
MIN_SCRUB = 3
DUMMY_MODE, CLEAN_MODE = 1, 2


def _shell(src: Dataset, parent: Dataset | None) -> Dataset:
    """A data set over the same index (or elements) as ``src``; ``src`` is not changed."""
    ds = object.__new__(Dataset)
    d = ds.__dict__
    d["_raw"] = src._raw
    d["_node"] = src._node
    d["_parent"] = parent
    d["_map"] = dict(src._table())
    d["_sorted"] = None
    d["_charset"] = False
    d["file_meta"] = None
    d["filename"] = None
    d["_source"] = None
    return ds


def _peek(src: Dataset, v: Any) -> DataElement:
    """The element an index entry stands for, without caching it in ``src``."""
    return src._convert(v) if v.__class__ is int else v


def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


class _Call:
    """Per data set state: the patient, its offset and pseudonyms, the values to scrub."""

    __slots__ = ("offset", "new_id", "new_name", "scrub", "source", "dates_shifted")

    def __init__(self, deid: Deidentifier, top: Dataset) -> None:
        self.new_id, self.new_name, self.offset = deid.patient(top)
        self.scrub: re.Pattern[str] | None = None
        self.source = top
        self.dates_shifted = False


class Deidentifier:
    """The profile with its options, key and patient map, ready for many data sets
    (picklable: sent once to each worker)."""

    def __init__(
        self,
        *,
        profile: str = "basic",
        options: Iterable[str] = (),
        key: bytes | str | None = None,
        patient_map: PatientMap | None = None,
    ) -> None:
        self.compiled: CompiledProfile = compile_profile(profile, options)
        self.options = self.compiled.options
        self.key = keys.as_key(key)
        self.patient_map = dict(patient_map or {})
        self.modified_dates = "retain-longitudinal-modified-dates" in self.options
        self.full_dates = "retain-longitudinal-full-dates" in self.options
        self._uids: dict[str, str] = {}
        self._patients: dict[tuple[str, str], tuple[str, str, int]] = {}
        self._rust: Any = None  # the Rust pass (.fast), made in the process that uses it

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_rust": None}

    def rust_pass(self) -> Any:
        """The Rust pass (``dicomfast._core.DeidPass``) of this profile and key."""
        if self._rust is None:  # two threads may both make it: either one serves
            from .fast import make_pass

            self._rust = make_pass(self)
        return self._rust

    @property
    def temporal_state(self) -> str:
        """Longitudinal Temporal Information Modified (0028,0303) of the outputs."""
        if self.full_dates:
            return "UNMODIFIED"
        return "MODIFIED" if self.modified_dates else "REMOVED"

    def patient(self, top: Dataset) -> tuple[str, str, int]:
        """The new Patient ID and Name of ``top``'s patient (patient map, else keyed
        pseudonym) and the days its dates move (negative: back; 0 unless modified)."""
        pid = str(top.get("PatientID") or "").strip()
        patient = pid or str(top.get("PatientName") or "").strip()
        found = self._patients.get((pid, patient))
        if found is not None:
            return found
        mapped = self.patient_map.get(pid) if pid else None
        new_id = mapped[0] if mapped else keys.pseudonym(self.key, patient)
        new_name = (mapped[1] or mapped[0]) if mapped else f"{new_id}^ANONYMOUS"
        offset = -keys.date_offset_days(self.key, patient) if self.modified_dates else 0
        if len(self._patients) < 1 << 16:
            self._patients[pid, patient] = (new_id, new_name, offset)
        return new_id, new_name, offset

    # -- replacements --------------------------------------------------------------
    def map_uid(self, uid: str) -> str:
        """The keyed replacement of ``uid`` (registry UIDs such as well-known frames of
        reference are kept)."""
        uid = uid.strip("\0 ")
        new = self._uids.get(uid)
        if new is None:
            new = uid if (not uid or uid in uids.REGISTRY) else keys.uid_for(self.key, uid)
            if len(self._uids) < 1 << 20:
                self._uids[uid] = new
        return new

    def _dummy(self, vr: str) -> Any:
        if vr in _NUMERIC:
            return 0
        if vr in _BINARY:
            return b"\0\0"
        if vr == "UI":
            return self.map_uid("dicomfast dummy UID")
        return DUMMY.get(vr, "ANONYMOUS")

    def _scrubber(self, call: _Call) -> re.Pattern[str]:
        if call.scrub is None:
            found: set[str] = set()
            top = call.source
            action = self.compiled.action
            for tag, v in top._table().items():
                a = action(tag)
                if a not in ("X", "Z", "D", "U") or tag >> 16 & 1:
                    continue
                elem = _peek(top, v)
                if elem.VR not in TEXT_VRS and elem.VR not in ("DA", "DT"):
                    continue
                for value in _values(elem.value):
                    text = str(value).strip()
                    found.add(text)
                    if elem.VR == "PN":
                        found.update(re.split(r"[\^=]", text))
            words = sorted((w.strip() for w in found if len(w.strip()) >= MIN_SCRUB), key=len)
            if not words:
                call.scrub = re.compile(r"(?!x)x")
            else:
                call.scrub = re.compile(
                    "|".join(re.escape(w) for w in reversed(words)), re.IGNORECASE
                )
        return call.scrub

    def _clean_text(self, call: _Call, value: Any) -> Any:
        pattern = self._scrubber(call)
        if isinstance(value, list):
            return [pattern.sub("", str(v)) for v in value]
        return pattern.sub("", str(value)) if value is not None else None

    def _shift(self, call: _Call, vr: str, value: Any) -> Any:
        shift = shift_da if vr == "DA" else shift_dt
        out = []
        for v in _values(value):
            new = shift(str(v), call.offset)
            out.append(new if new is not None else DUMMY[vr])
        call.dates_shifted = True
        return out if isinstance(value, list) else (out[0] if out else value)

    # -- the walk --------------------------------------------------------------------
    def _sequence(
        self, call: _Call, src: Dataset, new: Dataset, elem: DataElement, mode: int
    ) -> DataElement:
        items = elem.value or []
        out = Sequence(
            [self._walk(call, item, new, mode) for item in items],
            undefined_length=getattr(items, "_undefined_length", True),
        )
        return DataElement(
            elem.tag, "SQ", out, _node=elem._node, _length=elem._length, _src=elem._src
        )

    def _walk(self, call: _Call, src: Dataset, parent: Dataset | None, mode: int) -> Dataset:
        new = _shell(src, parent)
        m = new._map
        raw = src._raw
        compiled = self.compiled
        exact = compiled.actions.get
        for tag, v in list(m.items()):
            if not tag & 0xFFFF:  # group lengths: stale once anything changes
                del m[tag]
                continue
            a = exact(tag)
            if a is None and tag & 0x10000:
                a = compiled.private
            elif a is None and tag >> 24 in (0x50, 0x60):
                a = compiled.action(tag)
            if a == "X":
                del m[tag]
                continue
            if a is None or a == "K":
                if v.__class__ is int:
                    info = raw.node_info(v)
                    vr, is_sq = info[1], bool(info[3] & F_SEQUENCE)
                else:
                    vr = v.VR
                    is_sq = vr == "SQ"
                if is_sq:
                    m[tag] = self._sequence(call, src, new, _peek(src, v), mode)
                elif call.offset and vr in ("DA", "DT") and a is None:
                    elem = _peek(src, v)
                    m[tag] = DataElement(tag, vr, self._shift(call, vr, elem.value))
                elif mode and vr in TEXT_VRS and tag not in CODE_TAGS and a is None:
                    elem = _peek(src, v)
                    if elem.value not in (None, "", []):
                        value = (
                            self._dummy(vr)
                            if mode == DUMMY_MODE
                            else self._clean_text(call, elem.value)
                        )
                        m[tag] = DataElement(tag, vr, value)
                continue
            elem = _peek(src, v)
            vr = elem.VR
            if tag == PATIENT_ID or tag == PATIENT_NAME:
                value = call.new_id if tag == PATIENT_ID else call.new_name
                m[tag] = DataElement(tag, vr, value)
            elif vr == "SQ":
                if a == "Z":
                    m[tag] = DataElement(tag, "SQ", Sequence([], undefined_length=True))
                else:
                    sub = DUMMY_MODE if a == "D" else CLEAN_MODE if a == "C" else mode
                    m[tag] = self._sequence(call, src, new, elem, sub)
            elif a == "Z":
                m[tag] = DataElement(tag, vr, None)
            elif a == "D":
                m[tag] = DataElement(tag, vr, self._dummy(vr))
            elif a == "U" or a == "R":
                if vr == "UI":
                    value = elem.value
                    if isinstance(value, list):
                        m[tag] = DataElement(tag, vr, [self.map_uid(u) for u in value])
                    elif value:
                        m[tag] = DataElement(tag, vr, self.map_uid(value))
                else:
                    m[tag] = DataElement(tag, vr, self._dummy(vr))
            elif a == "C":
                if vr in ("DA", "DT"):
                    if call.offset:
                        m[tag] = DataElement(tag, vr, self._shift(call, vr, elem.value))
                elif vr in TEXT_VRS:
                    m[tag] = DataElement(tag, vr, self._clean_text(call, elem.value))
        return new

    # -- the result ------------------------------------------------------------------
    def _record(self, new: Dataset, call: _Call) -> None:
        """What was done (PS3.15 E.1.1): Patient Identity Removed, De-identification
        Method and its Code Sequence (CID 7050), Longitudinal Temporal Information
        Modified."""
        codes = method_codes(self.options)
        new.add_new(0x00120062, "CS", "YES")
        new.add_new(0x00120063, "LO", [meaning for _code, _scheme, meaning in codes])
        items = []
        for code, scheme, meaning in codes:
            item = Dataset()
            item.add_new(0x00080100, "SH", code)
            item.add_new(0x00080102, "SH", scheme)
            item.add_new(0x00080104, "LO", meaning)
            items.append(item)
        new.add_new(0x00120064, "SQ", Sequence(items, undefined_length=False))
        new.add_new(0x00280303, "CS", self.temporal_state)

    def anonymize(self, ds: Dataset) -> Dataset:
        """A de-identified copy of ``ds`` (``ds`` itself is not changed)."""
        call = _Call(self, ds)
        new = self._walk(call, ds, None, 0)
        self._record(new, call)
        ts = ds.transfer_syntax
        meta = FileMetaDataset()
        meta.add_new(0x00020001, "OB", np.frombuffer(b"\x00\x01", np.uint8))
        if 0x00080016 in new:
            meta.add_new(0x00020002, "UI", new.SOPClassUID)
        if 0x00080018 in new:
            meta.add_new(0x00020003, "UI", new.SOPInstanceUID)
        if ts:
            meta.add_new(0x00020010, "UI", ts)
        new.file_meta = meta
        return new
