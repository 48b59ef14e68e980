"""Versioned schema migrations: ordered steps, each applied once.

The ``schema_version`` table has one row per applied step.  :func:`upgrade`
applies, in order and each in its own transaction, every step whose version
is above the highest recorded one; a database of an older dicomfast is thus
brought to the current schema when an :class:`~dicomfast.archive.Archive`
opens it.  A step is never edited once released: a change is a new step.
Steps define the tables they create themselves (a frozen copy), not through
:mod:`dicomfast.archive.schema`, which is the newest shape only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

import sqlalchemy as sa

from . import (
    m001_core,
    m002_worklist_mpps,
    m003_instance_source_aet,
    m004_instances_series_uid_index,
    m005_instance_checksum,
)


class Step(NamedTuple):
    version: int
    name: str
    upgrade: Callable[[sa.Connection], None]


STEPS: tuple[Step, ...] = tuple(
    Step(m.VERSION, m.NAME, m.upgrade)
    for m in (
        m001_core,
        m002_worklist_mpps,
        m003_instance_source_aet,
        m004_instances_series_uid_index,
        m005_instance_checksum,
    )
)
LATEST = STEPS[-1].version

_version_table = sa.Table(
    "schema_version",
    sa.MetaData(),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("applied_at", sa.Float, nullable=False),
)


def current_version(conn: sa.Connection) -> int:
    """The highest applied step (0 for an empty database)."""
    if not sa.inspect(conn).has_table("schema_version"):
        return 0
    v = conn.execute(sa.select(sa.func.max(_version_table.c.version))).scalar()
    return int(v or 0)


def upgrade(engine: sa.Engine, target: int | None = None) -> list[int]:
    """Apply the pending steps up to ``target`` (default: all); the versions applied."""
    target = LATEST if target is None else target
    with engine.begin() as conn:
        _version_table.create(conn, checkfirst=True)
    applied = []
    for step in STEPS:
        if step.version > target:
            break
        with engine.connect() as conn:
            conn = conn.execution_options(begin="IMMEDIATE")
            with conn.begin():
                if current_version(conn) >= step.version:
                    continue
                step.upgrade(conn)
                conn.execute(
                    _version_table.insert().values(
                        version=step.version, name=step.name, applied_at=time.time()
                    )
                )
        applied.append(step.version)
    return applied
