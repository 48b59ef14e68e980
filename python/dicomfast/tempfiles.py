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

import errno
import os
import sys
from collections.abc import Iterable
from typing import Any

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
        # os.urandom, not secrets: the same bytes, without importing hmac and hashlib
        path = os.path.join(folder, f"{prefix}{os.urandom(8).hex()}{suffix}")
        try:
            return os.open(path, _FLAGS, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")


def publish(
    dest: str, chunks: Iterable[Any], fsync: bool = True, *, prefix: str = ".dicomfast-"
) -> None:
    """Write ``chunks`` (bytes-like) to a temporary file beside ``dest`` (named
    ``prefix...``), flushed to disk unless ``fsync`` is false, then rename it to
    ``dest``: a reader finds the old file or the new one, never a part of it."""
    fd, tmp = create_temp(os.path.dirname(os.path.abspath(dest)), prefix)
    try:
        with os.fdopen(fd, "wb") as fh:
            for c in chunks:
                fh.write(c)
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


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


def linux_call(name: str, *argtypes: Any) -> Any:
    """The Linux C library's function ``name`` (returning int) with ``argtypes``
    (ctypes types), or None elsewhere or where the C library lacks it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        fn = getattr(ctypes.CDLL(None, use_errno=True), name)
    except (OSError, AttributeError):
        return None
    fn.argtypes = list(argtypes)
    fn.restype = ctypes.c_int
    return fn


def _syncfs() -> Any:
    """Linux ``syncfs(2)``: every dirty page and inode of one file system in one call."""
    import ctypes

    return linux_call("syncfs", ctypes.c_int)


_SYNCFS: Any = None  # resolved on first use; False: unavailable


def sync_files(paths: Iterable[str]) -> None:
    """Make the files ``paths`` and their names durable together: one ``syncfs`` per
    file system they are on, rather than an fsync per file (``dicomfast convert`` of
    220 CT slices: 220 journal commits became one); where there is no syncfs, each
    file and its folder are fsync'd.  OSError if a file system cannot be flushed."""
    global _SYNCFS
    paths = list(paths)
    if not paths:
        return
    if _SYNCFS is None:
        _SYNCFS = _syncfs() or False
    if _SYNCFS:
        devices: dict[int, str] = {}
        for p in paths:
            folder = os.path.dirname(p) or "."
            try:
                devices.setdefault(os.stat(folder).st_dev, folder)
            except OSError:
                continue
        for folder in devices.values():
            fd = os.open(folder, os.O_RDONLY)
            try:
                if _SYNCFS(fd) != 0:
                    raise OSError(f"syncfs failed for {folder}")
            finally:
                os.close(fd)
        return
    for p in paths:
        fsync_path(p)
    for folder in dict.fromkeys(os.path.dirname(p) for p in paths):
        fsync_path(folder)


def sync_folders(folders: Iterable[str]) -> None:
    """Make the entries of ``folders`` (names just given to files in them, by rename)
    durable: an fsync of each folder, once.  OSError if one fails; a file system that
    cannot fsync a folder (EINVAL) is left as it is, and so is every folder off POSIX
    (Windows opens no folder as a file)."""
    if os.name != "posix":
        return
    for folder in dict.fromkeys(folders):
        try:
            fsync_file(folder)
        except OSError as e:
            if e.errno != errno.EINVAL:
                raise
