"""Database connections: embedded SQLite by default, PostgreSQL by URL.

SQLite runs in WAL mode (readers never block the writer) with
``synchronous=NORMAL``: a power cut can lose the last committed transactions
but never corrupts the database, and the files those transactions described
are indexed again by :meth:`Archive.check(repair=True)
<dicomfast.archive.store.Archive.check>` (files are durable before their row
commits).  Write transactions take the write lock at ``BEGIN IMMEDIATE`` so
two writers never deadlock on a lock upgrade; ``LIKE`` is made case
sensitive (as on PostgreSQL) and foreign keys are enforced.
"""

from __future__ import annotations

import json
import os
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from . import migrations

#: Execution option of a connection whose transactions write (SQLite: BEGIN IMMEDIATE).
WRITE = {"begin": "IMMEDIATE"}


def normalize_url(url: str) -> str:
    """A bare ``postgresql://`` (or ``postgres://``) URL means the psycopg (3)
    driver the archive is tested with: SQLAlchemy's default for it is psycopg2."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in ("postgresql", "postgres"):
        return "postgresql+psycopg://" + rest
    return url


def database_url(storage_dir: str | os.PathLike[str] | None, db_url: str | None) -> str:
    """``db_url`` (a bare ``postgresql://`` mapped to ``postgresql+psycopg://``),
    or the SQLite file ``index.sqlite`` in the storage folder."""
    if db_url:
        return normalize_url(db_url)
    if storage_dir is None:
        raise ValueError("either a storage folder or a database URL is needed")
    return "sqlite:///" + os.path.join(os.path.abspath(os.fspath(storage_dir)), "index.sqlite")


def _sqlite_setup(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA case_sensitive_like=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get("begin", "DEFERRED")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


def _json_dumps(obj: Any) -> str:
    text = getattr(obj, "text", None)  # index.JsonDict: already JSON
    if isinstance(text, str):
        return text
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def create_engine(url: str, *, migrate: bool = True, **kwargs: Any) -> sa.Engine:
    """An engine for ``url`` with the archive's settings; with ``migrate`` the
    schema is created or upgraded to the newest version."""
    sa_url = sa.make_url(normalize_url(url))
    kwargs.setdefault("json_serializer", _json_dumps)
    if sa_url.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
        engine = sa.create_engine(sa_url, **kwargs)
        _sqlite_setup(engine)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        engine = sa.create_engine(sa_url, **kwargs)
    if migrate:
        migrations.upgrade(engine)
    return engine


def is_sqlite(engine: sa.Engine) -> bool:
    return engine.dialect.name == "sqlite"
