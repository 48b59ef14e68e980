"""Hostile and careless peers against the acceptor (issue 19): idle and half-open
sockets, bursts of connections, malformed and out-of-order PDUs.  The server
must keep answering a real C-ECHO promptly, and end every bad connection.

Bounded: each test opens at most 300 sockets on loopback and ends within seconds.
"""

from __future__ import annotations

import socket
import struct
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from dicomfast import _core
from dicomfast.net import AE
from dicomfast.net.contexts import VERIFICATION_SOP_CLASS
from netutil import RawPeer, make_scp, scu

sys.path.insert(0, str(Path(__file__).parents[1] / "qr"))
from qrutil import start_serve, stop  # noqa: E402

ELE = "1.2.840.10008.1.2.1"


def echo_seconds(port: int, called: str = "STORESCP") -> float:
    """Associate, C-ECHO, release: the wall time, asserting Success."""
    t0 = time.perf_counter()
    with scu().associate("127.0.0.1", port, called) as assoc:
        assert int(assoc.send_c_echo()) == 0
    return time.perf_counter() - t0


@contextmanager
def idle_sockets(port: int, n: int) -> Iterator[list[socket.socket]]:
    socks = []
    try:
        for _ in range(n):
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        yield socks
    finally:
        for s in socks:
            s.close()


def closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        while True:
            if not sock.recv(4096):
                return True
    except TimeoutError:
        return False
    except OSError:
        return True


def test_idle_sockets_take_no_association_slot() -> None:
    """Ten (or thirty) connections that never send a byte no longer take the ten
    association slots until their timer ends: real associations go on at once."""
    server = make_scp(maximum_associations=10).start_server(("127.0.0.1", 0), block=False)
    try:
        with idle_sockets(server.port, 30):
            time.sleep(0.2)  # the server has accepted them all
            assert server._state.active == 0 and len(server._state.pending) >= 30
            assert max(echo_seconds(server.port) for _ in range(3)) < 1.0
            # the limit still holds for real associations
            held = [scu().associate("127.0.0.1", server.port, "STORESCP") for _ in range(10)]
            try:
                with pytest.raises(Exception, match="local limit exceeded"):
                    scu().associate("127.0.0.1", server.port, "STORESCP")
            finally:
                for a in held:
                    a.release()
        assert echo_seconds(server.port) < 1.0
    finally:
        server.shutdown()


def test_pending_connection_closed_after_request_timeout() -> None:
    server = make_scp(request_timeout=0.5).start_server(("127.0.0.1", 0), block=False)
    try:
        with idle_sockets(server.port, 1) as (sock,):
            t0 = time.perf_counter()
            assert closed_within(sock, 5)
            assert 0.4 < time.perf_counter() - t0 < 3
        # half a PDU header, then silence: the same timer
        with idle_sockets(server.port, 1) as (sock,):
            sock.sendall(b"\x01\x00\x00\x00")
            assert closed_within(sock, 5)
        # a whole header announcing a body that never comes
        with idle_sockets(server.port, 1) as (sock,):
            sock.sendall(b"\x01\x00" + struct.pack(">I", 200) + b"\x00" * 10)
            assert closed_within(sock, 5)
    finally:
        server.shutdown()


def test_oldest_pending_connection_makes_room() -> None:
    server = make_scp(maximum_pending=4, request_timeout=30).start_server(
        ("127.0.0.1", 0), block=False
    )
    try:
        with idle_sockets(server.port, 4) as socks:
            time.sleep(0.2)
            with idle_sockets(server.port, 1):
                assert closed_within(socks[0], 3)  # the oldest, not a newer one
                assert not closed_within(socks[1], 0.2)
                assert echo_seconds(server.port) < 1.0
        assert server._state.evicted >= 2  # one for the fifth socket, one for the echo
    finally:
        server.shutdown()


def test_burst_of_300_connections_against_serve(tmp_path: Path) -> None:
    """``dicomfast serve`` with its defaults: 300 connections opened at once
    (idle ones, half headers, garbage), and a real C-ECHO still answered within
    a second, repeatedly; afterwards the archive still stores and answers."""
    proc, port = start_serve(["--storage", str(tmp_path / "data"), "--no-fsync"])
    try:
        with idle_sockets(port, 300) as socks:
            for i, s in enumerate(socks):
                if i % 3 == 1:
                    s.sendall(b"\x01\x00\x00")
                elif i % 3 == 2:
                    s.sendall(b"\xff" * 64)
            times = [echo_seconds(port, "DICOMFAST") for _ in range(5)]
            assert max(times) < 1.0, times
        assert echo_seconds(port, "DICOMFAST") < 1.0
        assert proc.poll() is None
    finally:
        stop(proc)


