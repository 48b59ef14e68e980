"""Helpers for the print tests: CT slices from the corpus, DCMTK tools, a
DCMTK print configuration file, free ports."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

CORPUS = Path(
    os.environ.get(
        "DICOMFAST_CORPUS", Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
    )
)
CT_SERIES = CORPUS / "perf" / "ct512_20" / "unc"


def ct_slices(n: int) -> list[Path]:
    files = sorted(CT_SERIES.glob("*.dcm"))[:n]
    if len(files) < n:
        pytest.skip(f"{n} CT slices not found in {CT_SERIES}")
    return files


def dcmtk(tool: str) -> str:
    for cand in (f"/usr/bin/{tool}", f"/usr/local/bin/{tool}", shutil.which(tool)):
        if cand and os.path.exists(cand):
            return cand
    pytest.skip(f"DCMTK {tool} not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(folder: Path, port: int, aet: str = "PRINTSCP") -> Path:
    """A dcmpstat-style configuration for DCMTK's print tools (see
    /etc/dcmtk/dcmpstat.cfg): the print job database and spool in ``folder``,
    printer TARGET (``dcmpsprt``/``dcmprscu`` print to it) and LOCAL (what
    ``dcmprscp`` emulates), both at ``aet`` on 127.0.0.1:``port``."""
    for d in ("db", "spool", "lut"):
        (folder / d).mkdir(exist_ok=True)
    printer = f"""Aetitle = {aet}
Hostname = 127.0.0.1
Port = {port}
DisplayFormat = 1,1\\2,2\\4,5
FilmSizeID = 8INX10IN\\14INX17IN\\17INX17IN
MagnificationType = REPLICATE\\BILINEAR\\CUBIC\\NONE
MinDensity = 20
MaxDensity = 320
MaxPDU = 65536
Supports12Bit = true
SupportsPresentationLUT = true
ImplicitOnly = false
DisableNewVRs = false
"""
    cfg = folder / "print.cfg"
    cfg.write_text(
        f"""[[GENERAL]]
[PRINT]
Spooler = dcmprscu
Server = dcmprscp
Directory = {folder / "spool"}
DetailedLog = false
BinaryLog = false
Sleep = 1
MinPrintResolution = 256\\256
MaxPrintResolution = 8192\\8192
DefaultIllumination = 2000
DefaultReflection = 10
DeletePrintJobs = false
AlwaysDeleteTerminateJobs = true
[DATABASE]
Directory = {folder / "db"}
[LUT]
Directory = {folder / "lut"}
[NETWORK]
aetitle = DCMPSTATE
[[COMMUNICATION]]
[TARGET]
Description = the print SCP under test
Type = PRINTER
{printer}
[LOCAL]
Description = dcmprscp
Type = LOCALPRINTER
{printer}
"""
    )
    return cfg


def dcmtk_print(cfg: Path, files: list[Path], *, layout: tuple[int, int], film_size: str) -> None:
    """``dcmpsprt`` spools a job (Stored Print + Hardcopy Grayscale images) into
    the configured database; ``dcmprscu`` sends it to printer TARGET."""
    db = cfg.parent / "db"
    before = set(db.glob("SP_*.dcm"))
    subprocess.run(
        [
            dcmtk("dcmpsprt"),
            "-c",
            str(cfg),
            "-p",
            "TARGET",
            "--layout",
            str(layout[0]),
            str(layout[1]),
            "--filmsize",
            film_size,
            *map(str, files),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    jobs = sorted(set(db.glob("SP_*.dcm")) - before)
    assert len(jobs) == 1, jobs
    subprocess.run(
        [dcmtk("dcmprscu"), "-c", str(cfg), "-p", "TARGET", str(jobs[0])],
        check=True,
        capture_output=True,
        timeout=60,
    )
