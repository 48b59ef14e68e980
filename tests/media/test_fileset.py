"""dicomfast.media.FileSet against pydicom's FileSet, DCMTK and dicom3tools, and on
hostile DICOMDIRs (issue 14)."""

from __future__ import annotations

import glob
import os
import shutil
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import dicomfast  # noqa: E402
from dicomfast.errors import DicomError  # noqa: E402
from dicomfast.media import FileSet  # noqa: E402
from dicomfast.media.verify import repair, verify  # noqa: E402
from media_helpers import (  # noqa: E402
    files_tree,
    fileset_tree,
    make_instance,
    our_tree,
    pydicom_tree,
)

CORPUS = Path(
    os.environ.get("DICOMFAST_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpus")
)
DIRTESTS = CORPUS / "public/pydicom/dicomdirtests"
DICOMDIRS = sorted(glob.glob(str(DIRTESTS / "DICOMDIR*"))) + [
    str(DIRTESTS / "TINY_ALPHA/DICOMDIR"),
    str(CORPUS / "public/nema-multiframe/DICOMDIR"),
]
pytestmark = pytest.mark.skipif(not DIRTESTS.exists(), reason=f"corpus not found at {CORPUS}")


def _corpus_instances() -> list[str]:
    return sorted(p for p in glob.glob(str(DIRTESTS / "[0-9]*/*/*")) if os.path.isfile(p))


