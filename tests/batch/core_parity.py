"""What the core-path tests (``test_export_core``, ``test_convert_core``) compare: a
run's record without its timing and temporary names, and the files an output holds."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dicomfast.batch import files
from dicomfast.batch.sources import Source


def comparable(rec: dict, out: Path) -> dict:
    """``rec`` without what differs between two runs (seconds, temporary names), its
    output named relative to ``out``."""
    keep = {k: v for k, v in rec.items() if k not in ("seconds", "staged")}
    if keep.get("dst"):
        keep["dst"] = os.path.relpath(keep["dst"], out)
    return keep


def tree(out: Path) -> dict[str, bytes]:
    """Every file under ``out``: its path relative to ``out`` -> its bytes."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def both(
    src: Source,
    tmp: Path,
    core: Callable[[Source, Any], dict],
    python: Callable[[Source, Any], dict],
    options_for: Callable[[str], Any],
) -> tuple[dict, dict, Path, Path]:
    """``src`` through the core's path and the Python path, each into its own folder
    under ``tmp`` with the options ``options_for(folder)``, durable runs settled as the
    runner settles them: (core record, Python record, core folder, Python folder)."""
    got = []
    for name, fn in (("core", core), ("python", python)):
        out = tmp / name
        rec = fn(src, options_for(str(out)))
        if rec.get("staged"):
            files.sync_outputs([rec])
        got.append((rec, out))
    (core_rec, core_out), (py_rec, py_out) = got
    return core_rec, py_rec, core_out, py_out


def corpus_sources(corpus: Path) -> Iterator[tuple[int, dict, Path, Source]]:
    """Every file of the corpus manifest that is there: (number, manifest entry, path,
    its :class:`Source`)."""
    manifest = json.loads((corpus / "manifest.json").read_text())
    for k, entry in enumerate(manifest["files"]):
        path = corpus / entry["path"]
        if path.is_file():
            yield k, entry, path, Source(str(path), path.name, path.stat().st_size)


def assert_same(got: tuple[dict, dict, Path, Path], what: object) -> None:
    """The two paths' records and outputs (as :func:`both` returns them) are equal."""
    core_rec, py_rec, core_out, py_out = got
    assert comparable(core_rec, core_out) == comparable(py_rec, py_out), what
    assert tree(core_out) == tree(py_out), what


def slices_and_a_damaged_one(corpus: Path, tmp: Path, ct: str) -> tuple[Path, list[Path]]:
    """A folder ``tmp/in`` holding copies of the first 4 files of the corpus folder
    ``ct`` and ``sub/damaged.dcm`` (the first cut short): (the folder, the copied ones'
    originals)."""
    src = tmp / "in"
    (src / "sub").mkdir(parents=True)
    slices = sorted((corpus / ct).glob("*.dcm"))[:4]
    for p in slices:
        shutil.copy(p, src / p.name)
    (src / "sub" / "damaged.dcm").write_bytes(slices[0].read_bytes()[:-3000])  # cut short
    return src, slices


def report_records(report: Path) -> dict[str, dict]:
    """A run's JSON-lines report, by its inputs' file names."""
    return {Path(r["src"]).name: r for r in map(json.loads, report.read_text().splitlines())}
