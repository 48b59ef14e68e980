"""``dicomfast archive ...`` and ``dicomfast worklist ...`` (SQLite index)."""

from __future__ import annotations

import json
import os

from archutil import encode, instance
from dicomfast.cli import main


def test_archive_cli(tmp_path, capsys) -> None:  # noqa: ANN001
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        (src / f"{i}.dcm").write_bytes(
            encode(instance(sop_uid=f"1.7.{i}", patient_name=f"CLI^P{i}", StudyDate="20240601"))
        )
    (src / "junk.txt").write_bytes(b"not dicom")
    storage = str(tmp_path / "storage")
    assert main(["archive", "import", "--storage", storage, str(src)]) == 1  # the junk file
    out = capsys.readouterr()
    assert "stored 3, failed 1" in out.out and "junk.txt" in out.err

    assert main(["archive", "find", "--storage", storage, "-k", "QueryRetrieveLevel=IMAGE",
                 "-k", "SOPInstanceUID", "--json"]) == 0  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert sorted(json.loads(x)["00080018"]["Value"][0] for x in lines) == [
        "1.7.0",
        "1.7.1",
        "1.7.2",
    ]
    assert main(["archive", "find", "--storage", storage, "-k", "QueryRetrieveLevel=STUDY",
                 "-k", "StudyDate=2025-"]) == 0  # fmt: skip
    assert "# 0 matches" in capsys.readouterr().err
    assert main(["archive", "find", "--storage", storage, "-k", "StudyDate=2025-"]) == 2
    assert "0xA900" in capsys.readouterr().err

    assert main(["archive", "check", "--storage", storage]) == 0
    assert "consistent" in capsys.readouterr().out
    # lose a file: check reports it, --repair fixes it
    victim = next(p for p in (tmp_path / "storage").rglob("1.7.1.dcm"))
    os.unlink(victim)
    assert main(["archive", "check", "--storage", storage]) == 1
    out = capsys.readouterr().out
    assert "index row without file" in out and "--repair" in out
    assert main(["archive", "check", "--storage", storage, "--repair"]) == 0
    assert main(["archive", "check", "--storage", storage, "--verify"]) == 0
    capsys.readouterr()
    assert main(["archive", "reindex", "--storage", storage]) == 0
    assert "indexed 2 instances" in capsys.readouterr().out


def test_worklist_cli(tmp_path, capsys) -> None:  # noqa: ANN001
    item = {
        "00100010": {"vr": "PN", "Value": [{"Alphabetic": "WL^CLI"}]},
        "00100020": {"vr": "LO", "Value": ["W9"]},
        "0020000D": {"vr": "UI", "Value": ["1.8.1"]},
        "00400100": {
            "vr": "SQ",
            "Value": [
                {
                    "00080060": {"vr": "CS", "Value": ["CT"]},
                    "00400001": {"vr": "AE", "Value": ["CT01"]},
                    "00400002": {"vr": "DA", "Value": ["20240601"]},
                    "00400009": {"vr": "SH", "Value": ["S9"]},
                }
            ],
        },
    }
    f = tmp_path / "wl.json"
    f.write_text(json.dumps(item))
    storage = str(tmp_path / "storage")
    assert main(["worklist", "add", "--storage", storage, str(f)]) == 0
    assert "added 1" in capsys.readouterr().out
    assert main(["archive", "find", "--storage", storage, "--model", "WORKLIST", "-k", "PatientName=wl*",
                 "-k", "ScheduledProcedureStepSequence.Modality=CT", "--json"]) == 0  # fmt: skip
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["00100010"]["Value"][0]["Alphabetic"] == "WL^CLI"
    assert main(["worklist", "remove", "--storage", storage, "1.8.1"]) == 0
    assert "removed 1" in capsys.readouterr().out
