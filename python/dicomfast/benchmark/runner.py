"""Run the tasks: for each, build every contender's job, check its result equal to
ours (untimed; this first call is also the warm-up), then time all that agree in
interleaved rounds (ours, A, B, ours, A, B, ...) and summarise.

A contender that fails, disagrees or declines on the whole set of files (a codec it
lacks, one file it cannot read) is tried on each file alone: it is then timed on the
files it handles and agrees on, and ours on the same files for its ratio; the report
lists the files left out and why (a real folder nearly always holds a file some
toolkit cannot do, which would otherwise leave that toolkit out altogether)."""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import registry, screen
from .compare import first_difference, same
from .registry import REFERENCE, TASKS, Declines, Skip, Unsupported
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


#: The tasks whose results are pixels (``--tolerance`` applies to lossy files).
PIXEL_TASKS = frozenset({"decode", "encode", "transcode"})

#: The tasks whose results hold one item per file, in the files' order: a contender that
#: fails or disagrees on some files is timed on the others, and ours on those too.
PER_FILE = frozenset({"parse", "values", "decode", "encode", "transcode"})


@dataclass
class _Part:
    """The files a contender was timed on, when not all: which, and why not the others."""

    files: list[Any]
    nbytes: int
    #: the reference's timing on the same files (a key of the timed jobs)
    ours: str
    excluded: list[dict[str, str]] = field(default_factory=list)


def _check(job: registry.Job, ours: Any, tolerance: float) -> tuple[str, str]:
    """Run ``job`` once (untimed) and compare its result with ``ours``: (status, reason)."""
    try:
        got = job.result(job.run())
    except Exception as e:  # noqa: BLE001
        return "error", _why(e)
    if not same(ours, got, tolerance):
        return "mismatch", first_difference(ours, got)
    return "ok", ""


