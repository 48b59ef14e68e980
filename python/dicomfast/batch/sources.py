"""Lazy walking of the inputs: files and folders (recursively) become
:class:`Source` items one at a time, never as a whole list."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

SKIP_PREFIXES = (".dicomfast-",)  # our own temporary files


@dataclass(frozen=True, slots=True)
class Source:
    """One input file: its path and its path relative to the argument that named it."""

    path: str
    rel: str
    size: int


def _walk(root: str) -> Iterator[os.DirEntry[str]]:
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for e in entries:
            if e.name.startswith(SKIP_PREFIXES):
                continue
            if e.is_dir(follow_symlinks=False):
                subdirs.append(e.path)
            elif e.is_file():
                yield e
        stack.extend(reversed(subdirs))


def iter_sources(
    paths: Iterable[str | os.PathLike[str]], *, exclude: str | None = None
) -> Iterator[Source]:
    """Each file named by ``paths`` or under a folder of ``paths``, in a stable order.
    Only one folder listing at a time is held in memory.  ``exclude`` (a folder)
    is skipped, so an output folder inside an input folder is not read back."""
    skip = os.path.realpath(exclude) if exclude else None
    for p in paths:
        p = os.fspath(p)
        if os.path.isdir(p):
            for e in _walk(p):
                if skip and os.path.realpath(e.path).startswith(skip + os.sep):
                    continue
                yield Source(e.path, os.path.relpath(e.path, p), e.stat().st_size)
        elif os.path.exists(p):
            yield Source(p, os.path.basename(p), os.path.getsize(p))
        else:
            yield Source(p, os.path.basename(p), -1)


def count_sources(paths: Iterable[str | os.PathLike[str]], exclude: str | None = None) -> int:
    return sum(1 for _ in iter_sources(paths, exclude=exclude))
