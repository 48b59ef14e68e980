"""Issue 16: a durable ``serve`` answers a C-STORE after one flush.

The instance is written to an intake file whose name was made durable ahead
(``.spares/*.intake``, mode 0 while incomplete), marked complete (a new
file's mode) and flushed once; Success is answered; it is named
``<study>/<series>/<uid>.dcm`` afterwards, in groups, and only then is the
intake name removed.  Checked here: the answer does not wait for the folder
flush, the intake file holds the acknowledged bytes when Success comes, a
query right after a store finds it, EVT_STORED fires with the final name,
a placement that fails never removes the data, and an archive opened after a
stop places complete intake files and removes incomplete ones (the SIGKILL
test of ``tests/qr/test_qr_reliability.py`` does it with a real process).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import dicomfast
import pytest
import sqlalchemy as sa
from archutil import CT_IMAGE_STORAGE, encode, instance, query, wait_until
from dicomfast.archive import Archive
from dicomfast.archive import placement as placement_mod
from dicomfast.archive.netstorage import ArchiveStorage
from dicomfast.archive.schema import instances
from dicomfast.net import AE
from dicomfast.net import intake as intake_mod
from dicomfast.net.events import EVT_STORED
from dicomfast.net.intake import INTAKE_SUFFIX, is_complete, make_intake
from dicomfast.net.storage import SPARE_FOLDER

ELE = "1.2.840.10008.1.2.1"
STUDY_FIND = "1.2.840.10008.5.1.4.1.2.2.1"


def _rows(archive: Archive) -> dict[str, str]:
    with archive.engine.connect() as conn:
        got = conn.execute(sa.select(instances.c.sop_instance_uid, instances.c.path))
        return {uid: path for uid, path in got}


def _intakes(folder: Path) -> list[Path]:
    spare = folder / SPARE_FOLDER
    return sorted(spare.glob(f"*{INTAKE_SUFFIX}")) if spare.exists() else []


def _complete_intakes(folder: Path) -> list[Path]:
    return [p for p in _intakes(folder) if is_complete(str(p))]


def _scu() -> AE:
    ae = AE("MODALITY", acse_timeout=5, dimse_timeout=5, connect_timeout=5)
    ae.add_requested_context(CT_IMAGE_STORAGE, [ELE])
    ae.add_requested_context(STUDY_FIND, [ELE])
    return ae


def _server(archive: Archive, handlers: list | None = None):  # noqa: ANN202
    from dicomfast.archive.handlers import archive_handlers

    ae = AE("ARCHIVE", acse_timeout=5, dimse_timeout=5, network_timeout=10)
    ae.add_storage_scp_contexts()
    ae.add_supported_context(STUDY_FIND, [ELE])
    storage = ArchiveStorage(archive)
    return ae.start_server(
        ("127.0.0.1", 0),
        block=False,
        storage=storage,
        evt_handlers=[*archive_handlers(archive, "ARCHIVE", {}), *(handlers or [])],
    ), storage


def test_make_intake_is_mode_zero_until_marked(tmp_path: Path) -> None:
    fd, path, mode, tail, _ = make_intake(str(tmp_path))
    os.close(tail)
    try:
        assert path.endswith(INTAKE_SUFFIX)
        assert os.stat(path).st_mode & 0o7777 == 0 and not is_complete(path)
        umask = os.umask(0)
        os.umask(umask)
        assert mode == 0o666 & ~umask  # what any new file gets
        os.write(fd, b"x")
        assert not is_complete(path)  # bytes but no mark: never acknowledged
        intake_mod.mark_complete(fd, mode)
        assert is_complete(path)
    finally:
        os.close(fd)


def test_no_stored_event_work_where_no_line_is_logged(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """``serve -q`` logs no line per stored instance, so binds no EVT_STORED
    handler; an instance then makes no task waiting for its final name (each cost
    a wake-up of the loop from the placer). With INFO lines the handler is bound."""
    import logging

    from dicomfast.archive.handlers import archive_handlers
    from dicomfast.net.services import store as store_mod

    archive = Archive(tmp_path / "a", fsync=True)
    serve_log = logging.getLogger("dicomfast.serve")
    level = serve_log.level
    try:
        serve_log.setLevel(logging.INFO)
        assert EVT_STORED in [e for e, _ in archive_handlers(archive, "ARCHIVE", {})]
        serve_log.setLevel(logging.WARNING)  # as -q leaves it
        assert EVT_STORED not in [e for e, _ in archive_handlers(archive, "ARCHIVE", {})]
        server, storage = _server(archive)
    finally:
        serve_log.setLevel(level)

    made: list[object] = []

    class Recording(set):  # type: ignore[type-arg]
        def add(self, task: object) -> None:
            made.append(task)
            super().add(task)

    monkeypatch.setattr(store_mod, "_WAITING", Recording())
    try:
        with _scu().associate("127.0.0.1", server.port, "ARCHIVE") as assoc:
            for k in range(3):
                assert int(assoc.send_c_store(instance(sop_uid=f"1.2.826.0.78.{k}"))) == 0
        assert archive.flush(30)
        assert set(_rows(archive)) == {f"1.2.826.0.78.{k}" for k in range(3)}
        assert made == []
    finally:
        server.shutdown()
        storage.close()
        archive.close()


def test_answer_waits_for_one_flush_and_naming_follows(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """Folder flushes of the placement are held: the C-STORE is still answered
    Success, its bytes are in a complete intake file (flushed), it has no final
    name yet and EVT_STORED has not fired; released, it is named, the intake name
    goes, the event fires with the final path."""
    archive = Archive(tmp_path / "a", fsync=True)
    held = threading.Event()
    release = threading.Event()
    real = placement_mod.fsync_path

    def slow_fsync(path: str) -> None:
        held.set()
        release.wait(30)
        real(path)

    flushed: list[str] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        flushed.append(os.path.realpath(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    stored: list[str] = []
    server, storage = _server(archive, [(EVT_STORED, lambda ev: stored.append(ev.stored_path))])
    try:
        payload = os.urandom(300_000)
        ds = instance(sop_uid="1.2.826.0.77.1", series_uid="1.2.826.0.77")
        ds.add_new(0x00091010, "OB", payload)
        with _scu().associate("127.0.0.1", server.port, "ARCHIVE") as assoc:
            # a first instance: intake files are made from the first store on
            assert int(assoc.send_c_store(instance(sop_uid="1.2.826.0.77.0"))) == 0
            assert archive.flush(30)
            assert wait_until(lambda: len(stored) == 1)  # its EVT_STORED, once named
            stored.clear()
            monkeypatch.setattr(placement_mod, "fsync_path", slow_fsync)
            monkeypatch.setattr(os, "fsync", counting_fsync)
            assert int(assoc.send_c_store(ds)) == 0
            answered_after = list(flushed)
            assert held.wait(10)  # the placement waits on its folder flush
            done = _complete_intakes(tmp_path / "a")
            assert len(done) == 1  # acknowledged in its intake file, complete
            assert dicomfast.read(done[0]).SOPInstanceUID == ds.SOPInstanceUID
            assert payload in done[0].read_bytes()
            # named, perhaps, but that name not flushed yet: the intake name stays
            assert stored == []
            # the answer waited for one flush: the file's (beside it at most the
            # spares' folder, made ahead by their own thread)
            spares = os.path.realpath(tmp_path / "a" / SPARE_FOLDER)
            assert [p for p in answered_after if p != spares] == [str(done[0])]
            release.set()
            assert archive.flush(30)
        final = archive.abspath(_rows(archive)[ds.SOPInstanceUID])
        assert dicomfast.read(final).SOPInstanceUID == ds.SOPInstanceUID
        assert _complete_intakes(tmp_path / "a") == []
        assert wait_until(lambda: bool(stored))
        assert stored == [final]
    finally:
        release.set()
        server.shutdown()
        archive.close()


def test_query_right_after_store_finds_it(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a", fsync=True)
    server, storage = _server(archive)
    # would wait 30 s for a quiet moment: the query's flush places them at once
    storage.placer.quiet = storage.placer.max_age = 30.0
    try:
        with _scu().associate("127.0.0.1", server.port, "ARCHIVE") as assoc:
            for k in range(3):
                assert int(assoc.send_c_store(instance(sop_uid=f"1.2.826.0.78.{k}"))) == 0
            found = [
                ds.SOPInstanceUID
                for status, ds in assoc.send_c_find(query("IMAGE", SOPInstanceUID=""), "study")
                if ds is not None and status.category == "Pending"
            ]
        assert sorted(found) == [f"1.2.826.0.78.{k}" for k in range(3)]
        assert _complete_intakes(tmp_path / "a") == []
    finally:
        server.shutdown()
        archive.close()


def test_failed_placement_keeps_the_data_and_reopening_places_it(tmp_path: Path) -> None:
    folder = tmp_path / "a"
    archive = Archive(folder, fsync=True)
    ds = instance(sop_uid="1.2.826.0.79.1", study_uid="1.2.826.0.79")
    folder.mkdir(exist_ok=True)
    (folder / "1.2.826.0.79").write_bytes(b"not a folder")  # the study folder cannot be made
    server, _ = _server(archive)
    try:
        with _scu().associate("127.0.0.1", server.port, "ARCHIVE") as assoc:
            assert int(assoc.send_c_store(ds)) == 0
        archive.flush(30)
        kept = _complete_intakes(folder)
        assert len(kept) == 1  # acknowledged, not placed, never removed
        assert ds.SOPInstanceUID not in _rows(archive)
    finally:
        server.shutdown()
        archive.close()
    assert _complete_intakes(folder) == kept  # a stop leaves it too
    (folder / "1.2.826.0.79").unlink()
    again = Archive(folder, fsync=True)
    assert _complete_intakes(folder) == kept  # opening alone (a reader) leaves it
    ArchiveStorage(again).close()  # the writer places it first
    try:
        rows = _rows(again)
        assert dicomfast.read(again.abspath(rows[ds.SOPInstanceUID])).PatientID == "PID1"
        assert _complete_intakes(folder) == []
    finally:
        again.close()


def _intake_file(folder: Path, data: bytes, *, complete: bool) -> Path:
    spare = folder / SPARE_FOLDER
    spare.mkdir(parents=True, exist_ok=True)
    fd, path, mode, tail, _ = make_intake(str(spare))
    os.close(tail)
    try:
        os.write(fd, data)
        if complete:
            intake_mod.mark_complete(fd, mode)
    finally:
        os.close(fd)
    return Path(path)


@pytest.mark.parametrize("policy", ["keep-first", "replace", "keep-both"])
def test_opening_recovers_complete_intake_files(tmp_path: Path, policy: str) -> None:
    folder = tmp_path / "a"
    first = Archive(folder, None, policy, fsync=True)
    placed = instance(sop_uid="1.2.826.0.80.2")
    assert first.ingest(encode(placed)).ok
    first.close()
    placed_path = next(folder.rglob("1.2.826.0.80.2.dcm"))
    acked = encode(instance(sop_uid="1.2.826.0.80.1"))
    complete = _intake_file(folder, acked, complete=True)
    partial = _intake_file(folder, encode(instance(sop_uid="1.2.826.0.80.3"))[:300], complete=False)
    empty = _intake_file(folder, b"", complete=True)
    garbage = _intake_file(folder, b"\x00" * 50 + b"not dicom", complete=True)
    # stopped after naming, before the intake name was removed: the same file
    os.link(placed_path, folder / SPARE_FOLDER / f"0123456789abcdef{INTAKE_SUFFIX}")
    archive = Archive(folder, None, policy, fsync=True)
    try:
        assert len(_complete_intakes(folder)) == 3  # a reader's opening changes nothing
        report = archive.check()  # reported, not placed
        assert not report.consistent and len(report.intake_files) == 3
        assert all(p.startswith(SPARE_FOLDER + "/") for p in report.intake_files)
        garbage_rel = f"{SPARE_FOLDER}/{garbage.name}"
        if policy == "replace":
            # a repair places them; what it cannot place stays, reported
            assert archive.check(repair=True).intake_files == [garbage_rel]
        else:
            ArchiveStorage(archive).close()  # a Storage SCP's storage does, first
        rows = _rows(archive)
        assert Path(archive.abspath(rows["1.2.826.0.80.1"])).read_bytes() == acked
        assert "1.2.826.0.80.3" not in rows  # never acknowledged: dropped
        assert not complete.exists() and not partial.exists() and not empty.exists()
        assert garbage.exists()  # not understood: left, never deleted
        copies = sorted(p.name for p in folder.rglob("1.2.826.0.80.2*.dcm"))
        assert copies == ["1.2.826.0.80.2.dcm"]  # no second copy of the same file
        assert _intakes(folder) == [garbage]
        report = archive.check()
        assert report.intake_files == [garbage_rel]
        report.intake_files.clear()
        assert report.consistent  # and nothing else
    finally:
        archive.close()


def test_no_permission_bits_means_two_flushes(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """A file system that keeps no mode (FAT, some network mounts): no intake
    files; each instance is named before its answer, as before."""
    monkeypatch.setattr(intake_mod.os, "fchmod", lambda fd, mode: None)
    archive = Archive(tmp_path / "a", fsync=True)
    server, storage = _server(archive)
    try:
        with _scu().associate("127.0.0.1", server.port, "ARCHIVE") as assoc:
            for k in range(2):
                assert int(assoc.send_c_store(instance(sop_uid=f"1.2.826.0.81.{k}"))) == 0
        assert not storage.spares.intake
        assert _intakes(tmp_path / "a") == []
        assert archive.flush(30)
        assert sorted(_rows(archive)) == ["1.2.826.0.81.0", "1.2.826.0.81.1"]
    finally:
        server.shutdown()
        archive.close()


def _flushes_within(archive: Archive, seconds: float) -> bool:
    """``archive.flush()`` returned within ``seconds`` (run on a thread of its own)."""
    t = threading.Thread(target=archive.flush, args=(30,), daemon=True)
    t.start()
    t.join(seconds)
    return not t.is_alive()


def test_failed_folder_flush_keeps_intake_names_and_the_placer_lives(
    tmp_path: Path,
    monkeypatch,  # noqa: ANN001
) -> None:
    """A folder flush that fails (EIO) must not end the placer's thread (every later
    flush, so every query, would wait for it for ever) nor remove an intake name whose
    replacement may not be durable; the next start removes them as already placed."""
    folder = tmp_path / "a"
    archive = Archive(folder, fsync=True)

    def failing(path: str) -> None:
        raise OSError(5, "Input/output error", path)

    server, storage = _server(archive)
    hung = False
    try:
        with _scu().associate("127.0.0.1", server.port, "ARCHIVE") as assoc:
            assert int(assoc.send_c_store(instance(sop_uid="1.2.826.0.81.0"))) == 0
            assert archive.flush(30)  # intake files are made from the first store on
            monkeypatch.setattr(placement_mod, "fsync_path", failing)
            assert int(assoc.send_c_store(instance(sop_uid="1.2.826.0.81.1"))) == 0
            hung = not _flushes_within(archive, 10)
            assert not hung, "Archive.flush hung on the placer"
            kept = _complete_intakes(folder)
            assert len(kept) == 1  # not removed: its final name was not flushed
            monkeypatch.undo()
            # the thread lives on: the next instance is placed and its intake name goes
            assert int(assoc.send_c_store(instance(sop_uid="1.2.826.0.81.2"))) == 0
            hung = not _flushes_within(archive, 10)
            assert not hung, "the placer's thread ended: nothing is placed any more"
            assert _complete_intakes(folder) == kept
        rows = _rows(archive)
        assert {"1.2.826.0.81.1", "1.2.826.0.81.2"} <= set(rows)
    finally:
        if not hung:  # else closing would wait for ever too: the test fails, not hangs
            server.shutdown()
            archive.close()
    again = Archive(folder, fsync=True)
    ArchiveStorage(again).close()  # a start: the kept name is the placed file, removed
    try:
        assert _complete_intakes(folder) == []
        assert dicomfast.read(again.abspath(_rows(again)["1.2.826.0.81.1"])).SOPInstanceUID
    finally:
        again.close()


def test_spare_intakes_not_flushed_are_closed_and_removed(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """Intake files whose names could not be flushed are never handed out, and their
    descriptors and names do not leak while the spares' thread tries again."""
    from dicomfast.net import storage as storage_mod
    from dicomfast.net.storage import SpareFiles

    def failing(path: str) -> None:
        raise OSError(5, "Input/output error", path)

    spares = SpareFiles(str(tmp_path), depth=4, intake=True)
    os.makedirs(spares.spare_folder, exist_ok=True)
    before = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(storage_mod, "fsync_path", failing)
    for _ in range(3):
        with pytest.raises(OSError):
            spares._make_intakes()
    assert len(os.listdir("/proc/self/fd")) == before  # no descriptor left open
    assert _intakes(tmp_path) == [] and len(spares._intakes) == 0
    monkeypatch.undo()
    spares._make_intakes()
    assert len(spares._intakes) == 4  # flushed this time: ready to hand out
    spares.close()
    assert _intakes(tmp_path) == []


