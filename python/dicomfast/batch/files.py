"""Output files: atomic writes (temporary name in the destination folder, then
rename), output paths for the two layouts, and the copy of failed inputs."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from typing import Any

TEMP_PREFIX = ".dicomfast-"
_UNSAFE = re.compile(r"[^0-9A-Za-z._-]")


def temp_path_for(dst: str) -> str:
    """A new, empty temporary file next to ``dst`` (same file system, so the final
    rename is atomic); hidden and skipped when inputs are walked."""
    folder = os.path.dirname(os.path.abspath(dst))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".tmp", dir=folder)
    os.close(fd)
    return tmp


def write_chunks(tmp: str, chunks: Iterable[bytes | memoryview], *, fsync: bool = True) -> int:
    """Write ``chunks`` to ``tmp``; the number of bytes written."""
    n = 0
    with open(tmp, "wb") as fh:
        for c in chunks:
            fh.write(c)
            n += len(c)
        if fsync:
            fh.flush()
            os.fsync(fh.fileno())
    return n


def commit(tmp: str, dst: str) -> None:
    """Move a finished temporary file to its final name (atomic on POSIX)."""
    os.replace(tmp, dst)


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
