"""QIDO-RS (PS3.18 10.6): search for studies, series and instances.

Every level is searched through the archive's C-FIND (:func:`Archive.find
<dicomfast.archive.store.Archive.find>`, Study Root), so a key matches in QIDO
exactly as it does in C-FIND (:mod:`dicomfast.archive.matching`: single value,
``*``/``?`` wildcards, ``-`` date/time ranges, UID lists, PN ignoring case).

Query parameters (10.6.1.2, 8.3.4):

- ``{attributeID}={value}``: a keyword (``PatientName``) or a tag (``00100010``);
  a repeated attribute, or a comma-separated UID list, matches any of the values;
- ``includefield``: more attributes to return (keywords or tags, repeated or
  comma-separated), ``all`` for every attribute the index keeps at the level;
- ``fuzzymatching=true``: Person Name keys match any name *containing* the given
  text, ignoring case (``doe`` finds ``DOE^JOHN`` and ``MACDOE^A``); without it PN
  matching is literal (still case-insensitive, as in C-FIND here);
- ``limit``/``offset``: a page of the results; a ``Warning`` header says how many
  more there are.

The answer is a DICOM JSON array (``application/dicom+json``) of the level's
default attributes (Tables 10.6.3-3 to -5) plus the keys and includefields, with
RetrieveURL; 204 when nothing matches.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from ..archive import Archive
from ..archive.schema import instances, patients, series, studies
from ..dataset import Dataset, Sequence
from ..dictionary import dictionary_vr, tag_for_keyword
from ..json_model import element_json
from .errors import BadRequest

STUDY_DEFAULTS = (
    "SpecificCharacterSet StudyDate StudyTime AccessionNumber InstanceAvailability "
    "ModalitiesInStudy ReferringPhysicianName TimezoneOffsetFromUTC PatientName PatientID "
    "PatientBirthDate PatientSex StudyInstanceUID StudyID NumberOfStudyRelatedSeries "
    "NumberOfStudyRelatedInstances StudyDescription"
).split()
SERIES_DEFAULTS = (
    "SpecificCharacterSet Modality TimezoneOffsetFromUTC SeriesDescription SeriesInstanceUID "
    "SeriesNumber NumberOfSeriesRelatedInstances PerformedProcedureStepStartDate "
    "PerformedProcedureStepStartTime BodyPartExamined"
).split()
INSTANCE_DEFAULTS = (
    "SpecificCharacterSet SOPClassUID SOPInstanceUID InstanceAvailability "
    "TimezoneOffsetFromUTC InstanceNumber Rows Columns BitsAllocated NumberOfFrames"
).split()
DEFAULTS = {"STUDY": STUDY_DEFAULTS, "SERIES": SERIES_DEFAULTS, "IMAGE": INSTANCE_DEFAULTS}

_CONTROL = {"includefield", "fuzzymatching", "limit", "offset", "accept", "charset"}
_NUMBERS = {"US", "UL", "SS", "SL", "UV", "SV", "FL", "FD"}
_LEVEL_TABLE = {"STUDY": studies, "SERIES": series, "IMAGE": instances}
_LEVEL_UID = {"STUDY": 0x0020000D, "SERIES": 0x0020000E, "IMAGE": 0x00080018}
_UID_COLUMN = {
    "STUDY": studies.c.study_instance_uid,
    "SERIES": series.c.series_instance_uid,
    "IMAGE": instances.c.sop_instance_uid,
}
QUERY_RETRIEVE_LEVEL = 0x00080052
_LEVEL_UIDS = frozenset(_LEVEL_UID.values())


def attribute_tag(name: str) -> int:
    """A keyword or an 8-digit hex tag → the tag; 400 for anything else."""
    if len(name) == 8:
        try:
            return int(name, 16)
        except ValueError:
            pass
    tag = tag_for_keyword(name)
    if tag is None:
        raise BadRequest(f"unknown attribute {name!r} in the query")
    return tag


def _nonneg(params: Mapping[str, str], name: str) -> int | None:
    v = params.get(name)
    if v is None or v == "":
        return None
    if not v.isdigit():
        raise BadRequest(f"{name} must be a non-negative integer, not {v!r}")
    return int(v)


def _value(vr: str, raw: str) -> Any:
    if vr in _NUMBERS and raw:
        try:
            return float(raw) if vr in ("FL", "FD") else int(raw)
        except ValueError:
            raise BadRequest(f"{raw!r} is not a number") from None
    return raw


class Search:
    """One QIDO-RS request, parsed (raises :class:`BadRequest`)."""

    def __init__(
        self, level: str, params: Any, *, study: str | None = None, series: str | None = None
    ) -> None:
        self.level = level
        self.identifier = Dataset()
        self.identifier.add_new(QUERY_RETRIEVE_LEVEL, "CS", level)
        self.include_all = False
        self.fuzzy = str(params.get("fuzzymatching", "false")).lower() == "true"
        self.limit = _nonneg(params, "limit")
        self.offset = _nonneg(params, "offset") or 0
        wanted: list[str] = list(DEFAULTS[level])
        if level != "STUDY" and study is None:  # 10.6.3.3.2/3: the study's too
            wanted += STUDY_DEFAULTS
        if level == "IMAGE" and series is None:
            wanted += SERIES_DEFAULTS
        keys: dict[int, list[str]] = {}
        for name in params:
            if name in _CONTROL or name.startswith("_"):
                continue
            tag = attribute_tag(name)
            for v in params.getall(name):
                keys.setdefault(tag, []).extend(v.split(",") if dictionary_vr(tag) == "UI" else [v])
        for inc in params.getall("includefield", []):
            for name in inc.split(","):
                name = name.strip()
                if name == "all":
                    self.include_all = True
                elif name:
                    wanted.append(name)
        if study is not None:
            keys[0x0020000D] = [study]
        if series is not None:
            keys[0x0020000E] = [series]
        for name in wanted:
            self._add(attribute_tag(name), None)
        for tag, values in keys.items():
            self._add(tag, values)

    def _add(self, tag: int, values: list[str] | None) -> None:
        vr = dictionary_vr(tag)
        if vr == "SQ":
            if values:
                raise BadRequest("matching on a sequence attribute is not supported here")
            if tag not in self.identifier:
                self.identifier.add_new(tag, vr, Sequence([]))
            return
        if not values:
            if tag not in self.identifier:
                self.identifier.add_new(tag, vr, None if vr in _NUMBERS else "")
            return
        if vr == "PN" and self.fuzzy:
            values = [v if ("*" in v or "?" in v) else f"*{v}*" for v in values]
        if len(values) == 1:
            self.identifier.add_new(tag, vr, _value(vr, values[0]))
        else:
            self.identifier.add_new(tag, vr, [_value(vr, v) for v in values])

    def run(self, archive: Archive, base_url: str) -> tuple[list[dict[str, Any]], int]:
        """The page of results as DICOM JSON objects and how many matched after it
        (blocking: call from a worker thread).  Built from the archive's matches
        straight into the JSON model (no data sets in between)."""
        results = archive.matches(self.identifier, "STUDY")
        page = itertools.islice(
            results, self.offset, None if self.limit is None else self.offset + self.limit
        )
        out = []
        for elements in page:
            obj = {
                f"{t:08X}": element_json(t, vr, v)
                for t, vr, v in elements
                if t != QUERY_RETRIEVE_LEVEL
            }
            obj["00081190"] = {"vr": "UR", "Value": [retrieve_url(base_url, elements, self.level)]}
            out.append(obj)
        more = sum(1 for _ in results) if self.limit is not None else 0
        if self.include_all and out:
            _merge_all(archive, self.level, out)
        return out, more

    def answer(self, archive: Archive, base_url: str) -> tuple[bytes | None, int]:
        """:meth:`run`'s page as the response body (None when empty), and the count after it."""
        out, more = self.run(archive, base_url)
        return (json.dumps(out, check_circular=False).encode() if out else None), more


