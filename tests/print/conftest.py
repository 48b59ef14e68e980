"""Fixtures for the print tests: our print SCP in this process on a free port."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def print_scp(tmp_path: Path) -> Iterator[Any]:
    """(server, output folder, printed paths) of our print SCP at 100 dpi."""
    from dicomfast.printing import PrintServer, make_print_ae

    out = tmp_path / "films"
    out.mkdir()
    printed: list[tuple[str, str]] = []
    printer = PrintServer(
        str(out), dpi=100, fsync=False, on_printed=lambda a, b: printed.append((a, b))
    )
    ae = make_print_ae("PRINTSCP", acse_timeout=10, dimse_timeout=20, network_timeout=30)
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=printer.handlers())
    try:
        yield server, out, printed
    finally:
        server.shutdown()
