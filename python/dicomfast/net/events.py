"""Events an application handles: ``ae.start_server(..., evt_handlers=[(EVT_C_STORE, fn)])``.

*Intervention* events (``EVT_C_ECHO``, ``EVT_C_STORE``) expect a status
from their handler (an ``int``, a :class:`~dicomfast.net.dimse.Status`, or as
in pynetdicom a data set with a ``Status`` element); *notification* events
ignore the return value.  Handlers are ``(evt, fn)`` or pynetdicom's
``(evt, fn, [args])`` (called ``fn(event, *args)``).
A handler is a plain function (run in a worker thread so it cannot stall other
associations) or an ``async def`` (awaited on the event loop).
"""

from __future__ import annotations

import datetime
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..dataset import Dataset
    from .association import AsyncAssociation
    from .contexts import PresentationContext


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    intervention: bool

    def __repr__(self) -> str:
        return self.name


EVT_C_ECHO = EventType("EVT_C_ECHO", "C-ECHO request received", True)
EVT_C_STORE = EventType("EVT_C_STORE", "C-STORE request received", True)
EVT_C_FIND = EventType("EVT_C_FIND", "C-FIND request received", True)
EVT_C_MOVE = EventType("EVT_C_MOVE", "C-MOVE request received", True)
EVT_C_GET = EventType("EVT_C_GET", "C-GET request received", True)
EVT_N_CREATE = EventType("EVT_N_CREATE", "N-CREATE request received", True)
EVT_N_SET = EventType("EVT_N_SET", "N-SET request received", True)
EVT_N_GET = EventType("EVT_N_GET", "N-GET request received", True)
EVT_N_ACTION = EventType("EVT_N_ACTION", "N-ACTION request received", True)
EVT_N_DELETE = EventType("EVT_N_DELETE", "N-DELETE request received", True)
EVT_N_EVENT_REPORT = EventType("EVT_N_EVENT_REPORT", "N-EVENT-REPORT request received", True)
EVT_STORAGE_COMMITMENT = EventType(
    "EVT_STORAGE_COMMITMENT", "storage commitment requested: which instances are kept", True
)
EVT_CONN_OPEN = EventType("EVT_CONN_OPEN", "transport connection opened", False)
EVT_CONN_CLOSE = EventType("EVT_CONN_CLOSE", "transport connection closed", False)
EVT_ACCEPTED = EventType("EVT_ACCEPTED", "association accepted", False)
EVT_REJECTED = EventType("EVT_REJECTED", "association rejected", False)
EVT_RELEASED = EventType("EVT_RELEASED", "association released", False)
EVT_ABORTED = EventType("EVT_ABORTED", "association aborted", False)
EVT_STORED = EventType("EVT_STORED", "instance written to storage", False)
EVT_PDU_RECV = EventType("EVT_PDU_RECV", "PDU received (event.pdu: its bytes)", False)
EVT_PDU_SENT = EventType("EVT_PDU_SENT", "PDU sent (event.pdu: its bytes)", False)
EVT_DIMSE_RECV = EventType(
    "EVT_DIMSE_RECV", "DIMSE message received (event.command, event.message)", False
)
EVT_DIMSE_SENT = EventType(
    "EVT_DIMSE_SENT", "DIMSE message sent (event.command; event.message: the data set)", False
)
#: Notification events fired per PDU / message: only looked for when bound.
WATCH_EVENTS = frozenset({EVT_PDU_RECV, EVT_PDU_SENT, EVT_DIMSE_RECV, EVT_DIMSE_SENT})

Handler = Callable[..., Any]
HandlerList = list[tuple[EventType, Handler]]


def normalise_handlers(handlers: Any) -> HandlerList:
    """``[(evt, fn)]`` and pynetdicom's ``[(evt, fn, [args])]`` (``fn(event, *args)``)."""
    out: HandlerList = []
    for h in handlers or ():
        if len(h) == 3 and h[2]:
            evt, fn, args = h
            out.append((evt, _with_args(fn, tuple(args))))
        else:
            out.append((h[0], h[1]))
    return out


def _with_args(fn: Handler, args: tuple[Any, ...]) -> Handler:
    if inspect.iscoroutinefunction(fn):

        async def call_async(event: Event) -> Any:
            return await fn(event, *args)

        return call_async

    def call(event: Event) -> Any:
        return fn(event, *args)

    return call


