"""Group commit: one thread makes the received instances that wait together durable.

A durable Storage SCP answers Success only once an instance's file is flushed
and named and the name flushed too.  When the sender keeps a window of
requests open, several instances wait for that at once; one thread takes them
all, commits each (its file flushed, then named) and flushes each folder once
for the group, instead of a thread per instance each flushing the folder.  One
thread also leaves the event loop fewer threads to share the interpreter with:
every system call the loop makes is a chance for another thread to take it.
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
    one thread for everything submitted while it was busy."""

    def __init__(self, commit_group: Callable[[list[_S]], Sequence[Any]]) -> None:
        self._commit_group = commit_group
        self._pending: list[tuple[_S, Future[Any]]] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closing = False

    async def commit(self, item: _S) -> Any:
        """Commit ``item`` with whatever else is waiting; its result (or raise its error)."""
        return await asyncio.wrap_future(self.submit(item))

    def submit(self, item: _S) -> Future[Any]:
        fut: Future[Any] = Future()
        with self._wake:
            self._pending.append((item, fut))
            if self._thread is None:
                self._closing = False
                self._thread = threading.Thread(
                    target=self._run, name="storage-commit", daemon=True
                )
                self._thread.start()
            self._wake.notify()
        return fut

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._closing:
                    self._wake.wait()
                if not self._pending:
                    return
                group = self._pending[:MAX_GROUP]
                del self._pending[:MAX_GROUP]
            try:
                results = list(self._commit_group([item for item, _ in group]))
            except Exception as e:  # noqa: BLE001 - every waiter of the group learns it
                results = [e] * len(group)
            for (_, fut), result in zip(group, results, strict=True):
                if isinstance(result, Exception):
                    fut.set_exception(result)
                else:
                    fut.set_result(result)

    def close(self) -> None:
        """Commit what is waiting, then stop the thread (a later submit starts it again)."""
        with self._wake:
            thread, self._thread = self._thread, None
            self._closing = True
            self._wake.notify_all()
        if thread is not None:
            thread.join()
