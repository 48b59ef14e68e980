"""The one convention every ``dicomfast`` command follows, in one place.

* ``--version`` on ``dicomfast`` and on every command (``dicomfast.__version__``);
* ``-q/--quiet``, ``-v/--verbose``, ``-d/--debug`` and ``--log-level LEVEL``
  (DCMTK's ``-ll`` too) on every command, mapped to the standard :mod:`logging`
  levels by :func:`setup_logging` (WARNING by default, ``-q`` ERROR, ``-v`` INFO,
  ``-d`` DEBUG; ``serve`` defaults to INFO).  A command that already had ``-q``
  keeps its meaning (fewer progress/status lines) and also logs less;
* the exit codes of :data:`EXIT_CODES`; failures go to stderr, results to stdout.

:func:`add_conventions` is applied by :func:`dicomfast.cli.build_parser` to
each command's parser after the command's own ``add_parser`` (and to nested
subcommands such as ``archive check``), so a command cannot forget it and
options it already defines are left alone.

Why argparse rather than click: every command is already an argparse parser
(``add_parser(sub)``/``run(args)``), the network, query and batch commands
share argparse helpers (:mod:`dicomfast.net.cliopts`, ``find.add_key_options``,
``batch_run.add_common``), and ``dicomfast --help`` lists the commands from
:data:`dicomfast.cli.COMMANDS` while importing only the module of the command
being run — click's groups want every command object (so its module) imported
to build the help, and would be one more start-up import and dependency.

This module imports nothing beyond the standard library (``dicomfast echo``
starts without numpy; tests/test_cli_startup.py).
"""

from __future__ import annotations

import argparse
import importlib.machinery
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import importlib.abc

#: exit code -> meaning, the same for every command
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "all good",
    EXIT_FAILED: "some operation failed (a file, an instance, a DIMSE warning or failure status)",
    EXIT_USAGE: "usage, connection or configuration error (nothing was done)",
}

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: The numbers :mod:`logging` gives its levels (tests/test_cli_conventions.py checks),
#: so that choosing one does not import it.
LEVEL_NUMBERS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
_WARNING = LEVEL_NUMBERS["WARNING"]
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def version_text() -> str:
    from .. import __version__

    return f"dicomfast {__version__}"


class _Version(argparse.Action):
    """``--version``: the version is looked up only when asked for."""

    def __init__(self, option_strings: list[str], dest: str, **kw: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kw)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        print(version_text())
        parser.exit()


def add_version(p: argparse.ArgumentParser) -> None:
    if "--version" not in p._option_string_actions:
        p.add_argument("--version", action=_Version, help="print the version and exit")


def _log_level(text: str) -> str:
    level = text.upper()
    if level not in LEVELS and not level.isdigit():
        raise argparse.ArgumentTypeError(f"not a log level: {text!r} (one of {', '.join(LEVELS)})")
    return level


def add_conventions(p: argparse.ArgumentParser) -> None:
    """Add the common options ``p`` does not define yet.  Their defaults are
    SUPPRESS (no attribute unless given), so a nested parser's defaults never
    hide what its parent parsed; read them with :func:`log_level_of`."""
    add_version(p)
    have = p._option_string_actions
    g = p.add_argument_group("output and logging")
    if "-q" not in have and "--quiet" not in have:
        g.add_argument(
            "-q",
            "--quiet",
            action="store_true",
            default=argparse.SUPPRESS,
            help="log errors only",
        )
    if "-v" not in have and "--verbose" not in have:
        g.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            default=argparse.SUPPRESS,
            help="log what is done (INFO)",
        )
    if "-d" not in have and "--debug" not in have:
        g.add_argument(
            "-d",
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS,
            help="log everything, PDU and DIMSE summaries included (DEBUG)",
        )
    if "--log-level" not in have:
        g.add_argument(
            "--log-level",
            "-ll",
            type=_log_level,
            default=argparse.SUPPRESS,
            metavar="LEVEL",
            help=f"logging level: {', '.join(LEVELS)} (overrides -q/-v/-d)",
        )


