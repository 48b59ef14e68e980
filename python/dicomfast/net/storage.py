"""The Storage SCP's durable file writer.

Each received instance becomes a Part 10 file: a file meta group built from
the presentation context and the C-STORE command (PS3.10 §7.1), followed by
the data set bytes exactly as received.  Bytes are written to a temporary
file in the storage folder as they arrive (``.<uid>.<random>.part``, an
empty file made ahead of need by :class:`SpareFiles` and linked there), then
flushed, fsync'd and linked to their final name; only then does the SCP
answer with a success status.  A failed or aborted transfer deletes its
temporary file, so no partial instance is ever left under a final name.

File names are ``<SOP Instance UID>.dcm``.  The UID is validated first (only
digits and dots, no empty component, at most 64 characters) so it cannot
escape the folder.  **An existing file is never overwritten**: if the name
is taken (the same instance sent twice, or a UID collision) the new file is
stored as ``<uid>_1.dcm`` … ``<uid>_9.dcm``, then ``<uid>_<unique hex>.dcm``
(``_`` cannot occur in a UID, so these never collide with another instance),
the status is still Success and the duplicate is logged.  The final name is
claimed with ``os.link`` so two associations storing the same UID at once
cannot overwrite each other either.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import struct
import threading
import time
import weakref
from collections import deque
from concurrent.futures import Future
from typing import TYPE_CHECKING, TypeGuard

from .. import uid as uids
from ..errors import DicomError
from ..tempfiles import create_temp, fsync_path
from .chunk_writer import ChunkWriter, StagedFile
from .commit_group import GroupCommitter
from .intake import Intake, IntakeUnsupported, close_intake, make_intake, mark_complete

if TYPE_CHECKING:
    from ..dataset import Dataset

log = logging.getLogger("dicomfast.net.storage")

_UID_RE = re.compile(r"[0-9]+(\.[0-9]+)*")


def is_valid_uid(uid: object) -> TypeGuard[str]:
    """Safe as a file name: digits and dots only, no empty component, ≤ 64 chars."""
    return isinstance(uid, str) and 0 < len(uid) <= 64 and _UID_RE.fullmatch(uid) is not None


def _elem(tag: int, vr: str, value: bytes) -> bytes:
    if len(value) % 2:
        value += b"\0" if vr in ("UI", "OB") else b" "
    if vr == "OB":
        return struct.pack("<HH2s2xI", tag >> 16, tag & 0xFFFF, b"OB", len(value)) + value
    return struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr.encode(), len(value)) + value


def file_meta(
    sop_class_uid: str,
    sop_instance_uid: str,
    transfer_syntax: str,
    source_ae_title: str | None = None,
) -> bytes:
    """Preamble, ``DICM`` and the file meta group (explicit VR little endian)."""
    body = b"".join(
        [
            _elem(0x00020001, "OB", b"\x00\x01"),
            _elem(0x00020002, "UI", sop_class_uid.encode("ascii")),
            _elem(0x00020003, "UI", sop_instance_uid.encode("ascii")),
            _elem(0x00020010, "UI", transfer_syntax.encode("ascii")),
            _elem(0x00020012, "UI", uids.IMPLEMENTATION_CLASS_UID.encode("ascii")),
            _elem(0x00020013, "SH", uids.IMPLEMENTATION_VERSION_NAME.encode("ascii")),
        ]
        + ([_elem(0x00020016, "AE", source_ae_title.encode("ascii"))] if source_ae_title else [])
    )
    group_length = struct.pack("<HH2sHI", 0x0002, 0x0000, b"UL", 4, len(body))
    return b"\0" * 128 + b"DICM" + group_length + body


class StoreRefused(DicomError):
    """A received instance that is not stored; ``status`` is the C-STORE status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# PS3.4 B.2.3 (Storage SCP statuses); 0xA900 for the instance as DCMTK's storescp does.
_DATASET_MISMATCH = 0xA900
_CANNOT_UNDERSTAND = 0xC000
_OUT_OF_RESOURCES = 0xA700


