"""``dicomfast store HOST PORT PATH...``: send files (folders recursively) with
C-STORE over one association, one status line per file."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from ..errors import DicomError, NetworkError
from ..net.cliopts import add_common, ssl_from_args
from .conventions import add_json, emit, progress_bar, say


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "store",
        help="send DICOM files to a Storage SCP",
        description="Send DICOM files (folders recursively) with C-STORE over one "
        "association (another for each further 128 presentation contexts), requests "
        "pipelined when the peer allows. Each file's data set is "
        "sent as its bytes are: every transfer syntax the files use is offered in a "
        "presentation context of its own; a file whose syntax the peer refuses is "
        "converted to Explicit or Implicit VR Little Endian if it is uncompressed, "
        "and fails otherwise.",
    )
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (recursive)")
    p.add_argument("-q", "--quiet", action="store_true", help="print failures only")
    add_common(p)
    add_json(p, "one object per file: path, status, category[, error]")
    p.set_defaults(run=run)


def iter_files(paths: list[str]) -> Iterator[str]:
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for f in sorted(files):
                    yield os.path.join(root, f)
        else:
            yield path


def _scan(path: str) -> tuple[str, str]:
    """(SOP Class UID, transfer syntax) of a file."""
    from .. import uid as uids
    from ..net.services.store import _file_uids
    from ..reader import read

    ds = read(path, stop_before_pixels=True)
    sop, _ = _file_uids(ds)
    if not sop:
        raise DicomError("no SOP Class UID", path=path)
    return sop, ds._raw.transfer_syntax or uids.ImplicitVRLittleEndian


def plan_contexts(classes: dict[str, set[str]]) -> list[list[tuple[str, list[str]]]]:
    """Presentation contexts for the files' (SOP class → syntaxes), in batches
    of at most 128 (one association each): per SOP class one context for each
    syntax its files use, alone, so that an acceptor that takes it gets each
    file's data set as its bytes are (offered Explicit and Implicit VR in one
    context, an acceptor takes one of them for every file: DCMTK's ``storescp``
    Explicit VR, so that Implicit VR files had to be converted; pynetdicom's
    Implicit VR, losing Explicit VR files' private VRs), then one with the
    uncompressed syntaxes to convert to when a file's own is refused."""
    from .. import uid as uids

    native: list[str] = [uids.ExplicitVRLittleEndian, uids.ImplicitVRLittleEndian]
    batches: list[list[tuple[str, list[str]]]] = [[]]
    for sop in sorted(classes):
        group = [(sop, [ts]) for ts in sorted(classes[sop])] + [(sop, list(native))]
        if len(batches[-1]) + len(group) > 128:
            batches.append([])
        batches[-1].extend(group[:128])
    return batches


def run(args: argparse.Namespace) -> int:
    from ..net import AE, PresentationContext

    bar: Any = None  # the progress bar, once the files are scanned

    def fail(path: str, error: str, status: int | None = None) -> None:
        """A file not stored: a line on stderr (failures on stderr, results on stdout),
        or with --json a record among the per-file results."""
        if args.json:
            emit({"path": path, "status": status, "category": "Failure", "error": error})
        else:
            say(f"FAIL {path}: {error}", file=sys.stderr, bar=bar)

    files = list(iter_files(args.paths))
    if not files:
        print("dicomfast store: no files", file=sys.stderr)
        return 2
    failed = 0
    classes: dict[str, set[str]] = {}
    sendable: list[tuple[str, str]] = []
    for path in files:
        try:
            sop, ts = _scan(path)
        except (DicomError, OSError) as e:
            fail(path, str(e))
            failed += 1
            continue
        classes.setdefault(sop, set()).add(ts)
        sendable.append((path, sop))
    try:
        ctx = ssl_from_args(args, server=False)
    except (OSError, ValueError) as e:
        print(f"dicomfast store: TLS: {e}", file=sys.stderr)
        return 2
    ae = AE(
        args.aet,
        acse_timeout=args.timeout,
        dimse_timeout=args.timeout,
        connect_timeout=args.timeout,
        maximum_pdu_size=args.max_pdu,
    )
    bar = progress_bar(len(sendable), enabled=not (args.quiet or args.json))
    nbytes = 0
    t0 = time.perf_counter()

    def report(path: str, status: Any) -> None:
        nonlocal failed
        nonlocal nbytes
        bar.update(1)
        if isinstance(status, DicomError):
            fail(path, str(status))
            failed += 1
            return
        if not bar.disable:  # the rate is only drawn on a bar (a stat per file otherwise)
            nbytes += os.path.getsize(path)
            bar.set_postfix_str(f"{nbytes / max(time.perf_counter() - t0, 1e-9) / 1e6:.1f} MB/s")
        if status.category in ("Success", "Warning"):
            if args.json:
                emit({"path": path, "status": int(status), "category": status.category})
            elif not args.quiet:
                say(f"{status.category.upper():7} {path} (0x{int(status):04X})", bar=bar)
        else:
            failed += 1
            comment = f": {status.ErrorComment}" if status.ErrorComment else ""
            fail(path, f"status 0x{int(status):04X}{comment}", int(status))

    connected = False
    for batch in plan_contexts(classes):
        in_batch = {sop for sop, _ in batch}
        todo = [p for p, sop in sendable if sop in in_batch]
        contexts = [PresentationContext(sop, ts) for sop, ts in batch]
        done = 0  # todo[:done] have their answer
        reconnects = 0
        while done < len(todo):
            try:
                assoc = ae.associate(args.host, args.port, contexts, args.aec, ssl_context=ctx)
            except (NetworkError, OSError) as e:
                print(f"dicomfast store: {e}", file=sys.stderr)
                reconnects += 1
                if reconnects > 3:
                    if not connected:  # no association at all: a connection error, exit 2
                        bar.close()
                        return 2
                    break
                continue
            connected = True
            try:
                # Pipelined up to the asynchronous operations window the peer granted.
                for path, status in assoc.send_c_stores(todo[done:]):
                    report(path, status)
                    done += 1
            except (NetworkError, OSError) as e:
                print(f"dicomfast store: association lost: {e}", file=sys.stderr)
                reconnects += 1
                if reconnects > 3:
                    break
                continue
            if assoc.is_established:
                try:
                    assoc.release()
                except NetworkError as e:
                    print(f"dicomfast store: release: {e}", file=sys.stderr)
        for p in todo[done:]:  # too many association failures: the rest of this batch fails
            fail(p, "not sent (association lost)")
            failed += 1
    bar.close()
    total = len(files)
    print(f"{total - failed}/{total} stored", file=sys.stderr)
    return 1 if failed else 0
