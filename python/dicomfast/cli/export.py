"""``dicomfast export SRC... -o OUT --format npy|png|jpeg|tiff``: frames as images
(display pipeline applied) or arrays; ``--stack``: one 3-D array per series."""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections import defaultdict
from typing import Any

from ..batch.export_options import FORMATS, ExportOptions
from ..batch.runner import Progress, Report, run_tasks
from ..batch.sources import count_sources, iter_sources
from .batch_run import add_common, drive


def _window(text: str) -> tuple[float, float]:
    try:
        c, w = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("--window takes CENTER,WIDTH, e.g. 40,400") from None
    return c, w


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export frames as PNG/JPEG/TIFF images or .npy arrays")
    add_common(p)
    p.add_argument(
        "-f", "--format", choices=tuple(FORMATS), default="png", help="image format (png)"
    )
    p.add_argument(
        "--bits",
        type=int,
        choices=(8, 16),
        default=8,
        help="output depth (JPEG: 8 only; 16-bit colour: tiff or npy)",
    )
    p.add_argument("--window", type=_window, metavar="C,W", help="window centre,width override")
    p.add_argument("--voi-index", type=int, default=0, help="which window / VOI LUT of the file")
    p.add_argument(
        "--values",
        choices=("display", "modality", "stored"),
        default="display",
        help="display pipeline (default), Modality LUT only, or stored values",
    )
    p.add_argument(
        "--stack",
        action="store_true",
        help="one 3-D .npy per series, slices sorted along the normal; JSON side-car",
    )
    p.add_argument("--quality", type=int, default=95, help="JPEG quality")
    p.add_argument(
        "--gsdf",
        metavar="DISPLAY.lut",
        help="map grey images to the driving levels of this calibrated display "
        "(its characteristic curve, DCMTK .lut format) by the GSDF (PS3.14)",
    )
    p.set_defaults(run=run)


def _stack(args: argparse.Namespace, opts: ExportOptions) -> int:
    """Two passes: headers of every file (in parallel; a few small fields per file
    are kept to group series), then one task per series."""
    from ..batch.export import scan_header, stack_series

    out = opts.out
    progress = Progress(quiet=args.quiet)
    report = Report(args.report)
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    try:
        for rec in run_tasks(
            scan_header,
            iter_sources(args.sources, exclude=out),
            workers=args.workers,
            scheduler=args.scheduler,
        ):
            if rec["status"] == "failed":
                report.write(rec)
                progress.update(rec)
            else:
                series[rec.pop("series")].append(rec)
        fn = functools.partial(stack_series, opts=opts)
        for rec in run_tasks(  # a series is a large task: one per submission
            fn,
            iter(list(series.items())),
            workers=args.workers,
            scheduler=args.scheduler,
            chunksize=1,
        ):
            report.write(rec)
            progress.update(rec)
    finally:
        report.close()
        summary = progress.close("stacked")
    return 1 if summary.failed else 0


def run(args: argparse.Namespace) -> int:
    if args.format == "jpeg" and args.bits != 8:
        print("dicomfast export: JPEG is 8-bit only", file=sys.stderr)
        return 2
    if args.stack and args.format != "npy":
        print("dicomfast export: --stack writes .npy volumes (use --format npy)", file=sys.stderr)
        return 2
    if args.gsdf:
        from ..batch.export import display_calibration
        from ..errors import DicomError

        try:
            display_calibration(os.path.abspath(args.gsdf))
        except (DicomError, OSError) as e:
            print(f"dicomfast export: {e}", file=sys.stderr)
            return 2
    opts = ExportOptions(
        out=os.path.abspath(args.output),
        format=args.format,
        bits=args.bits,
        window=args.window,
        voi_index=args.voi_index,
        values=args.values,
        layout=args.layout,
        resume=not args.no_resume,
        copy_failed=args.copy_failed,
        jpeg_quality=args.quality,
        fsync=not args.no_fsync,
        gsdf=os.path.abspath(args.gsdf) if args.gsdf else None,
    )
    if args.stack:
        os.makedirs(opts.out, exist_ok=True)
        return _stack(args, opts)
    # Grey frames to PNG: a file in one call to the core, the GIL released throughout
    # (the rest, and whatever the core leaves, by export_file, whose steps (decode, the
    # display kernels, PNG) run outside the GIL too).
    from ..batch import export_core

    if export_core.takes(opts):
        return drive(functools.partial(export_core.export_picture, opts=opts), args, "exported")
    from ..batch.export import export_file

    return drive(functools.partial(export_file, opts=opts), args, "exported")


__all__ = ["add_parser", "count_sources", "run"]
