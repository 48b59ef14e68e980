"""``dicomfast convert SRC... -o OUT --transfer-syntax NAME``: change the transfer
syntax of many files, in parallel, resumably."""

from __future__ import annotations

import argparse
import functools
import os
import sys

from ..batch.syntaxes import LOSSY, NAMES, transfer_syntax_for
from .batch_run import add_common, drive, one_source

#: The short names of the lossy syntaxes, for help and messages.
LOSSY_NAMES = ", ".join(n for n, u in NAMES.items() if u in LOSSY)


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
        help="JPEG-LS near-lossless: largest error per sample, 0-255 (default 2; 1 for 2-bit samples)",
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


def run(args: argparse.Namespace) -> int:
    from ..batch import convert_core
    from ..batch.convert_options import ConvertOptions

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
        lone_file=one_source(args),
    )
    if convert_core.takes(opts):  # a file in one core call where it can, else as below
        return drive(functools.partial(convert_core.convert_native, opts=opts), args, "converted")
    from ..batch.convert import convert_file  # numpy

    # convert_file's steps (read, transcode, write) are the core's, outside the GIL; its
    # buffers are per thread (batch.convert._Scratch)
    return drive(functools.partial(convert_file, opts=opts), args, "converted")
