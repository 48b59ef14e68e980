"""Acknowledged instances named in groups, off the answer's path and out of the way
of the instances still coming.

A durable Storage SCP writing to an archive answers Success once an instance
is flushed to its intake file (:mod:`dicomfast.net.intake`).  The
:class:`Placer` then gives it its final name ``<study>/<series>/<uid>.dcm``
(the archive's duplicate policy applies) and queues its row for indexing, in
groups of at most :data:`GROUP`, each group's folders flushed once, and only
then are their intake names removed: at every moment an acknowledged instance
has a durable name, and a stop anywhere leaves it where
:meth:`Archive.recover_intake <dicomfast.archive.store.Archive.recover_intake>`
finds it.

**When.** Naming and indexing cost about 0.3 ms of processor time an instance
(Python, SQL, system calls, the GIL).  Done while a sender streams, they share
the processor and the GIL with the event loop receiving it, and every answer
waits longer: on this project's 2-core VM, 1,200 CT images from DCMTK's
``storescu`` took 1.84-1.89 s with groups placed every 20 ms, against
1.41-1.44 s with the placing after the last answer.  So instances wait while
others keep coming: a group is placed once no instance was acknowledged for
:data:`QUIET` seconds (a sender finished, or pauses), or once :data:`MAX_WAITING`
are waiting, or once the oldest has waited :data:`MAX_AGE` seconds (a sender that
never pauses: the waiting is bounded in instances, in memory (each keeps its
header, a few KiB) and in time); a new instance in between stops the placing
after its current group, until one of those holds again.  :meth:`Placer.flush`
(called by :meth:`Archive.flush <dicomfast.archive.store.Archive.flush>`, so
before every query, retrieval, commitment and DICOMweb read) places everything
waiting at once, and so does :meth:`Placer.close`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING

from ..tempfiles import fsync_path

if TYPE_CHECKING:
    from .netstorage import ArchiveSink
    from .store import Archive

log = logging.getLogger("dicomfast.archive")

#: Seconds without a newly acknowledged instance before the waiting ones are placed.
QUIET = 0.1
#: Instances waiting that are placed at once, new ones coming or not.
MAX_WAITING = 2048
#: Seconds the oldest waiting instance waits at most, new ones coming or not.
MAX_AGE = 5.0
#: The most instances placed as one group (their folders flushed once).
GROUP = 256


class Placer:
    """A thread placing the intake files of acknowledged instances in ``archive``
    (when: see the module's text)."""

    def __init__(
        self,
        archive: Archive,
        *,
        quiet: float = QUIET,
        max_waiting: int = MAX_WAITING,
        max_age: float = MAX_AGE,
        group: int = GROUP,
    ) -> None:
        self.archive = archive
        self.quiet = quiet
        self.max_waiting = max(1, max_waiting)
        self.max_age = max_age
        self.group = max(1, group)
        #: (sink, its future, when it was submitted), oldest first.
        self._pending: list[tuple[ArchiveSink, Future[str], float]] = []
        self._last = 0.0  # when the newest pending instance came
        self._busy = 0  # groups being placed
        self._hurry = 0  # flushes waiting
        self._closing = False
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(self, sink: ArchiveSink) -> Future[str]:
        """Queue a durable intake file (``sink.temp_path``, its header and digest on
        ``sink``); the future's result is its final path (or the error that kept it
        in its intake file)."""
        fut: Future[str] = Future()
        now = time.monotonic()
        with self._cond:
            self._pending.append((sink, fut, now))
            self._last = now
            if self._thread is None:
                self._closing = False
                self._thread = threading.Thread(
                    target=self._run, name="dicomfast-placer", daemon=True
                )
                self._thread.start()
            if len(self._pending) == 1 or len(self._pending) >= self.max_waiting:
                self._cond.notify_all()
        return fut

    @property
    def waiting(self) -> int:
        """How many acknowledged instances wait to be placed."""
        with self._cond:
            return len(self._pending)

    def flush(self) -> None:
        """Place every instance submitted so far; returns when they are placed."""
        with self._cond:
            if not self._pending and not self._busy:
                return
            self._hurry += 1
            self._cond.notify_all()
            try:
                while self._pending or self._busy:
                    self._cond.wait()
            finally:
                self._hurry -= 1

    def close(self) -> None:
        """Place what is pending and stop the thread (a later submit starts it again)."""
        with self._cond:
            thread, self._thread = self._thread, None
            self._closing = True
            self._cond.notify_all()
        if thread is not None:
            thread.join()

    def _wait_left(self, now: float) -> float:
        """0 if a group is to be placed now, else the seconds until one may be (the
        caller holds the lock; something is pending)."""
        if self._hurry or self._closing or len(self._pending) >= self.max_waiting:
            return 0.0
        return max(0.0, min(self._last + self.quiet, self._pending[0][2] + self.max_age) - now)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    self._cond.wait()
                if not self._pending:
                    return
                while (left := self._wait_left(time.monotonic())) > 0:
                    self._cond.wait(left)
                # the oldest group; then the rule is asked again (an instance that
                # came meanwhile ends a quiet, and the placing waits for the next)
                batch = [(sink, fut) for sink, fut, _ in self._pending[: self.group]]
                del self._pending[: self.group]
                self._busy += 1
            try:
                self._place(batch)
            except Exception as e:  # noqa: BLE001 - the thread must live on (or flush() hangs)
                # Not expected (_place handles what it knows): whatever was not
                # settled stays in its intake file, durable, placed when the
                # storage next starts; its waiters learn why.
                log.exception("placing %d acknowledged instance(s) failed", len(batch))
                for _sink, fut in batch:
                    if not fut.done():
                        fut.set_exception(e)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _place(self, batch: list[tuple[ArchiveSink, Future[str]]]) -> None:
        folders: set[str] = set()
        done: list[tuple[ArchiveSink, Future[str], str]] = []
        for sink, fut in batch:
            try:
                res = self.archive.ingest_temp(
                    sink.temp_path,
                    header=sink.header(),
                    synced=True,
                    digest=sink.digest,
                    folders=folders,
                    keep_temp=True,
                )
            except Exception as e:  # noqa: BLE001 - the file stays; its waiter learns why
                fut.set_exception(e)
                continue
            sink.result = res
            if res.ok and res.path is not None:
                sink.final_path = res.path
                done.append((sink, fut, res.path))
            else:
                log.error(
                    "acknowledged instance %s kept in %s: %s",
                    sink.sop_instance_uid,
                    sink.temp_path,
                    res.comment,
                )
                fut.set_exception(OSError(f"not placed: {res.comment}"))
        unflushed = False
        if self.archive.fsync:
            for folder in sorted(folders):
                try:
                    fsync_path(folder)
                except OSError as e:
                    # The new names may not survive a crash: the intake names (durable)
                    # stay, and the next start finds each already placed (the same
                    # file under its final name) and only removes them.
                    log.error("flushing %s failed (%s): intake names kept", folder, e)
                    unflushed = True
        for sink, fut, path in done:
            if unflushed:
                fut.set_result(path)
                continue
            try:
                os.unlink(sink.temp_path)
            except FileNotFoundError:  # a duplicate keep-first dropped
                pass
            except OSError as e:
                log.warning("intake name %s not removed: %s", sink.temp_path, e)
            fut.set_result(path)
