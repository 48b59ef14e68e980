"""Storage Commitment Push Model (PS3.4 Annex J): SCU and SCP.

The SCU asks with an N-ACTION-RQ (Action Type ID 1, the well-known SOP
Instance) whose Action Information lists the instances (Transaction UID,
Referenced SOP Sequence).  The SCP answers the N-ACTION at once, then reports
with an N-EVENT-REPORT-RQ (Event Type ID 1: all committed; 2: some failed,
listed in the Failed SOP Sequence with a Failure Reason) on the same
association if it is still open, otherwise on a new association to the
requestor (PS3.4 J.3.3), whose address comes from :attr:`AE.destinations`.

SCP: the application says which instances it keeps with an
``EVT_STORAGE_COMMITMENT`` handler: it gets ``event.references`` (a list of
``(sop_class_uid, sop_instance_uid)``) and returns an iterable of
``(sop_class_uid, sop_instance_uid, failure_reason or None)``.  An application
that binds ``EVT_N_ACTION`` instead handles the whole exchange itself, as with
pynetdicom.

SCU: :func:`request` sends the N-ACTION and returns the Transaction UID;
:func:`wait_report` reads the N-EVENT-REPORT for it from the association and
answers it; :func:`parse_report` reads any report's data set.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ... import uid as uids
from ...errors import DicomError, NetworkError
from .. import dimse
from ..contexts import PresentationContext
from ..dimse import Status
from ..events import EVT_N_ACTION, EVT_STORAGE_COMMITMENT, Event
from . import find as qr
from . import normalized

if TYPE_CHECKING:
    from ...dataset import Dataset
    from ..association import AsyncAssociation

log = logging.getLogger("dicomfast.net")

#: Storage Commitment Push Model SOP Class and its well-known SOP Instance (PS3.4 J.3.5).
STORAGE_COMMITMENT_PUSH = "1.2.840.10008.1.20.1"
WELL_KNOWN_INSTANCE = "1.2.840.10008.1.20.1.1"
REQUEST_ACTION = 1  # Action Type ID: Request Storage Commitment (J.3.2.1)
ALL_COMMITTED = 1  # Event Type ID: Storage Commitment Request Successful (J.3.3.1)
SOME_FAILED = 2  # Event Type ID: Storage Commitment Request Complete - Failures Exist

# Failure Reason (0008,1197) values (PS3.4 J.3.3.1.1.2)
PROCESSING_FAILURE = 0x0110
NO_SUCH_OBJECT_INSTANCE = 0x0112
RESOURCE_LIMITATION = 0x0213
CLASS_NOT_SUPPORTED = 0x0122
CLASS_INSTANCE_CONFLICT = 0x0119
DUPLICATE_TRANSACTION = 0x0131

_TRANSACTION_UID = 0x00081195
_REFERENCED_SOP_SEQUENCE = 0x00081199
_FAILED_SOP_SEQUENCE = 0x00081198
_REFERENCED_SOP_CLASS = 0x00081150
_REFERENCED_SOP_INSTANCE = 0x00081155
_FAILURE_REASON = 0x00081197


@dataclass
class Report:
    """What an N-EVENT-REPORT of Storage Commitment says."""

    transaction_uid: str
    committed: list[tuple[str, str]] = field(default_factory=list)
    #: (SOP Class UID, SOP Instance UID, Failure Reason)
    failed: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def all_committed(self) -> bool:
        return not self.failed


def references_of(ds: Dataset, tag: int = _REFERENCED_SOP_SEQUENCE) -> list[tuple[str, str]]:
    """The (class, instance) pairs of a Referenced/Failed SOP Sequence."""
    out = []
    seq = ds.get(tag)
    for item in seq.value if seq is not None and seq.value else []:
        c, i = item.get(_REFERENCED_SOP_CLASS), item.get(_REFERENCED_SOP_INSTANCE)
        out.append((str(c.value) if c else "", str(i.value) if i else ""))
    return out


def _item(sop_class: str, sop_instance: str, reason: int | None = None) -> Dataset:
    from ...dataset import Dataset

    item = Dataset()
    item.ReferencedSOPClassUID = sop_class
    item.ReferencedSOPInstanceUID = sop_instance
    if reason is not None:
        item.FailureReason = reason
    return item


def action_information(references: Iterable[tuple[str, str]], transaction_uid: str) -> Dataset:
    """The N-ACTION-RQ's data set (Table J.3-1)."""
    from ...dataset import Dataset

    ds = Dataset()
    ds.TransactionUID = transaction_uid
    ds.ReferencedSOPSequence = [_item(c, i) for c, i in references]
    return ds


def event_information(report: Report) -> Dataset:
    """The N-EVENT-REPORT-RQ's data set (Table J.3-2)."""
    from ...dataset import Dataset

    ds = Dataset()
    ds.TransactionUID = report.transaction_uid
    if report.committed:
        ds.ReferencedSOPSequence = [_item(c, i) for c, i in report.committed]
    if report.failed:
        ds.FailedSOPSequence = [_item(c, i, r) for c, i, r in report.failed]
    return ds


