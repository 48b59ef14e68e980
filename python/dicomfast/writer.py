"""``dicomfast.write``: a :class:`Dataset` → a Part 10 file (PS3.10 §7.1) in
any uncompressed transfer syntax, deflated included.

Elements that are exactly as read are encoded by the Rust core (their bytes
copied when the encoding is unchanged, so an unmodified data set is written
back byte for byte); new or changed elements are encoded here.
Files are written to a temporary name, flushed to disk and renamed.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections import abc
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

from . import syntaxes
from . import uid as uids
from .charset import encode_text
from .dataset import UNDEFINED_LENGTH, Dataset, FileMetaDataset, Sequence
from .element import ARRAY_VRS, DataElement
from .errors import WriteError
from .lazy_numpy import LazyNumpy
from .tempfiles import fsync_path, publish

if TYPE_CHECKING:
    import numpy as np
else:
    np = LazyNumpy(globals())  # imported on first use (see lazy_numpy)

LONG_LENGTH_VRS = frozenset(
    {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
)
_NUMERIC = {
    "US": "u2",
    "SS": "i2",
    "UL": "u4",
    "SL": "i4",
    "UV": "u8",
    "SV": "i8",
    "FL": "f4",
    "FD": "f8",
}
_CHARSET_VRS = frozenset({"SH", "LO", "UC", "ST", "LT", "UT", "PN"})
_SINGLE_TEXT = frozenset({"LT", "ST", "UT", "UR"})


def _header(tag: int, vr: str, length: int, explicit: bool, be: bool) -> bytes:
    o = ">" if be else "<"
    if not explicit:
        return struct.pack(o + "HHI", tag >> 16, tag & 0xFFFF, length)
    if vr in LONG_LENGTH_VRS:
        return struct.pack(o + "HH2s2xI", tag >> 16, tag & 0xFFFF, vr.encode(), length)
    return struct.pack(o + "HH2sH", tag >> 16, tag & 0xFFFF, vr.encode(), length)


def format_ds(v: Any) -> str:
    """A Decimal String of at most 16 characters (PS3.5 Table 6.2-1)."""
    if isinstance(v, str):
        return v
    if isinstance(v, int | np.integer):
        return str(int(v))
    f = float(v)
    if f.is_integer() and abs(f) < 1e15:
        return str(int(f))
    text = repr(f)
    if len(text) <= 16:
        return text
    for digits in range(15, 0, -1):
        text = f"{f:.{digits}g}"
        if len(text) <= 16:
            return text
    raise WriteError(f"{v!r} cannot be written as a Decimal String")


def _as_list(value: Any) -> list[Any]:
    """A value's values: a list, tuple or array, or any other non-text sequence (such
    as a pydicom ``MultiValue`` copied from a pydicom data set), else the one value."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, np.ndarray):
        return value.ravel().tolist()
    if isinstance(value, abc.Sequence) and not isinstance(value, str | bytes | bytearray):
        return list(value)
    return [value]


def _array_bytes(value: np.ndarray, vr: str, o: Literal["<", ">"]) -> memoryview:
    """The bytes of an array value in the element's byte order: a view of ``value`` when
    it is already laid out so (no copy of e.g. Pixel Data), else of a converted copy."""
    a = value.astype(np.dtype(ARRAY_VRS.get(vr, "u1")).newbyteorder(o), copy=False)
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8).data


def _value_bytes(
    elem: DataElement, *, explicit_vr: bool, big_endian: bool, charset: Any
) -> tuple[bytes | memoryview, bytes]:
    """The value bytes of ``elem`` (a view for array values) and the padding to even
    length."""
    if elem.VR in ARRAY_VRS and isinstance(elem.value, np.ndarray):
        data = _array_bytes(elem.value, elem.VR, ">" if big_endian else "<")
        return data, b"\0" * (len(data) % 2)
    return encode_value(elem, explicit_vr=explicit_vr, big_endian=big_endian, charset=charset), b""


