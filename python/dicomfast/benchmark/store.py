"""The ``store`` task's receivers (Storage SCPs on loopback, one subprocess each,
stopped when the task is done) and senders."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
AET = {"dicomfast": "DICOMFAST", "pynetdicom": "PYNETSCP", "dcmtk": "DCMTKSCP"}
START_TIMEOUT = 30.0
#: seconds any one send may take before it is given up
SEND_TIMEOUT = 600.0

_PYNETDICOM_SCP = textwrap.dedent(
    """
    import os, sys, threading
    from pynetdicom import AE, AllStoragePresentationContexts, evt
    from pynetdicom.sop_class import Verification
    out = sys.argv[1]
    def on_store(event):
        path = os.path.join(out, event.request.AffectedSOPInstanceUID + ".dcm")
        with open(path, "wb") as f:
            f.write(event.encoded_dataset())
        return 0
    ae = AE(ae_title="PYNETSCP")
    ae.maximum_associations = 8
    ae.network_timeout = 600
    from pynetdicom import ALL_TRANSFER_SYNTAXES
    for cx in AllStoragePresentationContexts:
        ae.add_supported_context(cx.abstract_syntax, ALL_TRANSFER_SYNTAXES)
    ae.add_supported_context(Verification)
    server = ae.start_server(("127.0.0.1", 0), block=False,
                             evt_handlers=[(evt.EVT_C_STORE, on_store)])
    print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
    threading.Event().wait()
    """
)


def dcmtk_tool(tool: str) -> str | None:
    """``/usr/bin/<tool>`` if it is DCMTK's (pynetdicom installs same-named
    console scripts earlier on PATH)."""
    path = f"/usr/bin/{tool}"
    if not os.path.exists(path):
        found = shutil.which(tool)
        if not found:
            return None
        path = found
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return path if "dcmtk" in (out.stdout + out.stderr).lower() else None


def free_port() -> int:
    """A loopback port free now (for tools that cannot report a port 0 binding)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def accepts(port: int) -> bool:
    """Does something accept connections on the loopback ``port``?"""
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_port(port: int, proc: subprocess.Popen[Any], timeout: float = 30) -> None:
    """Until ``proc`` accepts connections on ``port``; RuntimeError if it exits first,
    TimeoutError after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode} before listening on {port}")
        if accepts(port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


class Receiver:
    """A Storage SCP subprocess storing into ``folder``."""

    def __init__(self, kind: str, folder: Path, proc: subprocess.Popen, port: int) -> None:
        self.kind, self.folder, self.proc, self.port = kind, folder, proc, port
        self.aet = AET[kind]

    @classmethod
    def start(cls, kind: str, folder: Path) -> Receiver:
        store = folder / "in"
        store.mkdir(parents=True, exist_ok=True)
        log = folder / "scp.log"
        port: int | None = None
        if kind == "dicomfast":
            argv = [
                sys.executable, "-c",
                "import sys; from dicomfast.cli import main; sys.exit(main(sys.argv[1:]))",
                "serve", "--host", HOST, "--port", "0", "--storage", str(store),
                "--no-fsync", "--no-http", "--idle-timeout", "600", "-q", "--aet", AET[kind],
            ]  # fmt: skip
        elif kind == "pynetdicom":
            argv = [sys.executable, "-c", _PYNETDICOM_SCP, str(store)]
        elif kind == "dcmtk":
            port = free_port()  # storescp cannot report a port 0 binding
            argv = [dcmtk_tool("storescp") or "storescp", "+xa", "-od", str(store)]
            argv += ["-aet", AET[kind]]
            argv.append(str(port))
        else:
            raise ValueError(f"no receiver of kind {kind}")
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(os.environ, TCP_NODELAY="1"),
                cwd=folder,
            )
        try:
            port = cls._wait(proc, log, port)
        except BaseException:
            _stop(proc)
            raise
        return cls(kind, store, proc, port)

    @staticmethod
    def _wait(proc: subprocess.Popen, log: Path, port: int | None) -> int:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"receiver exited ({proc.returncode}): {log.read_text()[-500:]}")
            if port is None:
                m = re.search(r"listening on [\d.]+:(\d+)", log.read_text(errors="replace"))
                if m and accepts(int(m.group(1))):
                    return int(m.group(1))
            elif accepts(port):
                return port
            time.sleep(0.02)
        raise TimeoutError(f"receiver not listening after {START_TIMEOUT:.0f} s")

    def received_uids(self) -> list[str]:
        """SOP Instance UIDs of the files the receiver stored (index files left out)."""
        import dicomfast

        uids = set()
        for root, _, names in os.walk(self.folder):
            for name in names:
                if re.search(r"\.(db|sqlite\d?|log|tmp)(-wal|-shm|-journal)?$", name):
                    continue
                try:
                    ds = dicomfast.read(os.path.join(root, name), stop_before_pixels=True)
                    uids.add(str(ds.SOPInstanceUID))
                except Exception:
                    continue
        return sorted(uids)

    def stop(self) -> None:
        _stop(self.proc)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(OSError):
            proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def contexts_of(files: list[str]) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Each file's SOP class, and SOP class -> the transfer syntaxes of ``files`` (each
    file's header read once)."""
    import dicomfast

    sop_of: dict[str, str] = {}
    out: dict[str, set[str]] = {}
    for f in files:
        ds = dicomfast.read(f, stop_before_pixels=True)
        sop_of[f] = str(ds.SOPClassUID)
        out.setdefault(sop_of[f], set()).add(str(ds.transfer_syntax))
    return sop_of, out