def retrieve_url(base_url: str, elements: list[tuple[int, str, Any]], level: str) -> str:
    uids = {t: v for t, _, v in elements if t in _LEVEL_UIDS}
    url = f"{base_url}/studies/{uids.get(0x0020000D)}"
    if level in ("SERIES", "IMAGE"):
        url += f"/series/{uids.get(0x0020000E)}"
    if level == "IMAGE":
        url += f"/instances/{uids.get(0x00080018)}"
    return url


def _merge_all(archive: Archive, level: str, out: list[dict[str, Any]]) -> None:
    """includefield=all: every attribute the index keeps for the level's rows (and the
    patient's, for studies) joins each result where it has no value yet."""
    key = f"{_LEVEL_UID[level]:08X}"
    by_uid = {o[key]["Value"][0]: o for o in out if o.get(key, {}).get("Value")}
    table = _LEVEL_TABLE[level]
    cols: list[sa.ColumnElement[Any]] = [_UID_COLUMN[level], table.c.attrs]
    src: sa.FromClause = table
    if level == "STUDY":
        cols.append(patients.c.attrs.label("patient_attrs"))
        src = studies.join(patients, studies.c.patient_pk == patients.c.pk)
    uids = list(by_uid)
    with archive.engine.connect() as conn:
        for i in range(0, len(uids), 500):
            q = sa.select(*cols).select_from(src).where(_UID_COLUMN[level].in_(uids[i : i + 500]))
            if level == "IMAGE":
                q = q.where(instances.c.copy == 0)
            for row in conn.execute(q):
                obj = by_uid[row[0]]
                for attrs in (row[1], row[2] if level == "STUDY" else None):
                    for tag, elem in (attrs or {}).items():
                        if tag not in obj or not obj[tag].get("Value"):
                            obj[tag] = elem