def parse_report(ds: Dataset) -> Report:
    uid = ds.get(_TRANSACTION_UID)
    report = Report(str(uid.value) if uid is not None and uid.value else "")
    report.committed = references_of(ds)
    seq = ds.get(_FAILED_SOP_SEQUENCE)
    for item in seq.value if seq is not None and seq.value else []:
        c, i = item.get(_REFERENCED_SOP_CLASS), item.get(_REFERENCED_SOP_INSTANCE)
        r = item.get(_FAILURE_REASON)
        report.failed.append(
            (
                str(c.value) if c else "",
                str(i.value) if i else "",
                int(r.value) if r is not None and isinstance(r.value, int) else PROCESSING_FAILURE,
            )
        )
    return report


# -- SCP ----------------------------------------------------------------------------------
async def handle_action(
    assoc: AsyncAssociation, pc: PresentationContext, msg: dimse.Message
) -> None:
    """SCP: an N-ACTION-RQ on the Storage Commitment context."""
    server = assoc.server
    if server is None or server.has_handler(EVT_N_ACTION):
        await normalized.handle(assoc, pc, msg)  # the application's own N-ACTION handler
        return
    command = msg.command
    ident, bad = qr.request_identifier(pc, msg) if msg.sink is not None else (None, None)
    status: Status = Status(dimse.SUCCESS)
    transaction = ""
    refs: list[tuple[str, str]] = []
    if bad is not None:
        status = bad
    elif command.get(dimse.ACTION_TYPE_ID) != REQUEST_ACTION:
        status = Status(0x0123, {dimse.ERROR_COMMENT: "no such action type"})
    elif command.get(dimse.REQUESTED_SOP_INSTANCE_UID) != WELL_KNOWN_INSTANCE:
        status = Status(0x0117, {dimse.ERROR_COMMENT: "not the well-known SOP Instance"})
    elif (
        ident is None or not ident.get(_TRANSACTION_UID) or not ident.get(_REFERENCED_SOP_SEQUENCE)
    ):
        status = Status(0x0120, {dimse.ERROR_COMMENT: "Transaction UID or references missing"})
    elif not server.has_handler(EVT_STORAGE_COMMITMENT):
        status = Status(dimse.PROCESSING_FAILURE, {dimse.ERROR_COMMENT: "storage commitment off"})
    else:
        transaction = str(ident.TransactionUID)
        refs = references_of(ident)
    await assoc.send_message(
        pc.context_id or msg.context_id,
        {
            dimse.AFFECTED_SOP_CLASS_UID: STORAGE_COMMITMENT_PUSH,
            dimse.COMMAND_FIELD: dimse.N_ACTION_RSP,
            dimse.MESSAGE_ID_BEING_RESPONDED_TO: command.get(dimse.MESSAGE_ID, 0),
            dimse.COMMAND_DATA_SET_TYPE: dimse.NO_DATA_SET,
            dimse.STATUS: int(status),
            dimse.AFFECTED_SOP_INSTANCE_UID: WELL_KNOWN_INSTANCE,
            dimse.ACTION_TYPE_ID: REQUEST_ACTION,
            **qr.response_extra(status),
        },
    )
    if int(status) != dimse.SUCCESS:
        return
    report = await _decide(assoc, pc, command, transaction, refs)
    await deliver(assoc, report)


async def _decide(
    assoc: AsyncAssociation,
    pc: PresentationContext,
    command: dict[int, Any],
    transaction: str,
    refs: list[tuple[str, str]],
) -> Report:
    event = Event(EVT_STORAGE_COMMITMENT, assoc, pc, command)
    event.references = refs
    report = Report(transaction)
    try:
        answers = await assoc.trigger(EVT_STORAGE_COMMITMENT, event, None)
        for sop_class, sop_instance, reason in answers or ():
            if reason is None:
                report.committed.append((sop_class, sop_instance))
            else:
                report.failed.append((sop_class, sop_instance, int(reason)))
    except Exception:  # noqa: BLE001 - every reference then fails
        log.exception("EVT_STORAGE_COMMITMENT handler failed")
        report.committed = []
        report.failed = [(c, i, PROCESSING_FAILURE) for c, i in refs]
    answered = {(c, i) for c, i in report.committed} | {(c, i) for c, i, _ in report.failed}
    report.failed += [(c, i, PROCESSING_FAILURE) for c, i in refs if (c, i) not in answered]
    return report


async def deliver(assoc: AsyncAssociation, report: Report) -> bool:
    """Send ``report`` on ``assoc`` while it is open, else on a new association to
    its requestor (:attr:`AE.destinations`); True once the requestor answered."""
    event_type = ALL_COMMITTED if report.all_committed else SOME_FAILED
    info = event_information(report)
    if assoc.is_established:
        try:
            status, _ = await normalized.send_n_event_report(
                assoc, info, event_type, STORAGE_COMMITMENT_PUSH, WELL_KNOWN_INSTANCE
            )
            log.info(
                "%s: storage commitment %s reported (status 0x%04X)",
                assoc.peer,
                report.transaction_uid,
                int(status),
            )
            return True
        except (NetworkError, DicomError) as e:
            log.info("%s: report not delivered on the association (%s)", assoc.peer, e)
    where = assoc.ae.destinations.get(assoc.remote_ae_title.strip())
    if where is None:
        log.warning(
            "storage commitment %s: %r is gone and has no address (--ae-config)",
            report.transaction_uid,
            assoc.remote_ae_title,
        )
        return False
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        None, _deliver_on_new_association, assoc, where, info, event_type
    )


