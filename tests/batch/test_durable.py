"""A durable run (``convert``/``export`` without ``--no-fsync``): outputs are written
under temporary names, flushed in groups, renamed only after their flush, and their
folders flushed before the record is reported; the flushes overlap the work; a short
run never starts the process pool."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from dicomfast.batch import files, iter_sources, runner
from dicomfast.cli import main

pytestmark = pytest.mark.corpus


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.mark.parametrize("command", ["convert", "export", "anonymize"])
def test_outputs_flushed_then_renamed_then_folders_flushed(
    command: str, inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[tuple[str, Any]] = []
    real_sync, real_commit, real_folders = files.sync_files, files.commit, files.sync_folders

    def sync_files(paths: Any) -> None:
        paths = list(paths)
        assert all(Path(p).name.startswith(files.TEMP_PREFIX) for p in paths)
        events.append(("flush", set(paths)))
        real_sync(paths)

    def commit(tmp: str, dst: str) -> None:
        events.append(("rename", (tmp, dst)))
        real_commit(tmp, dst)

    def sync_folders(folders: Any) -> None:
        folders = list(folders)
        events.append(("folders", set(folders)))
        real_folders(folders)

    monkeypatch.setattr(files, "sync_files", sync_files)
    monkeypatch.setattr(files, "commit", commit)
    monkeypatch.setattr(files, "sync_folders", sync_folders)
    extra = {"convert": ["-t", "explicit-le"], "export": ["--format", "png"]}.get(command, [])
    if command == "anonymize":  # the same pseudonyms and UIDs in both runs
        (tmp_path / "key").write_text("k" * 32)
        extra = ["--key-file", str(tmp_path / "key"), "--allow-burned-in"]
    out, report = tmp_path / "o", tmp_path / "r.json"
    args = [command, str(inputs), "-o", str(out), *extra, "--workers", "1", "-q"]
    assert main([*args, "--report", str(report)]) == 0
    recs = [json.loads(line) for line in report.read_text().splitlines()]
    done = "anonymized" if command == "anonymize" else "converted"
    assert len(recs) == 3 and all(r["status"] == done for r in recs)
    assert all("staged" not in r for r in recs)
    renames = [(i, e[1]) for i, e in enumerate(events) if e[0] == "rename"]
    assert len(renames) >= 3  # export: one image per frame
    for i, (tmp, dst) in renames:
        flushed = [j for j, e in enumerate(events[:i]) if e[0] == "flush" and tmp in e[1]]
        assert flushed, f"{dst} renamed before its bytes were flushed"
        after = [e for e in events[i:] if e[0] == "folders" and str(Path(dst).parent) in e[1]]
        assert after, f"{dst}: its folder not flushed after the rename"
    # the same files as a run that flushes nothing, and no temporary file left behind
    plain = tmp_path / "plain"
    assert (
        main([command, str(inputs), "-o", str(plain), *extra, "--workers", "1", "-q", "--no-fsync"])
        == 0
    )
    assert _tree(out) == _tree(plain)


def test_failed_flush_publishes_nothing(
    inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(paths: Any) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(files, "sync_files", broken)
    out, report = tmp_path / "o", tmp_path / "r.json"
    args = ["convert", str(inputs), "-o", str(out), "-t", "rle", "--workers", "1", "-q"]
    assert main([*args, "--report", str(report)]) == 1
    recs = [json.loads(line) for line in report.read_text().splitlines()]
    assert [r["status"] for r in recs] == ["failed"] * 3
    assert all("not made durable" in r["reason"] for r in recs)
    assert [p for p in out.rglob("*") if p.is_file()] == []  # neither outputs nor temps


def test_group_commit_takes_what_waits() -> None:
    """Each group is every record finished while the one before was being settled."""
    groups: list[list[int]] = []
    release = threading.Event()

    def settle(group: list[dict[str, Any]]) -> None:
        groups.append([r["n"] for r in group])
        release.wait(5)

    commit = runner._GroupCommit(settle, limit=100)
    commit.add({"n": 0, "status": "converted"})
    while not groups:
        time.sleep(0.001)
    for n in range(1, 5):
        commit.add({"n": n, "status": "converted"})
    assert commit.take() == []  # nothing is reported before its flush
    release.set()
    assert [r["n"] for r in commit.close()] == [0, 1, 2, 3, 4]
    assert groups == [[0], [1, 2, 3, 4]]


def _slow(n: int) -> dict[str, Any]:
    time.sleep(0.002)
    return {"src": str(n), "status": "converted"}


@pytest.mark.parametrize(("items", "pool"), [(60, False), (1000, True)])
def test_pool_only_for_runs_long_enough(
    items: int, pool: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that ends within POOL_MIN_SECONDS of its switch time stays in this process;
    a longer one starts the pool (here never ready: the run goes on inline)."""
    started: list[int] = []
    monkeypatch.setattr(runner, "INLINE_SECONDS", 0.02)
    monkeypatch.setattr(runner, "POOL_MIN_SECONDS", 0.5)
    monkeypatch.setattr(runner, "_POOL", None)
    monkeypatch.setattr(runner, "_warm_pool", lambda workers, ready: started.append(workers))
    got = list(runner.run_tasks(_slow, iter(range(items)), workers=2, max_inflight=400))
    assert sorted(int(r["src"]) for r in got) == list(range(items))
    assert started == ([2] if pool else [])


def test_export_failure_leaves_no_staged_frames(
    inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dicomfast.batch import export

    calls = {"n": 0}
    real = export.save_image

    def second_frame_fails(img: Any, tmp: str, fmt: str, **kw: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        real(img, tmp, fmt, **kw)

    monkeypatch.setattr(export, "save_image", second_frame_fails)
    opts = export.ExportOptions(out=str(tmp_path / "o"), fsync=True)
    src = next(s for s in iter_sources([inputs]) if s.rel.endswith("rgb16_rle.dcm"))
    rec = export.export_file(src, opts)
    assert rec["status"] == "failed" and "staged" not in rec
    assert [p for p in (tmp_path / "o").rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("fsync", [True, False])
def test_the_same_instance_twice_is_converted_once(
    fsync: bool, inputs: Path, tmp_path: Path
) -> None:
    """Two inputs holding the same instance under ``--layout uid`` have one output: the
    first is kept and the second reported skipped, whether the outputs wait for their
    group's flush (durable) or are renamed at once."""
    twin = inputs / "ct" / "CT_small_again.dcm"
    twin.write_bytes((inputs / "ct" / "CT_small.dcm").read_bytes())
    out, report = tmp_path / "o", tmp_path / "r.json"
    args = ["convert", str(inputs), "-o", str(out), "-t", "explicit-le", "--layout", "uid"]
    args += ["--workers", "1", "-q", "--report", str(report)]
    assert main(args + ([] if fsync else ["--no-fsync"])) == 0
    recs = [json.loads(line) for line in report.read_text().splitlines()]
    ct = [r for r in recs if Path(r["src"]).parent.name == "ct"]
    assert sorted(r["status"] for r in ct) == ["converted", "skipped"]
    assert len([p for p in out.rglob("*.dcm")]) == len(recs) - 1
    assert not [p for p in out.rglob("*") if p.name.startswith(files.TEMP_PREFIX)]
