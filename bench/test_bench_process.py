"""Whole processes, as users run them (issue 16): our commands against DCMTK's
and a plain pydicom script on the same files, in the same run, interleaved.

1. Start-up: ``dicomfast --help`` and ``dicomfast echo`` (target <= 150 ms), beside
   DCMTK's ``echoscu`` against the same ``storescp``.
2. C-STORE of CT slices (0.5 MB each; 1,200 distinct instances, 20 in the smoke
   run): every sender {``storescu``, ``dicomfast store``} into every receiver
   {``storescp`` (no fsync, no index), ``dicomfast serve`` with its defaults
   (durable before Success, indexed), ``dicomfast serve --no-fsync``, ``storescp
   --ignore`` (receives and stores nothing: the senders compared without a
   receiver's disk, whose page-cache writes vary 2x from round to round here), and
   Orthanc with its defaults from ``storescu`` where Debian's ``orthanc`` is
   installed}; a fresh, empty receiver per round; rounds alternate the pairs.
   Targets: serve (default) from storescu >= 1.0x storescu -> storescp and >= 3x
   storescu -> Orthanc; store -> storescp >= 1.0x storescu -> storescp; store ->
   serve >= 1.5x DCMTK -> DCMTK. Each round also times the instances written and
   flushed alone (:data:`DURABLE_WRITES_SCRIPT`): with storescu into ``storescp
   --ignore``, the floor no durable receiver can take storescu below.
3. ``dicomfast convert`` of RLE files to explicit VR little endian against the
   I/O floor (a plain process reading the same inputs and writing outputs of the
   same sizes; target: within 2x) and a plain pydicom script (target >= 5x).
4. ``dicomfast export`` of the same files to 8-bit PNG (the file's window) against
   the same I/O floor (the PNGs' sizes) and a plain pydicom + Pillow script (same
   targets).

The ratios go to the terminal summary; ``--benchmark-enable`` runs the real sizes.
DCMTK runs with ``TCP_NODELAY=1`` (set for both of its processes; without it
Nagle's algorithm adds ~40 ms per message).  Every process is stopped and every
temporary folder removed, also on failure.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dicomfast
import pytest
from benchrace import RESULTS
from dicomfast.benchmark.store import dcmtk_tool, free_port, wait_port

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("DICOMFAST_CORPUS", ROOT.parent / "shared" / "corpus"))
CT_SLICES = CORPUS / "perf" / "ct512_20" / "unc"
CT_RLE = CORPUS / "perf" / "ct512_20" / "rle"
DICOMFAST = [sys.executable, "-m", "dicomfast"]
ENV = dict(os.environ, TCP_NODELAY="1")
LOCALHOST = "127.0.0.1"

pytestmark = [pytest.mark.slow, pytest.mark.benchmark(group="process")]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _run(argv: list[str], env: dict[str, str] | None = None, **kw: object) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env or ENV, **kw
    )  # type: ignore[call-overload]
    if done.returncode:  # say what the command said (its last lines), not only its status
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-8:]
        raise AssertionError(f"{argv} exited {done.returncode}:\n" + "\n".join(tail))
    return time.perf_counter() - t0


def _compiled_env(scratch: Path) -> dict[str, str]:
    """ENV with our modules' bytecode kept (in ``scratch``) from the first run on, as an
    installed package has it: with PYTHONDONTWRITEBYTECODE and the checkout's stale
    ``__pycache__``, every process compiled the changed modules again (~20 ms of a
    convert run), which the pydicom script, installed and compiled, never pays."""
    env = dict(ENV, PYTHONPYCACHEPREFIX=str(scratch / "pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="dicomfast-bench-process-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _ct_copies(folder: Path, n: int) -> Path:
    """``n`` distinct CT instances (corpus slices given new UIDs), made once."""
    import dicomfast

    folder.mkdir(parents=True, exist_ok=True)
    if len(list(folder.iterdir())) == n:
        return folder
    src = sorted(CT_SLICES.glob("*.dcm"))
    for i in range(n):
        ds = dicomfast.read(src[i % len(src)])
        ds.SOPInstanceUID = f"1.2.826.0.1.3680043.10.778.{i + 1}"
        ds.SeriesInstanceUID = f"1.2.826.0.1.3680043.10.778.0.{i // 100}"
        dicomfast.write(ds, folder / f"{i:05d}.dcm")
    return folder


def _report(title: str, rows: list[str]) -> None:
    RESULTS.append(title)
    RESULTS.extend(f"  {r}" for r in rows)


# -- 1. start-up ------------------------------------------------------------------------------
def test_startup(benchmark, scratch: Path) -> None:  # noqa: ANN001
    storescp, echoscu = dcmtk_tool("storescp"), dcmtk_tool("echoscu")
    if storescp is None or echoscu is None:
        pytest.skip("DCMTK not installed")
    port = free_port()
    proc = subprocess.Popen(
        [storescp, "-od", str(scratch), str(port)], env=ENV, stdout=subprocess.DEVNULL
    )
    try:
        wait_port(port, proc)
        rounds = 2 if benchmark.disabled else 15
        runs: dict[str, list[float]] = {"help": [], "echo": [], "echoscu": []}
        for _ in range(rounds):
            runs["help"].append(_run([*DICOMFAST, "--help"]))
            runs["echo"].append(_run([*DICOMFAST, "echo", LOCALHOST, str(port)]))
            runs["echoscu"].append(_run([echoscu, LOCALHOST, str(port)]))
        benchmark.pedantic(_run, args=([*DICOMFAST, "echo", LOCALHOST, str(port)],), rounds=1)
    finally:
        _stop(proc)
    med = {k: statistics.median(v) * 1e3 for k, v in runs.items()}
    _report(
        "start-up (median of whole processes; target <= 150 ms)",
        [
            f"dicomfast --help {med['help']:.0f} ms",
            f"dicomfast echo {med['echo']:.0f} ms; DCMTK echoscu {med['echoscu']:.0f} ms",
        ],
    )


# -- 2. C-STORE -------------------------------------------------------------------------------
RECEIVERS: dict[str, Callable[[Path, int], list[str]]] = {
    "storescp": lambda out, port: [
        dcmtk_tool("storescp") or "storescp",
        "-od",
        str(out),
        str(port),
    ],
    "serve": lambda out, port: [
        *DICOMFAST,
        "serve",
        "--host",
        LOCALHOST,
        "--port",
        str(port),
        "--storage",
        str(out),
        "-q",
        "--no-http",
    ],
    # receives every instance and answers Success, writes nothing: the senders alone
    # (-v: a line per request in its log, counted as the files of the others are)
    "storescp --ignore": lambda out, port: [
        dcmtk_tool("storescp") or "storescp",
        "--ignore",
        "-v",
        str(port),
    ],
    "serve --no-fsync": lambda out, port: [
        *DICOMFAST,
        "serve",
        "--host",
        LOCALHOST,
        "--port",
        str(port),
        "--storage",
        str(out),
        "-q",
        "--no-fsync",
        "--no-http",
    ],
}
ORTHANC = shutil.which("Orthanc")


def _orthanc(out: Path, port: int) -> list[str]:
    """Orthanc (Debian's package) as it runs by default (files flushed, SQLite index),
    its storage and index in ``out``, its DICOM port ``port``."""
    import json

    config = out.parent / "orthanc-bench.json"
    config.write_text(
        json.dumps(
            {
                "Name": "dicomfast-bench",
                "StorageDirectory": str(out / "storage"),
                "IndexDirectory": str(out / "index"),
                "DicomPort": port,
                "HttpPort": free_port(),
                "RemoteAccessAllowed": False,
                "AuthenticationEnabled": False,
                "StorageCompression": False,
                "SaveJobs": False,
            }
        )
    )
    return [ORTHANC or "Orthanc", str(config)]


if ORTHANC:
    RECEIVERS["orthanc"] = _orthanc
#: Pairs not run: Orthanc is measured with DCMTK's sender only (its target).
SKIPPED_PAIRS = {("store", "orthanc")}
#: Receivers that keep nothing: what they received is counted in their log instead.
DISCARDING = {"storescp --ignore"}

SENDERS: dict[str, Callable[[Path, int], list[str]]] = {
    "storescu": lambda src, port: [
        dcmtk_tool("storescu") or "storescu",
        "+sd",
        "-aec",
        "ANY-SCP",
        LOCALHOST,
        str(port),
        str(src),
    ],
    "store": lambda src, port: [*DICOMFAST, "store", LOCALHOST, str(port), str(src), "-q"],
}


#: The least a durable receiver must do per instance on the answer's path, whatever its
#: language: write the instance's bytes into a file and flush them. The files are made
#: (and their folder flushed) beforehand and each is opened and closed outside the
#: clock, as a receiver can do off the path (``serve`` makes its intake files ahead):
#: only the writes and flushes are timed, so the sum is a lower bound. Three ways of
#: writing (past the page cache, then the exact size; the whole blocks past it and the
#: last partial one through it, as ``serve`` does; through it), in a process of their
#: own; the fastest is the floor.
DURABLE_WRITES_SCRIPT = textwrap.dedent(
    """
    import mmap, os, sys, time
    out, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    buf = mmap.mmap(-1, -(-size // 4096) * 4096)  # page-aligned, as O_DIRECT wants
    buf[:] = bytes(range(256)) * (len(buf) // 256)
    direct = getattr(os, "O_DIRECT", 0)
    ways = (("direct", direct), ("direct + tail", direct), ("page cache", 0))
    for how, flag in ways:
        if how != "page cache" and not flag:
            continue
        folder = os.path.join(out, how.replace(" ", "-"))
        os.makedirs(folder)
        names = [os.path.join(folder, f"{i:05d}.dcm") for i in range(n)]
        for name in names:
            os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        fd = os.open(folder, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        took = 0.0
        try:
            for name in names:
                fd = os.open(name, os.O_WRONLY | flag)
                tail = os.open(name, os.O_WRONLY) if how == "direct + tail" else -1
                try:
                    t = time.perf_counter()
                    if tail >= 0:  # whole blocks past the page cache, the last through it
                        head = size - size % 4096
                        os.write(fd, memoryview(buf)[:head])
                        os.pwrite(tail, memoryview(buf)[head:size], head)
                    elif flag:  # whole blocks past the page cache, then the exact size
                        os.write(fd, buf)
                        os.ftruncate(fd, size)
                    else:
                        os.write(fd, memoryview(buf)[:size])
                    os.fdatasync(fd)
                    took += time.perf_counter() - t
                finally:
                    os.close(fd)
                    if tail >= 0:
                        os.close(tail)
        except OSError as e:  # e.g. a file system that refuses O_DIRECT
            print(how, "unsupported", e, file=sys.stderr)
            continue
        print(how, took)
    """
)


def _durable_writes(out: Path, n: int, size: int) -> dict[str, float]:
    """Seconds :data:`DURABLE_WRITES_SCRIPT` took for ``n`` instances of ``size`` bytes
    into ``out``, by way of writing."""
    got = subprocess.run(
        [sys.executable, "-c", DURABLE_WRITES_SCRIPT, str(out), str(n), str(size)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {how: float(t) for how, _, t in (line.rpartition(" ") for line in got.splitlines())}


def _stored(folder: Path) -> int:
    if (folder / "storage").is_dir():  # Orthanc: files named by UUID, 2 levels down
        return sum(
            1
            for d, _, fs in os.walk(folder / "storage")
            for f in fs
            if "." not in f and len(f) > 30
        )
    return sum(
        1 for _, _, fs in os.walk(folder) for f in fs if f.endswith(".dcm") or f.startswith("CT.")
    )


def test_c_store_whole_process(benchmark, scratch: Path) -> None:  # noqa: ANN001
    if not all(dcmtk_tool(t) for t in ("storescp", "storescu")):
        pytest.skip("DCMTK not installed")
    n = 20 if benchmark.disabled else 1200
    # best of 5: a receiver writing through the page cache varies 2x between runs on a VM
    rounds = 1 if benchmark.disabled else 5
    src = _ct_copies(scratch / f"ct{n}", n)
    times: dict[tuple[str, str], list[float]] = {}
    whole: dict[tuple[str, str], list[float]] = {}  # the sender, then the receiver's stop
    # Each receiver gets a new folder, and the received files are deleted only after the
    # last round: on ext4 a file system that freed many inodes within the last minute
    # makes every file creation skip them (~0.6 ms each on this VM), a cost that would
    # fall on whichever receiver ran after a deletion.
    received = scratch / "received"
    shutil.rmtree(received, ignore_errors=True)
    pairs = sum(
        (s, r) not in SKIPPED_PAIRS and r not in DISCARDING for r in RECEIVERS for s in SENDERS
    )  # every copy is kept until the end: say so up front rather than fail midway
    sizes = [p.stat().st_size for p in src.iterdir()]
    # (+3: the durable writes' three copies of the instances, each round)
    need = rounds * (pairs + 3) * sum(sizes) * 1.1
    size = round(statistics.median(sizes))
    durable: dict[str, list[float]] = {}
    free = shutil.disk_usage(scratch).free
    if free < need:
        pytest.skip(f"needs {need / 1e9:.1f} GB free in {scratch.parent}, has {free / 1e9:.1f}")
    k = 0
    for _ in range(rounds):
        k += 1
        for how, t in _durable_writes(received / f"{k:03d}-writes", n, size).items():
            durable.setdefault(how, []).append(t)
        for recv_name, recv in RECEIVERS.items():
            for send_name, send in SENDERS.items():
                if (send_name, recv_name) in SKIPPED_PAIRS:
                    continue
                k += 1
                out = received / f"{k:03d}"
                out.mkdir(parents=True)
                port = free_port()
                log = received / f"{k:03d}-{recv_name.replace(' ', '')}.log"
                with open(log, "wb") as said:
                    proc = subprocess.Popen(
                        recv(out, port), env=ENV, stdout=subprocess.DEVNULL, stderr=said
                    )
                try:
                    wait_port(port, proc)
                    t = _run(send(src, port))
                    # then the receiver's stop: `serve` names and indexes what waits
                    # (it does so once a sender pauses) before it exits
                    t0 = time.perf_counter()
                    _stop(proc)
                    stopped = time.perf_counter() - t0
                except AssertionError as e:  # the receiver's last words beside the sender's
                    _stop(proc)
                    said_tail = log.read_text(errors="replace").strip().splitlines()[-8:]
                    raise AssertionError(
                        f"{send_name} -> {recv_name}: {e}\nreceiver:\n" + "\n".join(said_tail)
                    ) from None
                finally:
                    _stop(proc)
                got = (
                    log.read_text(errors="replace").count("Received Store Request")
                    if recv_name in DISCARDING
                    else _stored(out)
                )
                assert got == n, (send_name, recv_name, got)
                times.setdefault((send_name, recv_name), []).append(t)
                whole.setdefault((send_name, recv_name), []).append(t + stopped)
    shutil.rmtree(received, ignore_errors=True)
    benchmark.pedantic(lambda: None, rounds=1)  # the timings are the whole processes above
    # Best and median of the rounds: a receiver writing through the page cache varies
    # 2x from run to run on a VM (a page's first touch is a hypervisor fault), so its
    # best run and its usual run tell different stories; both are reported.
    best = {k: min(v) for k, v in times.items()}
    med = {k: statistics.median(v) for k, v in times.items()}
    base, base_med = best[("storescu", "storescp")], med[("storescu", "storescp")]
    rows = [
        f"{s} -> {r}: best {t:.2f} s ({n / t:.0f} images/s), median {med[(s, r)]:.2f} s -> "
        f"{base / t:.2f}x storescu -> storescp (medians {base_med / med[(s, r)]:.2f}x)"
        for (s, r), t in sorted(best.items(), key=lambda kv: kv[1])
    ]
    ignoring = ("storescu", "storescp --ignore"), ("store", "storescp --ignore")
    if all(pair in best for pair in ignoring):
        dcmtk, ours = ignoring
        rows.append(
            f"store vs storescu, both into storescp --ignore (the senders alone): "
            f"{best[dcmtk] / best[ours]:.2f}x (medians {med[dcmtk] / med[ours]:.2f}x)"
        )
    alone = ignoring[0]  # storescu with a receiver that stores nothing
    if durable and alone in best and ("storescu", "serve") in best:
        # storescu waits for each answer, so a durable receiver's write and flush of an
        # instance add to its own time, whatever the receiver does besides
        how, w = min(((h, min(v)) for h, v in durable.items()), key=lambda hv: hv[1])
        floor = best[alone] + w
        rows.append(
            f"durable floor for storescu (it waits for each answer): storescu alone "
            f"{best[alone]:.2f} s + {n} instances written and flushed {w:.2f} s "
            f"({how}; "
            + ", ".join(f"{h} {min(v):.2f} s" for h, v in sorted(durable.items()))
            + f") = {floor:.2f} s; storescu -> storescp best {base:.2f} s, "
            f"storescu -> serve best {best[('storescu', 'serve')]:.2f} s"
        )
    if ("storescu", "orthanc") in best:
        pair, orthanc = ("storescu", "serve"), ("storescu", "orthanc")
        rows.append(
            f"storescu -> serve vs storescu -> orthanc: {best[orthanc] / best[pair]:.2f}x "
            f"(medians {med[orthanc] / med[pair]:.2f}x)"
        )
    # Until the receiver has stopped, every instance named and indexed (`serve` does
    # that once a sender pauses, off the answers' path; storescp has nothing left to do):
    rows += [
        f"  {s} -> {r}, then the receiver stopped: best {min(v):.2f} s, "
        f"median {statistics.median(v):.2f} s"
        for (s, r), v in sorted(whole.items(), key=lambda kv: min(kv[1]))
    ]
    rows.append(
        "targets: storescu -> serve >= 1.0x (and >= 3x Orthanc); store -> storescp >= 1.0x; "
        "store -> serve >= 1.5x"
    )
    _report(f"C-STORE, {n} CT images of 0.5 MB, whole processes ({rounds} rounds)", rows)


# -- 3. convert -------------------------------------------------------------------------------
PYDICOM_SCRIPT = textwrap.dedent(
    """
    import os, sys, pydicom
    from pydicom.uid import ExplicitVRLittleEndian
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for name in sorted(os.listdir(src)):
        ds = pydicom.dcmread(os.path.join(src, name))
        ds.decompress()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.save_as(os.path.join(out, name), enforce_file_format=True)
    """
)
FLOOR_SCRIPT = textwrap.dedent(
    """
    import os, sys
    src, out, sizes = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(out, exist_ok=True)
    want = dict(line.split() for line in open(sizes))
    for name in sorted(os.listdir(src)):
        with open(os.path.join(src, name), "rb") as f:
            data = f.read()
        n = int(want[name])
        with open(os.path.join(out, name), "wb") as f:
            f.write((data * (n // max(1, len(data)) + 1))[:n])
    if len(sys.argv) > 4:  # the durable floor: the same bytes, then one flush
        os.sync()
    """
)


PYDICOM_EXPORT_SCRIPT = textwrap.dedent(
    """
    import os, sys
    import numpy as np, pydicom
    from PIL import Image
    from pydicom.pixels import apply_modality_lut, apply_voi_lut
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for name in sorted(os.listdir(src)):
        ds = pydicom.dcmread(os.path.join(src, name))
        v = apply_voi_lut(apply_modality_lut(ds.pixel_array, ds), ds).astype(np.float64)
        lo, hi = v.min(), v.max()
        img = np.clip(np.rint((v - lo) * (255 / max(hi - lo, 1))), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(os.path.join(out, os.path.splitext(name)[0] + ".png"))
    """
)


def _rle_inputs(scratch: Path, copies: int) -> Path:
    """``copies`` copies of the corpus's RLE CT slices (20 each), made once."""
    src = scratch / "rle"
    if not src.exists():
        src.mkdir()
        for k in range(copies):
            for f in sorted(CT_RLE.glob("*.dcm")):
                shutil.copy(f, src / f"{k:02d}_{f.name}")
    return src


def _whole_process_runs(
    scratch: Path, src: Path, command: list[str], script: str, rounds: int, suffix: str
) -> tuple[dict[str, list[float]], Callable[[], float]]:
    """``dicomfast <command>`` (durable, the default, and ``--no-fsync``), the I/O floor
    (the same inputs read, outputs of our outputs' sizes written; with and without one
    flush) and the pydicom ``script``, interleaved, each from a clean file system (the
    previous outputs removed and written back); ``suffix``: our outputs' extension
    (matched to the inputs by stem for the floor)."""
    (scratch / "floor.py").write_text(FLOOR_SCRIPT)
    (scratch / "plain.py").write_text(script)
    ours_out = scratch / "ours"

    env = _compiled_env(scratch)

    def clean(out: Path) -> None:
        """Remove ``out`` and write back what is pending: no run pays for the deletions
        and writes of the one before (a durable run's first flush did, for the runs
        without flushes before it)."""
        shutil.rmtree(out, ignore_errors=True)
        os.sync()

    def ours(*extra: str) -> float:
        clean(ours_out)
        return _run(
            [*DICOMFAST, *command[:1], str(src), "-o", str(ours_out), *command[1:], "-q", *extra],
            env,
        )

    ours()  # also compiles our modules once
    sizes = scratch / "sizes.txt"
    made = {p.stem: p.stat().st_size for p in ours_out.iterdir() if p.suffix == suffix}
    sizes.write_text("".join(f"{p.name} {made[p.stem]}\n" for p in src.iterdir()))

    def floor(*extra: str) -> float:
        out = scratch / "floor"
        clean(out)
        return _run(
            [sys.executable, str(scratch / "floor.py"), str(src), str(out), str(sizes), *extra]
        )

    def plain() -> float:
        out = scratch / "plain"
        clean(out)
        return _run([sys.executable, str(scratch / "plain.py"), str(src), str(out)])

    t: dict[str, list[float]] = {
        "ours": [],
        "floor+sync": [],
        "ours --no-fsync": [],
        "floor": [],
        "pydicom": [],
    }
    for _ in range(rounds):
        t["ours"].append(ours())  # durable: outputs flushed in groups before reported
        t["floor+sync"].append(floor("sync"))
        t["ours --no-fsync"].append(ours("--no-fsync"))
        t["floor"].append(floor())
        t["pydicom"].append(plain())  # not durable either
    return t, ours


def _whole_process_report(title: str, t: dict[str, list[float]], verb: str) -> None:
    med = {k: statistics.median(v) for k, v in t.items()}
    span = {k: f"{min(v):.2f}-{max(v):.2f}" for k, v in t.items()}
    _report(
        title,
        [
            f"dicomfast {verb} (durable) {med['ours']:.2f} s ({span['ours']}); I/O floor + one "
            f"flush {med['floor+sync']:.2f} s ({span['floor+sync']}) -> "
            f"{med['ours'] / med['floor+sync']:.2f}x (target <= 2x)",
            f"dicomfast {verb} --no-fsync {med['ours --no-fsync']:.2f} s "
            f"({span['ours --no-fsync']}); I/O floor {med['floor']:.2f} s ({span['floor']}) -> "
            f"{med['ours --no-fsync'] / med['floor']:.2f}x (target <= 2x)",
            f"pydicom script (not durable) {med['pydicom']:.2f} s ({span['pydicom']}) -> "
            f"{med['pydicom'] / med['ours --no-fsync']:.1f}x ours --no-fsync, "
            f"{med['pydicom'] / med['ours']:.1f}x ours durable (target >= 5x)",
            f"load average {os.getloadavg()[0]:.1f}",
        ],
    )


def _rle_whole_process(
    benchmark, scratch: Path, command: list[str], script: str, suffix: str, what: str
) -> None:  # noqa: ANN001
    """``dicomfast <command>`` of 220 RLE CT files against the I/O floor and ``script``,
    whole processes, reported as ``what``."""
    copies = 1 if benchmark.disabled else 11  # 220 RLE files
    rounds = 1 if benchmark.disabled else 5
    src = _rle_inputs(scratch, copies)
    n = len(list(src.iterdir()))
    t, ours = _whole_process_runs(scratch, src, command, script, rounds, suffix)
    benchmark.pedantic(ours, rounds=1)
    _whole_process_report(
        f"dicomfast {command[0]}, {n} RLE CT files -> {what}, whole processes "
        f"(median and range of {rounds})",
        t,
        command[0],
    )


def test_convert_whole_process(benchmark, scratch: Path) -> None:  # noqa: ANN001
    pytest.importorskip("pydicom")
    command = ["convert", "-t", "explicit-le"]
    _rle_whole_process(benchmark, scratch, command, PYDICOM_SCRIPT, ".dcm", "explicit VR LE")


#: What a pydicom user writes to move files to HTJ2K: pydicom 3 decodes, imagecodecs
#: (OpenJPH 0.26) encodes the same way we do (reversible, 5 levels), pydicom encapsulates.
PYDICOM_HTJ2K_SCRIPT = textwrap.dedent(
    """
    import os, sys, imagecodecs, pydicom
    from pydicom.encaps import encapsulate
    from pydicom.uid import HTJ2KLossless
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for name in sorted(os.listdir(src)):
        ds = pydicom.dcmread(os.path.join(src, name))
        arr = ds.pixel_array
        frame = imagecodecs.htj2k_encode(arr, reversible=True, resolutions=6)
        ds.PixelData = encapsulate([frame])
        ds["PixelData"].VR = "OB"
        ds.file_meta.TransferSyntaxUID = HTJ2KLossless
        ds.save_as(os.path.join(out, name), enforce_file_format=True)
    """
)


def test_convert_htj2k_whole_process(benchmark, scratch: Path) -> None:  # noqa: ANN001
    """``dicomfast convert -t htj2k`` of 220 RLE CT files (durable, and ``--no-fsync``)
    against the pydicom + imagecodecs script above, whole processes, interleaved."""
    pytest.importorskip("pydicom")
    pytest.importorskip("imagecodecs")
    copies = 1 if benchmark.disabled else 11
    rounds = 1 if benchmark.disabled else 5
    src = _rle_inputs(scratch, copies)
    n = len(list(src.iterdir()))
    (scratch / "htj2k.py").write_text(PYDICOM_HTJ2K_SCRIPT)
    env = _compiled_env(scratch)

    def fresh(out: Path) -> None:
        shutil.rmtree(out, ignore_errors=True)
        os.sync()

    def ours(*extra: str) -> float:
        out = scratch / "ours-htj2k"
        fresh(out)
        argv = [*DICOMFAST, "convert", str(src), "-o", str(out), "-t", "htj2k", "-q", *extra]
        return _run(argv, env)

    def theirs() -> float:
        out = scratch / "theirs-htj2k"
        fresh(out)
        return _run([sys.executable, str(scratch / "htj2k.py"), str(src), str(out)])

    ours()  # compiles our modules once
    t: dict[str, list[float]] = {"ours": [], "ours --no-fsync": [], "script": []}
    for _ in range(rounds):
        t["ours"].append(ours())
        t["ours --no-fsync"].append(ours("--no-fsync"))
        t["script"].append(theirs())
    benchmark.pedantic(ours, rounds=1)
    # Both made HTJ2K files of the same pixels.
    a = sorted((scratch / "ours-htj2k").iterdir())[0]
    b = scratch / "theirs-htj2k" / a.name
    ours_ds, theirs_ds = dicomfast.read(a), dicomfast.read(b)
    assert ours_ds.transfer_syntax == theirs_ds.transfer_syntax == "1.2.840.10008.1.2.4.201"
    assert (ours_ds.pixel_array == theirs_ds.pixel_array).all()
    med = {k: statistics.median(v) for k, v in t.items()}
    span = {k: f"{min(v):.2f}-{max(v):.2f}" for k, v in t.items()}
    _report(
        f"dicomfast convert -t htj2k, {n} RLE CT files, whole processes (median and range "
        f"of {rounds})",
        [
            f"dicomfast convert -t htj2k (durable) {med['ours']:.2f} s ({span['ours']}); "
            f"--no-fsync {med['ours --no-fsync']:.2f} s ({span['ours --no-fsync']})",
            f"pydicom + imagecodecs script (not durable) {med['script']:.2f} s "
            f"({span['script']}) -> {med['script'] / med['ours']:.1f}x ours durable, "
            f"{med['script'] / med['ours --no-fsync']:.1f}x ours --no-fsync",
            f"load average {os.getloadavg()[0]:.1f}",
        ],
    )


PYDICOM_FROM_HTJ2K_SCRIPT = textwrap.dedent(
    """
    import os, sys, imagecodecs, pydicom
    from pydicom.encaps import generate_frames
    from pydicom.uid import ExplicitVRLittleEndian
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for name in sorted(os.listdir(src)):
        ds = pydicom.dcmread(os.path.join(src, name))
        frame = next(generate_frames(ds.PixelData, number_of_frames=1))
        ds.PixelData = imagecodecs.htj2k_decode(frame).tobytes()
        ds["PixelData"].VR = "OW"
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.save_as(os.path.join(out, name), enforce_file_format=True)
    """
)


def test_convert_from_htj2k_whole_process(benchmark, scratch: Path) -> None:  # noqa: ANN001
    """Decoding as users run it: ``dicomfast convert -t explicit-le`` of 220 HTJ2K Lossless
    CT files (made by our encoder) against a pydicom script decoding each frame with
    imagecodecs' OpenJPH kernel (``htj2k_decode``, the fastest HTJ2K decoder on PyPI),
    whole processes, interleaved, both not durable (``--no-fsync``)."""
    pytest.importorskip("imagecodecs")
    _convert_from_whole_process(
        benchmark, scratch, "htj2k", PYDICOM_FROM_HTJ2K_SCRIPT, "pydicom + imagecodecs (OpenJPH)"
    )


def test_convert_from_j2k_whole_process(benchmark, scratch: Path) -> None:  # noqa: ANN001
    """Decoding JPEG 2000 as users run it: ``dicomfast convert -t explicit-le`` of 220 JPEG
    2000 Lossless CT files (made by ``convert -t j2k``, OpenJPEG's encoder) against a
    pydicom script calling ``Dataset.decompress()`` with its best plugin (the convert
    benchmark's script), whole processes, interleaved, both not durable (``--no-fsync``)."""
    _convert_from_whole_process(
        benchmark, scratch, "j2k", PYDICOM_SCRIPT, "pydicom decompress() script"
    )


def test_convert_from_jpeg_ls_whole_process(benchmark, scratch: Path) -> None:  # noqa: ANN001
    """Decoding JPEG-LS as users run it: ``dicomfast convert -t explicit-le`` of 220 JPEG-LS
    Lossless CT files (made by ``convert -t jpeg-ls``) against a pydicom script calling
    ``Dataset.decompress()`` with its best plugin, whole processes, interleaved, both not
    durable (``--no-fsync``)."""
    _convert_from_whole_process(
        benchmark, scratch, "jpeg-ls", PYDICOM_SCRIPT, "pydicom decompress() script"
    )


US_CINE_RLE = CORPUS / "perf" / "us_cine" / "rle"


def _jpeg_cine_inputs(scratch: Path, copies: int) -> Path:
    """``copies`` copies of the corpus's ultrasound cine (20 frames of 640x480 RGB) as
    ultrasound stores it: JPEG baseline YBR_FULL_422 (YCbCr 4:2:2, quality 90, by our
    encoder), each with its own SOP Instance UID; made once."""
    from dicomfast.pixels.encode import (
        encapsulated_value,
        encode_options,
        mark_lossy,
        set_encapsulated_pixels,
    )
    from dicomfast.pixels.info import pixel_info

    out = scratch / "jpeg-cine-inputs"
    if out.exists():
        return out
    out.mkdir()
    ts = "1.2.840.10008.1.2.4.50"
    for src in sorted(US_CINE_RLE.glob("*.dcm")):
        ds = dicomfast.read(src)
        info = pixel_info(ds)
        arr = ds.pixel_array
        opts = encode_options(ts, quality=90, colour_transform=True)
        value = encapsulated_value(arr, info, ts, **opts)
        set_encapsulated_pixels(ds, value, info, ts)
        ds.PhotometricInterpretation = "YBR_FULL_422"
        mark_lossy(ds, "ISO_10918_1", arr.nbytes / len(value))
        for k in range(copies):
            ds.SOPInstanceUID = f"1.2.826.0.1.3680043.10.778.9.{k + 1}"
            dicomfast.write(ds, out / f"{k:02d}_{src.name}")
    return out


def test_convert_from_jpeg_whole_process(benchmark, scratch: Path) -> None:  # noqa: ANN001
    """Decoding JPEG as users run it: ``dicomfast convert -t explicit-le`` of 11 ultrasound
    cines (20 frames of 640x480 each, JPEG baseline YBR_FULL_422) against DCMTK's
    ``dcmdjpeg +cn`` (no colour conversion, as ours), one process per file as it takes
    them, whole processes, interleaved, neither flushing; the same pixels."""
    dcmdjpeg = dcmtk_tool("dcmdjpeg")
    if dcmdjpeg is None:
        pytest.skip("DCMTK not installed")
    copies = 1 if benchmark.disabled else 11
    _convert_against_dcmdjpeg(
        benchmark, scratch, "jpeg", _jpeg_cine_inputs(scratch, copies), dcmdjpeg, "+cn"
    )


def _convert_against_dcmdjpeg(
    benchmark,  # noqa: ANN001
    scratch: Path,
    syntax: str,
    src: Path,
    dcmdjpeg: str,
    *flags: str,
) -> None:
    """:func:`_convert_from_whole_process` of the files in ``src`` against DCMTK's
    ``dcmdjpeg`` with ``flags``, one process per file (a shell loop: it takes one)."""
    opts = " ".join(flags)
    loop = f'for f in "$1"/*; do "$0" {opts} "$f" "$2/${{f##*/}}" || exit 1; done'
    _convert_from_whole_process(
        benchmark,
        scratch,
        syntax,
        "",
        f"DCMTK dcmdjpeg{' ' + opts if opts else ''}, a process per file",
        peer_argv=lambda s, out: ["sh", "-c", loop, dcmdjpeg, str(s), str(out)],
        inputs=src,
    )


JPLY = CORPUS / "public" / "wg04" / "JPLY"


def _jpeg12_inputs(scratch: Path, copies: int) -> Path:
    """``copies`` copies of the corpus's three real JPEG Extended 12-bit grey files (WG-04's
    MR 512x512, XA 1024x1024, CR 1760x1760), each with its own SOP Instance UID; made
    once."""
    out = scratch / "jpeg12-inputs"
    if out.exists():
        return out
    out.mkdir()
    for src in sorted(JPLY.glob("*_JPLY")):
        ds = dicomfast.read(src)
        for k in range(copies):
            ds.SOPInstanceUID = f"1.2.826.0.1.3680043.10.778.12.{k + 1}"
            dicomfast.write(ds, out / f"{k:02d}_{src.name}.dcm")
    return out


def test_convert_from_jpeg12_whole_process(benchmark, scratch: Path) -> None:  # noqa: ANN001
    """Decoding 12-bit JPEG (grey, as CT, MR and CR store it) as users run it:
    ``dicomfast convert -t explicit-le`` of 60 files (20 copies of WG-04's three JPEG
    Extended files) against DCMTK's ``dcmdjpeg``, one process per file as it takes them,
    whole processes, interleaved, neither flushing; the same pixels."""
    dcmdjpeg = dcmtk_tool("dcmdjpeg")
    if dcmdjpeg is None:
        pytest.skip("DCMTK not installed")
    if not JPLY.exists():
        pytest.skip("wg04 files not in the corpus")
    src = _jpeg12_inputs(scratch, 1 if benchmark.disabled else 20)
    _convert_against_dcmdjpeg(benchmark, scratch, "jpeg12", src, dcmdjpeg)


GREY8_JPEG = (
    CORPUS / "public" / "cornerstone" / "CTImage.dcm_JPEGProcess1_1.2.840.10008.1.2.4.50.dcm"
)


def _jpeg8_grey_inputs(scratch: Path, copies: int) -> Path:
    """``copies`` copies of the corpus's real 512x512 grey JPEG Baseline CT (8 bits), each
    with its own SOP Instance UID; made once."""
    out = scratch / "jpeg8-grey-inputs"
    if out.exists():
        return out
    out.mkdir()
    ds = dicomfast.read(GREY8_JPEG)
    for k in range(copies):
        ds.SOPInstanceUID = f"1.2.826.0.1.3680043.10.778.8.{k + 1}"
        dicomfast.write(ds, out / f"{k:03d}.dcm")
    return out


@pytest.mark.parametrize("peer", ["dcmdjpeg", "pydicom"])
def test_convert_from_jpeg8_grey_whole_process(benchmark, scratch: Path, peer: str) -> None:  # noqa: ANN001
    """Decoding 8-bit grey JPEG (our entropy decoder into libjpeg-turbo's IDCT) as users
    run it: ``dicomfast convert -t explicit-le`` of 100 copies of a real JPEG Baseline CT
    against DCMTK's ``dcmdjpeg`` (a process per file, as it takes them) and against a
    pydicom script (``decompress()``, its best plugin), whole processes, interleaved,
    neither flushing; the same pixels."""
    if not GREY8_JPEG.exists():
        pytest.skip("cornerstone files not in the corpus")
    src = _jpeg8_grey_inputs(scratch, 1 if benchmark.disabled else 100)
    if peer == "pydicom":
        _convert_from_whole_process(
            benchmark,
            scratch,
            "jpeg8-grey",
            PYDICOM_SCRIPT,
            "pydicom decompress() script",
            inputs=src,
        )
        return
    dcmdjpeg = dcmtk_tool("dcmdjpeg")
    if dcmdjpeg is None:
        pytest.skip("DCMTK not installed")
    _convert_against_dcmdjpeg(benchmark, scratch, "jpeg8-grey", src, dcmdjpeg)


def _convert_from_whole_process(
    benchmark,  # noqa: ANN001
    scratch: Path,
    syntax: str,
    script: str,
    peer: str,
    *,
    peer_argv: Callable[[Path, Path], list[str]] | None = None,
    inputs: Path | None = None,
) -> None:
    """``peer_argv(src, out)``: the peer's command instead of ``script`` run by Python.
    ``inputs``: files already made (lossy: the two outputs are compared with each other),
    instead of the RLE CT files converted to ``syntax``."""
    if peer_argv is None:
        pytest.importorskip("pydicom")
    copies = 1 if benchmark.disabled else 11
    rounds = 1 if benchmark.disabled else 5
    env = _compiled_env(scratch)
    src = scratch / f"{syntax}-inputs"
    if inputs is None:
        rle = _rle_inputs(scratch, copies)
        shutil.rmtree(src, ignore_errors=True)
        _run([*DICOMFAST, "convert", str(rle), "-o", str(src), "-t", syntax, "-q"], env)
    else:
        src = inputs
    n = len(list(src.iterdir()))
    if peer_argv is None:
        (scratch / f"from_{syntax}.py").write_text(script)

    def fresh(out: Path) -> None:
        shutil.rmtree(out, ignore_errors=True)
        os.sync()

    def ours() -> float:
        out = scratch / "ours-explicit"
        fresh(out)
        argv = [*DICOMFAST, "convert", str(src), "-o", str(out), "-t", "explicit-le", "-q"]
        return _run([*argv, "--no-fsync"], env)

    def theirs() -> float:
        out = scratch / "theirs-explicit"
        fresh(out)
        if peer_argv is not None:
            out.mkdir()
            return _run(peer_argv(src, out))
        return _run([sys.executable, str(scratch / f"from_{syntax}.py"), str(src), str(out)])

    ours()  # compiles our modules once
    t: dict[str, list[float]] = {"ours": [], "script": []}
    for _ in range(rounds):
        t["ours"].append(ours())
        t["script"].append(theirs())
    benchmark.pedantic(ours, rounds=1)
    # Both wrote the same pixels, those the RLE files hold.
    a = sorted((scratch / "ours-explicit").iterdir())[0]
    b = scratch / "theirs-explicit" / a.name
    assert (dicomfast.read(a).pixel_array == dicomfast.read(b).pixel_array).all()
    if inputs is None:
        assert (dicomfast.read(a).pixel_array == dicomfast.read(rle / a.name).pixel_array).all()
    med = {k: statistics.median(v) for k, v in t.items()}
    span = {k: f"{min(v):.2f}-{max(v):.2f}" for k, v in t.items()}
    _report(
        f"dicomfast convert -t explicit-le of {n} {syntax} files, whole processes (median "
        f"and range of {rounds}, both --no-fsync)",
        [
            f"dicomfast convert {med['ours']:.2f} s ({span['ours']})",
            f"{peer} {med['script']:.2f} s ({span['script']}) "
            f"-> {med['script'] / med['ours']:.1f}x",
            f"load average {os.getloadavg()[0]:.1f}",
        ],
    )


def test_export_whole_process(benchmark, scratch: Path) -> None:  # noqa: ANN001
    pytest.importorskip("pydicom")
    pytest.importorskip("PIL")
    command = ["export", "--format", "png"]
    _rle_whole_process(benchmark, scratch, command, PYDICOM_EXPORT_SCRIPT, ".png", "8-bit PNG")
