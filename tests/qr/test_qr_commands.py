"""``dicomfast find``, ``move``, ``get`` and ``mwl`` against the archive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dicomfast.cli import main
from qrutil import ROOT, archive_server


def test_find_table_and_json(loaded, capsys: pytest.CaptureFixture[str]) -> None:
    server, _ = loaded
    port = str(server.port)
    keys = ["-k", "PatientName=DOE*", "-k", "StudyDate=20240101-20241231", "-k", "PatientID"]
    assert main(["find", "127.0.0.1", port, "--aec", "ARCHIVE", *keys]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:1] and "PatientName" in out[0]
    assert len(out) == 1 + 4  # header + 2 patients × 2 studies
    assert main(["find", "127.0.0.1", port, *keys, "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted({r["00100020"]["Value"][0] for r in rows}) == ["PID000", "PID001"]
    # patient root, patient level
    assert main(["find", "127.0.0.1", port, "--model", "patient", "-k", "PatientID", "--json"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 5
    # a bad level is a failure status, exit 1, no traceback
    assert main(["find", "127.0.0.1", port, "-k", "StudyDate=2024XX01-"]) == 1


def test_get_writes_files(loaded, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    server, _ = loaded
    out = tmp_path / "out"
    rc = main(
        [
            "get",
            "127.0.0.1",
            str(server.port),
            "-k",
            f"StudyInstanceUID={ROOT}.1.0.3.0",
            "-o",
            str(out),
            "-q",
            "--no-fsync",
        ]
    )
    assert rc == 0, capsys.readouterr()
    assert len(list(out.glob("*.dcm"))) == 4
    assert "completed 4" in capsys.readouterr().out
    assert sorted(p.suffix for p in out.iterdir()) == [".dcm"] * 4  # no .spares/ left


def test_move_to_second_archive(tmp_path: Path, source_files) -> None:
    dest, dest_archive = archive_server(tmp_path / "dest", aet="DEST")
    server, archive = archive_server(
        tmp_path / "src", destinations={"DEST": ("127.0.0.1", dest.port)}
    )
    try:
        for f in source_files:
            archive.store(f)
        port = str(server.port)
        assert (
            main(["move", "127.0.0.1", port, "--dest", "DEST", "-k", "PatientID=PID004", "-q"]) == 0
        )
        assert dest_archive.count() == 8
        assert main(["move", "127.0.0.1", port, "--dest", "NOPE", "-k", "PatientID=PID004"]) == 1
    finally:
        server.shutdown()
        dest.shutdown()
        archive.close()
        dest_archive.close()


def test_unreachable_peer_exit_code() -> None:
    from qrutil import free_port

    assert main(["find", "127.0.0.1", str(free_port()), "-k", "PatientID", "--timeout", "2"]) == 2


def test_ae_config_formats(tmp_path: Path) -> None:
    from dicomfast.net.services.move import load_ae_config

    j = tmp_path / "a.json"
    j.write_text('{"STORESCP": ["10.0.0.1", 104], "B": {"host": "h", "port": 5}}')
    assert load_ae_config(j) == {"STORESCP": ("10.0.0.1", 104), "B": ("h", 5)}
    ini = tmp_path / "a.ini"
    ini.write_text("[STORESCP]\nhost = 10.0.0.1\nport = 104\n\n[aets]\nOther = h:11112\n")
    assert load_ae_config(ini) == {"STORESCP": ("10.0.0.1", 104), "Other": ("h", 11112)}
