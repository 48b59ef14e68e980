"""``dicomfast serve``: a Verification and Storage SCP writing received
instances to a folder (durably; see :mod:`dicomfast.net.storage`)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from ..errors import DicomError
from ..net.cliopts import add_common, ssl_from_args


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run a Storage SCP (C-ECHO, C-STORE)")
    p.add_argument("--port", type=int, default=11112, help="port (default %(default)s; 0 = any)")
    p.add_argument("--host", default="0.0.0.0", help="address to bind (default %(default)s)")
    p.add_argument("--storage", default="./dicomfast-data", help="folder for received files")
    p.add_argument("--max-associations", type=int, default=10)
    p.add_argument("--idle-timeout", type=float, default=60.0, help="seconds without data")
    p.add_argument(
        "--require-called-aet",
        action="store_true",
        help="reject associations whose called AE title is not --aet",
    )
    p.add_argument(
        "--allow-aet", nargs="+", metavar="AET", help="accept only these calling AE titles"
    )
    p.add_argument("--no-fsync", action="store_true", help="skip fsync (faster, not durable)")
    p.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    add_common(p, server=True)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..net import AE, FileStorage, evt

    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    ae = AE(
        args.aet,
        maximum_pdu_size=args.max_pdu,
        acse_timeout=args.timeout,
        dimse_timeout=args.timeout,
        network_timeout=args.idle_timeout,
        maximum_associations=args.max_associations,
        require_called_aet=args.require_called_aet,
        require_calling_aet=args.allow_aet,
    )
    ae.add_storage_scp_contexts()
    log = logging.getLogger("dicomfast.serve")

    async def stored(event: evt.Event) -> None:  # async: runs on the loop, no thread hop
        log.info("stored %s from %s", event.stored_path, event.assoc.remote_ae_title)

    try:
        storage = FileStorage(args.storage, fsync=not args.no_fsync)
        server = ae.start_server(
            (args.host, args.port),
            block=False,
            evt_handlers=[(evt.EVT_STORED, stored)],
            ssl_context=ssl_from_args(args, server=True),
            storage=storage,
        )
    except (DicomError, OSError, ValueError) as e:
        print(f"dicomfast serve: {e}", file=sys.stderr)
        return 2
    print(
        f"dicomfast serve: {args.aet} listening on {server.address[0]}:{server.port}, "
        f"storing to {storage.folder}",
        flush=True,
    )
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
    return 0
