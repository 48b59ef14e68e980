"""``dicomfast serve``: the archive on the network.

Verification, Storage (every received instance is streamed to an intake file
and flushed once: the C-STORE answer is Success once it is durable there; it
is then named under its study and series, in groups, by
:mod:`dicomfast.archive.placement`, and its index row follows in the archive's
next group commit; queries wait for both; see :mod:`dicomfast.net.intake` and
:mod:`dicomfast.archive.ingest`), Query/Retrieve (Patient and Study Root
C-FIND, C-MOVE, C-GET), Modality Worklist C-FIND and MPPS N-CREATE/N-SET.
With no options it runs on embedded defaults: files and the SQLite index
under ``./dicomfast-data``, port 11112, AE title ``DICOMFAST``.  On start
the acknowledged instances a crash left in intake files are placed, and the
index is checked against the files and repaired (what a crash left:
temporary files, files without rows); ``--no-check`` skips the check.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping
from typing import Any

from ..errors import DicomError
from ..net.cliopts import add_common, ssl_from_args


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve", help="run the archive: Storage, Query/Retrieve, Worklist and MPPS SCP"
    )
    p.add_argument(
        "--config",
        metavar="FILE.toml",
        help="settings file (aet, port, storage, db; top level or a [serve] table); "
        "command line > this file > DICOMFAST_* environment > defaults",
    )
    p.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"port (env DICOMFAST_PORT; default {DEFAULTS['port']}; 0 = any)",
    )
    p.add_argument("--host", default="0.0.0.0", help="address to bind (default %(default)s)")
    p.add_argument(
        "--storage",
        default=None,
        help=f"folder for received files (env DICOMFAST_STORAGE; default {DEFAULTS['storage']})",
    )
    p.add_argument(
        "--db",
        default=None,
        metavar="URL",
        help="index URL, e.g. postgresql://user@host/db (env DICOMFAST_DB; "
        "default: SQLite in the folder)",
    )
    p.add_argument(
        "--ae-config",
        metavar="FILE",
        help="known AEs (C-MOVE destinations; where a storage commitment report goes when "
        'its requestor has released): JSON {"AET": ["host", port]} or INI [AET] host=, port=',
    )
    p.add_argument(
        "--duplicates",
        default="keep-first",
        choices=("keep-first", "replace", "keep-both"),
        help="an instance whose SOP Instance UID is already stored (default %(default)s)",
    )
    p.add_argument(
        "--max-associations",
        type=int,
        default=64,
        help="associations served at once; more get A-ASSOCIATE-RJ (default %(default)s)",
    )
    p.add_argument(
        "--max-pending",
        type=int,
        default=128,
        help="connections not yet associated; beyond it the oldest is closed (default %(default)s)",
    )
    p.add_argument(
        "--request-timeout",
        type=float,
        default=10.0,
        help="seconds a new connection has to send its A-ASSOCIATE-RQ (default %(default)s)",
    )
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
    p.add_argument("--no-check", action="store_true", help="do not check/repair the index on start")
    p.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    add_common(p, server=True)
    add_http_options(p)
    # None = not given: resolve_settings fills in the config file, environment, default.
    p.set_defaults(run=run, log_default=logging.INFO, aet=None)


#: serve's settings that a config file or the environment may give, and their defaults
DEFAULTS: dict[str, Any] = {
    "aet": "DICOMFAST",
    "port": 11112,
    "storage": "./dicomfast-data",
    "db": None,
}
ENVIRONMENT = {
    "aet": "DICOMFAST_AET",
    "port": "DICOMFAST_PORT",
    "storage": "DICOMFAST_STORAGE",
    "db": "DICOMFAST_DB",
}
_ALIASES = {"ae_title": "aet", "database": "db", "db_url": "db"}


def load_config(path: str) -> dict[str, Any]:
    """The settings of a ``dicomfast.toml``: top-level keys or a ``[serve]`` table."""
    import tomllib

    with open(path, "rb") as f:
        doc = tomllib.load(f)
    table = doc.get("serve", doc)
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            continue
        name = _ALIASES.get(key.replace("-", "_"), key.replace("-", "_"))
        if name not in DEFAULTS:
            raise ValueError(f"{path}: unknown setting {key!r} (known: {', '.join(DEFAULTS)})")
        out[name] = value
    return out


def resolve_settings(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> argparse.Namespace:
    """Fill ``args.aet/port/storage/db`` not given on the command line from the
    config file (``--config``), then the ``DICOMFAST_*`` environment, then the
    defaults.  Raises ValueError/OSError for a bad file or value."""
    environ = os.environ if environ is None else environ
    config = load_config(args.config) if getattr(args, "config", None) else {}
    for name, default in DEFAULTS.items():
        if getattr(args, name, None) is not None:
            continue
        if name in config:
            value = config[name]
        elif environ.get(ENVIRONMENT[name]):
            value = environ[ENVIRONMENT[name]]
        else:
            value = default
        if name == "port" and value is not None:
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise ValueError(f"port: not a number: {value!r}") from None
        setattr(args, name, value)
    return args


def add_http_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("DICOMweb and the viewer (HTTP)")
    g.add_argument(
        "--http-port", type=int, default=8042, help="HTTP port (default %(default)s; 0 = any)"
    )
    g.add_argument("--no-http", action="store_true", help="no DICOMweb, no viewer")
    g.add_argument(
        "--http-host", default="127.0.0.1", help="address to bind HTTP to (default %(default)s)"
    )
    g.add_argument(
        "--http-auth",
        metavar="FILE",
        help="credentials: a bearer token or user:password a line (needed off loopback)",
    )
    g.add_argument(
        "--http-insecure",
        action="store_true",
        help="allow a non-loopback --http-host without --http-auth",
    )
    g.add_argument("--http-tls-cert", metavar="PEM", help="certificate chain (enables HTTPS)")
    g.add_argument("--http-tls-key", metavar="PEM", help="its private key")
    g.add_argument(
        "--http-cors",
        metavar="ORIGIN",
        action="append",
        default=[],
        help="allow browser calls from ORIGIN (repeatable; * for any); CORS is off by default",
    )


def start_web(args: argparse.Namespace, archive: Any) -> Any:
    """The DICOMweb server for ``serve``'s options (None with --no-http)."""
    if args.no_http:
        return None
    try:
        from ..web import WebOptions, WebServer
    except ImportError as e:
        print(
            f"dicomfast serve: DICOMweb off ({e.name} is not installed: "
            "pip install 'dicomfast[web]', or pass --no-http)",
            file=sys.stderr,
        )
        return None
    options = WebOptions(
        host=args.http_host,
        port=args.http_port,
        auth_file=args.http_auth,
        insecure=args.http_insecure,
        tls_cert=args.http_tls_cert,
        tls_key=args.http_tls_key,
        cors_origins=args.http_cors,
    )
    return WebServer(archive, options).start()


