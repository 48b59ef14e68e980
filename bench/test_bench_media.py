"""File-sets (issue 14): create a File-set from 2,000 small synthetic instances and
read it back, against

(a) DCMTK ``dcmmkdir`` (whole process: ``dicomfast media create --no-fsync OUT IN``
    copies the instances under generated File IDs and writes the DICOMDIR; ``cp -r``
    + ``dcmmkdir +r`` copies them and writes a DICOMDIR; neither flushes anything.
    ``dcmmkdir (in place)`` only writes the DICOMDIR over files already there, and
    our default ``media create`` (the DICOMDIR flushed to disk: on ext4 that writes
    out every copied file too) runs beside them for comparison) -- target >= 3x;
(b) pydicom 3's ``FileSet`` in this process (``add`` each file, ``write``, read the
    DICOMDIR back with ``FileSet(dcmread(...))``; ours: ``FileSet``, ``add``, ``write``,
    ``FileSet(path)``) -- target >= 10x.

What the 3x target means here and what was reached (2-core VM shared with three
other busy sessions, load 1-9: the pytest-benchmark medians of 5 rounds and best-of-7
alternating runs, 2,000 instances of 4 KB):

* tmpfs (``DICOMFAST_BENCH_TMP=/dev/shm``, file creation ~20 us): ours 0.25-0.29 s
  (0.50-0.75 s before the work of 2026-12-05: headers read with one ``os.read``,
  records encoded from their values' bytes, copies and reads on threads, numpy no
  longer imported), ``cp -r`` + ``dcmmkdir`` 0.20-0.21 s (ours 0.6-0.8x),
  ``dcmmkdir`` in place 0.17-0.18 s (0.6-0.7x);
* ext4 (``/tmp``): ours 0.44-1.8 s, ``cp -r`` + ``dcmmkdir`` 0.38-2.2 s (0.5-1.6x; the
  disk is shared with other sessions' builds and benchmarks, so runs vary 3x);
* in process, ``FileSet`` add + write of the 2,000: 0.14 s (0.28 s before); (b) is met
  (pydicom's ``FileSet`` 14-74x slower in the same runs; 0.26 s for add + write +
  read back on tmpfs).

The 3x whole-process target (~0.07 s) is not reached, and cannot be on this machine:
Python with dicomfast's media modules imported starts in 0.05-0.08 s; after it,
reading 2,000 headers, building the tree, copying and encoding the DICOMDIR take
~0.15-0.2 s of Python, and each file created costs us what it costs ``cp``.

The smoke run (benchmarks disabled) uses 40 instances.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import warnings
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


def _ours_cli(src: Path, out: Path, *options: str) -> None:
    shutil.rmtree(out, ignore_errors=True)
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
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run(["cp", "-r", str(src), str(out)], check=True)
    _dcmmkdir(out)


def _root(tmp_path_factory) -> Path:  # noqa: ANN001
    where = os.environ.get("DICOMFAST_BENCH_TMP")
    if where:
        return Path(tempfile.mkdtemp(prefix="media-bench-", dir=where))
    return tmp_path_factory.mktemp("media")


def test_media_create_vs_dcmmkdir(benchmark, tmp_path_factory) -> None:  # noqa: ANN001
    if not os.path.exists(DCMMKDIR):
        pytest.skip("DCMTK not installed")
    root = _root(tmp_path_factory)
    n = 40 if benchmark.disabled else N
    src = _instances(root, n)
    race(
        benchmark,
        f"media create, {n} instances in {root.parent} (whole process)",
        lambda: _ours_cli(src, root / "OUTCLI", "--no-fsync"),
        {
            "cp -r + dcmmkdir": lambda: _cp_dcmmkdir(src, root / "OUTDC"),
            "dicomfast media create (DICOMDIR flushed)": lambda: _ours_cli(src, root / "OUTFS"),
        },
        target=3,
    )


def test_media_index_vs_dcmmkdir_in_place(benchmark, tmp_path_factory) -> None:  # noqa: ANN001
    """The same job on both sides: a DICOMDIR for files already in place under valid
    File IDs (``media index --no-fsync DIR`` / ``dcmmkdir +r +id DIR``), each on its
    own copy of the tree."""
    if not os.path.exists(DCMMKDIR):
        pytest.skip("DCMTK not installed")
    root = _root(tmp_path_factory)
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


def test_media_create_and_read_vs_pydicom(benchmark, tmp_path_factory) -> None:  # noqa: ANN001
    pytest.importorskip("pydicom")
    root = _root(tmp_path_factory)
    n = 40 if benchmark.disabled else N
    src = _instances(root, n)
    race(
        benchmark,
        f"FileSet add+write+read, {n} instances in {root.parent} (in process)",
        lambda: _ours_inproc(src, root / "OUTPY"),
        {"pydicom FileSet": lambda: _pydicom(src, root / "OUTPD")},
        target=10,
    )