@pytest.mark.parametrize("path", DICOMDIRS, ids=lambda p: "/".join(p.split("/")[-2:]))
def test_corpus_dicomdir_reads_to_pydicoms_tree(path: str) -> None:
    pydicom = pytest.importorskip("pydicom")
    from pydicom.fileset import FileSet as PydicomFileSet

    ours = FileSet(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            theirs = PydicomFileSet(pydicom.dcmread(path))
        except ValueError as e:  # DICOMDIR-nopatient: pydicom gives up, we repair and say so
            assert "nopatient" in path, e
            assert ours.repairs and sum(1 for r in ours.roots for _ in r) == 52
            return
    assert our_tree(ours) == pydicom_tree(theirs)


def test_nema_dicomdir_reports_missing_files_and_wrong_last_offset() -> None:
    fs = FileSet(CORPUS / "public/nema-multiframe")
    assert any("last root record" in r for r in fs.repairs)
    assert any("missing" in p for p in fs.problems)


def _copies(tmp: Path, n: int | None = None) -> list[str]:
    """Corpus instances copied under 8-character names (what dcmmkdir accepts)."""
    out = []
    for i, p in enumerate(_corpus_instances()[:n]):
        d = tmp / "IN" / f"S{i // 10:03d}"
        d.mkdir(parents=True, exist_ok=True)
        dest = d / f"IM{i:06d}"
        shutil.copyfile(p, dest)
        out.append(str(dest))
    return out


@pytest.mark.skipif(shutil.which("dcmmkdir") is None, reason="DCMTK not installed")
def test_dcmtk_dicomdir_reads_to_the_tree_of_its_files(tmp_path: Path) -> None:
    files = _copies(tmp_path)
    subprocess.run(
        [
            "dcmmkdir",
            "+r",
            "-Pgp",
            "+I",
            "+id",
            str(tmp_path / "IN"),
            "+D",
            str(tmp_path / "IN" / "DICOMDIR"),
        ],
        check=True,
        capture_output=True,
    )
    fs = FileSet(tmp_path / "IN")
    assert not fs.repairs and not fs.problems
    assert fileset_tree(fs) == files_tree(files)
    assert verify(fs) == []


def test_ours_is_read_by_dcmtk_pydicom_and_dciodvfy(tmp_path: Path) -> None:
    files = _corpus_instances()
    fs = FileSet()
    for f in files:
        fs.add(f)
    fs.ID = "OURS"
    out = tmp_path / "OUT"
    fs.write(out)
    back = FileSet(out)
    assert fileset_tree(back) == files_tree(files)
    assert verify(back) == []
    pydicom = pytest.importorskip("pydicom")
    from pydicom.fileset import FileSet as PydicomFileSet

    theirs = PydicomFileSet(pydicom.dcmread(out / "DICOMDIR"))
    assert len(theirs) == len(files)
    assert our_tree(back) == pydicom_tree(theirs)
    if shutil.which("dcmdump"):
        r = subprocess.run(["dcmdump", "-q", str(out / "DICOMDIR")], capture_output=True, text=True)
        assert r.returncode == 0 and "E:" not in r.stderr
    if shutil.which("dcmmkdir"):
        # DCMTK's own checks: it reads our DICOMDIR in update mode and writes it again.
        dc = tmp_path / "DC"
        shutil.copytree(out, dc)
        r = subprocess.run(
            ["dcmmkdir", "+U", "-Pgp", "+r", "-nb", "+D", "DICOMDIR", "PT000000"],
            capture_output=True,
            text=True,
            cwd=dc,
        )
        assert r.returncode == 0, r.stderr
        assert fileset_tree(FileSet(dc)) == files_tree(files)
    if shutil.which("dciodvfy") is None:
        pytest.skip("dicom3tools (dciodvfy) not installed")
    r = subprocess.run(["dciodvfy", str(out / "DICOMDIR")], capture_output=True, text=True)
    errors = [line for line in (r.stdout + r.stderr).splitlines() if line.startswith("Error")]
    assert errors == []


def test_write_failure_leaves_the_old_fileset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dicomfast.media import fileset as fileset_module

    for i in range(3):
        make_instance(tmp_path / f"a{i}.dcm", "1", "1", "1", i + 1)
    fs = FileSet()
    for i in range(3):
        fs.add(tmp_path / f"a{i}.dcm")
    fs.write(tmp_path / "FS")
    before = (tmp_path / "FS" / "DICOMDIR").read_bytes()
    files_before = sorted(p for p in (tmp_path / "FS").rglob("*"))
    make_instance(tmp_path / "b.dcm", "2", "1", "1", 1)
    fs = FileSet(tmp_path / "FS")
    fs.add(tmp_path / "b.dcm")
    fs.remove(next(iter(fs)))

    def boom(*a: object, **k: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(fileset_module, "publish", boom)
    with pytest.raises(OSError):
        fs.write()
    assert (tmp_path / "FS" / "DICOMDIR").read_bytes() == before
    assert sorted(p for p in (tmp_path / "FS").rglob("*")) == files_before


def _records(path: Path) -> list[tuple[int, int]]:
    """(item offset, index) of every record of a DICOMDIR."""
    ds = dicomfast.read(path)
    raw = ds._raw
    return [raw.node_info(it._node)[4] for it in ds.DirectoryRecordSequence]


@pytest.fixture
def small_fs(tmp_path: Path) -> Path:
    fs = FileSet()
    for p, s in (("1", "1"), ("1", "2"), ("2", "1")):
        for i in range(2):
            make_instance(tmp_path / f"{p}{s}{i}.dcm", p, s, "1", i + 1)
            fs.add(tmp_path / f"{p}{s}{i}.dcm")
    fs.write(tmp_path / "FS")
    return tmp_path / "FS" / "DICOMDIR"


def _patch_ul(path: Path, at: int, value: int) -> None:
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, at, value)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "how",
    [
        "root-outside",
        "next-outside",
        "next-self-loop",
        "lower-loop-to-root",
        "lower-into-middle",
        "all-zero",
    ],
)
def test_hostile_offsets_are_repaired_and_reported(small_fs: Path, how: str) -> None:
    good = our_tree(FileSet(small_fs))
    offs = _records(small_fs)
    first_patient = offs[0]
    next_at = lambda rec: rec + 8 + 8  # noqa: E731
    lower_at = lambda rec: rec + 8 + 12 + 10 + 8  # noqa: E731
    ds = dicomfast.read(small_fs)
    root_at = ds._raw.node_info(
        ds["OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity"]._node
    )[5]
    if how == "root-outside":
        _patch_ul(small_fs, root_at, 0xFFFFFF00)
    elif how == "next-outside":
        _patch_ul(small_fs, next_at(offs[1]), 10**9)
    elif how == "next-self-loop":
        _patch_ul(small_fs, next_at(offs[1]), offs[1])
    elif how == "lower-loop-to-root":
        _patch_ul(small_fs, lower_at(offs[3]), first_patient)
    elif how == "lower-into-middle":
        _patch_ul(small_fs, lower_at(offs[0]), offs[0] + 3)
    else:
        for rec in offs:
            _patch_ul(small_fs, next_at(rec), 0)
            _patch_ul(small_fs, lower_at(rec), 0)
        _patch_ul(small_fs, root_at, 0)
    fs = FileSet(small_fs)
    assert fs.repairs
    assert our_tree(fs) == good
    assert verify(fs) != []
    repair(fs)
    fixed = FileSet(small_fs)
    assert verify(fixed) == [] and our_tree(fixed) == good


def test_not_a_dicomdir_is_a_dicom_error(tmp_path: Path) -> None:
    make_instance(tmp_path / "x.dcm", "1", "1", "1", 1)
    with pytest.raises(DicomError):
        FileSet(tmp_path / "x.dcm")
    (tmp_path / "DICOMDIR").write_bytes(b"\0" * 128 + b"DICM" + b"\xff" * 50)
    with pytest.raises(DicomError):
        FileSet(tmp_path)
    with pytest.raises(DicomError):
        FileSet(tmp_path / "nothing-here")


def test_lower_case_file_ids_are_found(small_fs: Path) -> None:
    root = small_fs.parent
    for p in sorted(root.rglob("*"), key=lambda p: -len(p.parts)):
        if p.name != "DICOMDIR":
            p.rename(p.with_name(p.name.lower()))
    fs = FileSet(root)
    assert not fs.problems
    assert any("case differs" in r for r in fs.repairs)
    assert all(os.path.isfile(i.path) for i in fs)