def send_dicomfast(rx: Receiver, files: list[str]) -> None:
    from dicomfast.cli.store import plan_contexts
    from dicomfast.errors import DicomError
    from dicomfast.net import AE, PresentationContext

    ae = AE("BENCHSCU", acse_timeout=60, dimse_timeout=120)
    sop_of, syntaxes_of = contexts_of(files)
    failed: list[str] = []
    for batch in plan_contexts(syntaxes_of):
        # an association per batch of SOP classes (128 contexts at most), with its files
        classes = {sop for sop, _ in batch}
        these = [f for f in files if sop_of[f] in classes]
        contexts = [PresentationContext(sop, ts) for sop, ts in batch]
        with ae.associate(HOST, rx.port, contexts, rx.aet) as assoc:
            failed += [
                f"{os.path.basename(p)} ({status if isinstance(status, DicomError) else hex(int(status))})"
                for p, status in assoc.send_c_stores(these)
                if isinstance(status, DicomError) or int(status) != 0
            ]
    if failed:
        raise RuntimeError(f"{len(failed)} C-STOREs failed: {', '.join(failed[:5])}")


def send_pynetdicom(rx: Receiver, files: list[str], failed: dict[str, str] | None = None) -> None:
    """pynetdicom sending ``files`` (an association per batch of SOP classes); with
    ``failed``, going on past a file it cannot send, noted there with the reason."""
    import pydicom
    from pynetdicom import AE

    from dicomfast.cli.store import plan_contexts

    sop_of, syntaxes_of = contexts_of(files)
    # an association per batch of SOP classes (128 contexts at most), with its files
    for batch in plan_contexts(syntaxes_of):
        ae = AE(ae_title="BENCHSCU")
        ae.acse_timeout = 60
        ae.dimse_timeout = 60
        for sop, syntaxes in batch:
            ae.add_requested_context(sop, syntaxes)
        classes = {sop for sop, _ in batch}
        assoc = ae.associate(HOST, rx.port, ae_title=rx.aet)
        if not assoc.is_established:
            raise RuntimeError("pynetdicom: association rejected")
        try:
            for f in (f for f in files if sop_of[f] in classes):
                try:
                    status = assoc.send_c_store(pydicom.dcmread(f))
                except Exception as e:  # noqa: BLE001 - one file's: said, and on to the next
                    if failed is None:
                        raise
                    failed[f] = f"pynetdicom: {type(e).__name__}: {e}"[:300]
                    continue
                if not status or status.Status != 0:
                    if failed is None or not assoc.is_established:
                        raise RuntimeError(f"pynetdicom: C-STORE of {f} failed: {status}")
                    failed[f] = f"pynetdicom: C-STORE status {status.get('Status', status)}"
        finally:
            assoc.release()


#: transfer syntax -> storescu's option proposing it (one per storescu process)
STORESCU_PROPOSE = {
    "1.2.840.10008.1.2.1": "-x=",
    "1.2.840.10008.1.2": "-x=",
    "1.2.840.10008.1.2.2": "-x=",
    "1.2.840.10008.1.2.5": "-xr",
    "1.2.840.10008.1.2.4.70": "-xs",
    "1.2.840.10008.1.2.1.99": "-xd",
    "1.2.840.10008.1.2.4.80": "-xt",
    "1.2.840.10008.1.2.4.90": "-xv",
}


def send_storescu(
    rx: Receiver, files: list[str], propose: str = "-x=", failed: dict[str, str] | None = None
) -> None:
    """One storescu process sending ``files`` (all in syntaxes ``propose`` covers), going
    on past a file it cannot load (``--no-halt``): such files, and why, into ``failed``."""
    tool = dcmtk_tool("storescu") or "storescu"
    done = subprocess.run(
        # --required: the files' own SOP classes (its fixed list lacks, e.g., Segmentation)
        [tool, "--required", "--no-halt", "-aec", rx.aet, propose, HOST, str(rx.port), *files],
        capture_output=True,
        text=True,
        timeout=SEND_TIMEOUT,
        env=dict(os.environ, TCP_NODELAY="1"),
    )
    skipped: dict[str, str] = {}
    for m in re.finditer(r"^E: Bad DICOM file: (.+?): (.*)$", done.stderr, re.MULTILINE):
        skipped[m.group(1)] = f"storescu: {m.group(2)}"
    for m in re.finditer(r"^W: (.+) in file: (.+?), ignoring file$", done.stderr, re.MULTILINE):
        skipped[m.group(2)] = f"storescu: {m.group(1)}, ignoring file"
    skipped = {f: why for f, why in skipped.items() if f in files}
    # every file skipped: storescu then has nothing to propose and fails the association
    if done.returncode and (failed is None or len(skipped) < len(set(files))):
        raise RuntimeError(f"storescu exit {done.returncode}: {done.stderr.strip()[-300:]}")
    if failed is not None:
        failed.update(skipped)
