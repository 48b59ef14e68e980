"""Retrieve with C-GET (PS3.4 C.4.3, PS3.7 §9.1.3): SCU and SCP.

The C-STORE sub-operations travel on the C-GET's own association, on
storage presentation contexts for which the requestor took the SCP role
(SCP/SCU Role Selection, PS3.7 D.3.3.4).

SCP: the ``EVT_C_GET`` handler returns (or yields) the number of
sub-operations, then the instances (as for ``EVT_C_MOVE``, without the
destination).  Pending responses carry the sub-operation counts; the final
status is Success, Warning 0xB000, 0xA702 (all failed) or Cancel 0xFE00.

SCU: :func:`get_sync` / :func:`c_get` yield the C-GET responses; each
C-STORE-RQ received meanwhile is passed to ``on_store(event)`` (an
:class:`~dicomfast.net.events.Event` whose ``encoded`` is the instance as a
Part 10 file), whose return value is the C-STORE status.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

from ... import uid as uids
from .. import dimse
from ..contexts import PresentationContext
from ..dimse import Status
from ..events import EVT_C_GET, EVT_C_STORE, Event
from ..storage import file_meta, is_valid_uid
from ..transport import iterate_sync
from . import find as qr
from . import move

if TYPE_CHECKING:
    from ...dataset import Dataset
    from ..association import AsyncAssociation

log = logging.getLogger("dicomfast.net")

StoreCallback = Callable[[Event], int]


# -- SCP ----------------------------------------------------------------------------------
async def handle(assoc: AsyncAssociation, pc: PresentationContext, msg: dimse.Message) -> None:
    """SCP: a C-GET-RQ; C-STORE sub-operations on this association."""
    started = await move.start_retrieve(assoc, pc, msg, EVT_C_GET, dimse.C_GET_RSP)
    if started is None:
        return
    _event, respond, msg_id, items = started
    if items and isinstance(items[0], int) and not isinstance(items[0], bool):
        items = items[1:]
    contexts = [c for c in assoc.accepted_contexts if c.scp_role]
    await move.run_sub_operations(assoc, msg_id, items, respond, contexts=contexts)


# -- SCU ----------------------------------------------------------------------------------
def storage_contexts_for_get(
    sop_classes: list[str] | None = None, transfer_syntaxes: list[str] | None = None
) -> list[PresentationContext]:
    """Storage contexts proposed with the SCP role (for C-GET); default every
    storage SOP class (at most 128 contexts in all, so the caller may need
    to choose)."""
    from ..contexts import DEFAULT_TRANSFER_SYNTAXES

    ts = list(transfer_syntaxes or DEFAULT_TRANSFER_SYNTAXES)
    return [
        PresentationContext(s, ts, scu_role=False, scp_role=True)
        for s in (sop_classes if sop_classes is not None else uids.storage_sop_classes())
    ]


async def _answer_store(
    assoc: AsyncAssociation, m: dimse.Message, on_store: StoreCallback | None
) -> None:
    command = m.command
    pc = assoc._by_id.get(m.context_id)
    sop_class = command.get(dimse.AFFECTED_SOP_CLASS_UID, "")
    inst = command.get(dimse.AFFECTED_SOP_INSTANCE_UID, "")
    comment = None
    if pc is None or not pc.accepted or not is_valid_uid(inst):
        status, comment = dimse.ERROR_CANNOT_UNDERSTAND, "bad context or SOP Instance UID"
    elif on_store is None:
        status = dimse.SUCCESS
    else:
        event = Event(EVT_C_STORE, assoc, pc, command)
        body = bytes(m.sink.buffer) if m.sink is not None else b""
        event.encoded = (
            file_meta(sop_class, inst, pc.transfer_syntax or "", assoc.remote_ae_title or None)
            + body
        )
        try:
            status = dimse.code_of(on_store(event))
        except Exception as e:  # noqa: BLE001 - a status for the peer
            log.exception("C-GET store callback failed")
            status, comment = 0xA700, f"cannot store: {e}"[:64]
    rsp: dict[int, Any] = {
        dimse.AFFECTED_SOP_CLASS_UID: sop_class,
        dimse.COMMAND_FIELD: dimse.C_STORE_RSP,
        dimse.MESSAGE_ID_BEING_RESPONDED_TO: command.get(dimse.MESSAGE_ID, 0),
        dimse.COMMAND_DATA_SET_TYPE: dimse.NO_DATA_SET,
        dimse.STATUS: status,
    }
    if inst:
        rsp[dimse.AFFECTED_SOP_INSTANCE_UID] = inst
    if comment:
        rsp[dimse.ERROR_COMMENT] = comment
    await assoc.send_message(m.context_id, rsp)


async def _get_steps(
    assoc: AsyncAssociation, msg_id: int, pc: PresentationContext, on_store: StoreCallback | None
) -> tuple[Status, Dataset | None]:
    """Read messages until the next C-GET-RSP (answering C-STORE-RQs)."""
    while True:
        m = await assoc.next_message("C-GET")
        if m.command_field == dimse.C_STORE_RQ:
            await _answer_store(assoc, m, on_store)
            continue
        if (
            m.command_field == dimse.C_GET_RSP
            and m.command.get(dimse.MESSAGE_ID_BEING_RESPONDED_TO) == msg_id
        ):
            return qr.status_of(m), qr.identifier_of(m, pc)
        log.warning("%s: ignoring unexpected message %04X", assoc.peer, m.command_field)


async def c_get(
    assoc: AsyncAssociation,
    identifier: Dataset,
    model: str = "study",
    *,
    on_store: StoreCallback | None = None,
    priority: int = 0,
) -> AsyncIterator[tuple[Status, Dataset | None]]:
    sop_class = qr.sop_class_for("get", model)
    msg_id, pc = await qr.send_request(
        assoc, dimse.C_GET_RQ, identifier, sop_class, priority=priority
    )
    while True:
        status, ds = await _get_steps(assoc, msg_id, pc, on_store)
        yield status, ds
        if status.category != "Pending":
            return


def get_sync(
    assoc: AsyncAssociation,
    identifier: Dataset,
    model: str = "study",
    *,
    on_store: StoreCallback | None = None,
    priority: int = 0,
) -> Iterator[tuple[Status, Dataset | None]]:
    """C-GET over a blocking association: :func:`c_get`, step by step."""
    return iterate_sync(c_get(assoc, identifier, model, on_store=on_store, priority=priority))
