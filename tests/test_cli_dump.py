"""``dicomfast dump``: listing and JSON, and clear errors for bad files."""

from __future__ import annotations

import json
import subprocess
import sys

from dicomfast.cli import main


def test_dump_lists_elements_and_nested_items(ct_small, capsys) -> None:  # noqa: ANN001
    assert main(["dump", str(ct_small)]) == 0
    out = capsys.readouterr().out
    assert "(0010,0010) PN #22     PatientName" in out
    assert "CompressedSamples^CT1" in out
    assert "(0010,1002) SQ" in out and "    (0010,0020) LO #8      PatientID" in out
    assert "(0002,0010) UI" in out  # file meta listed first


def test_dump_json_is_the_dicom_json_model(ct_small, capsys) -> None:  # noqa: ANN001
    assert main(["dump", "--json", str(ct_small)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["00100010"] == {"vr": "PN", "Value": [{"Alphabetic": "CompressedSamples^CT1"}]}
    assert doc["00280010"] == {"vr": "US", "Value": [128]}
    assert doc["00101002"]["Value"][0]["00100020"]["Value"] == ["ABCD1234"]


def test_dump_reports_bad_files_and_exits_nonzero(tmp_path) -> None:  # noqa: ANN001
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\xff\x7f")
    run = subprocess.run(
        [sys.executable, "-m", "dicomfast", "dump", str(bad)], capture_output=True, text=True
    )
    assert run.returncode == 1
    assert "bad.dcm" in run.stderr and "offset" in run.stderr
