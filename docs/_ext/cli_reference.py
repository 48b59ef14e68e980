"""``.. dicomfast-cli::``: the command-line reference, generated at build time from
the argparse parsers (``dicomfast.cli.build_parser()``): each command's and
subcommand's ``--help`` text as a section of its own."""

from __future__ import annotations

import argparse
import os

from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList
from sphinx.util.nodes import nested_parse_with_titles

_UNDERLINES = "-~^"


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices.items())
    return []


def _lines(name: str, parser: argparse.ArgumentParser, depth: int) -> list[str]:
    title = f"dicomfast {name}"
    out = [title, _UNDERLINES[min(depth, 2)] * len(title), "", ".. code-block:: text", ""]
    out += ["   " + line if line else "" for line in parser.format_help().splitlines()]
    out.append("")
    for sub, subparser in _subcommands(parser):
        out += _lines(f"{name} {sub}", subparser, depth + 1)
    return out


class DicomfastCli(Directive):
    has_content = False

    def run(self) -> list[nodes.Node]:
        from dicomfast.cli import build_parser

        # argparse wraps at $COLUMNS: a fixed width makes the page the same everywhere.
        saved = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "100"
        try:
            lines: list[str] = []
            for name, parser in _subcommands(build_parser()):
                lines += _lines(name, parser, 0)
        finally:
            if saved is None:
                del os.environ["COLUMNS"]
            else:
                os.environ["COLUMNS"] = saved
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source="dicomfast-cli"), container)
        return container.children


def setup(app):  # noqa: ANN001, ANN201
    app.add_directive("dicomfast-cli", DicomfastCli)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
