"""``dicomfast bench PATH...``: time installed DICOM toolkits against dicomfast on
the same files (interleaved rounds, each contender's result checked equal to ours
first) and print a table per task; ``--json``/``--plot`` to keep the results."""

from __future__ import annotations

import argparse
import json
import sys
import warnings

TASK_NAMES = ("parse", "values", "decode", "encode", "transcode", "store")
CONTENDER_NAMES = ("pydicom", "gdcm", "dcmtk", "imagecodecs")


def _csv(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmark DICOM toolkits against dicomfast on your files")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (recursive)")
    p.add_argument(
        "--tasks",
        type=_csv,
        default=list(TASK_NAMES),
        metavar="T,...",
        help=f"of {','.join(TASK_NAMES)} (default: all)",
    )
    p.add_argument(
        "--against",
        type=_csv,
        default=None,
        metavar="NAME,...",
        help=f"contenders (default: every registered one: {','.join(CONTENDER_NAMES)})",
    )
    p.add_argument("--rounds", type=int, default=5, metavar="N", help="timed rounds (default 5)")
    p.add_argument(
        "--warmup", type=int, default=1, metavar="N", help="untimed rounds first (default 1)"
    )
    p.add_argument("--limit", type=int, metavar="N", help="use only the first N files found")
    p.add_argument(
        "--threads", type=int, default=1, metavar="N", help="dicomfast's codec threads (default 1)"
    )
    p.add_argument(
        "--codec",
        default="rle",
        metavar="NAME",
        help="what encode produces: rle (default), jpeg-ll-sv1, jpeg-ls, htj2k or a transfer "
        "syntax UID",
    )
    p.add_argument(
        "--transcode-to",
        metavar="NAME",
        help="transcode target: rle, jpeg-ll-sv1, explicit-le or a UID "
        "(default: compressed files -> explicit-le, others -> rle)",
    )
    p.add_argument(
        "--tolerance",
        type=float,
        default=0.0,
        metavar="X",
        help="largest pixel difference accepted as equal (lossy syntaxes; default 0)",
    )
    p.add_argument("--json", metavar="OUT", help="write the results as one JSON document")
    p.add_argument("--plot", metavar="OUT.png", help="bar chart (needs matplotlib)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..benchmark import registry, report, runner
    from ..benchmark.workload import find_files

    try:
        files = find_files(args.paths)
    except FileNotFoundError as e:
        print(f"dicomfast bench: {e}", file=sys.stderr)
        return 2
    if args.limit:
        files = files[: args.limit]
    if not files:
        print("dicomfast bench: no files", file=sys.stderr)
        return 2
    bad = [t for t in args.tasks if t not in registry.TASKS]
    if bad:
        print(
            f"dicomfast bench: unknown task {', '.join(bad)} (tasks: {', '.join(registry.TASKS)})",
            file=sys.stderr,
        )
        return 2
    if args.plot:  # fail before the run, not after it
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print(
                "dicomfast bench: --plot needs matplotlib: pip install 'dicomfast[plot]'",
                file=sys.stderr,
            )
            return 2
    against = args.against
    if against is None:
        against = [n for n in registry.contenders() if n != registry.REFERENCE]

    def log(text: str) -> None:
        if not args.quiet:
            print(text, file=sys.stderr, flush=True)

    # What the contenders warn of the files (pydicom of odd values, each time read) is
    # not the benchmark's output: the report says what failed.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = runner.run(
            files,
            args.tasks,
            against,
            rounds=max(1, args.rounds),
            warmup=max(0, args.warmup),
            threads=args.threads,
            codec=args.codec,
            transcode_to=args.transcode_to,
            tolerance=args.tolerance,
            log=log,
        )
    print(report.table(doc))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1)
    if args.plot:
        report.plot(doc, args.plot)
    failed = any(
        r["contender"] == registry.REFERENCE and r["status"] != "ok"
        for sec in doc["tasks"].values()
        for r in sec["results"]
    )
    return 1 if failed else 0
