"""Run a per-file job over a stream of inputs: inline, on a local process pool or
on a Dask distributed cluster, with a bounded number of tasks in flight (the
input stream is consumed only as fast as results come back), a progress line
and a JSON-lines report."""

from __future__ import annotations

import atexit
import itertools
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a pool is started: a short run never needs them
    from concurrent.futures import Future, ProcessPoolExecutor

Task = Callable[[Any], dict[str, Any]]
#: Called with a group of finished records before they are reported: ``files.sync_outputs``
#: flushes their outputs (written under temporary names) in one go and then publishes them.
#: Locally it runs in this process, in a thread beside the work (:class:`_GroupCommit`); on
#: a Dask cluster in the worker that wrote them.
Settle = Callable[[list[dict[str, Any]]], None]
#: At most this many finished records wait for their group's flush (the work waits beyond).
GROUP_FILES = 256
#: Flushes start at most this often (each costs a journal commit at least, and a syncfs
#: flushes whatever else is dirty on the file system too); the last one at once.
GROUP_SECONDS = 0.1
#: A stream still going after this long in this process may move to the process pool
#: (started meanwhile in a thread): small jobs never pay for starting it.
INLINE_SECONDS = 0.25
#: ... and does only if it has at least this long to go at the rate seen so far (looked
#: ahead in the stream, up to the in-flight limit): starting the workers (their imports)
#: costs ~0.2 s of CPU, which a run that ends sooner never wins back on a small machine.
POOL_MIN_SECONDS = 1.0


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _crashed(item: Any, reason: str) -> dict[str, Any]:
    path = getattr(item, "path", str(item))
    return {
        "src": path,
        "dst": None,
        "status": "failed",
        "reason": reason,
        "bytes_in": getattr(item, "size", 0),
    }


def _settled(group: list[dict[str, Any]], settle: Settle | None) -> list[dict[str, Any]]:
    if settle is not None and group:
        try:
            settle(group)
        except OSError as e:  # not durable: not converted
            for rec in group:
                if rec.get("status") == "converted":
                    rec.update(status="failed", reason=f"output not made durable: {e}")
    return group


def _run_inline(
    fn: Task, items: Iterable[Any], until: Callable[[], bool] | None = None
) -> Iterator[dict[str, Any]]:
    """In this process, each record as its item is done; stops early (the rest of the
    iterator untouched) once ``until()`` is true."""
    for item in items:
        yield fn(item)
        if until is not None and until():
            return


def _run_threads(
    fn: Task, items: Iterable[Any], threads: int, until: Callable[[], bool] | None = None
) -> Iterator[dict[str, Any]]:
    """:func:`_run_inline` on ``threads`` threads of this process, for tasks whose heavy
    steps (decoding, encoding, writing) release the GIL: each record as its item is done,
    at most two items per thread taken from ``items`` ahead of the results; once
    ``until()`` is true no more are taken (the rest of the iterator untouched) and those
    in flight are finished.  ``items`` is only ever advanced by the calling thread; a
    task's exception is raised here.  (Plain threads, not ``concurrent.futures``, which
    imports :mod:`logging`: ~4 ms of a short command's start.)"""
    if threads <= 1:
        yield from _run_inline(fn, items, until)
        return
    it = iter(items)
    cond = threading.Condition()
    todo: deque[Any] = deque()  # taken, not started
    done: deque[tuple[bool, Any]] = deque()  # (ok, record or exception)
    closing = False

    def work() -> None:
        while True:
            with cond:
                while not todo and not closing:
                    cond.wait()
                if not todo:
                    return
                item = todo.popleft()
            try:
                result: tuple[bool, Any] = (True, fn(item))
            except BaseException as e:  # noqa: BLE001 - raised in the calling thread
                result = (False, e)
            with cond:
                done.append(result)
                cond.notify_all()

    workers = [
        threading.Thread(target=work, name=f"dicomfast-file_{k}", daemon=True)
        for k in range(threads)
    ]
    for w in workers:
        w.start()
    stop = False
    inflight = 0
    try:
        while True:
            while not stop and inflight < 2 * threads:
                try:
                    item = next(it)
                except StopIteration:
                    stop = True
                    break
                with cond:
                    todo.append(item)
                    cond.notify()
                inflight += 1
            if not inflight:
                return
            with cond:
                while not done:
                    cond.wait()
                finished = list(done)
                done.clear()
            for ok, result in finished:
                inflight -= 1
                if not ok:
                    raise result
                yield result
                if not stop and until is not None and until():
                    stop = True
    finally:  # the consumer stopped early: what was not started never is
        with cond:
            todo.clear()
            closing = True
            cond.notify_all()
        for w in workers:
            w.join()


