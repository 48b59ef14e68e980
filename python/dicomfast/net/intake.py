"""Intake files: a received instance made durable with one flush.

A durable Storage SCP must not answer Success before the instance is on disk
under a name that survives a crash.  Written to a temporary file and then
given its final name, that takes two flushes per instance: the file's, then
its new folder entry's.  An intake file needs one:

1. intake files are made ahead of need in the storage's ``.spares/`` folder,
   empty and with **no permission bits** (mode 0: "not complete"), and that
   folder is flushed before any of them is used: their names are durable
   before an instance is written to one;
2. an instance is written to an intake file; once every byte is written the
   file gets the mode any new file gets (0666 less the umask: "complete"),
   and one ``fsync`` makes the bytes, the size and the mode durable together
   (one journal commit of the inode on ext4 and XFS); then Success is answered;
3. afterwards, off the answer's path, instances are given their final names in
   groups (each folder flushed once per group) and only then is the intake name
   removed.

After a crash, an intake file with permission bits and bytes holds an instance
that was (or was about to be) acknowledged: the storage places it when it opens
(:meth:`dicomfast.archive.Archive.recover_intake`).  One with mode 0, or empty,
was never acknowledged and is removed.  Where the file system keeps no
permission bits (FAT, some network mounts), :func:`make_intake` says so and the
storage keeps the two-flush path.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from ..tempfiles import create_temp
from .chunk_writer import set_direct

#: The ending of an intake file's name in ``.spares/``.
INTAKE_SUFFIX = ".intake"


class IntakeUnsupported(OSError):
    """The file system does not keep a file's permission bits: no intake files there."""


class Intake(NamedTuple):
    """An intake file made ahead: ``fd`` (read and write), ``path``, the ``mode`` that
    marks it complete (a new file's: 0666 less the umask), ``tail``, a second
    descriptor opened for writing before the mode was taken away (-1: none), for
    what is written through the page cache while ``fd`` writes past it, and
    ``direct``: whether ``fd`` has ``O_DIRECT`` on already (set ahead, when asked)."""

    fd: int
    path: str
    mode: int
    tail: int
    direct: bool = False


def make_intake(folder: str, *, direct: bool = False) -> Intake:
    """A new empty intake file in ``folder``.  The caller flushes ``folder`` before
    using it.  ``direct``: turn ``O_DIRECT`` on for its ``fd`` now (two system calls
    that are then not made when an instance is received), where the file system
    takes it.  :class:`IntakeUnsupported` where mode 0 does not hold (the file is
    removed)."""
    fd, path = create_temp(folder, "", INTAKE_SUFFIX)
    tail = -1
    try:
        mode = os.fstat(fd).st_mode & 0o7777
        try:
            tail = os.open(path, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            tail = -1
        os.fchmod(fd, 0)
        if not mode or os.fstat(fd).st_mode & 0o7777:
            raise IntakeUnsupported(f"{folder} keeps no permission bits")
    except BaseException:
        close_intake(fd, tail)
        try:
            os.unlink(path)
        except OSError:
            pass
        raise
    return Intake(fd, path, mode, tail, set_direct(fd, True) if direct else False)


def close_intake(fd: int, tail: int) -> None:
    """Close an intake file's descriptors (-1: none)."""
    for d in (fd, tail):
        if d >= 0:
            try:
                os.close(d)
            except OSError:
                pass


def mark_complete(fd: int, mode: int) -> None:
    """Mark an intake file whose bytes are all written as complete (before its fsync)."""
    os.fchmod(fd, mode)


def is_complete(path: str) -> bool:
    """Whether an intake file holds a complete instance (permission bits and bytes)."""
    st = os.stat(path)
    return bool(st.st_mode & 0o7777) and st.st_size > 0


def intake_files(spare_folder: str) -> list[str]:
    """The intake files in a storage's ``.spares/`` folder, sorted (none if it is missing)."""
    try:
        names = os.listdir(spare_folder)
    except FileNotFoundError:
        return []
    return sorted(os.path.join(spare_folder, n) for n in names if n.endswith(INTAKE_SUFFIX))