@dataclass
class Event:
    """What a handler receives."""

    event: EventType
    assoc: AsyncAssociation
    context: PresentationContext | None = None
    command: dict[int, Any] = field(default_factory=dict)
    #: For EVT_C_STORE: the received instance as a Part 10 file (meta group
    #: built from the presentation context, data set exactly as received),
    #: either in memory (``encoded``) or in a file (``path``).
    encoded: bytes | None = None
    path: str | None = None
    #: For EVT_STORED: where the instance was written.
    stored_path: str | None = None
    #: For EVT_C_FIND/C_MOVE/C_GET: true once the peer sent a C-CANCEL-RQ
    #: (a callable, checked by :attr:`is_cancelled`).
    cancelled: Callable[[], bool] | None = None
    #: For EVT_STORAGE_COMMITMENT: the (SOP Class UID, SOP Instance UID) pairs asked about.
    references: list[tuple[str, str]] = field(default_factory=list)
    #: DIMSE-N requests: coroutine functions run on the association once the
    #: response has been sent (e.g. sending the SCU an N-EVENT-REPORT).
    after: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)
    #: EVT_PDU_RECV/SENT: the PDU's bytes.
    pdu: bytes | None = None
    #: EVT_DIMSE_RECV: the message; EVT_DIMSE_SENT: the data set's bytes (or None).
    message: Any = None
    #: When the event happened (pynetdicom's ``event.timestamp``).
    timestamp: datetime.datetime = field(default_factory=datetime.datetime.now)
    _dataset: Any = None

    @property
    def is_cancelled(self) -> bool:
        return bool(self.cancelled is not None and self.cancelled())

    @property
    def identifier(self) -> Dataset | None:
        """C-FIND/C-MOVE/C-GET: the request's identifier; N-CREATE/N-SET: its
        attribute list (the same object as :attr:`dataset`)."""
        return self.dataset

    @property
    def move_destination(self) -> str | None:
        v = self.command.get(0x00000600)
        return v.strip() if isinstance(v, str) else None

    @property
    def dataset(self) -> Dataset | None:
        """The received data set (read lazily with :func:`dicomfast.read`)."""
        if self._dataset is None:
            from ..reader import read

            if self.encoded is not None:
                self._dataset = read(self.encoded)
            elif self.path is not None:
                self._dataset = read(self.path)
        return self._dataset

    @property
    def file_meta(self) -> Any:
        ds = self.dataset
        return None if ds is None else ds.file_meta

    # pynetdicom's names for the DIMSE-N request's parts
    @property
    def action_type(self) -> int | None:
        """N-ACTION: the Action Type ID."""
        return self.command.get(0x00001008)

    @property
    def event_type(self) -> int | None:
        """N-EVENT-REPORT: the Event Type ID."""
        return self.command.get(0x00001002)

    @property
    def attribute_identifiers(self) -> list[int]:
        """N-GET: the tags asked for (empty: every attribute)."""
        v = self.command.get(0x00001005)
        return [] if v is None else ([v] if isinstance(v, int) else list(v))

    @property
    def action_information(self) -> Dataset | None:
        return self.dataset

    @property
    def event_information(self) -> Dataset | None:
        return self.dataset

    @property
    def attribute_list(self) -> Dataset | None:
        return self.dataset

    @property
    def modification_list(self) -> Dataset | None:
        return self.dataset

    @property
    def sop_class_uid(self) -> str | None:
        return self.command.get(0x00000002) or self.command.get(0x00000003)

    @property
    def sop_instance_uid(self) -> str | None:
        return self.command.get(0x00001000) or self.command.get(0x00001001)


__all__ = [
    "EVT_ABORTED",
    "EVT_ACCEPTED",
    "EVT_CONN_CLOSE",
    "EVT_CONN_OPEN",
    "EVT_C_ECHO",
    "EVT_C_FIND",
    "EVT_C_GET",
    "EVT_C_MOVE",
    "EVT_C_STORE",
    "EVT_DIMSE_RECV",
    "EVT_DIMSE_SENT",
    "EVT_PDU_RECV",
    "EVT_PDU_SENT",
    "EVT_N_ACTION",
    "EVT_N_CREATE",
    "EVT_N_DELETE",
    "EVT_N_EVENT_REPORT",
    "EVT_N_GET",
    "EVT_N_SET",
    "EVT_REJECTED",
    "EVT_STORAGE_COMMITMENT",
    "EVT_RELEASED",
    "EVT_STORED",
    "Event",
    "EventType",
]
