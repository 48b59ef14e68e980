"""The PyO3 layer over dicomfast-pdu: PDUs and DIMSE command sets."""

from __future__ import annotations

import pytest
from dicomfast import _core
from dicomfast.errors import NetworkError, PduError
from dicomfast.net import dimse
from dicomfast.net.dimse import MessageAssembler
from dicomfast.net.storage import MemorySink


def test_associate_rq_roundtrip() -> None:
    items = [
        (0x51, 16384),
        (0x52, "1.2.3"),
        (0x55, "V1"),
        (0x54, ("1.2.840.10008.5.1.4.1.1.2", True, False)),
    ]
    b = _core.encode_associate_rq(
        "CALLED", "CALLING", [(1, "1.2.840.10008.1.1", ["1.2.840.10008.1.2"])], items
    )
    t, n, v = _core.pdu_read(b)
    assert (t, n) == (1, len(b))
    assert v["called_ae_title"] == "CALLED" and v["calling_ae_title"] == "CALLING"
    assert v["max_length"] == 16384 and v["implementation_version_name"] == "V1"
    assert v["presentation_contexts"] == [(1, "1.2.840.10008.1.1", ["1.2.840.10008.1.2"])]
    assert (0x54, ("1.2.840.10008.5.1.4.1.1.2", True, False)) in v["user_information"]


def test_ac_rj_release_abort_roundtrip() -> None:
    ac = _core.encode_associate_ac(
        "A", "B", [(1, 0, "1.2.840.10008.1.2"), (3, 3, None)], [(0x51, 0)]
    )
    t, _, v = _core.pdu_read(ac)
    assert t == 2 and v["presentation_contexts"] == [(1, 0, "1.2.840.10008.1.2"), (3, 3, None)]
    assert _core.pdu_read(_core.encode_associate_rj(1, 1, 7))[::2] == (3, (1, 1, 7))
    assert _core.pdu_read(_core.encode_release_rq())[::2] == (5, None)
    assert _core.pdu_read(_core.encode_release_rp())[::2] == (6, None)
    assert _core.pdu_read(_core.encode_abort(2, 6))[::2] == (7, (2, 6))


def test_need_more_and_offsets() -> None:
    b = _core.encode_release_rq()
    assert _core.pdu_read(b[:3]) == (0, 6, None)
    assert _core.pdu_read(b[:8]) == (0, 10, None)
    two = b"xx" + b + _core.encode_abort()
    assert _core.pdu_read(two, 2)[:2] == (5, 10)
    assert _core.pdu_read(two, 12)[0] == 7


def test_malformed_and_oversized() -> None:
    with pytest.raises(PduError, match="unknown PDU type 0x09") as ei:
        _core.pdu_read(b"\x09\x00\x00\x00\x00\x04\x00\x00\x00\x00")
    assert ei.value.offset == 0 and isinstance(ei.value, NetworkError)
    with pytest.raises(PduError, match="above the accepted maximum"):
        _core.pdu_read(b"\x04\x00\x00\x10\x00\x00", 0, 16384)
    with pytest.raises(PduError):
        _core.pdu_read(b"\x05\x00\x00\x00\x00\x03\x00\x00\x00")  # A-RELEASE-RQ of length 3
    with pytest.raises(PduError):
        _core.pdu_read(b"\x04\x00\x00\x00\x00\x06\x00\x00\x00\x01\x01\x03")  # PDV length 1


def test_fragment_and_reassemble() -> None:
    body = bytes(range(256)) * 100
    wire = _core.encode_pdata(3, False, body, 1000)
    as_list = _core.encode_pdata(3, False, body, 1000, as_list=True)
    assert b"".join(bytes(x) for x in as_list) == wire
    pos, got, pdus = 0, bytearray(), 0
    while pos < len(wire):
        t, n, pdvs = _core.pdu_read(wire, pos, 1000)
        assert t == 4 and n <= 1006
        for pc, is_cmd, last, s, e in pdvs:
            assert pc == 3 and not is_cmd
            got += wire[s:e]
            assert last == (pos + n == len(wire))
        pos += n
        pdus += 1
    assert bytes(got) == body and pdus == -(-len(body) // 994)
    not_last = _core.encode_pdata(3, False, b"abc", 1000, last=False)
    assert _core.pdu_read(not_last)[2][0][2] is False


def test_rust_reassembler_checks_order() -> None:
    r = _core.Reassembler()
    with pytest.raises(PduError, match="without a preceding command"):
        r.push(1, False, True, b"data")
    cmd = _core.dimse_encode({0x100: 1, 0x110: 1, 0x800: 1, 2: "1.2", 0x1000: "1.2.3"})
    assert r.push(1, True, True, cmd) == (1, True, cmd)
    assert r.push(1, False, False, b"ab") is None
    assert r.push(1, False, True, b"cd") == (1, False, b"abcd")


def test_dimse_roundtrip() -> None:
    cmd = {
        dimse.AFFECTED_SOP_CLASS_UID: "1.2.840.10008.1.1",
        dimse.COMMAND_FIELD: dimse.C_ECHO_RSP,
        dimse.MESSAGE_ID_BEING_RESPONDED_TO: 7,
        dimse.COMMAND_DATA_SET_TYPE: dimse.NO_DATA_SET,
        dimse.STATUS: 0xC001,
        dimse.ERROR_COMMENT: "odd",
        dimse.OFFENDING_ELEMENT: [0x00100010],
    }
    b = dimse.encode_command(cmd)
    assert len(b) % 2 == 0
    assert dimse.decode_command(b) == cmd
    with pytest.raises(PduError):
        dimse.decode_command(b[:-3])


def test_streaming_assembler_orders_and_sinks() -> None:
    sinks: list[MemorySink] = []

    def open_sink(pc: int, command: dict) -> MemorySink:
        sinks.append(MemorySink(b"META"))
        return sinks[-1]

    a = MessageAssembler(open_sink)
    cmd = _core.dimse_encode({0x100: 1, 0x110: 1, 0x800: 1, 2: "1.2", 0x1000: "1.2.3"})
    wire = _core.encode_pdata(1, True, cmd, 20) + _core.encode_pdata(1, False, b"x" * 50, 20)
    msgs = []
    pos = 0
    while pos < len(wire):
        _, n, pdvs = _core.pdu_read(wire, pos)
        msgs += a.feed(wire, pdvs)
        pos += n
    assert len(msgs) == 1 and msgs[0].sink is sinks[0]
    assert bytes(sinks[0].buffer) == b"META" + b"x" * 50 and a.idle
    with pytest.raises(PduError, match="without a command"):
        a.feed(wire, [(1, False, True, 0, 4)])
