"""What the batch commands (``convert``, ``export``, ``anonymize``) share: their
common options and the driver that runs a per-file task over the sources, reporting
and counting.  Imports nothing heavy: ``export`` to PNG runs without numpy."""

from __future__ import annotations

import argparse
import atexit
import functools
import gc
import itertools
import os

from ..batch import files
from ..batch.runner import Progress, Report, run_tasks
from ..batch.sources import count_sources, iter_sources


def add_common(p: argparse.ArgumentParser) -> None:
    """Options shared by ``convert`` and ``export``."""
    p.add_argument(
        "sources", nargs="+", metavar="SRC", help="files or folders (walked recursively)"
    )
    p.add_argument("-o", "--output", "-od", required=True, metavar="OUT", help="output folder")
    p.add_argument(
        "--layout",
        choices=("keep", "uid"),
        default="keep",
        help="keep the input's relative paths (default) or study/series/instance",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="worker processes (default: all cores; 1: in this process)",
    )
    p.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run on this Dask distributed cluster (shared storage) instead",
    )
    p.add_argument("--report", metavar="FILE.json", help="one JSON line per file")
    p.add_argument("--copy-failed", action="store_true", help="copy failed inputs to OUT/_failed/")
    p.add_argument("--no-resume", action="store_true", help="redo outputs that already exist")
    p.add_argument("--no-fsync", action="store_true", help="do not flush each output to disk")
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress, no summary (failed files are still named)",
    )


def one_source(args: argparse.Namespace) -> bool:
    """Whether the run's sources are a single file (at most two are looked at)."""
    out = os.path.abspath(args.output)
    return len(list(itertools.islice(iter_sources(args.sources, exclude=out), 2))) == 1


def drive(fn: functools.partial, args: argparse.Namespace, verb: str) -> int:
    """Run ``fn`` over the sources of ``args``, reporting and counting.  ``fn`` (a
    per-file task of ``convert``, ``export`` or ``anonymize``) is thread-safe and spends
    its time outside the GIL, so the part of a run in this process goes on one thread
    per core (``run_tasks(threads=True)``)."""
    out = os.path.abspath(args.output)
    os.makedirs(out, exist_ok=True)
    sources = iter_sources(args.sources, exclude=out)
    progress = Progress(
        count=functools.partial(count_sources, list(args.sources), out), quiet=args.quiet
    )
    report = Report(args.report)
    try:
        settle = (
            functools.partial(files.sync_outputs, published=set())
            if getattr(fn.keywords.get("opts"), "fsync", False)
            else None
        )
        for rec in run_tasks(
            fn,
            sources,
            workers=args.workers,
            scheduler=args.scheduler,
            settle=settle,
            threads=True,
        ):
            report.write(rec)
            progress.update(rec)
    finally:
        report.close()
        summary = progress.close(verb)
        # Everything a run leaves is written and closed: at exit, the collector need
        # not walk the thousands of objects numpy and the codecs' modules made (20 ->
        # 8 ms of the process's end); anything made after this is collected as usual.
        atexit.unregister(gc.freeze)  # once, however many runs a process makes
        atexit.register(gc.freeze)
    return 1 if summary.failed else 0
