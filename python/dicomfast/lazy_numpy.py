"""numpy imported when first used, not when a module that may use it is imported.

Importing numpy takes 70-130 ms, often more than the rest of a short command
(``dicomfast media create`` reads headers and copies files; it never makes an
array).  A module that needs numpy only on some paths binds ``np`` to a
:class:`LazyNumpy` standing in its globals: the first attribute looked up on it
imports numpy and puts the real module in its place, so later uses cost nothing
extra.  Type checkers see ``import numpy as np`` (under ``TYPE_CHECKING``).
"""

from __future__ import annotations

from typing import Any


class LazyNumpy:
    """Stands for numpy under ``name`` in the ``namespace`` (a module's globals)."""

    __slots__ = ("_namespace", "_name")

    def __init__(self, namespace: dict[str, Any], name: str = "np") -> None:
        self._namespace = namespace
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        import numpy

        self._namespace[self._name] = numpy
        return getattr(numpy, attr)