def _rq(contexts: list[tuple[int, str, list[str]]]) -> bytes:
    return _core.encode_associate_rq("STORESCP", "HOSTILE", contexts, [(0x51, 16384)])


def _duplicate_id_rq() -> bytes:
    """Two presentation contexts with ID 1, made by renumbering an encoded RQ."""
    raw = bytearray(_rq([(1, VERIFICATION_SOP_CLASS, [ELE]), (3, VERIFICATION_SOP_CLASS, [ELE])]))
    at = 6 + 68  # PDU header, fixed fields (PS3.8 Table 9-11); then items
    while raw[at] != 0x20 or raw[at + 4] != 3:
        at += 4 + struct.unpack(">H", raw[at + 2 : at + 4])[0]
    raw[at + 4] = 1
    return bytes(raw)


PDATA = _core.encode_pdata(1, True, b"\x00" * 8, 16384)
RELEASE_RQ = bytes([5, 0, 0, 0, 0, 4, 0, 0, 0, 0])
BEFORE_ASSOCIATION = {
    "p-data first": PDATA,
    "release first": RELEASE_RQ,
    "associate-ac from a requestor": _core.encode_associate_ac(
        "A", "B", [(1, 0, ELE)], [(0x51, 16384)]
    ),
    "unknown pdu type": b"\x09\x00" + struct.pack(">I", 4) + b"abcd",
    "duplicate context ids": _duplicate_id_rq(),
    "zero-length rq": b"\x01\x00" + struct.pack(">I", 0),
    "oversized rq": b"\x01\x00" + struct.pack(">I", 0x7FFFFFFF),
    "rq with garbage body": b"\x01\x00" + struct.pack(">I", 100) + b"\xaa" * 100,
}


@pytest.mark.parametrize("name", list(BEFORE_ASSOCIATION))
def test_bad_or_out_of_order_pdu_before_association(name: str) -> None:
    server = make_scp().start_server(("127.0.0.1", 0), block=False)
    try:
        peer = RawPeer(server.port)
        peer.send(BEFORE_ASSOCIATION[name])
        try:
            t, _, _ = peer.recv_pdu()
            assert t in (3, 7), t  # A-ASSOCIATE-RJ or A-ABORT, never an AC
        except (ConnectionError, OSError):
            pass  # or the connection is simply closed
        assert peer.closed_by_peer()
        peer.close()
        assert echo_seconds(server.port) < 1.0
        time.sleep(0.1)
        assert server._state.active == 0 and not server._state.pending
    finally:
        server.shutdown()


AFTER_ASSOCIATION = {
    "second associate-rq": _rq([(1, VERIFICATION_SOP_CLASS, [ELE])]),
    "p-data on an unknown context": _core.encode_pdata(99, True, b"\x00" * 8, 16384),
    "garbage command": _core.encode_pdata(1, True, b"\xde\xad\xbe\xef" * 4, 16384),
    "unknown pdu type": b"\x0a\x00" + struct.pack(">I", 2) + b"zz",
    "p-data longer than the max pdu": b"\x04\x00" + struct.pack(">I", 1 << 30),
}


@pytest.mark.parametrize("name", list(AFTER_ASSOCIATION))
def test_bad_or_out_of_order_pdu_after_association(name: str) -> None:
    server = make_scp().start_server(("127.0.0.1", 0), block=False)
    try:
        peer = RawPeer(server.port)
        peer.associate()
        peer.send(AFTER_ASSOCIATION[name])
        try:
            t, _, _ = peer.recv_pdu()
            assert t == 7, t  # A-ABORT
        except (ConnectionError, OSError):
            pass
        assert peer.closed_by_peer()
        peer.close()
        assert echo_seconds(server.port) < 1.0
        time.sleep(0.1)
        assert server._state.active == 0 and not server._state.pending
    finally:
        server.shutdown()


def test_half_open_association_is_dropped_others_served() -> None:
    """An association that stops in the middle of a PDU is aborted after the
    network timeout; other peers are served meanwhile."""
    ae = AE("STORESCP", network_timeout=1.0, acse_timeout=5, dimse_timeout=5)
    ae.add_storage_scp_contexts()
    server = ae.start_server(("127.0.0.1", 0), block=False)
    try:
        peer = RawPeer(server.port)
        peer.associate()
        whole = _core.encode_pdata(1, True, b"\x00" * 200, 16384)
        peer.send(whole[:50])  # then nothing
        assert echo_seconds(server.port) < 1.0
        t0 = time.perf_counter()
        assert peer.closed_by_peer()
        assert time.perf_counter() - t0 < 4
        peer.close()
    finally:
        server.shutdown()
