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

What was reached on 2026-12-05 15:06-15:27 (2-core VM, quiet: alternating medians):

* index in place: ours 41-48 ms on tmpfs (``DICOMFAST_BENCH_TMP=/dev/shm``), 41-55 ms on
  ext4, ``dcmmkdir`` 161-174 ms: 3.3-3.8x and 3.1-3.7x;
* copy + index on tmpfs: ours 52-56 ms, ``cp -r`` + ``dcmmkdir`` 180-186 ms: 3.2-3.5x;
  on ext4 3.4x in one run, 1.9-2.5x in runs where creating a file cost ~10x more kernel
  time for both sides (inode allocation after the previous runs' deletions);
* in process against pydicom's ``FileSet``: 68.6x on tmpfs (target met).

Both commands make the file-set in one call to the core (``rust/dicomfast-media``):
headers read and copies written on both cores, 10 ms and 15 ms of the above; the rest
is the interpreter's start (23-25 ms here, 13 ms of it a sandbox ``.pth`` importing
``certifi``) and ~8 ms of our imports. Before (the records made in Python): 0.14 s and
0.23 s, 1.0-1.1x.

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
