"""``dicomfast anonymize``: outputs, report, resume, burned-in exclusion, patient map,
inputs untouched; dciodvfy finds no more errors in outputs than in inputs; dcentvfy
finds the de-identified study consistent; dicom-anonymizer (a second implementation
of Table E.1-1) removes, changes and keeps the same attributes."""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import dicomfast
import pytest
from corpus_data import CORPUS
from deid_helpers import KEY
from dicomfast.cli import main

PERF = sorted((CORPUS / "perf" / "ct512_20" / "unc").glob("*.dcm"))


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    if not PERF:
        pytest.skip("corpus not found")
    src = tmp_path / "in"
    src.mkdir()
    for p in PERF[:6]:
        shutil.copy(p, src / p.name)
    burned = dicomfast.read(PERF[6])
    burned.BurnedInAnnotation = "YES"
    dicomfast.write(burned, src / "burned.dcm")
    return src


def test_cli_run_resume_report_burned_in(inputs: Path, tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_bytes(KEY)
    before = {p.name: _sha(p) for p in inputs.iterdir()}
    out, report = tmp_path / "out", tmp_path / "r.json"
    args = [str(inputs), "-o", str(out), "--key-file", str(key), "--no-fsync", "-q"]
    assert main(["anonymize", *args, "--report", str(report)]) == 0
    recs = [json.loads(line) for line in report.read_text().splitlines()]
    status = sorted(r["status"] for r in recs)
    assert status == ["anonymized"] * 6 + ["excluded"]
    assert {p.name: _sha(p) for p in inputs.iterdir()} == before  # inputs untouched
    outs = sorted(out.rglob("*.dcm"))
    assert len(outs) == 6 and not list(out.rglob(".dicomfast-*"))
    ds = dicomfast.read(outs[0])
    assert outs[0].name == ds.SOPInstanceUID + ".dcm"
    assert main(["anonymize", *args, "--report", str(report)]) == 0  # resumed
    recs = [json.loads(line) for line in report.read_text().splitlines()]
    assert sorted(r["status"] for r in recs) == ["excluded"] + ["skipped"] * 6
    out2 = tmp_path / "out2"
    patients = tmp_path / "p.csv"
    patients.write_text("patient_id,new_patient_id,new_patient_name\nDFPERF01,S01,SUBJ^ONE\n")
    args2 = [str(inputs), "-o", str(out2), "--key-file", str(key), "-q", "--allow-burned-in"]
    assert main(["anonymize", *args2, "--map", str(patients), "-t", "rle"]) == 0
    outs2 = sorted(out2.rglob("*.dcm"))
    assert len(outs2) == 7
    ds2 = dicomfast.read(outs2[0])
    assert ds2.PatientID == "S01" and ds2.transfer_syntax == "1.2.840.10008.1.2.5"
    assert {p.name for p in outs} <= {p.name for p in outs2}  # same key: same UIDs
    with pytest.raises((SystemExit, argparse.ArgumentError)):  # not offered: refused
        main(["anonymize", str(inputs), "-o", str(out2), "--option", "clean-pixel-data"])


def _errors(path: Path) -> int:
    r = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True)
    return sum(line.startswith("Error") for line in (r.stdout + r.stderr).splitlines())


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools not installed")
def test_dciodvfy_and_dcentvfy(tmp_path: Path) -> None:
    if not PERF:
        pytest.skip("corpus not found")
    sample = [
        *PERF[:5],
        *(CORPUS / "public" / "pydicom").glob("CT_small.dcm"),
        *(CORPUS / "public" / "pydicom").glob("MR_small.dcm"),
        *(CORPUS / "public" / "pydicom").glob("rtplan.dcm"),
        *(CORPUS / "public" / "pydicom").glob("rtstruct.dcm"),
        *(CORPUS / "public" / "dcmqi").glob("*.dcm"),
    ][:12]
    outs = []
    for p in sample:
        out = tmp_path / (p.name + ".out.dcm")
        dicomfast.write(dicomfast.deid.anonymize(dicomfast.read(p), key=KEY), out)
        assert _errors(out) <= _errors(p), p
        outs.append(out)
    r = subprocess.run(["dcentvfy", *map(str, outs[:5])], capture_output=True, text=True)
    assert "Error" not in r.stdout + r.stderr, r.stdout + r.stderr


def _classify(a, b) -> dict[int, str]:  # noqa: ANN001
    """Top-level standard attributes of input ``a``: removed, kept or changed in ``b``
    (emptied and replaced are both 'changed': Z allows either)."""
    out = {}
    for e in a:
        if e.tag >> 16 & 1 or e.tag >> 16 in (0x0002, 0x7FE0) or not e.tag & 0xFFFF or e.VR == "SQ":
            continue
        if e.tag not in b:
            out[e.tag] = "removed"
        elif b[e.tag].value == e.value or e.value in (None, "", []):
            out[e.tag] = "kept"
        else:
            out[e.tag] = "changed"
    return out


@pytest.mark.skipif(shutil.which("dicom-anonymizer") is None, reason="dicom-anonymizer missing")
def test_same_actions_as_dicom_anonymizer(tmp_path: Path) -> None:
    """Intended differences: none on these files (Z dates: they write a dummy, we
    write an empty value; both are 'changed')."""
    pydicom = pytest.importorskip("pydicom")
    names = ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm"]
    files = [CORPUS / "public" / "pydicom" / n for n in names] + PERF[:1]
    for p in files:
        if not p.exists():
            continue
        theirs = tmp_path / ("t-" + p.name)
        subprocess.run(["dicom-anonymizer", str(p), str(theirs)], check=True, capture_output=True)
        a = pydicom.dcmread(p)
        ours = pydicom.dcmread(
            __import__("io").BytesIO(
                b"".join(
                    bytes(c)
                    for c in dicomfast.writer.encode_file(
                        dicomfast.deid.anonymize(dicomfast.read(p), key=KEY)
                    )
                )
            )
        )
        mine, other = _classify(a, ours), _classify(a, pydicom.dcmread(theirs))
        diff = {f"{t:08X}": (mine[t], other[t]) for t in mine if mine[t] != other[t]}
        assert not diff, (p.name, diff)


def test_threads_give_the_outputs_one_thread_gives(inputs: Path, tmp_path: Path) -> None:
    """A short run on two threads (the in-process part of a job) writes, byte for
    byte, what one thread writes with the same key; the report says the same."""
    from dicomfast.batch import runner

    runner.shutdown_pool()  # a pool kept warm by an earlier test would take the run
    key = tmp_path / "key"
    key.write_bytes(KEY)
    runs = {}
    for workers in ("1", "2"):
        out, report = tmp_path / f"out{workers}", tmp_path / f"r{workers}.json"
        args = [str(inputs), "-o", str(out), "--key-file", str(key), "--no-fsync", "-q"]
        assert main(["anonymize", *args, "--workers", workers, "--report", str(report)]) == 0
        files = {p.relative_to(out).as_posix(): _sha(p) for p in out.rglob("*.dcm")}
        statuses = sorted(json.loads(line)["status"] for line in report.read_text().splitlines())
        runs[workers] = (files, statuses)
    assert len(runs["1"][0]) == 6
    assert runs["1"] == runs["2"]