def encode_value(elem: DataElement, *, explicit_vr: bool, big_endian: bool, charset: Any) -> bytes:
    """The value bytes of ``elem`` (padded to even length)."""
    vr, value = elem.VR, elem.value
    o: Literal["<", ">"] = ">" if big_endian else "<"
    if value is None or (isinstance(value, str | bytes | list) and len(value) == 0):
        return b""
    if vr in ARRAY_VRS or vr == "UN":
        if isinstance(value, np.ndarray):
            data = bytes(_array_bytes(value, vr, o))
        else:
            data = bytes(value)
            unit = np.dtype(ARRAY_VRS.get(vr, "u1")).itemsize
            if big_endian and unit > 1 and len(data) % unit == 0:
                data = np.frombuffer(data, f"<u{unit}").astype(f">u{unit}").tobytes()
    elif vr in _NUMERIC:
        dtype = np.dtype(_NUMERIC[vr]).newbyteorder(o)
        try:
            data = np.asarray(_as_list(value), dtype=dtype).tobytes()
        except (OverflowError, TypeError, ValueError) as e:
            raise WriteError(f"{vr} value {value!r} cannot be written: {e}", tag=elem.tag) from None
    elif vr == "AT":
        tags = _as_list(value)
        data = b"".join(struct.pack(o + "HH", t >> 16, t & 0xFFFF) for t in tags)
    else:
        if vr == "DS":
            parts = [format_ds(v) for v in _as_list(value)]
        elif vr == "IS":
            parts = [str(v) if isinstance(v, str) else str(int(v)) for v in _as_list(value)]
        elif vr in _SINGLE_TEXT:
            parts = [str(value)]
        else:
            parts = [str(v) for v in _as_list(value)]
        text = "\\".join(parts)
        data = encode_text(text, charset if vr in _CHARSET_VRS else None, vr)
    if len(data) % 2:
        data += b"\0" if vr in ("UI", "OB", "UN") else (b"\0" if vr in ARRAY_VRS else b" ")
    return data


def _unchanged(ds: Dataset, elem: DataElement) -> bool:
    """Is a materialized element still exactly as read?"""
    if elem._node < 0 or elem._src is None:
        return False
    if elem.VR == "SQ" or isinstance(elem.value, Sequence):
        return _clean_sequence(ds, elem)
    v = elem.value
    if isinstance(v, list):
        return v == ds._raw.value(elem._node, ds._get_charset()) if elem._src is ds._raw else False
    if isinstance(v, np.ndarray):
        return not v.flags.writeable
    return True


def _clean_sequence(ds: Dataset, elem: DataElement) -> bool:
    """A sequence whose items are the ones read, none of them changed."""
    raw = ds._raw
    items = elem.value
    if raw is None or elem._src is not raw or not isinstance(items, Sequence):
        return False
    kids = raw.children(elem._node)
    if len(items) != len(kids):
        return False
    for item, node in zip(items, kids, strict=True):
        if item._raw is not raw or item._node != node or not _clean_dataset(item):
            return False
    return True


def dataset_unchanged(ds: Dataset) -> bool:
    """True while no element of ``ds`` (read from a buffer) was added, changed or deleted."""
    return ds._raw is not None and _clean_dataset(ds)


def _clean_dataset(item: Dataset) -> bool:
    m = item._map
    if m is None:
        return True  # never looked at
    if len(m) != len(item._raw.children(item._node)):
        return False
    return all(v.__class__ is int or _unchanged(item, v) for v in m.values())


