"""Fixtures for the query/retrieve tests (synthetic data; no corpus needed)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from qrutil import archive_server, write_instances  # noqa: E402


@pytest.fixture(scope="module")
def source_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """40 instances: 5 patients × 2 studies × 2 series (CT, MR) × 2 images."""
    return write_instances(tmp_path_factory.mktemp("src"), 40)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, source_files: list[Path]) -> Iterator[tuple]:
    """An in-process archive server holding ``source_files``: (server, archive)."""
    folder = tmp_path_factory.mktemp("archive")
    server, archive = archive_server(folder)
    for f in source_files:
        assert archive.store(f).ok
    try:
        yield server, archive
    finally:
        server.shutdown()
        archive.close()
