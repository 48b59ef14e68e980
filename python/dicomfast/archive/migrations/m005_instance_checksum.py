"""Version 5: ``instances.sha256`` becomes ``instances.checksum``.

New rows hold a BLAKE3 checksum written ``blake3:<64 hex digits>`` (see
:mod:`dicomfast.digest`), which does not fit the old column's 64 characters;
the SHA-256 digests already indexed stay as they are (bare hex), and
:func:`dicomfast.digest.matches` still checks them.  Both SQLite (3.25 and
later) and PostgreSQL rename a column in place.
"""

from __future__ import annotations

import sqlalchemy as sa

VERSION = 5
NAME = "instances.sha256 renamed checksum (80 characters: blake3:<hex>, or SHA-256 hex)"


def upgrade(conn: sa.Connection) -> None:
    conn.execute(sa.text("ALTER TABLE instances RENAME COLUMN sha256 TO checksum"))
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("ALTER TABLE instances ALTER COLUMN checksum TYPE VARCHAR(80)"))
