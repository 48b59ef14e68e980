"""Every DIMSE-N operation (PS3.7 §10), SCU and SCP, with pynetdicom's method
names and argument order: the same calls made with pynetdicom and with
dicomfast against our SCP and against pynetdicom's, with the same results."""

from __future__ import annotations

from typing import Any

import pytest
from dicomfast.dataset import Dataset
from dicomfast.net import AE, evt

pynetdicom = pytest.importorskip("pynetdicom")

PRIVATE_CLASS = "1.2.826.0.1.3680043.10.999.500"  # a normalized SOP class of our own
INSTANCE = "1.2.826.0.1.3680043.10.999.500.1"
PATIENT_NAME = 0x00100010
PATIENT_ID = 0x00100020


def _handlers(seen: list[tuple[str, Any]], make: type) -> list[tuple[Any, Any]]:
    """Handlers (for either library's events) recording what they got and
    answering with a data set built with ``make`` (their Dataset class)."""

    def reply(**kw: Any) -> Any:
        ds = make()
        for k, v in kw.items():
            setattr(ds, k, v)
        return ds

    def on_get(e: Any) -> Any:
        seen.append(("get", [int(t) for t in e.attribute_identifiers]))
        return 0x0000, reply(PatientName="GET^ME", PatientID="G1")

    def on_set(e: Any) -> Any:
        seen.append(("set", str(e.modification_list.PatientName)))
        return 0x0000, reply(PatientName=str(e.modification_list.PatientName))

    def on_action(e: Any) -> Any:
        seen.append(("action", e.action_type))
        return 0x0000, reply(PatientID=f"A{e.action_type}")

    def on_create(e: Any) -> Any:
        seen.append(("create", str(e.attribute_list.PatientID)))
        return 0x0000, reply(PatientID=str(e.attribute_list.PatientID))

    def on_delete(e: Any) -> Any:
        seen.append(("delete", None))
        return 0x0000

    def on_report(e: Any) -> Any:
        seen.append(("report", e.event_type))
        return 0x0000, reply(PatientID=f"E{e.event_type}")

    return [
        (evt.EVT_N_GET, on_get),
        (evt.EVT_N_SET, on_set),
        (evt.EVT_N_ACTION, on_action),
        (evt.EVT_N_CREATE, on_create),
        (evt.EVT_N_DELETE, on_delete),
        (evt.EVT_N_EVENT_REPORT, on_report),
    ]


def _pyn_handlers(seen: list[tuple[str, Any]]) -> list[tuple[Any, Any]]:
    from pydicom.dataset import Dataset as PdDataset
    from pynetdicom import evt as pevt

    ours = dict(_handlers(seen, PdDataset))
    names = {
        evt.EVT_N_GET: pevt.EVT_N_GET,
        evt.EVT_N_SET: pevt.EVT_N_SET,
        evt.EVT_N_ACTION: pevt.EVT_N_ACTION,
        evt.EVT_N_CREATE: pevt.EVT_N_CREATE,
        evt.EVT_N_DELETE: pevt.EVT_N_DELETE,
        evt.EVT_N_EVENT_REPORT: pevt.EVT_N_EVENT_REPORT,
    }
    return [(names[k], v) for k, v in ours.items()]


def _calls(assoc: Any, make: type) -> list[Any]:
    """The six calls, written once, as a pynetdicom user writes them."""
    mod = make()
    mod.PatientName = "SET^ME"
    create = make()
    create.PatientID = "C1"
    out = []
    status, ds = assoc.send_n_get([PATIENT_NAME, PATIENT_ID], PRIVATE_CLASS, INSTANCE)
    out.append((int(status.Status), str(ds.PatientName), str(ds.PatientID)))
    status, ds = assoc.send_n_set(mod, PRIVATE_CLASS, INSTANCE)
    out.append((int(status.Status), str(ds.PatientName)))
    status, ds = assoc.send_n_action(None, 3, PRIVATE_CLASS, INSTANCE)
    out.append((int(status.Status), str(ds.PatientID)))
    status, ds = assoc.send_n_create(create, PRIVATE_CLASS, INSTANCE)
    out.append((int(status.Status), str(ds.PatientID)))
    status = assoc.send_n_delete(PRIVATE_CLASS, INSTANCE)
    out.append(int(status.Status))
    status, ds = assoc.send_n_event_report(None, 2, PRIVATE_CLASS, INSTANCE)
    out.append((int(status.Status), str(ds.PatientID)))
    return out


