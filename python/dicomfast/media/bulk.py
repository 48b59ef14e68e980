"""File-sets made in one call to the core (``rust/dicomfast-media``: headers read on
every core, records encoded from the element index, files written on threads), from
the tables ``FileSet`` uses: ``dicomfast media index`` (the DICOMDIR of instances
already in a folder, each under its path as File ID, as DCMTK's ``dcmmkdir``) and
``dicomfast media create`` of plain copies into a new folder.
``tests/media/test_fileset_bulk.py`` checks that ``FileSet`` makes the same bytes (and
the same files) of the same inputs."""

from __future__ import annotations

import os
import shutil

from .. import _core
from ..errors import DicomError
from ..identity import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, new_uid
from ..tempfiles import publish, sync_files
from ._tables import RECORD_KEYS, RECORD_TYPE_OF_CLASS
from .fileids import DIR_PREFIX, FILE_PREFIX
from .hierarchy import IDENTIFIER, ROOT_TYPES

#: The rules of records as the core takes them (one table for both sides).
CORE_TABLES = (RECORD_KEYS, RECORD_TYPE_OF_CLASS, sorted(ROOT_TYPES), list(IDENTIFIER.items()))

#: Threads reading headers: opening and reading small files is kernel work, so a few
#: more than the cores when there are few.
THREADS = min(8, max(2, os.cpu_count() or 1))


def _front(fileset_uid: str | None, fileset_id: str) -> tuple[str, str, str, str]:
    uid = fileset_uid or new_uid()
    return (uid, fileset_id, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME)


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
        root, CORE_TABLES, _front(fileset_uid, fileset_id), THREADS
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


def create(
    out: str | os.PathLike[str],
    sources: list[str],
    *,
    fileset_id: str = "",
    fsync: bool = True,
    fileset_uid: str | None = None,
) -> int:
    """A new file-set in the folder ``out`` (made, or empty) of the instances at the
    paths ``sources``, copied as they are under generated File IDs: what
    ``FileSet().add`` of each and ``write(out)`` make.  The first source that cannot be
    taken raises its error and leaves ``out`` as it was.  Unless ``fsync`` is false the
    files are flushed to disk before the DICOMDIR, and the DICOMDIR before its rename.
    The number of instances."""
    out = os.path.abspath(os.fspath(out))
    made = not os.path.exists(out)
    if not made and (not os.path.isdir(out) or os.listdir(out)):
        raise DicomError("not a new or empty folder", path=out)
    os.makedirs(out, exist_ok=True)
    try:
        data, files, problem = _core.fileset_create(
            [os.fspath(s) for s in sources],
            out,
            CORE_TABLES,
            (DIR_PREFIX, FILE_PREFIX),
            _front(fileset_uid, fileset_id),
            THREADS,
        )
        if problem is not None:
            k, error = problem
            if isinstance(error, DicomError) and error.path is None:
                error.path = sources[k]
            raise error
        if fsync:
            sync_files(files)
        publish(os.path.join(out, "DICOMDIR"), [data], fsync)
    except BaseException:
        _empty(out, made)
        raise
    return len(files)


def _empty(folder: str, remove: bool) -> None:
    """Take out what a failed ``create`` left in ``folder`` (new or empty before it)."""
    if remove:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
