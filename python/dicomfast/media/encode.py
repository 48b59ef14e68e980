"""The file-set's tree → the bytes of a DICOMDIR (PS3.3 F.3, PS3.10 §8).

Explicit VR little endian, records as defined-length items in depth-first order.
Every record is encoded once with its three offsets left 0; its position follows
from the encoded lengths, and the offsets (F.3.2.1: bytes from the first byte of
the file, preamble included) are then written into the encoded records.
"""

from __future__ import annotations

import struct
from typing import Any

from .. import uid as uids
from ..dataset import Dataset, FileMetaDataset
from ..element import DataElement
from ..writer import _CHARSET_VRS, _SINGLE_TEXT, LONG_LENGTH_VRS, encode_element
from .records import RecordNode

MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"  # Media Storage Directory Storage (PS3.4)

# Record header elements (group 0004) in tag order, then the keys (groups >= 0008).
_NEXT, _IN_USE, _LOWER = 0x00041400, 0x00041410, 0x00041420
_HEADER_TAGS = (0x00041430, 0x00041432, 0x00041500, 0x00041510, 0x00041511, 0x00041512)


def _ul(tag: int, value: int) -> bytes:
    return struct.pack("<HH2sHI", tag >> 16, tag & 0xFFFF, b"UL", 4, value)


def _us(tag: int, value: int) -> bytes:
    return struct.pack("<HH2sHH", tag >> 16, tag & 0xFFFF, b"US", 2, value)


#: Text VRs: a value read from a file is copied as its bytes (in its file's
#: character set, which the record carries along as its Specific Character Set).
_TEXT_VRS = _CHARSET_VRS | {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI", "UR"}
_HEAD = _ul(_NEXT, 0) + _us(_IN_USE, 0xFFFF) + _ul(_LOWER, 0)


def _text_value(elem: DataElement) -> bytes | None:
    """The value of a text element as it is written, padded to even length; None
    when the general writer must encode it (a changed non-ASCII value, numbers)."""
    src = elem._src
    if elem._node >= 0 and src is not None:
        b = src.value_bytes_of(elem._node)  # as read (the writer's "unchanged")
        # ... unless a list value (several values: a backslash) was changed in place;
        # one value as read needs no conversion to know it
        if b"\\" not in b or elem.VR in _SINGLE_TEXT or elem.value.__class__ is not list:
            if len(b) & 1:
                b += b"\0" if elem.VR == "UI" else b" "
            return b
    v = elem.value
    if v is None:
        b = b""
    elif isinstance(v, str) and v.isascii():  # UI values are UID, a str
        b = v.encode()
    elif (
        v.__class__ is list
        and elem.VR not in _SINGLE_TEXT
        and all(isinstance(x, str) and x.isascii() for x in v)
    ):
        b = "\\".join(v).encode()
    else:
        return None
    if len(b) & 1:
        b += b"\0" if elem.VR == "UI" else b" "
    return b


def _binary_value(elem: DataElement) -> bytes | None:
    """A UL/US number or OB bytes as written (the DICOMDIR header's); None otherwise."""
    v, vr = elem.value, elem.VR
    if vr in _NUMBER and isinstance(v, int):
        return struct.pack(_NUMBER[vr], v)
    if vr == "OB" and isinstance(v, bytes):
        return v + b"\0" if len(v) & 1 else v
    return None


_NUMBER = {"UL": "<I", "US": "<H"}


def _encode_elements(out: bytearray, ds: Dataset, tags: list[int]) -> None:
    """Append the elements ``tags`` of ``ds`` to ``out`` (explicit VR little endian).

    Records are small and mostly text: each text element is written here from its
    bytes as read (or from its ASCII text), plain numbers and bytes directly; the
    rest (sequences, changed non-ASCII text...) through the general writer, in the
    data set's character set."""
    charset: Any = False
    raw, table = ds._raw, ds._table()
    run: list[int] = []  # nodes of elements as read, encoded by the index in one call
    for tag in tags:
        node = table[tag]
        if node.__class__ is int:
            run.append(node)
            continue
        if run:
            out += raw.encode(run, True, False)
            run = []
        elem = ds._element(tag)
        vr = elem.VR
        b = _text_value(elem) if vr in _TEXT_VRS else _binary_value(elem)
        if b is not None and (len(b) < 0x10000 or vr in LONG_LENGTH_VRS):
            if vr in LONG_LENGTH_VRS:
                out += struct.pack("<HH2s2xI", tag >> 16, tag & 0xFFFF, vr.encode(), len(b))
            else:
                out += struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr.encode(), len(b))
            out += b
            continue
        if charset is False:
            charset = ds._get_charset()
        for chunk in encode_element(elem, True, False, charset):
            out += chunk
    if run:
        out += raw.encode(run, True, False)


