"""Files that end the process: a contender whose in-process code is a C or C++
library (GDCM's Python binding, pydicom's pixel plugins, imagecodecs' kernels)
can abort or crash the whole process on a file it does not take, where a
Python exception was wanted; python-gdcm 3.0, for one, ends with an uncaught
``gdcm::Exception`` on a data set whose overlay element it finds malformed. A
benchmark over a user's folder must not die with it.

Such a contender's task (:attr:`~dicomfast.benchmark.registry.Contender.may_crash`)
is first run here on each file alone, in a child process
(``python -m dicomfast.benchmark.screen``), before anything of it runs in the
benchmark's own process: a file on which the child dies (or takes longer than
:data:`PER_FILE_S`) is left out of that contender's timing and reported, and
a new child goes on with the next file. The child only runs the contender;
whether its result agrees with ours is checked afterwards, in process, as for
every contender."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .workload import Workload

#: a file the child has not finished in this many seconds counts as a crash (a hang)
PER_FILE_S = 120.0
#: what starts the child's lines about its progress (a library may print to stdout too)
MARK = "dicomfast-screen:"


def _settings(w: Workload) -> dict[str, Any]:
    return {
        "codec": w.codec,
        "transcode_to": w.transcode_to,
        "threads": w.threads,
        "tolerance": w.tolerance,
    }


def _how_it_ended(rc: int | None, said: str) -> str:
    """The reason reported for a file that ended the child: its signal or exit status,
    and the last line it wrote on stderr (e.g. the C++ runtime's ``what():``)."""
    if rc is None:
        how = f"still running after {PER_FILE_S:.0f} s (stopped)"
    elif rc < 0:
        try:
            how = f"ended the process ({signal.Signals(-rc).name})"
        except ValueError:
            how = f"ended the process (signal {-rc})"
    else:
        how = f"ended the process (exit status {rc})"
    lines = [s.strip() for s in said.splitlines() if s.strip()]
    return f"{how}: {lines[-1][:300]}" if lines else how


def crashing_files(
    contender: str, task: str, builder: Any, workload: Workload, files: list[Path]
) -> dict[int, str]:
    """The indices of ``files`` on which ``contender``'s ``task`` (``builder``) ends
    (or hangs) a process of its own, and why. Files before a crash are not run again.
    The child finds the builder by its module and name (a module-level function of an
    importable module), else as the registered contender's."""
    crashed: dict[int, str] = {}
    start = 0
    spec = {
        "contender": contender,
        "task": task,
        "builder": [getattr(builder, "__module__", ""), getattr(builder, "__qualname__", "")],
        "files": [str(f) for f in files],
        **_settings(workload),
    }
    while start < len(files):
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "dicomfast.benchmark.screen"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                bufsize=0,  # lines read as the child writes them (select, then readline)
                env=dict(os.environ, PYTHONUNBUFFERED="1"),
            )
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(json.dumps({**spec, "start": start}).encode())
            proc.stdin.close()
            current, err_at = None, 0
            with selectors.DefaultSelector() as sel:
                sel.register(proc.stdout, selectors.EVENT_READ)
                deadline = time.monotonic() + PER_FILE_S
                while True:
                    if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                        proc.kill()  # a file it does not finish: a hang
                        proc.wait()
                        rc = None
                        break
                    line = proc.stdout.readline()
                    if not line:  # the child ended
                        rc = proc.wait()
                        break
                    text = line.decode(errors="replace").strip()
                    at = text.find(MARK)  # after any output of the contender's own
                    if at < 0:
                        continue
                    word, _, index = text[at + len(MARK) :].partition(" ")
                    if word == "start":
                        current, err_at = int(index), err.tell()
                        deadline = time.monotonic() + PER_FILE_S
                    elif word == "done":
                        current = None
            proc.stdout.close()
            if current is None:
                if rc not in (0, None):  # died between files (start-up): do not guess
                    err.seek(0)
                    raise RuntimeError(_how_it_ended(rc, err.read().decode(errors="replace")))
                return crashed
            err.seek(err_at)
            crashed[current] = _how_it_ended(rc, err.read().decode(errors="replace"))
            start = current + 1
    return crashed


def _builder(spec: dict[str, Any]) -> Any:
    import importlib

    from . import registry

    module, name = spec["builder"]
    try:
        found: Any = importlib.import_module(module)
        for part in name.split("."):
            found = getattr(found, part)
        return found
    except (ImportError, AttributeError, ValueError):
        return registry.contenders()[spec["contender"]].tasks[spec["task"]]


def _child() -> None:
    """Run one contender's task on each file alone, from ``start``, saying ``start i``
    and ``done i`` (after :data:`MARK`) on stdout around each (a failure of the
    contender's own is fine: only the process ending counts)."""
    spec = json.loads(sys.stdin.read())
    builder = _builder(spec)
    for i in range(spec["start"], len(spec["files"])):
        print(f"{MARK}start {i}", flush=True)
        w = Workload(
            [Path(spec["files"][i])],
            codec=spec["codec"],
            transcode_to=spec["transcode_to"],
            threads=spec["threads"],
            tolerance=spec["tolerance"],
        )
        job = None
        try:
            job = builder(w)
            job.result(job.run())
        except Exception:  # noqa: BLE001, S110 - reported by the in-process check
            pass
        finally:
            if job is not None and job.cleanup:
                job.cleanup()
            w.close()
        print(f"{MARK}done {i}", flush=True)


if __name__ == "__main__":
    _child()
