"""``dicomfast dump FILE...``: list elements like dcmdump, or DICOM JSON with ``--json``."""

from __future__ import annotations

import argparse
import sys

from ..dump import format_dataset
from ..errors import DicomError
from ..reader import read
from .conventions import add_json, emit


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dump", help="list the elements of DICOM files")
    p.add_argument("files", nargs="+", metavar="FILE")
    add_json(p, "one PS3.18 DICOM JSON object per file")
    p.add_argument("--force", action="store_true", help="list what can be read of damaged files")
    p.add_argument("--width", type=int, default=64, help="maximum width of values")
    p.add_argument("--stop-before-pixels", action="store_true", help="do not read the pixel data")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.files:
        try:
            ds = read(path, force=args.force, stop_before_pixels=args.stop_before_pixels)
        except (DicomError, OSError) as e:
            print(f"dicomfast dump: {path}: {e}", file=sys.stderr)
            failed += 1
            continue
        if args.json:
            emit(ds.to_json_dict())
        else:
            if len(args.files) > 1:
                print(f"# {path}")
            print(format_dataset(ds, width=args.width))
            err = ds.__dict__.get("read_error")
            if err is not None:
                print(f"# read stopped early: {err}")
    return 1 if failed else 0
