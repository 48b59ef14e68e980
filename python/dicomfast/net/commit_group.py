"""Group commit: the received instances that wait together are made durable together.

A durable Storage SCP answers Success only once an instance's file is flushed
and named and the name flushed too.  When the sender keeps a window of
requests open, several instances wait for that at once; one task takes them
all, commits each (its file flushed, then named) and flushes each folder once
for the group, instead of a thread per instance each flushing the folder.

The task runs on the storage's writer thread (:mod:`dicomfast.net.chunk_writer`),
queued behind the writes of the files it commits: no thread of its own, so the
event loop hands an instance over once (its last bytes and its commit) and
shares the interpreter with one thread fewer.  A task finding an instance whose
last bytes are still queued leaves it to a task queued after them.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

_S = TypeVar("_S")

#: The most instances committed as one group.
MAX_GROUP = 64


class GroupCommitter(Generic[_S]):
    """``commit_group(items)`` (a result, or the exception raised, per item) run by
    ``schedule`` (a one-thread FIFO executor's ``submit``) for every item ``ready``
    says is written, among those submitted while the last task was queued."""

    def __init__(
        self,
        commit_group: Callable[[list[_S]], Sequence[Any]],
        schedule: Callable[[Callable[[], None]], object],
        ready: Callable[[_S], bool],
    ) -> None:
        self._commit_group = commit_group
        self._schedule = schedule
        self._ready = ready
        self._pending: list[tuple[_S, Future[Any]]] = []
        self._lock = threading.Lock()
        self._queued = False  # a task is queued that will look at _pending

    async def commit(self, item: _S) -> Any:
        """Commit ``item`` with whatever else is waiting; its result (or raise its error)."""
        return await asyncio.wrap_future(self.submit(item))

    def submit(self, item: _S) -> Future[Any]:
        """Queue ``item`` (whose last bytes are queued for writing already)."""
        fut: Future[Any] = Future()
        with self._lock:
            self._pending.append((item, fut))
            queue, self._queued = not self._queued, True
        if queue:
            self._schedule(self._run)
        return fut

    def _run(self) -> None:
        """Writer thread: commit the written items waiting, a group at a time."""
        while True:
            with self._lock:
                group = [p for p in self._pending if self._ready(p[0])][:MAX_GROUP]
                taken = {id(fut) for _, fut in group}
                self._pending = [p for p in self._pending if id(p[1]) not in taken]
                if not group:
                    # Items not written yet have their writes queued before a new task.
                    self._queued = bool(self._pending)
                    if self._queued:
                        self._schedule(self._run)
                    return
            try:
                results = list(self._commit_group([item for item, _ in group]))
            except Exception as e:  # noqa: BLE001 - every waiter of the group learns it
                results = [e] * len(group)
            for (_, fut), result in zip(group, results, strict=True):
                if isinstance(result, Exception):
                    fut.set_exception(result)
                else:
                    fut.set_result(result)