def add_json(p: argparse.ArgumentParser, what: str) -> None:
    """``--json``: JSON Lines on stdout, one object per line (``what``)."""
    p.add_argument("--json", action="store_true", help=f"JSON Lines on stdout: {what}")


def emit(obj: object) -> None:
    """One JSON Lines record on stdout (flushed: a pipe sees it at once)."""
    import json

    print(json.dumps(obj, separators=(",", ":"), default=str), flush=True)


class _NoBar:
    """What :func:`progress_bar` gives when there is no bar to draw."""

    disable = True
    total: int | None = None
    n = 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        pass

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(
    total: int | None = None,
    *,
    unit: str = "file",
    desc: str | None = None,
    enabled: bool = True,
    stream: object = None,
) -> Any:
    """A tqdm progress bar on stderr for the long commands, or a no-op one when
    ``enabled`` is false (``-q``, ``--json``), stderr is not a terminal, or tqdm
    is not installed.  Lines printed while it runs go through :func:`say`."""
    stream = stream or sys.stderr
    if not enabled or not getattr(stream, "isatty", lambda: False)():
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoBar()
    return tqdm(total=total, unit=unit, desc=desc, file=stream, dynamic_ncols=True, leave=False)


def say(text: str, *, file: IO[str] | None = None, bar: object = None) -> None:
    """Print a line (a failure, a status) without breaking a progress bar:
    ``tqdm.write`` while a bar is drawn, else a plain flushed print."""
    file = file or sys.stdout
    if bar is not None and not getattr(bar, "disable", True):
        from tqdm import tqdm

        tqdm.write(text, file=file)
        if hasattr(file, "flush"):
            file.flush()
    else:
        print(text, file=file, flush=True)


def walk_parsers(p: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """``p`` and every parser nested under it (subcommands of subcommands)."""
    yield p
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                yield from walk_parsers(child)


def log_level_of(args: argparse.Namespace, default: int = _WARNING) -> int:
    text = getattr(args, "log_level", None)
    if text:
        return int(text) if text.isdigit() else LEVEL_NUMBERS[text]
    if getattr(args, "debug", False):
        return LEVEL_NUMBERS["DEBUG"]
    if getattr(args, "verbose", False):
        return LEVEL_NUMBERS["INFO"]
    if getattr(args, "quiet", False):
        return _WARNING if default < _WARNING else LEVEL_NUMBERS["ERROR"]
    return default


def setup_logging(args: argparse.Namespace) -> int:
    """One logging set-up for every command: the ``dicomfast`` loggers at the
    level the options ask for, to stderr.  Returns the level.

    With :mod:`logging` not imported yet, the set-up waits until some module imports
    it (nothing logs before then; most runs of a short command log nothing, and
    importing logging costs ~3 ms of a ~50 ms start)."""
    level = log_level_of(args, getattr(args, "log_default", _WARNING))
    if "logging" not in sys.modules:
        sys.meta_path.insert(0, _ThenSetUp(level))
    else:
        _set_up(level)
    return level


def _set_up(level: int) -> None:
    import logging

    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
    # WARNING is the root's own default: leave the level to the root (a host
    # application's or a test's logging configuration then still applies).
    logging.getLogger("dicomfast").setLevel(logging.NOTSET if level == _WARNING else level)


class _ThenSetUp:
    """A meta path finder that finds nothing itself: when :mod:`logging` is first
    imported it lets the path finder find it, and runs :func:`_set_up` right after
    the module has run (and leaves ``sys.meta_path`` then)."""

    def __init__(self, level: int) -> None:
        self.level = level

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "logging":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        loader: importlib.abc.Loader = spec.loader
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            # Out of the way once logging runs (not when merely looked for).
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            _set_up(self.level)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec
