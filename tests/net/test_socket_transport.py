"""The blocking association's socket reader (:class:`SocketTransport`): PDUs come
back whole and in order whatever the sizes of the reads that brought them, one
longer than its receive chunk included."""

from __future__ import annotations

import socket
import struct
import threading

from dicomfast.net import transport as tr
from dicomfast.net.transport import SocketTransport, run_sync


def _pdu(kind: int, body: bytes) -> bytes:
    return struct.pack(">BBI", kind, 0, len(body)) + body


def _length(header: bytes) -> int:
    return int(struct.unpack(">I", header[2:6])[0])


def test_pdus_of_any_length_come_back_whole_and_in_order() -> None:
    a, b = socket.socketpair()
    bodies = [b"x" * 7, bytes(range(256)) * 1500, b"", b"y" * (tr._RECV_CHUNK + 12345), b"z"]
    stream = b"".join(_pdu(4, body) for body in bodies)

    def send() -> None:
        # Odd slices, so that reads end mid-header and mid-body.
        for i in range(0, len(stream), 99_991):
            a.sendall(stream[i : i + 99_991])

    sender = threading.Thread(target=send)
    sender.start()
    t = SocketTransport(b)
    got = [run_sync(t.read_pdu(5.0, _length)) for _ in bodies]
    sender.join()
    assert got == [_pdu(4, body) for body in bodies]
    assert t.buf == b""
    a.close()
    b.close()
