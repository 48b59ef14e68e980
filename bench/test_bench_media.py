"""File-sets (issue 14): make a File-set of 2,000 small synthetic instances (4 KB each,
10 patients x 2 studies x 2 series) and read it back, against

(a) DCMTK ``dcmmkdir``, whole processes, two jobs:

    * copy + index (what a user making a CD from a folder of files wants): ``dicomfast
      media create --no-fsync OUT IN`` copies the instances under generated File IDs
      and writes the DICOMDIR; ``cp -r IN OUT`` + ``dcmmkdir +r +id OUT`` does the same
      (dcmmkdir alone cannot: it only indexes files already in place, under names that
      are valid File IDs -- ours are made so for it).  Our default ``media create``
      (new files flushed before the DICOMDIR) runs beside them;
    * index in place (the same job on both sides): ``dicomfast media index --no-fsync
      DIR`` against ``dcmmkdir +r +id DIR`` on its own copy of the same tree;

    neither flushes anything -- target >= 3x;
(b) pydicom 3's ``FileSet`` in this process (``add`` each file, ``write``, read the
    DICOMDIR back with ``FileSet(dcmread(...))``; ours: ``FileSet``, ``add``, ``write``,
    ``FileSet(path)``) -- target >= 10x.

Our commands run with their bytecode cached (as an installed package has it; the
checkout's PYTHONDONTWRITEBYTECODE=1 would compile every module again at each start).

What was reached on 2026-12-05 (2-core VM, other sessions' builds and tests beside it,
load 1.6-5.8: pytest-benchmark medians of 5 rounds, alternating best-of-7 runs; ranges
over runs, to be measured again on a quiet machine):

* copy + index on tmpfs (``DICOMFAST_BENCH_TMP=/dev/shm``): ours 0.17-0.29 s, ``cp -r``
  + ``dcmmkdir`` 0.19-0.35 s: 1.0-1.5x, 1.0-1.1x at load 1.6-2.1 (0.7x before: quiet,
  0.27-0.32 s against 0.19-0.20 s).  The previous media code and this one alternating
  in the same runs, on tmpfs and ext4 (both with cached bytecode): this one 1.26-1.66x
  faster (medians 0.20-0.43 s against 0.27-0.71 s; at load 1.6 0.20 s against 0.27 s,
  the previous one 0.73x cp -r + dcmmkdir there), from the record keys found and
  encoded by the index, the network stack no longer imported (only ``create --from``
  loads it) and zipfile only for ``--zip``;
* copy + index on ext4 (``/tmp``): 0.6-1.4x, and once 0.1x: creating a file there
  costs from ~0.04 ms to ~0.65 ms of kernel time depending on what was deleted before
  (inode allocation; the same ``write`` of 2,000 files in process took 0.08 s or 1.3 s
  from one run to the next, with 1 or 4 threads), so either side's runs vary 0.2-2 s;
* index in place: tmpfs ours 0.13-0.16 s, ``dcmmkdir`` 0.17-0.23 s: 1.0-1.8x, 1.3-1.4x
  at load 1.6-2.1; ext4 1.2-1.4x;
* in process against pydicom's ``FileSet``: 56-158x (target met).

The 3x whole-process target is not reached, and cannot be by a Python command on this
machine: 3x means ~0.05-0.06 s for the index and ~0.07 s for copy + index, while
Python with dicomfast's media modules imported starts in ~0.05 s (~0.02 s of it the
interpreter and its site packages), and each file created costs us what it costs
``cp``.  After start-up, per file: its header read (on threads), its record keys
found in its index in one call (``RawFile.find``), the records encoded from the index
(``RawFile.encode``) -- ~0.08 s of work for 2,000 files, where dcmmkdir spends
~0.17 s in all (quiet).

The smoke run (benchmarks disabled) uses 40 instances.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from benchrace import race

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "media"))

from dicomfast.media import FileSet  # noqa: E402
from media_helpers import make_instance  # noqa: E402

N = 2000
DCMMKDIR = "/usr/bin/dcmmkdir"  # DCMTK's (not a same-named shim on PATH)


def _instances(root: Path, n: int) -> Path:
    """``n`` instances: 10 patients x 2 studies x 2 series, 8-character names."""
    src = root / f"IN{n}"
    if not src.exists():
        for i in range(n):
            p, s, e = i % 10, (i // 10) % 2, (i // 20) % 2
            d = src / f"D{i // 500:03d}"
            d.mkdir(parents=True, exist_ok=True)
            make_instance(d / f"IM{i:06d}", str(p), str(s), str(e), i + 1)
    return src


def _ours_inproc(src: Path, out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    fs = FileSet()
    for p in sorted(src.rglob("IM*")):
        fs.add(p)
    fs.write(out)
    assert len(FileSet(out)) > 0


def _pydicom(src: Path, out: Path) -> None:
    import pydicom
    from pydicom.fileset import FileSet as PydicomFileSet

    shutil.rmtree(out, ignore_errors=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fs = PydicomFileSet()
        for p in sorted(src.rglob("IM*")):
            fs.add(str(p))
        fs.write(str(out))
        assert len(PydicomFileSet(pydicom.dcmread(out / "DICOMDIR"))) > 0


#: Our commands run as an installed package runs: its modules' bytecode cached
#: (kept out of the tree), not compiled again at every start as a checkout with
#: PYTHONDONTWRITEBYTECODE=1 would (~10-15 ms of each run).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "dicomfast-bench-pycache")


def _clear(out: Path) -> None:
    """Move the previous run's output aside (one rename: deleting 2,000 files is not
    the job timed); the module's scratch folder goes at the end."""
    if out.exists():
        out.rename(out.parent / f"TRASH{os.urandom(6).hex().upper()}")