def _deliver_on_new_association(
    assoc: AsyncAssociation, where: tuple[str, int], info: Dataset, event_type: int
) -> bool:
    from ..ae import AE

    ae = AE(assoc.ae.ae_title, acse_timeout=assoc.ae.acse_timeout)
    ae.dimse_timeout = assoc.ae.dimse_timeout
    # We send the report as the SCP of the SOP class: ask for the SCP role (J.3.3).
    ctx = PresentationContext(
        STORAGE_COMMITMENT_PUSH,
        [uids.ExplicitVRLittleEndian, uids.ImplicitVRLittleEndian],
        scu_role=False,
        scp_role=True,
    )
    try:
        with ae.associate(where[0], where[1], [ctx], assoc.remote_ae_title.strip()) as a:
            status, _ = a.send_n_event_report(
                info, event_type, STORAGE_COMMITMENT_PUSH, WELL_KNOWN_INSTANCE
            )
        return int(status) == 0
    except (NetworkError, DicomError, OSError) as e:
        log.warning("storage commitment report to %s:%s failed: %s", where[0], where[1], e)
        return False


# -- SCU ----------------------------------------------------------------------------------
async def request(
    assoc: AsyncAssociation,
    references: Sequence[tuple[str, str]],
    transaction_uid: str | None = None,
) -> str:
    """Ask the peer to commit to ``references`` ((class, instance) pairs); the
    Transaction UID.  Raises :class:`NetworkError` when the N-ACTION fails."""
    uid = transaction_uid or normalized.new_uid()
    status, _ = await normalized.send_n_action(
        assoc,
        action_information(references, uid),
        REQUEST_ACTION,
        STORAGE_COMMITMENT_PUSH,
        WELL_KNOWN_INSTANCE,
    )
    if int(status) != dimse.SUCCESS:
        raise NetworkError(
            f"storage commitment request refused: 0x{int(status):04X}"
            + (f" ({status.ErrorComment})" if status.ErrorComment else ""),
            peer=assoc.peer,
        )
    return uid


async def answer_report(assoc: AsyncAssociation, m: dimse.Message) -> Report | None:
    """Answer an N-EVENT-REPORT-RQ of Storage Commitment; its report (None if unreadable)."""
    pc = assoc._by_id.get(m.context_id)
    report = None
    status = dimse.SUCCESS
    if pc is None or m.sink is None:
        status = dimse.PROCESSING_FAILURE
    else:
        ident, bad = qr.request_identifier(pc, m)
        if bad is not None or ident is None:
            status = int(bad or dimse.PROCESSING_FAILURE)
        else:
            report = parse_report(ident)
    await assoc.send_message(
        m.context_id,
        {
            dimse.AFFECTED_SOP_CLASS_UID: STORAGE_COMMITMENT_PUSH,
            dimse.COMMAND_FIELD: dimse.N_EVENT_REPORT_RSP,
            dimse.MESSAGE_ID_BEING_RESPONDED_TO: m.command.get(dimse.MESSAGE_ID, 0),
            dimse.COMMAND_DATA_SET_TYPE: dimse.NO_DATA_SET,
            dimse.STATUS: status,
            dimse.AFFECTED_SOP_INSTANCE_UID: WELL_KNOWN_INSTANCE,
            dimse.EVENT_TYPE_ID: m.command.get(dimse.EVENT_TYPE_ID, ALL_COMMITTED),
        },
    )
    return report


async def wait_report(assoc: AsyncAssociation, transaction_uid: str, timeout: float) -> Report:
    """Read the association until the N-EVENT-REPORT for ``transaction_uid``
    (answering it); ``DimseTimeout`` after ``timeout`` seconds.  A report that came
    while the N-ACTION's response was awaited was answered then
    (:attr:`~dicomfast.net.association.AsyncAssociation.event_reports`)."""
    while True:
        for entry in list(assoc.event_reports):
            command, ds = entry
            if command.get(dimse.AFFECTED_SOP_CLASS_UID) == STORAGE_COMMITMENT_PUSH and ds:
                early = parse_report(ds)
                if early.transaction_uid == transaction_uid:
                    assoc.event_reports.remove(entry)
                    return early
        m = await assoc.next_message("storage commitment report", timeout)
        if m.command_field != dimse.N_EVENT_REPORT_RQ:
            log.warning("%s: ignoring unexpected message %04X", assoc.peer, m.command_field)
            continue
        report = await answer_report(assoc, m)
        if report is not None and report.transaction_uid == transaction_uid:
            return report
