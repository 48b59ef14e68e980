"""``dicomfast media create OUT --from HOST PORT -k ...``: C-GET straight into a
File-set, from ``dicomfast serve`` and from DCMTK's ``dcmqrscp``; ``FileSet.store``
and ``discard`` underneath."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "qr"))

import dicomfast  # noqa: E402
from dicomfast.media import FileSet  # noqa: E402
from dicomfast.media.verify import verify  # noqa: E402
from media_helpers import make_instance, our_tree, pydicom_tree  # noqa: E402
from qrutil import dcmqrscp, free_port, serving  # noqa: E402

STUDY = "1.2.826.0.1.3680043.10.1337.{}.1"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dicomfast", "media", "create", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """Patient 1: one study, 2 series, 4 instances (one implicit VR); patient 2: one
    study whose second instance has no Instance Number (an IMAGE record needs one)."""
    d = tmp_path_factory.mktemp("src")
    good = []
    for i in range(4):
        p = d / f"g{i}"
        make_instance(p, "1", "1", str(1 + i % 2), i + 1, modality="CT")
        good.append(p)
    ds = dicomfast.read(good[0])
    dicomfast.write(ds, good[0], transfer_syntax=dicomfast.uid.ImplicitVRLittleEndian)
    bad = [d / "b0", d / "b1"]
    make_instance(bad[0], "2", "1", "1", 1)
    make_instance(bad[1], "2", "1", "1", 2)
    ds = dicomfast.read(bad[1])
    del ds.InstanceNumber
    dicomfast.write(ds, bad[1])
    return {"good": good, "bad": bad}


@pytest.fixture(scope="module")
def archive(
    tmp_path_factory: pytest.TempPathFactory, sources: dict[str, list[Path]]
) -> Iterator[int]:
    """``dicomfast serve`` holding the sources; its port."""
    data = tmp_path_factory.mktemp("serve")
    with serving(["--storage", str(data), "--no-fsync", "--aet", "ARCHIVE"]) as port:
        files = [str(p) for p in sources["good"] + sources["bad"]]
        r = subprocess.run(
            [sys.executable, "-m", "dicomfast", "store", "127.0.0.1", str(port), *files],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr
        yield port


def _check_fileset(out: Path, sources: list[Path]) -> FileSet:
    """``out`` is a File-set of exactly ``sources``: verify finds nothing, pydicom
    and DCMTK read the DICOMDIR, every file holds its instance's pixels."""
    fs = FileSet(out)
    assert verify(fs) == []
    want = {dicomfast.read(p).SOPInstanceUID: dicomfast.read(p) for p in sources}
    assert {i.SOPInstanceUID for i in fs} == set(want)
    for inst in fs:
        got = inst.load()
        assert bytes(got.PixelData) == bytes(want[inst.SOPInstanceUID].PixelData)
        assert got.transfer_syntax == inst.TransferSyntaxUID
        assert all(len(c) <= 8 for c in inst.FileID or ())
    pydicom = pytest.importorskip("pydicom")
    from pydicom.fileset import FileSet as PydicomFileSet

    assert pydicom_tree(PydicomFileSet(pydicom.dcmread(out / "DICOMDIR"))) == our_tree(fs)
    if shutil.which("dcmdump"):
        r = subprocess.run(["dcmdump", str(out / "DICOMDIR")], capture_output=True, text=True)
        assert r.returncode == 0 and "DirectoryRecordSequence" in r.stdout, r.stderr
    return fs


def test_store_then_discard_or_write(tmp_path: Path, sources: dict[str, list[Path]]) -> None:
    out = tmp_path / "new" / "OUT"
    fs = FileSet()
    for p in sources["good"]:
        fs.store(p.read_bytes(), folder=out)
    assert len(fs) == 4 and len(list(out.rglob("IM*"))) == 4
    fs.discard()
    assert len(fs) == 0 and not (tmp_path / "new").exists()  # the folders it made, too
    with pytest.raises(dicomfast.DicomError, match="InstanceNumber"):
        fs.store(sources["bad"][1].read_bytes(), folder=out)
    assert not [f for f in (tmp_path / "new").rglob("*") if f.is_file()]  # no temp left
    for p in sources["good"]:
        fs.store(p.read_bytes(), folder=out)
    fs.write()
    _check_fileset(out, sources["good"])


def test_create_from_serve(archive: int, tmp_path: Path, sources: dict[str, list[Path]]) -> None:
    out = tmp_path / "OUT"
    r = _cli(
        str(out),
        "--from",
        "127.0.0.1",
        str(archive),
        "-aec",
        "ARCHIVE",
        "-k",
        f"StudyInstanceUID={STUDY.format(1)}",
        "--profile",
        "STD-GEN-CD",
    )
    assert r.returncode == 0, r.stderr
    fs = _check_fileset(out, sources["good"])
    assert {i.TransferSyntaxUID for i in fs} == {dicomfast.uid.ExplicitVRLittleEndian}


def test_create_from_serve_failures(
    archive: int, tmp_path: Path, sources: dict[str, list[Path]]
) -> None:
    out = tmp_path / "OUT"
    # one instance of the study cannot go into a File-set: no half File-set is left
    args = ["--from", "127.0.0.1", str(archive), "-k", f"StudyInstanceUID={STUDY.format(2)}"]
    r = _cli(str(out), *args)
    assert r.returncode == 1 and "InstanceNumber" in r.stderr and "no File-set" in r.stderr
    assert not out.exists()
    # ... unless asked to keep what arrived: a consistent File-set of it
    r = _cli(str(out), *args, "--keep-partial")
    assert r.returncode == 1 and "1 instances kept" in r.stderr
    _check_fileset(out, sources["bad"][:1])
    # nothing matches
    r = _cli(str(tmp_path / "NONE"), *args[:3], "-k", "StudyInstanceUID=1.2.3.4")
    assert r.returncode == 1 and not (tmp_path / "NONE").exists()
    # nobody listens: a connection error, nothing done
    r = _cli(str(tmp_path / "NC"), "--from", "127.0.0.1", str(free_port()), *args[3:])
    assert r.returncode == 2 and not (tmp_path / "NC").exists()
    # both sources, or none
    assert _cli(str(tmp_path / "X"), str(sources["good"][0]), *args).returncode == 2
    assert _cli(str(tmp_path / "X")).returncode == 2
    r = _cli(str(tmp_path / "X"), "--from", "127.0.0.1", "port", *args[3:])
    assert r.returncode == 2 and "not a number" in r.stderr


@pytest.mark.dcmtk
def test_create_from_dcmqrscp(tmp_path: Path, sources: dict[str, list[Path]]) -> None:
    with dcmqrscp(tmp_path, sources["good"]) as port:
        out = tmp_path / "OUT"
        key = f"StudyInstanceUID={STUDY.format(1)}"
        args = ["--from", "127.0.0.1", str(port), "-aec", "QRSCP", "-k", key]
        r = _cli(str(out), *args, "--fileset-id", "FROMDCMTK", "--no-fsync")
        assert r.returncode == 0, r.stderr
        fs = _check_fileset(out, sources["good"])
        assert fs.ID == "FROMDCMTK"
