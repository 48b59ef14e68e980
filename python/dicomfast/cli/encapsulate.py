"""``dicomfast encapsulate FILE -o OUT.dcm`` and ``dicomfast extract FILE.dcm -o OUT``."""

from __future__ import annotations

import argparse
import os
import sys

from ..documents import encapsulate, extract
from ..errors import DicomError
from ..reader import read
from ..tempfiles import create_temp
from ..writer import write


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "encapsulate", help="a PDF, CDA (xml), STL, OBJ or MTL file into a DICOM instance"
    )
    p.add_argument("file", metavar="FILE")
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
    p.set_defaults(run=run_encapsulate)
    x = sub.add_parser(
        "extract", help="the document of an Encapsulated Document instance, byte for byte"
    )
    x.add_argument("file", metavar="FILE.dcm")
    x.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="the document file to write"
    )
    x.set_defaults(run=run_extract)


def parse_keys(items: list[str]) -> dict[str, str]:
    """``-k Keyword=value`` options as a dict (a DicomError for one without ``=``)."""
    keys = {}
    for k in items:
        name, sep, value = k.partition("=")
        if not sep:
            raise DicomError(f"-k {k}: expected Keyword=value")
        keys[name] = value
    return keys


def run_encapsulate(args: argparse.Namespace) -> int:
    try:
        write(encapsulate(args.file, like=args.like, keys=parse_keys(args.key)), args.output)
    except (DicomError, OSError) as e:
        print(f"dicomfast encapsulate: {e}", file=sys.stderr)
        return 1
    return 0


def run_extract(args: argparse.Namespace) -> int:
    try:
        data = extract(read(args.file))
        fd, tmp = create_temp(os.path.dirname(os.path.abspath(args.output)))
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, args.output)
        except BaseException:
            os.unlink(tmp)
            raise
    except (DicomError, OSError) as e:
        print(f"dicomfast extract: {e}", file=sys.stderr)
        return 1
    return 0
