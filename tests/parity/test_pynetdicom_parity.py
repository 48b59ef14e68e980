"""The same call against pynetdicom and against dicomfast.net gives the same answer."""

from __future__ import annotations

import inspect

import pytest

pynetdicom = pytest.importorskip("pynetdicom")

import dicomfast.net as df  # noqa: E402
from dicomfast.net import sop_class as df_sop  # noqa: E402
from dicomfast.net.dimse import Status  # noqa: E402


def _params(fn) -> list[str]:  # noqa: ANN001
    return [p for p in inspect.signature(fn).parameters if p != "self"]


@pytest.mark.parametrize("name", ["associate", "start_server"])
def test_signature_order(name: str) -> None:
    theirs = _params(getattr(pynetdicom.AE, name))
    ours = _params(getattr(df.AE, name))
    assert ours[: len(theirs)] == theirs


def test_sop_class_names_and_uids() -> None:
    from pydicom.uid import UID
    from pynetdicom import sop_class as their_sop

    theirs = {
        n: getattr(their_sop, n) for n in dir(their_sop) if isinstance(getattr(their_sop, n), UID)
    }
    shared = [n for n in theirs if hasattr(df_sop, n)]
    assert len(shared) >= 240  # the rest are newer than the core's registry
    for n in (
        "Verification",
        "CTImageStorage",
        "StudyRootQueryRetrieveInformationModelFind",
        "PatientRootQueryRetrieveInformationModelGet",
        "ModalityWorklistInformationFind",
    ):
        assert getattr(df_sop, n) == str(theirs[n])
    assert all(getattr(df_sop, n) == str(theirs[n]) for n in shared)


def test_context_lists() -> None:
    ours = {c.abstract_syntax for c in df.QueryRetrievePresentationContexts}
    theirs = {str(c.abstract_syntax) for c in pynetdicom.QueryRetrievePresentationContexts}
    assert theirs <= ours | {
        "1.2.840.10008.5.1.4.1.2.3.1",
        "1.2.840.10008.5.1.4.1.2.3.2",
        "1.2.840.10008.5.1.4.1.2.3.3",
    }  # retired Patient/Study Only models
    assert len(df.StoragePresentationContexts) == len(pynetdicom.StoragePresentationContexts)
    assert df.build_context(df_sop.Verification).transfer_syntaxes
    assert [c.abstract_syntax for c in df.VerificationPresentationContexts] == ["1.2.840.10008.1.1"]


def _echo_status(lib, port: int):  # noqa: ANN001, ANN202
    ae = lib.AE()
    ae.add_requested_context("1.2.840.10008.1.1")
    assoc = ae.associate("127.0.0.1", port)
    try:
        return assoc.send_c_echo()
    finally:
        assoc.release()


def test_status_truthy_on_success_like_pynetdicom() -> None:
    ae = df.AE("ECHOSCP")
    ae.add_supported_context("1.2.840.10008.1.1")
    server = ae.start_server(("127.0.0.1", 0), block=False)
    try:
        for lib in (pynetdicom, df):
            status = _echo_status(lib, server.port)
            assert bool(status) is True and status.Status == 0
            assert "Status" in status
        ours = _echo_status(df, server.port)
        assert (
            ours == 0 and int(ours) == 0 and f"{ours:04X}" == "0000" and ours.category == "Success"
        )
    finally:
        server.shutdown()
    assert not Status() and Status(0) and Status(0xC000).is_failure


def test_notification_events_and_ends() -> None:
    seen: list = []
    handlers = [
        (ev, lambda e, ev=ev: seen.append((ev.name, e.timestamp is not None)))
        for ev in (
            df.evt.EVT_PDU_RECV,
            df.evt.EVT_PDU_SENT,
            df.evt.EVT_DIMSE_RECV,
            df.evt.EVT_DIMSE_SENT,
        )
    ]
    ends: list = []

    def on_echo(event):  # noqa: ANN001, ANN202
        ends.append(
            (
                event.assoc.requestor.ae_title,
                event.assoc.acceptor.ae_title,
                event.assoc.acceptor.port,
            )
        )
        return 0

    ae = df.AE("ECHOSCP")
    ae.add_supported_context("1.2.840.10008.1.1")
    server = ae.start_server(
        ("127.0.0.1", 0), block=False, evt_handlers=[(df.evt.EVT_C_ECHO, on_echo)]
    )
    try:
        scu = df.AE("SCU")
        scu.add_requested_context(df_sop.Verification)
        assoc = scu.associate("127.0.0.1", server.port, evt_handlers=handlers)
        assert assoc.send_c_echo()
        assoc.release()
    finally:
        server.shutdown()
    names = {n for n, _ in seen}
    assert names == {"EVT_PDU_RECV", "EVT_PDU_SENT", "EVT_DIMSE_RECV", "EVT_DIMSE_SENT"}
    assert ends == [("SCU", "ECHOSCP", server.port)]


def test_debug_logger() -> None:
    import logging

    logger = logging.getLogger("dicomfast.net")
    level, handlers = logger.level, list(logger.handlers)
    try:
        df.debug_logger()
        df.debug_logger()  # idempotent
        assert logger.level == logging.DEBUG
        assert len(logger.handlers) == len(handlers) + 1
    finally:  # as it was: later tests' logging must not depend on this one
        logger.setLevel(level)
        logger.handlers[:] = handlers


@pytest.mark.parametrize("lib", ["pynetdicom", "dicomfast"])
def test_handler_may_return_a_status_dataset(lib: str) -> None:
    """pynetdicom handlers may return a data set with a Status element (and an Error Comment)."""
    import dicomfast
    import pydicom

    mod, Dataset = (pynetdicom, pydicom.Dataset) if lib == "pynetdicom" else (df, dicomfast.Dataset)

    def on_echo(event):  # noqa: ANN001, ANN202
        status = Dataset()
        status.Status = 0x0122
        return status

    ae = mod.AE("ECHOSCP")
    ae.add_supported_context("1.2.840.10008.1.1")
    server = ae.start_server(
        ("127.0.0.1", 0), block=False, evt_handlers=[(mod.evt.EVT_C_ECHO, on_echo)]
    )
    try:
        port = server.server_address[1]
        for scu in (pynetdicom, df):
            status = _echo_status(scu, port)
            assert status and status.Status == 0x0122
    finally:
        server.shutdown()
