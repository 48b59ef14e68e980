"""Parsing: dicomfast.read vs pydicom.dcmread on the same files (issue 2).

(a) read without touching values — target >= 10x pydicom
(b) read and convert every element's value to Python — target >= 20x pydicom
(c) memory a parsed data set holds beyond its mapped file
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import dicomfast
import pytest
from benchrace import RESULTS, race

pydicom = pytest.importorskip("pydicom")

SETS = {
    "ct512_20": "perf/ct512_20/unc",
    "mammo": "perf/mammo/unc",
    "us_cine": "perf/us_cine/unc",
}


def _files(corpus: Path, name: str) -> list[Path]:
    if name == "public":
        manifest = json.loads((corpus / "manifest.json").read_text())["files"]
        out = []
        for f in manifest:
            p = corpus / f["path"]
            if (
                f["path"].startswith("public/")
                and not f.get("expect_error")
                and not f["needs_force"]
            ):
                try:
                    dicomfast.read(p)
                    pydicom.dcmread(p)
                except Exception:
                    continue
                out.append(p)
        return out
    return sorted((corpus / SETS[name]).glob("*.dcm"))


def _read_all_ours(files):  # noqa: ANN001, ANN202
    for p in files:
        dicomfast.read(p)


def _read_all_theirs(files):  # noqa: ANN001, ANN202
    for p in files:
        pydicom.dcmread(p)


def _convert_ours(files):  # noqa: ANN001, ANN202
    for p in files:
        for e in dicomfast.read(p).walk():
            e.value  # noqa: B018


def _convert_theirs(files):  # noqa: ANN001, ANN202
    for p in files:
        for e in pydicom.dcmread(p).iterall():
            e.value  # noqa: B018


@pytest.mark.parametrize("name", [*SETS, "public"])
def test_read_without_values(benchmark, corpus, name) -> None:  # noqa: ANN001
    files = _files(corpus, name)
    nbytes = sum(p.stat().st_size for p in files)
    race(
        benchmark,
        f"parse (a) no values [{name}: {len(files)} files]",
        lambda: _read_all_ours(files),
        {"pydicom": lambda: _read_all_theirs(files)},
        nbytes=nbytes,
        target=10,
    )


@pytest.mark.parametrize("name", [*SETS, "public"])
def test_read_and_convert_every_value(benchmark, corpus, name) -> None:  # noqa: ANN001
    files = _files(corpus, name)
    nbytes = sum(p.stat().st_size for p in files)
    race(
        benchmark,
        f"parse (b) all values [{name}: {len(files)} files]",
        lambda: _convert_ours(files),
        {"pydicom": lambda: _convert_theirs(files)},
        nbytes=nbytes,
        target=20,
    )


@pytest.mark.parametrize("name", list(SETS))
def test_memory_beyond_the_mapped_file(corpus, name) -> None:  # noqa: ANN001
    files = _files(corpus, name)
    size = sum(p.stat().st_size for p in files)
    dicomfast.read(files[0]).PatientName  # noqa: B018 - one-time imports and tables out of the count
    tracemalloc.start()
    kept = [dicomfast.read(p) for p in files]
    for ds in kept:
        ds.PatientName  # noqa: B018 - touch one value, as a typical caller does
    python_bytes, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    index_bytes = sum(ds._raw.index_nbytes() for ds in kept)
    held = python_bytes + index_bytes
    RESULTS.append(
        f"memory [{name}]: {held / 1024:.0f} KiB held for {size / 1e6:.1f} MB of files "
        f"({100 * held / size:.2f}% of file size; index {index_bytes / 1024:.0f} KiB)"
    )
    assert held < 0.10 * size
