"""Modality Performed Procedure Step (PS3.4 Annex F): the records behind
N-CREATE and N-SET, as plain functions the MPPS SCP calls.

- :func:`n_create`: a new step, whose Performed Procedure Step Status must be
  ``IN PROGRESS`` (F.7.2.1); a second N-CREATE of the same SOP Instance UID
  fails with 0x0111 (Duplicate SOP Instance).
- :func:`n_set`: changes attributes of a step while it is ``IN PROGRESS``;
  setting the status to ``COMPLETED`` or ``DISCONTINUED`` makes it final, and
  any later N-SET fails with 0x0110 (Processing failure: "Performed Procedure
  Step Object may no longer be updated", F.7.2.2).  An unknown instance gives
  0x0112 (No such SOP Instance), an invalid status value 0x0106.
- Modifications replace whole top-level attributes (a sequence is replaced
  with all its items); an empty value empties the attribute.
- With ``update_worklist=True`` (default) the worklist steps named in the
  Scheduled Step Attributes Sequence follow: ``STARTED`` on N-CREATE, then
  ``COMPLETED``/``DISCONTINUED``.

Each function returns an :class:`MppsResult` (status, an Error Comment, and
for N-CREATE the SOP Instance UID, generated when the request had none).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from .. import uid as uids
from ..dataset import Dataset
from ..json_model import from_json
from . import db
from . import worklist as wl
from .index import attrs_of, is_valid_uid
from .schema import mpps

MPPS_SOP_CLASS = "1.2.840.10008.3.1.2.3.3"
IN_PROGRESS, COMPLETED, DISCONTINUED = "IN PROGRESS", "COMPLETED", "DISCONTINUED"
STATES = (IN_PROGRESS, COMPLETED, DISCONTINUED)

SUCCESS = 0x0000
INVALID_ATTRIBUTE_VALUE = 0x0106
PROCESSING_FAILURE = 0x0110
DUPLICATE_SOP_INSTANCE = 0x0111
NO_SUCH_SOP_INSTANCE = 0x0112

_STATUS_TAG = "00400252"  # Performed Procedure Step Status
_STATION_TAG = "00400241"  # Performed Station AE Title
_SCHEDULED_STEPS = "00400270"  # Scheduled Step Attributes Sequence


@dataclass
class MppsResult:
    status: int
    sop_instance_uid: str | None = None
    comment: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == SUCCESS


def _engine(target: Any) -> sa.Engine:
    return target.engine if hasattr(target, "engine") else target


def _value(attrs: dict[str, Any], tag: str) -> str:
    e = attrs.get(tag)
    if not isinstance(e, dict) or not e.get("Value"):
        return ""
    return str(e["Value"][0]).strip()


def _follow_worklist(conn: sa.Connection, attrs: dict[str, Any], status: str) -> None:
    for item in (attrs.get(_SCHEDULED_STEPS) or {}).get("Value") or []:
        study = _value(item, "0020000D")
        step = _value(item, "00400009")
        if study and step:
            row = conn.execute(
                sa.select(wl.worklist.c.pk, wl.worklist.c.attrs).where(
                    wl.worklist.c.study_instance_uid == study, wl.worklist.c.sps_id == step
                )
            ).first()
            if row is not None:
                new = dict(row.attrs)
                seq = dict(new[f"{wl.SPS_SEQUENCE:08X}"])
                sps = dict(seq["Value"][0])
                sps["00400020"] = {"vr": "CS", "Value": [status]}
                seq["Value"] = [sps]
                new[f"{wl.SPS_SEQUENCE:08X}"] = seq
                conn.execute(
                    wl.worklist.update()
                    .where(wl.worklist.c.pk == row.pk)
                    .values(sps_status=status, attrs=new)
                )


def n_create(
    target: Any,
    sop_instance_uid: str | None,
    dataset: Dataset,
    *,
    update_worklist: bool = True,
) -> MppsResult:
    """N-CREATE of a Modality Performed Procedure Step."""
    uid = sop_instance_uid or uids.generate_uid()
    if not is_valid_uid(uid):
        return MppsResult(INVALID_ATTRIBUTE_VALUE, uid, "invalid SOP Instance UID")
    attrs = attrs_of(dataset)
    status = _value(attrs, _STATUS_TAG)
    if status != IN_PROGRESS:
        return MppsResult(
            INVALID_ATTRIBUTE_VALUE, uid, f"Performed Procedure Step Status must be {IN_PROGRESS}"
        )
    now = time.time()
    try:
        with _engine(target).connect().execution_options(**db.WRITE) as conn, conn.begin():
            if conn.execute(sa.select(mpps.c.status).where(mpps.c.sop_instance_uid == uid)).first():
                return MppsResult(DUPLICATE_SOP_INSTANCE, uid, "duplicate SOP Instance")
            conn.execute(
                mpps.insert().values(
                    sop_instance_uid=uid,
                    status=status,
                    station_ae_title=_value(attrs, _STATION_TAG),
                    attrs=attrs,
                    created_at=now,
                    updated_at=now,
                )
            )
            if update_worklist:
                _follow_worklist(conn, attrs, "STARTED")
    except sa.exc.IntegrityError:
        return MppsResult(DUPLICATE_SOP_INSTANCE, uid, "duplicate SOP Instance")
    return MppsResult(SUCCESS, uid)


def n_set(
    target: Any,
    sop_instance_uid: str,
    modifications: Dataset,
    *,
    update_worklist: bool = True,
) -> MppsResult:
    """N-SET of a Modality Performed Procedure Step."""
    changes = attrs_of(modifications)
    new_status = _value(changes, _STATUS_TAG) if _STATUS_TAG in changes else None
    if new_status is not None and new_status not in STATES:
        return MppsResult(INVALID_ATTRIBUTE_VALUE, sop_instance_uid, f"bad status {new_status!r}")
    with _engine(target).connect().execution_options(**db.WRITE) as conn, conn.begin():
        row = conn.execute(
            sa.select(mpps.c.status, mpps.c.attrs).where(
                mpps.c.sop_instance_uid == sop_instance_uid
            )
        ).first()
        if row is None:
            return MppsResult(NO_SUCH_SOP_INSTANCE, sop_instance_uid, "no such SOP Instance")
        if row.status != IN_PROGRESS:
            return MppsResult(
                PROCESSING_FAILURE,
                sop_instance_uid,
                "Performed Procedure Step Object may no longer be updated",
            )
        attrs = dict(row.attrs)
        for tag, elem in changes.items():
            attrs[tag] = elem
        status = _value(attrs, _STATUS_TAG) or IN_PROGRESS
        conn.execute(
            mpps.update()
            .where(mpps.c.sop_instance_uid == sop_instance_uid)
            .values(
                status=status,
                station_ae_title=_value(attrs, _STATION_TAG),
                attrs=attrs,
                updated_at=time.time(),
            )
        )
        if update_worklist and status in (COMPLETED, DISCONTINUED):
            _follow_worklist(conn, attrs, status)
    return MppsResult(SUCCESS, sop_instance_uid)


def get(target: Any, sop_instance_uid: str) -> Dataset | None:
    """The stored attributes of a step (N-GET), or None."""
    with _engine(target).connect() as conn:
        attrs = conn.execute(
            sa.select(mpps.c.attrs).where(mpps.c.sop_instance_uid == sop_instance_uid)
        ).scalar()
    return None if attrs is None else from_json(attrs)


def status_of(target: Any, sop_instance_uid: str) -> str | None:
    with _engine(target).connect() as conn:
        return conn.execute(
            sa.select(mpps.c.status).where(mpps.c.sop_instance_uid == sop_instance_uid)
        ).scalar()
