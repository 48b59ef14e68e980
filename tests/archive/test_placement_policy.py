"""Issue 16: when the Placer names acknowledged instances (``archive/placement.py``).

Naming and indexing wait while instances keep coming (they would share the
processor and the GIL with the event loop receiving them): a group is placed
once no instance came for ``quiet`` seconds, once ``max_waiting`` wait, or once
the oldest waited ``max_age`` seconds; a flush (every query) and a close place
everything at once.  The placing itself is replaced here by a recorder: what is
checked is when, and how many.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Any

from archutil import wait_until
from dicomfast.archive.placement import Placer


class _Recorder(Placer):
    def __init__(self, **kw: Any) -> None:
        super().__init__(None, **kw)  # type: ignore[arg-type]
        self.groups: list[tuple[float, int]] = []
        self.lock = threading.Lock()

    def _place(self, batch: list[tuple[Any, Future[str]]]) -> None:
        with self.lock:
            self.groups.append((time.monotonic(), len(batch)))
        for sink, fut in batch:
            fut.set_result(str(sink))

    def add(self, *names: str) -> None:
        """Submit a stand-in sink per name (the recorder only passes it back)."""
        for name in names:
            self.submit(name)  # type: ignore[arg-type]

    def placed(self) -> int:
        with self.lock:
            return sum(n for _, n in self.groups)


def test_nothing_is_placed_while_instances_keep_coming_then_all_once_quiet() -> None:
    p = _Recorder(quiet=0.15, max_waiting=10_000, max_age=60.0, group=64)
    try:
        futs = []
        last = 0.0
        for k in range(60):  # one every 10 ms for 0.6 s: never 0.15 s without one
            last = time.monotonic()  # no later than the placer's own clock of it
            futs.append(p.submit(f"i{k}"))  # type: ignore[arg-type]
            time.sleep(0.01)
            assert p.placed() == 0, k
        assert wait_until(lambda: p.placed() == 60)
        # after the quiet from the last submit, not before (a 10 ms margin for the clocks)
        assert p.groups[0][0] - last >= 0.14
        assert [f.result(0) for f in futs] == [f"i{k}" for k in range(60)]
        assert p.waiting == 0
    finally:
        p.close()


def test_a_new_instance_stops_the_placing_after_the_current_group() -> None:
    """Placing for a quiet moment goes group by group and asks again between
    groups: an instance that came meanwhile makes it wait for the next quiet."""
    gate = threading.Event()

    class Slow(_Recorder):
        def _place(self, batch: list[tuple[Any, Future[str]]]) -> None:
            gate.wait(10)
            super()._place(batch)

    p = Slow(quiet=0.2, max_waiting=10_000, max_age=60.0, group=10)
    try:
        p.add(*(f"i{k}" for k in range(30)))
        assert wait_until(lambda: p._busy == 1)  # the first group of 10 is being placed
        p.add("late")
        gate.set()
        assert wait_until(lambda: p.placed() == 10)
        time.sleep(0.1)  # within the new quiet period: no second group yet
        assert p.placed() == 10
        assert wait_until(lambda: p.placed() == 31)  # once quiet again, the rest
    finally:
        gate.set()
        p.close()


def test_max_waiting_places_at_once_while_instances_keep_coming() -> None:
    p = _Recorder(quiet=60.0, max_waiting=50, max_age=60.0, group=20)
    try:
        p.add(*(f"i{k}" for k in range(49)))
        time.sleep(0.1)
        assert p.placed() == 0
        p.add("i49")  # the 50th
        # groups of 20 until fewer than 50 wait: one group, then the rule holds no more
        assert wait_until(lambda: p.placed() >= 20)
        time.sleep(0.1)
        assert p.placed() == 20 and p.waiting == 30
    finally:
        p.close()
    assert p.placed() == 50  # close places what waits


def test_max_age_bounds_the_wait_of_a_sender_that_never_pauses() -> None:
    p = _Recorder(quiet=60.0, max_waiting=10_000, max_age=0.3, group=1000)
    try:
        first = time.monotonic()
        p.add("old")
        # one every 10 ms, never 60 s without one: only the age can start the placing
        while not p.groups and time.monotonic() - first < 10:
            p.add("new")
            time.sleep(0.01)
        assert p.groups, "the oldest waited past max_age and was not placed"
        assert p.groups[0][0] - first >= 0.28  # not before its age
    finally:
        p.close()


def test_flush_places_everything_at_once() -> None:
    p = _Recorder(quiet=60.0, max_waiting=10_000, max_age=60.0, group=7)
    try:
        p.add(*(f"i{k}" for k in range(25)))
        t = time.monotonic()
        p.flush()
        assert time.monotonic() - t < 5
        assert p.placed() == 25 and p.waiting == 0
        assert [n for _, n in p.groups] == [7, 7, 7, 4]
    finally:
        p.close()
