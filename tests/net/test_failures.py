"""Failures give a clear dicomfast error on our side, the server keeps serving
others, and no partial file is left in storage."""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from pathlib import Path

import pytest
from dicomfast import _core
from dicomfast.errors import (
    AssociationAborted,
    AssociationRejected,
    DicomError,
    DimseTimeout,
    NetworkError,
    PduError,
)
from dicomfast.net import AE, VERIFICATION_SOP_CLASS, Server
from netutil import CT, RawPeer, make_scp, partial_files, scu, stored_files


def still_serving(server: Server) -> None:
    assoc = scu().associate("127.0.0.1", server.port, "STORESCP")
    assert assoc.send_c_echo() == 0
    assoc.release()


def store_command(msg_id: int = 1, uid: str = "1.2.3.4.5") -> bytes:
    return _core.dimse_encode(
        {2: CT, 0x100: 0x0001, 0x110: msg_id, 0x700: 0, 0x800: 1, 0x1000: uid}
    )


def test_wrong_called_aet_rejected(storage: Path) -> None:
    server = make_scp(require_called_aet=True).start_server(
        ("127.0.0.1", 0), block=False, storage=storage
    )
    try:
        with pytest.raises(AssociationRejected, match="called AE title not recognized") as ei:
            scu().associate("127.0.0.1", server.port, "WRONG")
        assert (ei.value.result, ei.value.source, ei.value.reason) == (1, 1, 7)
        assert isinstance(ei.value, NetworkError) and isinstance(ei.value, DicomError)
        still_serving(server)
    finally:
        server.shutdown()


def test_calling_aet_not_allowed(storage: Path) -> None:
    server = make_scp(require_calling_aet=["OTHER"]).start_server(("127.0.0.1", 0), block=False)
    try:
        with pytest.raises(AssociationRejected, match="calling AE title not recognized"):
            scu().associate("127.0.0.1", server.port, "STORESCP")
    finally:
        server.shutdown()


def test_no_acceptable_context(scp: Server) -> None:
    ae = AE("TESTSCU", acse_timeout=5)
    ae.add_requested_context("1.2.3.4.5.6.7")  # no such SOP class
    with pytest.raises(AssociationRejected, match="accepted none of the proposed"):
        ae.associate("127.0.0.1", scp.port, "STORESCP")
    ae = AE("TESTSCU", acse_timeout=5)
    ae.add_requested_context(CT, "1.2.3.4.99")  # unknown transfer syntax
    server2 = None
    try:
        only_le = AE("STRICT")
        only_le.add_supported_context(CT, "1.2.840.10008.1.2")
        server2 = only_le.start_server(("127.0.0.1", 0), block=False)
        with pytest.raises(AssociationRejected, match="transfer syntaxes not supported"):
            ae.associate("127.0.0.1", server2.port)
    finally:
        if server2:
            server2.shutdown()
    still_serving(scp)


@pytest.mark.parametrize("repeat", [5000, 800_000])  # 20 KB; 3.2 MB: whole chunks queued
def test_peer_abort_mid_transfer(scp: Server, storage: Path, repeat: int) -> None:
    peer = RawPeer(scp.port)
    ac = peer.associate()
    assert dict((c[0], c[1]) for c in ac["presentation_contexts"])[3] == 0
    peer.send(_core.encode_pdata(3, True, store_command(), 16384))
    peer.send(_core.encode_pdata(3, False, b"\x08\x00\x05\x00" * repeat, 16384, last=False))
    peer.send(_core.encode_abort(0, 0))
    assert peer.closed_by_peer()
    peer.close()
    still_serving(scp)
    assert not partial_files(storage) and not stored_files(storage)


