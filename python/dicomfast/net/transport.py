"""The byte pipes an association runs over.

:class:`StreamTransport` runs over a :class:`PduStream`, an asyncio buffered
protocol the loop receives into (the server, and the asyncio API).  :class:`SocketTransport` wraps a blocking socket: its ``async`` methods
never suspend, so the blocking facade drives an association's coroutines to
completion with a single ``send(None)`` and no event loop — the same protocol
code, without the scheduling cost per request.

Both read whole PDUs: ``read_pdu(timeout, check)`` reads the 6-byte header,
asks ``check(header)`` for the body length (it raises for an oversized or
unknown PDU before the body is read) and returns header + body.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, TypeVar, cast

from ..errors import DicomError

T = TypeVar("T")
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)
_IOV_MAX = 512  # buffers per sendmsg (Linux allows 1024)


class Closed(Exception):
    """Internal: the transport is gone (PS3.8 Evt17)."""


def _peer_name(peer: Any) -> str:
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)


class PduStream(asyncio.BufferedProtocol):
    """An asyncio protocol the event loop receives into directly (``recv_into``
    a buffer of ours: no per-chunk copy as with ``StreamReader``), framing
    whole PDUs for :class:`StreamTransport`.  Reading pauses while more than
    ``high_water`` bytes wait (a peer cannot make us buffer without bound);
    writing waits for the transport's own flow control."""

    def __init__(
        self, on_open: Callable[[PduStream], None] | None = None, high_water: int = 4 << 20
    ) -> None:
        self._on_open = on_open
        self._high_water = high_water
        # Small at first (a connection that never associates costs little); it
        # grows to what the peer's PDUs need.
        self._buf = bytearray(1 << 16)
        self._start = 0
        self._end = 0
        self._room = 0  # bytes the next get_buffer must make room for (a large PDU)
        self._want = 0
        self._waiter: asyncio.Future[None] | None = None
        self._drain: asyncio.Future[None] | None = None
        self._closed: str | None = None
        self._deadline: float | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._watch_at = 0.0
        self._paused_reading = False
        self._paused_writing = False
        self.transport: asyncio.Transport | None = None
        self.lost = asyncio.get_running_loop().create_future()

    # -- asyncio callbacks ----------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if self._on_open is not None:
            self._on_open(self)

    def get_buffer(self, sizehint: int) -> memoryview:
        buf, start, end = self._buf, self._start, self._end
        need = max(self._room, 65536)
        if len(buf) - end < need:
            waiting = end - start
            if len(buf) - waiting >= max(need, len(buf) // 2):
                # Move what is waiting to the front (same size: no resize, so
                # allowed while the loop may still hold the previous view); at
                # most half the buffer moves, to free at least half.
                if waiting:
                    buf[:waiting] = bytes(memoryview(buf)[start:end])
            else:  # mostly full, or a PDU larger than the buffer: a bigger one
                new = bytearray(max(2 * len(buf), waiting + need))
                new[:waiting] = memoryview(buf)[start:end]
                self._buf = new
            self._start, self._end = 0, waiting
        return memoryview(self._buf)[self._end :]

    def buffer_updated(self, nbytes: int) -> None:
        self._end += nbytes
        waiting = self._end - self._start
        if self._waiter is not None and waiting >= self._want:
            if not self._waiter.done():
                self._waiter.set_result(None)
            self._waiter = None
        if waiting > self._high_water and not self._paused_reading and self.transport:
            self._paused_reading = True
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        self._close("connection closed")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._close(str(exc) if exc else "connection closed")
        if not self.lost.done():
            self.lost.set_result(None)

    def pause_writing(self) -> None:
        self._paused_writing = True

    def resume_writing(self) -> None:
        self._paused_writing = False
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)
        self._drain = None

    def _close(self, why: str) -> None:
        if self._closed is None:
            self._closed = why
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        for fut in (self._waiter, self._drain):
            if fut is not None and not fut.done():
                fut.set_exception(Closed(why))
        self._waiter = self._drain = None

    # -- reading --------------------------------------------------------------------------
    @property
    def waiting(self) -> int:
        return self._end - self._start

    async def wait_for(self, n: int, deadline: float | None = None) -> None:
        """Until ``n`` bytes are buffered (Closed if the connection ends first,
        TimeoutError once the loop's clock passes ``deadline``)."""
        while self._end - self._start < n:
            if self._closed is not None:
                raise Closed(self._closed)
            if self._paused_reading and self.transport is not None:
                self._paused_reading = False
                self.transport.resume_reading()
            self._want = n
            self._room = n - (self._end - self._start)
            loop = asyncio.get_running_loop()
            self._waiter = loop.create_future()
            self._deadline = deadline
            if deadline is not None and (self._watchdog is None or self._watch_at > deadline):
                self._arm(loop, deadline)
            try:
                await self._waiter
            finally:
                self._waiter = None
                self._deadline = None
                self._room = 0

    # One timer per stream checks the deadline of the current wait, instead of a
    # timer scheduled and cancelled for every read (most reads finish long before).
    def _arm(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        self._watch_at = when
        self._watchdog = loop.call_at(when, self._watch, loop)

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        self._watchdog = None
        deadline, waiter = self._deadline, self._waiter
        if deadline is None or waiter is None or waiter.done():
            return
        if loop.time() >= deadline:
            waiter.set_exception(TimeoutError())
        else:
            self._arm(loop, deadline)

    def take(self, n: int) -> bytes:
        """The next ``n`` buffered bytes (as one copy)."""
        start = self._start
        out = bytes(memoryview(self._buf)[start : start + n])
        self._start = start + n
        if self._start == self._end:
            self._start = self._end = 0
        if self._paused_reading and self._end - self._start <= self._high_water // 2:
            self._paused_reading = False
            if self.transport is not None:
                self.transport.resume_reading()
        return out

    def peek(self, n: int) -> bytes:
        return bytes(memoryview(self._buf)[self._start : self._start + n])

    # -- writing --------------------------------------------------------------------------
    async def drain(self) -> None:
        if self._closed is not None:
            raise Closed(self._closed)
        if self._paused_writing:
            self._drain = asyncio.get_running_loop().create_future()
            await self._drain


class StreamTransport:
    """An association's pipe on the event loop (server side, and the asyncio API)."""

    def __init__(self, stream: PduStream) -> None:
        self.stream = stream
        transport = stream.transport
        assert transport is not None
        self.transport = transport
        self.peer = _peer_name(transport.get_extra_info("peername"))
        self.tls = transport.get_extra_info("ssl_object") is not None
        sock = transport.get_extra_info("socket")
        self._quickack = sock if (_QUICKACK is not None and sock is not None) else None
        self.loop = asyncio.get_running_loop()

    async def read_pdu(self, timeout: float | None, check: Callable[[bytes], int]) -> bytes:
        stream = self.stream
        try:
            if stream.waiting < 6:
                deadline = None if timeout is None else self.loop.time() + timeout
                await stream.wait_for(6, deadline)
                n = 6 + check(stream.peek(6))
                await stream.wait_for(n, deadline)
            else:
                n = 6 + check(stream.peek(6))
                if stream.waiting < n:
                    deadline = None if timeout is None else self.loop.time() + timeout
                    await stream.wait_for(n, deadline)
        except (DicomError, TimeoutError, Closed):
            raise
        except (ConnectionError, OSError) as e:
            raise Closed(str(e) or "connection closed") from e
        if self._quickack is not None:  # see SocketTransport._fill
            try:
                self._quickack.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
            except OSError:
                self._quickack = None
        return stream.take(n)

    async def read_pdu_ready(
        self, timeout: float | None, check: Callable[[bytes], int]
    ) -> bytes | None:
        """A PDU whose header already arrived (its body may take up to
        ``timeout``), or None at once when nothing is waiting."""
        stream = self.stream
        if stream.waiting < 6:
            if stream._closed is not None:
                raise Closed(stream._closed)
            return None
        return await self.read_pdu(timeout, check)

    async def write(self, data: bytes, timeout: float | None) -> None:
        """Write; wait (up to ``timeout``) until the buffer drains."""
        transport, stream = self.transport, self.stream
        try:
            if stream._closed is not None or transport.is_closing():
                raise Closed(stream._closed or "connection closed")
            transport.write(data)
            if not stream._paused_writing:
                return  # below the transport's high-water mark: nothing to wait for
            async with asyncio.timeout(timeout):
                await stream.drain()
        except (TimeoutError, Closed):
            raise
        except (ConnectionError, OSError, RuntimeError) as e:
            raise Closed(str(e)) from e

    async def write_parts(self, parts: list[Any], timeout: float | None) -> None:
        await self.write(b"".join(parts), timeout)

    async def close(self) -> None:
        try:
            self.transport.close()
            async with asyncio.timeout(2):
                await asyncio.shield(self.stream.lost)
        except (Exception, asyncio.CancelledError):  # noqa: BLE001 - closing anyway
            pass


#: Bytes asked of each ``recv`` of a blocking association (more when a PDU needs it).
_RECV_CHUNK = 262_144


class SocketTransport:
    """A connected blocking socket (optionally TLS-wrapped)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()
        # Received into this, reused: ``recv(262144)`` would allocate (and page in) a
        # quarter-megabyte object per call, ~11 us of a 200-byte response's 13 us.
        self._scratch = bytearray(_RECV_CHUNK)
        try:
            self.peer = _peer_name(sock.getpeername())
        except OSError:
            self.peer = "?"
        self.tls = hasattr(sock, "cipher")

    def _arm(self, deadline: float | None) -> None:
        """Let the next socket call block until ``deadline`` (TimeoutError if past)."""
        if deadline is None:
            self.sock.settimeout(None)
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.sock.settimeout(left)

    def _fill(self, n: int, deadline: float | None) -> None:
        buf, sock = self.buf, self.sock
        while len(buf) < n:
            self._arm(deadline)
            want = max(n - len(buf), _RECV_CHUNK)
            if want > len(self._scratch):
                self._scratch = bytearray(want)  # a PDU longer than the usual chunk
            try:
                got = sock.recv_into(self._scratch, want)
            except TimeoutError:
                raise
            except OSError as e:
                raise Closed(str(e)) from e
            if not got:
                raise Closed("connection closed")
            if _QUICKACK is not None:
                # Acknowledge at once: a peer whose replies span two segments and
                # that keeps Nagle on (DCMTK without TCP_NODELAY=1) would
                # otherwise wait for our delayed ACK, 40 ms per exchange.
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
                except OSError:
                    pass
            with memoryview(self._scratch) as view:
                buf += view[:got]

    async def read_pdu(self, timeout: float | None, check: Callable[[bytes], int]) -> bytes:
        deadline = None if timeout is None else time.monotonic() + timeout
        self._fill(6, deadline)
        n = 6 + check(bytes(self.buf[:6]))
        self._fill(n, deadline)
        if len(self.buf) == n:
            raw = bytes(self.buf)
            self.buf.clear()
        else:
            with memoryview(self.buf) as view:
                raw = bytes(view[:n])
            del self.buf[:n]
        return raw

    async def write(self, data: bytes, timeout: float | None) -> None:
        try:
            self.sock.settimeout(timeout)
            self.sock.sendall(data)
        except TimeoutError:
            raise
        except OSError as e:
            raise Closed(str(e)) from e

    async def write_parts(self, parts: list[Any], timeout: float | None) -> None:
        """Write ``parts`` (bytes and memoryviews, e.g. PDU headers and views of a
        memory-mapped file) with scatter/gather ``sendmsg``: nothing is joined."""
        sock = self.sock
        deadline = None if timeout is None else time.monotonic() + timeout
        views = [memoryview(p).cast("B") for p in parts if len(p)]
        i = 0
        try:
            while i < len(views):
                self._arm(deadline)
                sent = sock.sendmsg(views[i : i + _IOV_MAX])
                while sent and i < len(views):  # drop what went; keep the rest of a part
                    n = len(views[i])
                    if sent >= n:
                        sent -= n
                        i += 1
                    else:
                        views[i] = views[i][sent:]
                        sent = 0
        except TimeoutError:
            raise
        except OSError as e:
            raise Closed(str(e)) from e

    async def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (one over a :class:`SocketTransport`)."""
    try:
        awaited = coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError(f"a blocking association awaited {awaited!r}")


def iterate_sync(agen: AsyncIterator[T]) -> Iterator[T]:
    """The items of an async generator of a blocking association, each step run with
    :func:`run_sync`: the one bridge from the protocol's async code to the
    blocking facade (no hand-written ``*_sync`` twin per operation).  Leaving the
    loop early closes the async generator, so its clean-up (a C-CANCEL, reading
    the remaining responses) runs as it would on an event loop."""
    try:
        while True:
            try:
                # an async generator's __anext__() is a coroutine (send/throw/close)
                item = run_sync(cast("Coroutine[Any, Any, T]", agen.__anext__()))
            except StopAsyncIteration:
                return
            yield item
    finally:
        aclose = getattr(agen, "aclose", None)
        if aclose is not None:
            run_sync(aclose())


def connect(
    host: str,
    port: int,
    timeout: float | None,
    ssl_context: Any = None,
    server_hostname: str | None = None,
    bind_address: tuple[str, int] | None = None,
) -> SocketTransport:
    source = tuple(bind_address) if bind_address and tuple(bind_address) != ("", 0) else None
    sock = socket.create_connection((host, port), timeout=timeout, source_address=source)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if ssl_context is not None:
            sock = ssl_context.wrap_socket(sock, server_hostname=server_hostname or host)
    except BaseException:
        sock.close()
        raise
    return SocketTransport(sock)
