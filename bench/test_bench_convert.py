"""``dicomfast convert`` throughput (issue 6): files/s and MB/s for RLE → explicit
VR LE, explicit VR LE → RLE, JPEG Lossless SV1 → explicit VR LE and explicit VR LE
→ JPEG Lossless SV1, on perf/ct512_20 (repeated to 100 files, so that process
start-up is amortised as in a real batch) and perf/us_cine (one 20-frame RGB
file, 18 MB), against

(a) pydicom 3.0.2 + its best installed plugin in one process (``ds.decompress()`` /
    ``ds.compress()``; pydicom has no JPEG Lossless encoder: N/A) — target >= 10x;
(b) DCMTK ``dcmdrle`` / ``dcmcrle`` / ``dcmdjpeg`` / ``dcmcjpeg +e1``, one process
    per file — target >= 3x;
(c) GDCM ``gdcmconv --raw / --rle / --jpeg``, one process per file — target >= 3x.

dicomfast runs the library entry point the CLI uses (``run_tasks`` over a streamed
file list, a process pool over all cores, outputs via temp file + rename; no
per-file fsync, as the competitors do none), with the CLI's codec threads per file
(``codec_threads``: the frames of the one multi-frame file are coded in parallel).
A second test measures peak RSS of the whole process tree for 20 and 200 files: it
must not grow with the count.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from benchrace import RESULTS, race
from dicomfast.batch import ConvertOptions, convert_file, iter_sources, run_tasks
from dicomfast.batch.syntaxes import NAMES
from dicomfast.cli.convert import codec_threads

pydicom = pytest.importorskip("pydicom")

CASES = {  # name: (input folder under perf/<set>/, target syntax name)
    "RLE -> explicit LE": ("rle", "explicit-le"),
    "explicit LE -> RLE": ("unc", "rle"),
    "JPEG-LL SV1 -> explicit LE": ("jpll_sv1", "explicit-le"),
    "explicit LE -> JPEG-LL SV1": ("unc", "jpeg-ll"),
}
DCMTK = {
    "explicit-le": lambda src, dst, kind: (
        (["dcmdrle"] if kind == "rle" else ["dcmdjpeg"]) + [src, dst]
    ),
    "rle": lambda src, dst, kind: ["dcmcrle", src, dst],
    "jpeg-ll": lambda src, dst, kind: ["dcmcjpeg", "+e1", src, dst],
}
GDCM = {"explicit-le": "--raw", "rle": "--rle", "jpeg-ll": "--jpeg"}
REPEAT = 5  # ct512_20: 20 files x 5 = 100 files


def _farm(corpus: Path, dataset: str, kind: str, tmp: Path, repeat: int) -> Path:
    """``repeat`` copies (symlinks) of a perf set under one folder."""
    root = tmp / f"{dataset}-{kind}-{repeat}"
    if not root.exists():
        for r in range(repeat):
            d = root / f"r{r}"
            d.mkdir(parents=True)
            for p in sorted((corpus / "perf" / dataset / kind).glob("*.dcm")):
                (d / p.name).symlink_to(p)
    return root


def _files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.dcm"))


def _ours(root: Path, target: str, out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    opts = ConvertOptions(
        out=str(out),
        transfer_syntax=NAMES[target],
        threads=codec_threads(None, None),
        fsync=False,
    )
    recs = list(run_tasks(functools.partial(convert_file, opts=opts), iter_sources([root])))
    assert all(r["status"] == "converted" for r in recs), [
        r for r in recs if r["status"] != "converted"
    ][:1]


def _pydicom(files: list[Path], target: str, out: Path) -> None:
    from pydicom.uid import RLELossless

    out.mkdir(parents=True, exist_ok=True)
    for i, p in enumerate(files):
        ds = pydicom.dcmread(p)
        if target == "explicit-le":
            ds.decompress()
        else:
            ds.compress(RLELossless)
        ds.save_as(out / f"{i}.dcm")


def _per_file(cmd_for, files: list[Path], out: Path) -> None:  # noqa: ANN001
    out.mkdir(parents=True, exist_ok=True)
    for i, p in enumerate(files):
        subprocess.run(cmd_for(str(p), str(out / f"{i}.dcm")), check=True, capture_output=True)


def _competitors(files: list[Path], kind: str, target: str, out: Path) -> dict:
    theirs = {}
    if target != "jpeg-ll":  # pydicom 3.0.2 has no JPEG Lossless encoder
        theirs["pydicom"] = lambda: _pydicom(files, target, out / "pydicom")
    if shutil.which("dcmdrle"):
        theirs["dcmtk"] = lambda: _per_file(
            lambda s, d: DCMTK[target](s, d, kind), files, out / "dcmtk"
        )
    if shutil.which("gdcmconv"):
        theirs["gdcmconv"] = lambda: _per_file(
            lambda s, d: ["gdcmconv", GDCM[target], s, d], files, out / "gdcm"
        )
    return theirs


@pytest.mark.parametrize("dataset", ["ct512_20", "us_cine"])
@pytest.mark.parametrize("case", list(CASES))
def test_convert_throughput(
    benchmark, corpus: Path, case: str, dataset: str, tmp_path_factory
) -> None:  # noqa: ANN001
    kind, target = CASES[case]
    tmp = tmp_path_factory.mktemp("convert")
    root = _farm(corpus, dataset, kind, tmp, REPEAT if dataset == "ct512_20" else 1)
    files = _files(root)
    nbytes = sum(p.stat().st_size for p in files)
    theirs = _competitors(files, kind, target, tmp / "theirs")
    if benchmark.disabled:  # smoke run: two files only
        root = tmp / "smoke"
        root.mkdir()
        for p in files[:2]:
            (root / p.name).symlink_to(p.resolve())
        files = _files(root)
        theirs = _competitors(files, kind, target, tmp / "theirs")
    ratios = race(
        benchmark,
        f"convert {case} ({dataset}, {len(files)} files, {nbytes / 1e6:.0f} MB)",
        lambda: _ours(root, target, tmp / "ours"),
        theirs,
        nbytes=nbytes,
    )
    if ratios:
        t = benchmark.stats.stats.median
        RESULTS.append(
            f"  -> dicomfast {len(files) / t:.1f} files/s, {nbytes / t / 1e6:.1f} MB/s; targets: "
            + ", ".join(
                f"{k} {v:.1f}x (>= {10 if k == 'pydicom' else 3}x: "
                f"{'met' if v >= (10 if k == 'pydicom' else 3) else 'MISSED'})"
                for k, v in ratios.items()
            )
        )


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants (Linux /proc)."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    stack.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def _peak_rss(cmd: list[str]) -> tuple[int, float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kb(proc.pid))
            time.sleep(0.02)

    th = threading.Thread(target=sample)
    th.start()
    rc = proc.wait()
    done.set()
    th.join()
    assert rc == 0
    return peak, time.perf_counter() - t0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc needed")
def test_peak_memory_independent_of_file_count(benchmark, corpus: Path) -> None:  # noqa: ANN001
    if benchmark.disabled:
        pytest.skip("memory scaling is measured with --benchmark-enable")
    with tempfile.TemporaryDirectory() as tmp:
        peaks = {}
        for repeat in (1, 10):
            root = _farm(corpus, "ct512_20", "rle", Path(tmp), repeat)
            cmd = [
                sys.executable,
                "-m",
                "dicomfast",
                "convert",
                str(root),
                "-o",
                str(Path(tmp) / f"out{repeat}"),
                "-t",
                "explicit-le",
                "-q",
                "--no-fsync",
            ]
            peaks[20 * repeat], secs = _peak_rss(cmd)
        RESULTS.append(
            "convert peak RSS (whole process tree, RLE -> explicit LE): "
            + ", ".join(f"{n} files {kb / 1024:.0f} MB" for n, kb in peaks.items())
        )
        assert peaks[200] < peaks[20] * 1.25 + 20 * 1024
