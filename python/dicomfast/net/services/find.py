"""Query service (PS3.4 Annex C.4.1, PS3.7 §9.1.2): C-FIND SCU and SCP for the
Patient Root and Study Root information models and for the Modality
Worklist (PS3.4 Annex K, same DIMSE exchange).

SCP: the identifier is decoded and handed to the ``EVT_C_FIND`` handler,
which returns (or yields) ``(status, identifier)`` pairs: every *Pending*
status (0xFF00/0xFF01) is sent with its identifier, the first other status
ends the exchange; running out of pairs ends it with Success.  A status may
be a :class:`~dicomfast.net.dimse.Status` carrying an Error Comment or
Offending Element.  A handler that raises an exception with a ``status``
attribute (:class:`dicomfast.archive.QueryError`) answers with that status;
any other exception with 0xC000 (Unable to process).  A C-CANCEL-RQ is
noticed between two results (``event.is_cancelled``; the handler's
generator is then closed) and answered with 0xFE00 (Cancel).

SCU: :func:`c_find` (async generator) and :func:`find_sync` (the blocking
facade's ``send_c_find``) yield ``(Status, identifier or None)`` for each
response; leaving the loop early sends a C-CANCEL-RQ and reads the
remaining responses.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from ... import uid as uids
from ...errors import DicomError, NetworkError, PresentationContextError
from .. import dimse
from ..contexts import PresentationContext
from ..dimse import Status
from ..events import EVT_C_FIND, Event
from ..transport import iterate_sync

if TYPE_CHECKING:
    from ...dataset import Dataset
    from ..association import AsyncAssociation

log = logging.getLogger("dicomfast.net")

PATIENT_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.1.1"
PATIENT_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.1.2"
PATIENT_ROOT_GET = "1.2.840.10008.5.1.4.1.2.1.3"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
STUDY_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.2.2"
STUDY_ROOT_GET = "1.2.840.10008.5.1.4.1.2.2.3"
MODALITY_WORKLIST_FIND = "1.2.840.10008.5.1.4.31"

QR_FIND_CLASSES = (PATIENT_ROOT_FIND, STUDY_ROOT_FIND)
QR_MOVE_CLASSES = (PATIENT_ROOT_MOVE, STUDY_ROOT_MOVE)
QR_GET_CLASSES = (PATIENT_ROOT_GET, STUDY_ROOT_GET)

#: ``model`` names accepted by the SCU functions, per operation.
MODELS = {
    "find": {
        "patient": PATIENT_ROOT_FIND,
        "study": STUDY_ROOT_FIND,
        "worklist": MODALITY_WORKLIST_FIND,
    },
    "move": {"patient": PATIENT_ROOT_MOVE, "study": STUDY_ROOT_MOVE},
    "get": {"patient": PATIENT_ROOT_GET, "study": STUDY_ROOT_GET},
}

UNABLE_TO_PROCESS = 0xC000
IDENTIFIER_DOES_NOT_MATCH = 0xA900
#: Results fetched from a plain-function handler per worker-thread hop.
BATCH = 64


def sop_class_for(op: str, model: str) -> str:
    """``"study"``/``"patient"``/``"worklist"`` (or a UID) → the SOP Class UID."""
    if model and model[0].isdigit():
        return model
    try:
        return MODELS[op][model.lower()]
    except KeyError:
        raise ValueError(
            f"unknown information model {model!r} for C-{op.upper()}: " + ", ".join(MODELS[op])
        ) from None


# -- identifiers ------------------------------------------------------------------------
def decode_identifier(body: bytes | bytearray | memoryview, transfer_syntax: str) -> Dataset:
    """A data set received in a DIMSE message (no file meta group)."""
    from ...reader import read
    from ..storage import file_meta

    ds = read(file_meta("1.2", "1.2", transfer_syntax) + bytes(body))
    ds.file_meta = None  # the placeholder group is not part of what was received
    return ds


def encode_identifier(ds: Dataset, transfer_syntax: str) -> bytes:
    from .store import encode_for

    return encode_for(ds, transfer_syntax or uids.ImplicitVRLittleEndian)


def context_for_class(assoc: AsyncAssociation, sop_class: str) -> PresentationContext:
    pc = assoc.context_for(sop_class)
    if pc is None or pc.context_id is None:
        raise PresentationContextError(
            f"no accepted presentation context for {uids.name_of(sop_class)} ({sop_class})",
            peer=assoc.peer,
        )
    return pc


def status_of(rsp: dimse.Message) -> Status:
    return Status(int(rsp.command.get(dimse.STATUS, UNABLE_TO_PROCESS)), rsp.command)


def identifier_of(rsp: dimse.Message, pc: PresentationContext) -> Dataset | None:
    if rsp.sink is None or not getattr(rsp.sink, "buffer", None):
        return None
    try:
        return decode_identifier(rsp.sink.buffer, pc.transfer_syntax or uids.ImplicitVRLittleEndian)
    except DicomError as e:
        log.warning("undecodable identifier in a response: %s", e)
        return None


# -- SCU ----------------------------------------------------------------------------------
async def send_request(
    assoc: AsyncAssociation,
    field: int,
    identifier: Dataset,
    sop_class: str,
    *,
    priority: int = 0,
    extra: dict[int, Any] | None = None,
) -> tuple[int, PresentationContext]:
    """Send a C-FIND/C-MOVE/C-GET request; its message ID and context."""
    pc = context_for_class(assoc, sop_class)
    body = encode_identifier(identifier, pc.transfer_syntax or uids.ImplicitVRLittleEndian)
    msg_id = assoc.next_message_id()
    command = {
        dimse.AFFECTED_SOP_CLASS_UID: sop_class,
        dimse.COMMAND_FIELD: field,
        dimse.MESSAGE_ID: msg_id,
        dimse.PRIORITY: priority,
        dimse.COMMAND_DATA_SET_TYPE: dimse.DATA_SET_PRESENT,
    }
    command.update(extra or {})
    await assoc.send_message(pc.context_id or 0, command, body)
    return msg_id, pc


async def send_cancel(assoc: AsyncAssociation, pc: PresentationContext, msg_id: int) -> None:
    await assoc.send_message(
        pc.context_id or 0,
        {
            dimse.COMMAND_FIELD: dimse.C_CANCEL_RQ,
            dimse.MESSAGE_ID_BEING_RESPONDED_TO: msg_id,
            dimse.COMMAND_DATA_SET_TYPE: dimse.NO_DATA_SET,
        },
    )


async def _response(
    assoc: AsyncAssociation, msg_id: int, pc: PresentationContext
) -> tuple[Status, Dataset | None]:
    rsp = await assoc.wait_response(msg_id, "C-FIND")
    return status_of(rsp), identifier_of(rsp, pc)


async def c_find(
    assoc: AsyncAssociation, identifier: Dataset, model: str = "study", *, priority: int = 0
) -> AsyncIterator[tuple[Status, Dataset | None]]:
    """C-FIND (asyncio): ``(status, identifier)`` for every response."""
    sop_class = sop_class_for("find", model)
    msg_id, pc = await send_request(
        assoc, dimse.C_FIND_RQ, identifier, sop_class, priority=priority
    )
    done = False
    try:
        while True:
            status, ds = await _response(assoc, msg_id, pc)
            done = status.category != "Pending"
            yield status, ds
            if done:
                return
    finally:
        if not done and assoc.is_established:
            await send_cancel(assoc, pc, msg_id)
            while (await _response(assoc, msg_id, pc))[0].category == "Pending":
                pass


def find_sync(
    assoc: AsyncAssociation, identifier: Dataset, model: str = "study", *, priority: int = 0
) -> Iterator[tuple[Status, Dataset | None]]:
    """C-FIND over a blocking association: :func:`c_find`, step by step."""
    return iterate_sync(c_find(assoc, identifier, model, priority=priority))


# -- SCP ----------------------------------------------------------------------------------
async def iterate(result: Any) -> AsyncGenerator[Any, None]:
    """Items of a handler's result: an async iterable, or a plain iterable
    consumed in a worker thread (queries may block) that runs at most
    ``BATCH`` items ahead; each item is passed on as soon as it exists."""
    if result is None:
        return
    if hasattr(result, "__aiter__"):
        async for item in result:
            yield item
        return
    if isinstance(result, list | tuple):
        for item in result:
            yield item
        return
    it = iter(result)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[bool, Any]] = asyncio.Queue()
    slots = threading.Semaphore(BATCH)
    stop = threading.Event()

    def put(ok: bool, item: Any) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, (ok, item))
        except RuntimeError:  # the loop is gone (server shut down)
            pass

    def produce() -> None:
        try:
            for item in it:
                slots.acquire()
                if stop.is_set():
                    break
                put(True, item)
            put(False, None)
        except BaseException as e:  # noqa: BLE001 - re-raised on the loop
            put(False, e)
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # noqa: BLE001
                    log.exception("closing a handler's generator failed")

    producer = loop.run_in_executor(None, produce)
    try:
        while True:
            ok, item = await queue.get()
            if not ok:
                if item is not None:
                    raise item
                return
            slots.release()
            yield item
    finally:
        stop.set()
        slots.release()
        if producer.done():
            producer.result()


def failure_status(exc: BaseException) -> Status:
    """The status for a handler's exception (``exc.status`` when it has one)."""
    code = getattr(exc, "status", None)
    comment = getattr(exc, "comment", None) or str(exc)
    command: dict[int, Any] = {dimse.ERROR_COMMENT: comment[:64]}
    tag = getattr(exc, "tag", None)
    if isinstance(tag, int):
        command[dimse.OFFENDING_ELEMENT] = [tag]
    return Status(int(code) if isinstance(code, (int, Status)) else UNABLE_TO_PROCESS, command)