def encode_dataset(
    ds: Dataset, explicit: bool, be: bool, *, file_body: bool = False
) -> list[bytes | memoryview]:
    """Encode every element of ``ds`` (an item or a top-level data set).

    Group Length elements (gggg,0000) are recalculated when the encoding
    changes, as DCMTK does; an unchanged encoding keeps the bytes as read.
    With ``file_body`` (the data set of a Part 10 file, or of a DIMSE message),
    group 0002 elements are left out: they belong to the file meta group only
    (PS3.10 7.1), and a stray
    one in the data set (a flipped byte makes them) would be read back by some
    readers in place of the file meta's.
    """
    tags = ds._tags()
    if file_body and tags and tags[0] >> 16 <= 2:  # sorted: group 0002 comes first
        tags = [t for t in tags if t >> 16 != 2]
    raw = ds._raw
    converting = raw is None or (raw.explicit_vr, raw.big_endian) != (explicit, be)
    if not converting or not any(t & 0xFFFF == 0 and t >> 16 != 2 for t in tags):
        return _encode_tags(ds, tags, explicit, be)
    chunks: list[bytes | memoryview] = []
    o = ">" if be else "<"
    start = 0
    while start < len(tags):
        group = tags[start] >> 16
        end = start
        while end < len(tags) and tags[end] >> 16 == group:
            end += 1
        members = [t for t in tags[start:end] if t & 0xFFFF]
        body = _encode_tags(ds, members, explicit, be)
        if tags[start] & 0xFFFF == 0:
            chunks.append(_header(group << 16, "UL", 4, explicit, be))
            chunks.append(struct.pack(o + "I", sum(len(c) for c in body)))
        chunks.extend(body)
        start = end
    return chunks


def _encode_tags(
    ds: Dataset, tags: list[int], explicit: bool, be: bool
) -> list[bytes | memoryview]:
    chunks: list[bytes | memoryview] = []
    raw = ds._raw
    run: list[int] = []  # nodes of run_src, encoded together by the core
    run_src: Any = None
    pr = ds._inherited(0x00280103) if raw is not None else 0
    pr = pr if isinstance(pr, int) else 0

    def flush() -> None:
        if run:
            # Large values taken unchanged come back as views of the source, not copies.
            chunks.extend(run_src.encode_parts(run, explicit, be, pr))
            run.clear()

    table = ds._table()
    values = [table[t] for t in tags]
    cs = None
    start = 0
    # Elements still in the index (ints: their node) are taken a slice at a time; only
    # the materialized ones are looked at one by one.
    for i in [i for i, v in enumerate(values) if v.__class__ is not int]:
        if start < i:
            if run_src is not raw:
                flush()
                run_src = raw
            run.extend(values[start:i])
        start = i + 1
        v = values[i]
        if _unchanged(ds, v):
            if run_src is not v._src:
                flush()
                run_src = v._src
            run.append(v._node)
            continue
        flush()
        if cs is None:
            cs = ds._get_charset()
        chunks.extend(encode_element(v, explicit, be, cs))
    if start < len(values):
        if run_src is not raw:
            flush()
            run_src = raw
        run.extend(values[start:])
    flush()
    return chunks


def encode_element(
    elem: DataElement, explicit: bool, be: bool, charset: Any
) -> list[bytes | memoryview]:
    tag, vr, value = elem.tag, elem.VR, elem.value
    o = ">" if be else "<"
    if vr == "SQ" or isinstance(value, Sequence):
        undefined = getattr(value, "_undefined_length", True)
        body: list[bytes | memoryview] = []
        for item in value or []:
            item_chunks = encode_dataset(item, explicit, be)
            if undefined:
                body.append(struct.pack(o + "HHI", 0xFFFE, 0xE000, UNDEFINED_LENGTH))
                body.extend(item_chunks)
                body.append(struct.pack(o + "HHI", 0xFFFE, 0xE00D, 0))
            else:
                n = sum(len(c) for c in item_chunks)
                body.append(struct.pack(o + "HHI", 0xFFFE, 0xE000, n))
                body.extend(item_chunks)
        if undefined:
            body.append(struct.pack(o + "HHI", 0xFFFE, 0xE0DD, 0))
            return [_header(tag, "SQ", UNDEFINED_LENGTH, explicit, be), *body]
        return [_header(tag, "SQ", sum(len(c) for c in body), explicit, be), *body]
    if elem._length == UNDEFINED_LENGTH and vr in ("OB", "OW"):
        # Encapsulated pixel data: items and delimiter are in the value (PS3.5 A.4).
        if not explicit or be:
            raise WriteError(
                "encapsulated pixel data needs an encapsulated transfer syntax; decompress first",
                tag=tag,
            )
        if isinstance(value, np.ndarray):  # written from the array itself: no copy
            data: bytes | memoryview = np.ascontiguousarray(value).reshape(-1).view(np.uint8).data
        else:
            data = bytes(value)
        return [_header(tag, vr, UNDEFINED_LENGTH, explicit, be), data]
    data, pad = _value_bytes(elem, explicit_vr=explicit, big_endian=be, charset=charset)
    n = len(data) + len(pad)
    if explicit and vr not in LONG_LENGTH_VRS and n > 0xFFFF:
        vr = "UN"
    if n >= UNDEFINED_LENGTH:
        raise WriteError(f"value of {n} bytes is too long", tag=tag)
    if pad:
        return [_header(tag, vr, n, explicit, be), data, pad]
    return [_header(tag, vr, n, explicit, be), data]