class _GroupCommit:
    """Records settled by one background thread while the run goes on, in groups: each
    group is every record finished since the flush before began (flushes start at most
    every :data:`GROUP_SECONDS`).  A flush costs about as much for one file as for a
    hundred, so all but the last overlap the work, which no longer waits for them.
    ``add`` waits while ``limit`` records wait for their flush."""

    def __init__(self, settle: Settle, limit: int) -> None:
        self.settle, self.limit = settle, max(1, limit)
        self.cond = threading.Condition()
        self.waiting: list[dict[str, Any]] = []
        self.settled: list[dict[str, Any]] = []
        self.closed = False
        self.thread = threading.Thread(target=self._loop, name="dicomfast-settle", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        due = 0.0  # the next flush starts no sooner (unless closing, or ``limit`` wait)
        while True:
            with self.cond:
                while not self.closed and len(self.waiting) < self.limit:
                    wait = due - time.perf_counter()
                    if self.waiting and wait <= 0:
                        break
                    self.cond.wait(wait if self.waiting else None)
                if not self.waiting:
                    return
                group, self.waiting = self.waiting, []
                self.cond.notify_all()
            due = time.perf_counter() + GROUP_SECONDS
            try:
                _settled(group, self.settle)
            except Exception as e:  # noqa: BLE001 - reported on each record, never lost
                for rec in group:
                    if rec.get("status") == "converted":
                        rec.update(status="failed", reason=f"output not made durable: {e!r}")
            with self.cond:
                self.settled.extend(group)

    def add(self, rec: dict[str, Any]) -> None:
        with self.cond:
            while len(self.waiting) >= self.limit:
                self.cond.wait()
            self.waiting.append(rec)
            # the thread waits for a first record, or until its next flush is due: it
            # is woken for the first and a full group only, not once a file
            if len(self.waiting) == 1 or len(self.waiting) >= self.limit:
                self.cond.notify_all()

    def take(self) -> list[dict[str, Any]]:
        """The records settled since the last call."""
        with self.cond:
            done, self.settled = self.settled, []
        return done

    def close(self) -> list[dict[str, Any]]:
        """Settle every record added; those not taken yet."""
        with self.cond:
            self.closed = True
            self.cond.notify_all()
        self.thread.join()
        return self.take()


def _committed(
    records: Iterator[dict[str, Any]], settle: Settle | None, limit: int
) -> Iterator[dict[str, Any]]:
    """``records``, each yielded once its group is settled (as they come without
    ``settle``).  Stopped early, the records taken so far are still settled."""
    if settle is None:
        yield from records
        return
    commit = _GroupCommit(settle, limit)
    try:
        for rec in records:
            commit.add(rec)
            yield from commit.take()
    finally:
        left = commit.close()
    yield from left


def _worker_init() -> None:
    # Files run in parallel already: one OpenMP thread per worker for the display
    # kernels (read when the kernels are first imported, after this).
    os.environ.setdefault("OMP_NUM_THREADS", "1")


_POOL: tuple[int, ProcessPoolExecutor] | None = None
_POOL_LOCK = threading.Lock()


def _get_pool(workers: int) -> ProcessPoolExecutor:
    """The process pool of this process, kept warm between runs (worker start-up and
    imports cost more than converting a small file); replaced if the worker count
    changes or a worker died."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is not None and _POOL[0] == workers:
            return _POOL[1]
        if _POOL is not None:
            _POOL[1].shutdown(wait=True, cancel_futures=True)
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(
            [
                "dicomfast.batch.convert",
                "dicomfast.batch.deid",
                "dicomfast.batch.export",
                "dicomfast.pixels.decode",
                "dicomfast.pixels.encode",
                "dicomfast.writer",
            ]
        )
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init)
        _POOL = (workers, pool)
        return pool


def _drop_pool(pool: ProcessPoolExecutor) -> None:
    global _POOL
    with _POOL_LOCK:
        if _POOL is not None and _POOL[1] is pool:
            _POOL = None
    pool.shutdown(wait=False, cancel_futures=True)


def shutdown_pool() -> None:
    """Stop the kept worker processes (also done at interpreter exit)."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = (_POOL[1] if _POOL else None), None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown_pool)


def _run_chunk(fn: Task, items: list[Any], settle: Settle | None = None) -> list[dict[str, Any]]:
    """Worker side: several files per task, so that inter-process overhead is paid once
    per chunk rather than once per (small) file; ``settle`` (on a Dask worker: the
    flush that publishes the outputs) once per chunk too."""
    return _settled([fn(item) for item in items], settle)


def _warm_pool(workers: int, ready: threading.Event) -> None:
    try:
        pool = _get_pool(workers)
        for fut in [pool.submit(os.getpid) for _ in range(workers)]:
            fut.result()
    except Exception:  # noqa: BLE001 - the run goes on in this process
        return
    ready.set()


def chunk_size(ahead: int, workers: int, largest: int) -> int:
    """Items in the next chunk, with ``ahead`` items waiting: one worker's share of
    them, 1 to ``largest``."""
    return max(1, min(largest, ahead // workers))


def _run_pool(
    fn: Task,
    items: Iterable[Any],
    workers: int,
    max_inflight: int,
    chunksize: int,
) -> Iterator[dict[str, Any]]:
    """Process pool fed chunks of up to ``chunksize`` items; at most ``max_inflight``
    items taken from ``items`` and not yet answered (submitted, or waiting in a
    look-ahead).  A chunk takes at most one worker's share of the look-ahead, so
    chunks are large while the stream goes on (a submission costs the parent more
    than a small file's conversion: measured against fixed chunks of 4, 100 CT
    files converted 4-15% faster) and shrink to single files as it ends (no worker
    left waiting on a long last chunk).  If a worker dies (a crash in native code,
    the OOM killer), the pool is replaced and the items it held are retried one at
    a time, so that only the file that kills a worker on its own is reported
    failed."""
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    chunksize = max(1, min(chunksize, max_inflight))
    max_chunks = 2 * workers + 2
    it = iter(items)
    exhausted = False
    ahead: deque[Any] = deque()  # taken from the stream, not submitted yet
    suspects: deque[Any] = deque()  # items lost with a dead pool: retried alone

    def take(submitted: int) -> list[Any]:
        nonlocal exhausted
        while not exhausted and submitted + len(ahead) < max_inflight:
            try:
                ahead.append(next(it))
            except StopIteration:
                exhausted = True
        n = chunk_size(len(ahead), workers, chunksize)
        return [ahead.popleft() for _ in range(min(n, len(ahead)))]

    while True:
        pool = _get_pool(workers)
        pending: dict[Future[list[dict[str, Any]]], tuple[list[Any], bool]] = {}
        broken = False
        try:
            while True:
                chunk: list[Any] = []
                try:
                    if suspects:
                        if not pending:
                            chunk = [suspects.popleft()]
                            pending[pool.submit(_run_chunk, fn, chunk)] = (chunk, True)
                    else:
                        while len(pending) < max_chunks:
                            chunk = take(sum(len(c) for c, _alone in pending.values()))
                            if not chunk:
                                break
                            pending[pool.submit(_run_chunk, fn, chunk)] = (chunk, False)
                except BrokenProcessPool:  # a worker died before we saw it: retry
                    suspects.extend(chunk)
                    for lost, _alone in pending.values():
                        suspects.extend(lost)
                    pending.clear()
                    broken = True
                    break
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    chunk, alone = pending.pop(fut)
                    try:
                        yield from fut.result()
                    except BrokenProcessPool:
                        broken = True
                        if alone:
                            yield _crashed(
                                chunk[0], "the worker process died while processing this file"
                            )
                        else:
                            suspects.extend(chunk)
                    except Exception as e:
                        for item in chunk:
                            yield _crashed(item, f"{type(e).__name__}: {e}")
                if broken:
                    for lost, _alone in pending.values():
                        suspects.extend(lost)
                    pending.clear()
                    break
        finally:
            if broken:
                _drop_pool(pool)
            else:  # the consumer stopped early: do not leave its tasks queued
                for fut in pending:
                    fut.cancel()
        if not broken:
            return


def _run_dask(
    fn: Task,
    items: Iterable[Any],
    scheduler: str,
    max_inflight: int | None,
    settle: Settle | None = None,
) -> Iterator[dict[str, Any]]:
    from distributed import Client, as_completed

    with Client(scheduler) as client:
        if max_inflight is None:
            nthreads = sum(client.nthreads().values()) or 1
            max_inflight = 2 * nthreads + 2
        queue = as_completed()
        inflight = 0
        it = iter(items)
        exhausted = False
        keys: dict[str, Any] = {}
        while True:
            while not exhausted and inflight < max_inflight:
                try:
                    item = next(it)
                except StopIteration:
                    exhausted = True
                    break
                fut = client.submit(_run_chunk, fn, [item], settle, pure=False)
                keys[fut.key] = item
                queue.add(fut)
                inflight += 1
            if inflight == 0:
                return
            fut = next(queue)
            inflight -= 1
            item = keys.pop(fut.key)
            try:
                yield from fut.result()
            except Exception as e:
                yield _crashed(item, f"{type(e).__name__}: {e}")
            fut.release()


def run_tasks(
    fn: Task,
    items: Iterable[Any],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    max_inflight: int | None = None,
    chunksize: int = 16,
    settle: Settle | None = None,
    threads: bool = False,
) -> Iterator[dict[str, Any]]:
    """Apply ``fn`` (picklable, never raising) to each item; yield its records as they
    complete.  ``workers`` processes (default: all cores; 1 runs in this process) or
    the Dask cluster at ``scheduler``.  Items go to the processes up to ``chunksize``
    at a time (fewer as the stream ends); at most ``max_inflight`` items (default
    ``8 × workers × chunksize``) are taken from ``items`` ahead of the results.
    ``settle`` (picklable) runs on each group of records before they are yielded: in
    this process, beside the work (:class:`_GroupCommit`), or on a Dask worker, in the
    worker.  A run starts in this process and moves to the pool only if it lasts
    (:data:`INLINE_SECONDS`) and has enough left (:data:`POOL_MIN_SECONDS`): starting
    worker processes costs more than a small job.  ``threads``: ``fn`` is thread-safe and
    spends its time outside the GIL (the codecs, the writes), so the part of the run in
    this process goes on ``workers`` threads rather than one."""
    if scheduler:
        return _run_dask(fn, items, scheduler, max_inflight, settle)
    workers = workers or default_workers()
    limit = min(GROUP_FILES, max_inflight or GROUP_FILES)
    if workers <= 1:
        return _committed(_run_inline(fn, items), settle, limit)
    # A single input gains nothing from a pool (its frames are coded in parallel
    # in-process): look at most two items ahead to find out.
    it = iter(items)
    head = list(itertools.islice(it, 2))
    if len(head) < 2:
        return _committed(_run_inline(fn, head), settle, limit)
    inflight = max_inflight or 8 * workers * chunksize
    records = _run_adaptive(fn, _Ahead(head, it), workers, inflight, chunksize, threads)
    return _committed(records, settle, limit)


class _Ahead:
    """An iterator that can look ahead: items taken early are handed out first."""

    def __init__(self, head: list[Any], it: Iterator[Any]) -> None:
        self.ahead, self.it = deque(head), it

    def __iter__(self) -> _Ahead:
        return self

    def __next__(self) -> Any:
        return self.ahead.popleft() if self.ahead else next(self.it)

    def ends_within(self, n: int) -> bool:
        """Whether at most ``n`` items are left (taking up to ``n + 1`` of them ahead)."""
        while len(self.ahead) <= n:
            try:
                self.ahead.append(next(self.it))
            except StopIteration:
                return True
        return False


def _run_adaptive(
    fn: Task, it: _Ahead, workers: int, inflight: int, chunksize: int, threads: bool = False
) -> Iterator[dict[str, Any]]:
    """Inline first; once the run has lasted :data:`INLINE_SECONDS` and has at least
    :data:`POOL_MIN_SECONDS` to go (judged from its rate so far and at most ``inflight``
    items looked ahead), the pool is started in a thread while this process goes on (on
    ``workers`` threads if ``threads``, else one),
    and the rest of the stream goes to the pool when its workers are up (at once if a
    pool is warm already).  A run found to end sooner stays in this process."""
    ready = threading.Event()
    if _POOL is not None and _POOL[0] == workers:
        ready.set()
    decided = False
    started = time.perf_counter()
    done = 0

    def switch() -> bool:
        nonlocal decided, done
        done += 1
        if decided or ready.is_set():
            return ready.is_set()
        elapsed = time.perf_counter() - started
        if elapsed > INLINE_SECONDS:
            decided = True
            rest = min(inflight, int(POOL_MIN_SECONDS * done / elapsed) + 1)
            if not it.ends_within(rest):
                threading.Thread(target=_warm_pool, args=(workers, ready), daemon=True).start()
        return ready.is_set()

    if not ready.is_set():
        yield from _run_threads(fn, it, workers if threads else 1, until=switch)
        if not ready.is_set():  # the stream ended in this process
            return
    yield from _run_pool(fn, it, workers, inflight, chunksize)


# -- progress, summary, report ---------------------------------------------------


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def _fmt_time(s: float) -> str:
    s = int(s)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class RunSummary:
    """Totals of a run (``done`` counts converted, skipped and failed).  (A plain
    class: no :mod:`dataclasses` import, ~3 ms of a short command's start.)"""

    def __init__(self) -> None:
        self.converted = 0
        self.skipped = 0
        self.failed = 0
        self.excluded = 0  # left out by policy (anonymize: burned-in annotation)
        self.bytes_in = 0
        self.bytes_out = 0
        self.started = time.perf_counter()
        self.elapsed = 0.0
        self.total: int | None = None  # files to do, once counted

    @property
    def done(self) -> int:
        return self.converted + self.skipped + self.failed + self.excluded

    def add(self, rec: dict[str, Any]) -> None:
        status = rec.get("status")
        if status == "skipped":
            self.skipped += 1
        elif status == "failed":
            self.failed += 1
        elif status == "excluded":
            self.excluded += 1
        else:
            self.converted += 1
        self.bytes_in += max(0, int(rec.get("bytes_in") or 0))
        self.bytes_out += int(rec.get("bytes_out") or 0)
        self.elapsed = time.perf_counter() - self.started

    def line(self) -> str:
        t = max(self.elapsed, 1e-9)
        total = f"/{self.total}" if self.total is not None else ""
        eta = ""
        if self.total and self.done:
            eta = f"  ETA {_fmt_time((self.total - self.done) * t / self.done)}"
        return (
            f"{self.done}{total} files  {self.done / t:.1f} files/s  "
            f"{self.bytes_in / t / 1e6:.1f} MB/s{eta}  failed {self.failed}"
        )

    def text(self, verb: str = "converted") -> str:
        t = max(self.elapsed, 1e-9)
        excluded = f", excluded {self.excluded}" if self.excluded else ""
        return (
            f"{verb} {self.converted}, skipped {self.skipped}, failed {self.failed}{excluded}; "
            f"in {_fmt_bytes(self.bytes_in)}, out {_fmt_bytes(self.bytes_out)}; "
            f"{self.elapsed:.2f} s ({self.done / t:.1f} files/s, {self.bytes_in / t / 1e6:.1f} MB/s)"
        )


class Progress:
    """A tqdm bar on a terminal (none otherwise, nor with ``quiet``); failures
    always get a line of their own, ``quiet`` or not (``tqdm.write``: never broken by
    the bar): a quiet run that exits 1 says which files failed and why.
    With a bar, the total is counted in a background thread (by walking the inputs
    again) so the ETA appears without holding the file list."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        count: Callable[[], int] | None = None,
        interval: float | None = None,
        quiet: bool = False,
    ) -> None:
        from ..cli.conventions import progress_bar, say

        self._say = say  # not imported again per record
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.summary = RunSummary()
        self.bar: Any = progress_bar(unit="file", enabled=not quiet, stream=self.stream)
        if interval is not None and not self.bar.disable:
            self.bar.mininterval = interval
        self._total: int | None = None
        if count is not None and not self.bar.disable:  # the total is for the bar's ETA
            threading.Thread(target=self._count, args=(count,), daemon=True).start()

    def _count(self, count: Callable[[], int]) -> None:
        try:
            self._total = count()
        except Exception:
            pass

    def update(self, rec: dict[str, Any]) -> None:
        self.summary.add(rec)
        if self._total is not None and self.summary.total is None:
            self.summary.total = self._total
            self.bar.total = self._total
        if rec.get("status") in ("failed", "excluded"):  # said even with quiet
            word = "FAILED" if rec["status"] == "failed" else "EXCLUDED"
            self._say(
                f"{word} {rec.get('src')}: {rec.get('reason')}", file=self.stream, bar=self.bar
            )
        if not self.quiet:
            self.bar.update(1)

    def close(self, verb: str = "converted") -> RunSummary:
        self.summary.elapsed = time.perf_counter() - self.summary.started
        if self._total is not None and self.summary.total is None:
            self.summary.total = self._total
        self.bar.close()
        if not self.quiet:
            print(self.summary.text(verb), file=self.stream, flush=True)
        return self.summary


class Report:
    """``--report FILE.json``: one JSON object per line and per file, written as
    results arrive."""

    def __init__(self, path: str | None) -> None:
        self.fh = open(path, "w", encoding="utf-8") if path else None  # noqa: SIM115

    def write(self, rec: dict[str, Any]) -> None:
        if self.fh is not None:
            import json

            self.fh.write(json.dumps(rec, default=str) + "\n")
            self.fh.flush()

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
