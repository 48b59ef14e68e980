"""Version 3: the calling AE title that sent each instance."""

from __future__ import annotations

import sqlalchemy as sa

VERSION = 3
NAME = "instances.source_ae_title"


def upgrade(conn: sa.Connection) -> None:
    column_type = sa.String(16).compile(dialect=conn.dialect)
    # DDL only (no values): SQLAlchemy Core has no ALTER TABLE construct of its own.
    conn.exec_driver_sql(f"ALTER TABLE instances ADD COLUMN source_ae_title {column_type}")