def test_peer_closes_socket_mid_transfer(scp: Server, storage: Path) -> None:
    peer = RawPeer(scp.port)
    peer.associate()
    peer.send(_core.encode_pdata(3, True, store_command(), 16384))
    peer.send(_core.encode_pdata(3, False, b"\0" * 40000, 16384, last=False))
    peer.send(b"\x04\x00\x00\x00\x40")  # and half a header
    peer.close()
    still_serving(scp)  # the server task saw EOF; the temp file is gone
    # the server handles the close asynchronously; wait until the temp file is gone
    for _ in range(100):
        if not partial_files(storage):
            break
        threading.Event().wait(0.05)
    assert not partial_files(storage) and not stored_files(storage)


def test_oversized_pdu(scp: Server, storage: Path) -> None:
    peer = RawPeer(scp.port)
    peer.associate()
    peer.send(b"\x04\x00" + struct.pack(">I", 100_000_000))  # far above our maximum
    t, value, _ = peer.recv_pdu()
    assert t == 7 and value[0] == 2  # A-ABORT from the service provider
    assert peer.closed_by_peer()
    peer.close()
    still_serving(scp)
    assert not partial_files(storage)


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x09\x00\x00\x00\x00\x04\x00\x00\x00\x00",  # unknown PDU type
        b"\x04\x00\x00\x00\x00\x06\x00\x00\x00\x01\x03\x03",  # PDV item length 1
        b"\x04\x00\x00\x00\x00\x0e\x00\x00\x00\x0a\x03\x03" + b"\x02\x00\x00\x00\xff\xff\xff\x7f",
    ],
    ids=["unknown-type", "short-pdv", "bad-command"],
)
def test_malformed_pdu(scp: Server, storage: Path, garbage: bytes) -> None:
    peer = RawPeer(scp.port)
    peer.associate()
    peer.send(garbage)
    t, value, _ = peer.recv_pdu()
    assert t == 7  # aborted
    assert peer.closed_by_peer()
    peer.close()
    still_serving(scp)