def response_extra(status: Any) -> dict[int, Any]:
    """Error Comment / Offending Element carried by a :class:`Status`."""
    out: dict[int, Any] = {}
    cmd = getattr(status, "command", None) or {}
    for tag in (dimse.ERROR_COMMENT, dimse.OFFENDING_ELEMENT):
        if cmd.get(tag) not in (None, "", []):
            out[tag] = cmd[tag]
    if dimse.ERROR_COMMENT in out:
        out[dimse.ERROR_COMMENT] = str(out[dimse.ERROR_COMMENT])[:64]
    return out


def request_identifier(
    pc: PresentationContext, msg: dimse.Message
) -> tuple[Dataset | None, Status | None]:
    """The request's identifier, or the failure status to answer with."""
    if msg.sink is None:
        return None, Status(UNABLE_TO_PROCESS, {dimse.ERROR_COMMENT: "no identifier"})
    try:
        ident = decode_identifier(
            msg.sink.buffer, pc.transfer_syntax or uids.ImplicitVRLittleEndian
        )
        len(ident)
        for _ in ident:  # decode every element now: malformed values fail here
            pass
        return ident, None
    except (DicomError, ValueError, UnicodeDecodeError) as e:
        return None, Status(
            UNABLE_TO_PROCESS, {dimse.ERROR_COMMENT: f"cannot decode the identifier: {e}"[:64]}
        )