def archive_ae(ae_title: str, **kw: Any) -> Any:
    """An AE supporting every context the archive serves."""
    from .. import uid as uids
    from ..net import AE
    from ..net.contexts import VERIFICATION_SOP_CLASS
    from ..net.services import find as qr
    from ..net.services.commitment import STORAGE_COMMITMENT_PUSH
    from ..net.services.mpps import MPPS_SOP_CLASS

    ae = AE(ae_title, **kw)
    ae.add_supported_context(VERIFICATION_SOP_CLASS)
    for sop in (*uids.storage_sop_classes(), *uids.retired_storage_sop_classes()):
        # SCP role too: C-GET sends instances back on the requestor's association.
        ae.add_supported_context(sop, None, scu_role=True, scp_role=True)
    for sop in (
        *qr.QR_FIND_CLASSES,
        *qr.QR_MOVE_CLASSES,
        *qr.QR_GET_CLASSES,
        qr.MODALITY_WORKLIST_FIND,
        MPPS_SOP_CLASS,
    ):
        ae.add_supported_context(sop)
    # Storage Commitment: the report may go back on the requestor's association.
    ae.add_supported_context(STORAGE_COMMITMENT_PUSH, None, scu_role=True, scp_role=True)
    return ae


def run(args: argparse.Namespace) -> int:
    from ..archive import Archive
    from ..archive.handlers import archive_handlers
    from ..archive.netstorage import ArchiveStorage
    from ..net.services.move import load_ae_config

    try:
        resolve_settings(args)
    except (OSError, ValueError) as e:  # tomllib.TOMLDecodeError is a ValueError
        print(f"dicomfast serve: configuration: {e}", file=sys.stderr)
        return 2
    try:
        destinations = load_ae_config(args.ae_config) if args.ae_config else {}
        archive = Archive(
            args.storage,
            args.db,
            args.duplicates,
            fsync=not args.no_fsync,
            reconcile=not args.no_check,
        )
    except (DicomError, OSError, ValueError, KeyError) as e:
        print(f"dicomfast serve: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - database errors (SQLAlchemy) at start-up
        print(f"dicomfast serve: cannot open the index: {e}", file=sys.stderr)
        return 2
    ae = archive_ae(
        args.aet,
        maximum_pdu_size=args.max_pdu,
        acse_timeout=args.timeout,
        dimse_timeout=args.timeout,
        network_timeout=args.idle_timeout,
        maximum_associations=args.max_associations,
        maximum_pending=args.max_pending,
        request_timeout=args.request_timeout,
        require_called_aet=args.require_called_aet,
        require_calling_aet=args.allow_aet,
    )
    ae.destinations = destinations
    try:
        server = ae.start_server(
            (args.host, args.port),
            block=False,
            evt_handlers=archive_handlers(archive, args.aet, destinations),
            storage=ArchiveStorage(archive),
            ssl_context=ssl_from_args(args, server=True),
        )
    except (DicomError, OSError, ValueError) as e:
        print(f"dicomfast serve: {e}", file=sys.stderr)
        archive.close()
        return 2
    try:
        web = start_web(args, archive)
    except (DicomError, OSError, ValueError) as e:
        print(f"dicomfast serve: HTTP: {e}", file=sys.stderr)
        server.shutdown()
        archive.close()
        return 2
    # The DICOM line first: scripts wait for "listening on HOST:PORT" on the first line.
    print(
        f"dicomfast serve: {args.aet} listening on {server.address[0]}:{server.port}, "
        f"archive {archive.folder} (index {archive.db_url.split('://')[0]})",
        flush=True,
    )
    if web is not None:
        print(f"dicomfast serve: DICOMweb and the viewer on {web.url}/", flush=True)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if web is not None:
            web.shutdown()
        server.shutdown()
        archive.close()
    return 0
