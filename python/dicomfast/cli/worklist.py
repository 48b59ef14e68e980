"""``dicomfast worklist``: scheduled procedure steps for the Modality Worklist SCP."""

from __future__ import annotations

import argparse
import sys

from ..errors import DicomError
from .archive import _common


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("worklist", help="manage Modality Worklist entries")
    wsub = p.add_subparsers(dest="worklist_command", required=True)
    a = wsub.add_parser("add", help="add entries from DICOM or DICOM JSON files")
    _common(a)
    a.add_argument("files", nargs="+", metavar="FILE")
    a.set_defaults(run=run_add)
    r = wsub.add_parser("remove", help="remove the entries of a study (or one step)")
    _common(r)
    r.add_argument("study_instance_uid")
    r.add_argument("--step", default=None, help="Scheduled Procedure Step ID")
    r.set_defaults(run=run_remove)


def run_add(args: argparse.Namespace) -> int:
    from ..archive import Archive
    from ..archive import worklist as wl

    failed = total = 0
    with Archive(args.storage, args.db) as archive:
        for path in args.files:
            try:
                total += wl.add_files(archive, [path])
            except (DicomError, OSError, ValueError) as e:
                print(f"dicomfast worklist add: {path}: {e}", file=sys.stderr)
                failed += 1
    print(f"added {total} scheduled procedure steps")
    return 1 if failed else 0


def run_remove(args: argparse.Namespace) -> int:
    from ..archive import Archive
    from ..archive import worklist as wl

    with Archive(args.storage, args.db) as archive:
        n = wl.remove(archive, args.study_instance_uid, args.step)
    print(f"removed {n} scheduled procedure steps")
    return 0
