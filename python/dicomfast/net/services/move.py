"""Retrieve with C-MOVE (PS3.4 C.4.2, PS3.7 §9.1.4): SCU and SCP.

SCP: the ``EVT_C_MOVE`` handler receives the identifier and
``event.move_destination`` and returns (or yields), in this order:

1. the destination's ``(host, port)``, or ``None`` when the AE title is
   unknown (answered with 0xA801, Move Destination unknown);
2. the number of sub-operations (an ``int``);
3. the instances to send: file paths, :class:`~dicomfast.Dataset` objects,
   or objects with a ``path`` attribute (:class:`dicomfast.archive.InstanceRef`),
   each optionally as ``(0xFF00, instance)``; a non-pending ``(status, None)``
   stops with that status.

The instances go to the destination over a new association (C-STORE
sub-operations carrying Move Originator AE Title and Message ID): a stored
file is sent as its own bytes when the destination accepts its transfer
syntax, converted otherwise (:func:`dicomfast.net.services.store.prepare`).
After each sub-operation a Pending response gives the Number of Remaining,
Completed, Failed and Warning Sub-operations; the final status is Success
(0x0000, no failures or warnings), Warning 0xB000 (some failed or warned),
0xA702 (all failed), or Cancel 0xFE00 after a C-CANCEL-RQ.  A final
response that reports failures carries an identifier with the Failed SOP
Instance UID List (0008,0058).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ... import uid as uids
from ...errors import DicomError, NetworkError, PresentationContextError
from .. import dimse
from ..contexts import DEFAULT_TRANSFER_SYNTAXES, PresentationContext
from ..dimse import Status
from ..events import EVT_C_MOVE, Event
from ..transport import iterate_sync
from . import find as qr
from . import store

if TYPE_CHECKING:
    from ...dataset import Dataset
    from ..association import AsyncAssociation

log = logging.getLogger("dicomfast.net")

MOVE_DESTINATION_UNKNOWN = 0xA801
SUBOPS_FAILED = 0xA702
SUBOPS_WARNING = 0xB000
FAILED_SOP_INSTANCE_UID_LIST = 0x00080058


# -- the AE configuration file -------------------------------------------------------------
def load_ae_config(path: str | os.PathLike[str]) -> dict[str, tuple[str, int]]:
    """``--ae-config FILE``: AE title → (host, port).

    JSON: ``{"STORESCP": ["127.0.0.1", 11113]}``.  INI: one section per AE
    title with ``host`` and ``port``, or ``AET = host:port`` lines in an
    ``[aets]`` section."""
    text = open(path, encoding="utf-8").read()
    out: dict[str, tuple[str, int]] = {}
    if text.lstrip().startswith("{"):
        for aet, value in json.loads(text).items():
            if isinstance(value, dict):
                host, port = value["host"], value["port"]
            else:
                host, port = value
            out[aet.strip()] = (str(host), int(port))
        return out
    import configparser

    cp = configparser.ConfigParser()
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    cp.read_string(text)
    for section in cp.sections():
        if "host" in cp[section]:
            out[section.strip()] = (cp[section]["host"], int(cp[section]["port"]))
        else:
            for aet, hp in cp[section].items():
                host, _, port = hp.rpartition(":")
                out[aet.strip()] = (host, int(port))
    return out


# -- sources and contexts -----------------------------------------------------------------
@dataclass
class _Source:
    source: Any  # path or Dataset
    sop_class: str
    sop_instance: str
    transfer_syntax: str


def _describe(item: Any) -> _Source:
    from ...dataset import Dataset
    from ...reader import read

    if isinstance(item, Dataset):
        ts = item.transfer_syntax or uids.ExplicitVRLittleEndian
        return _Source(
            item, str(item.get("SOPClassUID", "")), str(item.get("SOPInstanceUID", "")), ts
        )
    if hasattr(item, "path") and hasattr(item, "sop_class_uid"):
        return _Source(
            item.path,
            item.sop_class_uid,
            item.sop_instance_uid,
            getattr(item, "transfer_syntax_uid", None) or uids.ExplicitVRLittleEndian,
        )
    path = os.fspath(item)
    ds = read(path, stop_before_pixels=True)
    meta = ds.file_meta
    sop_class = (meta.get("MediaStorageSOPClassUID") if meta else None) or ds.get("SOPClassUID")
    sop_inst = (meta.get("MediaStorageSOPInstanceUID") if meta else None) or ds.get(
        "SOPInstanceUID"
    )
    return _Source(
        path,
        str(sop_class or ""),
        str(sop_inst or ""),
        ds.transfer_syntax or uids.ExplicitVRLittleEndian,
    )


def contexts_for(sources: Sequence[_Source]) -> list[PresentationContext]:
    """Presentation contexts to propose for ``sources``: per SOP class, one for
    each stored transfer syntax and one for the native syntaxes we convert to
    (at most 128 in all)."""
    out: list[PresentationContext] = []
    seen: set[tuple[str, str]] = set()
    for s in sources:
        for key in ((s.sop_class, s.transfer_syntax), (s.sop_class, "")):
            if key in seen or not s.sop_class:
                continue
            seen.add(key)
            ts = [key[1]] if key[1] else list(DEFAULT_TRANSFER_SYNTAXES)
            if key[1] in DEFAULT_TRANSFER_SYNTAXES:
                continue
            out.append(PresentationContext(s.sop_class, ts))
    out.sort(key=lambda c: (c.abstract_syntax, len(c.transfer_syntaxes or [])))
    return out[:128]


@dataclass
class Counts:
    remaining: int = 0
    completed: int = 0
    failed: int = 0
    warning: int = 0
    failed_uids: list[str] = field(default_factory=list)

    def command(self, final: bool) -> dict[int, Any]:
        out = {
            dimse.NUMBER_OF_COMPLETED_SUBOPERATIONS: self.completed,
            dimse.NUMBER_OF_FAILED_SUBOPERATIONS: self.failed,
            dimse.NUMBER_OF_WARNING_SUBOPERATIONS: self.warning,
        }
        if not final:
            out[dimse.NUMBER_OF_REMAINING_SUBOPERATIONS] = self.remaining
        return out

    def final_status(self) -> int:
        if self.failed and not self.completed and not self.warning:
            return SUBOPS_FAILED
        if self.failed or self.warning:
            return SUBOPS_WARNING
        return dimse.SUCCESS

    def count(self, status: int, uid: str) -> None:
        self.remaining -= 1
        cat = dimse.status_category(status)
        if cat == "Success":
            self.completed += 1
        elif cat == "Warning":
            self.warning += 1
        else:
            self.failed += 1
            self.failed_uids.append(uid)


def failed_identifier(counts: Counts) -> Dataset | None:
    if not counts.failed_uids:
        return None
    from ...dataset import Dataset
    from ...element import DataElement

    ds = Dataset()
    uids_ = [u for u in counts.failed_uids if u]
    ds[FAILED_SOP_INSTANCE_UID_LIST] = DataElement(
        FAILED_SOP_INSTANCE_UID_LIST, "UI", uids_ if len(uids_) != 1 else uids_[0]
    )
    return ds


async def store_sub_operation(
    sub: AsyncAssociation,
    src: _Source,
    contexts: list[PresentationContext] | None = None,
    *,
    originator: tuple[str, int] | None = None,
) -> int:
    """One C-STORE sub-operation; its status (failures are statuses)."""
    view = sub if contexts is None else _ContextView(sub, contexts)
    try:
        try:
            pc, sop_class, sop_inst, body = store.prepare(view, src.source)  # type: ignore[arg-type]
        except PresentationContextError:
            if not uids.is_encapsulated(src.transfer_syntax):
                raise
            # The peer takes no compressed syntax for it: send it decompressed.
            native = _decompressed(src.source)
            pc, sop_class, sop_inst, body = store.prepare(view, native)  # type: ignore[arg-type]
    except (DicomError, OSError, ValueError) as e:
        log.warning("cannot send %s: %s", src.sop_instance, e)
        return 0xA900 if not isinstance(e, OSError) else 0xA700
    msg_id = sub.next_message_id()
    command = {
        dimse.AFFECTED_SOP_CLASS_UID: sop_class,
        dimse.COMMAND_FIELD: dimse.C_STORE_RQ,
        dimse.MESSAGE_ID: msg_id,
        dimse.PRIORITY: 0,
        dimse.COMMAND_DATA_SET_TYPE: dimse.DATA_SET_PRESENT,
        dimse.AFFECTED_SOP_INSTANCE_UID: sop_inst,
    }
    if originator is not None:
        command[dimse.MOVE_ORIGINATOR_AET] = originator[0]
        command[dimse.MOVE_ORIGINATOR_MESSAGE_ID] = originator[1]
    await sub.send_message(pc.context_id or 0, command, body)
    rsp = await sub.wait_response(msg_id, "C-STORE")
    return int(rsp.command.get(dimse.STATUS, 0xC000))


def _decompressed(source: Any) -> Dataset:
    from ...dataset import Dataset
    from ...reader import read

    ds = source if isinstance(source, Dataset) else read(source)
    return ds.decompress()


class _ContextView:
    """An association seen through a subset of its contexts (C-GET: those
    where the peer took the SCP role)."""

    def __init__(self, assoc: AsyncAssociation, contexts: list[PresentationContext]) -> None:
        self.accepted_contexts = contexts
        self.peer = assoc.peer


async def collect(result: Any) -> list[Any]:
    return [item async for item in qr.iterate(result)]


# -- SCP ----------------------------------------------------------------------------------
Responder = Callable[..., Awaitable[None]]


async def start_retrieve(
    assoc: AsyncAssociation,
    pc: PresentationContext,
    msg: dimse.Message,
    event_type: Any,
    response_field: int,
) -> tuple[Event, Responder, int, list[Any]] | None:
    """What C-MOVE and C-GET SCPs share: check the request, run the handler,
    collect what it returns.  None when a final failure was already sent."""
    command = msg.command
    msg_id = int(command.get(dimse.MESSAGE_ID, 0))
    sop_class = command.get(dimse.AFFECTED_SOP_CLASS_UID) or pc.abstract_syntax
    ts = pc.transfer_syntax or uids.ImplicitVRLittleEndian
    cid = pc.context_id or msg.context_id
    name = "C-MOVE" if response_field == dimse.C_MOVE_RSP else "C-GET"

    async def respond(status: Any, counts: Counts | None, final: bool, ident: Any = None) -> None:
        rsp: dict[int, Any] = {
            dimse.AFFECTED_SOP_CLASS_UID: sop_class,
            dimse.COMMAND_FIELD: response_field,
            dimse.MESSAGE_ID_BEING_RESPONDED_TO: msg_id,
            dimse.COMMAND_DATA_SET_TYPE: dimse.NO_DATA_SET
            if ident is None
            else dimse.DATA_SET_PRESENT,
            dimse.STATUS: int(status),
        }
        if counts is not None:
            rsp.update(counts.command(final and int(status) != dimse.CANCEL))
        rsp.update(qr.response_extra(status))
        body = None if ident is None else qr.encode_identifier(ident, ts)
        await assoc.send_message(cid, rsp, body)

    ident, bad = qr.request_identifier(pc, msg)
    if bad is not None:
        await respond(bad, None, True)
        return None
    server = assoc.server
    if server is None or not server.has_handler(event_type):
        await respond(Status(0xC000, {dimse.ERROR_COMMENT: f"no {name} handler"}), None, True)
        return None
    event = Event(event_type, assoc, pc, command)
    event._dataset = ident
    event.cancelled = lambda: msg_id in assoc.cancelled_ids
    try:
        items = await collect(await _awaited(await assoc.trigger(event_type, event, None)))
    except NetworkError:
        raise
    except Exception as e:  # noqa: BLE001 - a status for the peer
        if not hasattr(e, "status"):
            log.exception("EVT_%s handler failed", name.replace("-", "_"))
        await respond(qr.failure_status(e), None, True)
        return None
    return event, respond, msg_id, items


async def handle(assoc: AsyncAssociation, pc: PresentationContext, msg: dimse.Message) -> None:
    """SCP: a C-MOVE-RQ; sub-operations over a new association to the destination."""
    started = await start_retrieve(assoc, pc, msg, EVT_C_MOVE, dimse.C_MOVE_RSP)
    if started is None:
        return
    event, respond, msg_id, items = started
    if not items or items[0] is None:
        await respond(
            Status(
                MOVE_DESTINATION_UNKNOWN,
                {dimse.ERROR_COMMENT: f"unknown destination {event.move_destination!r}"[:64]},
            ),
            None,
            True,
        )
        return
    dest = items[0]
    if (
        isinstance(dest, tuple)
        and len(dest) == 2
        and isinstance(dest[1], int)
        and not isinstance(dest[0], int)
    ):
        host, port = dest
    else:
        await respond(
            Status(0xC000, {dimse.ERROR_COMMENT: "bad destination from handler"}), None, True
        )
        return
    rest = items[1:]
    if rest and isinstance(rest[0], int) and not isinstance(rest[0], bool):
        rest = rest[1:]  # the announced count: we count what is given
    await run_sub_operations(
        assoc,
        msg_id,
        rest,
        respond,
        connect=lambda ctxs: assoc.ae.associate_async(
            host, port, ae_title=event.move_destination or "ANY-SCP", contexts=ctxs
        ),
        originator=(assoc.remote_ae_title, msg_id),
    )


async def _awaited(value: Any) -> Any:
    if hasattr(value, "__await__"):
        return await value
    return value


async def run_sub_operations(
    assoc: AsyncAssociation,
    msg_id: int,
    items: list[Any],
    respond: Any,
    *,
    connect: Any = None,
    contexts: list[PresentationContext] | None = None,
    originator: tuple[str, int] | None = None,
) -> None:
    """Send ``items`` as C-STORE sub-operations (over ``connect(contexts)`` for
    C-MOVE, on ``assoc`` itself with ``contexts`` for C-GET), with Pending
    responses, then the final one."""
    sources: list[_Source] = []
    stop_status: Any = None
    counts = Counts()
    for item in items:
        if isinstance(item, tuple) and len(item) == 2:
            status, item = item
            if dimse.status_category(int(status)) != "Pending":
                stop_status = status
                break
        if item is None:
            continue
        try:
            sources.append(_describe(item))
        except (DicomError, OSError, ValueError) as e:
            log.warning("cannot read %s: %s", item, e)
            counts.failed += 1
            counts.failed_uids.append("")
    counts.remaining = len(sources)
    if stop_status is not None and not sources:
        await respond(stop_status, counts, True)
        return
    sub = assoc
    if connect is not None and sources:
        try:
            sub = await connect(contexts_for(sources))
        except NetworkError as e:
            log.warning("C-MOVE: cannot associate with the destination: %s", e)
            counts.failed += len(sources)
            counts.failed_uids += [s.sop_instance for s in sources]
            counts.remaining = 0
            await respond(
                Status(SUBOPS_FAILED, {dimse.ERROR_COMMENT: f"destination: {e}"[:64]}),
                counts,
                True,
                failed_identifier(counts),
            )
            return
    cancelled = False
    try:
        for i, src in enumerate(sources):
            if await assoc.poll_cancel(msg_id):
                cancelled = True
                break
            try:
                status = await store_sub_operation(sub, src, contexts, originator=originator)
            except NetworkError as e:
                if sub is assoc:
                    raise
                log.warning("C-MOVE sub-operation failed: %s", e)
                for s in sources[i:]:
                    counts.count(0xA700, s.sop_instance)
                break
            counts.count(status, src.sop_instance)
            if counts.remaining:
                await respond(dimse.PENDING, counts, False)
    finally:
        if sub is not assoc:
            try:
                await sub.release()
            except NetworkError:
                await sub.abort()
    assoc.cancelled_ids.discard(msg_id)
    if cancelled:
        await respond(dimse.CANCEL, counts, True, failed_identifier(counts))
        return
    final = stop_status if stop_status is not None else counts.final_status()
    await respond(final, counts, True, failed_identifier(counts))


# -- SCU ----------------------------------------------------------------------------------
async def c_move(
    assoc: AsyncAssociation,
    identifier: Dataset,
    destination: str,
    model: str = "study",
    *,
    priority: int = 0,
) -> AsyncIterator[tuple[Status, Dataset | None]]:
    """C-MOVE (asyncio): ``(status, identifier or None)`` for every response."""
    sop_class = qr.sop_class_for("move", model)
    msg_id, pc = await qr.send_request(
        assoc,
        dimse.C_MOVE_RQ,
        identifier,
        sop_class,
        priority=priority,
        extra={dimse.MOVE_DESTINATION: destination},
    )
    while True:
        rsp = await assoc.wait_response(msg_id, "C-MOVE")
        status = qr.status_of(rsp)
        yield status, qr.identifier_of(rsp, pc)
        if status.category != "Pending":
            return


def move_sync(
    assoc: AsyncAssociation,
    identifier: Dataset,
    destination: str,
    model: str = "study",
    *,
    priority: int = 0,
) -> Iterator[tuple[Status, Dataset | None]]:
    """C-MOVE over a blocking association: :func:`c_move`, step by step."""
    return iterate_sync(c_move(assoc, identifier, destination, model, priority=priority))