def test_missing_type1_key_is_refused(tmp_path: Path) -> None:
    make_instance(tmp_path / "x.dcm", "1", "1", "1", 1)
    ds = dicomfast.read(tmp_path / "x.dcm")
    del ds.StudyID
    with pytest.raises(DicomError, match="StudyID"):
        FileSet().add(ds)


def test_file_ids_are_plain(small_fs: Path) -> None:
    fs = FileSet(small_fs)
    for inst in fs:
        assert all(len(c) <= 8 and c.isupper() or c.isdigit() for c in inst.FileID)
        assert "DOE" not in "".join(inst.FileID)


def test_find_and_find_values(small_fs: Path) -> None:
    fs = FileSet(small_fs)
    assert len(fs.find(PatientID="PID1")) == 4
    assert fs.find_values("PatientID") == ["PID1", "PID2"]
    assert len(fs.find(load=True, Modality="OT")) == 6


def test_write_copies_on_threads_and_a_failed_copy_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small sources are written from the bytes ``add`` read, larger ones copied from
    their files; both on the copy threads.  One copy failing fails the write and
    leaves no file or folder; once the source is back, the write succeeds."""
    from dicomfast.media import fileset

    src = tmp_path / "src"
    src.mkdir()
    for i in range(2 * fileset.COPY_THREADS + 4):
        make_instance(src / f"i{i:02d}", str(i % 2), "1", "1", i + 1)
    paths = sorted(src.iterdir())
    fs = FileSet()
    monkeypatch.setattr(fileset, "SMALL_FILE", 0)  # these are copied from their files
    for p in paths[:6]:
        fs.add(p)
    monkeypatch.undo()
    for p in paths[6:]:
        fs.add(p)
    kept = paths[3].read_bytes()
    paths[3].unlink()
    with pytest.raises(FileNotFoundError):
        fs.write(tmp_path / "OUT")
    assert not (tmp_path / "OUT").exists()
    paths[3].write_bytes(kept)
    fs.write(tmp_path / "OUT")
    assert verify(FileSet(tmp_path / "OUT")) == []
    copies = sorted(f.read_bytes() for f in (tmp_path / "OUT").rglob("IM*"))
    assert copies == sorted(p.read_bytes() for p in paths)


def test_add_many_reads_on_threads_in_order_and_stops_at_a_bad_file(tmp_path: Path) -> None:
    for i in range(80):
        make_instance(tmp_path / f"i{i:03d}", str(i % 3), "1", "1", i + 1)
    (tmp_path / "i070").write_bytes(b"not DICOM at all")
    paths = sorted(tmp_path.iterdir())
    fs = FileSet()
    with pytest.raises(DicomError) as err:
        fs.add_many(paths)
    assert err.value.path == str(paths[70])
    assert [i.path for i in fs] == [str(p) for p in paths[:70]]  # in order, up to it
    fs.add_many(paths[71:])
    fs.write(tmp_path / "OUT")
    assert len(FileSet(tmp_path / "OUT")) == 79


def test_records_from_the_index_equal_records_from_elements(tmp_path: Path) -> None:
    """A file as read gives its records' keys from its index (``RawFile.find``, the
    DICOMDIR encoded by the index); a data set whose elements were looked at gives
    them as DataElements: the same records, byte for byte, whatever the encoding
    (implicit VR, big endian) and the values (leading spaces, non-ASCII names)."""
    from dicomfast.media.encode import encode_record

    paths = []
    for i, (ts, pid, name) in enumerate(
        [
            (dicomfast.uid.ExplicitVRLittleEndian, "PID1", "DOE^P"),
            (dicomfast.uid.ImplicitVRLittleEndian, " PID2", "MÜLLER^JÖRG"),
            (dicomfast.uid.ExplicitVRBigEndian, "PID3\0", "DOE^Q"),
        ]
    ):
        p = tmp_path / f"i{i}"
        make_instance(p, str(i), "1", "1", i + 1)
        ds = dicomfast.read(p)
        ds.PatientID, ds.PatientName = pid, name
        ds.ImageType = ["ORIGINAL", "PRIMARY"]
        dicomfast.write(ds, p, transfer_syntax=ts)
        paths.append(p)
    from_index = FileSet()
    from_index.add_many(paths)
    from_elements = FileSet()
    for p in paths:
        ds = dicomfast.read(p)
        assert ds.PatientID is not None  # its elements looked at: no longer as read
        from_elements.add(ds)

    def records(fs: FileSet) -> list[tuple[str, bytes]]:
        return [(n.record_type, bytes(encode_record(n))) for r in fs.roots for n in r]

    assert any(isinstance(v, int) for r in from_index.roots for v in r.dataset._table().values())
    assert records(from_index) == records(from_elements)
    assert our_tree(from_index) == our_tree(from_elements)
    from_index.write(tmp_path / "OUT")
    assert verify(FileSet(tmp_path / "OUT")) == []
    assert {i.get("PatientID") for i in FileSet(tmp_path / "OUT")} == {"PID1", " PID2", "PID3"}
