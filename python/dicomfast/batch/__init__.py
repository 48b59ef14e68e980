"""Batch jobs over many files: ``dicomfast convert`` (transfer syntax conversion) and
``dicomfast export`` (images / arrays), on a local process pool or a Dask cluster.

The file list is streamed (folders walked lazily, at most a bounded number of
tasks in flight), outputs are written to a temporary name and renamed, and a run
can be resumed: complete outputs are skipped.
"""

from .convert import ConvertOptions, convert_file
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