def _ours_cli(src: Path, out: Path, *options: str) -> None:
    _clear(out)
    subprocess.run(
        [sys.executable, "-m", "dicomfast", "media", "create", *options, str(out), str(src)],
        check=True,
        capture_output=True,
        env=ENV,
    )


def _dcmmkdir(src: Path) -> None:
    (src / "DICOMDIR").unlink(missing_ok=True)
    subprocess.run(
        [DCMMKDIR, "+r", "-Pgp", "+id", str(src), "+D", str(src / "DICOMDIR")],
        check=True,
        capture_output=True,
    )


def _ours_index(folder: Path) -> None:
    (folder / "DICOMDIR").unlink(missing_ok=True)
    subprocess.run(
        [sys.executable, "-m", "dicomfast", "media", "index", "--no-fsync", str(folder)],
        check=True,
        capture_output=True,
        env=ENV,
    )


def _cp_dcmmkdir(src: Path, out: Path) -> None:
    _clear(out)
    subprocess.run(["cp", "-r", str(src), str(out)], check=True)
    _dcmmkdir(out)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Iterator[Path]:  # noqa: ANN001
    """The scratch folder of this module's benchmarks, shared by them (the inputs are
    made once); one under ``DICOMFAST_BENCH_TMP`` is removed at the end, the outputs
    moved aside (TRASH*) in any case."""
    where = os.environ.get("DICOMFAST_BENCH_TMP")
    if not where:
        folder = tmp_path_factory.mktemp("media")
        try:
            yield folder
        finally:
            for trash in folder.glob("TRASH*"):
                shutil.rmtree(trash, ignore_errors=True)
        return
    folder = Path(tempfile.mkdtemp(prefix="media-bench-", dir=where))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_media_create_vs_dcmmkdir(benchmark, root: Path) -> None:  # noqa: ANN001
    if not os.path.exists(DCMMKDIR):
        pytest.skip("DCMTK not installed")
    n = 40 if benchmark.disabled else N
    src = _instances(root, n)
    race(
        benchmark,
        f"media create, {n} instances in {root.parent} (whole process)",
        lambda: _ours_cli(src, root / "OUTCLI", "--no-fsync"),
        {"cp -r + dcmmkdir": lambda: _cp_dcmmkdir(src, root / "OUTDC")},
        target=3,
        beside={
            "ours durable (files and DICOMDIR flushed)": lambda: _ours_cli(src, root / "OUTFS")
        },
    )


def test_media_index_vs_dcmmkdir_in_place(benchmark, root: Path) -> None:  # noqa: ANN001
    """The same job on both sides: a DICOMDIR for files already in place under valid
    File IDs (``media index --no-fsync DIR`` / ``dcmmkdir +r +id DIR``), each on its
    own copy of the tree."""
    if not os.path.exists(DCMMKDIR):
        pytest.skip("DCMTK not installed")
    n = 40 if benchmark.disabled else N
    src = _instances(root, n)
    ours, theirs = root / f"IX{n}", root / f"DC{n}"
    for copy in (ours, theirs):
        if not copy.exists():
            shutil.copytree(src, copy)
    race(
        benchmark,
        f"media index (in place), {n} instances in {root.parent} (whole process)",
        lambda: _ours_index(ours),
        {"dcmmkdir (in place)": lambda: _dcmmkdir(theirs)},
        target=3,
    )


def test_media_create_and_read_vs_pydicom(benchmark, root: Path) -> None:  # noqa: ANN001
    pytest.importorskip("pydicom")
    n = 40 if benchmark.disabled else N
    src = _instances(root, n)
    race(
        benchmark,
        f"FileSet add+write+read, {n} instances in {root.parent} (in process)",
        lambda: _ours_inproc(src, root / "OUTPY"),
        {"pydicom FileSet": lambda: _pydicom(src, root / "OUTPD")},
        target=10,
    )
