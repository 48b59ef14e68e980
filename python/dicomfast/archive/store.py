"""Storing and indexing as one unit: :class:`Archive`.

A stored instance is a file ``<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm``
in the storage folder (extra copies kept by ``duplicate_policy="keep-both"``
are ``<SOPInstanceUID>_<n>.dcm``; ``_`` never occurs in a UID) and one row
of the index.  Every UID is validated (digits and dots only) before it names
anything.  :meth:`Archive.store` keeps the two in step even across a crash:

1. the bytes go to a hidden temporary file ``.<uid>.<random>.part`` in the
   instance's folder, which is flushed and fsync'd;
2. a write transaction inserts the row (patient, study and series rows too
   when new) — nothing is visible to readers yet;
3. the temporary file is renamed to its final name and the folder fsync'd;
4. the transaction commits.

A crash before 3 leaves a temporary file and no row; a crash between 3 and 4
leaves a complete, durable file without a row.  A ``replace`` of an instance
at the same path commits the new row first and renames after (the file at
the path exists all along; a crash in between leaves the old file under a
row describing the new one, which :meth:`Archive.check` reports as a size or
checksum mismatch and repairs by indexing the file as it is).
:meth:`Archive.check` with ``repair=True`` (run by ``dicomfast archive check
--repair`` and, with ``reconcile=True``, when an archive is opened) removes
stale temporary files, indexes files that have no row and deletes rows whose
file is gone, so both directions of mismatch are repaired.

One process writes to a storage folder at a time (any number of threads in
it); a PostgreSQL index may be read by others.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from .. import digest as checksums
from .. import uid as uids
from ..dataset import Dataset
from ..errors import DicomError
from ..net.intake import intake_files, is_complete
from ..net.storage import SPARE_FOLDER, link_new
from ..reader import read
from ..tempfiles import create_temp, fsync_file, fsync_path
from . import db
from . import index as ix
from .ingest import Indexer, IndexJob
from .schema import instances

log = logging.getLogger("dicomfast.archive")

POLICIES = ("keep-first", "replace", "keep-both")
TEMP_SUFFIX = ".part"
DUPLICATES = ".duplicates"

#: C-STORE statuses used in :class:`StoreResult` (PS3.4 B.2.3).
SUCCESS = 0x0000
OUT_OF_RESOURCES = 0xA700
DATASET_DOES_NOT_MATCH = 0xA900
CANNOT_UNDERSTAND = 0xC000


@dataclass
class StoreResult:
    """What :meth:`Archive.store` did; ``status`` is the C-STORE status to answer with."""

    status: int
    sop_instance_uid: str | None
    sop_class_uid: str | None = None
    path: str | None = None  # absolute path of the file holding the instance
    action: str = "stored"  # stored | replaced | kept-existing | stored-copy | failed
    duplicate: bool = False
    comment: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == SUCCESS


@dataclass
class CheckReport:
    """Mismatches between the storage folder and the index (paths relative to the folder)."""

    temp_files: list[str] = field(default_factory=list)
    files_without_rows: list[str] = field(default_factory=list)
    rows_without_files: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)  # size or checksum differs
    unreadable: list[str] = field(default_factory=list)
    #: Acknowledged instances a stopped Storage SCP left in intake files, not yet named
    #: or indexed (placed by a repair, or when ``serve`` starts again).
    intake_files: list[str] = field(default_factory=list)
    repaired: bool = False

    @property
    def consistent(self) -> bool:
        return not (
            self.temp_files
            or self.files_without_rows
            or self.rows_without_files
            or self.mismatched
            or self.intake_files
        )


@dataclass(frozen=True)
class InstanceRef:
    """One stored instance to send (C-MOVE/C-GET): its file and how it is encoded."""

    path: str
    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax_uid: str


def _refused(error: Exception, temp: str | None = None) -> StoreResult:
    """The result for an instance that could not be stored (its temporary file removed):
    0xA700 when writing failed, 0xC000 for data that cannot be understood."""
    if temp is not None:
        try:
            os.unlink(temp)
        except OSError:
            pass
    status = OUT_OF_RESOURCES if isinstance(error, OSError) else CANNOT_UNDERSTAND
    return StoreResult(status, None, action="failed", comment=str(error)[:64])


@dataclass(frozen=True)
class TempInstance:
    """A complete Part 10 file written to the storage folder, for
    :meth:`Archive.ingest_temps`: its path, and what is known of it already
    (read again from the file when None)."""

    path: str
    header: Dataset | None = None  # the data set up to its pixel data
    size: int | None = None
    digest: str | None = None  # its checksum (dicomfast.digest)


def _fsync_error(path: str) -> OSError | None:
    """Flush a file to disk; the error if that failed."""
    try:
        fsync_file(path)
    except OSError as e:
        return e
    return None


def _header(source: Any) -> tuple[Dataset, str, str, str]:
    """The data set up to its pixel data (``source`` itself if it is a :class:`Dataset`),
    and its SOP Instance, Study and Series Instance UIDs, each checked to be a valid
    UID (ValueError naming the one that is not)."""
    ds = source if isinstance(source, Dataset) else read(source, stop_before_pixels=True)
    return (ds, *ix.instance_uids(ds))


class Archive:
    """A storage folder and its SQL index.

    ``db_url``: a SQLAlchemy URL (``postgresql+psycopg://user@host/db``);
    default the SQLite file ``index.sqlite`` in ``storage_dir``.
    ``duplicate_policy`` for an instance whose SOP Instance UID is already
    stored: ``keep-first`` (the new one is dropped, Success answered),
    ``replace`` (the new one takes the place of the old) or ``keep-both``.
    ``fsync=False`` skips the fsyncs (tests, benchmarks: not durable).
    ``reconcile=True`` runs :meth:`check` with ``repair=True`` on opening.
    """

    def __init__(
        self,
        storage_dir: str | os.PathLike[str],
        db_url: str | None = None,
        duplicate_policy: str = "keep-first",
        *,
        fsync: bool = True,
        checksum: bool = True,
        reconcile: bool = False,
    ) -> None:
        if duplicate_policy not in POLICIES:
            raise ValueError(f"duplicate_policy must be one of {', '.join(POLICIES)}")
        self.folder = os.path.abspath(os.fspath(storage_dir))
        os.makedirs(self.folder, exist_ok=True)
        self.duplicate_policy = duplicate_policy
        self.fsync = fsync
        self.checksum = checksum
        self.db_url = db.database_url(self.folder, db_url)
        self.engine = db.create_engine(self.db_url)
        self._io = ThreadPoolExecutor(4, thread_name_prefix="dicomfast-archive-io")
        self._indexer: Indexer | None = None
        self._index_conn: sa.Connection | None = None  # the indexer thread's
        self._indexer_lock = threading.Lock()
        self._flush_first: list[Callable[[], object]] = []
        if reconcile:
            self.check(repair=True, temp_age=0.0)

    # -- life cycle -------------------------------------------------------------------------
    def close(self) -> None:
        """Place and index what was ingested or acknowledged, then release the
        database and threads."""
        for first in list(self._flush_first):
            first()
        with self._indexer_lock:
            indexer, self._indexer = self._indexer, None
        if indexer is not None:
            indexer.close()
        if self._index_conn is not None:
            self._index_conn.close()
            self._index_conn = None
        self._io.shutdown(wait=True)
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect_write(self) -> sa.Connection:
        """A connection whose transactions take the write lock at once (SQLite)."""
        return self.engine.connect().execution_options(**db.WRITE)

    # -- paths ------------------------------------------------------------------------------
    def relative_path(self, rec: ix.Record, copy: int = 0) -> str:
        uid = rec.sop_instance_uid
        name = f"{uid}.dcm" if copy == 0 else f"{uid}_{copy}.dcm"
        return "/".join((rec.study["study_instance_uid"], rec.series["series_instance_uid"], name))

    def abspath(self, rel: str) -> str:
        return os.path.join(self.folder, *rel.split("/"))

    # -- storing ----------------------------------------------------------------------------
    def _bytes_of(
        self, source: Any, transfer_syntax: str | None, source_ae_title: str | None
    ) -> bytes:
        if isinstance(source, Dataset):
            import io

            from ..writer import write

            buf = io.BytesIO()
            write(source, buf, transfer_syntax=transfer_syntax)
            return buf.getvalue()
        if isinstance(source, str | os.PathLike):
            with open(source, "rb") as fh:
                return fh.read()
        data = bytes(source)
        if len(data) >= 132 and data[128:132] == b"DICM":
            return data
        # A bare data set (as a C-STORE carries it): give it a file meta group.
        from ..net.storage import file_meta

        ds = read(data, stop_before_pixels=True)
        ts = transfer_syntax or ds.transfer_syntax or uids.ImplicitVRLittleEndian
        sop_class, sop_instance = ds.get("SOPClassUID"), ds.get("SOPInstanceUID")
        if not ix.is_valid_uid(sop_instance) or not sop_class:
            raise ValueError("the data set has no valid SOP Class/Instance UID")
        return file_meta(str(sop_class), sop_instance, ts, source_ae_title) + data

    def _make_dirs(self, folder: str) -> None:
        if os.path.isdir(folder):
            return
        os.makedirs(folder, exist_ok=True)
        if self.fsync:  # the new folders' names must be durable too
            parent = os.path.dirname(folder)
            fsync_path(os.path.dirname(parent))
            fsync_path(parent)

    def _write_temp(self, data: bytes, uid: str, folder: str) -> str:
        """A hidden temporary file in ``folder`` (where the final file will be)."""
        self._make_dirs(folder)
        fd, temp = create_temp(folder, f".{uid}.", TEMP_SUFFIX)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                if self.fsync:
                    os.fsync(fh.fileno())
        except BaseException:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise
        return temp

    def _place(self, temp: str, final: str) -> None:
        """Rename a temporary file to its final name, durably."""
        parent = os.path.dirname(final)
        self._make_dirs(parent)
        os.replace(temp, final)
        if self.fsync:
            fsync_path(parent)

    # Test hooks: called after the file got its final name (before the commit) and after the
    # commit (before files are replaced or removed); tests make them raise to simulate a crash.
    def _after_place(self, rel: str) -> None:
        pass

    def _after_commit(self, rel: str) -> None:
        pass

    def store(
        self,
        source: bytes | bytearray | memoryview | str | os.PathLike[str] | Dataset,
        *,
        transfer_syntax: str | None = None,
        source_ae_title: str | None = None,
    ) -> StoreResult:
        """Store one instance durably and index it (see the module docstring).

        ``source``: the bytes of a Part 10 file or of a bare data set (then
        ``transfer_syntax`` says how it is encoded), a file path (copied), or
        a :class:`~dicomfast.Dataset`.  Never raises for bad input: the result's
        ``status`` says what to answer (0xC000 for data that cannot be
        understood, 0xA700 when the file or the index cannot be written)."""
        try:
            data = self._bytes_of(source, transfer_syntax, source_ae_title)
            ds, sop, study, series_uid = _header(data)
        except (DicomError, ValueError, TypeError, OSError) as e:
            return _refused(e)
        # The file is written and fsync'd by a worker thread while the record is built and
        # inserted here: the row only commits after the file has its final name either way.
        folder = os.path.join(self.folder, study, series_uid)
        pending = self._io.submit(self._write_temp, data, sop, folder)
        digest = self._io.submit(checksums.of_bytes, data) if self.checksum else None
        return self._store_parsed(
            ds,
            sop,
            pending,
            size=len(data),
            checksum=digest.result if digest is not None else lambda: "",
            transfer_syntax=transfer_syntax,
            source_ae_title=source_ae_title,
        )

    # -- ingest: durable file now, row by group commit (see dicomfast.archive.ingest) --------
    def ingest(
        self,
        source: bytes | bytearray | memoryview | str | os.PathLike[str] | Dataset,
        *,
        transfer_syntax: str | None = None,
        source_ae_title: str | None = None,
    ) -> StoreResult:
        """Like :meth:`store`, but the row is inserted by the indexer's next group
        commit (see :mod:`dicomfast.archive.ingest`): returns once the file is
        durable under its final name.  ``source`` as for :meth:`store`."""
        try:
            data = self._bytes_of(source, transfer_syntax, source_ae_title)
            header = _header(data)
            digest = self._io.submit(checksums.of_bytes, data) if self.checksum else None
            _, sop, study, series_uid = header
            temp = self._write_temp(data, sop, os.path.join(self.folder, study, series_uid))
        except (DicomError, ValueError, TypeError, OSError) as e:
            return _refused(e)
        return self._ingest(
            temp,
            header,
            synced=True,
            size=len(data),
            digest=digest.result() if digest is not None else None,
        )

    def ingest_temp(
        self,
        temp_path: str | os.PathLike[str],
        *,
        transfer_syntax: str | None = None,
        source_ae_title: str | None = None,
        header: Dataset | None = None,
        synced: bool = False,
        digest: str | Callable[[], str | None] | None = None,
        folders: set[str] | None = None,
        keep_temp: bool = False,
    ) -> StoreResult:
        """Make a complete Part 10 file that is already in the storage folder (the
        Storage SCP's temporary file) durable under its final name and queue it
        for indexing; the temporary file is gone afterwards either way, unless
        ``keep_temp`` (an intake file, see :mod:`dicomfast.net.intake`: its name
        stays until the caller has flushed ``folders``, and a file that could not
        be placed is left where it is, never removed).
        ``header``: that file already read up to its pixel data (not read again);
        ``synced``: the file's bytes are on disk already (only its name is flushed
        here); ``digest``: its checksum (:mod:`dicomfast.digest`), computed as it was written (not read back),
        or a call giving it to the indexer;
        ``folders``: collects the folder to flush instead of flushing it here.

        The duplicate policy is applied at once for an instance stored at the
        same path (``keep-first``: the new file is dropped; ``keep-both``: it is
        stored as ``<uid>_<n>.dcm``; ``replace``: it takes the old one's place)
        and by the indexer for one indexed under another study or series."""
        temp = os.fspath(temp_path)
        try:
            parsed = _header(temp if header is None else header)
        except (DicomError, ValueError, TypeError, OSError) as e:
            return _refused(e, None if keep_temp else temp)
        return self._ingest(
            temp,
            parsed,
            synced=synced,
            digest=digest,
            folders=folders,
            transfer_syntax=transfer_syntax,
            source_ae_title=source_ae_title,
            keep_temp=keep_temp,
        )

    def ingest_temps(self, temps: Sequence[TempInstance]) -> list[StoreResult]:
        """:meth:`ingest_temp` for several complete files in the storage folder (a
        STOW-RS request's parts), made durable together: every file's data is
        flushed once all were written (in parallel), each folder once after all
        were named, and the rows are committed (the indexer's group commit)
        before this returns.  One result per file, in order."""
        results: list[StoreResult | None] = [None] * len(temps)
        parsed: dict[int, tuple[Dataset, str, str, str]] = {}
        for k, t in enumerate(temps):
            try:
                parsed[k] = _header(t.path if t.header is None else t.header)
            except (DicomError, ValueError, TypeError, OSError) as e:
                results[k] = _refused(e, t.path)
        if self.fsync:
            synced = self._io.map(_fsync_error, [temps[k].path for k in parsed])
            for k, error in zip(list(parsed), synced, strict=True):
                if error is not None:
                    del parsed[k]
                    results[k] = _refused(error, temps[k].path)
        folders: set[str] = set()
        for k, header in parsed.items():
            t = temps[k]
            results[k] = self._ingest(
                t.path, header, synced=True, size=t.size, digest=t.digest, folders=folders
            )
        for folder in sorted(folders):
            fsync_path(folder)
        self.flush()
        return [r for r in results if r is not None]

    def _ingest(
        self,
        temp: str,
        header: tuple[Dataset, str, str, str],
        *,
        synced: bool = False,
        size: int | None = None,
        digest: str | Callable[[], str | None] | None = None,
        transfer_syntax: str | None = None,
        source_ae_title: str | None = None,
        folders: set[str] | None = None,
        keep_temp: bool = False,
    ) -> StoreResult:
        """``folders``: collects the folders to flush instead of flushing each here;
        ``digest``: the file's checksum, or a call the indexer makes for it;
        ``keep_temp``: as for :meth:`ingest_temp`."""
        ds, sop, study, series_uid = header
        try:
            sop_class = ds.get("SOPClassUID")
            if self.fsync and not synced:
                fsync_file(temp)
            rel, action = self._place_fresh(temp, study, series_uid, sop, folders, keep_temp)
            if size is None:
                size = os.path.getsize(self.abspath(rel))
        except (DicomError, ValueError, TypeError, OSError) as e:
            return _refused(e, None if keep_temp else temp)
        result = StoreResult(
            SUCCESS,
            sop,
            str(sop_class) if sop_class else None,
            path=self.abspath(rel),
            action=action,
            duplicate=action != "stored",
        )
        if action == "kept-existing":
            log.warning("duplicate SOP Instance UID %s: kept the stored instance", sop)
            return result
        meta = ds.file_meta
        aet = source_ae_title or (meta.get("SourceApplicationEntityTitle") if meta else None)
        stored_at = time.time()
        nbytes = size

        def build() -> ix.Record:
            if digest is not None or not self.checksum:
                checksum = digest() if callable(digest) else digest
            else:
                checksum = checksums.of_file(self.abspath(rel))
            return ix.record_of(
                ds,
                path=rel,
                size=nbytes,
                checksum=checksum,
                stored_at=stored_at,
                transfer_syntax=transfer_syntax if meta is None else None,
                source_ae_title=str(aet).strip() if aet else None,
            )

        self._get_indexer().submit(IndexJob(rel, sop, build))
        return result

    def _place_fresh(
        self,
        temp: str,
        study: str,
        series_uid: str,
        sop: str,
        folders: set[str] | None = None,
        keep_temp: bool = False,
    ) -> tuple[str, str]:
        """Give a durable temporary file its final name per the duplicate policy;
        (path relative to the folder, action).  The folder is flushed here, or
        added to ``folders`` for the caller to flush.  ``keep_temp``: the
        temporary name stays (but for a duplicate ``keep-first`` drops)."""
        folder = os.path.join(self.folder, study, series_uid)
        self._make_dirs(folder)
        stem = "/".join((study, series_uid, sop))
        if self.duplicate_policy == "replace":
            final = self.abspath(stem + ".dcm")
            existed = os.path.exists(final)
            if keep_temp:  # a second name beside the final one, then over it
                beside = os.path.join(folder, f".{sop}.{os.urandom(8).hex()}{TEMP_SUFFIX}")
                os.link(temp, beside)
                os.replace(beside, final)
            else:
                os.replace(temp, final)
            action = "replaced" if existed else "stored"
            rel = stem + ".dcm"
        else:
            n = 0
            while True:
                rel = stem + (".dcm" if n == 0 else f"_{n}.dcm")
                if link_new(temp, self.abspath(rel)):
                    break
                if self.duplicate_policy == "keep-first":
                    os.unlink(temp)
                    return rel, "kept-existing"
                n += 1
            if not keep_temp:
                try:
                    os.unlink(temp)
                except FileNotFoundError:  # moved, not linked
                    pass
            action = "stored" if n == 0 else "stored-copy"
        if folders is not None:
            folders.add(folder)
        elif self.fsync:
            fsync_path(folder)
        return rel, action

    def _get_indexer(self) -> Indexer:
        with self._indexer_lock:
            if self._indexer is None:
                self._indexer = Indexer(self._index_batch)
            return self._indexer

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every instance ingested so far (or acknowledged by a Storage
        SCP writing to this archive and not yet placed) is stored under its final
        name and indexed (False on timeout)."""
        for first in list(self._flush_first):
            first()
        indexer = self._indexer
        return True if indexer is None else indexer.flush(timeout)

    def flush_first(self, fn: Callable[[], object]) -> None:
        """Have :meth:`flush` call ``fn`` first (a storage placing acknowledged
        instances later: see :class:`~dicomfast.archive.netstorage.ArchiveStorage`)."""
        self._flush_first.append(fn)

    def recover_intake(self) -> list[StoreResult]:
        """Place the instances a Storage SCP acknowledged but had not placed when it
        stopped (complete intake files in ``.spares/``, see :mod:`dicomfast.net.intake`)
        and remove the incomplete ones (never acknowledged).  A file that cannot be
        placed is left where it is, and logged.  Run by the process that writes to
        the folder (never beside a running server, whose incomplete intake files are
        being written): when an :class:`~dicomfast.archive.netstorage.ArchiveStorage`
        is made, and by :meth:`check` with ``repair``."""
        spare_folder = os.path.join(self.folder, SPARE_FOLDER)
        results: list[StoreResult] = []
        placed: list[str] = []
        folders: set[str] = set()
        for path in intake_files(spare_folder):
            try:
                if not is_complete(path):
                    os.unlink(path)
                    continue
                header = _header(path)
            except (DicomError, ValueError, TypeError, OSError) as e:
                log.error("cannot recover the acknowledged instance in %s: %s", path, e)
                continue
            if self._placed_already(path, header):
                placed.append(path)
                continue
            res = self._ingest(path, header, folders=folders, keep_temp=True)
            results.append(res)
            if res.ok:
                log.warning(
                    "recovered acknowledged instance %s: %s", res.sop_instance_uid, res.path
                )
                placed.append(path)
            else:
                log.error("cannot recover the acknowledged instance in %s: %s", path, res.comment)
        for folder in sorted(folders):
            fsync_path(folder)
        for path in placed:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        if results:
            self.flush()
        return results

    def _placed_already(self, path: str, header: tuple[Dataset, str, str, str]) -> bool:
        """Whether an intake file is one of its instance's stored files already (a
        stop after it was named, before its intake name was removed)."""
        _, sop, study, series_uid = header
        stem = os.path.join(self.folder, study, series_uid, sop)
        for name in [f"{stem}.dcm", *(f"{stem}_{n}.dcm" for n in range(1, 10))]:
            try:
                if os.path.samefile(name, path):
                    fsync_path(os.path.dirname(name))
                    return True
            except OSError:
                continue
        return False

    def _index_batch(self, jobs: Sequence[IndexJob]) -> None:
        """One transaction for ``jobs`` (the indexer's group commit)."""
        built: list[tuple[IndexJob, ix.Record]] = []
        for job in jobs:
            try:
                built.append((job, job.build()))
            except (DicomError, ValueError, OSError) as e:
                log.error("cannot index %s: %s (the file is kept)", job.rel, e)
        if not built:
            return
        remove: list[str] = []
        conn = self._index_conn
        if conn is None or conn.closed:  # the indexer thread keeps one connection
            conn = self._index_conn = self.connect_write()
        try:
            with conn.begin():
                remove = self._index_built(conn, built)
        except BaseException:
            conn.close()  # a fresh one next time
            self._index_conn = None
            raise
        self._remove_files(remove)

    def _index_built(
        self, conn: sa.Connection, built: Sequence[tuple[IndexJob, ix.Record]]
    ) -> list[str]:
        remove: list[str] = []
        known = ix.uids_indexed(conn, [job.sop_instance_uid for job, _ in built])
        plain: list[tuple[ix.Record, int]] = []
        others: list[tuple[IndexJob, ix.Record]] = []
        for job, rec in built:
            if job.sop_instance_uid in known:
                others.append((job, rec))
            else:
                known.add(job.sop_instance_uid)
                plain.append((rec, self._copy_of(job.rel)))
        ix.insert_instances(conn, plain)
        for job, rec in others:
            remove += self._index_placed(conn, job.rel, rec)
        return remove

    def _index_placed(self, conn: sa.Connection, rel: str, rec: ix.Record) -> list[str]:
        """Index a just-placed file whose SOP Instance UID has rows already (in
        the caller's transaction); the files to remove after the commit."""
        existing = ix.rows_for_uid(conn, rec.sop_instance_uid)
        for r in existing:
            if r.path == rel:  # replaced in place (replace policy): the file is the new one
                ix.delete_instance(conn, r.pk)
        others = [r for r in existing if r.path != rel]
        copy = self._copy_of(rel)
        if not others:
            ix.insert_instance(conn, rec, copy=copy)
            return []
        if self.duplicate_policy == "keep-both":
            copy = max(max(r.copy for r in others) + 1, copy)
            ix.insert_instance(conn, rec, copy=copy)
            log.warning(
                "duplicate SOP Instance UID %s: kept both (copy %d)", rec.sop_instance_uid, copy
            )
            return []
        if self.duplicate_policy == "replace":
            for r in others:
                ix.delete_instance(conn, r.pk)
            ix.insert_instance(conn, rec, copy=copy)
            log.warning(
                "duplicate SOP Instance UID %s: %s replaces %s",
                rec.sop_instance_uid,
                rel,
                others[0].path,
            )
            return [r.path for r in others]
        self._set_aside(rel)
        return []

    def _set_aside(self, rel: str) -> None:
        """Move a duplicate file the keep-first policy does not keep to ``.duplicates/``."""
        dest = os.path.join(self.folder, DUPLICATES, rel.replace("/", "_"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        os.replace(self.abspath(rel), dest)
        self._remove_empty_dirs(os.path.dirname(self.abspath(rel)))
        log.warning("duplicate %s moved to %s (keep-first policy)", rel, dest)

    def _store_parsed(
        self,
        ds: Dataset,
        sop: str,
        pending: Future[str],
        *,
        size: int,
        checksum: Callable[[], str],
        transfer_syntax: str | None,
        source_ae_title: str | None,
    ) -> StoreResult:
        meta = ds.file_meta
        result = StoreResult(SUCCESS, sop)
        try:
            aet = source_ae_title or (meta.get("SourceApplicationEntityTitle") if meta else None)
            rec = ix.record_of(
                ds,
                path="",
                size=size,
                checksum=checksum() if self.checksum else None,
                stored_at=time.time(),
                transfer_syntax=transfer_syntax if meta is None else None,
                source_ae_title=str(aet).strip() if aet else None,
            )
            result.sop_class_uid = rec.instance["sop_class_uid"]
            for attempt in range(5):
                try:
                    # First try inserting straight away (the usual case: a new instance);
                    # a unique-key conflict means a duplicate (or a concurrent store of the
                    # same UID or series): look at what is stored and decide again.
                    return self._store_record(rec, pending.result, result, optimistic=attempt == 0)
                except sa.exc.IntegrityError:
                    if attempt == 4:
                        raise
        except (DicomError, ValueError, TypeError) as e:
            result.status, result.action, result.comment = CANNOT_UNDERSTAND, "failed", str(e)[:64]
            return result
        except (sa.exc.SQLAlchemyError, OSError) as e:
            log.error("cannot store %s: %s", sop, e)
            result.status, result.action, result.comment = OUT_OF_RESOURCES, "failed", str(e)[:64]
            result.path = None
            return result
        finally:
            try:
                temp: str | None = pending.result()
            except OSError:
                temp = None
            if temp is not None and os.path.exists(temp):
                try:
                    os.unlink(temp)
                except OSError:
                    pass
        raise AssertionError("unreachable")

    def _store_record(
        self,
        rec: ix.Record,
        temp_path: Callable[[], str],
        result: StoreResult,
        optimistic: bool = False,
    ) -> StoreResult:
        """Insert the row, give the temporary file (``temp_path()`` waits for it) its
        final name, commit — or the duplicate policy's variant of that."""
        uid = rec.sop_instance_uid
        policy = self.duplicate_policy
        placed: str | None = None
        after_commit: Callable[[], None] | None = None
        try:
            with self.connect_write() as conn, conn.begin():
                existing = [] if optimistic else ix.rows_for_uid(conn, uid)
                if not existing:
                    rel = self.relative_path(rec)
                    rec.instance["path"] = rel
                    ix.insert_instance(conn, rec)
                    self._place(temp_path(), self.abspath(rel))
                    placed = rel
                    self._after_place(rel)
                    result.action = "stored"
                elif policy == "keep-first":
                    result.duplicate, result.action = True, "kept-existing"
                    result.path = self.abspath(existing[0].path)
                    log.warning("duplicate SOP Instance UID %s: kept the stored instance", uid)
                    return result
                elif policy == "keep-both":
                    copy = max(r.copy for r in existing) + 1
                    rel = self.relative_path(rec, copy)
                    rec.instance["path"] = rel
                    ix.insert_instance(conn, rec, copy=copy)
                    self._place(temp_path(), self.abspath(rel))
                    placed = rel
                    self._after_place(rel)
                    result.duplicate, result.action = True, "stored-copy"
                    log.warning("duplicate SOP Instance UID %s: kept both (copy %d)", uid, copy)
                else:  # replace
                    old = existing[0]
                    rel = self.relative_path(rec)
                    for r in existing:
                        ix.delete_instance(conn, r.pk)
                    rec.instance["path"] = rel
                    ix.insert_instance(conn, rec)
                    stale = [r.path for r in existing if r.path != rel]
                    if old.path == rel:
                        # The file exists under this name already: rename after the commit.
                        def after_commit() -> None:
                            self._after_commit(rel)
                            self._place(temp_path(), self.abspath(rel))
                            self._remove_files(stale)

                    else:
                        self._place(temp_path(), self.abspath(rel))
                        placed = rel
                        self._after_place(rel)

                        def after_commit() -> None:
                            self._after_commit(rel)
                            self._remove_files(stale)

                    result.duplicate, result.action = True, "replaced"
                    log.warning("duplicate SOP Instance UID %s: replaced the stored instance", uid)
        except Exception:
            if placed is not None:  # the row did not commit: the file must go too
                try:
                    os.unlink(self.abspath(placed))
                except OSError:
                    pass
            raise
        if after_commit is not None:
            after_commit()
        result.path = self.abspath(rec.instance["path"])
        return result

    def _remove_files(self, rels: Iterable[str]) -> None:
        for rel in rels:
            try:
                os.unlink(self.abspath(rel))
            except FileNotFoundError:
                pass
            self._remove_empty_dirs(os.path.dirname(self.abspath(rel)))

    def _remove_empty_dirs(self, d: str) -> None:
        while d.startswith(self.folder + os.sep) and d != self.folder:
            try:
                os.rmdir(d)
            except OSError:
                return
            d = os.path.dirname(d)

    def delete(self, sop_instance_uid: str) -> int:
        """Remove every stored copy of an instance (rows first, then files); how many."""
        self.flush()
        with self.connect_write() as conn, conn.begin():
            rows = ix.rows_for_uid(conn, sop_instance_uid)
            for r in rows:
                ix.delete_instance(conn, r.pk)
        self._remove_files(r.path for r in rows)
        return len(rows)

    # -- files ------------------------------------------------------------------------------
    def iter_files(self) -> Iterator[str]:
        """Relative paths of the stored files (``*.dcm`` outside the dot-folders)."""
        root = self.folder
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            rel_dir = os.path.relpath(dirpath, root)
            for f in sorted(filenames):
                if f.endswith(".dcm") and not f.startswith("."):
                    yield f if rel_dir == "." else "/".join([*rel_dir.split(os.sep), f])

    def iter_temp_files(self) -> Iterator[str]:
        """Relative paths of temporary files (``.<uid>.<random>.part``)."""
        root = self.folder
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            rel_dir = os.path.relpath(dirpath, root)
            for f in sorted(filenames):
                if f.startswith(".") and f.endswith(TEMP_SUFFIX):
                    yield f if rel_dir == "." else "/".join([*rel_dir.split(os.sep), f])

    def _record_of_file(self, rel: str) -> ix.Record:
        path = self.abspath(rel)
        ds = read(path, stop_before_pixels=True)
        size = os.path.getsize(path)
        checksum = checksums.of_file(path) if self.checksum else None
        meta = ds.file_meta
        aet = meta.get("SourceApplicationEntityTitle") if meta else None
        return ix.record_of(
            ds,
            path=rel,
            size=size,
            checksum=checksum,
            stored_at=os.path.getmtime(path),
            source_ae_title=str(aet).strip() if aet else None,
        )

    @staticmethod
    def _copy_of(rel: str) -> int:
        stem = rel.rsplit("/", 1)[-1][: -len(".dcm")]
        _, sep, n = stem.rpartition("_")
        return int(n) if sep and n.isdigit() else 0

    # -- consistency ------------------------------------------------------------------------
    def check(
        self, *, repair: bool = False, verify: bool = False, temp_age: float = 3600.0
    ) -> CheckReport:
        """Compare the folder with the index.  ``verify`` also compares checksums
        (reads every file).  Temporary files older than ``temp_age`` seconds count
        as left over by a crash.  With ``repair``: those are removed, files
        without rows are indexed (a second file of an indexed SOP Instance UID
        follows the duplicate policy: ``keep-both`` indexes it as a copy,
        ``replace`` keeps the newer file, ``keep-first`` moves it to
        ``.duplicates/``), rows without files are deleted and mismatched rows
        are indexed again from their file; and first, instances a stopped Storage
        SCP acknowledged but had not named are placed (:meth:`recover_intake`)."""
        if repair:
            self.recover_intake()
        self.flush()
        rep = CheckReport()
        spare_folder = os.path.join(self.folder, SPARE_FOLDER)
        for path in intake_files(spare_folder):
            try:
                if is_complete(path):
                    rep.intake_files.append(os.path.relpath(path, self.folder))
            except FileNotFoundError:
                pass
        now = time.time()
        for rel in self.iter_temp_files():
            try:
                if now - os.path.getmtime(self.abspath(rel)) >= temp_age:
                    rep.temp_files.append(rel)
            except FileNotFoundError:
                pass
        files = set(self.iter_files())
        with self.engine.connect() as conn:
            rows = {
                r.path: r
                for r in conn.execute(
                    sa.select(
                        instances.c.pk, instances.c.path, instances.c.size, instances.c.checksum
                    )
                )
            }
        rep.rows_without_files = sorted(set(rows) - files)
        rep.files_without_rows = sorted(files - set(rows))
        for rel in sorted(files & set(rows)):
            r = rows[rel]
            path = self.abspath(rel)
            try:
                if os.path.getsize(path) != r.size:
                    rep.mismatched.append(rel)
                elif verify and r.checksum and not checksums.matches(r.checksum, path):
                    rep.mismatched.append(rel)
            except FileNotFoundError:
                rep.rows_without_files.append(rel)
        if repair:
            self._repair(rep, rows)
            rep.repaired = True
        return rep

    def _repair(self, rep: CheckReport, rows: dict[str, Any]) -> None:
        for rel in rep.temp_files:
            try:
                os.unlink(self.abspath(rel))
            except FileNotFoundError:
                pass
        with self.connect_write() as conn, conn.begin():
            for rel in rep.rows_without_files:
                log.warning("index row without a file removed: %s", rel)
                ix.delete_instance(conn, rows[rel].pk)
        for rel in rep.mismatched:
            try:
                rec = self._record_of_file(rel)
            except (DicomError, ValueError, OSError) as e:
                log.error("cannot index %s: %s", rel, e)
                rep.unreadable.append(rel)
                continue
            with self.connect_write() as conn, conn.begin():
                ix.delete_instance(conn, rows[rel].pk)
                ix.insert_instance(conn, rec, copy=self._copy_of(rel))
            log.warning("index row of %s did not match its file: indexed again", rel)
        for rel in rep.files_without_rows:
            try:
                rec = self._record_of_file(rel)
            except (DicomError, ValueError, OSError) as e:
                log.error("cannot index %s: %s", rel, e)
                rep.unreadable.append(rel)
                continue
            self._index_orphan(rel, rec)

    def _index_orphan(self, rel: str, rec: ix.Record) -> None:
        uid = rec.sop_instance_uid
        remove: list[str] = []
        with self.connect_write() as conn, conn.begin():
            existing = ix.rows_for_uid(conn, uid)
            if not existing:
                ix.insert_instance(conn, rec, copy=self._copy_of(rel))
                log.warning("file without an index row indexed: %s", rel)
            elif self.duplicate_policy == "keep-both":
                copy = max(max(r.copy for r in existing) + 1, self._copy_of(rel))
                ix.insert_instance(conn, rec, copy=copy)
                log.warning("file without an index row indexed as copy %d: %s", copy, rel)
            elif self.duplicate_policy == "replace":
                old = existing[0]
                try:
                    old_mtime = os.path.getmtime(self.abspath(old.path))
                except FileNotFoundError:
                    old_mtime = 0.0
                if rec.instance["stored_at"] >= old_mtime:
                    for r in existing:
                        ix.delete_instance(conn, r.pk)
                    ix.insert_instance(conn, rec, copy=0)
                    remove = [r.path for r in existing]
                    log.warning("newer file %s replaces %s", rel, old.path)
                else:
                    remove = [rel]
                    log.warning("older duplicate %s removed (replace policy)", rel)
            else:
                self._set_aside(rel)
        self._remove_files(remove)

    def reindex(
        self,
        *,
        workers: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Rebuild the index from the files alone (files read in parallel, the
        new index written in one transaction); the number of instances indexed.
        ``progress(done, total)`` is called as the files are read."""
        self.flush()
        files = list(self.iter_files())
        n = workers or min(8, (os.cpu_count() or 1) * 2)

        def one(rel: str) -> ix.Record | None:
            try:
                return self._record_of_file(rel)
            except (DicomError, ValueError, OSError) as e:
                log.error("not indexed: %s: %s", rel, e)
                return None

        with ThreadPoolExecutor(n) as pool:
            records = []
            for i, r in enumerate(pool.map(one, files), 1):
                if r is not None:
                    records.append(r)
                if progress is not None:
                    progress(i, len(files))
        # In the order they were stored (the files' times; then copies, then names), so
        # that a patient/study/series attribute the instances disagree on takes the
        # first stored instance's value, as the live index does.
        records.sort(
            key=lambda r: (
                r.instance["stored_at"],
                self._copy_of(r.instance["path"]),
                r.instance["path"],
            )
        )
        from .schema import patients, series, studies

        with self.connect_write() as conn, conn.begin():
            for table in (instances, series, studies, patients):
                conn.execute(table.delete())
            for rec in records:
                ix.insert_instance(conn, rec, copy=self._copy_of(rec.instance["path"]))
        return len(records)

    # -- queries (see dicomfast.archive.query) ----------------------------------------------
    def find(
        self,
        identifier: Dataset,
        model: str = "STUDY",
        *,
        cancel: Callable[[], bool] | None = None,
    ) -> Iterator[Dataset]:
        """C-FIND: the matches of ``identifier`` (see :func:`dicomfast.archive.query.find`)."""
        from .query import find

        self.flush()
        return find(self.engine, identifier, model, cancel=cancel)

    def matches(
        self, identifier: Dataset, model: str = "STUDY"
    ) -> Iterator[list[tuple[int, str, Any]]]:
        """The matches of ``identifier`` as :func:`find` answers them, each as its
        elements ``(tag, VR, value)`` (see :func:`dicomfast.archive.query.matches`)."""
        from .query import matches

        self.flush()
        return matches(self.engine, identifier, model)

    def instances_for(
        self, identifier: Dataset, level: str | None = None, model: str = "STUDY"
    ) -> list[InstanceRef]:
        """C-MOVE/C-GET: the stored instances under the matches of ``identifier``."""
        from .query import instances_for

        self.flush()
        return [
            InstanceRef(self.abspath(p), c, u, t)
            for p, c, u, t in instances_for(self.engine, identifier, level, model)
        ]

    def count(self) -> int:
        self.flush()
        with self.engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(instances)).scalar() or 0
            )
