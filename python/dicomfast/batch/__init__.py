"""Batch jobs over many files: ``dicomfast convert`` (transfer syntax conversion) and
``dicomfast export`` (images / arrays), on a local process pool or a Dask cluster.

The file list is streamed (folders walked lazily, at most a bounded number of
tasks in flight), outputs are written to a temporary name and renamed, and a run
can be resumed: complete outputs are skipped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy_names import lazy_names

if TYPE_CHECKING:
    from .convert import convert_file
    from .convert_options import ConvertOptions
    from .runner import RunSummary, run_tasks
    from .sources import Source, iter_sources
    from .syntaxes import transfer_syntax_for

__all__ = [
    "ConvertOptions",
    "RunSummary",
    "Source",
    "convert_file",
    "iter_sources",
    "run_tasks",
    "transfer_syntax_for",
]

# The names are imported on first use (PEP 562): ``dicomfast export`` to PNG runs
# without numpy (``batch.export_core``), which ``convert`` imports; so does ``convert``
# to explicit VR little endian where the core takes the files (``batch.convert_core``).
_HOME = {
    "ConvertOptions": "convert_options",
    "convert_file": "convert",
    "RunSummary": "runner",
    "run_tasks": "runner",
    "Source": "sources",
    "iter_sources": "sources",
    "transfer_syntax_for": "syntaxes",
}


__getattr__, __dir__ = lazy_names(__name__, _HOME, __all__)
