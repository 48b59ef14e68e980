"""``dicomfast export`` of grey and RGB frames to PNG or ``.npy`` by the core: each file
read, decoded, made the values asked for (the display table, the Modality LUT's rescale,
or as stored), coded and written in one call with the GIL released
(:class:`dicomfast._core.PictureExporter`, crate ``dicomfast-export``), so a run's
threads share the cores and neither numpy nor the data set is loaded.

The core takes a file only where its pictures are certain to be the Python path's
(:func:`dicomfast.batch.export.export_file`): grey 8- or 16-bit frames (and 8-bit RGB
ones, to the display's values), native in a little-endian syntax or encapsulated in one
a codec decodes, no Modality or VOI LUT Sequence, and for the display's grey values a
LINEAR or LINEAR_EXACT window (the file's or the user's); everything else, and every
failure, goes that path, which gives the picture or the error it always gave.
``tests/batch/test_export_core.py`` holds the two to the same bytes.
"""

from __future__ import annotations

import functools
from typing import Any

from .. import _core
from ..pixel_limits import CORE_LIMITS
from ..reader import READ_WHOLE_BELOW
from .export_options import ExportOptions, keep_base
from .sources import Source


def takes(opts: ExportOptions) -> bool:
    """Whether a run under ``opts`` goes through the core (file by file, where it can;
    the core itself leaves PNG of other values than the display's to the Python path)."""
    return (
        opts.format in ("png", "npy")
        and opts.gsdf is None
        and opts.layout == "keep"
        and opts.bits in (8, 16)
        and opts.voi_index >= 0
    )


@functools.lru_cache(maxsize=4)
def _exporter(opts: ExportOptions) -> _core.PictureExporter:
    """The core's exporter for ``opts``, one per process (its display tables are kept
    from file to file)."""
    return _core.PictureExporter(
        opts.format,
        opts.values,
        opts.bits,
        opts.window,
        opts.voi_index,
        opts.resume,
        opts.fsync,
        CORE_LIMITS,
        READ_WHOLE_BELOW,
    )


def export_picture(src: Source, opts: ExportOptions) -> dict[str, Any]:
    """:func:`dicomfast.batch.export.export_file` of ``src`` (for options that
    :func:`takes`), by the core where it takes the file; a report record, never an
    exception."""
    try:
        got = _exporter(opts).export(src.path, keep_base(src.rel, opts.out))
    except Exception:  # noqa: BLE001 - e.g. no memory: the Python path says what it says
        got = None
    if got is None:
        from .export import export_file

        return export_file(src, opts)
    status, dst, bytes_out, frames, staged, seconds = got
    rec: dict[str, Any] = {"src": src.path, "dst": dst, "status": status, "bytes_in": src.size}
    if status == "skipped":
        rec.update(reason="outputs exist", bytes_out=bytes_out)
    else:
        rec.update(bytes_out=bytes_out, frames=frames)
        if staged:  # flushed, then renamed, with their group (files.sync_outputs)
            rec["staged"] = staged
    rec["seconds"] = round(seconds, 6)
    return rec