def check_received(header: Dataset | None, sop_class_uid: str, sop_instance_uid: str) -> None:
    """Raise :class:`StoreRefused` unless the received data set names the SOP Class
    and Instance UIDs of its C-STORE command (PS3.7 9.1.1.1: the Affected SOP
    Class/Instance UIDs identify the data set).  A mismatch is 0xA900 (Data Set
    does not match SOP Class); a data set that cannot be parsed, or lacks
    either UID, is 0xC000 (Cannot understand).  Without this check a peer could
    have Success answered for an instance X while the data set stored is V."""
    if header is None:
        raise StoreRefused(_CANNOT_UNDERSTAND, "the data set cannot be parsed")
    for tag, name, expected in (
        (0x00080016, "SOP Class UID", sop_class_uid),
        (0x00080018, "SOP Instance UID", sop_instance_uid),
    ):
        elem = header.get(tag)
        value = elem.value if elem is not None else None
        if not isinstance(value, str) or not value.strip("\0 "):
            raise StoreRefused(_CANNOT_UNDERSTAND, f"the data set has no {name}")
        if value.strip("\0 ") != expected:
            raise StoreRefused(
                _DATASET_MISMATCH, f"data set {name} {value.strip()} is not the command's"
            )


def _read_header(source: str | bytes | memoryview) -> Dataset | None:
    """The received data set up to its pixel data, or None if it cannot be parsed."""
    from ..reader import read

    try:
        ds = read(source, stop_before_pixels=True)
    except (DicomError, OSError, ValueError):
        return None
    return ds


def _parsed_nodes(ds: Dataset) -> int:
    """How many elements and items a parse found, at every level (the core's index)."""
    raw = ds._raw
    return len(raw) if raw is not None else len(ds)


def _extent_in_view(view: memoryview) -> tuple[int, int] | None:
    """``(nodes, end)`` of the header :func:`_read_header` of ``view`` would give (see
    :func:`~dicomfast.reader.header_extent`), or None where it gives None, without the
    copy of the whole buffer ``read`` would make first (an instance's worth of new
    pages, holding the GIL)."""
    from ..reader import header_extent

    try:
        return header_extent(view)
    except (DicomError, OSError, ValueError, BufferError):
        return None


def _header_of_staged(view: memoryview) -> Dataset | None:
    """:func:`_read_header` of bytes in a reused buffer: the data set returned refers
    to a copy of the header's bytes alone (up to the end of its last element before
    the pixel data, which a parse of the whole view, dropped at once, finds and
    confirms), never to the buffer nor to the pixel data. An acknowledged instance
    waiting to be placed and indexed keeps this header: a CT image's few KiB, not
    its half megabyte."""
    extent = _extent_in_view(view)
    if extent is None:
        return None
    nodes, end = extent
    head = _read_header(bytes(view[:end]))
    if head is not None and _parsed_nodes(head) == nodes:
        return head
    return _read_header(bytes(view))  # not expected: the whole view, as read would


class MemorySink:
    """Collects a received data set (after ``prefix``) in memory."""

    def __init__(self, prefix: bytes = b"") -> None:
        self.buffer = bytearray(prefix)
        self.nbytes = 0
        self._data: bytes | None = None

    def data(self) -> bytes:
        """What was received (file meta included), as one immutable copy made once:
        the UID check and the EVT_C_STORE handler read the same bytes."""
        if self._data is None:
            self._data = bytes(self.buffer)
        return self._data

    def header(self) -> Dataset | None:
        """The received data set (file meta included) up to its pixel data."""
        return _read_header(self.data())

    def write(self, data: memoryview | bytes) -> None:
        self.buffer += data
        self.nbytes += len(data)
        self._data = None

    def close(self) -> None:
        pass

    def discard(self) -> None:
        self.buffer = bytearray()
        self._data = None


class DiscardSink:
    """Swallows a data set that will be refused (e.g. an invalid UID)."""

    def __init__(self, status: int, comment: str) -> None:
        self.status = status
        self.comment = comment
        self.nbytes = 0

    def write(self, data: memoryview | bytes) -> None:
        self.nbytes += len(data)

    def close(self) -> None:
        pass

    def discard(self) -> None:
        pass


