"""Orthanc with its DICOMweb plugin (Debian's ``orthanc`` + ``orthanc-dicomweb``) on
loopback, for the benchmark and the comparison of answers; ``None`` where it is
not installed.  CI installs it and sets ``DICOMFAST_REQUIRE_ORTHANC=1``: there the
comparison fails instead of skipping when Orthanc is missing or does not start."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from dicomfast.benchmark.store import _stop as stop
from dicomfast.benchmark.store import free_port

ORTHANC = shutil.which("Orthanc")
PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
AVAILABLE = bool(ORTHANC) and PLUGIN.exists()
REQUIRED = os.environ.get("DICOMFAST_REQUIRE_ORTHANC") == "1"
#: Seconds to wait for Orthanc to answer after it starts.
START_TIMEOUT = 60


def unavailable(reason: str) -> None:
    """Skip the test (fail it where Orthanc is required)."""
    if REQUIRED:
        pytest.fail(f"{reason} (DICOMFAST_REQUIRE_ORTHANC=1)")
    pytest.skip(reason)


@contextmanager
def running(folder: Path, *, throwaway: bool = False, **config: Any) -> Iterator[str | None]:
    """Orthanc keeping its storage and index in ``folder`` (kept: a second run on
    the same folder finds what the first stored); yields its REST root URL (the
    DICOMweb root is ``+ "/dicom-web"``), None if it is not installed or does not
    start within START_TIMEOUT.  ``config`` adds to or overrides the configuration.
    Orthanc takes some 3 s to stop on SIGTERM: a ``throwaway`` one (its folder is not
    used again) is killed instead."""
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
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if requests.get(f"{url}/system", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            yield None
            return
        yield url
    finally:
        if throwaway and proc.poll() is None:
            proc.kill()
            proc.wait(10)
        stop(proc)
