"""Verification service (PS3.4 Annex A, PS3.7 §9.1.5): C-ECHO SCU and SCP."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ...errors import PresentationContextError
from .. import dimse
from ..contexts import VERIFICATION_SOP_CLASS, PresentationContext
from ..dimse import Status
from ..events import EVT_C_ECHO, Event

if TYPE_CHECKING:
    from ..association import AsyncAssociation

log = logging.getLogger("dicomfast.net")


async def send_c_echo(assoc: AsyncAssociation) -> Status:
    """Send a C-ECHO-RQ and wait for its response status."""
    pc = assoc.context_for(VERIFICATION_SOP_CLASS)
    if pc is None or pc.context_id is None:
        raise PresentationContextError(
            "no accepted presentation context for Verification (1.2.840.10008.1.1)",
            peer=assoc.peer,
        )
    msg_id = assoc.next_message_id()
    await assoc.send_message(
        pc.context_id,
        {
            dimse.AFFECTED_SOP_CLASS_UID: VERIFICATION_SOP_CLASS,
            dimse.COMMAND_FIELD: dimse.C_ECHO_RQ,
            dimse.MESSAGE_ID: msg_id,
            dimse.COMMAND_DATA_SET_TYPE: dimse.NO_DATA_SET,
        },
    )
    rsp = await assoc.wait_response(msg_id, "C-ECHO")
    return Status(int(rsp.command.get(dimse.STATUS, 0xC000)), rsp.command)


async def handle(assoc: AsyncAssociation, pc: PresentationContext, msg: dimse.Message) -> None:
    """SCP: answer a C-ECHO-RQ (status from an EVT_C_ECHO handler, default Success)."""
    try:
        status = await assoc.trigger(EVT_C_ECHO, Event(EVT_C_ECHO, assoc, pc, msg.command), 0)
        status = dimse.code_of(status)
    except Exception:  # noqa: BLE001 - a handler's failure is the peer's failure status
        log.exception("EVT_C_ECHO handler failed")
        status = dimse.PROCESSING_FAILURE
    await assoc.send_message(
        pc.context_id or msg.context_id,
        {
            dimse.AFFECTED_SOP_CLASS_UID: VERIFICATION_SOP_CLASS,
            dimse.COMMAND_FIELD: dimse.C_ECHO_RSP,
            dimse.MESSAGE_ID_BEING_RESPONDED_TO: msg.command.get(dimse.MESSAGE_ID, 0),
            dimse.COMMAND_DATA_SET_TYPE: dimse.NO_DATA_SET,
            dimse.STATUS: status,
        },
    )