EXPECTED_RESULTS = [
    (0, "GET^ME", "G1"),
    (0, "SET^ME"),
    (0, "A3"),
    (0, "C1"),
    0,
    (0, "E2"),
]
EXPECTED_SEEN = [
    ("get", [PATIENT_NAME, PATIENT_ID]),
    ("set", "SET^ME"),
    ("action", 3),
    ("create", "C1"),
    ("delete", None),
    ("report", 2),
]


def test_dicomfast_and_pynetdicom_scu_against_our_scp() -> None:
    from pydicom.dataset import Dataset as PdDataset

    seen: list[tuple[str, Any]] = []
    scp = AE("NSCP")
    scp.add_supported_context(PRIVATE_CLASS)
    server = scp.start_server(("127.0.0.1", 0), block=False, evt_handlers=_handlers(seen, Dataset))
    try:
        ours = AE("OURS")
        ours.add_requested_context(PRIVATE_CLASS)
        with ours.associate("127.0.0.1", server.port, "NSCP") as assoc:
            assert _calls(assoc, Dataset) == EXPECTED_RESULTS
        assert seen == EXPECTED_SEEN
        seen.clear()
        theirs = pynetdicom.AE(ae_title="PYN")
        theirs.add_requested_context(PRIVATE_CLASS)
        assoc = theirs.associate("127.0.0.1", server.port, ae_title="NSCP")
        assert assoc.is_established
        try:
            assert _calls(assoc, PdDataset) == EXPECTED_RESULTS
        finally:
            assoc.release()
        assert seen == EXPECTED_SEEN
    finally:
        server.shutdown()


def test_our_scu_against_pynetdicom_scp() -> None:
    from pynetdicom.service_class_n import RTMachineVerificationServiceClass
    from pynetdicom.sop_class import register_uid

    # a service class of pynetdicom's that serves all six operations
    register_uid(PRIVATE_CLASS, "DicomfastPrivateNormalized", RTMachineVerificationServiceClass)
    seen: list[tuple[str, Any]] = []
    scp = pynetdicom.AE(ae_title="PYNSCP")
    scp.add_supported_context(PRIVATE_CLASS)
    server = scp.start_server(("127.0.0.1", 0), block=False, evt_handlers=_pyn_handlers(seen))
    try:
        port = server.socket.getsockname()[1]
        ours = AE("OURS")
        ours.add_requested_context(PRIVATE_CLASS)
        with ours.associate("127.0.0.1", port, "PYNSCP") as assoc:
            assert _calls(assoc, Dataset) == EXPECTED_RESULTS
        assert seen == EXPECTED_SEEN
    finally:
        server.shutdown()


def test_n_create_without_instance_uid_gets_one_from_the_scp() -> None:
    scp = AE("NSCP")
    scp.add_supported_context(PRIVATE_CLASS)
    made: list[str] = []

    def on_create(e: Any) -> int:
        made.append(e.sop_instance_uid)
        return 0

    server = scp.start_server(
        ("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_N_CREATE, on_create)]
    )
    try:
        ours = AE("OURS")
        ours.add_requested_context(PRIVATE_CLASS)
        with ours.associate("127.0.0.1", server.port, "NSCP") as assoc:
            status, _ = assoc.send_n_create(Dataset(), PRIVATE_CLASS)
            assert int(status) == 0
            assert status.command[0x00001000] == made[0] and made[0].startswith("2.25.")
            # no handler bound: processing failure, and the association goes on
            assert int(assoc.send_n_delete(PRIVATE_CLASS, INSTANCE)) == 0x0110
    finally:
        server.shutdown()
