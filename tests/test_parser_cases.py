"""Parser cases built byte by byte: UN sequences, odd lengths, group lengths,
offset tables, raw data sets without meta (PS3.5 §6.2.2, §7.1, §7.5, A.4)."""

from __future__ import annotations

import io
import struct

import dicomfast
import numpy as np
import pytest
from dicomfast import uid

LONG = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}


def el(tag: int, vr: str, value: bytes, *, be: bool = False, length: int | None = None) -> bytes:
    o = ">" if be else "<"
    n = len(value) if length is None else length
    if vr in LONG:
        return struct.pack(o + "HH2s2xI", tag >> 16, tag & 0xFFFF, vr.encode(), n) + value
    return struct.pack(o + "HH2sH", tag >> 16, tag & 0xFFFF, vr.encode(), n) + value


def imp(tag: int, value: bytes, length: int | None = None) -> bytes:
    n = len(value) if length is None else length
    return struct.pack("<HHI", tag >> 16, tag & 0xFFFF, n) + value


def item(body: bytes, *, undefined: bool = True, be: bool = False) -> bytes:
    o = ">" if be else "<"
    if undefined:
        return (
            struct.pack(o + "HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
            + body
            + struct.pack(o + "HHI", 0xFFFE, 0xE00D, 0)
        )
    return struct.pack(o + "HHI", 0xFFFE, 0xE000, len(body)) + body


SEQ_END = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)


def part10(body: bytes, ts: str) -> bytes:
    tsv = ts.encode() + (b"\0" if len(ts) % 2 else b"")
    meta = el(0x00020010, "UI", tsv)
    return b"\0" * 128 + b"DICM" + el(0x00020000, "UL", struct.pack("<I", len(meta))) + meta + body


def test_un_of_undefined_length_holds_an_implicit_sequence() -> None:
    inner = imp(0x00081150, b"1.2.3\0") + imp(0x00081155, b"4.5\0")
    body = el(0x00081140, "UN", item(inner) + SEQ_END, length=0xFFFFFFFF)
    body += el(0x00100010, "PN", b"DOE^J ")
    ds = dicomfast.read(part10(body, uid.ExplicitVRLittleEndian))
    seq = ds.ReferencedImageSequence
    assert len(seq) == 1 and seq[0].ReferencedSOPClassUID == "1.2.3"
    assert ds.PatientName == "DOE^J"
    out = io.BytesIO()
    dicomfast.write(ds, out)  # unchanged: the same bytes
    assert out.getvalue().endswith(body)
    for ts in (uid.ImplicitVRLittleEndian, uid.ExplicitVRBigEndian):
        out = io.BytesIO()
        dicomfast.write(ds, out, transfer_syntax=ts)
        back = dicomfast.read(out.getvalue())
        assert back.ReferencedImageSequence[0].ReferencedSOPInstanceUID == "4.5"


def test_known_tag_written_as_un_uses_the_dictionary_vr() -> None:
    body = el(0x00280010, "UN", struct.pack("<H", 512)) + el(0x00280030, "UN", b"0.5\\0.25")
    ds = dicomfast.read(part10(body, uid.ExplicitVRLittleEndian))
    assert ds.Rows == 512 and ds.PixelSpacing == [0.5, 0.25]
    assert ds["Rows"].VR == "US"


def test_odd_lengths_and_group_lengths_are_tolerated() -> None:
    body = (
        el(0x00080000, "UL", struct.pack("<I", 18))
        + el(0x00080060, "CS", b"CT")
        + el(0x00081030, "LO", b"odd")
    )
    ds = dicomfast.read(part10(body, uid.ExplicitVRLittleEndian))
    assert ds[0x00080000].value == 18 and ds.StudyDescription == "odd" and ds.Modality == "CT"
    out = io.BytesIO()
    dicomfast.write(ds, out)
    assert out.getvalue().endswith(body), "odd length kept byte for byte"
    out = io.BytesIO()
    dicomfast.write(ds, out, transfer_syntax=uid.ImplicitVRLittleEndian)
    back = dicomfast.read(out.getvalue())
    assert back[0x00080000].value == 8 + 2 + 8 + 3, "group length recomputed on conversion"


def test_nested_defined_and_undefined_lengths() -> None:
    leaf = el(0x00100020, "LO", b"ID")
    level2 = el(0x00081115, "SQ", item(leaf, undefined=False))
    level1 = el(0x00081140, "SQ", item(level2) + SEQ_END, length=0xFFFFFFFF)
    ds = dicomfast.read(part10(level1, uid.ExplicitVRLittleEndian))
    assert ds.ReferencedImageSequence[0].ReferencedSeriesSequence[0].PatientID == "ID"
    names = [e.keyword for e in ds.walk()]
    assert names == ["ReferencedImageSequence", "ReferencedSeriesSequence", "PatientID"]


def _encapsulated(fragments: list[bytes], bot: list[int] | None) -> bytes:
    table = b"".join(struct.pack("<I", x) for x in bot or [])
    items = struct.pack("<HHI", 0xFFFE, 0xE000, len(table)) + table
    for f in fragments:
        items += struct.pack("<HHI", 0xFFFE, 0xE000, len(f)) + f
    return el(0x7FE00010, "OB", items + SEQ_END, length=0xFFFFFFFF)


