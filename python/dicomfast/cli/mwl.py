"""``dicomfast mwl HOST PORT -k ScheduledProcedureStepSequence.Modality=CT``:
Modality Worklist C-FIND SCU (``dicomfast worklist add/remove`` manage the
local worklist of an archive; this one queries a worklist SCP over the
network)."""

from __future__ import annotations

import argparse
import sys

from ..errors import DicomError
from .conventions import add_json
from .find import add_key_options, identifier_from_keys, run_query


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mwl", help="Modality Worklist C-FIND SCU")
    add_key_options(p, level=False)
    add_json(p, "one DICOM JSON object per match")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        ident = identifier_from_keys(args.key)
    except (ValueError, DicomError) as e:
        print(f"dicomfast mwl: {e}", file=sys.stderr)
        return 2
    return run_query(args, "worklist", ident, "mwl")
