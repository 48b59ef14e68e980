"""``dicomfast media create|ls|add|remove|verify``."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import dicomfast  # noqa: E402
from dicomfast.media import FileSet  # noqa: E402
from media_helpers import fileset_tree, make_instance, media_cli  # noqa: E402

_cli = media_cli


def test_create_ls_verify_remove_add(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(4):
        make_instance(src / f"a{i}.dcm", str(i % 2), "1", "1", i + 1)
    # one instance in implicit VR: STD-GEN-CD wants explicit VR little endian
    ds = dicomfast.read(src / "a0.dcm")
    dicomfast.write(ds, src / "a0.dcm", transfer_syntax=dicomfast.uid.ImplicitVRLittleEndian)
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    out = tmp_path / "OUT"
    r = _cli(
        "create",
        str(out),
        str(src),
        "--fileset-id",
        "MYSET",
        "--profile",
        "STD-GEN-CD",
        "--zip",
        str(tmp_path / "o.zip"),
    )
    assert r.returncode == 0, r.stderr
    assert {p.name: p.read_bytes() for p in src.iterdir()} == before  # inputs untouched
    rows = [json.loads(line) for line in _cli("ls", str(out), "--json").stdout.splitlines()]
    assert len(rows) == 4
    assert {r["transfer_syntax_uid"] for r in rows} == {dicomfast.uid.ExplicitVRLittleEndian}
    for row in rows:
        f = dicomfast.read(out.joinpath(*row["file_id"].split("/")))
        assert f.transfer_syntax == dicomfast.uid.ExplicitVRLittleEndian
        assert f.SOPInstanceUID == row["sop_instance_uid"]
    assert sorted(zipfile.ZipFile(tmp_path / "o.zip").namelist()) == sorted(
        ["DICOMDIR", *(r["file_id"] for r in rows)]
    )
    assert _cli("verify", str(out)).returncode == 0
    (out / "STRAY").write_bytes(b"x")
    v = _cli("verify", str(out))
    assert v.returncode == 1 and "STRAY" in v.stdout
    (out / "STRAY").unlink()
    r = _cli("remove", str(out), rows[0]["sop_instance_uid"], "--patient-id", "PID1")
    assert r.returncode == 0, r.stderr
    left = [json.loads(line) for line in _cli("ls", str(out), "--json").stdout.splitlines()]
    assert {r["patient_id"] for r in left} == {"PID0"} and len(left) == 1
    assert _cli("verify", str(out)).returncode == 0
    make_instance(src / "b.dcm", "7", "1", "1", 1)
    assert _cli("add", str(out), str(src / "b.dcm")).returncode == 0
    assert len(_cli("ls", str(out), "--json").stdout.splitlines()) == 2
    assert _cli("verify", str(out)).returncode == 0


CORNERSTONE = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "public" / "cornerstone"


def test_create_fails_clearly_for_a_profile_it_cannot_meet(tmp_path: Path) -> None:
    j2k = CORNERSTONE / "CTImage.dcm_JPEG2000LosslessOnly_1.2.840.10008.1.2.4.90.dcm"
    if not j2k.exists():
        pytest.skip("corpus not found")
    # JPEG 2000 decodes: a JPEG profile gets it as JPEG Lossless SV1 (its lossless one)
    r = _cli("create", str(tmp_path / "J"), str(j2k), "--profile", "STD-GEN-DVD-JPEG")
    assert r.returncode == 0, r.stderr
    (row,) = [
        json.loads(line) for line in _cli("ls", str(tmp_path / "J"), "--json").stdout.splitlines()
    ]
    assert row["transfer_syntax_uid"] == dicomfast.uid.JPEGLosslessSV1
    # a syntax nothing here decodes (Part 2 multi-component; same image, relabelled)
    mc = tmp_path / "mc.dcm"
    data = j2k.read_bytes()
    at = data.index(b"UI\x16\x001.2.840.10008.1.2.4.90") + 4  # the file meta's (0002,0010)
    mc.write_bytes(data[:at] + b"1.2.840.10008.1.2.4.92" + data[at + 22 :])
    r = _cli("create", str(tmp_path / "OUT"), str(mc), "--profile", "STD-GEN-DVD-JPEG")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "Multi-component" in r.stderr and "cannot decode" in r.stderr
    assert not (tmp_path / "OUT").exists()  # nothing half-made
    r = _cli("create", str(tmp_path / "OUT"), str(j2k), "--profile", "STD-GEN-DVD-J2K")
    assert r.returncode == 0, r.stderr
    r = _cli("create", str(tmp_path / "O2"), str(tmp_path / "nothing.dcm"))
    assert r.returncode == 1 and "Traceback" not in r.stderr


def test_verify_repair(tmp_path: Path) -> None:
    for i in range(3):
        make_instance(tmp_path / f"a{i}.dcm", "1", "1", "1", i + 1)
    out = tmp_path / "OUT"
    assert (
        _cli("create", str(out), *(str(tmp_path / f"a{i}.dcm") for i in range(3))).returncode == 0
    )
    first = next(p for p in out.rglob("IM*"))
    first.unlink()
    make_instance(out / "EXTRA", "2", "1", "1", 1)
    v = _cli("verify", str(out))
    assert v.returncode == 1 and "missing" in v.stdout and "EXTRA" in v.stdout
    r = _cli("verify", str(out), "--repair")
    assert r.returncode == 0, r.stdout + r.stderr
    assert _cli("verify", str(out)).returncode == 0
    assert len(_cli("ls", str(out), "--json").stdout.splitlines()) == 3


def test_create_and_verify_do_not_import_numpy(tmp_path: Path) -> None:
    """numpy is ~half of a short command's start-up: ``media create`` and ``verify``
    make no array, so they never import it (``dicomfast.lazy_numpy``); nor do they
    load the network stack (only ``create --from`` does)."""
    for i in range(3):
        make_instance(tmp_path / f"i{i}", "1", "1", "1", i + 1)
    probe = (
        "import sys\n"
        "from dicomfast.cli import main\n"
        f"assert main(['media', 'create', {str(tmp_path / 'OUT')!r}, {str(tmp_path)!r}]) == 0\n"
        f"assert main(['media', 'verify', {str(tmp_path / 'OUT')!r}]) == 0\n"
        "print('numpy' in sys.modules, 'dicomfast.net' in sys.modules)\n"
    )
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False False"
    # ... while create's help and --from still have the network options
    assert "--aec" in _cli("create", "--help").stdout


def test_index_in_place(tmp_path: Path) -> None:
    """``media index DIR``: a DICOMDIR for files already in DIR under valid File IDs
    (nothing copied, moved or changed); the tree DCMTK's dcmmkdir makes of them."""
    made = tmp_path / "MADE"
    src = tmp_path / "src"
    src.mkdir()
    for i in range(6):
        make_instance(src / f"a{i}.dcm", str(i % 2), str(i % 3), "1", i + 1)
    assert _cli("create", str(made), str(src)).returncode == 0
    (made / "DICOMDIR").unlink()
    before = {p: p.read_bytes() for p in made.rglob("*") if p.is_file()}
    r = _cli("index", str(made), "--fileset-id", "INPLACE")
    assert r.returncode == 0, r.stderr
    assert {
        p: p.read_bytes() for p in made.rglob("*") if p.is_file() and p.name != "DICOMDIR"
    } == before
    fs = FileSet(made)
    assert fs.ID == "INPLACE" and len(fs) == 6
    assert _cli("verify", str(made)).returncode == 0
    r = _cli("index", str(made))
    assert r.returncode == 1 and "already" in r.stderr
    if Path("/usr/bin/dcmmkdir").exists():
        (made / "DICOMDIR").rename(tmp_path / "OURS")
        subprocess.run(
            ["/usr/bin/dcmmkdir", "+r", "+id", str(made), "+D", str(made / "DICOMDIR")],
            check=True,
            capture_output=True,
        )
        assert fileset_tree(FileSet(made)) == fileset_tree(fs)
        (made / "DICOMDIR").unlink()
    # a file that is no instance, or not under a valid File ID: named, nothing written
    (made / "notes.txt").write_text("x")
    (made / "JUNK").write_bytes(b"not DICOM")
    r = _cli("index", str(made))
    assert r.returncode == 1 and "notes.txt" in r.stderr and "JUNK" in r.stderr
    assert not (made / "DICOMDIR").exists()
