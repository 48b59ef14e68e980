"""Helpers for the query/retrieve tests: synthetic instances, the archive
server (in-process or ``dicomfast serve`` in a subprocess), DCMTK tools and
element-by-element comparison of C-FIND answers."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dicomfast
import numpy as np
import pytest
from dicomfast.archive import Archive
from dicomfast.dataset import Dataset
from dicomfast.net import AE, Server

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
ROOT = "1.2.826.0.1.3680043.10.999"
NAMES = ["DOE^JOHN", "DOE^JANE", "SMITH^ANNA", "BROWN^HANS", "ROE^RICHARD"]
SERVE = [sys.executable, "-m", "dicomfast"]
#: Every wait in these tests is bounded by this.
TIMEOUT = 20


def make_instance(i: int, *, n_patients: int = 5, n_studies: int = 2, tag: str = "1") -> Dataset:
    """Instance ``i`` of a small synthetic archive: patients × studies × 2 series."""
    p = i % n_patients
    st = (i // n_patients) % n_studies
    se = (i // (n_patients * n_studies)) % 2
    ds = Dataset()
    ds.SOPClassUID = CT if se == 0 else MR
    ds.SOPInstanceUID = f"{ROOT}.{tag}.{i + 1}"
    ds.PatientName = NAMES[p % len(NAMES)] + ("" if p < len(NAMES) else f"{p}")
    ds.PatientID = f"PID{p:03d}"
    ds.PatientBirthDate = f"19{50 + p % 50:02d}0101"
    ds.PatientSex = "MF"[p % 2]
    ds.StudyInstanceUID = f"{ROOT}.{tag}.0.{p}.{st}"
    ds.StudyDate = f"2024{1 + st * 5:02d}{10 + p % 18:02d}"
    ds.StudyTime = f"{8 + st:02d}1500"
    ds.AccessionNumber = f"ACC{p}{st}"
    ds.StudyID = f"S{st}"
    ds.StudyDescription = f"STUDY {st}"
    ds.ReferringPhysicianName = "WHO^DR"
    ds.SeriesInstanceUID = f"{ROOT}.{tag}.0.{p}.{st}.{se}"
    ds.SeriesNumber = se + 1
    ds.Modality = "CT" if se == 0 else "MR"
    ds.InstanceNumber = i + 1
    ds.Rows = 8
    ds.Columns = 8
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = (np.arange(64, dtype=np.uint16) + i).tobytes()
    return ds


def write_instances(folder: Path, n: int, **kw: Any) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        p = folder / f"{i:05d}.dcm"
        dicomfast.write(make_instance(i, **kw), p)
        out.append(p)
    return out


def dcmtk(tool: str) -> str:
    """A DCMTK tool (not a pynetdicom shim of the same name), or skip."""
    for cand in (f"/usr/bin/{tool}", f"/usr/local/bin/{tool}", shutil.which(tool)):
        if cand and os.path.exists(cand):
            try:
                out = subprocess.run(
                    [cand, "--version"], capture_output=True, text=True, timeout=10
                )
            except (OSError, subprocess.TimeoutExpired):
                continue
            if "dcmtk" in (out.stdout + out.stderr).lower():
                return cand
    pytest.skip(f"DCMTK {tool} not installed")


def archive_server(
    folder: Path,
    *,
    aet: str = "ARCHIVE",
    destinations: dict[str, tuple[str, int]] | None = None,
    handlers: list[Any] | None = None,
    port: int = 0,
    **archive_kw: Any,
) -> tuple[Server, Archive]:
    """The archive as ``dicomfast serve`` runs it, in-process on 127.0.0.1:0."""
    from dicomfast.archive.handlers import archive_handlers
    from dicomfast.cli.serve import archive_ae

    archive = Archive(folder, fsync=False, **archive_kw)
    ae = archive_ae(aet, acse_timeout=5, dimse_timeout=10, network_timeout=15)
    ae.destinations = dict(destinations or {})
    hs = archive_handlers(archive, aet, destinations or {})
    if handlers:
        kinds = {e for e, _ in handlers}
        hs = list(handlers) + [(e, f) for e, f in hs if e not in kinds]
    from dicomfast.archive.netstorage import ArchiveStorage

    server = ae.start_server(
        ("127.0.0.1", port), block=False, evt_handlers=hs, storage=ArchiveStorage(archive)
    )
    return server, archive


def scu(*sop_classes: str, contexts: list[Any] | None = None) -> AE:
    ae = AE("TESTSCU", acse_timeout=5, dimse_timeout=10, connect_timeout=5)
    for s in sop_classes:
        ae.add_requested_context(s)
    return ae


def start_serve(args: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.Popen, int]:
    """``dicomfast serve`` in a subprocess; (process, port) once it listens."""
    proc = subprocess.Popen(
        [*SERVE, "serve", "--host", "127.0.0.1", "--port", "0", "--http-port", "0", "-q", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    m = re.search(r"listening on [\d.]+:(\d+)", line)
    if not m:
        proc.kill()
        raise AssertionError(
            f"serve did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}"
        )
    return proc, int(m.group(1))


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextmanager
def serving(args: list[str]) -> Iterator[int]:
    proc, port = start_serve(args)
    try:
        yield port
    finally:
        stop(proc)


def run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT * 3, **kw)


def wait_port(port: int, timeout: float = TIMEOUT) -> None:
    import socket

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def dcmqrscp(
    folder: Path, files: list[Path], hosts: dict[str, tuple[str, int]] | None = None
) -> Iterator[int]:
    """DCMTK's dcmqrscp (AE QRSCP, database in ``folder``) holding ``files`` (sent
    with storescu), its HostTable naming ``hosts`` (name -> (AE, port) on
    127.0.0.1, for C-MOVE); its port.  Skips when DCMTK is not installed."""
    tool = dcmtk("dcmqrscp")
    (folder / "db").mkdir()
    port = free_port()
    table = "".join(f"{n} = ({a}, 127.0.0.1, {p})\n" for n, (a, p) in (hosts or {}).items())
    cfg = folder / "dcmqrscp.cfg"
    cfg.write_text(
        f"NetworkTCPPort = {port}\nMaxPDUSize = 16384\nMaxAssociations = 16\n"
        f"HostTable BEGIN\n{table}HostTable END\nVendorTable BEGIN\nVendorTable END\n"
        f"AETable BEGIN\nQRSCP {folder / 'db'} RW (1000, 1024mb) ANY\nAETable END\n"
    )
    env = {**os.environ, "TCP_NODELAY": "1"}  # else each exchange waits for a delayed ACK
    proc = subprocess.Popen(
        [tool, "-c", str(cfg)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_port(port)
        args = [dcmtk("storescu"), "-aec", "QRSCP", "127.0.0.1", str(port), *map(str, files)]
        r = run(args, env=env)
        assert r.returncode == 0, r.stderr
        yield port
    finally:
        stop(proc)


def canon(
    ds: Dataset, skip: tuple[int, ...] = (0x00080005, 0x00080054, 0x00080056, 0x00088888)
) -> dict[int, Any]:
    """A C-FIND answer as {tag: normalized value} for comparison across SCPs
    (values stripped; empty and absent alike)."""
    out: dict[int, Any] = {}
    for e in ds:
        if e.tag in skip or e.tag >> 16 in (0x0000, 0x0002):
            continue
        v = e.value
        if e.VR == "SQ":
            out[e.tag] = [canon(item, skip) for item in v or []]
            continue
        if isinstance(v, list):
            v = tuple(str(x).strip() for x in v)
            if len(v) == 1:
                v = v[0]
        elif v is None:
            v = ""
        else:
            v = str(v).strip()
        out[e.tag] = v
    return out


def answers(results: list[Dataset], key: int = 0x0020000D) -> list[dict[int, Any]]:
    rows = [canon(r) for r in results]
    return sorted(
        rows,
        key=lambda r: (str(r.get(key, "")), str(r.get(0x0020000E, "")), str(r.get(0x00080018, ""))),
    )


def find_all(
    port: int, identifier: Dataset, model: str = "study", aec: str = "ANY-SCP"
) -> tuple[int, list[Dataset]]:
    """Our C-FIND SCU: (final status, matches)."""
    from dicomfast.net.services.find import sop_class_for

    ae = scu(sop_class_for("find", model))
    results: list[Dataset] = []
    final = -1
    with ae.associate("127.0.0.1", port, ae_title=aec) as assoc:
        for status, ds in assoc.send_c_find(identifier, model):
            if status.category == "Pending":
                assert ds is not None
                results.append(ds)
            else:
                final = int(status)
    return final, results


def ident(level: str | None = "STUDY", **keys: Any) -> Dataset:
    ds = Dataset()
    if level:
        ds.QueryRetrieveLevel = level
    for k, v in keys.items():
        setattr(ds, k, v)
    return ds
