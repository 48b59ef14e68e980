"""``race()``: time dicomfast and its competitors on the same input in the
same run, and collect the ratios that ``pytest`` prints at the end."""

from __future__ import annotations

from collections.abc import Callable

from dicomfast.benchmark.timing import time_alternating

RESULTS: list[str] = []

__all__ = ["RESULTS", "race", "time_alternating"]


def race(
    benchmark,  # noqa: ANN001
    name: str,
    ours: Callable[[], object],
    theirs: dict[str, Callable[[], object]],
    *,
    nbytes: int | None = None,
    target: float | None = None,
    beside: dict[str, Callable[[], object]] | None = None,
) -> dict[str, float]:
    """Benchmark ``ours`` with pytest-benchmark, then time it again in turn with each
    competitor (same clock, alternating calls); record ``competitor_time /
    our_time`` from the alternating medians for each.  ``beside``: variants of ours
    (another option, say) timed and printed the same way, not held to ``target``."""
    benchmark.pedantic(ours, rounds=1, iterations=1) if benchmark.disabled else benchmark(ours)
    if benchmark.disabled:
        for fn in [*theirs.values(), *(beside or {}).values()]:
            fn()  # smoke: the competitor still runs on the same input
        return {}
    t_ours = benchmark.stats.stats.median
    ratios = {}
    parts = [f"dicomfast {t_ours * 1e3:.2f} ms"]
    if nbytes:
        parts[0] += f" ({nbytes / t_ours / 1e6:.0f} MB/s)"
    for label, fn in theirs.items():
        # At least 1 s of rounds, up to 400: a sub-millisecond call's median is then of
        # hundreds of calls, not 50 (one noisy stretch of the VM moved it by 3-5%).
        mine, t = time_alternating(ours, fn, min_time=1.0, max_rounds=400)
        ratios[label] = t / mine
        parts.append(
            f"{label} {t * 1e3:.2f} ms (ours beside it {mine * 1e3:.2f}) -> {t / mine:.1f}x"
        )
        benchmark.extra_info[f"{label}_seconds"] = t
        benchmark.extra_info[f"ratio_vs_{label}"] = t / mine
    for label, fn in (beside or {}).items():
        mine, t = time_alternating(ours, fn)
        parts.append(f"{label} {t * 1e3:.2f} ms (ours beside it {mine * 1e3:.2f})")
        benchmark.extra_info[f"{label}_seconds"] = t
    verdict = ""
    if target is not None and ratios:
        best = min(ratios.values())
        verdict = f"  [target {target}x: {'met' if best >= target else 'MISSED'}]"
    RESULTS.append(f"{name}: " + ", ".join(parts) + verdict)
    return ratios
