"""``dicomfast commit HOST PORT PATH...``: ask a Storage Commitment SCP (PS3.4
Annex J) to commit to the instances of these files, wait for its report, print
what was committed and what failed; exit 0 only if every instance was.

The report comes on the same association; with ``--listen-port`` the
association is released as soon as the request is accepted and the report is
awaited on an association the SCP opens to that port (PS3.4 J.3.3; our AE
title there is ``--aet``: the SCP finds our address by it).
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import time
from typing import Any

from ..errors import DicomError, DimseTimeout
from ..net.cliopts import add_common, ssl_from_args

_REASONS = {
    0x0110: "Processing failure",
    0x0112: "No such object instance",
    0x0213: "Resource limitation",
    0x0122: "Referenced SOP Class not supported",
    0x0119: "Class/Instance conflict",
    0x0131: "Duplicate transaction UID",
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "commit", help="request storage commitment for files' instances (Storage Commitment SCU)"
    )
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (recursive)")
    p.add_argument(
        "--listen-port",
        type=int,
        metavar="PORT",
        help="also accept the report on a new association at this port",
    )
    p.add_argument(
        "--report-timeout",
        type=float,
        default=60.0,
        help="seconds to wait for the report (default %(default)s)",
    )
    p.add_argument("--json", action="store_true", help="JSON Lines: one object per instance")
    add_common(p)
    p.set_defaults(run=run)


def _references(paths: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    from ..net.services.store import _file_uids
    from ..reader import read
    from .store import iter_files

    refs: list[tuple[str, str]] = []
    errors: list[str] = []
    for path in iter_files(paths):
        try:
            sop_class, sop_instance = _file_uids(read(path, stop_before_pixels=True))
        except (DicomError, OSError) as e:
            errors.append(f"{path}: {e}")
            continue
        if not sop_class or not sop_instance:
            errors.append(f"{path}: no SOP Class/Instance UID")
            continue
        refs.append((sop_class, sop_instance))
    return refs, errors


def _listener(args: argparse.Namespace, reports: queue.Queue[Any]) -> Any:
    from ..net import AE, evt
    from ..net.services import commitment

    def on_report(event: Any) -> int:
        if event.sop_class_uid != commitment.STORAGE_COMMITMENT_PUSH or event.dataset is None:
            return 0x0110
        reports.put(commitment.parse_report(event.dataset))
        return 0

    ae = AE(args.aet, acse_timeout=args.timeout, dimse_timeout=args.timeout)
    ae.add_supported_context(commitment.STORAGE_COMMITMENT_PUSH, None, scu_role=True, scp_role=True)
    return ae.start_server(
        ("0.0.0.0", args.listen_port),
        block=False,
        evt_handlers=[(evt.EVT_N_EVENT_REPORT, on_report)],
        ssl_context=ssl_from_args(args, server=True) if args.tls_cert else None,
    )


def _print(report: Any, refs: list[tuple[str, str]], as_json: bool) -> int:
    committed = set(report.committed) if report else set()
    failed = {(c, i): r for c, i, r in report.failed} if report else {}
    missing = 0
    for sop_class, sop_instance in refs:
        if (sop_class, sop_instance) in committed:
            state, reason = "committed", None
        else:
            state, reason = "failed", failed.get((sop_class, sop_instance))
            missing += 1
        if as_json:
            print(
                json.dumps(
                    {
                        "sop_class_uid": sop_class,
                        "sop_instance_uid": sop_instance,
                        "status": state,
                        "failure_reason": reason,
                    }
                )
            )
        else:
            why = (
                f" 0x{reason:04X} ({_REASONS.get(reason, 'failure')})"
                if reason is not None
                else (" (not in the report)" if state == "failed" else "")
            )
            print(f"{state} {sop_class} {sop_instance}{why}")
    return missing


def run(args: argparse.Namespace) -> int:
    from ..net import AE
    from ..net.contexts import PresentationContext
    from ..net.services import commitment
    from ..net.transport import run_sync

    refs, errors = _references(args.paths)
    for e in errors:
        print(f"dicomfast commit: {e}", file=sys.stderr)
    if not refs:
        print("dicomfast commit: no instances to commit", file=sys.stderr)
        return 2
    reports: queue.Queue[Any] = queue.Queue()
    listener = None
    try:
        if args.listen_port is not None:
            listener = _listener(args, reports)
        ae = AE(args.aet, acse_timeout=args.timeout, dimse_timeout=args.timeout)
        ae.maximum_pdu_size = args.max_pdu
        ctx = PresentationContext(
            commitment.STORAGE_COMMITMENT_PUSH,
            ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"],
        )
        report = None
        deadline = time.monotonic() + args.report_timeout
        with ae.associate(
            args.host,
            args.port,
            [ctx],
            args.aec,
            ssl_context=ssl_from_args(args, server=False),
        ) as assoc:
            inner = assoc.async_association
            transaction = run_sync(commitment.request(inner, refs))
            if listener is None:  # the report comes on this association
                report = run_sync(commitment.wait_report(inner, transaction, args.report_timeout))
        # With --listen-port the association is released at once: the SCP then
        # reports on a new association (PS3.4 J.3.3), to our listener.
        while report is None:
            try:
                got = reports.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                print("dicomfast commit: no storage commitment report in time", file=sys.stderr)
                break
            if got.transaction_uid == transaction:
                report = got
    except DimseTimeout as e:
        print(f"dicomfast commit: no storage commitment report: {e}", file=sys.stderr)
    except (DicomError, OSError) as e:
        print(f"dicomfast commit: {e}", file=sys.stderr)
        return 2
    finally:
        if listener is not None:
            listener.shutdown()
    missing = _print(report, refs, args.json)
    return 0 if report is not None and missing == 0 and not errors else 1
