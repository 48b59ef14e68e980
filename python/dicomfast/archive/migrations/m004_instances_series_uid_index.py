"""Version 4: instances indexed by (series, SOP Instance UID).

The index replaces the one on the series alone (same leading column) and covers
the distinct-instance counts of study and series searches (Number of Study/Series
Related Instances): SQLite and PostgreSQL count them from the index without reading
the rows.
"""

from __future__ import annotations

import sqlalchemy as sa

VERSION = 4
NAME = "index instances (series_pk, sop_instance_uid)"


def upgrade(conn: sa.Connection) -> None:
    md = sa.MetaData()
    table = sa.Table(
        "instances",
        md,
        sa.Column("series_pk", sa.Integer),
        sa.Column("sop_instance_uid", sa.String(64)),
    )
    sa.Index("ix_instances_series_uid", table.c.series_pk, table.c.sop_instance_uid).create(conn)
    sa.Index("ix_instances_series_pk", table.c.series_pk).drop(conn)
