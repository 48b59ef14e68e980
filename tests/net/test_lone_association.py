"""A durable Storage SCP with one association of window one (a modality sending a study,
``storescu``): each instance is written and flushed on the event loop, not handed to
the writer thread and back; with other associations open, the writer thread and its
group commit take them, so that the loop keeps serving the others."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dicomfast
import pytest
from dicomfast.net import Association, Server
from dicomfast.net.storage import FileStorage
from netutil import CT, make_scp, scu, stored_files


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[FileStorage, Server]]:
    """A durable storage in ``tmp_path / "in"`` and the Storage SCP writing to it."""
    storage = FileStorage(tmp_path / "in")
    server = make_scp().start_server(("127.0.0.1", 0), block=False, storage=storage)
    try:
        yield storage, server
    finally:
        server.shutdown()


def _sender(server: Server, window: int = 1) -> Association:
    """An association to ``server`` from an SCU offering a window of ``window``."""
    return scu(CT, async_operations_window=window).associate("127.0.0.1", server.port, "STORESCP")


def test_a_lone_associations_instances_skip_the_writer_thread(
    served: tuple[FileStorage, Server], tmp_path: Path, ct_small: Path
) -> None:
    storage, server = served
    with _sender(server) as assoc:
        assert assoc.send_c_store(ct_small) == 0
        assert assoc.send_c_store(ct_small) == 0
    assert storage.writer._pool is None  # never started: no hop to it and back
    uid = dicomfast.read(ct_small).SOPInstanceUID
    files = stored_files(tmp_path / "in")
    assert [f.name for f in files] == [f"{uid}.dcm", f"{uid}_1.dcm"]
    assert all(f.read_bytes().endswith(ct_small.read_bytes()[-4096:]) for f in files)


def test_with_another_association_open_the_writer_thread_commits(
    served: tuple[FileStorage, Server], tmp_path: Path, ct_small: Path
) -> None:
    storage, server = served
    with _sender(server, window=16) as idle, _sender(server) as busy:
        assert busy.send_c_store(ct_small) == 0
        assert idle.send_c_echo() == 0
    assert storage.writer._pool is not None
    assert len(stored_files(tmp_path / "in")) == 1
