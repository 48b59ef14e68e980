"""``dicomfast convert SRC... -o OUT --transfer-syntax NAME``: change the transfer
syntax of many files, in parallel, resumably."""

from __future__ import annotations

import argparse
import atexit
import functools
import gc
import itertools
import os
import sys

from ..batch import files
from ..batch.runner import Progress, Report, run_tasks
from ..batch.sources import count_sources, iter_sources
from ..batch.syntaxes import LOSSY, NAMES, transfer_syntax_for

#: The short names of the lossy syntaxes, for help and messages.
LOSSY_NAMES = ", ".join(n for n, u in NAMES.items() if u in LOSSY)


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
    p.add_argument("-q", "--quiet", action="store_true", help="no progress, no summary")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convert", help="convert files to another transfer syntax")
    add_common(p)
    p.add_argument(
        "-t",
        "--transfer-syntax",
        required=True,
        metavar="NAME",
        help=f"{', '.join(NAMES)} or a transfer syntax UID",
    )
    p.add_argument(
        "--predictor",
        type=int,
        default=1,
        choices=range(1, 8),
        metavar="N",
        help="JPEG Lossless predictor 1-7 (jpeg-ll-p14 only)",
    )
    p.add_argument(
        "--verify",
        action="store_true",
        help="decode each output and compare its pixels before keeping it",
    )
    lossy = p.add_argument_group(f"lossy syntaxes ({LOSSY_NAMES})")
    lossy.add_argument("--quality", type=int, metavar="Q", help="JPEG quality 1-100 (default 90)")
    lossy.add_argument(
        "--max-error",
        type=int,
        metavar="N",
        help="JPEG-LS near-lossless: largest error per sample, 0-255 (default 2)",
    )
    lossy.add_argument(
        "--ratio",
        type=int,
        metavar="R",
        help="JPEG 2000 and HTJ2K lossy: compression ratio (default 10)",
    )
    lossy.add_argument(
        "--keep-uid",
        action="store_true",
        help="lossy outputs keep their SOP Instance UID (default: a new one, as PS3.3 asks)",
    )
    p.set_defaults(run=run)


def codec_threads(workers: int | None, scheduler: str | None) -> int | None:
    """Codec threads per file: all cores (the frames of a multi-frame file are coded in
    parallel; single-frame files, most of a batch, keep to their file's thread:
    ``batch.convert.transcode`` asks one thread for them, as files run side by side;
    a run of one file lets its frame use every core, ``ConvertOptions.lone_file``)."""
    return None


def _one_source(args: argparse.Namespace) -> bool:
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


def run(args: argparse.Namespace) -> int:
    from ..batch.convert import ConvertOptions, convert_file  # numpy: not for export

    try:
        ts = transfer_syntax_for(args.transfer_syntax)
    except ValueError as e:
        print(f"dicomfast convert: {e}", file=sys.stderr)
        return 2
    if args.predictor != 1 and ts != "1.2.840.10008.1.2.4.57":
        print("dicomfast convert: --predictor needs --transfer-syntax jpeg-ll-p14", file=sys.stderr)
        return 2
    lossy_options = ("quality", "max_error", "ratio", "keep_uid")
    given = [f"--{o.replace('_', '-')}" for o in lossy_options if getattr(args, o)]
    if given and ts not in LOSSY:
        print(
            f"dicomfast convert: {', '.join(given)} apply only to a lossy syntax ({LOSSY_NAMES})",
            file=sys.stderr,
        )
        return 2
    opts = ConvertOptions(
        out=os.path.abspath(args.output),
        transfer_syntax=ts,
        predictor=args.predictor,
        quality=args.quality,
        max_error=args.max_error,
        ratio=args.ratio,
        keep_uid=args.keep_uid,
        layout=args.layout,
        verify=args.verify,
        resume=not args.no_resume,
        copy_failed=args.copy_failed,
        threads=codec_threads(args.workers, args.scheduler),
        fsync=not args.no_fsync,
        # One file: nothing runs beside it, so its lone frame may use every core.
        lone_file=_one_source(args),
    )
    # convert_file's steps (read, transcode, write) are the core's, outside the GIL; its
    # buffers are per thread (batch.convert._Scratch)
    return drive(functools.partial(convert_file, opts=opts), args, "converted")
