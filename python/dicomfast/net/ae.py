"""The Application Entity: presentation contexts, policies and timeouts;
``associate()`` as a requestor and ``start_server()`` as an acceptor.

Server concurrency: one asyncio event loop (in a thread of its own with
``block=False``) and one task per association; handlers that are plain
functions run in a worker thread so a slow one does not stall the others.
Requestors: ``associate()`` gives a blocking association over a plain socket,
``associate_async()`` an asyncio one; both run the same protocol code.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import logging
import os
import ssl
import threading
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, cast

from .. import uid as uids
from ..errors import NetworkError
from .association import Association, AsyncAssociation
from .contexts import (
    DEFAULT_MAX_PDU,
    DEFAULT_TRANSFER_SYNTAXES,
    VERIFICATION_SOP_CLASS,
    PresentationContext,
)
from .events import (
    EVT_CONN_CLOSE,
    EVT_CONN_OPEN,
    WATCH_EVENTS,
    Event,
    EventType,
    Handler,
    normalise_handlers,
)
from .storage import FileStorage
from .transport import PduStream, StreamTransport, connect, run_sync

log = logging.getLogger("dicomfast.net")


def _ts_list(transfer_syntax: str | Sequence[str] | None) -> list[str] | None:
    if transfer_syntax is None:
        return None
    if isinstance(transfer_syntax, str):
        return [transfer_syntax]
    return list(transfer_syntax)


def _check_ae_title(title: str) -> str:
    t = title.strip()
    if not 0 < len(t) <= 16 or "\\" in t or not t.isascii() or not t.isprintable():
        raise ValueError(
            f"invalid AE title {title!r}: 1-16 printable ASCII characters, no backslash"
        )
    return t


class RoleSelection(NamedTuple):
    """SCP/SCU Role Selection for ``associate(ext_neg=...)`` (pynetdicom's
    ``build_role``; see :func:`dicomfast.net.sop_class.build_role`)."""

    sop_class_uid: str
    scu_role: bool = False
    scp_role: bool = False


def _apply_roles(
    contexts: Sequence[PresentationContext], ext_neg: Sequence[Any]
) -> list[PresentationContext]:
    roles = {}
    for item in ext_neg:
        uid = getattr(item, "sop_class_uid", None)
        if uid is None:
            raise ValueError(f"unsupported extended negotiation item {item!r}")
        roles[str(uid)] = item
    out = []
    for c in contexts:
        r = roles.get(c.abstract_syntax)
        if r is not None:
            c = copy.copy(c)
            c.scu_role, c.scp_role = bool(r.scu_role), bool(r.scp_role)
        out.append(c)
    return out


class AE:
    """A DICOM Application Entity.

    >>> ae = AE(ae_title="MYSCU")
    >>> ae.add_requested_context("1.2.840.10008.1.1")
    >>> with ae.associate("127.0.0.1", 11112, ae_title="ANY-SCP") as assoc:
    ...     status = assoc.send_c_echo()
    """

    def __init__(
        self,
        ae_title: str = "DICOMFAST",
        *,
        maximum_pdu_size: int = DEFAULT_MAX_PDU,
        acse_timeout: float = 30.0,
        dimse_timeout: float = 30.0,
        network_timeout: float = 60.0,
        connect_timeout: float = 30.0,
        maximum_associations: int = 10,
        maximum_pending: int = 128,
        request_timeout: float = 10.0,
        require_called_aet: bool = False,
        require_calling_aet: Iterable[str] | None = None,
        async_operations_window: int = 16,
    ) -> None:
        self.ae_title = _check_ae_title(ae_title)
        self.maximum_pdu_size = int(maximum_pdu_size)
        self.acse_timeout = acse_timeout
        self.dimse_timeout = dimse_timeout
        self.network_timeout = network_timeout
        self.connect_timeout = connect_timeout
        #: Associations served at once (requests beyond it get A-ASSOCIATE-RJ, transient).
        self.maximum_associations = maximum_associations
        #: Connections that have not yet sent their A-ASSOCIATE-RQ.  They hold no
        #: association slot; beyond this many the oldest is closed, so idle or
        #: half-open sockets cannot crowd out peers that associate at once.
        self.maximum_pending = maximum_pending
        #: Seconds a new connection has to deliver its whole A-ASSOCIATE-RQ (also
        #: the TLS handshake's limit): a short ARTIM for connections not yet associated.
        self.request_timeout = request_timeout
        self.require_called_aet = require_called_aet
        self.require_calling_aet = [t.strip() for t in require_calling_aet or []]
        #: Asynchronous Operations Window (PS3.7 D.3.3.3): requests a requestor may
        #: have outstanding; proposed as requestor, granted (at most this) as acceptor.
        #: 1 turns it off (nothing is proposed).
        self.async_operations_window = int(async_operations_window)
        #: Known remote AEs: AE title -> (host, port).  Used to reach a requestor on
        #: a new association (a Storage Commitment report after it released).
        self.destinations: dict[str, tuple[str, int]] = {}
        self._requested: list[PresentationContext] = []
        self._supported: dict[str, PresentationContext] = {}

    # -- presentation contexts ------------------------------------------------
    @property
    def requested_contexts(self) -> list[PresentationContext]:
        return list(self._requested)

    @requested_contexts.setter
    def requested_contexts(self, contexts: Iterable[PresentationContext]) -> None:
        """``ae.requested_contexts = StoragePresentationContexts`` (pynetdicom's)."""
        ctxs = [
            PresentationContext(
                c.abstract_syntax, list(c.transfer_syntaxes or DEFAULT_TRANSFER_SYNTAXES)
            )
            for c in contexts
        ]
        if len(ctxs) > 128:
            raise ValueError("at most 128 presentation contexts can be requested")
        self._requested = ctxs

    @property
    def supported_contexts(self) -> list[PresentationContext]:
        return list(self._supported.values())

    @supported_contexts.setter
    def supported_contexts(self, contexts: Iterable[PresentationContext]) -> None:
        """``ae.supported_contexts = AllStoragePresentationContexts`` (pynetdicom's)."""
        self._supported = {}
        for c in contexts:
            self.add_supported_context(c.abstract_syntax, c.transfer_syntaxes)

    def add_requested_context(
        self, abstract_syntax: str, transfer_syntax: str | Sequence[str] | None = None
    ) -> None:
        """Propose ``abstract_syntax`` with ``transfer_syntax`` (default: explicit
        and implicit VR little endian) when associating."""
        ts = _ts_list(transfer_syntax) or list(DEFAULT_TRANSFER_SYNTAXES)
        if len(self._requested) >= 128:
            raise ValueError("at most 128 presentation contexts can be requested")
        self._requested.append(PresentationContext(abstract_syntax, ts))

    def add_supported_context(
        self,
        abstract_syntax: str,
        transfer_syntax: str | Sequence[str] | None = None,
        *,
        scu_role: bool | None = None,
        scp_role: bool | None = None,
    ) -> None:
        """Accept ``abstract_syntax`` as an acceptor; ``transfer_syntax=None``
        accepts any syntax the requestor proposes (its first choice wins)."""
        self._supported[abstract_syntax] = PresentationContext(
            abstract_syntax, _ts_list(transfer_syntax), scu_role=scu_role, scp_role=scp_role
        )

    def add_storage_scp_contexts(self, transfer_syntax: str | Sequence[str] | None = None) -> None:
        """Support Verification, every storage SOP class of PS3.4 Table B.5-1 and the
        retired ones (:func:`dicomfast.uid.retired_storage_sop_classes`)."""
        self.add_supported_context(VERIFICATION_SOP_CLASS)
        for sop in (*uids.storage_sop_classes(), *uids.retired_storage_sop_classes()):
            self.add_supported_context(sop, transfer_syntax)

    # -- acceptor policy --------------------------------------------------------
    def _user_rejection(self, rq: dict[str, Any]) -> tuple[int, int, int] | None:
        """A-ASSOCIATE-RJ (result, source, reason) for a request we refuse, else None."""
        if rq["application_context"] != "1.2.840.10008.3.1.1.1":
            return (1, 1, 2)
        if self.require_called_aet and rq["called_ae_title"].strip() != self.ae_title:
            return (1, 1, 7)
        if (
            self.require_calling_aet
            and rq["calling_ae_title"].strip() not in self.require_calling_aet
        ):
            return (1, 1, 3)
        return None

    # -- requestor --------------------------------------------------------------
    async def associate_async(
        self,
        addr: str,
        port: int,
        ae_title: str = "ANY-SCP",
        *,
        contexts: Sequence[PresentationContext] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        extra_user_items: Sequence[tuple[int, Any]] = (),
    ) -> AsyncAssociation:
        """Open a connection and negotiate an association (asyncio)."""
        ctxs = list(contexts) if contexts is not None else self.requested_contexts
        if not ctxs:
            raise ValueError("no presentation contexts: call add_requested_context() first")
        try:
            _, stream = await asyncio.wait_for(
                asyncio.get_running_loop().create_connection(
                    PduStream,
                    addr,
                    port,
                    ssl=ssl_context,
                    server_hostname=(server_hostname or addr) if ssl_context else None,
                ),
                self.connect_timeout,
            )
        except TimeoutError:
            raise NetworkError(
                f"connection not established within {self.connect_timeout} s", peer=f"{addr}:{port}"
            ) from None
        except (OSError, ssl.SSLError) as e:
            raise NetworkError(f"cannot connect: {e}", peer=f"{addr}:{port}") from e
        assoc = AsyncAssociation(self, StreamTransport(stream), requestor=True)
        try:
            await assoc.request_association(_check_ae_title(ae_title), ctxs, list(extra_user_items))
        except BaseException:
            await assoc._close_transport()
            raise
        return assoc

    def associate(
        self,
        addr: str,
        port: int,
        contexts: Sequence[PresentationContext] | str | None = None,
        ae_title: str = "ANY-SCP",
        max_pdu: int | None = None,
        ext_neg: Sequence[Any] | None = None,
        bind_address: tuple[str, int] | None = None,
        tls_args: tuple[ssl.SSLContext, str | None] | None = None,
        evt_handlers: Sequence[Any] | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
    ) -> Association:
        """Connect and negotiate; returns a blocking :class:`Association`.

        pynetdicom 3's signature and order: ``contexts`` (default: the requested
        contexts), the called ``ae_title``, ``max_pdu`` (the largest PDU we
        receive; default the AE's ``maximum_pdu_size``), ``ext_neg``
        (:func:`~dicomfast.net.sop_class.build_role` items), ``bind_address``,
        ``tls_args=(ssl_context, server_hostname)`` and ``evt_handlers``: the
        requestor's handlers (``EVT_C_STORE`` for instances a C-GET brings,
        ``EVT_N_EVENT_REPORT``, the notification events).  A string as the
        third argument is taken as the called AE title (the earlier order).

        It runs the same protocol code as :meth:`associate_async` over a plain
        blocking socket (no event loop, so it also works inside handlers and
        threads).  Unlike pynetdicom, a refused association raises
        :class:`~dicomfast.errors.AssociationRejected` (also when the peer
        accepted none of the presentation contexts) and an unreachable peer
        :class:`~dicomfast.errors.NetworkError`, rather than returning an
        unestablished association whose ``is_established`` is ``False``.
        """
        if isinstance(contexts, str):  # associate(addr, port, "CALLED-AE")
            ae_title = contexts
            contexts = None
        if tls_args is not None:
            ssl_context = tls_args[0]
            server_hostname = tls_args[1] if len(tls_args) > 1 else server_hostname
        ctxs = list(contexts) if contexts is not None else self.requested_contexts
        if not ctxs:
            raise ValueError("no presentation contexts: call add_requested_context() first")
        if ext_neg:
            ctxs = _apply_roles(ctxs, ext_neg)
        where = f"{addr}:{port}"
        try:
            transport = connect(
                addr, port, self.connect_timeout, ssl_context, server_hostname, bind_address
            )
        except TimeoutError:
            raise NetworkError(
                f"connection not established within {self.connect_timeout} s", peer=where
            ) from None
        except (OSError, ssl.SSLError) as e:
            raise NetworkError(f"cannot connect: {e}", peer=where) from e
        assoc = AsyncAssociation(self, transport, requestor=True)
        if max_pdu is not None:
            assoc.max_pdu = int(max_pdu)
        if evt_handlers:
            assoc.bind_handlers(evt_handlers)
        try:
            run_sync(assoc.request_association(_check_ae_title(ae_title), ctxs, []))
        except BaseException:
            run_sync(assoc._close_transport())
            raise
        return Association(assoc)

    # -- acceptor -----------------------------------------------------------------
    def start_server(
        self,
        address: tuple[str, int],
        block: bool = True,
        ssl_context: ssl.SSLContext | Sequence[Any] | None = None,
        evt_handlers: Sequence[Any] | None = None,
        ae_title: str | None = None,
        contexts: Sequence[PresentationContext] | None = None,
        *,
        storage: str | os.PathLike[str] | FileStorage | None = None,
    ) -> Server:
        """Listen on ``address`` (port 0 picks a free port: see ``server.port``).

        With ``storage`` (a folder) received instances are written there (see
        :mod:`dicomfast.net.storage`) after any ``EVT_C_STORE`` handler
        agreed.  ``block=False`` returns at once with the running server;
        ``block=True`` serves until :meth:`Server.shutdown` or Ctrl-C.
        pynetdicom 3's order: ``ssl_context``, ``evt_handlers`` (``(evt, fn)``
        or ``(evt, fn, args)``), ``ae_title`` and ``contexts`` (this server's
        own AE title and supported contexts; default the AE's).  A list as the
        third argument is taken as ``evt_handlers`` (the earlier order).
        """
        if isinstance(ssl_context, (list, tuple)):  # start_server(addr, block, handlers)
            ssl_context, evt_handlers = None, ssl_context
        if ae_title is not None or contexts is not None:
            ae = copy.copy(self)
            if ae_title is not None:
                ae.ae_title = _check_ae_title(ae_title)
            if contexts is not None:
                ae._supported = {c.abstract_syntax: c for c in contexts}
            return AE.start_server(ae, address, block, ssl_context, evt_handlers, storage=storage)
        if not self._supported:
            raise ValueError("no supported contexts: call add_supported_context() first")
        if storage is not None and not isinstance(storage, FileStorage):
            storage = FileStorage(storage)
        # a list or tuple in ssl_context's place was taken as evt_handlers above
        tls = cast("ssl.SSLContext | None", ssl_context)
        server = Server(self, address, normalise_handlers(evt_handlers), tls, storage)
        server._start()
        if block:
            try:
                server.wait()
            except KeyboardInterrupt:
                pass
            finally:
                server.shutdown()
        return server


class _ServerState:
    """What an acceptor association needs from its server (in the loop thread).

    A connection is *pending* until its A-ASSOCIATE-RQ arrives, then holds an
    association slot until it ends.  Pending connections have their own limit
    (the oldest is closed to make room) and a short timer
    (:attr:`AE.request_timeout`), so sockets that never associate cannot take
    the slots of peers that do."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.storage = server.storage
        self.active = 0  # associations: A-ASSOCIATE-RQ received, not yet ended
        self.pending: dict[AsyncAssociation, None] = {}  # oldest first
        self.evicted = 0

    def connected(self, assoc: AsyncAssociation) -> None:
        """A new connection: pending; the oldest pending one is closed beyond the limit."""
        self.pending[assoc] = None
        limit = self.server.ae.maximum_pending
        while limit and len(self.pending) > limit:
            oldest = next(iter(self.pending))
            del self.pending[oldest]
            self.evicted += 1
            # an acceptor's associations run over streams (Server._serve)
            cast(StreamTransport, oldest.transport).transport.abort()
            log.info(
                "%s: closed, sent no A-ASSOCIATE-RQ while %d newer connections waited",
                oldest.peer,
                limit,
            )

    def admit(self, assoc: AsyncAssociation) -> bool:
        """Its A-ASSOCIATE-RQ arrived: take an association slot (False when none is free)."""
        self.pending.pop(assoc, None)
        limit = self.server.ae.maximum_associations
        if limit and self.active >= limit:
            return False
        self.active += 1
        assoc._holds_slot = True
        return True

    def ended(self, assoc: AsyncAssociation) -> None:
        self.pending.pop(assoc, None)
        if assoc._holds_slot:
            assoc._holds_slot = False
            self.active -= 1

    @property
    def watching(self) -> bool:
        """Whether a per-PDU / per-message notification handler is bound."""
        return any(e in WATCH_EVENTS for e, _ in self.server.handlers)

    def has_handler(self, evt: EventType) -> bool:
        return any(e is evt for e, _ in self.server.handlers)

    async def _call(self, fn: Handler, event: Event) -> Any:
        if inspect.iscoroutinefunction(fn):
            return await fn(event)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, fn, event)

    async def trigger(self, evt: EventType, event: Event, default: Any = None) -> Any:
        """Run the first handler bound to an intervention event; its result."""
        for e, fn in self.server.handlers:
            if e is evt:
                return await self._call(fn, event)
        return default

    async def notify(self, evt: EventType, event: Event) -> None:
        for e, fn in self.server.handlers:
            if e is evt:
                try:
                    await self._call(fn, event)
                except Exception:  # noqa: BLE001 - notifications must not break associations
                    log.exception("%s handler failed", evt.name)


class Server:
    """A running acceptor: ``.port``, ``.address``, ``.shutdown()``."""

    def __init__(
        self,
        ae: AE,
        address: tuple[str, int],
        handlers: list[tuple[EventType, Handler]],
        ssl_context: ssl.SSLContext | None,
        storage: FileStorage | None,
    ) -> None:
        self.ae = ae
        self.requested_address = address
        self.handlers = handlers
        self.ssl_context = ssl_context
        self.storage = storage
        self.address: tuple[str, int] = address
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="dicomfast-server", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stop: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._state = _ServerState(self)
        self.associations: list[AsyncAssociation] = []

    @property
    def port(self) -> int:
        return self.address[1]

    @property
    def server_address(self) -> tuple[str, int]:
        """``(host, port)`` listened on (pynetdicom's ``ThreadedAssociationServer``)."""
        return tuple(self.address[:2])  # type: ignore[return-value]

    @property
    def active_associations(self) -> int:
        return self._state.active

    def _start(self) -> None:
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            err = self._error
            self._thread.join(5)
            raise NetworkError(f"cannot listen on {self.requested_address}: {err}") from err

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
        except BaseException as e:  # noqa: BLE001
            if not self._ready.is_set():
                self._error = e
                self._ready.set()
            else:
                log.exception("server loop failed")
        finally:
            self.loop.close()
            if self.storage is not None:
                self.storage.close()  # queued writes finished, spare files removed

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        host, port = self.requested_address
        loop = asyncio.get_running_loop()

        def opened(stream: PduStream) -> None:
            task = loop.create_task(self._on_connection(stream))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        srv = await loop.create_server(
            lambda: PduStream(opened, high_water=max(4 << 20, 2 * self.ae.maximum_pdu_size)),
            host,
            port,
            ssl=self.ssl_context,
            # a burst of connections must not overflow the accept queue (a dropped
            # SYN costs the peer a one-second retransmission)
            backlog=1024,
            ssl_handshake_timeout=self.ae.request_timeout if self.ssl_context else None,
        )
        sock = srv.sockets[0].getsockname()
        self.address = (sock[0], sock[1])
        self._ready.set()
        log.info("%s listening on %s:%s", self.ae.ae_title, *self.address)
        try:
            await self._stop.wait()
        finally:
            srv.close()
            for t in list(self._tasks):
                t.cancel()
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=5)

    async def _on_connection(self, stream: PduStream) -> None:
        st = self._state
        transport = StreamTransport(stream)
        assoc = AsyncAssociation(self.ae, transport, requestor=False, server=st)
        st.connected(assoc)
        try:
            await st.notify(EVT_CONN_OPEN, Event(EVT_CONN_OPEN, assoc))
            if await assoc.accept_association():
                self.associations.append(assoc)
                del self.associations[:-100]
                await assoc.serve()
        except NetworkError as e:
            log.warning("%s: %s", assoc.peer, e)
        except asyncio.CancelledError:
            await assoc._abort_local(NetworkError("server shutting down"))
        except Exception:  # noqa: BLE001 - one association's bug must not stop the server
            log.exception("%s: association failed", assoc.peer)
            await assoc._abort_local(NetworkError("internal error"))
        finally:
            await assoc._close_transport()
            st.ended(assoc)
            await st.notify(EVT_CONN_CLOSE, Event(EVT_CONN_CLOSE, assoc))

    def shutdown(self) -> None:
        """Stop listening, abort open associations, wait for the loop to end."""
        if self._thread.is_alive() and self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        if threading.current_thread() is not self._thread:
            self._thread.join(10)

    def wait(self, timeout: float | None = None) -> None:
        """Block until the server stops."""
        self._thread.join(timeout)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        return f"<Server {self.ae.ae_title} on {self.address[0]}:{self.address[1]}>"
