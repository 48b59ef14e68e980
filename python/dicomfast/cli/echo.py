"""``dicomfast echo HOST PORT``: verify a DICOM peer with C-ECHO."""

from __future__ import annotations

import argparse
import sys
import time

from ..errors import DicomError
from ..net.cliopts import add_common, ssl_from_args
from .conventions import add_json, emit


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("echo", help="send C-ECHO to a DICOM peer")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--repeat", type=int, default=1, help="number of C-ECHOs on one association")
    add_common(p)
    add_json(p, "one object: peer, aec, status, category, count, ms")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..net import AE, VERIFICATION_SOP_CLASS

    ae = AE(
        args.aet,
        acse_timeout=args.timeout,
        dimse_timeout=args.timeout,
        connect_timeout=args.timeout,
        maximum_pdu_size=args.max_pdu,
    )
    ae.add_requested_context(VERIFICATION_SOP_CLASS)
    peer = f"{args.host}:{args.port} ({args.aec})"
    try:
        ctx = ssl_from_args(args, server=False)
        t0 = time.perf_counter()
        assoc = ae.associate(args.host, args.port, args.aec, ssl_context=ctx)
        try:
            worst = 0
            for _ in range(max(1, args.repeat)):
                status = assoc.send_c_echo()
                if status != 0:
                    worst = int(status)
        finally:
            assoc.release()
        ms = (time.perf_counter() - t0) * 1000
    except (DicomError, OSError) as e:
        print(f"dicomfast echo: {peer}: {e}", file=sys.stderr)
        return 2
    if args.json:
        emit(
            {
                "peer": f"{args.host}:{args.port}",
                "aec": args.aec,
                "status": worst,
                "category": "Failure" if worst else "Success",
                "count": max(1, args.repeat),
                "ms": round(ms, 3),
            }
        )
    if worst:
        print(f"C-ECHO {peer}: status 0x{worst:04X}", file=sys.stderr)
        return 1
    if not args.json:
        print(f"C-ECHO {peer}: Success ({args.repeat} in {ms:.1f} ms)")
    return 0
