"""The one timing rule of dicomfast's benchmarks: contenders are called in turn
(ours, theirs, ours, ...) on the same input, so that a change in the machine's
speed during the run (other tenants, clock changes: seen here as runs 30% apart)
weighs on all of them alike.  ``bench/benchrace.py`` and ``dicomfast bench`` both
time with these functions."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping


def alternate(
    calls: Mapping[str, Callable[[], object]],
    *,
    rounds: int = 3,
    min_time: float = 0.0,
    max_rounds: int | None = None,
    warmup: int = 0,
) -> dict[str, list[float]]:
    """Seconds of every call of each of ``calls``, made in turn (in the mapping's
    order, one call each per round).  ``warmup`` untimed rounds first; then at least
    ``rounds`` timed rounds, and more while less than ``min_time`` seconds have passed
    since the first timed round, up to ``max_rounds``."""
    for _ in range(warmup):
        for fn in calls.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in calls}
    limit = max(rounds, max_rounds if max_rounds is not None else rounds)
    start = time.perf_counter()
    done = 0
    while done < rounds or (time.perf_counter() - start < min_time and done < limit):
        for name, fn in calls.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
        done += 1
    return times


def time_alternating(
    ours: Callable[[], object],
    theirs: Callable[[], object],
    min_time: float = 0.5,
    max_rounds: int = 50,
) -> tuple[float, float]:
    """Median seconds per call of ``ours`` and of ``theirs``, called in turn (ours,
    theirs, ours, ...): at least 3 rounds, more until ``min_time`` has passed (at most
    ``max_rounds``)."""
    t = alternate(
        {"ours": ours, "theirs": theirs}, rounds=3, min_time=min_time, max_rounds=max_rounds
    )
    return statistics.median(t["ours"]), statistics.median(t["theirs"])


__all__ = ["alternate", "time_alternating"]
