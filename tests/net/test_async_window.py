"""The Asynchronous Operations Window (PS3.7 D.3.3.3): negotiated between our
SCU and SCP, pipelined C-STOREs with ``send_c_stores``, and nothing proposed or
assumed with peers that do not grant it."""

from __future__ import annotations

from pathlib import Path

import dicomfast
from dicomfast.errors import DicomError
from dicomfast.net import Server
from netutil import CT, MR, make_scp, scu, stored_files
from test_interop import dcmtk_storescp


def _copies(src: Path, folder: Path, n: int) -> list[Path]:
    """``n`` copies of ``src`` with new SOP Instance UIDs."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        ds = dicomfast.read(src)
        uid = dicomfast.uid.generate_uid()
        ds.SOPInstanceUID = uid
        ds.file_meta.MediaStorageSOPInstanceUID = uid
        path = folder / f"copy_{i:03d}.dcm"
        dicomfast.write(ds, path)
        out.append(path)
    return out


def _window_items(assoc: object) -> list[object]:
    ac = assoc.async_association.acceptance  # type: ignore[attr-defined]
    return [v for t, v in ac["user_information"] if t == 0x53]


def test_window_negotiated_and_stores_pipelined(
    scp: Server, storage: Path, tmp_path: Path, ct_small: Path, mr_small: Path
) -> None:
    files = _copies(ct_small, tmp_path / "src", 24) + [mr_small]
    bad = tmp_path / "src" / "not_dicom.dcm"
    bad.write_bytes(b"this is not DICOM")
    sources = files[:10] + [bad] + files[10:]
    with scu(CT, MR).associate("127.0.0.1", scp.port, "STORESCP") as assoc:
        assert assoc.async_association.max_invoked == 16
        assert _window_items(assoc) == [(16, 1)]
        results = list(assoc.send_c_stores(sources))
    assert [src for src, _ in results] == sources  # in the order given
    by_src = dict(results)
    assert isinstance(by_src[bad], DicomError)
    assert all(by_src[f] == 0 for f in files)
    stored = {dicomfast.read(p).SOPInstanceUID for p in stored_files(storage)}
    assert stored == {dicomfast.read(f).SOPInstanceUID for f in files}


def test_scp_grants_at_most_its_window(storage: Path, ct_small: Path) -> None:
    server = make_scp(async_operations_window=4).start_server(
        ("127.0.0.1", 0), block=False, storage=storage
    )
    try:
        with scu(CT).associate("127.0.0.1", server.port, "STORESCP") as assoc:
            assert assoc.async_association.max_invoked == 4
            assert _window_items(assoc) == [(4, 1)]
            assert [s for _, s in assoc.send_c_stores([ct_small])] == [0]
    finally:
        server.shutdown()


def test_window_off_proposes_nothing(scp: Server, ct_small: Path) -> None:
    with scu(CT, async_operations_window=1).associate("127.0.0.1", scp.port, "STORESCP") as a:
        assert a.async_association.max_invoked == 1
        assert _window_items(a) == []
        assert [s for _, s in a.send_c_stores([ct_small])] == [0]


def test_pipelined_stores_to_dcmtk_storescp(tmp_path: Path, ct_small: Path) -> None:
    files = _copies(ct_small, tmp_path / "src", 6)
    out_dir = tmp_path / "dcmtk"
    with (
        dcmtk_storescp(out_dir) as port,
        scu(CT).associate("127.0.0.1", port, "DCMTKSCP") as assoc,
    ):
        window = assoc.async_association.max_invoked
        statuses = [s for _, s in assoc.send_c_stores(files)]
    assert window >= 1 and statuses == [0] * len(files)
    got = {dicomfast.read(p).SOPInstanceUID for p in out_dir.iterdir()}
    assert got == {dicomfast.read(f).SOPInstanceUID for f in files}


def test_stopping_early_collects_outstanding_answers(
    scp: Server, storage: Path, tmp_path: Path, ct_small: Path
) -> None:
    files = _copies(ct_small, tmp_path / "src", 8)
    with scu(CT).associate("127.0.0.1", scp.port, "STORESCP") as assoc:
        stores = assoc.send_c_stores(files)
        first = next(stores)
        stores.close()  # up to the window was sent: their answers are read now
        assert first == (files[0], 0)
        assert assoc.send_c_echo() == 0  # the association is usable: nothing left unread
    # all 8 fit in the window, so all were sent before the first answer: all are stored
    assert len(stored_files(storage)) == len(files)


def test_window_of_stores_made_durable_in_the_background_answered_in_order(
    tmp_path: Path, ct_small: Path, monkeypatch
) -> None:  # noqa: ANN001
    """With a window granted, the Storage SCP commits (fsync + final name) in the
    background while it receives the next instances; the answers still go out in
    the order of the requests, each only after its instance is under its final
    name, and a commit that fails is answered with its failure status.  One thread
    commits the instances that wait together as a group."""
    import random
    import threading
    import time

    from dicomfast.net import dimse
    from dicomfast.net import storage as st
    from dicomfast.net.services import store as svc

    files = _copies(ct_small, tmp_path / "src", 20)
    fail_uid = dicomfast.read(files[7]).SOPInstanceUID
    concurrent, busy, lock = [0], [0], threading.Lock()
    real_commit = st.FileSink.commit

    def slow_commit(self, folders=None):  # noqa: ANN001, ANN202
        with lock:
            busy[0] += 1
            concurrent[0] = max(concurrent[0], busy[0])
        try:
            time.sleep(random.uniform(0.0, 0.03))  # finish out of order
            if self.sop_instance_uid == fail_uid:
                raise st.StoreRefused(0xA700, "disk full (test)")
            return real_commit(self, folders)
        finally:
            with lock:
                busy[0] -= 1

    answered: list[tuple[int, int, bool]] = []
    real_answer = svc._answer

    async def record(assoc, pc, msg, status, comment):  # noqa: ANN001, ANN202
        uid = msg.command.get(dimse.AFFECTED_SOP_INSTANCE_UID)
        final = list((tmp_path / "out").glob(f"{uid}*.dcm"))
        answered.append((msg.command.get(dimse.MESSAGE_ID), status, bool(final)))
        await real_answer(assoc, pc, msg, status, comment)

    groups: list[int] = []
    real_group = st.FileStorage.commit_group

    def commit_group(self, sinks):  # noqa: ANN001, ANN202
        groups.append(len(sinks))
        return real_group(self, sinks)

    monkeypatch.setattr(st.FileSink, "commit", slow_commit)
    monkeypatch.setattr(st.FileStorage, "commit_group", commit_group)
    monkeypatch.setattr(svc, "_answer", record)
    server = make_scp().start_server(("127.0.0.1", 0), block=False, storage=tmp_path / "out")
    try:
        with scu(CT).associate("127.0.0.1", server.port, "STORESCP") as assoc:
            results = list(assoc.send_c_stores(files))
    finally:
        server.shutdown()
    ids = [mid for mid, _, _ in answered]
    assert ids == sorted(ids) and len(ids) == 20  # answered in the order of the requests
    assert concurrent[0] == 1  # one committing thread
    assert max(groups) > 1 and sum(groups) == 20  # instances waiting together: one group
    for (_, status, final), (src, got) in zip(answered, results, strict=True):
        if src == files[7]:
            assert status == got == 0xA700 and not final
        else:
            assert status == got == 0 and final  # Success only once under its final name
    stored = {dicomfast.read(p).SOPInstanceUID for p in stored_files(tmp_path / "out")}
    assert stored == {dicomfast.read(f).SOPInstanceUID for f in files} - {fail_uid}
