"""Lazy walking of the inputs: files and folders (recursively) become
:class:`Source` items one at a time, never as a whole list."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import NamedTuple

SKIP_PREFIXES = (".dicomfast-",)  # our own temporary files


class Source(NamedTuple):
    """One input file: its path and its path relative to the argument that named it.
    (A named tuple: no :mod:`dataclasses` import, ~3 ms of a short command's start.)"""

    path: str
    rel: str
    size: int


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + os.sep)


def _link_target(path: str, folders: dict[str, str]) -> str:
    """``os.path.realpath`` of the symbolic link ``path``, with the folder its target
    names resolved once per run (``folders``): a farm of links into one folder costs a
    readlink and an lstat per file, not an lstat per component of every path."""
    target = os.path.join(os.path.dirname(path), os.readlink(path))
    folder, name = os.path.split(target)
    if name in ("", ".", ".."):
        return os.path.realpath(path)
    real = folders.get(folder)
    if real is None:
        real = folders[folder] = os.path.realpath(folder)
    full = os.path.join(real, name)
    return os.path.realpath(full) if os.path.islink(full) else full


def _walk(root: str, skip: str | None) -> Iterator[tuple[os.DirEntry[str], str]]:
    """(entry, path relative to ``root``) of every file under ``root``, folders in
    name order; a folder that is (or resolves into) ``skip`` is not entered."""
    stack: list[tuple[str, str]] = [(root, "")]
    folders: dict[str, str] = {}
    while stack:
        folder, rel = stack.pop()
        if skip and _inside(os.path.realpath(folder), skip):  # once per folder
            continue
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for e in entries:
            if e.name.startswith(SKIP_PREFIXES):
                continue
            name = rel + e.name
            if e.is_dir(follow_symlinks=False):
                subdirs.append((e.path, name + os.sep))
            elif e.is_file():
                if skip and e.is_symlink() and _inside(_link_target(e.path, folders), skip):
                    continue
                yield e, name
        stack.extend(reversed(subdirs))


def iter_sources(
    paths: Iterable[str | os.PathLike[str]], *, exclude: str | None = None
) -> Iterator[Source]:
    """Each file named by ``paths`` or under a folder of ``paths``, in a stable order.
    Only one folder listing at a time is held in memory.  ``exclude`` (a folder)
    is skipped, so an output folder inside an input folder is not read back (checked
    once per folder, not per file)."""
    skip = os.path.realpath(exclude) if exclude else None
    for p in paths:
        p = os.fspath(p)
        if os.path.isdir(p):
            for e, rel in _walk(p, skip):
                yield Source(e.path, rel, e.stat().st_size)
        elif os.path.exists(p):
            yield Source(p, os.path.basename(p), os.path.getsize(p))
        else:
            yield Source(p, os.path.basename(p), -1)


def count_sources(paths: Iterable[str | os.PathLike[str]], exclude: str | None = None) -> int:
    return sum(1 for _ in iter_sources(paths, exclude=exclude))