@pytest.mark.parametrize("how", ["bot", "eot", "one-per-frame", "markers"])
def test_fragments_map_to_frames(how: str) -> None:
    frags = [b"\xff\xd8aa", b"bb", b"\xff\xd8cc", b"\xff\xd8dd", b"ee"]
    # frames: [0,1], [2], [3,4]
    starts = [0, 8 + 4 + 8 + 2, 8 + 4 + 8 + 2 + 8 + 4]
    header = el(0x00280008, "IS", b"3 ")
    if how == "bot":
        body = header + _encapsulated(frags, starts)
    elif how == "eot":
        body = header + el(0x7FE00001, "OV", np.array(starts, "<u8").tobytes())
        body += el(0x7FE00002, "OV", np.array([14, 6, 14], "<u8").tobytes())
        body += _encapsulated(frags, None)
    elif how == "one-per-frame":
        frags = frags[:3]
        body = header + _encapsulated(frags, None)
    else:
        body = header + _encapsulated(frags, None)
    ds = dicomfast.read(part10(body, uid.JPEGLosslessSV1))
    raw = ds._raw
    node = ds["PixelData"]._node
    eot = ds["ExtendedOffsetTable"]._node if how == "eot" else None
    frames = raw.frame_fragments(node, 3, eot)
    src = bytes(memoryview(raw.source))
    got = [b"".join(src[o : o + n] for o, n in f) for f in frames]
    if how == "one-per-frame":
        assert got == frags
    else:
        assert got == [b"\xff\xd8aabb", b"\xff\xd8cc", b"\xff\xd8ddee"]


def test_fragments_that_cannot_make_the_frames_raise() -> None:
    body = el(0x00280008, "IS", b"4 ") + _encapsulated([b"a", b"b", b"c"], None)
    ds = dicomfast.read(part10(body, uid.JPEGLosslessSV1))
    with pytest.raises(dicomfast.PixelDataError):
        ds._raw.frame_fragments(ds["PixelData"]._node, 4, None)


@pytest.mark.parametrize("be,explicit", [(False, False), (False, True), (True, True)])
def test_raw_data_sets_without_meta_are_detected(be: bool, explicit: bool) -> None:
    if explicit:
        body = el(0x00080060, "CS", b"MR", be=be) + el(
            0x00280010, "US", struct.pack(">H" if be else "<H", 256), be=be
        )
    else:
        body = imp(0x00080060, b"MR") + imp(0x00280010, struct.pack("<H", 256))
    ds = dicomfast.read(body)
    assert ds.Modality == "MR" and ds.Rows == 256
    assert ds.file_meta is None
    assert ds.transfer_syntax == (
        uid.ExplicitVRBigEndian
        if be
        else uid.ExplicitVRLittleEndian
        if explicit
        else uid.ImplicitVRLittleEndian
    )


def test_deflated_data_set() -> None:
    import zlib

    plain = el(0x00100010, "PN", b"DEFLATED") + el(0x00280010, "US", struct.pack("<H", 7))
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = part10(z.compress(plain) + z.flush(), uid.DeflatedExplicitVRLittleEndian)
    ds = dicomfast.read(data)
    assert ds.PatientName == "DEFLATED" and ds.Rows == 7
    out = io.BytesIO()
    dicomfast.write(ds, out)
    assert dicomfast.read(out.getvalue()).PatientName == "DEFLATED"
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = b"\0" * (1 << 20)
    bomb_body = b"".join(z.compress(zeros) for _ in range(400)) + z.flush()  # 400 MB → ~400 KB
    bomb = part10(bomb_body, uid.DeflatedExplicitVRLittleEndian)
    with pytest.raises(dicomfast.InvalidDicomError, match="limit"):
        dicomfast.read(bomb)  # inflates far beyond the allowed ratio: refused, not allocated


def test_indexed_nodes_counts_what_read_indexes_without_a_copy() -> None:
    """``reader.indexed_nodes`` of a writable buffer gives the node count ``read`` of
    the same bytes indexes (with and without the pixel data), on every corpus file
    that parses; what ``read`` refuses it refuses too."""
    from corpus_data import CORPUS
    from dicomfast.errors import DicomError
    from dicomfast.reader import indexed_nodes, read

    files = sorted(p for p in CORPUS.rglob("*.dcm") if p.stat().st_size < (8 << 20))[:120]
    assert len(files) >= 50
    for path in files:
        data = path.read_bytes()
        for stop in (True, False):
            try:
                want = len(read(data, stop_before_pixels=stop)._raw)
            except DicomError:
                with pytest.raises(DicomError):
                    indexed_nodes(bytearray(data), stop_before_pixels=stop)
                continue
            assert indexed_nodes(bytearray(data), stop_before_pixels=stop) == want, path
    with pytest.raises(DicomError):
        indexed_nodes(bytearray(b"\x00" * 128 + b"DICM" + b"\xff" * 40))


def test_header_extent_ends_where_a_parse_before_the_pixels_ends() -> None:
    """``reader.header_extent``: the node count ``read(..., stop_before_pixels=True)``
    indexes, and an end offset such that the bytes before it alone index the same
    elements with the same values (corpus files that parse, sequences and
    undefined lengths among them); refused where ``read`` refuses."""
    from corpus_data import CORPUS
    from dicomfast.errors import DicomError
    from dicomfast.reader import header_extent, read

    files = sorted(p for p in CORPUS.rglob("*.dcm") if p.stat().st_size < (8 << 20))[:120]
    checked = cut = 0
    for path in files:
        data = path.read_bytes()
        try:
            whole = read(data, stop_before_pixels=True)
        except DicomError:
            with pytest.raises(DicomError):
                header_extent(bytearray(data))
            continue
        nodes, end = header_extent(bytearray(data))
        assert nodes == len(whole._raw), path
        assert 0 < end <= len(data), path
        head = read(data[:end], stop_before_pixels=True)
        assert len(head._raw) == nodes, path
        assert head.to_json_dict() == whole.to_json_dict(), path
        checked += 1
        cut += end < len(data)
    assert checked >= 50 and cut >= 30, (checked, cut)
