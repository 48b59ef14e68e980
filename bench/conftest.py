"""Benchmarks: dicomfast against the toolkit it must beat, on the same input in
the same run.  ``pytest bench --benchmark-enable`` times both and prints the
ratios at the end; the default run (CI) executes every benchmark once as a
smoke test.  Benchmarks import ``race`` from ``benchrace``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from benchrace import RESULTS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("DICOMFAST_CORPUS", ROOT.parent / "shared" / "corpus"))


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001
    if RESULTS:
        terminalreporter.write_sep("=", "dicomfast vs competitors (same input, same run)")
        for line in RESULTS:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (CORPUS / "manifest.json").exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    return CORPUS


sys.path.insert(0, str(Path(__file__).parent))
