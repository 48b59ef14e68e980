"""Orthanc with its DICOMweb plugin (Debian's ``orthanc`` + ``orthanc-dicomweb``) on
loopback, for the benchmark and the comparison of answers; ``None`` where it is
not installed (CI does not install it)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from dicomfast.benchmark.store import _stop as stop
from dicomfast.benchmark.store import free_port

ORTHANC = shutil.which("Orthanc")
PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
AVAILABLE = bool(ORTHANC) and PLUGIN.exists()


@contextmanager
def running(folder: Path, **config: Any) -> Iterator[str | None]:
    """Orthanc keeping its storage and index in ``folder`` (kept: a second run on
    the same folder finds what the first stored); yields its REST root URL (the
    DICOMweb root is ``+ "/dicom-web"``), None if it is not installed or does not
    start within 60 s.  ``config`` adds to or overrides the configuration."""
    if not AVAILABLE:
        yield None
        return
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    settings = {
        "Name": "dicomfast-bench",
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "index"),
        "HttpPort": port,
        "DicomPort": free_port(),
        "RemoteAccessAllowed": False,  # loopback clients only
        "AuthenticationEnabled": False,
        "Plugins": [str(PLUGIN)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        "StorageCompression": False,
        "SaveJobs": False,
        **config,
    }
    (folder / "orthanc.json").write_text(json.dumps(settings))
    proc = subprocess.Popen(
        [str(ORTHANC), str(folder / "orthanc.json")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if requests.get(f"{url}/system", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            yield None
            return
        yield url
    finally:
        stop(proc)
