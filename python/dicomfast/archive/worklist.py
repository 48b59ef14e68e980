"""Modality Worklist (PS3.4 Annex K): scheduled procedure steps and their C-FIND.

Items are loaded from DICOM files or DICOM JSON files (an object, or a list
of objects) with :func:`add` / :func:`load`; an item with several Scheduled
Procedure Step Sequence items becomes one worklist entry per step (K.6.1.2:
each response carries one step).  An entry with the Study Instance UID and
Scheduled Procedure Step ID of a stored one replaces it.

:func:`find` answers a Modality Worklist C-FIND identifier: the usual keys
(Patient's Name and ID, Accession Number, Requested Procedure ID, Study
Instance UID, and in the Scheduled Procedure Step Sequence item Modality,
Scheduled Station AE Title, Start Date/Time ranges, Performing Physician,
Step ID and Status) are narrowed in SQL, then every key is matched on the
stored attributes with the rules of :mod:`dicomfast.archive.matching`
(Start Date and Start Time are matched each on its own, not as one
combined date-time).
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import sqlalchemy as sa

from ..dataset import Dataset, Sequence
from ..dictionary import dictionary_vr
from ..json_model import from_json
from ..reader import read
from . import db
from . import matching as mt
from .index import attrs_of
from .query import _attr_value, _element, _needs_utf8
from .schema import worklist

MWL_FIND_SOP_CLASS = "1.2.840.10008.5.1.4.31"
SPS_SEQUENCE = 0x00400100
SPECIFIC_CHARACTER_SET = 0x00080005

#: Top-level keys with columns: tag → (column matched, VR).
_TOP = {
    0x00100020: worklist.c.patient_id,
    0x00100010: worklist.c.patient_name_norm,
    0x00080050: worklist.c.accession_number,
    0x00401001: worklist.c.requested_procedure_id,
    0x0020000D: worklist.c.study_instance_uid,
}
#: Keys of the Scheduled Procedure Step Sequence item with columns.
_SPS = {
    0x00080060: worklist.c.modality,
    0x00400001: worklist.c.station_ae_title,
    0x00400002: worklist.c.start_date,
    0x00400003: worklist.c.start_time,
    0x00400006: worklist.c.performing_physician_norm,
    0x00400009: worklist.c.sps_id,
    0x00400020: worklist.c.sps_status,
}


def _engine(target: Any) -> sa.Engine:
    return target.engine if hasattr(target, "engine") else target


def _first(attrs: dict[str, Any], tag: int) -> Any:
    e = attrs.get(f"{tag:08X}")
    if not isinstance(e, dict) or not e.get("Value"):
        return None
    v = e["Value"][0]
    if isinstance(v, dict) and "vr" not in v:
        v = "=".join(v.get(g, "") for g in ("Alphabetic", "Ideographic", "Phonetic")).rstrip("=")
    return v


def _rows_of(attrs: dict[str, Any], source: str | None) -> list[dict[str, Any]]:
    sps = attrs.get(f"{SPS_SEQUENCE:08X}", {}).get("Value") or [{}]
    out = []
    for item in sps:
        one = copy.deepcopy(attrs)
        one[f"{SPS_SEQUENCE:08X}"] = {"vr": "SQ", "Value": [item]}
        out.append(
            {
                "patient_id": mt.text(_first(attrs, 0x00100020)),
                "patient_name": mt.person_name(_first(attrs, 0x00100010)),
                "patient_name_norm": mt.name_key(_first(attrs, 0x00100010)),
                "accession_number": mt.text(_first(attrs, 0x00080050)),
                "requested_procedure_id": mt.text(_first(attrs, 0x00401001)),
                "study_instance_uid": mt.text(_first(attrs, 0x0020000D)),
                "sps_id": mt.text(_first(item, 0x00400009)),
                "modality": mt.text(_first(item, 0x00080060)),
                "station_ae_title": mt.text(_first(item, 0x00400001)),
                "start_date": mt.date(_first(item, 0x00400002)),
                "start_time": mt.time_of_day(_first(item, 0x00400003)),
                "performing_physician_norm": mt.name_key(_first(item, 0x00400006)),
                "sps_status": mt.text(_first(item, 0x00400020)),
                "source": source,
                "attrs": one,
                "created_at": time.time(),
            }
        )
    return out


def load(path: str | os.PathLike[str]) -> list[Dataset]:
    """The worklist items of a file: DICOM JSON (``.json``: an object or a list) or DICOM."""
    p = os.fspath(path)
    if p.lower().endswith(".json"):
        with open(p, encoding="utf-8") as fh:
            obj = json.load(fh)
        return [from_json(o) for o in (obj if isinstance(obj, list) else [obj])]
    return [read(p, stop_before_pixels=True)]


def add(target: Any, items: Iterable[Dataset], *, source: str | None = None) -> int:
    """Add (or replace) worklist entries; the number of entries (steps) written."""
    n = 0
    with _engine(target).connect().execution_options(**db.WRITE) as conn, conn.begin():
        for ds in items:
            for row in _rows_of(attrs_of(ds), source):
                where = sa.and_(
                    worklist.c.study_instance_uid == row["study_instance_uid"],
                    worklist.c.sps_id == row["sps_id"],
                )
                pk = conn.execute(sa.select(worklist.c.pk).where(where)).scalar()
                if pk is None:
                    conn.execute(worklist.insert().values(**row))
                else:
                    conn.execute(worklist.update().where(worklist.c.pk == pk).values(**row))
                n += 1
    return n


def add_files(target: Any, paths: Iterable[str | os.PathLike[str]]) -> int:
    """``dicomfast worklist add``: load each file and add its items."""
    n = 0
    for p in paths:
        n += add(target, load(p), source=os.fspath(p))
    return n


def remove(target: Any, study_instance_uid: str, sps_id: str | None = None) -> int:
    """Delete the entries of a study (or one step of it); how many."""
    cond = worklist.c.study_instance_uid == study_instance_uid
    if sps_id is not None:
        cond = sa.and_(cond, worklist.c.sps_id == sps_id)
    with _engine(target).connect().execution_options(**db.WRITE) as conn, conn.begin():
        return conn.execute(worklist.delete().where(cond)).rowcount or 0


def set_status(target: Any, study_instance_uid: str, sps_id: str, status: str) -> bool:
    """Set a step's Scheduled Procedure Step Status (e.g. from MPPS); False if unknown."""
    with _engine(target).connect().execution_options(**db.WRITE) as conn, conn.begin():
        row = conn.execute(
            sa.select(worklist.c.pk, worklist.c.attrs).where(
                worklist.c.study_instance_uid == study_instance_uid, worklist.c.sps_id == sps_id
            )
        ).first()
        if row is None:
            return False
        attrs = copy.deepcopy(row.attrs)
        item = attrs[f"{SPS_SEQUENCE:08X}"]["Value"][0]
        item["00400020"] = {"vr": "CS", "Value": [status]}
        conn.execute(
            worklist.update().where(worklist.c.pk == row.pk).values(sps_status=status, attrs=attrs)
        )
        return True