def _file_meta(ds: Dataset, transfer_syntax: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    if ds.file_meta is not None:
        for elem in ds.file_meta:
            if elem.tag != 0x00020000:
                meta[elem.tag] = elem
    if 0x00020001 not in meta:
        meta.add_new(0x00020001, "OB", np.frombuffer(b"\x00\x01", np.uint8))
    for meta_tag, ds_tag in ((0x00020002, 0x00080016), (0x00020003, 0x00080018)):
        if meta_tag not in meta and ds_tag in ds:
            meta.add_new(meta_tag, "UI", ds[ds_tag].value)
    if meta.get(0x00020010) is None or meta.TransferSyntaxUID != transfer_syntax:
        meta.add_new(0x00020010, "UI", transfer_syntax)
    if 0x00020012 not in meta:
        meta.add_new(0x00020012, "UI", uids.IMPLEMENTATION_CLASS_UID)
        if 0x00020013 not in meta:
            meta.add_new(0x00020013, "SH", uids.IMPLEMENTATION_VERSION_NAME)
    return meta


def encode_file(ds: Dataset, transfer_syntax: str | None = None) -> list[bytes | memoryview]:
    """The bytes of a Part 10 file for ``ds`` as a list of chunks (large values are
    views of the data set's arrays or source buffer, not copies)."""
    ts = transfer_syntax or ds.transfer_syntax or uids.ExplicitVRLittleEndian
    explicit, be = uids.encoding_of(ts)
    pixel = ds.get(0x7FE00010)
    encapsulated_pixels = pixel is not None and pixel._length == UNDEFINED_LENGTH
    if encapsulated_pixels and not uids.is_encapsulated(ts):
        raise WriteError(
            f"pixel data is encapsulated ({ds.transfer_syntax}); decompress it to write {ts}",
            tag=0x7FE00010,
        )
    if uids.is_encapsulated(ts) and pixel is not None and not encapsulated_pixels:
        raise WriteError(f"pixel data is native; compress it to write {ts}", tag=0x7FE00010)
    meta = _file_meta(ds, ts)
    meta_body = b"".join(encode_dataset(meta, True, False))
    group_length = _header(0x00020000, "UL", 4, True, False) + struct.pack("<I", len(meta_body))
    body = encode_dataset(ds, explicit, be, file_body=True)
    if syntaxes.get(ts).deflated:
        z = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = [b"".join(z.compress(c) for c in body) + z.flush()]
    preamble = b"\0" * 128
    raw = ds._raw
    if raw is not None and raw.has_preamble:
        preamble = bytes(memoryview(raw.source)[:128])
    return [preamble, b"DICM", group_length, meta_body, *body]


def write(
    ds: Dataset,
    dest: str | os.PathLike[str] | BinaryIO,
    *,
    transfer_syntax: str | None = None,
) -> None:
    """Write ``ds`` as a Part 10 file.

    ``transfer_syntax`` (default: the data set's own, else explicit VR little
    endian) may be any uncompressed syntax, deflated included.  A path is
    written to a temporary file in the same folder, flushed to disk and then
    renamed, so a crash never leaves half a file under ``dest``.
    """
    chunks = encode_file(ds, transfer_syntax)
    if hasattr(dest, "write"):
        for c in chunks:
            dest.write(c)
        return
    path = os.fspath(dest)
    publish(path, chunks)
    fsync_path(os.path.dirname(os.path.abspath(path)))  # its new name too


def _pydicom_syntax(
    ds: Dataset, implicit_vr: bool | None, little_endian: bool | None, force_encoding: bool
) -> str:
    """The transfer syntax pydicom's ``dcmwrite`` would encode ``ds`` with (its
    ``_determine_encoding``), raising where it raises."""
    ts = ds.transfer_syntax
    if implicit_vr is not None and little_endian is None:
        little_endian = True
    if implicit_vr is True and little_endian is False:
        raise ValueError("Implicit VR and big endian is not a valid encoding combination")
    by_args = None
    if implicit_vr is not None:
        by_args = {
            (True, True): uids.ImplicitVRLittleEndian,
            (False, True): uids.ExplicitVRLittleEndian,
            (False, False): uids.ExplicitVRBigEndian,
        }[(bool(implicit_vr), bool(little_endian))]
    if ts is None or force_encoding:
        if by_args is None:
            raise ValueError(
                "Unable to determine the encoding to use for writing the dataset, please "
                "set the file meta's Transfer Syntax UID or use the 'implicit_vr' and "
                "'little_endian' arguments"
            )
        return by_args
    t = uids.UID(ts)
    if not t.is_transfer_syntax:
        raise ValueError(f"The Transfer Syntax UID '{t.name}' is not a valid transfer syntax")
    if implicit_vr is not None and bool(implicit_vr) != t.is_implicit_VR:
        raise ValueError(
            "The 'implicit_vr' value is not consistent with the required VR encoding "
            f"for the '{t.name}' transfer syntax"
        )
    if little_endian is not None and bool(little_endian) != t.is_little_endian:
        raise ValueError(
            "The 'little_endian' value is not consistent with the required endianness "
            f"for the '{t.name}' transfer syntax"
        )
    return ts


def dcmwrite(
    filename: str | os.PathLike[str] | BinaryIO,
    dataset: Dataset,
    write_like_original: bool | None = None,  # noqa: ARG001 - see below
    *,
    implicit_vr: bool | None = None,
    little_endian: bool | None = None,
    enforce_file_format: bool = False,  # noqa: ARG001 - see below
    force_encoding: bool = False,
    overwrite: bool = True,
    transfer_syntax: str | None = None,
    **kwargs: Any,
) -> None:
    """pydicom's ``dcmwrite(filename, dataset, ...)``: the file name first.

    (:func:`write` is dicomfast's own, data set first.)  The encoding is chosen as
    pydicom chooses it: the file meta's Transfer Syntax UID, else ``implicit_vr`` /
    ``little_endian``, with pydicom's errors when they disagree or are missing;
    ``transfer_syntax`` (dicomfast's) overrides them.  ``overwrite=False`` refuses an
    existing file.  Unlike pydicom, the file written is always a full Part 10 file
    (preamble and File Meta Information, as with ``enforce_file_format=True``):
    ``write_like_original``/``enforce_file_format`` are accepted and change nothing.
    """
    if isinstance(filename, Dataset) and not isinstance(dataset, Dataset):
        raise TypeError(
            "dcmwrite(filename, dataset) takes the file name first, as pydicom's; "
            "dicomfast.write(dataset, filename) takes the data set first"
        )
    bad = [k for k in kwargs if k != "write_like_original"]
    if bad:
        raise TypeError(f"Invalid keyword argument(s) for dcmwrite(): {', '.join(bad)}")
    if not isinstance(dataset, Dataset):
        raise TypeError(f"dcmwrite needs a Dataset, not {type(dataset).__name__}")
    if transfer_syntax is None:
        transfer_syntax = _pydicom_syntax(dataset, implicit_vr, little_endian, force_encoding)
    if not overwrite and not hasattr(filename, "write"):
        path = os.fspath(filename)
        if os.path.exists(path):
            raise FileExistsError(f"File exists: '{path}'")
    write(dataset, filename, transfer_syntax=transfer_syntax)
