"""Deferred indexing with group commit: how the Storage SCP ingests instances.

:meth:`Archive.ingest_temp <dicomfast.archive.store.Archive.ingest_temp>` makes
a received instance durable under its final name (temporary file fsync'd,
linked into ``<study>/<series>/<instance>.dcm`` without ever replacing a file
unless the policy is ``replace``, folder fsync'd) and hands it to the
archive's :class:`Indexer`; the C-STORE success is answered at that point.
The indexer thread takes what has queued up and indexes it in **one**
transaction (group commit: one commit for a burst of instances from any
number of associations instead of one per instance), then applies the
duplicate policy to instances whose SOP Instance UID was already indexed
under another path.

Why this keeps the archive's promises:

* nothing acknowledged is lost: the file is durable before the answer, and a
  crash before its row commits leaves a complete file without a row, which
  :meth:`Archive.check(repair=True) <dicomfast.archive.store.Archive.check>`
  (run by ``dicomfast serve`` on start) indexes — the same repair that covers
  SQLite's ``synchronous=NORMAL`` losing the last commits on a power cut;
* readers in the process see every acknowledged instance: the archive's
  queries (:meth:`~dicomfast.archive.store.Archive.find`,
  ``instances_for``, ``count``, ``check``, ``delete``, ``reindex``) first wait
  for the indexer to drain (:meth:`Indexer.flush`);
* the queue is bounded: when the index falls behind, ingest waits (back
  pressure) instead of holding unbounded work in memory.

A batch that fails as a whole (database unavailable, a constraint race) is
retried one instance per transaction; an instance that still cannot be indexed
is logged and left for ``check --repair``: its file stays where it is.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("dicomfast.archive")

#: Most instances indexed in one transaction.
MAX_BATCH = 256
#: Most instances waiting to be indexed before ingest waits for the indexer.
MAX_QUEUED = 1024
#: Seconds a batch may wait for more instances before it is indexed (unless flushed).
GATHER = 0.05


@dataclass
class IndexJob:
    """A placed file to index: its path relative to the storage folder, and
    a callable building its :class:`~dicomfast.archive.index.Record`."""

    rel: str
    sop_instance_uid: str
    build: Callable[[], Any]


class Indexer:
    """A daemon thread indexing :class:`IndexJob` batches with ``index_batch``
    (called with a list of jobs, one transaction; it raises to make the
    indexer retry the jobs one by one)."""

    def __init__(
        self,
        index_batch: Callable[[Sequence[IndexJob]], None],
        *,
        max_batch: int = MAX_BATCH,
        max_queued: int = MAX_QUEUED,
        gather: float = GATHER,
        name: str = "dicomfast-indexer",
    ) -> None:
        self._index_batch = index_batch
        self._max_batch = max_batch
        self._max_queued = max_queued
        self._queue: deque[IndexJob] = deque()
        self._cond = threading.Condition()
        self._submitted = 0
        self._done = 0
        self._closing = False
        self._flushing = 0
        self._gather = gather
        self.failed = 0  # jobs that could not be indexed (left for check --repair)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, job: IndexJob) -> None:
        with self._cond:
            while len(self._queue) >= self._max_queued and not self._closing:
                self._cond.wait()
            if self._closing:
                raise RuntimeError("the archive's indexer is closed")
            self._queue.append(job)
            self._submitted += 1
            self._cond.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every job submitted before this call is indexed (or given up
        on); False if ``timeout`` seconds passed first."""
        with self._cond:
            target = self._submitted
            if self._done >= target:
                return True
            self._flushing += 1
            self._cond.notify_all()
            try:
                return self._cond.wait_for(lambda: self._done >= target, timeout)
            finally:
                self._flushing -= 1

    @property
    def pending(self) -> int:
        with self._cond:
            return self._submitted - self._done

    def close(self) -> None:
        """Index what is queued, then stop the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closing)
                if not self._queue:
                    return  # closing and drained
                # Group commit: let a burst gather (nobody waits for the rows unless
                # flush() asks, which ends the wait at once).
                self._cond.wait_for(
                    lambda: len(self._queue) >= self._max_batch or self._flushing or self._closing,
                    self._gather,
                )
                n = min(len(self._queue), self._max_batch)
                batch = [self._queue.popleft() for _ in range(n)]
                self._cond.notify_all()  # room in the queue
            self._index(batch)
            with self._cond:
                self._done += len(batch)
                self._cond.notify_all()

    def _index(self, batch: list[IndexJob]) -> None:
        try:
            self._index_batch(batch)
            return
        except Exception as e:  # noqa: BLE001 - retried one by one below
            if len(batch) == 1:
                self._give_up(batch[0], e)
                return
            log.warning("indexing a batch of %d failed (%s): one by one", len(batch), e)
        for job in batch:
            try:
                self._index_batch([job])
            except Exception as e:  # noqa: BLE001 - logged; check --repair indexes it later
                self._give_up(job, e)

    def _give_up(self, job: IndexJob, error: BaseException) -> None:
        self.failed += 1
        log.error(
            "cannot index %s (%s): the file is stored; `dicomfast archive check --repair` "
            "indexes it",
            job.rel,
            error,
        )
