"""Our SCUs against our SCPs (in-process): C-FIND, C-MOVE, C-GET, MWL, MPPS,
statuses for bad requests, C-CANCEL and user handlers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from dicomfast.dataset import Dataset, Sequence
from dicomfast.net import AE, evt
from dicomfast.net.contexts import PresentationContext
from dicomfast.net.services.find import (
    MODALITY_WORKLIST_FIND,
    PATIENT_ROOT_FIND,
    STUDY_ROOT_FIND,
    STUDY_ROOT_GET,
    STUDY_ROOT_MOVE,
)
from dicomfast.net.services.get import storage_contexts_for_get
from dicomfast.net.services.mpps import MPPS_SOP_CLASS
from qrutil import CT, MR, ROOT, archive_server, find_all, ident, scu


def test_find_study_root_wildcard_and_range(loaded) -> None:
    server, _ = loaded
    status, res = find_all(
        server.port,
        ident(
            "STUDY",
            PatientName="DOE*",
            StudyDate="20240101-20240131",
            StudyInstanceUID="",
            NumberOfStudyRelatedInstances="",
        ),
    )
    assert status == 0
    assert sorted(str(r.PatientName) for r in res) == ["DOE^JANE", "DOE^JOHN"]
    assert all(r.NumberOfStudyRelatedInstances == 4 for r in res)
    assert all(r.QueryRetrieveLevel == "STUDY" for r in res)


def test_find_patient_root_and_levels(loaded) -> None:
    server, _ = loaded
    status, res = find_all(server.port, ident("PATIENT", PatientID="", PatientName=""), "patient")
    assert status == 0 and len(res) == 5
    status, res = find_all(
        server.port,
        ident("SERIES", StudyInstanceUID=f"{ROOT}.1.0.0.0", SeriesInstanceUID="", Modality=""),
    )
    assert status == 0 and sorted(r.Modality for r in res) == ["CT", "MR"]
    status, res = find_all(
        server.port,
        ident(
            "IMAGE",
            StudyInstanceUID=f"{ROOT}.1.0.0.0",
            SeriesInstanceUID=f"{ROOT}.1.0.0.0.0",
            SOPInstanceUID="",
        ),
    )
    assert status == 0 and len(res) == 2


@pytest.mark.parametrize(
    "identifier",
    [
        ident("FRAME", PatientID=""),  # unknown level
        ident(None, PatientID=""),  # no level
        ident("STUDY", StudyDate="2024XX01-"),  # malformed range
    ],
)
def test_find_bad_query_is_a_failure_status(loaded, identifier: Dataset) -> None:
    server, _ = loaded
    status, res = find_all(server.port, identifier)
    assert res == []
    assert status in (0xA900, 0xC000) or 0xC000 <= status <= 0xCFFF
    # The association and the server survive: the next query works.
    assert find_all(server.port, ident("STUDY", PatientID="PID001"))[0] == 0


def test_find_undecodable_identifier(loaded) -> None:
    server, _ = loaded
    from dicomfast.net import dimse

    ae = scu(STUDY_ROOT_FIND)
    with ae.associate("127.0.0.1", server.port) as assoc:
        a = assoc.async_association
        pc = a.context_for(STUDY_ROOT_FIND)
        from dicomfast.net.transport import run_sync

        msg_id = a.next_message_id()
        run_sync(
            a.send_message(
                pc.context_id,
                {
                    dimse.AFFECTED_SOP_CLASS_UID: STUDY_ROOT_FIND,
                    dimse.COMMAND_FIELD: dimse.C_FIND_RQ,
                    dimse.MESSAGE_ID: msg_id,
                    dimse.PRIORITY: 0,
                    dimse.COMMAND_DATA_SET_TYPE: dimse.DATA_SET_PRESENT,
                },
                b"\x08\x00\x52\x00\xff\xff\xff\x7f",  # a length running past the end
            )
        )
        rsp = run_sync(a.wait_response(msg_id, "C-FIND"))
        assert rsp.command[dimse.STATUS] >= 0xA000


def test_find_cancel(tmp_path: Path) -> None:
    """A C-CANCEL-RQ between results: the SCP stops with 0xFE00."""
    release = threading.Event()

    def slow(event: evt.Event):
        for i in range(1000):
            if event.is_cancelled:
                return
            ds = Dataset()
            ds.PatientID = f"P{i}"
            yield 0xFF00, ds
            if i == 2:
                release.wait(5)

    server, archive = archive_server(tmp_path / "a", handlers=[(evt.EVT_C_FIND, slow)])
    try:
        ae = scu(STUDY_ROOT_FIND)
        with ae.associate("127.0.0.1", server.port) as assoc:
            gen = assoc.send_c_find(ident("PATIENT", PatientID=""), "study")
            got = [next(gen) for _ in range(2)]
            assert all(s.category == "Pending" for s, _ in got)
            release.set()
            gen.close()  # sends C-CANCEL and reads up to the final response
            # the association is still usable
            assert [
                s.category for s, _ in assoc.send_c_find(ident("PATIENT", PatientID="X"), "study")
            ][-1] == "Success"
    finally:
        server.shutdown()
        archive.close()


def test_find_cancel_status_seen_by_scu(tmp_path: Path) -> None:
    started = threading.Event()
    go = threading.Event()

    def handler(event: evt.Event):
        ds = Dataset()
        ds.PatientID = "A"
        yield 0xFF00, ds
        started.set()
        go.wait(5)
        for i in range(50):
            ds = Dataset()
            ds.PatientID = f"B{i}"
            yield 0xFF00, ds

    server, archive = archive_server(tmp_path / "a", handlers=[(evt.EVT_C_FIND, handler)])
    try:
        ae = scu(STUDY_ROOT_FIND)
        with ae.associate("127.0.0.1", server.port) as assoc:
            from dicomfast.net.services import find as qr
            from dicomfast.net.transport import run_sync

            a = assoc.async_association
            msg_id, pc = run_sync(
                qr.send_request(a, 0x0020, ident("PATIENT", PatientID=""), STUDY_ROOT_FIND)
            )
            st, _ = run_sync(qr._response(a, msg_id, pc))
            assert st.category == "Pending"
            run_sync(qr.send_cancel(a, pc, msg_id))
            started.wait(5)
            go.set()
            statuses = []
            while True:
                st, _ = run_sync(qr._response(a, msg_id, pc))
                statuses.append(int(st))
                if st.category != "Pending":
                    break
            assert statuses[-1] == 0xFE00
            assert len(statuses) < 50
    finally:
        server.shutdown()
        archive.close()


def test_handler_exception_is_a_status(tmp_path: Path) -> None:
    def broken(event):
        raise RuntimeError("boom")

    server, archive = archive_server(tmp_path / "a", handlers=[(evt.EVT_C_FIND, broken)])
    try:
        status, res = find_all(server.port, ident("STUDY", PatientID=""))
        assert status == 0xC000 and res == []
    finally:
        server.shutdown()
        archive.close()


def _dest_server(folder: Path):
    return archive_server(folder, aet="DEST")


def test_move_to_destination(tmp_path: Path, source_files) -> None:
    dest, dest_archive = _dest_server(tmp_path / "dest")
    server, archive = archive_server(
        tmp_path / "src", destinations={"DEST": ("127.0.0.1", dest.port)}
    )
    try:
        for f in source_files:
            assert archive.store(f).ok
        ae = scu(STUDY_ROOT_MOVE)
        with ae.associate("127.0.0.1", server.port) as assoc:
            rsps = list(assoc.send_c_move(ident("STUDY", PatientID="PID001"), "DEST"))
        pending = [s for s, _ in rsps[:-1]]
        final, _ = rsps[-1]
        assert int(final) == 0 and final.command[0x00001021] == 8
        assert final.command[0x00001022] == 0 and 0x00001020 not in final.command
        assert [s.command[0x00001020] for s in pending] == list(range(7, 0, -1))
        assert dest_archive.count() == 8
        # unknown destination
        with ae.associate("127.0.0.1", server.port) as assoc:
            rsps = list(assoc.send_c_move(ident("STUDY", PatientID="PID001"), "NOWHERE"))
        assert int(rsps[-1][0]) == 0xA801
        # a destination that is down: every sub-operation fails
        server2, archive2 = archive_server(
            tmp_path / "src2", destinations={"DEST": ("127.0.0.1", 1)}
        )
        try:
            for f in source_files[:3]:
                archive2.store(f)
            with ae.associate("127.0.0.1", server2.port) as assoc:
                rsps = list(assoc.send_c_move(ident("STUDY", PatientID=""), "DEST"))
            final, failed = rsps[-1]
            assert int(final) == 0xA702 and final.command[0x00001022] == 3
            assert failed is not None and len(failed.FailedSOPInstanceUIDList) == 3
        finally:
            server2.shutdown()
            archive2.close()
    finally:
        server.shutdown()
        dest.shutdown()
        archive.close()
        dest_archive.close()


def test_get_same_association(loaded) -> None:
    server, _ = loaded
    ctxs = [PresentationContext(STUDY_ROOT_GET, None), *storage_contexts_for_get([CT, MR])]
    ae = scu(STUDY_ROOT_GET)
    got: list[str] = []

    def on_store(event) -> int:
        got.append(event.dataset.SOPInstanceUID)
        return 0

    with ae.associate("127.0.0.1", server.port, contexts=ctxs) as assoc:
        rsps = list(assoc.send_c_get(ident("STUDY", PatientID="PID002"), on_store=on_store))
    final = rsps[-1][0]
    assert int(final) == 0 and final.command[0x00001021] == 8
    assert len(got) == 8 == len(set(got))
    # Only CT offered: the MR sub-operations fail, a warning overall.
    ctxs = [PresentationContext(STUDY_ROOT_GET, None), *storage_contexts_for_get([CT])]
    with ae.associate("127.0.0.1", server.port, contexts=ctxs) as assoc:
        rsps = list(assoc.send_c_get(ident("STUDY", PatientID="PID002")))
    final = rsps[-1][0]
    assert int(final) == 0xB000
    assert final.command[0x00001021] == 4 and final.command[0x00001022] == 4


def test_get_with_a_lossy_syntax_proposed_first(loaded) -> None:
    """A C-GET requestor listing JPEG Baseline before the uncompressed syntaxes in its
    storage contexts (as one context each SOP class) still gets every uncompressed
    instance: the archive, which sends on those contexts, accepts the first native
    syntax proposed there (it failed every sub-operation with JPEG Baseline)."""
    from dicomfast import uid as uids

    server, _ = loaded
    lossy_first = [uids.JPEGBaseline8Bit, uids.ExplicitVRLittleEndian, uids.ImplicitVRLittleEndian]
    ctxs = [
        PresentationContext(STUDY_ROOT_GET, None),
        *storage_contexts_for_get([CT, MR], lossy_first),
    ]
    got: list[str] = []

    def on_store(event) -> int:  # noqa: ANN001
        got.append(event.dataset.SOPInstanceUID)
        return 0

    with scu(STUDY_ROOT_GET).associate("127.0.0.1", server.port, contexts=ctxs) as assoc:
        chosen = {c.transfer_syntax for c in assoc.accepted_contexts if c.scp_role}
        rsps = list(assoc.send_c_get(ident("STUDY", PatientID="PID002"), on_store=on_store))
    assert chosen == {uids.ExplicitVRLittleEndian}
    final = rsps[-1][0]
    assert int(final) == 0 and final.command[0x00001021] == 8 and len(set(got)) == 8


def _mwl_item(i: int) -> Dataset:
    ds = Dataset()
    ds.PatientName = ["DOE^JOHN", "SMITH^ANNA"][i % 2]
    ds.PatientID = f"W{i}"
    ds.AccessionNumber = f"A{i}"
    ds.StudyInstanceUID = f"{ROOT}.9.{i}"
    ds.RequestedProcedureID = f"RP{i}"
    sps = Dataset()
    sps.Modality = ["CT", "MR"][i % 2]
    sps.ScheduledStationAETitle = "MOD1"
    sps.ScheduledProcedureStepStartDate = f"202406{10 + i:02d}"
    sps.ScheduledProcedureStepStartTime = "090000"
    sps.ScheduledProcedureStepID = f"SPS{i}"
    sps.ScheduledProcedureStepDescription = "SCAN"
    ds.ScheduledProcedureStepSequence = Sequence([sps])
    return ds


def test_worklist_and_mpps(tmp_path: Path) -> None:
    from dicomfast.archive import mpps as records
    from dicomfast.archive import worklist as wl

    server, archive = archive_server(tmp_path / "a")
    try:
        wl.add(archive, [_mwl_item(i) for i in range(4)])
        q = Dataset()
        q.PatientName = ""
        q.PatientID = ""
        sps = Dataset()
        sps.Modality = "CT"
        sps.ScheduledProcedureStepStartDate = "20240610-20240611"
        sps.ScheduledProcedureStepID = ""
        q.ScheduledProcedureStepSequence = Sequence([sps])
        status, res = find_all(server.port, q, "worklist")
        assert status == 0
        assert [r.PatientID for r in res] == ["W0"]
        assert res[0].ScheduledProcedureStepSequence[0].ScheduledProcedureStepID == "SPS0"

        ae = scu(MPPS_SOP_CLASS)
        pps = Dataset()
        pps.PerformedProcedureStepStatus = "IN PROGRESS"
        pps.PerformedStationAETitle = "MOD1"
        item = Dataset()
        item.StudyInstanceUID = f"{ROOT}.9.0"
        item.ScheduledProcedureStepID = "SPS0"
        pps.ScheduledStepAttributesSequence = Sequence([item])
        with ae.associate("127.0.0.1", server.port) as assoc:
            st, _ = assoc.send_n_create(pps, MPPS_SOP_CLASS, f"{ROOT}.77")
            assert int(st) == 0
            st, _ = assoc.send_n_create(pps, MPPS_SOP_CLASS, f"{ROOT}.77")
            assert int(st) == 0x0111  # duplicate
            mod = Dataset()
            mod.PerformedProcedureStepStatus = "COMPLETED"
            st, _ = assoc.send_n_set(mod, MPPS_SOP_CLASS, f"{ROOT}.77")
            assert int(st) == 0
            st, _ = assoc.send_n_set(mod, MPPS_SOP_CLASS, f"{ROOT}.77")
            assert int(st) == 0x0110  # final: may no longer be updated
            st, _ = assoc.send_n_set(mod, MPPS_SOP_CLASS, f"{ROOT}.78")
            assert int(st) == 0x0112
        assert records.status_of(archive, f"{ROOT}.77") == "COMPLETED"
    finally:
        server.shutdown()
        archive.close()


def test_no_handler_statuses(tmp_path: Path) -> None:
    """A plain AE supporting Q/R contexts but no handlers answers failures."""
    ae = AE("BARE", acse_timeout=5, dimse_timeout=5)
    for s in (STUDY_ROOT_FIND, PATIENT_ROOT_FIND, MODALITY_WORKLIST_FIND):
        ae.add_supported_context(s)
    server = ae.start_server(("127.0.0.1", 0), block=False)
    try:
        status, res = find_all(server.port, ident("STUDY", PatientID=""))
        assert status == 0xC000 and not res
    finally:
        server.shutdown()


def test_move_decompresses_for_a_native_only_destination(tmp_path: Path) -> None:
    """A stored RLE instance goes to a destination taking native syntaxes only:
    it is sent decompressed (Explicit VR Little Endian)."""
    import os

    import dicomfast
    from dicomfast import uid as uids

    corpus = Path(
        os.environ.get(
            "DICOMFAST_CORPUS", Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
        )
    )
    rle = corpus / "public" / "pydicom" / "MR_small_RLE.dcm"
    if not rle.exists():
        pytest.skip("corpus file MR_small_RLE.dcm not found")
    got: list[tuple[str, int]] = []

    def on_store(event: evt.Event) -> int:
        got.append((event.context.transfer_syntax, event.dataset.Rows))
        return 0

    dest = AE("DEST", acse_timeout=5, dimse_timeout=5)
    dest.add_supported_context(MR, [uids.ExplicitVRLittleEndian, uids.ImplicitVRLittleEndian])
    dsrv = dest.start_server(
        ("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)]
    )
    server, archive = archive_server(
        tmp_path / "a", destinations={"DEST": ("127.0.0.1", dsrv.port)}
    )
    try:
        assert archive.store(rle).ok
        study = dicomfast.read(rle).StudyInstanceUID
        with scu(STUDY_ROOT_MOVE).associate("127.0.0.1", server.port) as assoc:
            final = list(assoc.send_c_move(ident("STUDY", StudyInstanceUID=study), "DEST"))[-1][0]
        assert int(final) == 0 and final.command[0x00001021] == 1
        assert got == [(uids.ExplicitVRLittleEndian, 64)]
    finally:
        server.shutdown()
        dsrv.shutdown()
        archive.close()
