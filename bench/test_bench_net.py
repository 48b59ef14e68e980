"""Networking (issue 4): dicomfast → dicomfast against pynetdicom → pynetdicom
and DCMTK storescu/echoscu → storescp, same files, same run.

(a) C-ECHO round trips per second on one association
(b) C-STORE images/s and MB/s for a set of small files (one association)

Every SCP runs in its own process (ours: ``dicomfast serve --no-fsync``, as
neither storescp nor the pynetdicom handler fsyncs); the SCUs run here, except
DCMTK's.  ``pytest bench/test_bench_net.py --benchmark-disable`` runs each
once with a small workload (CI smoke test).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from benchrace import RESULTS, race

pydicom = pytest.importorskip("pydicom")
pynetdicom = pytest.importorskip("pynetdicom")

pytestmark = [pytest.mark.slow, pytest.mark.benchmark(group="net")]

ROOT = Path(__file__).resolve().parent.parent
PYDICOM = (
    Path(os.environ.get("DICOMFAST_CORPUS", ROOT.parent / "shared" / "corpus"))
    / "public"
    / "pydicom"
)
VERIFICATION = "1.2.840.10008.1.1"
SOURCES = ("CT_small.dcm", "MR_small.dcm")


def _dcmtk(tool: str) -> str | None:
    path = f"/usr/bin/{tool}"
    if not os.path.exists(path):
        return None
    out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    return path if "dcmtk" in (out.stdout + out.stderr).lower() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"SCP exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"SCP not listening on {port}")


_PYNETDICOM_SCP = textwrap.dedent(
    """
    import os, sys
    from pynetdicom import AE, AllStoragePresentationContexts, evt
    from pynetdicom.sop_class import Verification
    out = sys.argv[2]
    def on_store(event):
        ds = event.dataset
        with open(os.path.join(out, ds.SOPInstanceUID + ".dcm"), "wb") as f:
            f.write(event.encoded_dataset())
        return 0
    ae = AE(ae_title="PYNETSCP")
    ae.maximum_pdu_size = 262144
    ae.supported_contexts = AllStoragePresentationContexts
    ae.add_supported_context(Verification)
    ae.start_server(("127.0.0.1", int(sys.argv[1])), block=True,
                    evt_handlers=[(evt.EVT_C_STORE, on_store)])
    """
)


class Peers:
    """The three SCPs, each in its own process."""

    def __init__(self, tmp: Path) -> None:
        self.procs: list[subprocess.Popen] = []
        self.tmp = tmp
        self.ours = self._start(
            [
                sys.executable,
                "-c",
                "import sys; from dicomfast.cli import main; sys.exit(main(sys.argv[1:]))",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                "{port}",
                "--storage",
                "{dir}",
                "--no-fsync",
                "-q",
                "--aet",
                "DICOMFAST",
            ],
            "ours",
        )
        self.pynetdicom = self._start(
            [sys.executable, "-c", _PYNETDICOM_SCP, "{port}", "{dir}"], "pynetdicom"
        )
        storescp = _dcmtk("storescp")
        self.dcmtk = (
            self._start([storescp, "-od", "{dir}", "-aet", "DCMTKSCP", "{port}"], "dcmtk")
            if storescp
            else None
        )

    def _start(self, argv: list[str], name: str) -> int:
        port = _free_port()
        folder = self.tmp / name
        folder.mkdir()
        env = dict(os.environ, TCP_NODELAY="1")
        args = [a.format(port=port, dir=folder) for a in argv]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        self.procs.append(proc)
        _wait_port(port, proc)
        return port

    def close(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture(scope="module")
def peers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peers]:
    if not (PYDICOM / SOURCES[0]).exists():
        pytest.skip("pydicom corpus not found")
    p = Peers(tmp_path_factory.mktemp("scps"))
    try:
        yield p
    finally:
        p.close()


@pytest.fixture(scope="module")
def small_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """100 small native images (CT_small / MR_small with new instance UIDs)."""
    from pydicom.uid import generate_uid

    if not (PYDICOM / SOURCES[0]).exists():
        pytest.skip("pydicom corpus not found")
    out = tmp_path_factory.mktemp("files")
    files = []
    for i in range(100):
        ds = pydicom.dcmread(PYDICOM / SOURCES[i % 2])
        uid = generate_uid()
        ds.SOPInstanceUID = uid
        ds.file_meta.MediaStorageSOPInstanceUID = uid
        path = out / f"{i:03d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        files.append(path)
    return files


def _ours_scu(*sop_classes: str):  # noqa: ANN202
    from dicomfast.net import AE

    ae = AE("BENCHSCU", acse_timeout=30, dimse_timeout=30)
    ae.add_requested_context(VERIFICATION)
    for s in sop_classes:
        ae.add_requested_context(s)
    return ae


def _theirs_scu(*sop_classes: str):  # noqa: ANN202
    from pynetdicom import AE

    ae = AE(ae_title="BENCHSCU")
    ae.add_requested_context(VERIFICATION)
    for s in sop_classes:
        ae.add_requested_context(s)
    return ae


def test_echo_round_trips(benchmark, peers: Peers) -> None:  # noqa: ANN001
    n = 20 if benchmark.disabled else 500
    ours = _ours_scu().associate("127.0.0.1", peers.ours, "DICOMFAST")
    theirs = _theirs_scu().associate("127.0.0.1", peers.pynetdicom, ae_title="PYNETSCP")
    assert theirs.is_established
    echoscu = _dcmtk("echoscu")

    def run_ours() -> None:
        for _ in range(n):
            assert ours.send_c_echo() == 0

    failures = [0]

    def run_pynetdicom() -> None:
        for _ in range(n):
            # pynetdicom under load sometimes answers with an empty status
            # ("Received unexpected C-ECHO service message"): counted, reported.
            if getattr(theirs.send_c_echo(), "Status", None) != 0:
                failures[0] += 1

    def run_dcmtk() -> None:
        subprocess.run(
            [echoscu, "--repeat", str(n), "-aec", "DCMTKSCP", "127.0.0.1", str(peers.dcmtk)],
            check=True,
            capture_output=True,
            env=dict(os.environ, TCP_NODELAY="1"),
            timeout=120,
        )

    competitors = {"pynetdicom": run_pynetdicom}
    if echoscu and peers.dcmtk:
        competitors["dcmtk"] = run_dcmtk
    try:
        ratios = race(benchmark, f"C-ECHO x{n} (one association)", run_ours, competitors)
    finally:
        ours.release()
        theirs.release()
    if not benchmark.disabled:
        t = benchmark.stats.stats.median
        RESULTS.append(
            f"  C-ECHO: dicomfast {n / t:.0f}/s; "
            + ", ".join(f"{k} {n / (t * r):.0f}/s" for k, r in ratios.items())
            + (f" (pynetdicom: {failures[0]} C-ECHO failures)" if failures[0] else "")
        )


def test_store_small_files(benchmark, peers: Peers, small_files: list[Path]) -> None:  # noqa: ANN001
    files = small_files[:10] if benchmark.disabled else small_files
    nbytes = sum(p.stat().st_size for p in files)
    classes = sorted({str(pydicom.dcmread(p, stop_before_pixels=True).SOPClassUID) for p in files})
    storescu = _dcmtk("storescu")

    def run_ours() -> None:
        with _ours_scu(*classes).associate("127.0.0.1", peers.ours, "DICOMFAST") as assoc:
            for p in files:
                assert assoc.send_c_store(p) == 0

    def run_pynetdicom() -> None:
        assoc = _theirs_scu(*classes).associate("127.0.0.1", peers.pynetdicom, ae_title="PYNETSCP")
        assert assoc.is_established
        try:
            for p in files:
                assert assoc.send_c_store(str(p)).Status == 0
        finally:
            assoc.release()

    def run_dcmtk() -> None:
        subprocess.run(
            [storescu, "-aec", "DCMTKSCP", "127.0.0.1", str(peers.dcmtk), *map(str, files)],
            check=True,
            capture_output=True,
            env=dict(os.environ, TCP_NODELAY="1"),
            timeout=300,
        )

    competitors = {"pynetdicom": run_pynetdicom}
    if storescu and peers.dcmtk:
        competitors["dcmtk"] = run_dcmtk
    name = f"C-STORE {len(files)} files, {nbytes / 1e6:.1f} MB (one association)"
    ratios = race(benchmark, name, run_ours, competitors, nbytes=nbytes)
    if not benchmark.disabled:
        t = benchmark.stats.stats.median
        parts = [f"dicomfast {len(files) / t:.0f} img/s {nbytes / t / 1e6:.1f} MB/s"]
        for k, r in ratios.items():
            parts.append(f"{k} {len(files) / (t * r):.0f} img/s {nbytes / (t * r) / 1e6:.1f} MB/s")
        RESULTS.append("  C-STORE: " + "; ".join(parts))
    shutil.rmtree(peers.tmp / "ours", ignore_errors=True)
    (peers.tmp / "ours").mkdir(exist_ok=True)
