"""Storage service (PS3.4 Annex B, PS3.7 §9.1.1): C-STORE SCU and SCP.

SCU: a file is memory-mapped by :func:`dicomfast.read` and, when the peer
accepted its transfer syntax, its data set bytes (everything after the file
meta group) are sent as they are.  Otherwise a native (uncompressed) data set
is re-encoded for an accepted native syntax; a compressed one the peer did not
accept raises :class:`~dicomfast.errors.PresentationContextError`.

SCP: data set fragments go straight to a temporary file of the storage folder
(see :mod:`dicomfast.net.storage`) or, without storage, to memory for the
``EVT_C_STORE`` handler.
"""

from __future__ import annotations

import asyncio
import logging
import os
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ... import uid as uids
from ...errors import DicomError, NetworkError, PresentationContextError
from .. import dimse
from ..contexts import PresentationContext
from ..dimse import Status
from ..events import EVT_C_STORE, EVT_STORED, Event
from ..storage import (
    DiscardSink,
    FileSink,
    MemorySink,
    StoreRefused,
    check_received,
    file_meta,
    is_valid_uid,
)

if TYPE_CHECKING:
    from concurrent.futures import Future

    from ...dataset import Dataset
    from ..association import AsyncAssociation

log = logging.getLogger("dicomfast.net")

#: Native syntaxes in the order we prefer to convert to.
_CONVERT_ORDER = (
    uids.ExplicitVRLittleEndian,
    uids.ImplicitVRLittleEndian,
    uids.DeflatedExplicitVRLittleEndian,
    uids.ExplicitVRBigEndian,
)


def _scan_uids(raw: Any, parent: int, first: int, second: int) -> tuple[str | None, str | None]:
    """Two UI values straight from the index (no element objects)."""
    got: dict[int, str] = {}
    for i in raw.children(parent):
        t = raw.tag(i)
        if t == first or t == second:
            v = raw.value(i)
            if isinstance(v, str):
                got[t] = v
        elif t > second:
            break
    return got.get(first), got.get(second)


def _file_uids(ds: Dataset) -> tuple[str | None, str | None]:
    raw = ds._raw
    sop_class, sop_instance = _scan_uids(raw, -1, 0x00080016, 0x00080018)
    if (not sop_class or not sop_instance) and raw.meta_nodes:
        meta_class, meta_instance = _scan_uids(raw, -2, 0x00020002, 0x00020003)
        sop_class, sop_instance = sop_class or meta_class, sop_instance or meta_instance
    return sop_class, sop_instance


def _uid_of(ds: Dataset, tag: int, meta_tag: int) -> str | None:
    elem = ds.get(tag)
    if elem is not None and elem.value:
        return str(elem.value)
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        m = meta.get(meta_tag)
        if m is not None and m.value:
            return str(m.value)
    return None


def _deflate(body: bytes) -> bytes:
    z = zlib.compressobj(6, zlib.DEFLATED, -15)
    return z.compress(body) + z.flush()


def encode_for(ds: Dataset, transfer_syntax: str) -> bytes:
    """A :class:`Dataset` (no file meta) encoded in ``transfer_syntax`` with the
    writer (elements unchanged since reading are copied by the core)."""
    from ...writer import encode_dataset

    explicit, be = uids.encoding_of(transfer_syntax)
    body = b"".join(encode_dataset(ds, explicit, be, file_body=True))
    if transfer_syntax == uids.DeflatedExplicitVRLittleEndian:
        body = _deflate(body)
    return body


def _encode_file(ds: Dataset, transfer_syntax: str) -> bytes:
    """A data set just read from a file, re-encoded by the Rust core in one call."""
    raw = ds._raw
    explicit, be = uids.encoding_of(transfer_syntax)
    pr = ds.get(0x00280103)
    pr = pr.value if pr is not None and isinstance(pr.value, int) else 0
    body = raw.encode(raw.children(-1), explicit, be, pr)
    if transfer_syntax == uids.DeflatedExplicitVRLittleEndian:
        body = _deflate(body)
    return body


