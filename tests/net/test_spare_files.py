"""The Storage SCP's temporary files: spares made ahead of need (a received
instance does not start with creating a file on the event loop), and their disk
writes started as fragments arrive."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from dicomfast.net.storage import SPARE_FOLDER, SPARE_SUFFIX, FileStorage, SpareFiles
from netutil import CT, make_scp, scu, stored_files


def _spares(folder: Path) -> list[str]:
    spare_folder = folder / SPARE_FOLDER
    if not spare_folder.exists():
        return []
    return sorted(f for f in os.listdir(spare_folder) if f.endswith(SPARE_SUFFIX))


def _wait_for(cond, timeout: float = 5.0) -> bool:  # noqa: ANN001
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


def test_take_renames_a_ready_spare_and_refills(tmp_path: Path) -> None:
    spares = SpareFiles(str(tmp_path), depth=2)
    fd, first = spares.take(".1.2.3.", ".part")  # none ready yet: made on the spot
    os.close(fd)
    assert os.path.basename(first).startswith(".1.2.3.") and first.endswith(".part")
    assert _wait_for(lambda: len(_spares(tmp_path)) == 2)
    ready = set(_spares(tmp_path))
    inodes = {os.stat(tmp_path / SPARE_FOLDER / f).st_ino for f in ready}
    fd, second = spares.take(".1.2.4.", ".part")
    try:
        st = os.fstat(fd)
        assert st.st_size == 0 and st.st_ino in inodes  # a spare, renamed
        assert os.stat(second).st_ino == st.st_ino
        os.write(fd, b"data")
    finally:
        os.close(fd)
    assert Path(second).read_bytes() == b"data"
    # refilled, and the taken spare's name removed by the thread, not the caller
    assert _wait_for(lambda: len(_spares(tmp_path)) == 2 and os.stat(second).st_nlink == 1)
    assert set(os.listdir(tmp_path)) == {
        SPARE_FOLDER,
        os.path.basename(first),
        os.path.basename(second),
    }
    spares.close()
    assert _spares(tmp_path) == [] and not (tmp_path / SPARE_FOLDER).exists()
    # after close, take still works (and starts making spares again)
    fd, third = spares.take(".1.2.5.", ".part")
    os.close(fd)
    assert os.path.exists(third)
    spares.close()
    assert _spares(tmp_path) == []


def test_a_server_leaves_no_spare_behind(tmp_path: Path, ct_small: Path) -> None:
    storage = FileStorage(tmp_path)
    server = make_scp().start_server(("127.0.0.1", 0), block=False, storage=storage)
    try:
        with scu(CT).associate("127.0.0.1", server.port, "STORESCP") as assoc:
            for _ in range(3):
                assert assoc.send_c_store(ct_small) == 0
        assert _spares(tmp_path)  # made ahead while the server runs
    finally:
        server.shutdown()
    assert [p.name for p in stored_files(tmp_path)]
    assert sorted(os.listdir(tmp_path)) == sorted(p.name for p in stored_files(tmp_path))


def test_spare_names_a_crash_left_are_removed_when_spares_start(tmp_path: Path) -> None:
    folder = tmp_path / SPARE_FOLDER
    folder.mkdir()
    (folder / f"dead{SPARE_SUFFIX}").write_bytes(b"")
    kept = tmp_path / "1.2.3.dcm"  # a stored file whose spare name survived the crash
    kept.write_bytes(b"data")
    os.link(kept, folder / f"beef{SPARE_SUFFIX}")
    spares = SpareFiles(str(tmp_path))
    fd, path = spares.take(".1.2.", ".part")
    os.close(fd)
    stale = {f"dead{SPARE_SUFFIX}", f"beef{SPARE_SUFFIX}"}
    assert _wait_for(lambda: len(_spares(tmp_path)) == 2 and not stale & set(_spares(tmp_path)))
    assert not (folder / f"dead{SPARE_SUFFIX}").exists()
    assert not (folder / f"beef{SPARE_SUFFIX}").exists()
    assert kept.read_bytes() == b"data" and os.stat(kept).st_nlink == 1  # only the name went
    spares.close()


def test_intake_files_come_with_o_direct_on_and_a_sink_sets_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Intake files made ahead have ``O_DIRECT`` on already (where the file system
    takes it): a received instance's sink makes no ``fcntl`` calls for it, and
    still writes past the page cache; its bytes land as written."""
    import fcntl

    from dicomfast.net import chunk_writer as cw

    storage = FileStorage(str(tmp_path), fsync=True, intake=True)
    try:
        first = storage.open(CT, "1.2.826.0.99.1", "1.2.840.10008.1.2.1")  # starts the thread
        first.discard()
        assert _wait_for(lambda: len(storage.spares._intakes) >= 1)
        ready = storage.spares._intakes[0]
        flags = fcntl.fcntl(ready.fd, fcntl.F_GETFL)
        assert bool(flags & os.O_DIRECT) == ready.direct
        calls: list[int] = []
        monkeypatch.setattr(cw, "set_direct", lambda fd, on: calls.append(fd) or on)
        sink = storage.open(CT, "1.2.826.0.99.2", "1.2.840.10008.1.2.1")
        assert calls == []
        assert sink._out._direct == ready.direct
        body = os.urandom(20_000)
        sink.write(body)
        path = sink.commit()
        assert Path(path).read_bytes().endswith(body)
    finally:
        storage.close()
    probe = tmp_path / "probe"
    try:  # where the file system takes O_DIRECT (not tmpfs), the intake file has it
        os.close(os.open(probe, os.O_CREAT | os.O_WRONLY | os.O_DIRECT, 0o600))
    except OSError:
        return
    assert ready.direct
