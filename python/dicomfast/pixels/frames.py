"""Where each frame's bytes are: native Pixel Data as one uint8 buffer, encapsulated Pixel
Data (PS3.5 A.4) as per-frame lists of fragment ``(offset, length)`` in a source buffer.

Pixel Data read from a file and unchanged is located by the Rust index
(``RawFile.frame_fragments``: Extended or Basic Offset Table, else a fragment scan) and
decoded straight from the memory-mapped file.  Encapsulated values built in memory
(e.g. by :func:`dicomfast.pixels.encode.compress`) are split here the same way.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import PixelDataError
from .info import EXTENDED_OFFSET_TABLE, PixelInfo

if TYPE_CHECKING:
    from ..dataset import Dataset

ITEM = 0xE000FFFE  # (FFFE,E000) read as a little-endian u32
SEQUENCE_DELIMITER = 0xE0DDFFFE


@dataclass
class NativeData:
    """A native Pixel Data value: its bytes and whether they are big endian."""

    data: np.ndarray  # uint8, contiguous
    big_endian: bool


@dataclass
class EncapsulatedData:
    """Encapsulated Pixel Data: ``frames[k]`` lists frame k's fragment values in ``source``."""

    source: Any  # a buffer (bytes, mmap, ndarray)
    frames: list[list[tuple[int, int]]]

    @property
    def compressed_nbytes(self) -> int:
        return sum(n for f in self.frames for _, n in f)


def _as_uint8(value: Any) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return np.ascontiguousarray(value).reshape(-1).view(np.uint8)
    if isinstance(value, bytes | bytearray | memoryview):
        return np.frombuffer(value, np.uint8)
    raise PixelDataError(
        f"Pixel Data value of type {type(value).__name__} is not bytes or an array"
    )


def native_data(ds: Dataset, info: PixelInfo) -> NativeData:
    elem = ds[info.tag]
    value = elem.value
    if value is None:
        raise PixelDataError("Pixel Data is empty", tag=info.tag)
    big_endian = False
    if isinstance(value, np.ndarray) and value.dtype.itemsize > 1 and value.dtype.byteorder == ">":
        # As read from an Explicit VR Big Endian file: OW/OF/OD words in big endian.
        big_endian = True
        if info.bits_allocated == 8 and value.dtype.itemsize != 2:
            big_endian = False
    elif not isinstance(value, np.ndarray) and ds._raw is not None and elem._node >= 0:
        big_endian = bool(ds._raw.big_endian) and elem.VR != "OB"
    data = _as_uint8(value)
    if info.bits_allocated == 8 and elem.VR == "OB":
        big_endian = False
    return NativeData(data, big_endian)


def parse_items(buf: Any) -> tuple[bytes, list[tuple[int, int]]]:
    """Split an encapsulated value (items, optionally the sequence delimiter) into the
    Basic Offset Table and the fragments' ``(offset, length)``."""
    mv = memoryview(buf).cast("B")
    n = len(mv)
    pos = 0
    items: list[tuple[int, int]] = []
    while pos + 8 <= n:
        tag, length = struct.unpack_from("<II", mv, pos)
        if tag == SEQUENCE_DELIMITER:
            break
        if tag != ITEM:
            raise PixelDataError(
                f"expected an item tag (FFFE,E000) in encapsulated Pixel Data, found {tag:08X}",
                offset=pos,
            )
        if pos + 8 + length > n:
            raise PixelDataError(
                f"fragment of {length} bytes runs past the end of the Pixel Data value", offset=pos
            )
        items.append((pos + 8, length))
        pos += 8 + length
    if not items:
        raise PixelDataError("encapsulated Pixel Data has no Basic Offset Table item", offset=0)
    bot_off, bot_len = items[0]
    return bytes(mv[bot_off : bot_off + bot_len]), items[1:]