async def handle(assoc: AsyncAssociation, pc: PresentationContext, msg: dimse.Message) -> None:
    """SCP: answer a C-FIND-RQ with the ``EVT_C_FIND`` handler's results."""
    command = msg.command
    msg_id = int(command.get(dimse.MESSAGE_ID, 0))
    sop_class = command.get(dimse.AFFECTED_SOP_CLASS_UID) or pc.abstract_syntax
    ts = pc.transfer_syntax or uids.ImplicitVRLittleEndian
    cid = pc.context_id or msg.context_id

    async def respond(
        status: int | Status, ident: Dataset | None = None, extra: Any = None
    ) -> None:
        rsp: dict[int, Any] = {
            dimse.AFFECTED_SOP_CLASS_UID: sop_class,
            dimse.COMMAND_FIELD: dimse.C_FIND_RSP,
            dimse.MESSAGE_ID_BEING_RESPONDED_TO: msg_id,
            dimse.COMMAND_DATA_SET_TYPE: dimse.NO_DATA_SET
            if ident is None
            else dimse.DATA_SET_PRESENT,
            dimse.STATUS: int(status),
        }
        rsp.update(response_extra(extra))
        await assoc.send_message(cid, rsp, None if ident is None else encode_identifier(ident, ts))

    ident, bad = request_identifier(pc, msg)
    if bad is not None:
        await respond(bad, extra=bad)
        return
    server = assoc.server
    if server is None or not server.has_handler(EVT_C_FIND):
        await respond(
            UNABLE_TO_PROCESS, extra=Status(0xC000, {dimse.ERROR_COMMENT: "no C-FIND handler"})
        )
        return
    event = Event(EVT_C_FIND, assoc, pc, command)
    event._dataset = ident
    event.cancelled = lambda: msg_id in assoc.cancelled_ids
    final: Any = dimse.SUCCESS
    try:
        result = await assoc.trigger(EVT_C_FIND, event, None)
        if inspect.isawaitable(result):
            result = await result
        async with aclosing(iterate(result)) as items:
            async for item in items:
                if await assoc.poll_cancel(msg_id):
                    final = dimse.CANCEL
                    break
                status, ds = _pair(item)
                if dimse.status_category(int(status)) == "Pending":
                    if ds is not None:
                        await respond(status, ds)
                    continue
                final = status
                break
            else:
                if await assoc.poll_cancel(msg_id):
                    final = dimse.CANCEL
    except NetworkError:
        raise
    except Exception as e:  # noqa: BLE001 - a handler's failure is a status for the peer
        if not hasattr(e, "status"):
            log.exception("EVT_C_FIND handler failed")
        final = failure_status(e)
    assoc.cancelled_ids.discard(msg_id)
    await respond(final, extra=final)


def _pair(item: Any) -> tuple[Any, Any]:
    if isinstance(item, tuple) and len(item) == 2:
        return item[0], item[1]
    if isinstance(item, (int, Status)):
        return item, None
    return dimse.PENDING, item  # a bare Dataset is a pending result
