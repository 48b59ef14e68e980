"""``dicomfast import IMAGE_OR_VIDEO... -o OUT.dcm``: pictures and video into DICOM."""

from __future__ import annotations

import argparse
import os
import sys

from .encapsulate import parse_keys

HELP = "PNG, TIFF or JPEG pictures, or an MPEG-2/H.264/HEVC video, into a DICOM instance"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import",
        help=HELP,
        description=(
            "Pictures become one Secondary Capture instance (several pictures: one frame "
            "each, in the order given); a JPEG is kept as it is (JPEG Baseline), a video "
            "as encoded (its MPEG-2, MPEG-4 AVC/H.264 or HEVC transfer syntax)."
        ),
    )
    p.add_argument("files", nargs="+", metavar="IMAGE_OR_VIDEO")
    p.add_argument(
        "-o", "--output", required=True, metavar="OUT.dcm", help="the DICOM file to write"
    )
    p.add_argument(
        "--like", metavar="REFERENCE.dcm", help="take patient and study from this instance"
    )
    p.add_argument(
        "-k",
        "--key",
        action="append",
        default=[],
        metavar="Keyword=value",
        help="set an attribute of the new instance (repeatable)",
    )
    p.add_argument(
        "--conversion-type",
        metavar="TYPE",
        help="Conversion Type: WSD (pictures' default), DV (video's), DI, DF, SD, SI, DRW, SYN",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import DicomError
    from ..pictures import import_images
    from ..writer import write

    try:
        out = os.path.realpath(args.output)
        if any(os.path.realpath(f) == out for f in args.files):
            raise DicomError(f"{args.output} is an input: the inputs are never overwritten")
        ds = import_images(
            args.files,
            like=args.like,
            keys=parse_keys(args.key),
            conversion_type=args.conversion_type,
        )
        write(ds, args.output)
    except (DicomError, OSError) as e:
        print(f"dicomfast import: {e}", file=sys.stderr)
        return 1
    return 0
