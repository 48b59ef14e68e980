"""Fixtures for the network tests: servers on 127.0.0.1 port 0 storing to a
temporary folder, and the pydicom corpus files (skipped when absent)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dicomfast.net import Server
from netutil import corpus_file, make_scp


@pytest.fixture
def ct_small() -> Path:
    return corpus_file("CT_small.dcm")


@pytest.fixture
def mr_small() -> Path:
    return corpus_file("MR_small.dcm")


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    d = tmp_path / "store"
    d.mkdir()
    return d


@pytest.fixture
def scp(storage: Path) -> Iterator[Server]:
    server = make_scp().start_server(("127.0.0.1", 0), block=False, storage=storage)
    try:
        yield server
    finally:
        server.shutdown()
