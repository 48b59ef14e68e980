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


def machine() -> str:
    """The processor, cores and time the figures come from (ratios move with the
    processor: the same code measured 0.9x on one VM and 1.2x on another)."""
    import platform
    import time

    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next(
                (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")),
                model,
            )
    except OSError:
        pass
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return f"{model}, {os.cpu_count()} cores, {platform.system()}; {when}"


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001
    if RESULTS:
        terminalreporter.write_sep("=", "dicomfast vs competitors (same input, same run)")
        terminalreporter.write_line(f"machine: {machine()}")
        for line in RESULTS:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (CORPUS / "manifest.json").exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    return CORPUS


sys.path.insert(0, str(Path(__file__).parent))
