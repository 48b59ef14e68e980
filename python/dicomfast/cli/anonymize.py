"""``dicomfast anonymize SRC... -o OUT``: de-identify many files (PS3.15 Basic
Application Level Confidentiality Profile and options), in parallel, resumably, on
the runner ``convert`` uses."""

from __future__ import annotations

import argparse
import functools
import os
import sys

from ..batch.deid import AnonymizeOptions, anonymize_file
from ..batch.syntaxes import NAMES, transfer_syntax_for
from ..deid import PROFILES, SUPPORTED_OPTIONS, Deidentifier, load_key, load_patient_map, new_key
from ..errors import DicomError
from .batch_run import drive


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("anonymize", help="de-identify files (PS3.15 Annex E profile)")
    p.add_argument(
        "sources", nargs="+", metavar="SRC", help="files or folders (walked recursively)"
    )
    p.add_argument("-o", "--output", "-od", required=True, metavar="OUT", help="output folder")
    p.add_argument("--profile", default="basic", choices=PROFILES, help="PS3.15 profile (basic)")
    p.add_argument(
        "--option",
        action="append",
        default=[],
        choices=SUPPORTED_OPTIONS,
        metavar="NAME",
        help=f"a profile option (repeatable): {', '.join(SUPPORTED_OPTIONS)}",
    )
    p.add_argument(
        "--key-file",
        metavar="K",
        help="secret key (>= 16 bytes): the same key gives the same UIDs, pseudonyms "
        "and date offsets in every run (default: a random key for this run only)",
    )
    p.add_argument(
        "--map",
        metavar="patients.csv",
        help="patient map: CSV patient_id,new_patient_id[,new_patient_name] or JSON",
    )
    p.add_argument(
        "--allow-burned-in",
        action="store_true",
        help="also write images that may carry burned-in annotation (else left out)",
    )
    p.add_argument(
        "-t",
        "--transfer-syntax",
        metavar="NAME",
        help=f"write in this syntax ({', '.join(NAMES)} or a UID; default: the input's)",
    )
    p.add_argument(
        "--layout",
        choices=("uid", "keep"),
        default="uid",
        help="study/series/instance from the new UIDs (default: input paths may hold "
        "names) or the input's relative paths",
    )
    p.add_argument(
        "--workers", type=int, default=None, metavar="N", help="worker processes (default: cores)"
    )
    p.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask distributed cluster"
    )
    p.add_argument("--report", metavar="FILE.json", help="one JSON line per file")
    p.add_argument("--no-resume", action="store_true", help="redo outputs that already exist")
    p.add_argument("--no-fsync", action="store_true", help="do not flush each output to disk")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress, no summary")
    p.set_defaults(run=run, copy_failed=False)


def run(args: argparse.Namespace) -> int:
    try:
        ts = transfer_syntax_for(args.transfer_syntax) if args.transfer_syntax else None
        key = load_key(args.key_file) if args.key_file else new_key()
        patients = load_patient_map(args.map) if args.map else None
        deid = Deidentifier(
            profile=args.profile, options=args.option, key=key, patient_map=patients
        )
    except (ValueError, DicomError) as e:
        print(f"dicomfast anonymize: {e}", file=sys.stderr)
        return 2
    if not args.key_file and not args.quiet:
        print(
            "dicomfast anonymize: no --key-file: UIDs and pseudonyms are random for this run",
            file=sys.stderr,
        )
    opts = AnonymizeOptions(
        out=os.path.abspath(args.output),
        deid=deid,
        transfer_syntax=ts,
        layout=args.layout,
        resume=not args.no_resume,
        allow_burned_in=args.allow_burned_in,
        fsync=not args.no_fsync,
    )
    # anonymize_file is thread-safe: per data set state lives in the call, the
    # de-identifier only memoizes keyed functions of its inputs (two threads computing
    # the same entry store the same value); the Rust pass is frozen and releases the GIL
    return drive(functools.partial(anonymize_file, opts=opts), args, "anonymized")
