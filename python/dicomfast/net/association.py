"""One association over one transport connection: the PS3.8 state machine
driven by the PDUs read, A-ASSOCIATE / A-RELEASE / A-ABORT handling and the
DIMSE message exchange.

:class:`AsyncAssociation` holds the protocol as coroutines.  Over asyncio
streams it is the server's one task per association (and the asyncio client
API); over a blocking socket those coroutines never suspend, and
:class:`Association`, the blocking facade returned by
:meth:`dicomfast.net.AE.associate`, runs them without an event loop.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from .. import _core
from .. import uid as uids
from ..errors import (
    AssociationAborted,
    AssociationRejected,
    DicomError,
    DimseTimeout,
    NetworkError,
    PduError,
)
from . import dimse, events
from .contexts import (
    MAX_ASSOCIATE_PDU,
    PresentationContext,
    apply_acceptance,
    fragment_size,
    negotiate,
    requested_contexts,
    role_items,
)
from .dimse import MessageAssembler, Status
from .events import (
    EVT_ABORTED,
    EVT_ACCEPTED,
    EVT_REJECTED,
    EVT_RELEASED,
    Event,
    EventType,
)
from .services import echo, find, get, move, normalized, registry, store
from .statemachine import Event as E
from .statemachine import State, StateMachine
from .storage import MemorySink
from .transport import Closed as _Closed
from .transport import SocketTransport, StreamTransport, run_sync

if TYPE_CHECKING:
    from ..dataset import Dataset
    from .ae import AE, _ServerState

log = logging.getLogger("dicomfast.net")
#: The exception class of ``AsyncAssociation._error`` (its result has that type).
_E = TypeVar("_E", bound=DicomError)
_T = TypeVar("_T")

A_ASSOCIATE_RQ, A_ASSOCIATE_AC, A_ASSOCIATE_RJ, P_DATA_TF = 1, 2, 3, 4
A_RELEASE_RQ, A_RELEASE_RP, A_ABORT = 5, 6, 7

_EVENT_OF_PDU = {
    A_ASSOCIATE_RQ: E.EVT6,
    A_ASSOCIATE_AC: E.EVT3,
    A_ASSOCIATE_RJ: E.EVT4,
    P_DATA_TF: E.EVT10,
    A_RELEASE_RQ: E.EVT12,
    A_RELEASE_RP: E.EVT13,
    A_ABORT: E.EVT16,
}

#: A-ASSOCIATE-RJ reasons (PS3.8 Table 9-21), by (source, reason).
REJECT_REASONS = {
    (1, 1): "no reason given",
    (1, 2): "application context name not supported",
    (1, 3): "calling AE title not recognized",
    (1, 7): "called AE title not recognized",
    (2, 1): "no reason given (ACSE)",
    (2, 2): "protocol version not supported",
    (3, 1): "temporary congestion",
    (3, 2): "local limit exceeded",
}
ABORT_SOURCES = {0: "service user", 1: "reserved", 2: "service provider"}
ABORT_REASONS = {
    0: "reason not specified",
    1: "unrecognized PDU",
    2: "unexpected PDU",
    4: "unrecognized PDU parameter",
    5: "unexpected PDU parameter",
    6: "invalid PDU parameter value",
}

#: Bodies above this size are fragmented and written in pieces of about this size.
SEND_CHUNK = 4 << 20


#: Requests of the peer kept while we wait for a response (beyond: dropped).
MAX_QUEUED_REQUESTS = 256


_DIMSE_NAMES = {
    v: k.replace("_RQ", "-RQ").replace("_RSP", "-RSP").replace("_", "-")
    for k, v in vars(dimse).items()
    if k.endswith(("_RQ", "_RSP")) and isinstance(v, int)
}


def dimse_summary(context_id: int, command: dict[int, Any], body: Any = None) -> str:
    """One line for the DEBUG log: ``C-STORE-RQ (context 1, id 3, ...)``."""
    field = int(command.get(0x00000100, -1))
    parts = [f"context {context_id}"]
    for tag, name in (
        (0x00000110, "id"),
        (0x00000120, "responding to"),
        (0x00000002, "class"),
        (0x00001000, "instance"),
        (0x00000600, "move destination"),
    ):
        if tag in command:
            parts.append(f"{name} {command[tag]}")
    if 0x00000900 in command:
        parts.append(f"status 0x{int(command[0x00000900]):04X}")
    if body is not None:
        parts.append(f"{len(body)} bytes of data set")
    name = _DIMSE_NAMES.get(field, f"command 0x{field:04X}")
    return f"{name} ({', '.join(parts)})"


class _End(NamedTuple):
    """One end of an association as pynetdicom shows it: ``assoc.requestor`` / ``assoc.acceptor``."""

    ae_title: str
    address: str
    port: int


def _local_address(transport: Any) -> tuple[str, int]:
    sock = getattr(transport, "sock", None)
    if sock is None and hasattr(transport, "transport"):
        sock = transport.transport.get_extra_info("socket")
    try:
        name = sock.getsockname() if sock is not None else None
    except OSError:
        name = None
    return (str(name[0]), int(name[1])) if isinstance(name, tuple) else ("", 0)


class _Released(Exception):
    """Internal: the peer released the association (its reply already sent)."""

    def __init__(self, error: DicomError) -> None:
        super().__init__(str(error))
        self.error = error


def _describe_rj(result: int, source: int, reason: int) -> str:
    kind = {1: "permanent", 2: "transient"}.get(result, f"result {result}")
    why = REJECT_REASONS.get((source, reason), f"source {source} reason {reason}")
    return f"association rejected ({kind}): {why}"


class AsyncAssociation:
    """An association, requestor or acceptor side, over a transport (asyncio
    streams, or a blocking socket driven by :class:`Association`)."""

    def __init__(
        self,
        ae: AE,
        transport: StreamTransport | SocketTransport,
        *,
        requestor: bool,
        server: _ServerState | None = None,
    ) -> None:
        self.ae = ae
        self.transport = transport
        self.sm = StateMachine(requestor)
        self.server = server
        self.peer = transport.peer
        self.tls = transport.tls
        self.acse_timeout = ae.acse_timeout
        self.dimse_timeout = ae.dimse_timeout
        self.network_timeout = ae.network_timeout
        self.max_pdu = ae.maximum_pdu_size
        self.peer_max_pdu = 0
        self.local_ae_title = ae.ae_title
        self.remote_ae_title = ""
        self.called_ae_title = ""
        self.contexts: list[PresentationContext] = []
        self._by_id: dict[int, PresentationContext] = {}
        self.request: dict[str, Any] | None = None
        self.acceptance: dict[str, Any] | None = None
        self.is_released = False
        self.is_aborted = False
        self.is_rejected = False
        self._holds_slot = False  # acceptor: counted in the server's associations
        self._msg_id = 0
        self._send_pdu = 16384
        # Asynchronous Operations Window (PS3.7 D.3.3.3): how many requests this
        # side may have outstanding as the requestor; 1 unless negotiated.
        self.max_invoked = 1
        self._responses: dict[int, dimse.Message] = {}  # answered out of turn
        self._assembler = MessageAssembler(self._open_sink)
        self._closed = False
        #: Message IDs a C-CANCEL-RQ arrived for; messages read ahead while
        #: polling for one (see :meth:`poll_cancel`).
        self.cancelled_ids: set[int] = set()
        self._inbox: deque[dimse.Message] = deque()
        # Acceptor: the asynchronous operations window granted to the requestor
        # (1: one request at a time), and the answers that wait their turn.
        self.window = 1
        self._in_turn: deque[asyncio.Future[None]] = deque()
        self._early_pdu: tuple[int, Any, bytes] | None = None
        #: Requestor: N-EVENT-REPORTs the peer sent while we waited for a response,
        #: answered at once (Success) so that the peer is not kept waiting:
        #: ``(command, data set or None)``, oldest first (a printer's status, a
        #: storage commitment report).
        self.event_reports: deque[tuple[dict[int, Any], Dataset | None]] = deque()
        #: Requestor: handlers bound by ``AE.associate(..., evt_handlers=...)``
        #: (EVT_C_STORE for C-GET, EVT_N_EVENT_REPORT, the notification events).
        self.handlers: list[tuple[EventType, Any]] = []
        #: Whether a PDU/DIMSE notification handler is bound (checked per PDU).
        self._watch = server is not None and server.watching

    # -- information ----------------------------------------------------------
    @property
    def is_requestor(self) -> bool:
        return self.sm.requestor

    @property
    def is_established(self) -> bool:
        return self.sm.state == State.STA6

    @property
    def accepted_contexts(self) -> list[PresentationContext]:
        return [c for c in self.contexts if c.accepted]

    @property
    def rejected_contexts(self) -> list[PresentationContext]:
        return [c for c in self.contexts if not c.accepted]

    def __repr__(self) -> str:
        side = "requestor" if self.is_requestor else "acceptor"
        return (
            f"<AsyncAssociation {self.local_ae_title}->{self.remote_ae_title or '?'} "
            f"{self.peer} {side} {self.sm.state}>"
        )

    def _error(self, cls: type[_E], msg: str) -> _E:
        return cls(msg, peer=self.peer)

    # -- transport ------------------------------------------------------------
    async def _write(self, data: bytes) -> None:
        """Write; a peer that stops reading for the network timeout raises
        ``TimeoutError``, a lost connection ``_Closed``."""
        await self.transport.write(data, self.network_timeout)
        if self._watch:
            await self._notify(events.EVT_PDU_SENT, pdu=bytes(data))

    # -- pynetdicom's view of the two ends ------------------------------------------
    def _ends(self) -> tuple[_End, _End]:
        host, _, port = self.peer.rpartition(":")
        remote = _End(self.remote_ae_title.strip(), host, int(port) if port.isdigit() else 0)
        local = _End(self.local_ae_title.strip(), *_local_address(self.transport))
        return (local, remote) if self.is_requestor else (remote, local)

    @property
    def requestor(self) -> _End:
        """The requestor's ``ae_title``, ``address`` and ``port`` (pynetdicom's)."""
        return self._ends()[0]

    @property
    def acceptor(self) -> _End:
        """The acceptor's ``ae_title``, ``address`` and ``port`` (pynetdicom's)."""
        return self._ends()[1]

    def bind_handlers(self, handlers: Any) -> None:
        """Requestor-side handlers: ``[(evt, fn)]`` or ``[(evt, fn, args)]``."""
        self.handlers = events.normalise_handlers(handlers)
        self._watch = any(e in events.WATCH_EVENTS for e, _ in self.handlers) or (
            self.server is not None and self.server.watching
        )

    def handler_for(self, evt: EventType) -> Any:
        for e, fn in self.handlers:
            if e is evt:
                return fn
        return None

    async def _notify(self, evt: EventType, **kw: Any) -> None:
        event = Event(evt, self, **kw)
        if self.server is not None:
            await self.server.notify(evt, event)
        for e, fn in self.handlers:
            if e is evt:
                try:
                    r = fn(event)
                    if inspect.isawaitable(r):
                        await r
                except Exception:  # noqa: BLE001 - notifications must not break associations
                    log.exception("%s handler failed", evt.name)

    def _check_header(self, hdr: bytes) -> int:
        ptype, length = _core.pdu_peek(hdr, 0)
        limit = self.max_pdu if ptype == P_DATA_TF else MAX_ASSOCIATE_PDU
        if limit and length > limit:
            raise PduError(
                f"peer sent a PDU of {length} bytes, above the maximum of {limit}",
                peer=self.peer,
            )
        return length

    async def _read_pdu(self, timeout: float | None) -> tuple[int, Any, bytes]:
        raw = await self.transport.read_pdu(timeout, self._check_header)
        t, _, value = _core.pdu_read(raw)
        if self._watch:
            await self._notify(events.EVT_PDU_RECV, pdu=bytes(raw))
        return t, value, raw

    async def _next(self, timeout: float | None) -> tuple[E, int, Any, bytes]:
        """The next upper layer event from the network (Evt3/4/6/10/12/13/16/17/19),
        or ``TimeoutError``."""
        try:
            ptype, value, raw = await self._read_pdu(timeout)
        except _Closed:
            return E.EVT17, 0, None, b""
        except PduError as e:
            if e.peer is None:
                e.peer = self.peer
            return E.EVT19, 0, e, b""
        return _EVENT_OF_PDU[ptype], ptype, value, raw

    async def _close_transport(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._assembler.abort()
        await self.transport.close()
        if self.sm.state == State.STA13:
            self.sm.transition(E.EVT17)  # AR-5 → Sta1

    async def _send_abort(self, source: int, reason: int = 0) -> None:
        try:
            await self.transport.write(_core.encode_abort(source, reason), 2)
        except (_Closed, TimeoutError):
            pass

    async def _await_close(self) -> None:
        """Sta13: wait (ARTIM) for the peer to close the connection."""
        while self.sm.state == State.STA13 and not self._closed:
            evt, _, _, _ = await self._safe_next(self.acse_timeout)
            if evt is None:  # ARTIM expired
                self.sm.transition(E.EVT18)  # AA-2
                break
            if evt == E.EVT17:
                break
            action = self.sm.transition(evt)
            if action == "AA-7":
                await self._send_abort(2, 2)
            elif action == "AA-2":
                break
        await self._close_transport()
        if self.sm.state != State.STA1:
            self.sm.state = State.STA1

    async def _safe_next(self, timeout: float | None) -> tuple[E | None, int, Any, bytes]:
        try:
            return await self._next(timeout)
        except TimeoutError:
            return None, 0, None, b""

    async def _fail(self, evt: E, value: Any, what: str) -> NetworkError:
        """Apply an event that ends the association and perform its action;
        returns the exception to raise."""
        try:
            action = self.sm.transition(evt)
        except NetworkError:
            action = "AA-8"
        self.is_aborted = True
        if action in ("AA-8", "AA-7"):
            reason = 2 if evt != E.EVT19 else 0
            await self._send_abort(2, reason)
            await self._close_transport()
            if evt == E.EVT19 and isinstance(value, NetworkError):
                exc: NetworkError = value
            else:
                exc = self._error(PduError, f"unexpected PDU during {what}; association aborted")
        elif action == "AA-1":
            await self._send_abort(0, 0)
            await self._close_transport()
            exc = self._error(AssociationAborted, f"{what}: association aborted")
        elif action == "AA-3":
            await self._close_transport()
            src, reason = value
            exc = self._error(
                AssociationAborted,
                f"peer aborted the association during {what} (A-ABORT from "
                f"{ABORT_SOURCES.get(src, src)}: {ABORT_REASONS.get(reason, reason)})",
            )
        elif action in ("AA-4", "AA-5", "AR-5"):
            await self._close_transport()
            exc = self._error(AssociationAborted, f"peer closed the connection during {what}")
        else:  # AA-2, AA-6 and the like: just close
            await self._close_transport()
            exc = self._error(AssociationAborted, f"association ended during {what}")
        self.sm.state = State.STA1
        if self.server is not None:
            await self.server.notify(EVT_ABORTED, Event(EVT_ABORTED, self))
        return exc

    async def _abort_local(self, exc: NetworkError) -> NetworkError:
        """Evt15 (A-ABORT request): send A-ABORT, close; returns ``exc``."""
        if self.sm.action_for(E.EVT15) is not None:
            self.sm.transition(E.EVT15)
            await self._send_abort(0, 0)
        await self._close_transport()
        self.sm.state = State.STA1
        self.is_aborted = True
        if self.server is not None:
            await self.server.notify(EVT_ABORTED, Event(EVT_ABORTED, self))
        return exc

    # -- association establishment -------------------------------------------
    async def request_association(
        self, called_ae_title: str, contexts: list[PresentationContext], extra_items: list[Any]
    ) -> None:
        """Requestor: Evt1/Evt2 (the connection is open), send A-ASSOCIATE-RQ and
        wait for the answer."""
        sm = self.sm
        sm.transition(E.EVT1)  # AE-1: the caller has connected already
        sm.transition(E.EVT2)  # AE-2
        self.called_ae_title = self.remote_ae_title = called_ae_title
        requested = requested_contexts(contexts)
        items: list[Any] = [
            (0x51, self.max_pdu),
            (0x52, uids.IMPLEMENTATION_CLASS_UID),
        ]
        window = self.ae.async_operations_window
        if window > 1 and not any(t == 0x53 for t, _ in extra_items):
            items.append((0x53, (window, 1)))
        items += [
            (0x55, uids.IMPLEMENTATION_VERSION_NAME),
            *role_items(requested),
            *extra_items,
        ]
        pdu = _core.encode_associate_rq(
            called_ae_title,
            self.local_ae_title,
            [(c.context_id, c.abstract_syntax, c.transfer_syntaxes) for c in requested],
            items,
        )
        try:
            await self._write(pdu)
        except (_Closed, TimeoutError):
            raise await self._fail(E.EVT17, None, "association request") from None
        try:
            evt, _, value, _ = await self._next(self.acse_timeout)
        except TimeoutError:
            raise await self._abort_local(
                self._error(DimseTimeout, f"no association response within {self.acse_timeout} s")
            ) from None
        if evt == E.EVT4:
            sm.transition(evt)  # AE-4
            await self._close_transport()
            self.is_rejected = True
            result, source, reason = value
            exc = self._error(AssociationRejected, _describe_rj(result, source, reason))
            exc.result, exc.source, exc.reason = result, source, reason
            raise exc
        if evt != E.EVT3:
            raise await self._fail(evt, value, "association negotiation")
        sm.transition(evt)  # AE-3 → Sta6
        ac = value
        self.acceptance = ac
        self.peer_max_pdu = ac.get("max_length") or 0
        self._send_pdu = fragment_size(self.peer_max_pdu)
        roles = {v[0]: (v[1], v[2]) for t, v in ac["user_information"] if t == 0x54}
        for t, v in ac["user_information"]:
            if t == 0x53:  # 0: unlimited, i.e. as many as we asked for
                self.max_invoked = max(1, v[0] or self.ae.async_operations_window)
        self.contexts = apply_acceptance(requested, ac["presentation_contexts"], roles)
        self._by_id = {c.context_id: c for c in self.contexts if c.context_id is not None}
        if not self.accepted_contexts:
            raise await self._abort_local(
                self._error(
                    AssociationRejected,
                    "the peer accepted none of the proposed presentation contexts: "
                    + "; ".join(str(c) for c in self.contexts),
                )
            )

    async def accept_association(self) -> bool:
        """Acceptor: Evt5 (connection open), read A-ASSOCIATE-RQ, decide, answer.
        Returns True when the association is established."""
        sm, server, ae = self.sm, self.server, self.ae
        assert server is not None
        sm.transition(E.EVT5)  # AE-5, ARTIM running
        wait = min(self.acse_timeout, ae.request_timeout)
        evt, _, value, _ = await self._safe_next(wait)
        if evt is None:
            sm.transition(E.EVT18)  # AA-2
            await self._close_transport()
            log.info("%s: no A-ASSOCIATE-RQ within %s s; closed", self.peer, wait)
            return False
        if evt == E.EVT17:  # closed before associating (or closed by us to make room)
            sm.transition(evt)
            await self._close_transport()
            return False
        if evt != E.EVT6:
            exc = await self._fail(evt, value, "association request")
            log.warning("%s: %s", self.peer, exc)
            return False
        rq = value
        self.request = rq
        self.remote_ae_title = rq["calling_ae_title"]
        self.called_ae_title = rq["called_ae_title"]
        self.peer_max_pdu = rq.get("max_length") or 0
        self._send_pdu = fragment_size(self.peer_max_pdu)
        # AE-6: service-provider checks.
        rj: tuple[int, int, int] | None = None
        if not rq["protocol_version"] & 1:
            rj = (1, 2, 2)
        elif not server.admit(self):
            rj = (2, 3, 2)
        sm.transition(E.EVT6, acceptable=rj is None)
        if rj is None:
            # Sta3: service-user decision.
            rj = ae._user_rejection(rq)
            if rj is not None:
                sm.transition(E.EVT8)  # AE-8
        if rj is not None:
            self.is_rejected = True
            try:
                await self._write(_core.encode_associate_rj(*rj))
            except (_Closed, TimeoutError):
                pass
            log.info(
                "%s: %s (calling %r, called %r)",
                self.peer,
                _describe_rj(*rj),
                self.remote_ae_title,
                self.called_ae_title,
            )
            await server.notify(EVT_REJECTED, Event(EVT_REJECTED, self))
            await self._await_close()
            return False
        roles = {v[0]: (v[1], v[2]) for t, v in rq["user_information"] if t == 0x54}
        self.contexts, role_replies = negotiate(rq["presentation_contexts"], ae._supported, roles)
        self._by_id = {c.context_id: c for c in self.contexts if c.context_id is not None}
        items: list[Any] = [
            (0x51, self.max_pdu),
            (0x52, uids.IMPLEMENTATION_CLASS_UID),
        ]
        proposed = [v for t, v in rq["user_information"] if t == 0x53]
        if proposed:
            # Requests are performed one at a time, in order; the requestor may
            # send up to `window` before reading the responses.  We invoke none
            # outstanding ourselves (max performed by the requestor: 1).
            limit = max(1, ae.async_operations_window)
            invoked = proposed[0][0]
            self.window = min(invoked, limit) if invoked else limit
            items.append((0x53, (self.window, 1)))
        items += [
            (0x55, uids.IMPLEMENTATION_VERSION_NAME),
            *role_replies,
        ]
        ac = _core.encode_associate_ac(
            self.called_ae_title,
            self.remote_ae_title,
            [(c.context_id, c.result, c.transfer_syntax) for c in self.contexts],
            items,
        )
        sm.transition(E.EVT7)  # AE-7 → Sta6
        try:
            await self._write(ac)
        except (_Closed, TimeoutError):
            exc = await self._fail(E.EVT17, None, "association acceptance")
            log.warning("%s: %s", self.peer, exc)
            return False
        await server.notify(EVT_ACCEPTED, Event(EVT_ACCEPTED, self))
        return True

    # -- release and abort -----------------------------------------------------
    async def release(self) -> None:
        """A-RELEASE (requestor or acceptor); waits for the reply (ACSE timeout)."""
        if self.sm.state != State.STA6:
            return
        self.sm.transition(E.EVT11)  # AR-1 → Sta7
        try:
            await self._write(_core.encode_release_rq())
        except (_Closed, TimeoutError):
            raise await self._fail(E.EVT17, None, "release") from None
        while True:
            try:
                evt, _, value, _ = await self._next(self.acse_timeout)
            except TimeoutError:
                raise await self._abort_local(
                    self._error(DimseTimeout, f"no A-RELEASE-RP within {self.acse_timeout} s")
                ) from None
            if evt == E.EVT10:
                self.sm.transition(evt)  # AR-6: data after our release request, ignored
                continue
            if evt == E.EVT13:
                self.sm.transition(evt)  # AR-3 (Sta7) → Sta1
                break
            if evt == E.EVT12:  # release collision
                self.sm.transition(evt)  # AR-8
                if self.sm.state == State.STA9:
                    self.sm.transition(E.EVT14)  # AR-9 → Sta11
                    await self._write(_core.encode_release_rp())
                    continue
                continue  # Sta10: wait for their RP
            raise await self._fail(evt, value, "release")
        if self.sm.state == State.STA12:
            self.sm.transition(E.EVT14)  # AR-4
            await self._write(_core.encode_release_rp())
        await self._close_transport()
        self.sm.state = State.STA1
        self.is_released = True

    async def abort(self) -> None:
        """A-ABORT (service user): send, close; no reply is expected."""
        if self.sm.state in (State.STA1, State.STA13) and self._closed:
            return
        await self._abort_local(self._error(AssociationAborted, "aborted locally"))

    async def _answer_release(self) -> None:
        """Evt12 in Sta6 (peer asks to release): AR-2, then reply (Evt14, AR-4)
        and wait for the peer to close."""
        await self._drain_in_turn()  # every answer before the release reply
        self.sm.transition(E.EVT12)  # AR-2 → Sta8: A-RELEASE indication
        self.is_released = True
        if self.server is not None:
            await self.server.notify(EVT_RELEASED, Event(EVT_RELEASED, self))
        self.sm.transition(E.EVT14)  # AR-4 → Sta13: A-RELEASE response
        try:
            await self._write(_core.encode_release_rp())
        except (_Closed, TimeoutError):
            pass
        await self._await_close()

    # -- DIMSE ---------------------------------------------------------------------
    def next_message_id(self) -> int:
        self._msg_id = self._msg_id % 0xFFFF + 1
        return self._msg_id

    def context_for(
        self, abstract_syntax: str, transfer_syntax: str | None = None
    ) -> PresentationContext | None:
        for c in self.contexts:
            if (
                c.accepted
                and c.abstract_syntax == abstract_syntax
                and (transfer_syntax is None or c.transfer_syntax == transfer_syntax)
            ):
                return c
        return None

    async def send_message(
        self, context_id: int, command: dict[int, Any], body: Any = None
    ) -> None:
        """Evt9 (P-DATA request): the command set, then the data set, fragmented
        for the peer's maximum PDU length."""
        action = self.sm.action_for(E.EVT9)
        if action is None:
            raise self._error(NetworkError, f"cannot send data in {self.sm.state}")
        self.sm.transition(E.EVT9)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s: sent %s", self.peer, dimse_summary(context_id, command, body))
        if self._watch:
            await self._notify(events.EVT_DIMSE_SENT, command=dict(command), message=body)
        maxp = self._send_pdu
        out = _core.encode_pdata(context_id, True, dimse.encode_command(command), maxp)
        try:
            if body is None:
                await self._write(out)
                return
            n = len(body)
            if n <= 65536:
                await self._write(out + _core.encode_pdata(context_id, False, body, maxp))
                return
            # PDU headers and views of the body (often a memory-mapped file) go to
            # the socket with scatter/gather writes: the data set is not copied.
            transport = self.transport
            step = max(1, SEND_CHUNK // (maxp - 6)) * (maxp - 6)
            view = memoryview(body)
            parts: list[Any] = [out]
            for pos in range(0, n, step):
                end = min(n, pos + step)
                parts += _core.encode_pdata(
                    context_id, False, view[pos:end], maxp, last=end == n, as_list=True
                )
                await transport.write_parts(parts, self.network_timeout)
                parts = []
        except _Closed:
            raise await self._fail(E.EVT17, None, "sending a DIMSE message") from None
        except TimeoutError:
            raise await self._abort_local(
                self._error(
                    DimseTimeout,
                    f"the peer read nothing for {self.network_timeout} s; association aborted",
                )
            ) from None

    async def _receive(self, timeout: float, what: str, idle: str) -> list[dimse.Message]:
        """The one PDU read loop: the messages completed by the next P-DATA-TF (maybe
        none yet).  A release request is answered and raises
        :class:`AssociationAborted`; any other PDU ends the association as the
        state table says; nothing for ``timeout`` seconds aborts it with
        ``idle`` as the reason."""
        if self._early_pdu is not None:  # read ahead by poll_cancel()
            ptype, value, raw = self._early_pdu
            self._early_pdu = None
            evt = _EVENT_OF_PDU[ptype]
        else:
            try:
                evt, _, value, raw = await self._next(timeout)
            except TimeoutError:
                raise await self._abort_local(self._error(DimseTimeout, idle)) from None
        if evt == E.EVT10:
            self.sm.transition(evt)  # DT-2
            try:
                done = self._assembler.feed(raw, value)
            except PduError as e:
                e.peer = self.peer
                raise await self._fail(E.EVT19, e, what) from None
            if log.isEnabledFor(logging.DEBUG):
                for m in done:
                    log.debug("%s: received %s", self.peer, dimse_summary(m.context_id, m.command))
            if self._watch:
                for m in done:
                    await self._notify(events.EVT_DIMSE_RECV, command=dict(m.command), message=m)
            return done
        if evt == E.EVT12:
            await self._answer_release()
            raise _Released(
                self._error(AssociationAborted, f"peer released the association during {what}")
            )
        raise await self._fail(evt, value, what)

    async def wait_response(self, message_id: int, what: str) -> dimse.Message:
        """Read until the response to ``message_id`` (DIMSE timeout); responses to
        other outstanding requests that arrive first are kept for their turn, and
        requests of the peer's for :meth:`serve` / :meth:`next_message`."""
        early = self._responses.pop(message_id, None)
        if early is not None:
            return early
        idle = f"no {what} response within {self.dimse_timeout} s"
        while True:
            try:
                messages = await self._receive(self.dimse_timeout, what, idle)
            except _Released as r:
                raise r.error from None
            found = None
            for m in messages:
                answered = m.command.get(dimse.MESSAGE_ID_BEING_RESPONDED_TO)
                if answered == message_id and found is None:
                    found = m
                elif m.command_field & 0x8000 and isinstance(answered, int):
                    self._responses[answered] = m  # an outstanding request's turn
                elif m.command_field == dimse.C_CANCEL_RQ:
                    self.cancelled_ids.add(int(answered or 0))
                elif m.command_field == dimse.N_EVENT_REPORT_RQ and self.is_requestor:
                    await self._answer_event_report(m)
                elif not m.command_field & 0x8000 and len(self._inbox) < MAX_QUEUED_REQUESTS:
                    # a request of the peer's (a report sent while we wait): served
                    # in turn by serve() or next_message()
                    self._inbox.append(m)
                else:
                    log.warning("%s: ignoring unexpected message %04X", self.peer, m.command_field)
            if found is not None:
                return found

    async def _answer_event_report(self, m: dimse.Message) -> None:
        """Requestor: answer an N-EVENT-REPORT-RQ with Success and keep it in
        :attr:`event_reports` (PS3.7 10.1.1: the SCU of an SOP class receives its
        events; an unanswered one would stall the peer)."""
        pc = self._by_id.get(m.context_id)
        ds = normalized.decode_request_dataset(pc, m)
        if len(self.event_reports) >= MAX_QUEUED_REQUESTS:
            self.event_reports.popleft()
        self.event_reports.append((m.command, ds))
        log.info(
            "%s: N-EVENT-REPORT %s event %s",
            self.peer,
            m.command.get(dimse.AFFECTED_SOP_CLASS_UID),
            m.command.get(dimse.EVENT_TYPE_ID),
        )
        rsp: dict[int, Any] = {
            dimse.AFFECTED_SOP_CLASS_UID: m.command.get(dimse.AFFECTED_SOP_CLASS_UID, ""),
            dimse.COMMAND_FIELD: dimse.N_EVENT_REPORT_RSP,
            dimse.MESSAGE_ID_BEING_RESPONDED_TO: m.command.get(dimse.MESSAGE_ID, 0),
            dimse.COMMAND_DATA_SET_TYPE: dimse.NO_DATA_SET,
            dimse.STATUS: dimse.SUCCESS,
        }
        fn = self.handler_for(events.EVT_N_EVENT_REPORT)
        if fn is not None:  # pynetdicom: the requestor's EVT_N_EVENT_REPORT handler
            event = Event(events.EVT_N_EVENT_REPORT, self, pc, m.command)
            event._dataset = ds
            try:
                r = fn(event)
                if inspect.isawaitable(r):
                    r = await r
                r = r[0] if isinstance(r, tuple) else r
                rsp[dimse.STATUS] = int(getattr(r, "Status", r))
            except Exception:  # noqa: BLE001 - a handler's failure is the peer's failure status
                log.exception("EVT_N_EVENT_REPORT handler failed")
                rsp[dimse.STATUS] = dimse.PROCESSING_FAILURE
        for tag in (dimse.AFFECTED_SOP_INSTANCE_UID, dimse.EVENT_TYPE_ID):
            if m.command.get(tag) is not None:
                rsp[tag] = m.command[tag]
        await self.send_message(m.context_id, rsp)

    async def next_message(self, what: str, timeout: float | None = None) -> dimse.Message:
        """The next complete DIMSE message of any kind (DIMSE timeout unless
        ``timeout``); used by services that take requests while waiting for
        responses (a C-GET SCU receives C-STORE-RQs)."""
        wait = self.dimse_timeout if timeout is None else timeout
        while not self._inbox:
            try:
                self._inbox.extend(await self._receive(wait, what, f"no {what} within {wait} s"))
            except _Released as r:
                raise r.error from None
        return self._inbox.popleft()

    async def poll_cancel(self, message_id: int) -> bool:
        """Acceptor, during a C-FIND/C-MOVE/C-GET: read whatever PDUs already
        arrived (without waiting) and say whether a C-CANCEL-RQ for
        ``message_id`` is among them.  Other messages are kept for
        :meth:`serve`."""
        poll = getattr(self.transport, "read_pdu_ready", None)
        while poll is not None and not self._closed:
            try:
                raw = await poll(self.network_timeout, self._check_header)
            except (_Closed, PduError, TimeoutError):
                break
            if raw is None:
                break
            ptype, _, value = _core.pdu_read(raw)
            if ptype != P_DATA_TF:
                # Release/abort in the middle of an operation: leave it to serve().
                self._early_pdu = (ptype, value, raw)
                break
            self.sm.transition(E.EVT10)
            try:
                msgs = self._assembler.feed(raw, value)
            except PduError:
                break
            for m in msgs:
                if m.command_field == dimse.C_CANCEL_RQ:
                    self.cancelled_ids.add(
                        int(m.command.get(dimse.MESSAGE_ID_BEING_RESPONDED_TO, 0))
                    )
                else:
                    self._inbox.append(m)
        return message_id in self.cancelled_ids

    def _open_sink(self, context_id: int, command: dict[int, Any]) -> Any:
        pc = self._by_id.get(context_id)
        if pc is not None and command.get(dimse.COMMAND_FIELD) == dimse.C_STORE_RQ and self.server:
            return store.open_sink(self, pc, command)
        return MemorySink()

    async def serve(self) -> None:
        """Acceptor: handle DIMSE requests until release or abort."""
        idle = f"no activity for {self.network_timeout} s; association aborted"
        try:
            while True:
                if self._inbox:
                    await self._dispatch(self._inbox.popleft())
                    continue
                try:
                    self._inbox.extend(
                        await self._receive(self.network_timeout, "data transfer", idle)
                    )
                except _Released:
                    return
        finally:
            await self._drain_in_turn()

    async def answer_in_turn(
        self, work: Awaitable[_T], answer: Callable[[_T], Awaitable[None]]
    ) -> None:
        """Acceptor, for a request the requestor need not wait for (it was granted
        an asynchronous operations window, PS3.7 D.3.3.3): run ``work`` in the
        background and ``answer`` with its result once every earlier answer given
        to this method was sent, so answers keep the order of their requests.  At
        most :attr:`window` are in flight; beyond that this waits for the oldest.
        The Storage SCP makes a window of instances durable this way, each flush
        overlapping with receiving the next instance."""
        while self._in_turn and self._in_turn[0].done():
            self._in_turn.popleft()
        if len(self._in_turn) >= self.window:
            await self._in_turn.popleft()
        before = self._in_turn[-1] if self._in_turn else None

        async def run() -> None:
            try:
                result = await work
                if before is not None:
                    await asyncio.wait([before])
                if not self._closed:
                    await answer(result)
            except (NetworkError, _Closed, OSError, TimeoutError) as e:
                log.warning("%s: answer not sent: %s", self.peer, e)
            except Exception:  # noqa: BLE001 - a background answer must not be lost silently
                log.exception("%s: answering a request failed", self.peer)

        self._in_turn.append(asyncio.ensure_future(run()))

    async def _drain_in_turn(self) -> None:
        """Wait until every answer given to :meth:`answer_in_turn` is sent (or failed)."""
        while self._in_turn:
            await self._in_turn.popleft()

    async def _dispatch(self, m: dimse.Message) -> None:
        """Acceptor: one request message to its service."""
        pc = self._by_id.get(m.context_id)
        if pc is None or not pc.accepted:
            if m.sink is not None:
                m.sink.discard()
            raise await self._fail(
                E.EVT19,
                self._error(PduError, f"message on unaccepted context {m.context_id}"),
                "data transfer",
            )
        field = m.command_field
        if field == dimse.C_CANCEL_RQ:
            return  # nothing in progress to cancel (PS3.7 §9.3.2.3: no response)
        handler = registry.scp_handler(pc.abstract_syntax, field)
        if handler is not None:
            await handler(self, pc, m)
        else:
            if m.sink is not None:
                m.sink.discard()
            await self.send_message(
                pc.context_id or 0,
                {
                    dimse.COMMAND_FIELD: (field | 0x8000) & 0xFFFF,
                    dimse.MESSAGE_ID_BEING_RESPONDED_TO: m.command.get(dimse.MESSAGE_ID, 0),
                    dimse.COMMAND_DATA_SET_TYPE: dimse.NO_DATA_SET,
                    dimse.STATUS: dimse.UNRECOGNIZED_OPERATION,
                },
            )

    # -- services (requestor side) ---------------------------------------------
    async def send_c_echo(self) -> Status:
        return await echo.send_c_echo(self)

    async def send_c_store(
        self, dataset: Dataset | str | os.PathLike[str], *, priority: int = 0
    ) -> Status:
        return await store.send_c_store(self, dataset, priority=priority)

    def c_find(self, identifier: Dataset, model: str = "study", *, priority: int = 0) -> Any:
        """C-FIND (async generator of ``(Status, Dataset | None)``); ``model``
        ``"study"``, ``"patient"``, ``"worklist"`` or a SOP Class UID."""
        return find.c_find(self, identifier, model, priority=priority)

    def c_move(
        self, identifier: Dataset, destination: str, model: str = "study", *, priority: int = 0
    ) -> Any:
        """C-MOVE (async generator of ``(Status, Dataset | None)``)."""
        return move.c_move(self, identifier, destination, model, priority=priority)

    def c_get(
        self, identifier: Dataset, model: str = "study", *, on_store: Any = None, priority: int = 0
    ) -> Any:
        """C-GET (async generator); received instances go to ``on_store(event)``."""
        return get.c_get(self, identifier, model, on_store=on_store, priority=priority)

    # DIMSE-N (PS3.7 §10), pynetdicom's names and argument order: the service's
    # functions, which take the association first, are the methods themselves.
    send_n_event_report = normalized.send_n_event_report
    send_n_get = normalized.send_n_get
    send_n_set = normalized.send_n_set
    send_n_action = normalized.send_n_action
    send_n_create = normalized.send_n_create
    send_n_delete = normalized.send_n_delete

    async def trigger(self, evt: EventType, event: Event, default: Any = None) -> Any:
        if self.server is None:
            fn = self.handler_for(evt)
            if fn is None:
                return default
            r = fn(event)
            return await r if inspect.isawaitable(r) else r
        return await self.server.trigger(evt, event, default)


def _blocking(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A blocking :class:`Association` method running the service coroutine
    ``fn(async_association, ...)`` to completion (its transport never suspends)."""

    @functools.wraps(fn)
    def method(self: Association, *args: Any, **kwargs: Any) -> Any:
        return run_sync(fn(self._assoc, *args, **kwargs))

    return method


class Association:
    """A blocking association (pynetdicom-style). Made by :meth:`AE.associate`.

    ``send_c_echo()`` / ``send_c_store(ds_or_path)`` return a
    :class:`~dicomfast.net.dimse.Status` (truthy once a response arrived; ``.Status`` is the code); ``release()`` and
    ``abort()`` end it; as a context manager it releases on exit (aborts on an
    exception).
    """

    def __init__(self, assoc: AsyncAssociation) -> None:
        if not isinstance(assoc.transport, SocketTransport):
            raise TypeError("a blocking Association needs a SocketTransport")
        self._assoc = assoc

    @property
    def is_established(self) -> bool:
        return self._assoc.is_established

    @property
    def is_released(self) -> bool:
        return self._assoc.is_released

    @property
    def is_aborted(self) -> bool:
        return self._assoc.is_aborted

    @property
    def accepted_contexts(self) -> list[PresentationContext]:
        return self._assoc.accepted_contexts

    @property
    def rejected_contexts(self) -> list[PresentationContext]:
        return self._assoc.rejected_contexts

    @property
    def peer_max_pdu(self) -> int:
        return self._assoc.peer_max_pdu

    @property
    def tls(self) -> bool:
        return self._assoc.tls

    @property
    def async_association(self) -> AsyncAssociation:
        """The protocol object (its coroutines complete without suspending)."""
        return self._assoc

    def send_c_echo(self) -> Status:
        return run_sync(self._assoc.send_c_echo())

    def send_c_store(
        self, dataset: Dataset | str | os.PathLike[str], *, priority: int = 0
    ) -> Status:
        return run_sync(self._assoc.send_c_store(dataset, priority=priority))

    def send_c_stores(
        self, sources: Iterable[Dataset | str | os.PathLike[str]], *, priority: int = 0
    ) -> Iterator[tuple[Any, Status | DicomError]]:
        """C-STORE many instances, pipelined up to the negotiated asynchronous
        operations window: yields ``(source, status)`` per instance in order, or
        ``(source, error)`` for one that could not be sent.  A lost association
        yields its unanswered sources with the error, then raises it."""
        return store.store_many_sync(self._assoc, sources, priority=priority)

    def send_c_find(
        self, identifier: Dataset, model: str = "study", *, priority: int = 0
    ) -> Iterator[tuple[Status, Dataset | None]]:
        """C-FIND: yields ``(status, identifier)`` per response (Pending ones
        carry a match; the last is the final status).  Leaving the loop early
        sends a C-CANCEL-RQ.  ``model``: ``"study"``, ``"patient"``,
        ``"worklist"`` or a SOP Class UID."""
        return find.find_sync(self._assoc, identifier, model, priority=priority)

    def send_c_move(
        self, identifier: Dataset, destination: str, model: str = "study", *, priority: int = 0
    ) -> Iterator[tuple[Status, Dataset | None]]:
        """C-MOVE to the AE titled ``destination``: yields each response."""
        return move.move_sync(self._assoc, identifier, destination, model, priority=priority)

    def send_c_get(
        self,
        identifier: Dataset,
        model: str = "study",
        *,
        on_store: Callable[[Event], int] | None = None,
        priority: int = 0,
    ) -> Iterator[tuple[Status, Dataset | None]]:
        """C-GET: yields each response; every instance received on the way
        is passed to ``on_store(event)`` (``event.encoded``: a Part 10 file,
        ``event.dataset``), which returns the C-STORE status.  Request the
        storage contexts with ``scp_role=True`` (see
        :func:`dicomfast.net.services.get.storage_contexts_for_get`)."""
        if on_store is None:  # pynetdicom: associate(..., evt_handlers=[(EVT_C_STORE, fn)])
            on_store = self._assoc.handler_for(events.EVT_C_STORE)
        return get.get_sync(self._assoc, identifier, model, on_store=on_store, priority=priority)

    # DIMSE-N (PS3.7 §10): pynetdicom's names, argument order and results (see
    # dicomfast.net.services.normalized), each run to completion on this socket.
    send_n_event_report = _blocking(normalized.send_n_event_report)
    send_n_get = _blocking(normalized.send_n_get)
    send_n_set = _blocking(normalized.send_n_set)
    send_n_action = _blocking(normalized.send_n_action)
    send_n_create = _blocking(normalized.send_n_create)
    send_n_delete = _blocking(normalized.send_n_delete)

    def release(self) -> None:
        """A-RELEASE, waiting for the peer's reply (ACSE timeout)."""
        if self._assoc.is_established:
            run_sync(self._assoc.release())
        else:
            run_sync(self._assoc._close_transport())

    def abort(self) -> None:
        """A-ABORT: send it and close, without waiting."""
        run_sync(self._assoc.abort())

    def __enter__(self) -> Association:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.release()
        else:
            self.abort()

    def __repr__(self) -> str:
        return repr(self._assoc).replace("AsyncAssociation", "Association")