def encode_record(node: RecordNode) -> bytearray:
    """The item of one record, its two offsets 0 (at _AT_NEXT and _AT_LOWER)."""
    ds = node.dataset
    out = bytearray(8) + _HEAD
    _encode_elements(out, ds, [t for t in ds._tags() if t >> 16 != 4 or t in _HEADER_TAGS])
    struct.pack_into("<HHI", out, 0, 0xFFFE, 0xE000, len(out) - 8)
    return out


def _front(header: Dataset, fileset_uid: str) -> bytearray:
    """Preamble, file meta group and the DICOMDIR's own elements before its records:
    what ``writer.encode_file`` writes for them (byte for byte), made here from the
    same values."""
    meta = FileMetaDataset()
    meta.add_new(0x00020001, "OB", b"\0\1")
    meta.add_new(0x00020002, "UI", MEDIA_STORAGE_DIRECTORY)
    meta.add_new(0x00020003, "UI", fileset_uid)
    meta.add_new(0x00020010, "UI", uids.ExplicitVRLittleEndian)
    meta.add_new(0x00020012, "UI", uids.IMPLEMENTATION_CLASS_UID)
    meta.add_new(0x00020013, "SH", uids.IMPLEMENTATION_VERSION_NAME)
    body = bytearray()
    _encode_elements(body, meta, meta._tags())
    out = bytearray(128) + b"DICM" + _ul(0x00020000, len(body)) + body
    _encode_elements(out, header, header._tags())
    return out


# Where the values of the three offsets sit inside an encoded record.
_AT_NEXT = 8 + 8
_AT_LOWER = 8 + 12 + 10 + 8


def encode_dicomdir(
    roots: list[RecordNode],
    *,
    fileset_uid: str,
    fileset_id: str = "",
    descriptor_file_id: tuple[str, ...] | None = None,
    descriptor_charset: str | None = None,
) -> list[bytes | bytearray | memoryview]:
    header = Dataset()
    header.add_new(0x00041130, "CS", fileset_id)
    if descriptor_file_id:
        header.add_new(0x00041141, "CS", list(descriptor_file_id))
        if descriptor_charset:
            header.add_new(0x00041142, "CS", descriptor_charset)
    header.add_new(0x00041200, "UL", 0)
    header.add_new(0x00041202, "UL", 0)
    header.add_new(0x00041212, "US", 0)
    front = _front(header, fileset_uid)
    order = [n for r in roots for n in r]
    encoded = [encode_record(n) for n in order]
    seq_len = sum(len(e) for e in encoded)
    seq_header = struct.pack("<HH2s2xI", 0x0004, 0x1220, b"SQ", seq_len)
    pos = len(front) + len(seq_header)
    offset: dict[int, int] = {}
    for n, e in zip(order, encoded, strict=True):
        offset[id(n)] = pos
        pos += len(e)
    record = {id(n): e for n, e in zip(order, encoded, strict=True)}
    for siblings in (roots, *(n.children for n in order)):
        for i, n in enumerate(siblings):
            e = record[id(n)]
            if i + 1 < len(siblings):
                struct.pack_into("<I", e, _AT_NEXT, offset[id(siblings[i + 1])])
            if n.children:
                struct.pack_into("<I", e, _AT_LOWER, offset[id(n.children[0])])
    first = offset[id(roots[0])] if roots else 0
    last = offset[id(roots[-1])] if roots else 0
    # (0004,1200) and (0004,1202) are the two UL elements before (0004,1212) US at the end.
    struct.pack_into("<I", front, len(front) - 10 - 12 - 4, first)
    struct.pack_into("<I", front, len(front) - 10 - 4, last)
    return [front, seq_header, *encoded]