def prepare(
    assoc: AsyncAssociation, source: Dataset | str | os.PathLike[str]
) -> tuple[PresentationContext, str, str, Any]:
    """Choose the presentation context and the bytes to send for ``source``:
    ``(context, sop_class_uid, sop_instance_uid, body)``.

    A file whose syntax was accepted is sent as its own bytes (a view of the
    memory map, after the file meta group); a :class:`Dataset` is encoded.
    """
    from ...dataset import Dataset
    from ...reader import read

    from_file = not isinstance(source, Dataset)
    ds: Dataset = source if isinstance(source, Dataset) else read(source)
    where = None if isinstance(source, Dataset) else os.fspath(source)
    if from_file:
        sop_class, sop_instance = _file_uids(ds)
        file_ts = ds._raw.transfer_syntax or uids.ExplicitVRLittleEndian
    else:
        sop_class = _uid_of(ds, 0x00080016, 0x00020002)
        sop_instance = _uid_of(ds, 0x00080018, 0x00020003)
        file_ts = ds.transfer_syntax or uids.ExplicitVRLittleEndian
    if not sop_class or not sop_instance:
        raise PresentationContextError("the data set has no SOP Class/Instance UID", path=where)
    candidates = [c for c in assoc.accepted_contexts if c.abstract_syntax == sop_class]
    if not candidates:
        raise PresentationContextError(
            f"the peer accepted no presentation context for {uids.name_of(sop_class)}",
            path=where,
            peer=assoc.peer,
        )
    raw = ds._raw if from_file else None
    encode = _encode_file if from_file else encode_for
    exact = next((c for c in candidates if c.transfer_syntax == file_ts), None)
    if exact is not None:
        if raw is not None and not raw.deflated:
            body: Any = memoryview(raw.source)[raw.dataset_offset :]
            return exact, sop_class, sop_instance, body
        if uids.is_encapsulated(file_ts):
            from ...writer import encode_dataset

            body = b"".join(encode_dataset(ds, True, False, file_body=True))
            return exact, sop_class, sop_instance, body
        return exact, sop_class, sop_instance, encode(ds, file_ts)

    def accepted() -> str:
        # each accepted syntax named once (a class proposed in several contexts may be
        # accepted with the same syntax in each)
        return ", ".join(dict.fromkeys(uids.name_of(c.transfer_syntax or "") for c in candidates))

    if uids.is_encapsulated(file_ts):
        raise PresentationContextError(
            f"the peer accepted {accepted()} but not {uids.name_of(file_ts)} for "
            f"{uids.name_of(sop_class)}; compressed data is not converted",
            path=where,
            peer=assoc.peer,
        )
    for ts in _CONVERT_ORDER:
        pc = next((c for c in candidates if c.transfer_syntax == ts), None)
        if pc is not None:
            return pc, sop_class, sop_instance, encode(ds, ts)
    raise PresentationContextError(
        f"the peer accepted only {accepted()} for {uids.name_of(sop_class)}; "
        f"cannot convert from {uids.name_of(file_ts)}",
        path=where,
        peer=assoc.peer,
    )


async def _send_request(
    assoc: AsyncAssociation, prepared: tuple[PresentationContext, str, str, Any], priority: int
) -> int:
    """Send the C-STORE-RQ of a :func:`prepare`d instance; its message ID."""
    pc, sop_class, sop_instance, body = prepared
    msg_id = assoc.next_message_id()
    await assoc.send_message(
        pc.context_id or 0,
        {
            dimse.AFFECTED_SOP_CLASS_UID: sop_class,
            dimse.COMMAND_FIELD: dimse.C_STORE_RQ,
            dimse.MESSAGE_ID: msg_id,
            dimse.PRIORITY: priority,
            dimse.COMMAND_DATA_SET_TYPE: dimse.DATA_SET_PRESENT,
            dimse.AFFECTED_SOP_INSTANCE_UID: sop_instance,
        },
        body,
    )
    return msg_id


async def send_c_store(
    assoc: AsyncAssociation,
    source: Dataset | str | os.PathLike[str],
    *,
    priority: int = 0,
) -> Status:
    """Send one instance (a :class:`Dataset` or a file path); returns the status."""
    msg_id = await _send_request(assoc, prepare(assoc, source), priority)
    rsp = await assoc.wait_response(msg_id, "C-STORE")
    return Status(int(rsp.command.get(dimse.STATUS, 0xC000)), rsp.command)


