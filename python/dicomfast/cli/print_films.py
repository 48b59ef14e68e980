"""``dicomfast print HOST PORT PATH...``: print images on a DICOM printer (print
SCU, PS3.4 Annex H): each image goes through the display pipeline (Modality
LUT, VOI window or LUT, MONOCHROME1 inversion) to 12-bit (``--bits 8``: 8-bit)
P-Values, or 8-bit RGB with ``--color``; the images fill as many film boxes of
``--layout`` as they need, each printed and reported on one line; exit 0 only
if every film printed."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import DicomError
from ..net.cliopts import add_common, ssl_from_args


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("print", help="print images on a DICOM printer (print SCU)")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (recursive)")
    p.add_argument("--film-size", default="14INX17IN", help="Film Size ID (default %(default)s)")
    p.add_argument(
        "--layout", default="STANDARD\\1,1", help="Image Display Format (default %(default)s)"
    )
    p.add_argument(
        "--orientation",
        choices=("PORTRAIT", "LANDSCAPE"),
        default=None,
        help="Film Orientation (default: the printer's)",
    )
    p.add_argument(
        "--magnification",
        choices=("REPLICATE", "BILINEAR", "CUBIC", "NONE"),
        help="Magnification Type (default: the printer's)",
    )
    p.add_argument("--copies", type=int, default=1, help="Number of Copies (default 1)")
    p.add_argument("--color", action="store_true", help="Basic Color Print Management")
    p.add_argument("--bits", type=int, choices=(8, 12), default=12, help="grey P-Value bits")
    add_common(p)
    p.set_defaults(run=run, aec="PRINTSCP")


def run(args: argparse.Namespace) -> int:
    from ..net import AE
    from ..printing import scu
    from ..printing import sopclasses as S
    from ..printing.objects import PrintRequestError, check_box_count
    from ..reader import read
    from .store import iter_files

    try:
        check_box_count(args.layout)
    except PrintRequestError as e:
        print(f"dicomfast print: {e}", file=sys.stderr)
        return 2
    paths = list(iter_files(args.paths))
    errors = 0

    def images() -> Any:
        nonlocal errors
        for path in paths:
            try:
                yield scu.print_image(read(path), bits=args.bits, color=args.color)
            except (DicomError, OSError, ValueError) as e:
                errors += 1
                print(f"dicomfast print: {path}: {e}", file=sys.stderr)

    def report(film: scu.FilmResult) -> None:
        state = "printed" if film.ok else "failed"
        why = f" ({film.comment})" if film.comment else ""
        print(
            f"film {film.number}: {film.images} images {state} 0x{film.status:04X}{why}", flush=True
        )
        if film.printer_status is not None:
            print(f"printer: {film.printer_status[0]} ({film.printer_status[1]})", flush=True)

    meta = S.BASIC_COLOR_PRINT_META if args.color else S.BASIC_GRAYSCALE_PRINT_META
    ae = AE(args.aet, acse_timeout=args.timeout, dimse_timeout=args.timeout)
    ae.maximum_pdu_size = args.max_pdu
    ae.add_requested_context(meta)
    try:
        with ae.associate(
            args.host, args.port, args.aec, ssl_context=ssl_from_args(args, server=False)
        ) as assoc:
            films = scu.print_images(
                assoc,
                images(),
                layout=args.layout,
                film_size=args.film_size.upper(),
                orientation=args.orientation,
                copies=args.copies,
                color=args.color,
                bits=args.bits,
                magnification=args.magnification,
                on_film=report,
            )
    except (DicomError, OSError) as e:
        print(f"dicomfast print: {e}", file=sys.stderr)
        return 2
    if not films:
        print("dicomfast print: nothing printed", file=sys.stderr)
        return 2
    return 0 if all(f.ok for f in films) and not errors else 1
