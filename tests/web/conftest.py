"""A DICOMweb server on 127.0.0.1 port 0 over a temporary archive."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

pytest.importorskip("aiohttp")

from dicomfast.archive import Archive  # noqa: E402
from dicomfast.web import WebOptions, WebServer  # noqa: E402


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    a = Archive(tmp_path / "archive", fsync=False)
    try:
        yield a
    finally:
        a.close()


@pytest.fixture
def server(archive: Archive) -> Iterator[WebServer]:
    s = WebServer(archive, WebOptions(port=0)).start()
    try:
        yield s
    finally:
        s.shutdown()