def store_many_sync(
    assoc: AsyncAssociation,
    sources: Iterable[Dataset | str | os.PathLike[str]],
    *,
    priority: int = 0,
) -> Iterator[tuple[Any, Status | DicomError]]:
    """Send many instances on a blocking association, keeping up to the
    negotiated asynchronous operations window of requests outstanding (the
    next is sent while the peer stores the previous ones); yields ``(source,
    status)`` in the order given, or ``(source, error)`` for one that could
    not be sent (no acceptable context, unreadable).  A lost association
    yields ``(source, error)`` for the requests still unanswered, then raises."""
    from ..transport import run_sync

    window = max(1, assoc.max_invoked)
    # In the order given: (message ID, source), or (None, source, error) for one not sent.
    pending: deque[tuple[Any, ...]] = deque()
    outstanding = 0

    def answer() -> tuple[Any, Status | DicomError]:
        nonlocal outstanding
        head = pending[0]
        if head[0] is None:
            pending.popleft()
            return head[1], head[2]
        rsp = run_sync(assoc.wait_response(head[0], "C-STORE"))
        pending.popleft()
        outstanding -= 1
        return head[1], Status(int(rsp.command.get(dimse.STATUS, 0xC000)), rsp.command)

    try:
        for src in sources:
            try:
                prepared = prepare(assoc, src)
            except (DicomError, OSError) as e:
                err = e if isinstance(e, DicomError) else DicomError(str(e))
                if pending:
                    pending.append((None, src, err))
                else:
                    yield src, err
                continue
            msg_id = run_sync(_send_request(assoc, prepared, priority))
            pending.append((msg_id, src))
            outstanding += 1
            while outstanding >= window:
                yield answer()
        while pending:
            yield answer()
    except NetworkError as e:
        for entry in pending:
            yield entry[1], (e if entry[0] is not None else entry[2])
        raise
    except GeneratorExit:  # the caller stopped early: collect the answers still due
        while pending:
            try:
                answer()
            except NetworkError:
                break
        raise


# -- SCP ---------------------------------------------------------------------------
def open_sink(assoc: AsyncAssociation, pc: PresentationContext, command: dict[int, Any]) -> Any:
    """Where the data set of a C-STORE-RQ goes, decided when its command arrives."""
    sop_class = command.get(dimse.AFFECTED_SOP_CLASS_UID)
    sop_instance = command.get(dimse.AFFECTED_SOP_INSTANCE_UID)
    if not isinstance(sop_class, str) or sop_class != pc.abstract_syntax:
        return DiscardSink(
            dimse.ERROR_DATASET_MISMATCH,
            f"SOP class {sop_class} does not match the presentation context",
        )
    if not is_valid_uid(sop_instance):
        return DiscardSink(
            dimse.ERROR_CANNOT_UNDERSTAND, f"invalid Affected SOP Instance UID {sop_instance!r}"
        )
    ts = pc.transfer_syntax or uids.ImplicitVRLittleEndian
    storage = assoc.server.storage if assoc.server is not None else None
    if storage is not None:
        try:
            return storage.open(sop_class, sop_instance, ts, assoc.remote_ae_title or None)
        except (OSError, ValueError) as e:
            return DiscardSink(dimse.REFUSED_OUT_OF_RESOURCES, f"cannot store: {e}")
    return MemorySink(file_meta(sop_class, sop_instance, ts, assoc.remote_ae_title or None))


def _alone(assoc: AsyncAssociation) -> bool:
    """Whether the association is the server's only one (none waiting either) and
    has a window of one: its sender waits for each answer, and nobody else waits for
    the loop, so its instances are written and flushed on the loop itself."""
    server = assoc.server
    return server is not None and assoc.window <= 1 and server.active <= 1 and not server.pending


def _acceptable(status: int) -> bool:
    return dimse.status_category(status) in ("Success", "Warning")


async def handle(assoc: AsyncAssociation, pc: PresentationContext, msg: dimse.Message) -> None:
    """SCP: finish a received C-STORE and answer it."""
    sink = msg.sink
    command = msg.command
    comment: str | None = None
    server = assoc.server
    if isinstance(sink, FileSink) and _alone(assoc):
        sink.inline = True
    if not isinstance(sink, DiscardSink):
        try:
            check_received(
                await sink.checked_header() if isinstance(sink, FileSink) else sink.header(),
                command.get(dimse.AFFECTED_SOP_CLASS_UID, ""),
                command.get(dimse.AFFECTED_SOP_INSTANCE_UID, ""),
            )
        except StoreRefused as e:
            log.warning("%s: C-STORE refused: %s", assoc.peer, e)
            sink.discard()
            sink = DiscardSink(e.status, str(e))
    if isinstance(sink, DiscardSink):
        status, comment = sink.status, sink.comment
    else:
        event = Event(EVT_C_STORE, assoc, pc, command)
        if isinstance(sink, FileSink):
            event.path = sink.temp_path
        elif isinstance(sink, MemorySink):
            event.encoded = sink.data()  # the copy the UID check already made
        has_handler = server is not None and server.has_handler(EVT_C_STORE)
        try:
            if has_handler:
                if isinstance(sink, FileSink):
                    sink.written()  # the handler may read event.path
                status = dimse.code_of(await assoc.trigger(EVT_C_STORE, event, 0))
            elif isinstance(sink, FileSink):
                status = dimse.SUCCESS
            else:
                status, comment = dimse.REFUSED_OUT_OF_RESOURCES, "no storage configured"
        except Exception as e:  # noqa: BLE001 - reported to the peer as a failure status
            log.exception("EVT_C_STORE handler failed")
            status, comment = 0xC001, f"handler failed: {e}"[:64]
        if isinstance(sink, FileSink):
            if not _acceptable(status):
                sink.discard()
            elif sink.storage.fsync and assoc.window > 1:
                # The peer may send more while this one is made durable: commit in
                # the background and answer in turn (see AsyncAssociation.answer_in_turn),
                # so the flushes of a window of instances overlap with receiving.
                commit = _commit(assoc, pc, command, sink)

                async def finish() -> tuple[int, str | None]:
                    got = await commit
                    return got if got is not None else (status, comment)

                await assoc.answer_in_turn(
                    finish(), lambda result: _answer(assoc, pc, msg, *result)
                )
                return
            else:
                refused = await _commit(assoc, pc, command, sink)
                if refused is not None:
                    status, comment = refused
    await _answer(assoc, pc, msg, status, comment)


