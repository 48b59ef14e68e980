"""The in-process phase of a run on threads (``run_tasks(..., threads=True)``, used by
``convert`` and ``export``): every item answered once, the input taken lazily, the
switch to the process pool leaving the rest of the stream untouched."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import pytest
from dicomfast.batch import runner


def _slow_identity(item: Any) -> dict[str, Any]:
    time.sleep(0.002)  # outside the GIL, as the codecs' work is
    return {"src": str(item), "status": "converted", "thread": threading.current_thread().name}


def test_every_item_once_on_several_threads() -> None:
    recs = list(runner._run_threads(_slow_identity, iter(range(101)), 3))
    assert sorted(int(r["src"]) for r in recs) == list(range(101))
    names = {r["thread"] for r in recs}
    assert len(names) > 1 and all(n.startswith("dicomfast-file") for n in names)


def test_one_thread_is_the_inline_run() -> None:
    recs = list(runner._run_threads(_slow_identity, iter(range(5)), 1))
    assert [r["src"] for r in recs] == ["0", "1", "2", "3", "4"]
    assert {r["thread"] for r in recs} == {threading.current_thread().name}


def test_until_stops_taking_items_and_leaves_the_rest() -> None:
    """Once ``until()`` is true no item is taken; those in flight still answer."""
    it = iter(range(1000))
    answered = 0

    def until() -> bool:
        nonlocal answered
        answered += 1
        return answered >= 10

    recs = list(runner._run_threads(_slow_identity, it, 2, until=until))
    got = sorted(int(r["src"]) for r in recs)
    assert got == list(range(len(got)))  # nothing skipped
    assert 10 <= len(got) <= 10 + 2 * 2  # at most two per thread were in flight
    assert next(it) == len(got)  # the rest of the stream untouched, for the pool


def test_input_taken_lazily_and_close_cancels() -> None:
    stream = itertools.count()  # endless: only what is asked for may be taken
    gen = runner._run_threads(_slow_identity, stream, 2)
    got = [int(next(gen)["src"]) for _ in range(20)]
    assert len(set(got)) == 20
    gen.close()  # waits for those in flight, starts no other
    assert next(stream) <= 20 + 2 * 2  # at most two per thread taken ahead


def test_run_tasks_threads_answers_every_item(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the adaptive run (no pool: a short stream stays in this process)."""
    monkeypatch.setattr(runner, "POOL_MIN_SECONDS", 1e9)
    runner.shutdown_pool()  # a pool kept warm by an earlier test would take the run at once
    recs = list(runner.run_tasks(_slow_identity, iter(range(60)), workers=2, threads=True))
    assert sorted(int(r["src"]) for r in recs) == list(range(60))
    assert {r["thread"] for r in recs} <= {"dicomfast-file_0", "dicomfast-file_1"}


def test_an_exception_is_raised_to_the_consumer() -> None:
    """A task must not raise; if one does, the run says so instead of losing it."""

    def boom(item: Any) -> dict[str, Any]:
        if item == 7:
            raise RuntimeError("task 7")
        return _slow_identity(item)

    with pytest.raises(RuntimeError, match="task 7"):
        list(runner._run_threads(boom, iter(range(20)), 2))