def link_new(src: str, dst: str) -> bool:
    """Give the file ``src`` the additional name ``dst`` unless ``dst`` exists
    (then False): never replaces a file.  Where the file system has no hard
    links, ``src`` is moved to ``dst`` (created exclusively first)."""
    try:
        os.link(src, dst)
        return True
    except FileExistsError:
        return False
    except OSError:
        try:
            os.close(os.open(dst, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            return False
        os.replace(src, dst)
        return True


class FileSink:
    """A temporary file in the storage folder receiving one instance, written by
    the storage's writer thread (:mod:`dicomfast.net.chunk_writer`; ``O_DIRECT``
    where the file system takes it, durable storage or not: through the page cache,
    ``serve --no-fsync`` took 4.1-4.5 s for the 1,200 images that durable ``serve``
    took 2.1-3.5 s in, the copy into fresh page-cache pages and their writeback
    costing more than the flushes saved)."""

    #: Set by a storage that names instances after their answer (intake files, see
    #: :mod:`dicomfast.net.intake`): the final path, once the instance has it.
    placed: Future[str] | None = None
    #: Written and committed by the thread that commits it (the SCP's event loop, for
    #: an association alone on its server: see :meth:`FileStorage.commit_now`) rather
    #: than handed to the writer thread and waited for.
    inline: bool = False

    def __init__(self, storage: FileStorage, sop_instance_uid: str, meta: bytes) -> None:
        self.storage = storage
        self.sop_instance_uid = sop_instance_uid
        #: The mode that marks this intake file complete; None: a temporary file.
        self.intake_mode: int | None = None
        fd = self._tail = -1
        direct_set = False
        if storage.spares.intake:
            try:
                fd, self.temp_path, self.intake_mode, self._tail, direct_set = (
                    storage.spares.take_intake()
                )
            except OSError as e:  # no intake file: a temporary file, two flushes
                log.debug("no intake file in %s: %s", storage.spares.spare_folder, e)
        if fd < 0:
            fd, self.temp_path = storage.spares.take(f".{sop_instance_uid}.", ".part")
        self._out = StagedFile(
            fd,
            storage.writer,
            direct=True,
            digest=storage.keep_digest,
            tail_fd=self._tail if self._tail >= 0 else None,
            direct_set=direct_set,
        )
        self._out.write(meta)
        self.nbytes = 0
        self.final_path: str | None = None
        self._header: Dataset | None = None  # None also when it cannot be parsed
        self._header_read = False
        self._closed_fd = False

    def header(self) -> Dataset | None:
        """The received data set (file meta included) up to its pixel data, read
        once (the archive reuses it to index): from memory when the whole file is
        still in the staging buffer, else from the file once it is written."""
        if not self._header_read:
            self._header_read = True
            staged = self._out.staged()
            if staged is not None:
                with staged:
                    self._header = _header_of_staged(staged)
                if not self.inline:  # the writer thread starts on the rest meanwhile
                    self._out.finish()
            else:
                self._out.finish()
                self._out.wait()
                self._header = _read_header(self.temp_path)
        return self._header

    async def checked_header(self) -> Dataset | None:
        """:meth:`header` for the event loop: an instance larger than the staging
        buffer is read back once written, which waits for the disk, in a worker
        thread (other associations go on meanwhile); a failed write is
        :class:`StoreRefused` (out of resources)."""
        if not self._header_read and self._out.staged_bytes() is None:
            self._header_read = True
            self._out.finish()
            loop = asyncio.get_running_loop()
            try:
                await loop.run_in_executor(None, self._out.wait)
            except OSError as e:
                raise StoreRefused(_OUT_OF_RESOURCES, f"cannot store: {e}") from e
            self._header = await loop.run_in_executor(None, _read_header, self.temp_path)
        return self.header()

    def digest(self) -> str | None:
        """The checksum of the file (:mod:`dicomfast.digest`), when the storage keeps
        them; waits for the hash, which is made after the write, off the answer's path
        (the archive's indexer calls this later)."""
        return self._out.hexdigest()

    def write(self, data: memoryview | bytes) -> None:
        self._out.write(data)
        self.nbytes += len(data)

    def close(self) -> None:
        """No more data.  What is still staged is queued for writing by the first
        of :meth:`header` (which parses it from memory first), :meth:`written` and
        :meth:`commit`; the file stays temporary until :meth:`commit`."""

    def queue_rest(self) -> None:
        """No more data: queue what is still staged for writing, without waiting."""
        self._out.finish()

    def is_written(self) -> bool:
        """Whether every byte is written (or writing failed) after :meth:`queue_rest`."""
        return self._out.is_written()

    def written(self) -> None:
        """Wait until the temporary file holds every byte (e.g. for a handler
        reading it); OSError if writing failed."""
        self._out.finish(here=self.inline)
        self._out.wait()

    def _close_fd(self) -> None:
        if not self._closed_fd:
            self._closed_fd = True
            if self._tail >= 0:
                close_intake(self._tail, -1)
            os.close(self._out.fd)

    def durable_temp(self) -> None:
        """Every byte written, an intake file marked complete, flushed to disk when
        the storage is durable, and the file closed. Blocking."""
        try:
            self.written()
            if self.intake_mode is not None:
                mark_complete(self._out.fd, self.intake_mode)
            if self.storage.fsync:
                os.fsync(self._out.fd)
        finally:
            self._close_fd()

    def commit(self, folders: set[str] | None = None) -> str:
        """fsync, then give the file its final name (never replacing one), then
        flush the folder's entries, or add the folder to ``folders`` for the caller
        to flush (a group commit flushes each folder once). Blocking."""
        self.durable_temp()
        base = os.path.join(self.storage.folder, self.sop_instance_uid)
        n = 0
        while True:
            if n == 0:
                final = f"{base}.dcm"
            elif n < 10:
                final = f"{base}_{n}.dcm"
            else:  # many copies already: stop probing, take a unique name
                final = f"{base}_{time.time_ns():x}{n}.dcm"
            if link_new(self.temp_path, final):
                break
            n += 1
        if n:
            log.warning("%s.dcm exists; stored the new instance as %s", base, final)
        try:
            os.unlink(self.temp_path)
        except FileNotFoundError:
            pass
        if folders is not None:
            folders.add(self.storage.folder)
        elif self.storage.fsync:
            self.storage.sync_folder()
        self.final_path = final
        return final

    def discard(self) -> None:
        self._out.discard()
        try:
            self._close_fd()
        except OSError:
            pass
        try:
            os.unlink(self.temp_path)
        except FileNotFoundError:
            pass


#: Where spare files are made (in the storage folder), and their names' ending.
SPARE_FOLDER = ".spares"
SPARE_SUFFIX = ".spare"


def _remove_files(files: deque[tuple[int, str]]) -> None:
    """Close and delete ``(fd, path)`` files (fd -1: only delete)."""
    while files:
        fd, path = files.popleft()
        try:
            if fd >= 0:
                os.close(fd)
        except OSError:
            pass
        try:
            os.unlink(path)
        except OSError:
            pass


class SpareFiles:
    """Empty files made ahead of need by a background thread in the folder's
    ``.spares/``, so that receiving an instance does not start with creating a
    file on the event loop: a file system's inode allocation can take a
    millisecond of kernel time (ext4 without a journal skips every inode freed
    in the last minute, e.g. after a study was deleted) and holds the folder's
    lock meanwhile.  :meth:`take` gives a spare the name asked for with a hard
    link (nothing allocated, nothing locked but the destination folder) and
    never waits: with no spare ready it creates the file itself.  The thread
    removes the spare names of taken files and makes new spares in
    ``.spares/``, never in the folder where files are named.  A spare name is
    an empty file or an extra name of a file that has its own: removing one
    never loses data, so the names a crash left are removed when the thread
    starts again, and :meth:`close` (when the server stops) removes them all."""

    def __init__(
        self, folder: str, depth: int = 2, *, intake: bool = False, flush: bool = True
    ) -> None:
        self.folder = folder
        #: Flush the intake files' folder before any is handed out (a durable storage).
        self.flush = flush
        self.spare_folder = os.path.join(folder, SPARE_FOLDER)
        self.depth = depth
        #: Make intake files (:mod:`dicomfast.net.intake`) instead of plain spares;
        #: false once the file system turned out to keep no permission bits.
        self.intake = intake
        self._ready: deque[tuple[int, str]] = deque()
        self._intakes: deque[Intake] = deque()  # names flushed already
        self._taken: deque[tuple[int, str]] = deque()  # (-1, spare name) to remove
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closing = False
        weakref.finalize(
            self, _remove_spares, self._ready, self._taken, self.spare_folder, self._intakes
        )

    def take_intake(self) -> Intake:
        """An empty intake file whose name is durable (see
        :func:`~dicomfast.net.intake.make_intake`).  With none ready, one is made
        here and its folder flushed.  :class:`~dicomfast.net.intake.IntakeUnsupported`
        (and no more intake files) where the file system keeps no permission bits."""
        try:
            got = self._intakes.popleft()
        except IndexError:
            self._refill()
            os.makedirs(self.spare_folder, exist_ok=True)
            try:
                got = make_intake(self.spare_folder, direct=True)
            except IntakeUnsupported:
                self.intake = False
                raise
            if self.flush:
                fsync_path(self.spare_folder)
            return got
        if len(self._intakes) <= self.depth // 2:
            self._refill()
        return got

    def take(self, prefix: str, suffix: str) -> tuple[int, str]:
        """A new empty file ``<folder>/<prefix><random><suffix>``, opened for
        reading and writing: ``(fd, path)`` (as :func:`~dicomfast.tempfiles.create_temp`)."""
        try:
            fd, spare = self._ready.popleft()
        except IndexError:
            self._refill()
            return create_temp(self.folder, prefix, suffix)
        name = os.path.basename(spare)[: -len(SPARE_SUFFIX)]
        path = os.path.join(self.folder, f"{prefix}{name}{suffix}")
        try:
            if not link_new(spare, path):  # the random part makes a clash all but impossible
                raise FileExistsError(path)
        except OSError:
            _remove_files(deque([(fd, spare)]))
            fd, path = create_temp(self.folder, prefix, suffix)
        else:
            self._taken.append((-1, spare))
        if len(self._ready) <= self.depth // 2:  # the thread wakes for half the spares at once
            self._refill()
        return fd, path

    def _refill(self) -> None:
        if self.depth <= 0:
            return
        with self._wake:
            if self._thread is None:
                self._closing = False
                self._thread = threading.Thread(
                    target=self._keep, name="storage-spares", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def _keep(self) -> None:
        """The refilling thread, until :meth:`close`."""
        try:
            os.makedirs(self.spare_folder, exist_ok=True)
            for f in os.listdir(self.spare_folder):  # left by a crash
                if f.endswith(SPARE_SUFFIX):
                    _remove_files(deque([(-1, os.path.join(self.spare_folder, f))]))
        except OSError as e:
            log.debug("no spare files in %s: %s", self.spare_folder, e)
            return
        while True:
            with self._wake:
                while (
                    not self._closing
                    and not self._taken
                    and len(self._intakes if self.intake else self._ready) >= self.depth
                ):
                    self._wake.wait()
                if self._closing:
                    return
            _remove_files(self._taken)
            try:
                if self.intake:
                    self._make_intakes()
                while not self.intake and len(self._ready) < self.depth and not self._closing:
                    self._ready.append(create_temp(self.spare_folder, "", SPARE_SUFFIX))
            except OSError as e:  # e.g. a full disk: take() creates (and reports) the file
                log.debug("no spare file in %s: %s", self.spare_folder, e)
                with self._wake:
                    self._wake.wait(1.0)

    def _make_intakes(self) -> None:
        """Refilling thread: intake files up to ``depth``, their names flushed (one
        flush for the batch) before any is handed out."""
        made: list[Intake] = []
        try:
            while len(self._intakes) + len(made) < self.depth and not self._closing:
                made.append(make_intake(self.spare_folder, direct=True))
        except IntakeUnsupported as e:
            log.warning("%s: received instances take two flushes each", e)
            self.intake = False
        finally:
            if made:
                try:
                    if self.flush:
                        fsync_path(self.spare_folder)
                except OSError:
                    # Names not known durable are never handed out: closed and removed
                    # (empty, never used), not leaked; the thread tries again later.
                    for got in made:
                        close_intake(got.fd, got.tail)
                        with contextlib.suppress(OSError):
                            os.unlink(got.path)
                    raise
                self._intakes.extend(made)

    def close(self) -> None:
        """Stop making spares and remove every spare name (a later :meth:`take`
        starts again).  Intake files handed out are their takers' to remove."""
        with self._wake:
            thread, self._thread = self._thread, None
            self._closing = True
            self._wake.notify_all()
        if thread is not None:
            thread.join(5)
        _remove_spares(self._ready, self._taken, self.spare_folder, self._intakes)


def _remove_spares(
    ready: deque[tuple[int, str]],
    taken: deque[tuple[int, str]],
    spare_folder: str,
    intakes: deque[Intake],
) -> None:
    """Remove every spare name (intake files not handed out: empty, never used) and,
    when nothing else is in it, the spares' folder."""
    _remove_files(taken)
    _remove_files(ready)
    while intakes:
        unused = intakes.popleft()
        close_intake(unused.fd, unused.tail)
        _remove_files(deque([(-1, unused.path)]))
    try:
        os.rmdir(spare_folder)
    except OSError:
        pass


class FileStorage:
    """A folder receiving instances (see the module docstring for the rules)."""

    def __init__(
        self, folder: str | os.PathLike[str], *, fsync: bool = True, intake: bool = False
    ) -> None:
        """``intake``: an instance is answered once written to an intake file (and
        flushed, once, when ``fsync``) and named afterwards by the subclass's commit
        (see :mod:`dicomfast.net.intake`); only for a storage that recovers intake
        files when it opens."""
        self.folder = os.path.abspath(os.fspath(folder))
        self.fsync = fsync
        #: Whether sinks keep the checksum of what they write (an archive indexes it).
        self.keep_digest = False
        os.makedirs(self.folder, exist_ok=True)
        self.spares = SpareFiles(self.folder, depth=8, intake=intake, flush=fsync)
        self.writer = ChunkWriter()
        self.committer: GroupCommitter[FileSink] = GroupCommitter(
            self.commit_group, self.writer.submit, FileSink.is_written
        )

    async def commit_in_group(self, sink: FileSink) -> str:
        """:meth:`FileSink.commit`, by the writer thread once the file is written,
        with the other instances waiting then (see :mod:`dicomfast.net.commit_group`)."""
        sink.queue_rest()
        path: str = await self.committer.commit(sink)
        return path

    def commit_now(self, sink: FileSink) -> str:
        """:meth:`FileSink.commit` on this thread, its last bytes written here too
        (``sink.inline``): blocking, for the Storage SCP's event loop when the
        association is alone on the server with a window of one, whose sender waits
        for this answer before anything else, so that the instance is not handed to
        the writer thread and back (two thread wake-ups, about 0.3 ms of a 0.5 MB
        instance's 2.5 ms on this project's VM)."""
        result = self.commit_group([sink])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def commit_group(self, sinks: list[FileSink]) -> list[str | Exception]:
        """Commit ``sinks`` (files fsync'd, named), then flush each of their folders
        once: the final path of each, or the exception its commit raised."""
        folders: set[str] = set()
        results: list[str | Exception] = []
        for sink in sinks:
            try:
                results.append(sink.commit(folders))
            except Exception as e:  # noqa: BLE001 - handed to that sink's waiter
                results.append(e)
        if self.fsync:
            for folder in sorted(folders):
                fsync_path(folder)
        return results

    def close(self) -> None:
        """Finish queued writes and commits, stop their thread, remove the spare
        files (the storage can still be used: both start again on demand)."""
        self.writer.close()
        self.spares.close()

    def open(
        self,
        sop_class_uid: str,
        sop_instance_uid: str,
        transfer_syntax: str,
        source_ae_title: str | None = None,
    ) -> FileSink:
        if not is_valid_uid(sop_instance_uid):
            raise ValueError(f"invalid SOP Instance UID {sop_instance_uid!r}")
        meta = file_meta(sop_class_uid, sop_instance_uid, transfer_syntax, source_ae_title)
        return FileSink(self, sop_instance_uid, meta)

    def sync_folder(self) -> None:
        fsync_path(self.folder)

    def partial_files(self) -> list[str]:
        """Temporary files of transfers in progress (or of a crashed server)."""
        return sorted(f for f in os.listdir(self.folder) if f.endswith(".part"))
