"""``dicomfast print-server``: a DICOM print SCP (PS3.4 Annex H) that prints to
files: Basic Grayscale and Basic Color Print Management, Printer and
Presentation LUT; every printed film box becomes
``OUTPUT/<Film Session UID>/<film box number>.png`` (16-bit grey, RGB for
colour) and ``.pdf`` (the film's true size), rendered at ``--dpi``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any

from ..errors import DicomError
from ..net.cliopts import add_common, ssl_from_args


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("print-server", help="print SCP: films to PNG + PDF files")
    p.add_argument("--port", type=int, default=10400, help="port (default %(default)s; 0 = any)")
    p.add_argument("--host", default="0.0.0.0", help="address to bind (default %(default)s)")
    p.add_argument("--output", "-od", default="./films", help="folder for printed films")
    p.add_argument("--dpi", type=int, default=320, help="printer resolution (default %(default)s)")
    p.add_argument(
        "--film-size", default="14INX17IN", help="default Film Size ID (default %(default)s)"
    )
    p.add_argument("--no-fsync", action="store_true", help="skip fsync (faster, not durable)")
    p.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    add_common(p, server=True)
    p.set_defaults(run=run, aet="PRINTSCP", log_default=logging.INFO)


def run(args: argparse.Namespace) -> int:
    import os

    from ..printing import PrintServer, make_print_ae
    from ..printing.film import FILM_SIZES

    if args.film_size.upper() not in FILM_SIZES:
        print(f"dicomfast print-server: unknown film size {args.film_size}", file=sys.stderr)
        return 2
    if not 50 <= args.dpi <= 1200:
        print("dicomfast print-server: --dpi must be 50..1200", file=sys.stderr)
        return 2
    try:
        os.makedirs(args.output, exist_ok=True)
        printer = PrintServer(
            args.output, dpi=args.dpi, film_size=args.film_size.upper(), fsync=not args.no_fsync
        )
        ae = make_print_ae(args.aet, acse_timeout=args.timeout, dimse_timeout=args.timeout)
        ae.maximum_pdu_size = args.max_pdu
        server: Any = ae.start_server(
            (args.host, args.port),
            block=False,
            evt_handlers=printer.handlers(),
            ssl_context=ssl_from_args(args, server=True),
        )
    except (DicomError, OSError) as e:
        print(f"dicomfast print-server: {e}", file=sys.stderr)
        return 2
    port = server.port
    print(f"dicomfast print-server: {args.aet} on port {port}, films in {args.output}", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.shutdown()
    return 0
