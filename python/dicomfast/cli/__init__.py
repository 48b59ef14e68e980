"""The ``dicomfast`` command line: one subcommand per module in this package."""

from __future__ import annotations

import argparse
import sys

from . import (
    anonymize,
    archive,
    commit,
    convert,
    dump,
    echo,
    encapsulate,
    export,
    find,
    get,
    gsdf,
    media,
    move,
    mwl,
    print_films,
    print_server,
    serve,
    store,
    worklist,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dicomfast", description="Fast DICOM toolkit")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (
        dump,
        echo,
        store,
        serve,
        find,
        move,
        get,
        mwl,
        commit,
        archive,
        worklist,
        convert,
        export,
        anonymize,
        gsdf,
        media,
        print_server,
        print_films,
        encapsulate,
    ):
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
