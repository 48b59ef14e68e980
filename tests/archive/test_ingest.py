"""Deferred indexing (``Archive.ingest``/``ingest_temp``, the Storage SCP's
path): durable file first, row by group commit; duplicate policies; what a
crash before the commit leaves and how opening the archive repairs it."""

from __future__ import annotations

import os
import threading

import pytest
import sqlalchemy as sa
from archutil import encode, instance, query
from dicomfast.archive import Archive
from dicomfast.archive.ingest import Indexer
from dicomfast.archive.schema import instances
from dicomfast.archive.store import TempInstance


def _rel(archive: Archive, path: str) -> str:
    return os.path.relpath(path, archive.folder).replace(os.sep, "/")


def test_ingest_then_query_sees_every_instance(make_archive) -> None:  # noqa: ANN001
    archive = make_archive()
    results = [archive.ingest(encode(instance(sop_uid=f"1.3.1.{i}"))) for i in range(40)]
    assert all(r.ok and r.action == "stored" and os.path.exists(r.path) for r in results)
    # queries wait for the indexer: all 40 are found at once
    found = list(archive.find(query("IMAGE", StudyInstanceUID="1.2.826.0.1.1", SOPInstanceUID="")))
    assert len(found) == 40
    assert archive.count() == 40 and archive.check(verify=True).consistent


def test_ingest_groups_rows_in_few_transactions(make_archive) -> None:  # noqa: ANN001
    archive = make_archive()
    batches: list[int] = []
    index_batch = archive._index_batch

    def counting(jobs):  # noqa: ANN001, ANN202
        batches.append(len(jobs))
        return index_batch(jobs)

    gate = threading.Event()
    archive._indexer = Indexer(lambda jobs: (gate.wait(10), counting(jobs)))
    for i in range(30):
        assert archive.ingest(encode(instance(sop_uid=f"1.3.2.{i}"))).ok
    gate.set()
    assert archive.flush(30)
    assert sum(batches) == 30 and len(batches) <= 3  # the first job, then the rest together
    assert archive.count() == 30


@pytest.mark.parametrize("policy", ["keep-first", "keep-both", "replace"])
def test_same_path_duplicates_follow_the_policy(make_archive, policy: str) -> None:  # noqa: ANN001
    archive = make_archive(policy)
    a = archive.ingest(encode(instance(sop_uid="1.3.3.1", PatientComments="old")))
    b = archive.ingest(encode(instance(sop_uid="1.3.3.1", PatientComments="a longer new one")))
    assert a.ok and b.ok and a.action == "stored"
    if policy == "keep-first":
        assert b.action == "kept-existing" and b.path == a.path
        assert archive.count() == 1 and list(archive.iter_files()) == [_rel(archive, a.path)]
    elif policy == "keep-both":
        assert b.action == "stored-copy" and b.path.endswith("_1.dcm")
        assert archive.count() == 2
    else:
        assert b.action == "replaced" and a.path == b.path
        assert archive.count() == 1  # one row, describing the new file (checked below)
    assert archive.check(verify=True).consistent


@pytest.mark.parametrize("policy", ["keep-first", "keep-both", "replace"])
def test_duplicates_across_series_follow_the_policy(make_archive, policy: str) -> None:  # noqa: ANN001
    archive = make_archive(policy)
    a = archive.ingest(encode(instance(sop_uid="1.3.4.1", series_uid="1.2.826.0.1.1.1")))
    archive.flush()
    b = archive.ingest(encode(instance(sop_uid="1.3.4.1", series_uid="1.2.826.0.1.1.2")))
    assert a.ok and b.ok and a.path != b.path
    archive.flush()
    files = sorted(archive.iter_files())
    if policy == "keep-first":
        assert archive.count() == 1 and files == [_rel(archive, a.path)]
    elif policy == "keep-both":
        assert archive.count() == 2 and len(files) == 2
    else:
        assert archive.count() == 1 and files == [_rel(archive, b.path)]
    assert archive.check(verify=True).consistent


def test_crash_before_the_group_commit_is_repaired_on_open(tmp_path) -> None:  # noqa: ANN001
    folder = tmp_path / "archive"
    archive = Archive(folder, fsync=False)
    stuck = threading.Event()
    archive._indexer = Indexer(lambda jobs: stuck.wait())  # the commit never comes
    results = [archive.ingest(encode(instance(sop_uid=f"1.3.5.{i}"))) for i in range(5)]
    assert all(r.ok and os.path.exists(r.path) for r in results)  # acknowledged: durable files
    with archive.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(instances)).scalar() == 0
    # "restart": a new process opens the folder and reconciles
    reopened = Archive(folder, fsync=False, reconcile=True)
    assert reopened.count() == 5 and reopened.check(verify=True).consistent
    stuck.set()
    reopened.close()


def test_a_failing_batch_is_retried_one_by_one(make_archive, caplog) -> None:  # noqa: ANN001
    archive = make_archive()
    index_batch = archive._index_batch

    def flaky(jobs):  # noqa: ANN001, ANN202
        if len(jobs) > 1 or jobs[0].sop_instance_uid == "1.3.6.3":
            raise RuntimeError("database hiccup")
        return index_batch(jobs)

    gate = threading.Event()
    archive._indexer = Indexer(lambda jobs: (gate.wait(10), flaky(jobs)))
    for i in range(5):
        assert archive.ingest(encode(instance(sop_uid=f"1.3.6.{i}"))).ok
    gate.set()
    assert archive.flush(30)
    assert archive._indexer.failed == 1 and "1.3.6.3" in caplog.text
    assert archive.count() == 4
    rep = archive.check(repair=True)  # the file of the one that failed is indexed now
    assert rep.files_without_rows and archive.count() == 5


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="names the synced files by /proc")
def test_ingest_temps_flushes_once_and_commits_before_returning(make_archive) -> None:  # noqa: ANN001
    archive = make_archive()
    synced: list[str] = []
    flushed = archive.fsync
    archive.fsync = True  # count the flushes, whatever the fixture chose
    temps = []
    for i in range(5):
        path = os.path.join(archive.folder, f".stow.{i}.part")
        with open(path, "wb") as fh:
            fh.write(encode(instance(sop_uid=f"1.3.9.{i}")) if i != 3 else b"not dicom")
        temps.append(TempInstance(path))
    fsync = os.fsync

    def counting(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        fsync(fd)

    os.fsync = counting
    try:
        results = archive.ingest_temps(temps)
    finally:
        os.fsync, archive.fsync = fsync, flushed
    assert [r.ok for r in results] == [True, True, True, False, True]
    assert results[3].status == 0xC000
    # every good file once, its series folder once (not once per file)
    assert sorted(p for p in synced if p.endswith(".part")) == [temps[i].path for i in (0, 1, 2, 4)]
    assert synced.count(os.path.dirname(results[0].path)) == 1
    # the rows are committed when it returns, no temporary file is left
    with archive.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(instances)).scalar() == 4
    assert not [f for f in os.listdir(archive.folder) if f.endswith(".part")]
