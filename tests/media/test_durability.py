"""A DICOMDIR on disk never names a file that is not on disk: ``FileSet.write`` flushes
the files it copied (or ``store()`` wrote) before it publishes the new DICOMDIR, on
every file system (one ``syncfs``, else an fsync per file and folder)."""

from __future__ import annotations

from pathlib import Path

import dicomfast.media.fileset as fileset_module
import pytest
from dicomfast.media import FileSet
from media_helpers import make_instance


def _sources(tmp_path: Path, n: int = 3) -> list[Path]:
    src = tmp_path / "src"
    src.mkdir()
    paths = []
    for i in range(n):
        p = src / f"IM{i}"
        make_instance(p, "1", "1", "1", i + 1)
        paths.append(p)
    return paths


def test_copies_are_flushed_before_the_dicomdir(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    out = tmp_path / "OUT"
    seen: list[tuple[list[str], bool]] = []

    def record(paths):  # noqa: ANN001, ANN202
        paths = list(paths)
        seen.append((paths, (out / "DICOMDIR").exists()))

    monkeypatch.setattr(fileset_module, "sync_files", record)
    fs = FileSet()
    for p in _sources(tmp_path):
        fs.add(p)
    fs.write(out)
    assert len(seen) == 1
    flushed, dicomdir_there = seen[0]
    assert not dicomdir_there
    copies = sorted(str(p) for p in out.rglob("*") if p.is_file() and p.name != "DICOMDIR")
    assert sorted(flushed) == copies and len(copies) == 3


def test_stored_instances_are_flushed_too(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    out = tmp_path / "OUT"
    seen: list[list[str]] = []
    monkeypatch.setattr(fileset_module, "sync_files", lambda paths: seen.append(list(paths)))
    fs = FileSet()
    for p in _sources(tmp_path, 2):
        fs.store(p.read_bytes(), folder=out)
    fs.write()
    stored = sorted(str(p) for p in out.rglob("*") if p.is_file() and p.name != "DICOMDIR")
    assert len(seen) == 1 and sorted(seen[0]) == stored and len(stored) == 2


def test_no_fsync_flushes_nothing(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(
        fileset_module, "sync_files", lambda paths: pytest.fail("flushed with fsync=False")
    )
    fs = FileSet()
    for p in _sources(tmp_path, 1):
        fs.add(p)
    fs.write(tmp_path / "OUT", fsync=False)
    assert (tmp_path / "OUT" / "DICOMDIR").exists()
