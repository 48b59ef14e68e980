"""``dicomfast convert -t explicit-le`` of encapsulated files by the core: each file
read, its frames decoded by the codec registry straight into the new file's Pixel Data,
and written in one call with the GIL released (:class:`dicomfast._core.NativeCopier`,
crate ``dicomfast-export``), so a run's threads share the cores and neither numpy nor
the data set is loaded.

The core takes a file only where its output is certain to be the Python path's
(:func:`dicomfast.batch.convert.convert_file`: ``decompress``, then ``encode_file``):
a Part 10 file with a preamble, an explicit VR little-endian meta group in tag order
and a data set read as explicit VR little endian in tag order, one or three samples of
8 or 16 bits in a syntax a codec decodes, no offset table, float pixels, group length
or stray group 0002 element, no damage the reader tolerates; an output that does not
exist yet (``--resume`` checks the one that does).  Colour data sets get the
Photometric Interpretation (YBR_FULL_422 -> YBR_FULL; YBR_RCT, YBR_ICT -> RGB) and
Planar Configuration 0 that ``set_native_pixels`` gives them.  Everything else, and every failure, goes the
Python path, which gives the output or the error it always gave.
``tests/batch/test_convert_core.py`` holds the two to the same bytes.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from .. import _core
from ..pixel_limits import CORE_LIMITS
from ..reader import READ_WHOLE_BELOW
from .convert_options import ConvertOptions
from .sources import Source

#: Explicit VR Little Endian (the literal: the UID registry is not loaded for it).
EXPLICIT_LE = "1.2.840.10008.1.2.1"


def takes(opts: ConvertOptions) -> bool:
    """Whether a run under ``opts`` goes through the core (file by file, where it can)."""
    return opts.transfer_syntax == EXPLICIT_LE and opts.layout == "keep" and not opts.verify


@functools.lru_cache(maxsize=4)
def _copier(resume: bool, durable: bool) -> _core.NativeCopier:
    return _core.NativeCopier(resume, durable, CORE_LIMITS, READ_WHOLE_BELOW)


def convert_native(src: Source, opts: ConvertOptions) -> dict[str, Any]:
    """:func:`dicomfast.batch.convert.convert_file` of ``src`` (for options that
    :func:`takes`), by the core where it takes the file; a report record, never an
    exception."""
    dst = os.path.join(opts.out, src.rel)
    got = None
    if os.path.abspath(dst) != os.path.abspath(src.path):  # the Python path refuses it
        try:
            got = _copier(opts.resume, opts.fsync).convert(src.path, dst)
        except Exception:  # noqa: BLE001 - e.g. no memory: the Python path says what it says
            got = None
    if got is None:
        from .convert import convert_file

        return convert_file(src, opts)
    bytes_out, staged, seconds = got
    rec: dict[str, Any] = {"src": src.path, "dst": dst, "status": "converted"}
    rec.update(bytes_in=src.size, bytes_out=bytes_out)
    if staged is not None:  # flushed, then renamed, with its group (files.sync_outputs)
        rec["staged"] = [(staged, dst)]
    rec["seconds"] = round(seconds, 6)
    return rec
