"""From a data set to index rows, and the row operations on the index.

:func:`record_of` reads the keys (and the DICOM JSON of the top-level text
attributes) from a :class:`~dicomfast.Dataset`; :func:`insert_instance`
puts a record in the index inside the caller's transaction, creating its
patient, study and series rows when they are new; :func:`delete_instance`
removes an instance row and the parents it leaves empty.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa

from ..dataset import Dataset
from ..json_model import _element_json
from ..writer import dataset_unchanged
from . import matching as m
from .schema import instances, patients, series, studies

_UID_RE = re.compile(r"[0-9]+(\.[0-9]+)*")

#: VRs kept in the ``attrs`` JSON (text and numbers; binary VRs are left out).
_KEPT_VRS = frozenset(
    "AE AS CS DA DS DT IS LO LT PN SH ST TM UC UI UR UT US SS UL SL FL FD SV UV AT SQ".split()
)
_MAX_TEXT = 4096
_MAX_DEPTH = 4


def is_valid_uid(uid: object) -> bool:
    """Digits and dots only, no empty component, at most 64 characters (safe as a file name)."""
    return isinstance(uid, str) and 0 < len(uid) <= 64 and _UID_RE.fullmatch(uid) is not None


def instance_uids(ds: Dataset) -> tuple[str, str, str]:
    """The SOP Instance (else the file meta's), Study and Series Instance UIDs the
    archive files ``ds`` under; ``ValueError`` naming one that is missing or not a
    valid UID (:func:`is_valid_uid`)."""
    meta = ds.file_meta
    sop = ds.get("SOPInstanceUID") or (meta.get("MediaStorageSOPInstanceUID") if meta else None)
    uids = (sop, ds.get("StudyInstanceUID"), ds.get("SeriesInstanceUID"))
    names = ("SOP Instance UID", "Study Instance UID", "Series Instance UID")
    for name, uid in zip(names, uids, strict=True):
        if not is_valid_uid(uid):
            raise ValueError(f"missing or invalid {name}: {uid!r}")
    return cast(tuple[str, str, str], uids)  # valid UIDs: strings


def _json_of(ds: Dataset, depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for elem in ds:
        tag = elem.tag
        group = tag >> 16
        vr = elem.VR
        if group & 1 or group == 0x0002 or group == 0xFFFE or vr not in _KEPT_VRS:
            continue
        if vr == "SQ":
            if depth < _MAX_DEPTH:
                items = [_json_of(item, depth + 1) for item in elem.value or []]
                out[f"{tag:08X}"] = {"vr": "SQ", "Value": items} if items else {"vr": "SQ"}
            continue
        v = elem.value
        if hasattr(v, "dtype") or (isinstance(v, str) and len(v) > _MAX_TEXT):
            continue
        out[f"{tag:08X}"] = _element_json(elem, None)
    return out


class JsonDict(Mapping[str, Any]):
    """A read-only mapping over JSON text, parsed only when read: the database
    layer writes the text as it is (the index never needs the parsed form)."""

    __slots__ = ("text", "_parsed")

    def __init__(self, text: str) -> None:
        self.text = text
        self._parsed: dict[str, Any] | None = None

    def _dict(self) -> dict[str, Any]:
        if self._parsed is None:
            self._parsed = json.loads(self.text)
        return self._parsed

    def __getitem__(self, key: str) -> Any:
        return self._dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict())

    def __len__(self) -> int:
        return len(self._dict())


def _core_json(ds: Dataset) -> str | None:
    """The core's JSON text of ``ds``'s attributes, if ``ds`` is exactly as read."""
    raw = ds._raw
    if raw is not None and ds._parent is None and dataset_unchanged(ds):
        return str(raw.text_attributes_json(ds._node, None, _MAX_DEPTH, _MAX_TEXT))
    return None


def attrs_of(ds: Dataset) -> dict[str, Any]:
    """The DICOM JSON model (PS3.18 F.2) of the top-level text and number attributes
    (and of sequences of them), private tags left out.  A data set as read (no
    element changed) is turned into JSON by the core in one call."""
    text = _core_json(ds)
    return json.loads(text) if text is not None else _json_of(ds, 0)


def _attrs_for_index(ds: Dataset) -> Mapping[str, Any]:
    """:func:`attrs_of` for the index rows: the core's JSON text is kept as it is."""
    text = _core_json(ds)
    return JsonDict(text) if text is not None else _json_of(ds, 0)


def _int(value: Any) -> int | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or value == "":
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


@dataclass
class Record:
    """The index rows (without keys to each other) for one stored instance."""

    patient: dict[str, Any]
    study: dict[str, Any]
    series: dict[str, Any]
    instance: dict[str, Any]
    attrs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def sop_instance_uid(self) -> str:
        return self.instance["sop_instance_uid"]


def record_of(
    ds: Dataset,
    *,
    path: str,
    size: int,
    checksum: str | None,
    stored_at: float,
    transfer_syntax: str | None = None,
    source_ae_title: str | None = None,
) -> Record:
    """The rows for ``ds`` stored at ``path`` (relative to the storage folder).

    Raises ``ValueError`` when a Study, Series or SOP Instance UID is missing or
    not a valid UID."""
    attrs = _attrs_for_index(ds)  # first: while few elements are materialized it is cheapest
    get = ds.get
    meta = ds.file_meta
    sop_instance, study_uid, series_uid = instance_uids(ds)
    sop_class = get("SOPClassUID") or (meta.get("MediaStorageSOPClassUID") if meta else None) or ""
    pname = m.person_name(get("PatientName"))
    rname = m.person_name(get("ReferringPhysicianName"))
    ts = transfer_syntax or ds.transfer_syntax or ""
    return Record(
        patient={
            "patient_id": m.text(get("PatientID")),
            "patient_name": pname,
            "patient_name_norm": pname.upper(),
            "patient_birth_date": m.date(get("PatientBirthDate")),
            "patient_sex": m.text(get("PatientSex")),
            "attrs": attrs,
        },
        study={
            "study_instance_uid": study_uid,
            "study_date": m.date(get("StudyDate")),
            "study_time": m.time_of_day(get("StudyTime")),
            "accession_number": m.text(get("AccessionNumber")),
            "study_id": m.text(get("StudyID")),
            "referring_physician_name": rname,
            "referring_physician_name_norm": rname.upper(),
            "study_description": m.text(get("StudyDescription")),
            "attrs": attrs,
        },
        series={
            "series_instance_uid": series_uid,
            "modality": m.text(get("Modality")),
            "series_number": _int(get("SeriesNumber")),
            "series_description": m.text(get("SeriesDescription")),
            "body_part_examined": m.text(get("BodyPartExamined")),
            "attrs": attrs,
        },
        instance={
            "sop_instance_uid": sop_instance,
            "sop_class_uid": str(sop_class),
            "instance_number": _int(get("InstanceNumber")),
            "transfer_syntax_uid": ts,
            "path": path,
            "size": size,
            "checksum": checksum,
            "stored_at": stored_at,
            "source_ae_title": source_ae_title,
            "attrs": attrs,
        },
        attrs=attrs,
    )


def _new_pk(result: sa.CursorResult[Any]) -> Any:
    """The primary key a one-row INSERT made (SQLAlchemy types it optional: it is
    None only for statements that are not a single-row INSERT)."""
    key = result.inserted_primary_key
    assert key is not None
    return key[0]


def _pk_or_insert(
    conn: sa.Connection, table: sa.Table, where: sa.ColumnElement[bool], values: dict[str, Any]
) -> int:
    pk = conn.execute(sa.select(table.c.pk).where(where)).scalar()
    if pk is None:
        pk = _new_pk(conn.execute(table.insert().values(**values)))
    return int(pk)


def insert_instance(conn: sa.Connection, rec: Record, copy: int = 0) -> int:
    """Insert ``rec`` (and its parents when new) in the caller's transaction; the instance pk."""
    study_uid = rec.study["study_instance_uid"]
    series_uid = rec.series["series_instance_uid"]
    series_pk = conn.execute(
        sa.select(series.c.pk).where(series.c.series_instance_uid == series_uid)
    ).scalar()
    if series_pk is None:
        study_pk = conn.execute(
            sa.select(studies.c.pk).where(studies.c.study_instance_uid == study_uid)
        ).scalar()
        if study_pk is None:
            p = rec.patient
            patient_pk = _pk_or_insert(
                conn,
                patients,
                sa.and_(
                    patients.c.patient_id == p["patient_id"],
                    patients.c.patient_name == p["patient_name"],
                ),
                p,
            )
            study_pk = _new_pk(
                conn.execute(studies.insert().values(patient_pk=patient_pk, **rec.study))
            )
        series_pk = _new_pk(conn.execute(series.insert().values(study_pk=study_pk, **rec.series)))
    return int(
        _new_pk(
            conn.execute(instances.insert().values(series_pk=series_pk, copy=copy, **rec.instance))
        )
    )


# Statements the indexer runs for every batch, built once (SQLAlchemy then reuses
# their compiled form; building a statement costs more than running it on SQLite).
_SERIES_PK = sa.select(series.c.pk).where(
    series.c.series_instance_uid == sa.bindparam("series_uid")
)
_SERIES_OF_INSTANCE = sa.select(instances.c.series_pk).where(instances.c.pk == sa.bindparam("pk"))
_INSERT_INSTANCE = instances.insert()
_UIDS_INDEXED = sa.select(instances.c.sop_instance_uid).where(
    instances.c.sop_instance_uid.in_(sa.bindparam("uids", expanding=True))
)


def insert_instances(conn: sa.Connection, recs: Sequence[tuple[Record, int]]) -> None:
    """Insert many ``(record, copy)`` (new SOP Instance UIDs) in the caller's
    transaction: the instance rows of known series in one statement."""
    series_pks: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    for rec, copy in recs:
        uid = rec.series["series_instance_uid"]
        pk = series_pks.get(uid)
        if pk is None:
            pk = conn.execute(_SERIES_PK, {"series_uid": uid}).scalar()
            if pk is None:  # a new series: its parents too, one by one
                ins = insert_instance(conn, rec, copy)
                series_pks[uid] = conn.execute(_SERIES_OF_INSTANCE, {"pk": ins}).scalar_one()
                continue
            series_pks[uid] = pk
        rows.append({"series_pk": pk, "copy": copy, **rec.instance})
    if rows:
        conn.execute(_INSERT_INSTANCE, rows)


def uids_indexed(conn: sa.Connection, sop_instance_uids: Sequence[str]) -> set[str]:
    """Which of these SOP Instance UIDs have a row."""
    found: set[str] = set()
    uids = sorted(set(sop_instance_uids))
    for i in range(0, len(uids), 500):
        found.update(conn.execute(_UIDS_INDEXED, {"uids": uids[i : i + 500]}).scalars())
    return found


def update_instance(conn: sa.Connection, pk: int, rec: Record) -> None:
    """Replace an instance row's values by ``rec``'s (same SOP Instance UID and path)."""
    values = dict(rec.instance)
    conn.execute(instances.update().where(instances.c.pk == pk).values(**values))


def delete_instance(conn: sa.Connection, pk: int) -> None:
    """Delete an instance row, and its series, study and patient rows if left empty."""
    series_pk = conn.execute(sa.select(instances.c.series_pk).where(instances.c.pk == pk)).scalar()
    conn.execute(instances.delete().where(instances.c.pk == pk))
    if series_pk is None:
        return
    prune_empty(conn, series_pk)


def prune_empty(conn: sa.Connection, series_pk: int) -> None:
    if conn.execute(
        sa.select(instances.c.pk).where(instances.c.series_pk == series_pk).limit(1)
    ).first():
        return
    study_pk = conn.execute(sa.select(series.c.study_pk).where(series.c.pk == series_pk)).scalar()
    conn.execute(series.delete().where(series.c.pk == series_pk))
    if (
        study_pk is None
        or conn.execute(
            sa.select(series.c.pk).where(series.c.study_pk == study_pk).limit(1)
        ).first()
    ):
        return
    patient_pk = conn.execute(
        sa.select(studies.c.patient_pk).where(studies.c.pk == study_pk)
    ).scalar()
    conn.execute(studies.delete().where(studies.c.pk == study_pk))
    if (
        patient_pk is None
        or conn.execute(
            sa.select(studies.c.pk).where(studies.c.patient_pk == patient_pk).limit(1)
        ).first()
    ):
        return
    conn.execute(patients.delete().where(patients.c.pk == patient_pk))


def rows_for_uid(conn: sa.Connection, sop_instance_uid: str) -> list[sa.Row[Any]]:
    """The instance rows (pk, copy, path, size, checksum) of a SOP Instance UID, by copy."""
    return list(
        conn.execute(
            sa.select(
                instances.c.pk,
                instances.c.copy,
                instances.c.path,
                instances.c.size,
                instances.c.checksum,
            )
            .where(instances.c.sop_instance_uid == sop_instance_uid)
            .order_by(instances.c.copy)
        )
    )


def snapshot(conn: sa.Connection) -> list[tuple[Any, ...]]:
    """The index content without surrogate keys or times (to compare two indexes)."""
    q = (
        sa.select(
            patients.c.patient_id,
            patients.c.patient_name,
            patients.c.patient_birth_date,
            patients.c.patient_sex,
            studies.c.study_instance_uid,
            studies.c.study_date,
            studies.c.study_time,
            studies.c.accession_number,
            studies.c.study_id,
            studies.c.referring_physician_name,
            studies.c.study_description,
            series.c.series_instance_uid,
            series.c.modality,
            series.c.series_number,
            series.c.series_description,
            series.c.body_part_examined,
            instances.c.sop_instance_uid,
            instances.c.copy,
            instances.c.sop_class_uid,
            instances.c.instance_number,
            instances.c.transfer_syntax_uid,
            instances.c.path,
            instances.c.size,
            instances.c.checksum,
        )
        .select_from(
            instances.join(series, instances.c.series_pk == series.c.pk)
            .join(studies, series.c.study_pk == studies.c.pk)
            .join(patients, studies.c.patient_pk == patients.c.pk)
        )
        .order_by(instances.c.path)
    )
    return [tuple(r) for r in conn.execute(q)]
