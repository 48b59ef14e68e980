"""Output files: atomic writes (temporary name in the destination folder, then
rename), output paths for the two layouts, and the copy of failed inputs."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..tempfiles import create_temp, linux_call, sync_files, sync_folders

if TYPE_CHECKING:
    from .pending import Pending

TEMP_PREFIX = ".dicomfast-"
_UNSAFE = re.compile(r"[^0-9A-Za-z._-]")


def temp_path_for(dst: str) -> str:
    """A new, empty temporary file next to ``dst`` (same file system, so the final
    rename is atomic); hidden and skipped when inputs are walked.  The folder is created
    when missing."""
    folder = os.path.dirname(os.path.abspath(dst))
    try:
        fd, tmp = create_temp(folder, TEMP_PREFIX)
    except FileNotFoundError:  # first file of this folder
        os.makedirs(folder, exist_ok=True)
        fd, tmp = create_temp(folder, TEMP_PREFIX)
    os.close(fd)
    return tmp


#: Outputs at least this large get their blocks reserved before they are written.
PREALLOCATE_FROM = 4 << 20


def _fallocate() -> Any:
    """Linux ``fallocate(2)`` (no emulation by writing zeros, unlike ``posix_fallocate``
    where the file system lacks it), or None."""
    import ctypes

    return linux_call("fallocate", ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64)


_FALLOCATE: Any = None  # resolved on first use; False: unavailable


def preallocate(fd: int, size: int) -> None:
    """Reserve ``size`` bytes for the file ``fd`` in one call where the file system
    supports it (writing a large file then allocates no blocks page by page); a no-op
    elsewhere."""
    global _FALLOCATE
    if _FALLOCATE is None:
        _FALLOCATE = _fallocate() or False
    if _FALLOCATE:
        _FALLOCATE(fd, 0, 0, size)  # failure (EOPNOTSUPP, ENOSPC) only loses the gain


def write_chunks(
    tmp: str,
    chunks: Iterable[bytes | memoryview],
    *,
    fsync: bool = True,
    pending: Pending | None = None,
) -> int:
    """Write ``chunks`` to ``tmp`` (a file :func:`temp_path_for` made); the number of
    bytes written.  ``pending``: pixel data not coded yet (``dicomfast.batch.pending``),
    coded as it is written in place of its chunk (one of ``chunks`` must be its buffer).

    The file is not opened with O_TRUNC: truncating (even an empty file) makes ext4 start
    writing the data back when the file is closed (its ``auto_da_alloc`` safeguard),
    which costs more than the conversion of a small file.  Anything past the new end
    is cut off afterwards instead."""
    if pending is not None:
        chunks = list(chunks)
        if not any(pending.owns(c) for c in chunks):
            raise ValueError("no chunk is the pending pixel data's buffer")
    n = 0
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
    if isinstance(chunks, list | tuple):
        size = sum(map(len, chunks))
        if size >= PREALLOCATE_FROM:
            preallocate(fd, size)
    with open(fd, "wb", closefd=True) as fh:
        for c in chunks:
            if pending is not None and not pending.done and pending.owns(c):
                fh.flush()
                n += pending.write_to(fd)
            else:
                fh.write(c)
                n += len(c)
        fh.flush()
        if os.fstat(fd).st_size > n:
            os.ftruncate(fd, n)
        if fsync:
            os.fsync(fd)
    return n


def commit(tmp: str, dst: str) -> None:
    """Move a finished temporary file to its final name (atomic on POSIX)."""
    os.replace(tmp, dst)


def stage(rec: dict[str, Any], tmp: str, dst: str) -> None:
    """Leave the finished temporary file ``tmp`` for :func:`sync_outputs` to flush and
    rename to ``dst`` with its group (a durable run: nothing is under a final name
    before its bytes are on disk)."""
    rec.setdefault("staged", []).append((tmp, dst))


def sync_outputs(records: list[dict[str, Any]], published: set[str] | None = None) -> None:
    """Publish the outputs of ``records`` durably, together: the temporary files they
    left (:func:`stage`) are flushed in one go (:func:`dicomfast.tempfiles.sync_files`:
    one ``syncfs`` per file system, not an fsync per file), then renamed to their final
    names, then those folders are flushed (the new names: one fsync per folder).  A
    crash leaves each output whole under its final name or not there at all; a run
    reports a record only after this.  A record whose rename fails is marked failed (its
    temporary file removed); OSError if a flush fails (the temporary files removed).
    ``published``: the outputs this run has published so far (kept up to date): an
    output named again (the same instance twice under ``--layout uid``) is not replaced;
    its later record is skipped, as a run that found it published would have done."""
    staged = [(rec, rec.pop("staged")) for rec in records if rec.get("staged")]
    temps = [tmp for _rec, pairs in staged for tmp, _dst in pairs]
    try:
        sync_files(temps)
    except OSError:
        for tmp in temps:
            discard(tmp)
        raise
    folders = []
    if published is None:
        published = set()
    for rec, pairs in staged:
        if any(os.path.abspath(dst) in published for _tmp, dst in pairs):
            rec.update(status="skipped", reason="the same output as another input of this run")
            rec.pop("bytes_out", None)
            for tmp, _dst in pairs:
                discard(tmp)
            continue
        try:
            for tmp, dst in pairs:
                commit(tmp, dst)
                folders.append(os.path.dirname(dst))
                published.add(os.path.abspath(dst))
        except OSError as e:
            rec.update(status="failed", reason=f"output not renamed into place: {e}")
            for tmp, _dst in pairs:
                discard(tmp)
    sync_folders(folders)


def discard(tmp: str | None) -> None:
    if tmp:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def safe_component(value: Any, fallback: str = "unknown") -> str:
    text = str(value).strip() if value is not None else ""
    return _UNSAFE.sub("_", text) or fallback


def uid_layout_path(out: str, ds: Any, suffix: str = ".dcm") -> str:
    """``out/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID><suffix>``."""
    return os.path.join(
        out,
        safe_component(ds.get("StudyInstanceUID")),
        safe_component(ds.get("SeriesInstanceUID")),
        safe_component(ds.get("SOPInstanceUID")) + suffix,
    )


def copy_failed(src: str, rel: str, out: str) -> str | None:
    """Copy an input that could not be processed to ``out/_failed/<rel>`` (atomically)."""
    dst = os.path.join(out, "_failed", rel)
    tmp = None
    try:
        tmp = temp_path_for(dst)
        shutil.copyfile(src, tmp)
        commit(tmp, dst)
        return dst
    except OSError:
        discard(tmp)
        return None
