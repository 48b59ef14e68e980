"""Modality Performed Procedure Step (PS3.4 Annex F, PS3.7 §10.1.5/§10.1.3):
N-CREATE and N-SET, SCU and SCP.

SCP: ``EVT_N_CREATE`` / ``EVT_N_SET`` handlers get the request's attribute
list (``event.dataset``) and SOP Instance UID (``event.sop_instance_uid``)
and return a status (an ``int`` or a :class:`Status` carrying an Error
Comment) or ``(status, dataset or None)``; the data set, if any, is sent
back in the response.  Without a handler the answer is 0x0110 (Processing
failure).
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING, Any

from ... import uid as uids
from ...errors import NetworkError
from .. import dimse
from ..contexts import PresentationContext
from ..dimse import Status
from ..events import EVT_N_CREATE, EVT_N_SET, Event
from ..transport import run_sync
from . import find as qr

if TYPE_CHECKING:
    from ...dataset import Dataset
    from ..association import AsyncAssociation

log = logging.getLogger("dicomfast.net")

MPPS_SOP_CLASS = "1.2.840.10008.3.1.2.3.3"


async def handle(assoc: AsyncAssociation, pc: PresentationContext, msg: dimse.Message) -> None:
    command = msg.command
    create = msg.command_field == dimse.N_CREATE_RQ
    evt = EVT_N_CREATE if create else EVT_N_SET
    sop_class = (
        command.get(dimse.AFFECTED_SOP_CLASS_UID if create else dimse.REQUESTED_SOP_CLASS_UID)
        or pc.abstract_syntax
    )
    inst = command.get(
        dimse.AFFECTED_SOP_INSTANCE_UID if create else dimse.REQUESTED_SOP_INSTANCE_UID
    )
    ts = pc.transfer_syntax or uids.ImplicitVRLittleEndian
    status: Any
    reply: Dataset | None = None
    ident: Dataset | None = None
    if msg.sink is not None:
        ident, bad = qr.request_identifier(pc, msg)
    else:
        bad = None if create else Status(0x0120, {dimse.ERROR_COMMENT: "no modification list"})
    server = assoc.server
    if bad is not None:
        status = bad
    elif server is None or not server.has_handler(evt):
        status = Status(dimse.PROCESSING_FAILURE, {dimse.ERROR_COMMENT: f"no {evt.name} handler"})
    else:
        event = Event(evt, assoc, pc, command)
        if ident is None:
            from ...dataset import Dataset

            ident = Dataset()
        event._dataset = ident
        try:
            result = await assoc.trigger(evt, event, dimse.PROCESSING_FAILURE)
            if inspect.isawaitable(result):
                result = await result
            if isinstance(result, tuple):
                status, reply = result
            else:
                status = result
            if isinstance(status, Status) and status.command.get(dimse.AFFECTED_SOP_INSTANCE_UID):
                inst = status.command[dimse.AFFECTED_SOP_INSTANCE_UID]
        except NetworkError:
            raise
        except Exception as e:  # noqa: BLE001 - a status for the peer
            log.exception("%s handler failed", evt.name)
            status = Status(dimse.PROCESSING_FAILURE, {dimse.ERROR_COMMENT: str(e)[:64]})
    rsp: dict[int, Any] = {
        dimse.AFFECTED_SOP_CLASS_UID: sop_class,
        dimse.COMMAND_FIELD: dimse.N_CREATE_RSP if create else dimse.N_SET_RSP,
        dimse.MESSAGE_ID_BEING_RESPONDED_TO: command.get(dimse.MESSAGE_ID, 0),
        dimse.COMMAND_DATA_SET_TYPE: dimse.NO_DATA_SET if reply is None else dimse.DATA_SET_PRESENT,
        dimse.STATUS: int(status),
    }
    if isinstance(inst, str) and inst:
        rsp[dimse.AFFECTED_SOP_INSTANCE_UID] = inst
    rsp.update(qr.response_extra(status))
    body = None if reply is None else qr.encode_identifier(reply, ts)
    await assoc.send_message(pc.context_id or msg.context_id, rsp, body)


# -- SCU ----------------------------------------------------------------------------------
async def send_n_create(
    assoc: AsyncAssociation,
    dataset: Dataset,
    sop_instance_uid: str | None = None,
    sop_class_uid: str = MPPS_SOP_CLASS,
) -> tuple[Status, Dataset | None]:
    pc = qr.context_for_class(assoc, sop_class_uid)
    msg_id = assoc.next_message_id()
    command: dict[int, Any] = {
        dimse.AFFECTED_SOP_CLASS_UID: sop_class_uid,
        dimse.COMMAND_FIELD: dimse.N_CREATE_RQ,
        dimse.MESSAGE_ID: msg_id,
        dimse.COMMAND_DATA_SET_TYPE: dimse.DATA_SET_PRESENT,
    }
    if sop_instance_uid:
        command[dimse.AFFECTED_SOP_INSTANCE_UID] = sop_instance_uid
    body = qr.encode_identifier(dataset, pc.transfer_syntax or uids.ImplicitVRLittleEndian)
    await assoc.send_message(pc.context_id or 0, command, body)
    rsp = await assoc.wait_response(msg_id, "N-CREATE")
    return qr.status_of(rsp), qr.identifier_of(rsp, pc)


async def send_n_set(
    assoc: AsyncAssociation,
    modifications: Dataset,
    sop_instance_uid: str,
    sop_class_uid: str = MPPS_SOP_CLASS,
) -> tuple[Status, Dataset | None]:
    pc = qr.context_for_class(assoc, sop_class_uid)
    msg_id = assoc.next_message_id()
    command: dict[int, Any] = {
        dimse.REQUESTED_SOP_CLASS_UID: sop_class_uid,
        dimse.COMMAND_FIELD: dimse.N_SET_RQ,
        dimse.MESSAGE_ID: msg_id,
        dimse.COMMAND_DATA_SET_TYPE: dimse.DATA_SET_PRESENT,
        dimse.REQUESTED_SOP_INSTANCE_UID: sop_instance_uid,
    }
    body = qr.encode_identifier(modifications, pc.transfer_syntax or uids.ImplicitVRLittleEndian)
    await assoc.send_message(pc.context_id or 0, command, body)
    rsp = await assoc.wait_response(msg_id, "N-SET")
    return qr.status_of(rsp), qr.identifier_of(rsp, pc)


def n_create_sync(
    assoc: AsyncAssociation, dataset: Dataset, sop_instance_uid: str | None = None
) -> tuple[Status, Dataset | None]:
    return run_sync(send_n_create(assoc, dataset, sop_instance_uid))


def n_set_sync(
    assoc: AsyncAssociation, modifications: Dataset, sop_instance_uid: str
) -> tuple[Status, Dataset | None]:
    return run_sync(send_n_set(assoc, modifications, sop_instance_uid))
