"""Encapsulated documents: ours and DCMTK's pdf2dcm/dcm2pdf exchange PDFs byte for byte."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import dicomfast
import pytest
from dicomfast.documents import encapsulate, extract

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dicomfast", *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("odd", [False, True])
def test_round_trip_and_attributes(tmp_path: Path, odd: bool) -> None:
    src = tmp_path / "doc.pdf"
    src.write_bytes(PDF + (b"x" if odd else b""))
    assert (
        _cli(
            "encapsulate", str(src), "-o", str(tmp_path / "d.dcm"), "-k", "PatientID=P1"
        ).returncode
        == 0
    )
    ds = dicomfast.read(tmp_path / "d.dcm")
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.104.1"
    assert ds.MIMETypeOfEncapsulatedDocument == "application/pdf"
    assert ds.EncapsulatedDocumentLength == len(src.read_bytes())
    assert len(ds.EncapsulatedDocument) % 2 == 0 and ds.PatientID == "P1"
    assert (
        _cli("extract", str(tmp_path / "d.dcm"), "-o", str(tmp_path / "back.pdf")).returncode == 0
    )
    assert (tmp_path / "back.pdf").read_bytes() == src.read_bytes()


@pytest.mark.skipif(shutil.which("pdf2dcm") is None, reason="DCMTK not installed")
@pytest.mark.parametrize("tail", [b"\n", b"\r\n"], ids=["odd", "even"])
def test_exchange_with_dcmtk(tmp_path: Path, tail: bytes) -> None:
    # dcm2pdf (3.6.7) cuts what follows the last %%EOF line: the PDFs end there, as real ones do
    src = tmp_path / "doc.pdf"
    src.write_bytes(PDF[:-1] + tail)
    # theirs -> ours
    subprocess.run(
        ["pdf2dcm", str(src), str(tmp_path / "theirs.dcm")], check=True, capture_output=True
    )
    assert extract(dicomfast.read(tmp_path / "theirs.dcm")) == src.read_bytes()
    # ours -> theirs
    dicomfast.write(encapsulate(src), tmp_path / "ours.dcm")
    subprocess.run(
        ["dcm2pdf", str(tmp_path / "ours.dcm"), str(tmp_path / "back.pdf")],
        check=True,
        capture_output=True,
    )
    assert (tmp_path / "back.pdf").read_bytes() == src.read_bytes()


def test_like_and_errors(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from media_helpers import make_instance

    make_instance(tmp_path / "ref.dcm", "9", "1", "1", 1)
    (tmp_path / "m.stl").write_bytes(b"solid x\nendsolid x\n")
    ds = encapsulate(tmp_path / "m.stl", like=tmp_path / "ref.dcm")
    assert ds.PatientID == "PID9" and ds.StudyInstanceUID == "1.2.826.0.1.3680043.10.1337.9.1"
    ref = dicomfast.read(tmp_path / "ref.dcm")
    assert ds.StudyDescription == ref.StudyDescription and "IssuerOfPatientID" not in ds
    ref.IssuerOfPatientID = "HOSP"
    del ref.StudyDescription
    ds = encapsulate(tmp_path / "m.stl", like=ref)
    assert ds.IssuerOfPatientID == "HOSP"
    assert "StudyDescription" not in ds  # type 3: only when the reference has one
    assert ds.MIMETypeOfEncapsulatedDocument == "model/stl"
    (tmp_path / "x.txt").write_bytes(b"hi")
    r = _cli("encapsulate", str(tmp_path / "x.txt"), "-o", str(tmp_path / "x.dcm"))
    assert r.returncode == 1 and "Traceback" not in r.stderr
