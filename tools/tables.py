"""What the generators of ``tools/`` share: reading a table of ``standard/``, writing a
Python literal as ruff formats it, and writing (or, with ``--check``, comparing) the
generated module."""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STANDARD = ROOT / "standard"


def rows(name: str) -> list[dict[str, str]]:
    """The rows of ``standard/<name>`` (tab-separated, a header line, no quoting)."""
    with open(STANDARD / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def q(s: str) -> str:
    """A Python string literal as ruff formats it (the tables hold no quotes or backslashes)."""
    assert '"' not in s and "\\" not in s, s
    return f'"{s}"'


def generate(out: Path, render: Callable[[], str], description: str | None) -> int:
    """The generator's command line: write ``render()`` to ``out``, or with ``--check``
    exit 1 when the committed file differs from it."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--check", action="store_true", help="fail if the committed output differs")
    args = ap.parse_args()
    text = render()
    if args.check:
        stale = not out.exists() or out.read_text(encoding="utf-8") != text
        name = out.relative_to(ROOT)
        print(f"{name} is {'stale: run the generator' if stale else 'up to date'}", file=sys.stderr)
        return 1 if stale else 0
    out.write_text(text, encoding="utf-8")
    return 0
