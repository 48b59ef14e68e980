"""The DIMSE-N services (PS3.7 §10): N-EVENT-REPORT, N-GET, N-SET, N-ACTION,
N-CREATE and N-DELETE, SCU and SCP, for any SOP class (MPPS, Storage
Commitment, Print Management, or one an application defines).

The six operations differ only in which command elements they carry (Table
10.1-1 to 10.1-6 of PS3.7): one row of :data:`OPERATIONS` each, and one SCU and
one SCP function for all of them.

SCU: pynetdicom's method names and argument order (class UID before instance
UID): :func:`send_n_get(assoc, identifier_list, class_uid, instance_uid)
<send_n_get>`, :func:`send_n_action(assoc, dataset, action_type, class_uid,
instance_uid) <send_n_action>` and so on; each returns ``(Status, data set or
None)`` (:func:`send_n_delete` the status alone).  ``meta_uid`` names the
presentation context's abstract syntax when it is a Meta SOP Class (Print
Management) rather than ``class_uid`` itself.

SCP: the request's event (``EVT_N_GET``, ``EVT_N_ACTION``, ...) is triggered;
its handler returns a status (an ``int`` or a :class:`Status` carrying an Error
Comment) or ``(status, data set or None)``: the data set is the response's
Attribute List / Action Reply / Event Reply.  Coroutine functions the handler
appends to ``event.after`` run once the response is sent (an N-EVENT-REPORT the
SCP owes the SCU: a printer's status after a failed print).  Without a handler the answer is
0x0110 (Processing failure).  An N-CREATE-RQ without an Affected SOP Instance
UID gets one made by the SCP (PS3.7 10.1.5.1.3); a handler may give another in
its status's ``command``.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ... import uid as uids
from ...errors import NetworkError
from .. import dimse
from ..contexts import PresentationContext
from ..dimse import Status
from ..events import (
    EVT_N_ACTION,
    EVT_N_CREATE,
    EVT_N_DELETE,
    EVT_N_EVENT_REPORT,
    EVT_N_GET,
    EVT_N_SET,
    Event,
    EventType,
)
from . import find as qr

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ...dataset import Dataset
    from ..association import AsyncAssociation

log = logging.getLogger("dicomfast.net")

A = dimse.AFFECTED_SOP_CLASS_UID, dimse.AFFECTED_SOP_INSTANCE_UID
R = dimse.REQUESTED_SOP_CLASS_UID, dimse.REQUESTED_SOP_INSTANCE_UID


@dataclass(frozen=True)
class Operation:
    """One DIMSE-N operation: what its request and response carry."""

    name: str
    rq: int
    rsp: int
    event: EventType
    #: (class tag, instance tag) of the request: Affected or Requested (PS3.7 10.1).
    uids: tuple[int, int]
    #: Event Type ID, Action Type ID or Attribute Identifier List, echoed where the
    #: response carries it.
    extra: int | None = None
    extra_in_response: bool = False
    #: The instance UID may be left to the SCP (N-CREATE).
    instance_optional: bool = False


OPERATIONS: dict[int, Operation] = {
    op.rq: op
    for op in (
        Operation(
            "N-EVENT-REPORT",
            dimse.N_EVENT_REPORT_RQ,
            dimse.N_EVENT_REPORT_RSP,
            EVT_N_EVENT_REPORT,
            A,
            dimse.EVENT_TYPE_ID,
            True,
        ),
        Operation(
            "N-GET",
            dimse.N_GET_RQ,
            dimse.N_GET_RSP,
            EVT_N_GET,
            R,
            dimse.ATTRIBUTE_IDENTIFIER_LIST,
        ),
        Operation("N-SET", dimse.N_SET_RQ, dimse.N_SET_RSP, EVT_N_SET, R),
        Operation(
            "N-ACTION",
            dimse.N_ACTION_RQ,
            dimse.N_ACTION_RSP,
            EVT_N_ACTION,
            R,
            dimse.ACTION_TYPE_ID,
            True,
        ),
        Operation(
            "N-CREATE",
            dimse.N_CREATE_RQ,
            dimse.N_CREATE_RSP,
            EVT_N_CREATE,
            A,
            instance_optional=True,
        ),
        Operation("N-DELETE", dimse.N_DELETE_RQ, dimse.N_DELETE_RSP, EVT_N_DELETE, R),
    )
}


def new_uid() -> str:
    """A new UID in the 2.25 (UUID) form of PS3.5 B.2."""
    return f"2.25.{uuid.uuid4().int}"


# -- SCU ----------------------------------------------------------------------------------
async def send(
    assoc: AsyncAssociation,
    rq: int,
    class_uid: str,
    instance_uid: str | None,
    dataset: Dataset | None = None,
    extra: Any = None,
    meta_uid: str | None = None,
) -> tuple[Status, Dataset | None]:
    """Send one DIMSE-N request and wait for its response: ``(status, data set)``."""
    op = OPERATIONS[rq]
    if not instance_uid and not op.instance_optional:
        raise ValueError(f"{op.name} needs a SOP Instance UID")
    pc = qr.context_for_class(assoc, meta_uid or class_uid)
    msg_id = assoc.next_message_id()
    class_tag, instance_tag = op.uids
    command: dict[int, Any] = {
        class_tag: class_uid,
        dimse.COMMAND_FIELD: rq,
        dimse.MESSAGE_ID: msg_id,
        dimse.COMMAND_DATA_SET_TYPE: dimse.NO_DATA_SET
        if dataset is None
        else dimse.DATA_SET_PRESENT,
    }
    if instance_uid:
        command[instance_tag] = instance_uid
    if op.extra is not None and extra is not None:
        command[op.extra] = extra
    body = (
        None
        if dataset is None
        else qr.encode_identifier(dataset, pc.transfer_syntax or uids.ImplicitVRLittleEndian)
    )
    await assoc.send_message(pc.context_id or 0, command, body)
    rsp = await assoc.wait_response(msg_id, op.name)
    return qr.status_of(rsp), qr.identifier_of(rsp, pc)


async def send_n_event_report(
    assoc: AsyncAssociation,
    dataset: Dataset | None,
    event_type: int,
    class_uid: str,
    instance_uid: str,
    meta_uid: str | None = None,
) -> tuple[Status, Dataset | None]:
    """N-EVENT-REPORT: ``(status, event reply)``."""
    return await send(
        assoc, dimse.N_EVENT_REPORT_RQ, class_uid, instance_uid, dataset, event_type, meta_uid
    )


async def send_n_get(
    assoc: AsyncAssociation,
    identifier_list: Sequence[int],
    class_uid: str,
    instance_uid: str,
    meta_uid: str | None = None,
) -> tuple[Status, Dataset | None]:
    """N-GET of the attributes ``identifier_list`` (tags; empty: all): ``(status, attribute list)``."""
    tags = [int(t) for t in identifier_list] or None
    return await send(assoc, dimse.N_GET_RQ, class_uid, instance_uid, None, tags, meta_uid)


async def send_n_set(
    assoc: AsyncAssociation,
    dataset: Dataset,
    class_uid: str,
    instance_uid: str,
    meta_uid: str | None = None,
) -> tuple[Status, Dataset | None]:
    """N-SET of the modification list ``dataset``: ``(status, attribute list)``."""
    return await send(assoc, dimse.N_SET_RQ, class_uid, instance_uid, dataset, None, meta_uid)


async def send_n_action(
    assoc: AsyncAssociation,
    dataset: Dataset | None,
    action_type: int,
    class_uid: str,
    instance_uid: str,
    meta_uid: str | None = None,
) -> tuple[Status, Dataset | None]:
    """N-ACTION ``action_type`` with the action information ``dataset``: ``(status, action reply)``."""
    return await send(
        assoc, dimse.N_ACTION_RQ, class_uid, instance_uid, dataset, action_type, meta_uid
    )


async def send_n_create(
    assoc: AsyncAssociation,
    dataset: Dataset | None,
    class_uid: str,
    instance_uid: str | None = None,
    meta_uid: str | None = None,
) -> tuple[Status, Dataset | None]:
    """N-CREATE (``instance_uid=None``: the SCP makes one, found in
    ``status.command[AffectedSOPInstanceUID]``): ``(status, attribute list)``."""
    return await send(assoc, dimse.N_CREATE_RQ, class_uid, instance_uid, dataset, None, meta_uid)


async def send_n_delete(
    assoc: AsyncAssociation,
    class_uid: str,
    instance_uid: str,
    meta_uid: str | None = None,
) -> Status:
    """N-DELETE: the status."""
    status, _ = await send(assoc, dimse.N_DELETE_RQ, class_uid, instance_uid, None, None, meta_uid)
    return status


def decode_request_dataset(pc: PresentationContext | None, msg: dimse.Message) -> Dataset | None:
    """The data set of a received DIMSE-N message, or None (none, or undecodable)."""
    if pc is None or msg.sink is None:
        return None
    ds, bad = qr.request_identifier(pc, msg)
    return None if bad is not None else ds


# -- SCP ----------------------------------------------------------------------------------
def _result(result: Any) -> tuple[Any, Dataset | None]:
    if isinstance(result, tuple):
        return result[0], result[1]
    return result, None


async def handle(assoc: AsyncAssociation, pc: PresentationContext, msg: dimse.Message) -> None:
    """SCP: any DIMSE-N request, answered with its event handler's result."""
    op = OPERATIONS[msg.command_field]
    command = dict(msg.command)
    class_tag, instance_tag = op.uids
    sop_class = command.get(class_tag) or pc.abstract_syntax
    inst = command.get(instance_tag)
    if op.instance_optional and not inst:
        inst = command[instance_tag] = new_uid()
    ts = pc.transfer_syntax or uids.ImplicitVRLittleEndian
    status: Any
    reply: Dataset | None = None
    ident: Dataset | None = None
    bad: Status | None = None
    if msg.sink is not None:
        ident, bad = qr.request_identifier(pc, msg)
    elif op.rq == dimse.N_SET_RQ:
        bad = Status(0x0120, {dimse.ERROR_COMMENT: "no modification list"})  # missing attribute
    server = assoc.server
    event: Event | None = None
    if bad is not None:
        status = bad
    elif server is None or not server.has_handler(op.event):
        status = Status(
            dimse.PROCESSING_FAILURE, {dimse.ERROR_COMMENT: f"no {op.event.name} handler"}
        )
    else:
        event = Event(op.event, assoc, pc, command)
        event._dataset = ident
        try:
            result = await assoc.trigger(op.event, event, dimse.PROCESSING_FAILURE)
            if inspect.isawaitable(result):
                result = await result
            status, reply = _result(result)
            if isinstance(status, Status) and status.command.get(dimse.AFFECTED_SOP_INSTANCE_UID):
                inst = status.command[dimse.AFFECTED_SOP_INSTANCE_UID]
        except NetworkError:
            raise
        except Exception as e:  # noqa: BLE001 - a status for the peer
            log.exception("%s handler failed", op.event.name)
            status = Status(dimse.PROCESSING_FAILURE, {dimse.ERROR_COMMENT: str(e)[:64]})
    rsp: dict[int, Any] = {
        dimse.AFFECTED_SOP_CLASS_UID: sop_class,
        dimse.COMMAND_FIELD: op.rsp,
        dimse.MESSAGE_ID_BEING_RESPONDED_TO: command.get(dimse.MESSAGE_ID, 0),
        dimse.COMMAND_DATA_SET_TYPE: dimse.NO_DATA_SET if reply is None else dimse.DATA_SET_PRESENT,
        dimse.STATUS: int(status),
    }
    if isinstance(inst, str) and inst:
        rsp[dimse.AFFECTED_SOP_INSTANCE_UID] = inst
    if op.extra_in_response and op.extra is not None and command.get(op.extra) is not None:
        rsp[op.extra] = command[op.extra]
    rsp.update(qr.response_extra(status))
    body = None if reply is None else qr.encode_identifier(reply, ts)
    await assoc.send_message(pc.context_id or msg.context_id, rsp, body)
    for then in event.after if event is not None else ():
        try:
            await then()
        except NetworkError as e:
            log.warning("%s: after %s: %s", assoc.peer, op.name, e)
