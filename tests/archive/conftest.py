"""Archive fixtures: a throwaway PostgreSQL (when the Debian packages are
installed), the ``db_url`` parameter that runs a test on SQLite and on
PostgreSQL, and synthetic instances.

PostgreSQL: ``initdb`` into a temporary folder (as the ``postgres`` user
when running as root), started with ``pg_ctl`` on a free loopback port with
its socket in the same folder, stopped at the end of the session.  Each
test gets a database of its own.  Without ``initdb``/``pg_ctl`` (``apt-get
install postgresql``) or ``psycopg`` the PostgreSQL runs are skipped, unless
``DICOMFAST_REQUIRE_POSTGRES=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from archutil import create_pg_database  # noqa: E402


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for cand in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True):
        return cand
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def _unavailable(reason: str) -> None:
    if os.environ.get("DICOMFAST_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL required but unavailable: {reason}")
    pytest.skip(f"PostgreSQL unavailable: {reason}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[tuple[str, int]]:
    """(socket folder, port) of a throwaway PostgreSQL server."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install 'psycopg[binary]')")
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        _unavailable("initdb/pg_ctl not found (apt-get install postgresql)")
    root = tempfile.mkdtemp(prefix="dicomfast-pg-")
    data = os.path.join(root, "data")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    port = _free_port()
    try:
        subprocess.run(
            _as_postgres([initdb, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8"]),
            check=True,
            capture_output=True,
            timeout=120,
        )
        opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_postgres([pg_ctl, "-D", data, "-o", opts, "-l", f"{root}/log", "-w", "start"]),
            check=True,
            capture_output=True,
            timeout=120,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError, KeyError) as e:
        detail = getattr(e, "stderr", b"") or b""
        shutil.rmtree(root, ignore_errors=True)
        _unavailable(f"could not start a server: {e} {detail.decode(errors='replace')[-300:]}")
    try:
        yield root, port
    finally:
        subprocess.run(
            _as_postgres([pg_ctl, "-D", data, "-m", "immediate", "stop"]),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_template(pg_server: tuple[str, int]) -> str:
    """A database with the newest schema, copied for each test (faster than migrating)."""
    from dicomfast.archive import db

    url = create_pg_database(pg_server[1])
    db.create_engine(url).dispose()
    return url.rsplit("/", 1)[1]


@pytest.fixture
def pg_url(pg_server: tuple[str, int], pg_template: str) -> str:
    """A fresh PostgreSQL database with the archive schema, for one test."""
    return create_pg_database(pg_server[1], pg_template)


@pytest.fixture
def pg_url_empty(pg_server: tuple[str, int]) -> str:
    """A fresh, empty PostgreSQL database."""
    return create_pg_database(pg_server[1])


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str | None:
    """None (the default SQLite index in the storage folder) or a PostgreSQL URL."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("pg_url")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest) -> str | None:
    """As ``db_url``, but the PostgreSQL database has no tables at all."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("pg_url_empty")


@pytest.fixture
def make_archive(tmp_path, db_url):  # noqa: ANN001, ANN201
    """``make_archive(policy="keep-first", folder=None)`` → an Archive on the test's database."""
    from dicomfast.archive import Archive

    made = []

    def make(policy: str = "keep-first", folder: str | None = None, **kw: object) -> Archive:
        a = Archive(folder or tmp_path / "storage", db_url, policy, fsync=False, **kw)
        made.append(a)
        return a

    yield make
    for a in made:
        a.close()