async def _commit(
    assoc: AsyncAssociation, pc: PresentationContext, command: dict[int, Any], sink: FileSink
) -> tuple[int, str] | None:
    """Make an accepted instance durable under its final name; the failure status
    and comment to answer instead, or None."""
    server = assoc.server
    try:
        if sink.storage.fsync:
            # fsync takes milliseconds: off the loop, by the storage's writer thread,
            # which makes the instances waiting together durable as a group
            # (an archive indexes later, in its own thread, so without fsync a
            # commit is quick)
            if sink.inline:
                path = sink.storage.commit_now(sink)
            else:
                path = await sink.storage.commit_in_group(sink)
        else:
            path = sink.commit()
        if server is not None:
            if sink.placed is None:
                ev = Event(EVT_STORED, assoc, pc, command, stored_path=path)
                await server.notify(EVT_STORED, ev)
            else:  # durable in its intake file, answered now, named later: the event then
                _stored_later(assoc, pc, command, sink.placed)
    except StoreRefused as e:
        sink.discard()
        return e.status, str(e)[:64]
    except (OSError, DicomError) as e:
        sink.discard()
        return dimse.REFUSED_OUT_OF_RESOURCES, f"cannot store: {e}"[:64]
    return None


#: Tasks waiting for an instance's final name (kept referenced until done).
_WAITING: set[asyncio.Task[None]] = set()


def _stored_later(
    assoc: AsyncAssociation,
    pc: PresentationContext,
    command: dict[int, Any],
    placed: Future[str],
) -> None:
    """Fire EVT_STORED once the acknowledged instance has its final name (none if
    it could not be named: it stays in its intake file, recovered when the
    storage opens again, and the storage logged why)."""
    server = assoc.server
    if server is None or not server.has_handler(EVT_STORED):
        return  # no task, and no wake-up of the loop from the placer, per instance

    async def wait() -> None:
        try:
            path = await asyncio.wrap_future(placed)
        except Exception:  # noqa: BLE001 - logged by the storage
            return
        await server.notify(EVT_STORED, Event(EVT_STORED, assoc, pc, command, stored_path=path))

    task = asyncio.ensure_future(wait())
    _WAITING.add(task)
    task.add_done_callback(_WAITING.discard)


async def _answer(
    assoc: AsyncAssociation,
    pc: PresentationContext,
    msg: dimse.Message,
    status: int,
    comment: str | None,
) -> None:
    """Send the C-STORE-RSP of ``msg``."""
    command = msg.command
    rsp: dict[int, Any] = {
        dimse.AFFECTED_SOP_CLASS_UID: command.get(dimse.AFFECTED_SOP_CLASS_UID, pc.abstract_syntax),
        dimse.COMMAND_FIELD: dimse.C_STORE_RSP,
        dimse.MESSAGE_ID_BEING_RESPONDED_TO: command.get(dimse.MESSAGE_ID, 0),
        dimse.COMMAND_DATA_SET_TYPE: dimse.NO_DATA_SET,
        dimse.STATUS: status,
    }
    inst = command.get(dimse.AFFECTED_SOP_INSTANCE_UID)
    if isinstance(inst, str):
        rsp[dimse.AFFECTED_SOP_INSTANCE_UID] = inst
    if comment:
        rsp[dimse.ERROR_COMMENT] = comment[:64]
    await assoc.send_message(pc.context_id or msg.context_id, rsp)
