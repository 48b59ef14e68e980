"""``dicomfast move HOST PORT --dest AET -k StudyInstanceUID=...``: C-MOVE SCU.
Progress (sub-operation counts) on stderr; exit 0 when every sub-operation
succeeded, 1 on warnings/failures, 2 when no association was made."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import DicomError
from .conventions import add_json, emit, progress_bar
from .find import add_key_options, associate, default_level, identifier_from_keys, scu_ae


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("move", help="C-MOVE SCU (retrieve to another AE)")
    add_key_options(p)
    p.add_argument("--dest", "-aem", required=True, metavar="AET", help="Move Destination AE title")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    add_json(p, "one object per pending and the final response: status, category, counts")
    p.set_defaults(run=run)


def counts(status: object) -> dict[str, int]:
    """The sub-operation counts of a C-MOVE/C-GET response."""
    cmd = getattr(status, "command", {})
    out = {}
    for tag, name in (
        (0x00001020, "remaining"),
        (0x00001021, "completed"),
        (0x00001022, "failed"),
        (0x00001023, "warning"),
    ):
        if tag in cmd:
            out[name] = int(cmd[tag])
    return out


def counts_of(status: object) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts(status).items())


def sub_operations(bar: Any, status: object) -> None:
    """Advance a progress bar to a pending response's sub-operation counts."""
    c = counts(status)
    done = c.get("completed", 0) + c.get("failed", 0) + c.get("warning", 0)
    if "remaining" in c:
        bar.total = done + c["remaining"]
    bar.update(done - bar.n)
    if c.get("failed") or c.get("warning"):
        bar.set_postfix_str(f"failed {c.get('failed', 0)}, warning {c.get('warning', 0)}")


def record(status: Any, **extra: Any) -> dict[str, Any]:
    """The JSON Lines record of a C-MOVE/C-GET response."""
    rec: dict[str, Any] = {"status": int(status), "category": status.category}
    rec.update(counts(status))
    if getattr(status, "ErrorComment", None):
        rec["comment"] = status.ErrorComment
    rec.update(extra)
    return rec


def run(args: argparse.Namespace) -> int:
    from ..net.services.find import sop_class_for

    bar: Any = None
    try:
        ident = identifier_from_keys(args.key, default_level(args))
        ae = scu_ae(args, [(sop_class_for("move", args.model), None)])
        final = None
        bar = progress_bar(unit="instance", enabled=not (args.quiet or args.json))
        with associate(args, ae) as assoc:
            for status, _ in assoc.send_c_move(ident, args.dest, args.model):
                if status.category == "Pending":
                    if args.json:
                        emit(record(status))
                    elif not bar.disable:
                        sub_operations(bar, status)
                    elif not args.quiet:
                        print(f"pending: {counts_of(status)}", file=sys.stderr)
                else:
                    final = status
        bar.close()
    except (DicomError, OSError, ValueError) as e:
        if bar is not None:
            bar.close()
        print(f"dicomfast move: {e}", file=sys.stderr)
        return 2
    assert final is not None
    comment = f" ({final.ErrorComment})" if final.ErrorComment else ""
    if args.json:
        emit(record(final, destination=args.dest))
    else:
        print(f"C-MOVE {final.category} 0x{int(final):04X}{comment}: {counts_of(final)}")
    return 0 if final.category == "Success" else 1
