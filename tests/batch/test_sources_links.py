"""Walking inputs that are symbolic links: the target of each link is resolved as
``os.path.realpath`` resolves it (relative targets, links through linked folders,
chains, dangling links), and a link into the output folder is not read back."""

from __future__ import annotations

import os
from pathlib import Path

from dicomfast.batch.sources import _link_target, iter_sources


def test_link_targets_resolve_as_realpath(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f").write_bytes(b"x")
    os.symlink(tmp_path / "a", tmp_path / "la")
    os.symlink("../la/b/f", tmp_path / "a" / "l1")  # relative, through a linked folder
    os.symlink(tmp_path / "a" / "l1", tmp_path / "l2")  # a chain
    os.symlink("b/.", tmp_path / "a" / "l3")
    os.symlink("nowhere/x", tmp_path / "l4")  # dangling
    folders: dict[str, str] = {}
    for link in ("a/l1", "l2", "a/l3", "l4"):
        path = str(tmp_path / link)
        assert _link_target(path, folders) == os.path.realpath(path), link


def test_links_into_the_output_are_skipped(tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    (out / "done.dcm").write_bytes(b"x")
    (tmp_path / "other.dcm").write_bytes(b"y")
    os.symlink(out / "done.dcm", src / "a.dcm")
    os.symlink("../other.dcm", src / "b.dcm")
    found = [s.rel for s in iter_sources([src], exclude=str(out))]
    assert found == ["b.dcm"]
