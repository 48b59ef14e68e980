"""Temporary files that become outputs: created next to their final name (so the
rename that publishes them is atomic) and with the permissions of any new file;
and flushing files and folders to disk.

:func:`tempfile.mkstemp` creates files readable by their owner only (mode 0600
whatever the umask); a temporary file renamed into place kept that mode, so
stored and converted files could not be read by the group a PACS or a
pipeline runs as.  :func:`create_temp` asks for 0666 and lets the process
umask take away what it should, as ``open()`` of a new file does.
"""

from __future__ import annotations

import os
import secrets

_FLAGS = (
    os.O_RDWR
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def create_temp(folder: str, prefix: str = ".dicomfast-", suffix: str = ".tmp") -> tuple[int, str]:
    """A new empty file ``folder/<prefix><random><suffix>``, opened for reading and
    writing: ``(fd, path)``.  Mode 0666 less the umask; never an existing file."""
    for _ in range(100):
        path = os.path.join(folder, f"{prefix}{secrets.token_hex(8)}{suffix}")
        try:
            return os.open(path, _FLAGS, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")


def fsync_file(path: str) -> None:
    """Flush a file or folder to disk (OSError if that fails)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_path(path: str) -> None:
    """Flush a file or folder (its entries: a new name in it) to disk; best effort:
    a path that cannot be opened or synced (a file system without fsync on
    folders) is left as it is."""
    try:
        fsync_file(path)
    except OSError:
        pass
