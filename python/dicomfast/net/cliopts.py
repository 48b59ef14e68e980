"""Command-line options shared by ``dicomfast echo``, ``store`` and ``serve``."""

from __future__ import annotations

import argparse
import ssl

from .contexts import DEFAULT_MAX_PDU
from .tls import client_context, server_context


def add_common(p: argparse.ArgumentParser, *, server: bool = False) -> None:
    p.add_argument("--aet", "-aet", default="DICOMFAST", help="our AE title (default: %(default)s)")
    if not server:
        p.add_argument(
            "--aec",
            "-aec",
            default="ANY-SCP",
            help="the peer's (called) AE title (default: %(default)s)",
        )
    p.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="ACSE and DIMSE timeout in seconds (default: %(default)s)",
    )
    p.add_argument(
        "--max-pdu",
        type=int,
        default=DEFAULT_MAX_PDU,
        help="largest PDU we accept, in bytes (default: %(default)s)",
    )
    g = p.add_argument_group("TLS")
    g.add_argument("--tls-cert", metavar="PEM", help="our certificate (enables TLS)")
    g.add_argument("--tls-key", metavar="PEM", help="our private key")
    g.add_argument("--tls-ca", metavar="PEM", help="CA certificates to verify the peer with")
    g.add_argument(
        "--tls-no-verify", action="store_true", help="do not verify the peer's certificate"
    )
    if not server:
        g.add_argument(
            "--tls", action="store_true", help="use TLS even without a client certificate"
        )


def ssl_from_args(args: argparse.Namespace, *, server: bool) -> ssl.SSLContext | None:
    if server:
        if not args.tls_cert:
            return None
        return server_context(
            cert=args.tls_cert, key=args.tls_key, ca=args.tls_ca, verify=not args.tls_no_verify
        )
    if not (args.tls or args.tls_cert or args.tls_ca):
        return None
    return client_context(
        ca=args.tls_ca, cert=args.tls_cert, key=args.tls_key, verify=not args.tls_no_verify
    )
