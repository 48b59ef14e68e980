"""The byte pipes an association runs over.

:class:`StreamTransport` wraps asyncio streams (the server, and the asyncio
API).  :class:`SocketTransport` wraps a blocking socket: its ``async`` methods
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
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ..errors import DicomError

T = TypeVar("T")
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


class Closed(Exception):
    """Internal: the transport is gone (PS3.8 Evt17)."""


def _peer_name(peer: Any) -> str:
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)


class StreamTransport:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.peer = _peer_name(writer.get_extra_info("peername"))
        self.tls = writer.get_extra_info("ssl_object") is not None
        sock = writer.get_extra_info("socket")
        self._quickack = sock if (_QUICKACK is not None and sock is not None) else None

    async def read_pdu(self, timeout: float | None, check: Callable[[bytes], int]) -> bytes:
        reader = self.reader
        try:
            async with asyncio.timeout(timeout):
                hdr = await reader.readexactly(6)
                n = check(hdr)
                body = await reader.readexactly(n) if n else b""
        except (DicomError, TimeoutError):
            raise
        except (asyncio.IncompleteReadError, ConnectionError, OSError) as e:
            raise Closed(str(e) or "connection closed") from e
        if self._quickack is not None:  # see SocketTransport._fill
            try:
                self._quickack.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
            except OSError:
                self._quickack = None
        return hdr + body

    async def read_pdu_ready(
        self, timeout: float | None, check: Callable[[bytes], int]
    ) -> bytes | None:
        """A PDU whose header already arrived (its body may take up to
        ``timeout``), or None at once when nothing is waiting."""
        reader = self.reader
        try:
            try:
                async with asyncio.timeout(0):
                    hdr = await reader.readexactly(6)  # consumes nothing unless complete
            except TimeoutError:
                return None
            n = check(hdr)
            async with asyncio.timeout(timeout):
                body = await reader.readexactly(n) if n else b""
        except (DicomError, TimeoutError):
            raise
        except (asyncio.IncompleteReadError, ConnectionError, OSError) as e:
            raise Closed(str(e) or "connection closed") from e
        return hdr + body

    async def write(self, data: bytes, timeout: float | None) -> None:
        """Write; wait (up to ``timeout``) until the buffer drains."""
        writer = self.writer
        try:
            writer.write(data)
            if writer.transport.get_write_buffer_size() == 0 and not writer.transport.is_closing():
                return  # all handed to the kernel: nothing to drain
            async with asyncio.timeout(timeout):
                await writer.drain()
        except TimeoutError:
            raise
        except (ConnectionError, OSError) as e:
            raise Closed(str(e)) from e

    async def close(self) -> None:
        try:
            self.writer.close()
            async with asyncio.timeout(2):
                await self.writer.wait_closed()
        except (Exception, asyncio.CancelledError):  # noqa: BLE001 - closing anyway
            pass


class SocketTransport:
    """A connected blocking socket (optionally TLS-wrapped)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()
        try:
            self.peer = _peer_name(sock.getpeername())
        except OSError:
            self.peer = "?"
        self.tls = hasattr(sock, "cipher")

    def _fill(self, n: int, deadline: float | None) -> None:
        buf, sock = self.buf, self.sock
        while len(buf) < n:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                sock.settimeout(left)
            else:
                sock.settimeout(None)
            try:
                chunk = sock.recv(max(n - len(buf), 262_144))
            except TimeoutError:
                raise
            except OSError as e:
                raise Closed(str(e)) from e
            if not chunk:
                raise Closed("connection closed")
            if _QUICKACK is not None:
                # Acknowledge at once: a peer whose replies span two segments and
                # that keeps Nagle on (DCMTK without TCP_NODELAY=1) would
                # otherwise wait for our delayed ACK, 40 ms per exchange.
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
                except OSError:
                    pass
            buf += chunk

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
        return stop.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError(f"a blocking association awaited {awaited!r}")


def connect(
    host: str,
    port: int,
    timeout: float | None,
    ssl_context: Any = None,
    server_hostname: str | None = None,
) -> SocketTransport:
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if ssl_context is not None:
            sock = ssl_context.wrap_socket(sock, server_hostname=server_hostname or host)
    except BaseException:
        sock.close()
        raise
    return SocketTransport(sock)