def test_malformed_reply_gives_pdu_error_on_scu() -> None:
    """A peer that answers the A-ASSOCIATE-RQ with garbage."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    port = lsock.getsockname()[1]

    def bad_scp() -> None:
        conn, _ = lsock.accept()
        conn.recv(65536)
        conn.sendall(b"\x02\x00\x00\x00\x00\x02\x00\x01")  # A-ASSOCIATE-AC of 2 bytes
        conn.settimeout(5)
        try:
            conn.recv(100)
        except OSError:
            pass
        conn.close()

    t = threading.Thread(target=bad_scp)
    t.start()
    try:
        with pytest.raises(PduError) as ei:
            scu().associate("127.0.0.1", port)
        assert ei.value.peer is not None
    finally:
        t.join(10)
        lsock.close()


def test_dimse_timeout() -> None:
    """An SCP that accepts the association and then never answers."""

    async def silent(event: object) -> int:
        await asyncio.sleep(30)
        return 0

    from dicomfast.net import evt

    ae = AE("SLOW", acse_timeout=5)
    ae.add_supported_context(VERIFICATION_SOP_CLASS)
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_ECHO, silent)])
    try:
        client = AE("TESTSCU", acse_timeout=5, dimse_timeout=0.5)
        client.add_requested_context(VERIFICATION_SOP_CLASS)
        assoc = client.associate("127.0.0.1", server.port)
        with pytest.raises(DimseTimeout, match="no C-ECHO response within 0.5 s"):
            assoc.send_c_echo()
        assert assoc.is_aborted and not assoc.is_established
        with pytest.raises(NetworkError):
            assoc.send_c_echo()
    finally:
        server.shutdown()


def test_server_idle_timeout(storage: Path) -> None:
    ae = AE("IDLE", network_timeout=0.5, acse_timeout=0.5)
    ae.add_storage_scp_contexts()
    server = ae.start_server(("127.0.0.1", 0), block=False, storage=storage)
    try:
        peer = RawPeer(server.port)
        peer.associate()
        t, value, _ = peer.recv_pdu()  # nothing sent: the server aborts
        assert t == 7
        peer.close()
        quiet = RawPeer(server.port)  # not even an A-ASSOCIATE-RQ: ARTIM closes
        assert quiet.closed_by_peer()
        quiet.close()
    finally:
        server.shutdown()


def test_connection_refused() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(NetworkError, match="cannot connect"):
        scu().associate("127.0.0.1", port)


def test_peer_aborts_while_scu_waits() -> None:
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    port = lsock.getsockname()[1]

    def aborting_scp() -> None:
        conn, _ = lsock.accept()
        conn.recv(65536)
        conn.sendall(
            _core.encode_associate_ac(
                "ANY-SCP", "TESTSCU", [(1, 0, "1.2.840.10008.1.2.1")], [(0x51, 16384)]
            )
        )
        conn.recv(65536)  # the C-ECHO-RQ
        conn.sendall(_core.encode_abort(2, 0))
        conn.close()

    t = threading.Thread(target=aborting_scp)
    t.start()
    try:
        assoc = scu().associate("127.0.0.1", port)
        with pytest.raises(AssociationAborted, match="peer aborted"):
            assoc.send_c_echo()
    finally:
        t.join(10)
        lsock.close()


def test_max_associations(storage: Path) -> None:
    server = make_scp(maximum_associations=1).start_server(("127.0.0.1", 0), block=False)
    try:
        first = scu().associate("127.0.0.1", server.port, "STORESCP")
        with pytest.raises(AssociationRejected, match="local limit exceeded"):
            scu().associate("127.0.0.1", server.port, "STORESCP")
        first.release()
        still_serving(server)
    finally:
        server.shutdown()


def test_peer_stops_reading(tmp_path: Path) -> None:
    """A peer that accepts, then never reads: the send times out (network timeout)."""
    from netutil import big_file

    src = big_file(tmp_path, 16)
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    port = lsock.getsockname()[1]
    stop = threading.Event()

    def stuck_scp() -> None:
        conn, _ = lsock.accept()
        conn.recv(65536)
        conn.sendall(
            _core.encode_associate_ac(
                "ANY-SCP",
                "TESTSCU",
                [(1, 0, "1.2.840.10008.1.2.1"), (3, 0, "1.2.840.10008.1.2.1")],
                [(0x51, 0)],
            )
        )
        stop.wait(20)
        conn.close()

    t = threading.Thread(target=stuck_scp)
    t.start()
    try:
        client = AE("TESTSCU", acse_timeout=5, dimse_timeout=5, network_timeout=1)
        client.add_requested_context(VERIFICATION_SOP_CLASS)
        client.add_requested_context(CT)
        assoc = client.associate("127.0.0.1", port)
        with pytest.raises(DimseTimeout, match="read nothing for 1 s"):
            assoc.send_c_store(src)
        assert assoc.is_aborted
    finally:
        stop.set()
        t.join(10)
        lsock.close()


@pytest.mark.parametrize("uid", ["../../etc/passwd", "1.2/3", "1..2", "1" * 65, "1.2.3a"])
def test_unsafe_instance_uid_refused(scp: Server, storage: Path, uid: str) -> None:
    peer = RawPeer(scp.port)
    peer.associate()
    peer.send(_core.encode_pdata(3, True, store_command(7, uid), 16384))
    peer.send(_core.encode_pdata(3, False, b"\x08\x00\x05\x00\x00\x00\x00\x00", 16384))
    t, pdvs, raw = peer.recv_pdu()
    assert t == 4
    rsp = _core.dimse_decode(b"".join(raw[s:e] for _, _, _, s, e in pdvs))
    assert rsp[0x120] == 7 and rsp[0x900] == 0xC000 and "invalid" in rsp[0x902]
    peer.send(_core.encode_release_rq())
    assert peer.recv_pdu()[0] == 6
    peer.close()
    assert not list(storage.iterdir())
