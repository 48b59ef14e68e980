"""``dicomfast gsdf``: the calibration table as text (like dcmdspfn +Og) and JSON Lines."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from dicomfast.cli import main

MONITOR = "# a small monitor\nmax 3\namb 1\n0 0.5\n1 3\n2 5\n3 9\n"
PRINTER = Path("/usr/share/dcmtk/printer.lut")


def _rows(text: str) -> np.ndarray:
    return np.array(
        [ln.split("\t") for ln in text.splitlines() if ln and ln[0].isdigit()], dtype=np.float64
    )


def test_gsdf_text_table(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    lut = tmp_path / "m.lut"
    lut.write_text(MONITOR)
    assert main(["gsdf", str(lut)]) == 0
    out = capsys.readouterr().out
    assert "DDL\tCC\tGSDF\tPSC" in out and "# ambient light [cd/m^2] : 1" in out
    rows = _rows(out)
    assert rows.shape == (4, 4)
    assert rows[:, 0].tolist() == [0, 1, 2, 3]
    assert rows[:, 1].tolist() == [1.5, 4.0, 6.0, 10.0]  # measured + ambient
    assert set(rows[:, 3]) <= set(rows[:, 1])  # PSC: a level of the device


def test_gsdf_json_lines_and_overrides(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    lut = tmp_path / "m.lut"
    lut.write_text(MONITOR)
    assert main(["gsdf", str(lut), "--json", "--ambient", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    rows = [json.loads(ln) for ln in lines]
    assert list(rows[0]) == ["ddl", "cc", "gsdf", "psc"]
    assert [r["cc"] for r in rows] == [0.5, 3.0, 5.0, 9.0]
    assert rows[0]["gsdf"] == pytest.approx(0.5, rel=1e-3)


def test_gsdf_bad_file_names_the_line(tmp_path: Path) -> None:
    lut = tmp_path / "bad.lut"
    lut.write_text("max 255\n0 1.0\nbogus 3\n")
    run = subprocess.run(
        [sys.executable, "-m", "dicomfast", "gsdf", str(lut)], capture_output=True, text=True
    )
    assert run.returncode == 1 and run.stdout == ""
    assert "bad.lut" in run.stderr and "line 3:" in run.stderr


@pytest.mark.skipif(shutil.which("dcmdspfn") is None or not PRINTER.exists(), reason="no DCMTK")
def test_gsdf_printer_matches_dcmdspfn(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    ref = tmp_path / "ref.txt"
    subprocess.run(
        ["dcmdspfn", "+Ip", str(PRINTER), "+Ca", "5", "+Og", str(ref)],
        check=True,
        capture_output=True,
    )
    assert main(["gsdf", str(PRINTER), "--printer", "--ambient", "5"]) == 0
    ours = _rows(capsys.readouterr().out)
    theirs = _rows(ref.read_text())
    assert ours.shape == theirs.shape == (256, 4)
    # both print 6 decimals of nearly the same doubles: at most one unit in the last place
    assert np.max(np.abs(ours - theirs)) <= 1.0001e-6