def _file_by_file(
    builder: registry.Builder,
    workload: Workload,
    files: list[Any],
    ours: list[Any],
    crashed: dict[int, str] | None = None,
    pixels: bool = True,
) -> tuple[list[int], list[dict[str, str]]]:
    """Which of ``files`` a contender handles alone, giving what we give (``ours``, one
    item per file): their indices, and for each of the others its path, status and why.
    ``crashed``: files not to run, that ended a process of their own (:mod:`.screen`);
    ``pixels``: a task comparing pixels (a lossy file's mismatch then points to
    ``--tolerance``)."""
    good: list[int] = []
    excluded: list[dict[str, str]] = []
    for i, f in enumerate(files):
        if crashed and i in crashed:
            excluded.append({"path": str(f), "status": "crashed", "reason": crashed[i]})
            continue
        status, reason = "error", ""
        job = None
        try:
            job = builder(workload.only([f]))
            status, reason = _check(job, [ours[i]], workload.tolerance)
        except (Skip, Unsupported) as e:
            status, reason = "unsupported", str(e)
        except Exception as e:  # noqa: BLE001
            reason = _why(e)
        finally:
            if job is not None and job.cleanup:
                job.cleanup()
        if status == "ok":
            good.append(i)
            continue
        if status == "mismatch" and pixels and workload.lossy(f):
            # Two conformant decoders of a lossy syntax may round differently.
            reason = f"lossy, see --tolerance: {reason}"
        excluded.append({"path": str(f), "status": status, "reason": reason})
    return good, excluded


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
    left_out = workload.left_out_of(task)
    workload = workload.for_task(task)
    nbytes = workload.nbytes_for(task) if files else 0
    section: dict[str, Any] = {
        "files": len(files),
        "bytes": nbytes,
        "compared_on": TASKS[task],
        "reference": REFERENCE,
        "results": [],
    }
    if left_out:  # the reference's own failures, never hidden
        section["left_out"] = [{"path": str(f), "reason": r} for f, r in left_out.items()]
    results: list[dict[str, Any]] = section["results"]
    if not files:
        section["note"] = "no file for this task"
        return section
    jobs: dict[str, registry.Job] = {}
    parts: dict[str, _Part] = {}  # contender -> the files it is timed on, when not all
    wanted = [REFERENCE] + [n for n in dict.fromkeys(against) if n != REFERENCE]
    ours_result: Any = None

    def on_part(
        name: str,
        builder: registry.Builder,
        row: dict[str, Any],
        crashed: dict[int, str] | None = None,
    ) -> None:
        """``name`` failed on the whole workload (or ended a process of its own on some
        files, ``crashed``): time it on the files it handles."""
        if task not in PER_FILE or ours_result is None or len(files) < 2:
            if crashed:
                row["excluded"] = [
                    {"path": str(files[i]), "status": "crashed", "reason": why}
                    for i, why in crashed.items()
                ]
            return
        log(f"{task}: {name}, file by file ...")
        good, excluded = _file_by_file(
            builder, workload, files, ours_result, crashed, pixels=task in PIXEL_TASKS
        )
        if not good:
            # Each file's reason, unless it is the same for all as for the whole set.
            if any((e["status"], e["reason"]) != (row["status"], row["reason"]) for e in excluded):
                row["excluded"] = excluded
            return
        row["excluded"] = excluded
        chosen = [files[i] for i in good]
        part = workload.only(chosen)
        ours_key = f"{REFERENCE} on " + ",".join(map(str, good))
        try:
            job = builder(part)
        except Exception as e:  # noqa: BLE001
            row.update(status="error", reason=_why(e))
            return
        whole = jobs.pop(name, None)  # the job on every file, which failed
        if whole is not None and whole.cleanup:
            whole.cleanup()
        jobs[name] = job
        status, reason = _check(job, [ours_result[i] for i in good], workload.tolerance)
        if status != "ok":
            row.update(status=status, reason=reason)
            return
        if ours_key not in jobs:
            jobs[ours_key] = table[REFERENCE].tasks[task](part)
            jobs[ours_key].run()  # its warm-up
        row.update(status="ok", reason="", kind=job.kind, how=job.how)
        parts[name] = _Part(chosen, part.nbytes_for(task), ours_key, excluded)

    def on_declined(
        name: str,
        builder: registry.Builder,
        row: dict[str, Any],
        declined: dict[Any, str],
        status: str = "unsupported",
    ) -> None:
        """``name`` said which files it cannot do (ahead, or having gone on past them:
        ``status`` "error"): time it on the others, with ours on the same files (its
        result on them is what it is checked against). Files it then goes on past are
        left out too, once more."""
        gone = [{"path": str(f), "status": status, "reason": r} for f, r in declined.items()]
        left = {Path(f) for f in declined}
        row["excluded"] = gone
        for _ in range(2):
            chosen = [f for f in files if f not in left]
            if not chosen or ours_result is None:
                return
            part = workload.only(chosen)
            ours_key = f"{REFERENCE} on " + ",".join(
                str(i) for i, f in enumerate(files) if f not in left
            )
            old = jobs.pop(name, None)
            if old is not None and old.cleanup:
                old.cleanup()
            try:
                job = builder(part)
            except Exception as e:  # noqa: BLE001
                row.update(status="error", reason=_why(e))
                return
            jobs[name] = job
            if ours_key not in jobs:
                jobs[ours_key] = table[REFERENCE].tasks[task](part)
            ref = jobs[ours_key]
            try:
                ref_result = ref.result(ref.run())  # also its warm-up
            except Exception as e:  # noqa: BLE001
                row.update(status="error", reason=f"ours on the same files: {_why(e)}")
                return
            status, reason = _check(job, ref_result, workload.tolerance)
            failed = job.failed() if job.failed is not None else {}
            if not failed:
                break
            gone += [{"path": str(f), "status": "error", "reason": r} for f, r in failed.items()]
            left |= {Path(f) for f in failed}
            if not any(p.ours == ours_key for p in parts.values()):  # ours on these: not timed
                stale = jobs.pop(ours_key)
                if stale.cleanup:
                    stale.cleanup()
        if status != "ok":
            row.update(status=status, reason=reason)
            return
        row.update(status="ok", reason="", kind=job.kind, how=job.how)
        parts[name] = _Part(chosen, part.nbytes_for(task), ours_key, gone)

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
            if task in c.may_crash and task in PER_FILE and ours_result is not None:
                log(f"{task}: {name}, each file in a process of its own first ...")
                try:
                    crashed = screen.crashing_files(name, task, builder, workload, files)
                except Exception as e:  # noqa: BLE001 - no screening: run as any other
                    log(f"{task}: {name}: cannot screen the files ({_why(e)})")
                    crashed = {}
                if crashed:
                    n = len(crashed)
                    row = _row(
                        name,
                        "crashed",
                        reason=f"ended the process on {n} of {len(files)} file(s)",
                        version=version,
                    )
                    results.append(row)
                    on_part(name, builder, row, crashed)
                    continue
            log(f"{task}: {name} ...")
            try:
                job = builder(workload)
            except Skip as e:
                results.append(_row(name, "skipped", reason=str(e), version=version))
                continue
            except Declines as e:
                row = _row(name, "unsupported", reason=str(e), version=version)
                results.append(row)
                on_declined(name, builder, row, e.files)
                continue
            except Unsupported as e:
                row = _row(name, "unsupported", reason=str(e), version=version)
                results.append(row)
                on_part(name, builder, row)
                continue
            except Exception as e:  # noqa: BLE001
                row = _row(name, "error", reason=_why(e), version=version)
                results.append(row)
                if name == REFERENCE:
                    break
                on_part(name, builder, row)
                continue
            row = _row(name, "ok", kind=job.kind, how=job.how, version=version)
            results.append(row)
            jobs[name] = job  # cleaned up at the end whatever its status
            if name == REFERENCE:
                try:
                    ours_result = job.result(job.run())
                except Exception as e:  # noqa: BLE001
                    row.update(status="error", reason=_why(e))
                    break
                continue
            status, reason = _check(job, ours_result, workload.tolerance)
            failed = job.failed() if job.failed is not None else {}
            if failed:  # went on past some files: timed on the others
                row.update(status="unsupported", reason=f"failed on {len(failed)} file(s)")
                jobs.pop(name, None)
                if job.cleanup:
                    job.cleanup()
                on_declined(name, builder, row, failed, "error")
            elif status != "ok":
                row.update(status=status, reason=reason)
                on_part(name, builder, row)
        ok = [r["contender"] for r in results if r["status"] == "ok"]
        timed = {n: jobs[n].run for n in ok}
        timed.update({p.ours: jobs[p.ours].run for n, p in parts.items() if n in ok})
        if REFERENCE in timed:
            for _ in range(max(0, warmup - 1)):  # the check above was the first warm-up call
                for fn in timed.values():
                    fn()
            times = alternate(timed, rounds=rounds)
            for row in results:
                name = row["contender"]
                if name not in times:
                    continue
                part = parts.get(name)
                n, size = (len(part.files), part.nbytes) if part else (len(files), nbytes)
                row.update(_stats(times[name], n, size))
                row["files"], row["bytes"] = n, size
                ours = statistics.median(times[part.ours if part else REFERENCE])
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
