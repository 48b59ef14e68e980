"""Storage Commitment Push Model (PS3.4 Annex J) with ``dicomfast serve`` as the
SCP and ``dicomfast commit`` as the SCU, against each other and against
pynetdicom in both roles; the report on the same association and on a new one."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest
from dicomfast.net.services.commitment import STORAGE_COMMITMENT_PUSH, WELL_KNOWN_INSTANCE
from qrutil import CT, MR, ROOT, SERVE, archive_server, run, scu, write_instances

pynetdicom = pytest.importorskip("pynetdicom")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stored(tmp_path: Path, n: int = 3) -> tuple[object, object, list[Path]]:
    files = write_instances(tmp_path / "src", n, tag="61")
    server, archive = archive_server(tmp_path / "archive")
    with scu(CT, "1.2.840.10008.5.1.4.1.1.4").associate("127.0.0.1", server.port) as assoc:
        for f in files:
            assert int(assoc.send_c_store(str(f))) == 0
    return server, archive, files


def test_commit_cli_against_serve_same_association(tmp_path: Path) -> None:
    server, archive, files = _stored(tmp_path)
    try:
        r = run(
            [*SERVE, "commit", "127.0.0.1", str(server.port), *map(str, files), "--aec", "ARCHIVE"]
        )
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.count("committed ") == 3
        # an instance the archive does not hold: reported failed, exit 1
        extra = write_instances(tmp_path / "other", 1, tag="62")
        r = run(
            [
                *SERVE,
                "commit",
                "127.0.0.1",
                str(server.port),
                str(files[0]),
                *map(str, extra),
                "--aec",
                "ARCHIVE",
                "--json",
            ]
        )
        assert r.returncode == 1, r.stdout + r.stderr
        lines = [json.loads(x) for x in r.stdout.splitlines()]
        assert [x["status"] for x in lines] == ["committed", "failed"]
        assert lines[1]["failure_reason"] == 0x0112
    finally:
        server.shutdown()
        archive.close()


def test_pynetdicom_scu_gets_the_report_on_its_association(tmp_path: Path) -> None:
    from pydicom.dataset import Dataset as PdDataset
    from pynetdicom import AE, evt

    server, archive, files = _stored(tmp_path, 2)
    got: list[PdDataset] = []
    done = threading.Event()

    def on_report(event):  # noqa: ANN001, ANN202
        got.append(event.event_information)
        done.set()
        return 0x0000, None

    ae = AE(ae_title="PYNETDICOM")
    ae.add_requested_context(STORAGE_COMMITMENT_PUSH)
    try:
        assoc = ae.associate(
            "127.0.0.1",
            server.port,
            ae_title="ARCHIVE",
            evt_handlers=[(evt.EVT_N_EVENT_REPORT, on_report)],
        )
        assert assoc.is_established
        info = PdDataset()
        info.TransactionUID = f"{ROOT}.61.99"
        refs = []
        for cls, uid in ((CT, f"{ROOT}.61.1"), (MR, f"{ROOT}.61.2"), (CT, f"{ROOT}.61.404")):
            item = PdDataset()
            item.ReferencedSOPClassUID = cls
            item.ReferencedSOPInstanceUID = uid
            refs.append(item)
        info.ReferencedSOPSequence = refs
        status, _ = assoc.send_n_action(info, 1, STORAGE_COMMITMENT_PUSH, WELL_KNOWN_INSTANCE)
        assert status.Status == 0
        assert done.wait(10)
        assoc.release()
    finally:
        server.shutdown()
        archive.close()
    report = got[0]
    assert report.TransactionUID == f"{ROOT}.61.99"
    assert [x.ReferencedSOPInstanceUID for x in report.ReferencedSOPSequence] == [f"{ROOT}.61.1"]
    failed = {x.ReferencedSOPInstanceUID: x.FailureReason for x in report.FailedSOPSequence}
    # instance 2 is stored as CT, asked about as MR: a class/instance conflict
    assert failed == {f"{ROOT}.61.2": 0x0119, f"{ROOT}.61.404": 0x0112}


def test_serve_reports_on_a_new_association_after_release(tmp_path: Path) -> None:
    """The SCU releases right after the N-ACTION; the archive reports to the
    address --ae-config gives for its AE title (a pynetdicom SCP of the report)."""
    from pydicom.dataset import Dataset as PdDataset
    from pynetdicom import AE, evt
    from pynetdicom.sop_class import StorageCommitmentPushModel

    files = write_instances(tmp_path / "src", 2, n_patients=1, n_studies=1, tag="63")
    listen = _free_port()
    server, archive = archive_server(
        tmp_path / "archive", destinations={"PYNETDICOM": ("127.0.0.1", listen)}
    )
    got: list[PdDataset] = []
    done = threading.Event()

    def on_report(event):  # noqa: ANN001, ANN202
        got.append(event.event_information)
        done.set()
        return 0x0000, None

    listener_ae = AE(ae_title="PYNETDICOM")
    listener_ae.add_supported_context(StorageCommitmentPushModel, scu_role=True, scp_role=True)
    listener = listener_ae.start_server(
        ("127.0.0.1", listen), block=False, evt_handlers=[(evt.EVT_N_EVENT_REPORT, on_report)]
    )
    try:
        with scu(CT, MR).associate("127.0.0.1", server.port) as assoc:
            for f in files:
                assert int(assoc.send_c_store(str(f))) == 0
        ae = AE(ae_title="PYNETDICOM")
        ae.add_requested_context(StorageCommitmentPushModel)
        assoc = ae.associate("127.0.0.1", server.port, ae_title="ARCHIVE")
        info = PdDataset()
        info.TransactionUID = f"{ROOT}.63.99"
        item = PdDataset()
        item.ReferencedSOPClassUID = CT
        item.ReferencedSOPInstanceUID = f"{ROOT}.63.1"
        info.ReferencedSOPSequence = [item]
        status, _ = assoc.send_n_action(info, 1, StorageCommitmentPushModel, WELL_KNOWN_INSTANCE)
        assert status.Status == 0
        assoc.release()
        assert done.wait(15)
    finally:
        listener.shutdown()
        server.shutdown()
        archive.close()
    assert got[0].TransactionUID == f"{ROOT}.63.99"
    assert got[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID == f"{ROOT}.63.1"
    assert "FailedSOPSequence" not in got[0]


def test_commit_cli_against_pynetdicom_scp_reporting_later(tmp_path: Path) -> None:
    """pynetdicom as the SCP answers the N-ACTION, then reports on a new
    association to our ``--listen-port``."""
    from pydicom.dataset import Dataset as PdDataset
    from pynetdicom import AE, evt
    from pynetdicom.sop_class import StorageCommitmentPushModel

    files = write_instances(tmp_path / "src", 2, n_patients=1, n_studies=1, tag="64")
    listen = _free_port()

    def report_later(info: PdDataset) -> None:
        ae = AE(ae_title="PYSCP")
        ae.add_requested_context(StorageCommitmentPushModel)
        rep = PdDataset()
        rep.TransactionUID = info.TransactionUID
        rep.ReferencedSOPSequence = info.ReferencedSOPSequence[:1]
        bad = info.ReferencedSOPSequence[1]
        bad.FailureReason = 0x0112
        rep.FailedSOPSequence = [bad]
        assoc = ae.associate("127.0.0.1", listen, ae_title="COMMITSCU")
        assert assoc.is_established
        assoc.send_n_event_report(rep, 2, StorageCommitmentPushModel, WELL_KNOWN_INSTANCE)
        assoc.release()

    def on_action(event):  # noqa: ANN001, ANN202
        info = event.action_information
        threading.Timer(0.3, report_later, args=(info,)).start()
        return 0x0000, None

    scp = AE(ae_title="PYSCP")
    scp.add_supported_context(StorageCommitmentPushModel)
    server = scp.start_server(
        ("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_N_ACTION, on_action)]
    )
    try:
        port = server.socket.getsockname()[1]
        r = run(
            [
                *SERVE,
                "commit",
                "127.0.0.1",
                str(port),
                *map(str, files),
                "--aet",
                "COMMITSCU",
                "--aec",
                "PYSCP",
                "--listen-port",
                str(listen),
                "--report-timeout",
                "3",
            ]
        )
    finally:
        server.shutdown()
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"committed {CT} {ROOT}.64.1", r.stderr
    assert lines[1] == f"failed {MR} {ROOT}.64.2 0x0112 (No such object instance)"


def test_bad_commitment_requests_get_failure_statuses(tmp_path: Path) -> None:
    from dicomfast.dataset import Dataset
    from dicomfast.net.contexts import PresentationContext

    server, archive = archive_server(tmp_path / "archive")
    try:
        ae = scu()
        ctx = PresentationContext(STORAGE_COMMITMENT_PUSH, ["1.2.840.10008.1.2.1"])
        with ae.associate("127.0.0.1", server.port, contexts=[ctx]) as assoc:
            empty = Dataset()
            st, _ = assoc.send_n_action(empty, 1, STORAGE_COMMITMENT_PUSH, WELL_KNOWN_INSTANCE)
            assert int(st) == 0x0120
            info = Dataset()
            info.TransactionUID = "1.2.3"
            st, _ = assoc.send_n_action(info, 7, STORAGE_COMMITMENT_PUSH, WELL_KNOWN_INSTANCE)
            assert int(st) == 0x0123
            st, _ = assoc.send_n_action(info, 1, STORAGE_COMMITMENT_PUSH, "1.2.3.4")
            assert int(st) == 0x0117
            assert int(assoc.send_n_delete(STORAGE_COMMITMENT_PUSH, WELL_KNOWN_INSTANCE)) == 0x0110
    finally:
        server.shutdown()
        archive.close()