def _matchers(identifier: Dataset) -> tuple[list[mt.Matcher], list[sa.ColumnElement[bool]]]:
    matchers: list[mt.Matcher] = []
    conds: list[sa.ColumnElement[bool]] = []
    for elem in identifier:
        tag = elem.tag
        if tag == SPECIFIC_CHARACTER_SET or tag >> 16 in (0x0000, 0x0002) or tag >> 16 & 1:
            continue
        vr = elem.VR if elem.VR not in ("UN", "") else dictionary_vr(tag)
        m = mt.matcher_for(tag, vr, elem.value)
        if m.universal:
            continue
        matchers.append(m)
        if tag in _TOP:
            c = m.sql(_TOP[tag])
            if c is not None:
                conds.append(c)
        elif tag == SPS_SEQUENCE and m.item:
            for sub in m.item:
                if sub.tag in _SPS and not sub.universal and sub.kind != "sequence":
                    c = sub.sql(_SPS[sub.tag])
                    if c is not None:
                        conds.append(c)
    return matchers, conds


def find(
    target: Any, identifier: Dataset, *, cancel: Callable[[], bool] | None = None
) -> Iterator[Dataset]:
    """Modality Worklist C-FIND: one result per matching scheduled procedure step.
    Raises :class:`~dicomfast.archive.QueryError` (status 0xC000) for a malformed key."""
    matchers, conds = _matchers(identifier)
    with _engine(target).connect() as conn:
        rows = list(conn.execute(sa.select(worklist.c.attrs).where(*conds).order_by(worklist.c.pk)))
    for r in rows:
        attrs = r.attrs or {}
        if not mt.match_attrs(matchers, attrs):
            continue
        if cancel is not None and cancel():
            return
        out = Dataset()
        utf8 = False
        for elem in identifier:
            tag = elem.tag
            if tag == SPECIFIC_CHARACTER_SET or tag >> 16 in (0x0000, 0x0002) or tag >> 16 & 1:
                continue
            vr = elem.VR if elem.VR not in ("UN", "") else dictionary_vr(tag)
            value = _attr_value(elem, vr, attrs)
            utf8 = utf8 or _needs_utf8(value) or _seq_needs_utf8(value)
            out[tag] = _element(tag, vr, value)
        if utf8:
            out[SPECIFIC_CHARACTER_SET] = _element(SPECIFIC_CHARACTER_SET, "CS", "ISO_IR 192")
        yield out


def _seq_needs_utf8(value: Any) -> bool:
    if isinstance(value, Sequence):
        return any(_needs_utf8(e.value) or _seq_needs_utf8(e.value) for it in value for e in it)
    return False
