"""Contenders and what they do for each task.

A :class:`Contender` names a toolkit, says how to tell whether it is installed
(:attr:`Contender.probe`: its version, or None) and, per task it can do, a
*builder*: a function of the :class:`~dicomfast.benchmark.workload.Workload` that
returns a :class:`Job` (or raises :class:`Skip` / :class:`Unsupported`).  A job's
``run`` is what is timed; ``result`` (untimed) turns what ``run`` returned into
the task's comparable form (see :data:`TASKS`), checked equal to ours before the
contender is timed."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: task -> what every contender's result is turned into and compared on
TASKS: dict[str, str] = {
    "parse": "per file, the tags of the top-level elements (file meta excluded), in order",
    "values": "per file, every element's value at any depth as canonical text "
    "(bulk VRs OB/OW/OF/OD/OL/OV/UN, sequences and private data elements excluded), "
    "as a sorted list",
    "decode": "per file, the pixel values (flattened): equal, or within --tolerance "
    "for lossy transfer syntaxes",
    "encode": "per file, the frames they encoded, decoded by dicomfast: equal to the input",
    "transcode": "per output file, its transfer syntax and the pixels dicomfast decodes from it",
    "store": "the SOP Instance UIDs the receiver stored",
}

#: the toolkit every other is compared with
REFERENCE = "dicomfast"

IN_PROCESS = "in-process"
PROCESS = "process"


class Skip(Exception):  # noqa: N818
    """The part of the contender this task needs is not installed."""


class Unsupported(Exception):  # noqa: N818
    """The contender cannot do this task on this workload (e.g. a codec it lacks)."""


class Declines(Unsupported):
    """The contender cannot do some of the files, known before running (e.g. a syntax
    its sender cannot propose): ``files`` maps each to the reason. It is then run and
    timed on the others, ours on the same, and those are reported as left out."""

    def __init__(self, files: dict[Any, str]) -> None:
        super().__init__(f"declines {len(files)} file(s)")
        self.files = files


@dataclass
class Job:
    """One contender's work for one task: ``run()`` processes the whole workload
    once (timed); ``result(run())`` is the comparable form (untimed)."""

    run: Callable[[], Any]
    result: Callable[[Any], Any] = lambda out: out
    kind: str = IN_PROCESS
    #: what was run, for the report (e.g. the command line)
    how: str = ""
    cleanup: Callable[[], None] | None = None
    #: The files the last ``run`` could not do and went on past (a sender skipping a
    #: file it cannot load), with the reason: the runner then times the contender on
    #: the others, as for :class:`Declines`.
    failed: Callable[[], dict[Any, str]] | None = None


Builder = Callable[["Any"], Job]


@dataclass
class Contender:
    name: str
    #: version string if installed, None if not (must not raise)
    probe: Callable[[], str | None]
    tasks: dict[str, Builder] = field(default_factory=dict)
    description: str = ""
    #: Tasks whose in-process code (a C or C++ library) may end the whole process on a
    #: file it does not take: each file is first run alone in a child process
    #: (:mod:`dicomfast.benchmark.screen`), and the files that end it are left out.
    may_crash: frozenset[str] = frozenset()


_REGISTRY: dict[str, Contender] = {}

#: the built-in contenders, one module each in dicomfast.benchmark.contenders
BUILTIN = ("dicomfast", "pydicom", "gdcm", "dcmtk", "imagecodecs")
_loaded = False


def register(contender: Contender) -> Contender:
    """Add (or replace) a contender; returns it."""
    _load_builtin()
    _REGISTRY[contender.name] = contender
    return contender


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def _load_builtin() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in BUILTIN:
        mod = importlib.import_module(f".contenders.{name}", __package__)
        _REGISTRY.setdefault(mod.CONTENDER.name, mod.CONTENDER)


def contenders() -> dict[str, Contender]:
    """Every registered contender by name (the built-in ones first)."""
    _load_builtin()
    return dict(_REGISTRY)


def safe_probe(fn: Callable[[], str | None]) -> str | None:
    try:
        return fn()
    except Exception:
        return None


def module_version(name: str) -> str | None:
    """The version of an importable module, or None (importing it)."""
    try:
        mod = importlib.import_module(name)
    except Exception:
        return None
    return str(getattr(mod, "__version__", None) or getattr(mod, "GDCM_VERSION", "") or "?")


__all__ = [
    "BUILTIN",
    "IN_PROCESS",
    "PROCESS",
    "REFERENCE",
    "TASKS",
    "Contender",
    "Declines",
    "Job",
    "Skip",
    "Unsupported",
    "contenders",
    "module_version",
    "register",
    "unregister",
]
