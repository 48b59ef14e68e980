"""Run the tasks: for each, build every contender's job, check its result equal to
ours (untimed; this first call is also the warm-up), then time all that agree in
interleaved rounds (ours, A, B, ours, A, B, ...) and summarise."""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import sys
import traceback
from collections.abc import Callable
from typing import Any

from . import registry
from .compare import first_difference, same
from .registry import REFERENCE, TASKS, Skip, Unsupported
from .timing import alternate
from .workload import Workload

#: version of the JSON document's layout
FORMAT = 1


def _quartiles(times: list[float]) -> tuple[float, float]:
    if len(times) < 2:
        return times[0], times[0]
    q = statistics.quantiles(times, n=4, method="inclusive")
    return q[0], q[2]


def _row(name: str, status: str, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "contender": name,
        "status": status,
        "reason": "",
        "kind": "",
        "how": "",
        "version": None,
    }
    row.update(kw)
    return row


def _stats(times: list[float], nfiles: int, nbytes: int) -> dict[str, Any]:
    med = statistics.median(times)
    q1, q3 = _quartiles(times)
    return {
        "times_s": times,
        "median_s": med,
        "q1_s": q1,
        "q3_s": q3,
        "min_s": min(times),
        "max_s": max(times),
        "files_per_s": nfiles / med if med > 0 else None,
        "mb_per_s": nbytes / med / 1e6 if med > 0 else None,
    }


def run_task(
    task: str,
    workload: Workload,
    against: list[str],
    *,
    rounds: int,
    warmup: int,
    log: Callable[[str], None] = lambda s: None,
) -> dict[str, Any]:
    """One task's section of the report (see :func:`run`)."""
    table = registry.contenders()
    files = workload.files_for(task)
    nbytes = workload.nbytes_for(task) if files else 0
    section: dict[str, Any] = {
        "files": len(files),
        "bytes": nbytes,
        "compared_on": TASKS[task],
        "reference": REFERENCE,
        "results": [],
    }
    results: list[dict[str, Any]] = section["results"]
    if not files:
        section["note"] = "no file for this task"
        return section
    jobs: dict[str, registry.Job] = {}
    wanted = [REFERENCE] + [n for n in dict.fromkeys(against) if n != REFERENCE]
    ours_result: Any = None
    try:
        for name in wanted:
            c = table.get(name)
            if c is None:
                results.append(_row(name, "skipped", reason="unknown contender"))
                continue
            version = registry.safe_probe(c.probe)
            if version is None:
                results.append(_row(name, "skipped", reason="not installed"))
                continue
            builder = c.tasks.get(task)
            if builder is None:
                results.append(
                    _row(name, "unsupported", reason=f"{name} has no {task}", version=version)
                )
                continue
            log(f"{task}: {name} ...")
            try:
                job = builder(workload)
            except Skip as e:
                results.append(_row(name, "skipped", reason=str(e), version=version))
                continue
            except Unsupported as e:
                results.append(_row(name, "unsupported", reason=str(e), version=version))
                continue
            except Exception as e:  # noqa: BLE001
                results.append(_row(name, "error", reason=_why(e), version=version))
                if name == REFERENCE:
                    break
                continue
            row = _row(name, "ok", kind=job.kind, how=job.how, version=version)
            results.append(row)
            jobs[name] = job  # cleaned up at the end whatever its status
            try:
                got = job.result(job.run())
            except Exception as e:  # noqa: BLE001
                row.update(status="error", reason=_why(e))
                if name == REFERENCE:
                    break
                continue
            if name == REFERENCE:
                ours_result = got
            elif not same(ours_result, got, workload.tolerance):
                row.update(status="mismatch", reason=first_difference(ours_result, got))
        timed = {r["contender"]: jobs[r["contender"]].run for r in results if r["status"] == "ok"}
        if REFERENCE in timed:
            for _ in range(max(0, warmup - 1)):  # the check above was the first warm-up call
                for fn in timed.values():
                    fn()
            times = alternate(timed, rounds=rounds)
            ours = statistics.median(times[REFERENCE])
            for row in results:
                if row["contender"] in times:
                    row.update(_stats(times[row["contender"]], len(files), nbytes))
                    row["ratio"] = row["median_s"] / ours if ours > 0 else None
    finally:
        for job in jobs.values():
            if job.cleanup:
                job.cleanup()
    return section


def _why(e: BaseException) -> str:
    text = f"{type(e).__name__}: {e}".strip()
    if os.environ.get("DICOMFAST_BENCH_DEBUG"):
        text += "\n" + "".join(traceback.format_exception(e))
    return text[:500] if not os.environ.get("DICOMFAST_BENCH_DEBUG") else text


def run(
    files: list[Any],
    tasks: list[str],
    against: list[str],
    *,
    rounds: int = 5,
    warmup: int = 1,
    threads: int = 1,
    codec: str = "rle",
    transcode_to: str | None = None,
    tolerance: float = 0.0,
    log: Callable[[str], None] = lambda s: None,
) -> dict[str, Any]:
    """The whole benchmark as one JSON-ready document (layout in the README)."""
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise ValueError(f"unknown task(s) {', '.join(unknown)}; choose from {', '.join(TASKS)}")
    w = Workload(
        files, codec=codec, transcode_to=transcode_to, threads=threads, tolerance=tolerance
    )
    table = registry.contenders()
    names = [REFERENCE] + [n for n in dict.fromkeys(against) if n != REFERENCE]
    doc: dict[str, Any] = {
        "format": FORMAT,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        },
        "settings": {
            "rounds": rounds,
            "warmup": warmup,
            "threads": threads,
            "codec": w.codec,
            "transcode_to": w.transcode_to,
            "tolerance": tolerance,
        },
        "files": {"count": len(w.files), "bytes": w.nbytes, "paths": [str(f) for f in w.files]},
        "contenders": {
            n: {
                "version": registry.safe_probe(table[n].probe) if n in table else None,
                "tasks": sorted(table[n].tasks) if n in table else [],
                "description": table[n].description if n in table else "",
            }
            for n in names
        },
        "tasks": {},
    }
    try:
        for task in tasks:
            doc["tasks"][task] = run_task(task, w, names, rounds=rounds, warmup=warmup, log=log)
    finally:
        w.close()
    return doc
