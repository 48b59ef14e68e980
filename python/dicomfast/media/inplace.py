"""``dicomfast media index``: the DICOMDIR of instances already in a folder, each under
its path as File ID (what DCMTK's ``dcmmkdir`` does), made in one call to the core
(``dicomfast-media``: headers read on every core, records encoded from the element
index) from the tables ``FileSet`` uses.  ``tests/media/test_fileset_index.py`` checks
that ``FileSet`` makes the same bytes of the same files."""

from __future__ import annotations

import os

from .. import _core
from ..errors import DicomError
from ..tempfiles import publish, sync_files
from ..uid import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, generate_uid
from ._tables import RECORD_KEYS, RECORD_TYPE_OF_CLASS
from .hierarchy import IDENTIFIER, ROOT_TYPES

#: The rules of records as the core takes them (one table for both sides).
CORE_TABLES = (RECORD_KEYS, RECORD_TYPE_OF_CLASS, sorted(ROOT_TYPES), list(IDENTIFIER.items()))

#: Threads reading headers: opening and reading small files is kernel work, so a few
#: more than the cores when there are few.
THREADS = min(8, max(2, os.cpu_count() or 1))


def index(
    root: str | os.PathLike[str],
    *,
    fileset_id: str = "",
    fsync: bool = True,
    fileset_uid: str | None = None,
) -> int:
    """Write a DICOMDIR for the instances already in the folder ``root``, each under
    its path as File ID: no file is copied, moved or changed.  Every file must be an
    instance under a valid File ID, else DicomError naming each one that is not, and
    nothing is written.  Unless ``fsync`` is false the files are flushed to disk, then
    the DICOMDIR, before it is renamed into place.  The number of instances indexed."""
    root = os.path.abspath(os.fspath(root))
    if not os.path.isdir(root):
        raise DicomError("no such folder", path=root)
    if any(os.path.isfile(os.path.join(root, n)) for n in ("DICOMDIR", "dicomdir")):
        raise DicomError("a DICOMDIR is already there (media verify --repair)", path=root)
    data, files, problems = _core.fileset_index(
        root,
        CORE_TABLES,
        fileset_uid or generate_uid(),
        fileset_id,
        (IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME),
        THREADS,
    )
    if problems:
        lines = []
        for fid, error in problems:
            if error is None:
                lines.append(f"{'/'.join(fid)}: not a valid File ID (A-Z, 0-9, _, up to 8)")
                continue
            if isinstance(error, DicomError):
                error.path = None  # the File ID names it
            lines.append(f"{'/'.join(fid)}: {error}")
        found = len(files) + sum(1 for _, e in problems if e is None)
        raise DicomError(
            f"{len(problems)} of {found} files cannot be indexed: " + "; ".join(lines), path=root
        )
    if not files:
        raise DicomError("no file to index", path=root)
    if fsync:
        sync_files(files)
    publish(os.path.join(root, "DICOMDIR"), [data], fsync)
    return len(files)