def split_frames(
    source: Any,
    bot: bytes,
    fragments: list[tuple[int, int]],
    nframes: int,
    extended: np.ndarray | bytes | None = None,
) -> list[list[tuple[int, int]]]:
    """Fragments per frame (PS3.5 A.4): Extended or Basic Offset Table, one fragment per
    frame, else a new frame at each fragment starting with a JPEG SOI marker."""
    if not fragments:
        raise PixelDataError("encapsulated Pixel Data has no fragments")
    base = fragments[0][0] - 8
    rel = [off - 8 - base for off, _ in fragments]
    offsets: list[int] | None = None
    if extended is not None:
        offsets = [int(x) for x in np.frombuffer(_as_uint8(extended).tobytes(), "<u8")]
    elif bot and len(bot) % 4 == 0 and len(bot) // 4 == nframes:
        offsets = list(struct.unpack(f"<{nframes}I", bot))
    if offsets is not None:
        frames = []
        for k, start in enumerate(offsets):
            end = offsets[k + 1] if k + 1 < len(offsets) else None
            if start not in rel:
                raise PixelDataError(f"frame {k} offset {start} is not at a fragment", frame=k)
            first = rel.index(start)
            frames.append(
                [
                    f
                    for f, r in zip(fragments[first:], rel[first:], strict=True)
                    if end is None or r < end
                ]
            )
        return frames
    if nframes <= 1:
        return [list(fragments)]
    if len(fragments) == nframes:
        return [[f] for f in fragments]
    mv = memoryview(source).cast("B")
    frames = []
    for off, length in fragments:
        starts = length >= 2 and mv[off] == 0xFF and mv[off + 1] in (0xD8, 0x4F)
        if starts or not frames:
            frames.append([(off, length)])
        else:
            frames[-1].append((off, length))
    if len(frames) != nframes:
        raise PixelDataError(
            f"{len(fragments)} fragments cannot be split into {nframes} frames "
            f"(found {len(frames)} frame starts)"
        )
    return frames


def _frame_fragments(raw: Any, node: int, nframes: int, eot_node: int | None) -> EncapsulatedData:
    try:
        frames = raw.frame_fragments(node, nframes, eot_node)
    except PixelDataError as e:
        if e.frame is None and nframes == 1:
            e.frame = 0  # the one frame is the damaged one
        raise
    return EncapsulatedData(raw.source, frames)


def encapsulated_data(ds: Dataset, info: PixelInfo) -> EncapsulatedData:
    raw = ds._raw
    nframes = info.number_of_frames
    as_read = info.as_read
    if as_read is not None and as_read.raw is raw and ds._map is None:
        return _frame_fragments(raw, as_read.pixel_node, nframes, as_read.eot_node)
    elem = ds[info.tag]
    eot = ds.get(EXTENDED_OFFSET_TABLE)
    if raw is not None and elem._node >= 0 and elem._src is raw:
        eot_node = None
        if eot is not None:
            if eot._node >= 0 and eot._src is raw:
                eot_node = eot._node
            else:
                eot = None  # changed in memory: fall back to the Basic Offset Table
        return _frame_fragments(raw, elem._node, nframes, eot_node)
    value = elem.value
    if value is None:
        raise PixelDataError("Pixel Data is empty", tag=info.tag)
    source = _as_uint8(value)
    bot, fragments = parse_items(source)
    ext = eot.value if eot is not None and isinstance(eot.value, np.ndarray | bytes) else None
    return EncapsulatedData(source, split_frames(source, bot, fragments, nframes, ext))


def encapsulate(frames: list[bytes], *, offset_table: bool = True) -> bytes:
    """Items for encapsulated Pixel Data (PS3.5 A.4): a Basic Offset Table (filled in unless
    ``offset_table`` is false), one fragment per frame padded to even length, and the
    sequence delimiter."""
    parts: list[bytes] = []
    offsets: list[int] = []
    pos = 0
    for f in frames:
        pad = len(f) & 1
        offsets.append(pos)
        parts.append(struct.pack("<II", ITEM, len(f) + pad))
        parts.append(f)
        if pad:
            parts.append(b"\0")
        pos += 8 + len(f) + pad
    if offset_table and pos > 0xFFFFFFFF:
        raise PixelDataError(
            "encapsulated frames exceed 4 GiB: the Basic Offset Table cannot address them"
        )
    bot = struct.pack(f"<{len(offsets)}I", *offsets) if offset_table else b""
    return b"".join(
        [struct.pack("<II", ITEM, len(bot)), bot, *parts, struct.pack("<II", SEQUENCE_DELIMITER, 0)]
    )


__all__ = ["EncapsulatedData", "NativeData", "encapsulate", "encapsulated_data", "native_data"]