@pytest.mark.parametrize("fsync", [True, False], ids=["durable", "no-fsync"])
def test_an_instance_the_archive_cannot_file_is_refused_before_success(
    tmp_path: Path, fsync: bool
) -> None:
    """An instance without a valid Study Instance UID (the archive files instances
    under it) is answered Cannot understand (0xC000) and leaves no intake file,
    durable or not: it was once answered Success, then kept unplaced in its intake
    file, found by no query and placed in vain at every start.  Its neighbours on
    the association are stored.  ``--no-fsync`` takes intake files too (named after
    the answer, as durable storage does; nothing flushed)."""
    archive = Archive(tmp_path / "a", fsync=fsync)
    server, storage = _server(archive)
    try:
        with _scu().associate("127.0.0.1", server.port, "ARCHIVE") as assoc:
            assert int(assoc.send_c_store(instance(sop_uid="1.2.826.0.81.1"))) == 0
            bad = instance(sop_uid="1.2.826.0.81.2", study_uid="not-a-uid")
            assert int(assoc.send_c_store(bad)) == 0xC000
            assert int(assoc.send_c_store(instance(sop_uid="1.2.826.0.81.3"))) == 0
            intakes = [p for p in _complete_intakes(tmp_path / "a")]
            assert all(dicomfast.read(p).SOPInstanceUID != bad.SOPInstanceUID for p in intakes)
        assert archive.flush(30)
        assert set(_rows(archive)) == {"1.2.826.0.81.1", "1.2.826.0.81.3"}
        assert _complete_intakes(tmp_path / "a") == []
    finally:
        server.shutdown()
        storage.close()
        archive.close()
