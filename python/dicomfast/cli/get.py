"""``dicomfast get HOST PORT -k StudyInstanceUID=... -o OUTDIR``: C-GET SCU.
Instances arrive on the same association and are written to OUTDIR as the
storage server writes them (``<SOP Instance UID>.dcm``, durably, never
overwriting; see :mod:`dicomfast.net.storage`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import DicomError
from .conventions import add_json, emit, progress_bar
from .find import add_key_options, associate, default_level, identifier_from_keys, scu_ae
from .move import counts_of, record, sub_operations

#: Storage SOP classes proposed first (the association holds at most 128
#: contexts; the rest of PS3.4 Table B.5-1 fills the remaining places).
COMMON = (
    "1.2.840.10008.5.1.4.1.1.2",  # CT
    "1.2.840.10008.5.1.4.1.1.2.1",  # Enhanced CT
    "1.2.840.10008.5.1.4.1.1.4",  # MR
    "1.2.840.10008.5.1.4.1.1.4.1",  # Enhanced MR
    "1.2.840.10008.5.1.4.1.1.1",  # CR
    "1.2.840.10008.5.1.4.1.1.1.1",  # DX
    "1.2.840.10008.5.1.4.1.1.1.2",  # MG
    "1.2.840.10008.5.1.4.1.1.6.1",  # US
    "1.2.840.10008.5.1.4.1.1.3.1",  # US multi-frame
    "1.2.840.10008.5.1.4.1.1.7",  # SC
    "1.2.840.10008.5.1.4.1.1.20",  # NM
    "1.2.840.10008.5.1.4.1.1.128",  # PET
    "1.2.840.10008.5.1.4.1.1.12.1",  # XA
    "1.2.840.10008.5.1.4.1.1.481.1",  # RT Image
    "1.2.840.10008.5.1.4.1.1.481.2",  # RT Dose
    "1.2.840.10008.5.1.4.1.1.481.3",  # RT Structure Set
    "1.2.840.10008.5.1.4.1.1.481.5",  # RT Plan
    "1.2.840.10008.5.1.4.1.1.88.11",  # Basic Text SR
    "1.2.840.10008.5.1.4.1.1.88.22",  # Enhanced SR
    "1.2.840.10008.5.1.4.1.1.104.1",  # Encapsulated PDF
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("get", help="C-GET SCU (retrieve on the same association)")
    add_key_options(p)
    p.add_argument(
        "-o", "--output", "-od", default=".", metavar="OUTDIR", help="folder to write to"
    )
    p.add_argument("--no-fsync", action="store_true", help="skip fsync (faster, not durable)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    add_json(p, "one object per pending and the final response: status, category, counts")
    p.set_defaults(run=run)


def storage_classes(limit: int = 126) -> list[str]:
    from .. import uid as uids

    rest = [s for s in uids.storage_sop_classes() if s not in COMMON]
    return [*COMMON, *rest][:limit]


def run(args: argparse.Namespace) -> int:
    from ..net import FileStorage
    from ..net.contexts import PresentationContext
    from ..net.services.find import sop_class_for
    from ..net.services.get import storage_contexts_for_get
    from ..net.storage import FileSink

    storage = FileStorage(args.output, fsync=not args.no_fsync)
    written: list[str] = []

    def on_store(event: Any) -> int:
        sink = FileSink(storage, event.sop_instance_uid, event.encoded)
        try:
            sink.close()
            written.append(sink.commit())
        except OSError:
            sink.discard()
            raise
        return 0

    bar: Any = None
    try:
        ident = identifier_from_keys(args.key, default_level(args))
        sop = sop_class_for("get", args.model)
        contexts = [PresentationContext(sop, None), *storage_contexts_for_get(storage_classes())]
        ae = scu_ae(args, [(sop, None)])
        final = None
        bar = progress_bar(unit="instance", enabled=not (args.quiet or args.json))
        with associate(args, ae, contexts) as assoc:
            for status, _ in assoc.send_c_get(ident, args.model, on_store=on_store):
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
        print(f"dicomfast get: {e}", file=sys.stderr)
        return 2
    finally:
        storage.close()  # writes finished; no .spares/ left in the output folder
    assert final is not None
    comment = f" ({final.ErrorComment})" if final.ErrorComment else ""
    if args.json:
        emit(record(final, written=len(written), folder=str(storage.folder)))
    else:
        print(
            f"C-GET {final.category} 0x{int(final):04X}{comment}: {counts_of(final)}; "
            f"{len(written)} files written to {storage.folder}"
        )
    return 0 if final.category == "Success" else 1
