"""How far compressed pixel data may expand, and how many frames a data set may say it
holds: the size rules :mod:`dicomfast.pixels.info` checks before anything is
allocated, which the core's one-call paths take from here (without numpy)."""

from __future__ import annotations

#: Compressed data never expands more than this (deflate's limit is 1032:1) ...
MAX_RATIO = 1100
#: ... except JPEG 2000 / HTJ2K, JPEG-LS and JPEG XL, which code a blank or constant frame in
#: a few bytes per tile, run or group whatever its size (pydicom's JPEG2000.dcm: 1024x256x16
#: in 274 bytes; libjxl: a blank 512x512 frame of 12 bits in 33).
MAX_RATIO_UNBOUNDED_CODECS = 1 << 16
UNBOUNDED_CODECS = frozenset(
    "1.2.840.10008.1.2.4." + n
    for n in ("80", "81", "90", "91", "92", "93", "110", "111", "112", "201", "202", "203")
)
#: ... plus this much per frame (headers, tables, tiny frames).
FRAME_SLACK = 64 << 10
#: Number of Frames (IS) above this is no image anyone stores (and overflows the codecs).
MAX_FRAMES = 2**31 - 1

#: The rules in the order the core's one-call paths take them.
CORE_LIMITS = (
    MAX_RATIO,
    MAX_RATIO_UNBOUNDED_CODECS,
    set(UNBOUNDED_CODECS),
    FRAME_SLACK,
    MAX_FRAMES,
)
