"""The ``dicomfast`` command line: one subcommand per module in this package.

Only the module of the command being run is imported (``dicomfast echo`` does
not load numpy or the archive); the others appear in ``dicomfast --help`` from
:data:`COMMANDS`, whose one-line help a test keeps equal to each module's own.

Every command follows one convention (:mod:`dicomfast.cli.conventions`, applied
here to each command's parser): ``--version``; ``-q/--quiet``, ``-v/--verbose``,
``-d/--debug``, ``--log-level LEVEL`` mapped to :mod:`logging` levels; ``--json``
is JSON Lines (one object per line); failures on stderr, results on stdout; and
one table of exit codes:

====  ===================================================================
code  meaning
====  ===================================================================
0     all good
1     some operation failed: a file, an instance, a DIMSE warning/failure
2     usage, connection or configuration error (argparse usage errors too)
====  ===================================================================

The network commands accept DCMTK's spellings beside ours: ``-aet``, ``-aec``,
``-aem`` (move destination), ``-od`` (output folder), ``-P``/``-S``/``-W``
(patient root, study root, worklist) and ``-k gggg,eeee=value`` or
``-k Sequence[0].Keyword=value``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .conventions import add_conventions, add_version, setup_logging, walk_parsers

#: command -> (module of this package that defines it, its one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "dump": ("dump", "list the elements of DICOM files"),
    "echo": ("echo", "send C-ECHO to a DICOM peer"),
    "store": ("store", "send DICOM files to a Storage SCP"),
    "serve": ("serve", "run the archive: Storage, Query/Retrieve, Worklist and MPPS SCP"),
    "find": ("find", "C-FIND SCU (Patient/Study Root query)"),
    "move": ("move", "C-MOVE SCU (retrieve to another AE)"),
    "get": ("get", "C-GET SCU (retrieve on the same association)"),
    "mwl": ("mwl", "Modality Worklist C-FIND SCU"),
    "commit": (
        "commit",
        "request storage commitment for files' instances (Storage Commitment SCU)",
    ),
    "archive": ("archive", "manage the archive index of a storage folder"),
    "worklist": ("worklist", "manage Modality Worklist entries"),
    "convert": ("convert", "convert files to another transfer syntax"),
    "export": ("export", "export frames as PNG/JPEG/TIFF images or .npy arrays"),
    "anonymize": ("anonymize", "de-identify files (PS3.15 Annex E profile)"),
    "gsdf": ("gsdf", "GSDF calibration table of a display or printer (PS3.14)"),
    "media": ("media", "create, list, change and verify DICOM File-sets (DICOMDIR)"),
    "print-server": ("print_server", "print SCP: films to PNG + PDF files"),
    "print": ("print_films", "print images on a DICOM printer (print SCU)"),
    "encapsulate": (
        "encapsulate",
        "a PDF, CDA (xml), STL, OBJ or MTL file into a DICOM instance",
    ),
    "extract": (
        "encapsulate",
        "the document of an Encapsulated Document instance, byte for byte",
    ),
    "bench": ("bench", "benchmark DICOM toolkits against dicomfast on your files"),
    "import": (
        "pictures",
        "PNG, TIFF or JPEG pictures, or an MPEG-2/H.264/HEVC video, into a DICOM instance",
    ),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser: every command in full (``command=None``), or only ``command``
    (the others are not needed to parse its arguments: ~0.1 ms of start-up each), or
    for a name that is not a command (``--help``) every command as a name with its
    help."""
    parser = argparse.ArgumentParser(prog="dicomfast", description="Fast DICOM toolkit")
    add_version(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    if command is None:
        wanted = list(COMMANDS)
    else:
        wanted = [command] if command in COMMANDS else []
    for module in dict.fromkeys(COMMANDS[c][0] for c in wanted):
        importlib.import_module(f".{module}", __name__).add_parser(sub)
    for name in wanted:
        for p in walk_parsers(sub.choices[name]):
            add_conventions(p)
    if not wanted:  # the others by name, for the list of ``dicomfast --help``
        for name, (_, text) in COMMANDS.items():
            sub.add_parser(name, help=text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv[0] if argv else "")
    args = parser.parse_args(argv)
    setup_logging(args)
    try:
        return int(args.run(args) or 0)
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
