"""``media index`` (the core's ``fileset_index``) and ``FileSet`` make one DICOMDIR.

The in-place index is made in Rust (``rust/dicomfast-media``) from the tables
``FileSet`` uses; these tests run both on the same folders and ask for the same
bytes (File-set UID given), and for the same files refused: the real corpus (every
syntax, record type and damaged file it has), random trees with keys missing, and
the odd cases of a folder (links, a large header, a deflated file)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

import dicomfast  # noqa: E402
from dicomfast import _core  # noqa: E402
from dicomfast.errors import DicomError  # noqa: E402
from dicomfast.media import FileSet  # noqa: E402
from dicomfast.media.bulk import CORE_TABLES, create, index  # noqa: E402
from dicomfast.media.encode import encode_dicomdir  # noqa: E402
from dicomfast.media.verify import _files_in, _take_in_place, verify  # noqa: E402
from dicomfast.uid import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME  # noqa: E402
from media_helpers import make_instance  # noqa: E402

CORPUS = Path(
    os.environ.get("DICOMFAST_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpus")
)
UID = "1.2.826.0.1.3680043.10.1337.99"


def _by_fileset(root: Path) -> tuple[bytes, list[str]]:
    """What FileSet makes of the files in place: (DICOMDIR bytes, problem lines)."""
    fs = FileSet()
    fs.path, fs.UID, fs.ID = str(root), UID, "SAME"
    problems = _take_in_place(fs, _files_in(str(root), None))
    chunks = encode_dicomdir(fs.roots, fileset_uid=UID, fileset_id="SAME")
    return b"".join(bytes(c) for c in chunks), sorted(problems)


def _by_core(root: Path, threads: int = 2) -> tuple[bytes, list[str]]:
    front = (UID, "SAME", IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME)
    data, _, problems = _core.fileset_index(str(root), CORE_TABLES, front, threads)
    lines = []
    for fid, error in problems:
        if error is None:
            lines.append(f"{'/'.join(fid)}: not a valid File ID (A-Z, 0-9, _, up to 8)")
        else:
            if isinstance(error, DicomError):
                error.path = None
            lines.append(f"{'/'.join(fid)}: {error}")
    return data, sorted(lines)


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _same_created(sources: list[str], where: Path) -> bool:
    """``create`` and ``FileSet`` add + write make the same folder, byte for byte (the
    DICOMDIR included), or refuse the same source with the same words."""
    fs = FileSet()
    fs.UID, fs.ID = UID, "SAME"
    theirs = where / "BYFS"
    try:
        fs.add_many(sources)
        fs.write(theirs, fsync=False)
        their_error = None
    except DicomError as e:
        their_error = str(e)
    ours = where / "BYCORE"
    try:
        n = create(ours, sources, fileset_id="SAME", fileset_uid=UID, fsync=False)
    except DicomError as e:
        assert str(e) == their_error
        assert not ours.exists()  # nothing left
        return False
    assert their_error is None and n == len(sources)
    assert _files(ours) == _files(theirs)
    shutil.rmtree(ours)
    shutil.rmtree(theirs)
    return True


def _same(root: Path) -> tuple[bytes, list[str]]:
    """Both ways on ``root``; they agree on the problems (the files and the words),
    and where there are none, on every byte."""
    theirs, their_problems = _by_fileset(root)
    for threads in (1, 3):
        ours, our_problems = _by_core(root, threads)
        assert [p.split(":")[0] for p in our_problems] == [p.split(":")[0] for p in their_problems]
        assert our_problems == their_problems
        if not their_problems:
            assert ours == theirs
    return ours, our_problems


@pytest.mark.skipif(not (CORPUS / "public").exists(), reason="corpus not found")
def test_the_corpus_gives_the_same_dicomdir(tmp_path: Path) -> None:
    """Every file of the corpus linked in under a File ID: the same files refused
    (damaged ones, instances lacking a type 1 key...), and with those taken out, the
    same bytes; DCMTK's dcmmkdir-free check: our verify finds the result sound."""
    files = sorted(
        p
        for p in glob.glob(str(CORPUS / "public/**/*"), recursive=True)
        if os.path.isfile(p) and not p.upper().endswith("DICOMDIR")
    )
    assert len(files) > 200
    root = tmp_path / "FS"
    for i, p in enumerate(files):
        d = root / f"D{i // 100:03d}"
        d.mkdir(parents=True, exist_ok=True)
        os.symlink(p, d / f"F{i:07d}")
    _, problems = _same(root)
    assert 0 < len(problems) < len(files) // 2, problems  # some refused, most taken
    for line in problems:
        (root / line.split(":")[0]).unlink()
    data, rest = _same(root)
    assert rest == [] and len(data) > 50_000
    sources = [p for p, _ in _files_in(str(root), None)]
    assert _same_created(sources, tmp_path)
    (root / "DICOMDIR").write_bytes(data)
    assert verify(FileSet(root)) == []


# patient -> study -> series -> instances, with keys a record needs left out at random
trees = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.integers(0, 2),
        st.integers(0, 2),
        st.sampled_from(["", "StudyID", "StudyDate", "Modality", "PatientID", "SeriesNumber"]),
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=trees)
def test_random_trees_give_the_same_dicomdir(tmp_path: Path, tree: list) -> None:
    root = tmp_path / f"T{os.urandom(4).hex().upper()}"
    for n, (p, s, e, drop) in enumerate(tree):
        path = root / f"P{p}" / f"IM{n:06d}"
        path.parent.mkdir(parents=True, exist_ok=True)
        make_instance(path, str(p), str(s), str(e), n + 1)
        if drop:
            ds = dicomfast.read(path)
            del ds[drop]
            dicomfast.write(ds, path)
    _, problems = _same(root)
    created = _same_created([p for p, _ in _files_in(str(root), None)], tmp_path)
    assert created == (problems == [])
    shutil.rmtree(root)


def test_odd_folders_and_files(tmp_path: Path) -> None:
    """Links (a link to a folder is not followed, a dangling one is a problem), a
    lower-case name, a header over 1 MiB, a deflated data set, an implicit VR file, a
    duplicate SOP Instance UID, a file that is no DICOM, a FIFO (refused, not waited
    on): both ways alike."""
    root = tmp_path / "FS"
    (root / "A").mkdir(parents=True)
    make_instance(root / "A" / "IM1", "1", "1", "1", 1)
    ds = dicomfast.read(root / "A" / "IM1")
    ds.SOPInstanceUID = ds.SOPInstanceUID + ".2"
    ds.ImageComments = "x" * (3 << 19)  # 1.5 MiB before the pixel data
    dicomfast.write(ds, root / "A" / "BIG")
    ds = dicomfast.read(root / "A" / "IM1")
    ds.SOPInstanceUID = ds.SOPInstanceUID + ".3"
    dicomfast.write(ds, root / "A" / "IMPL", transfer_syntax=dicomfast.uid.ImplicitVRLittleEndian)
    ds.SOPInstanceUID = ds.SOPInstanceUID + ".4"
    dicomfast.write(
        ds, root / "A" / "DEFL", transfer_syntax=dicomfast.uid.DeflatedExplicitVRLittleEndian
    )
    _, problems = _same(root)
    assert problems == []
    os.symlink(root / "A", root / "LINKDIR")  # not followed: no second copy of A
    os.symlink(root / "A" / "IM1", root / "LINKED")  # a file: taken (a duplicate UID)
    os.symlink(root / "NOWHERE", root / "DANGLE")
    (root / "lower").write_bytes(b"x")
    (root / "JUNK").write_bytes(b"not DICOM at all, but long enough to look at")
    os.mkfifo(root / "FIFO")  # no writer: opening it must not wait for one
    (root / "BIGJUNK").write_bytes(os.urandom(3 << 20))  # refused from its first MiB
    _, problems = _same(root)
    # os.walk's order: the root's files (LINKED taken first), then A's
    names = ["A/IM1", "BIGJUNK", "DANGLE", "FIFO", "JUNK", "lower"]
    assert [p.split(":")[0] for p in problems] == names
    assert "already in the file-set" in problems[0]
    assert "No such file" in problems[2] and "not a regular file" in problems[3]
    assert "not a valid File ID" in problems[5]
    assert not _same_created([str(root / "A" / "IM1"), str(root / "FIFO")], tmp_path)


def test_index_writes_nothing_when_a_file_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "FS"
    (root / "A").mkdir(parents=True)
    make_instance(root / "A" / "IM1", "1", "1", "1", 1)
    (root / "A" / "JUNK").write_bytes(b"no")
    with pytest.raises(DicomError, match=r"1 of 2 files cannot be indexed: A/JUNK"):
        index(root)
    assert not (root / "DICOMDIR").exists()
    (root / "A" / "JUNK").unlink()
    assert index(root, fileset_id="X") == 1
    fs = FileSet(root)
    assert fs.ID == "X" and len(fs) == 1 and verify(fs) == []
    with pytest.raises(DicomError, match="already there"):
        index(root)
    empty = tmp_path / "EMPTY"
    empty.mkdir()
    with pytest.raises(DicomError, match="no file to index"):
        index(empty)


def test_create_refuses_a_source_and_leaves_nothing(tmp_path: Path) -> None:
    """The first source that cannot be taken raises its error, as ``FileSet.add``
    words it, naming it; the new folder is gone again, an empty one stays empty."""
    src = tmp_path / "src"
    src.mkdir()
    for i in range(70):  # more than a thread's share
        make_instance(src / f"a{i:02d}.dcm", str(i % 3), "1", str(i % 2), i + 1)
    (src / "a50.dcm").write_bytes(b"no DICOM here, nothing at all to read")
    sources = sorted(str(p) for p in src.iterdir())
    assert not _same_created(sources, tmp_path)
    empty = tmp_path / "EMPTY"
    empty.mkdir()
    with pytest.raises(DicomError, match="a50.dcm"):
        create(empty, sources)
    assert list(empty.iterdir()) == []
    with pytest.raises(DicomError, match="not a new or empty folder"):
        create(src, sources)
    (src / "a50.dcm").unlink()
    assert create(empty, sorted(str(p) for p in src.iterdir()), fileset_id="NEW") == 69
    fs = FileSet(empty)
    assert fs.ID == "NEW" and len(fs) == 69 and verify(fs) == []


def _walked(paths: list[str]) -> list[str]:
    """What ``media create PATH...`` takes, as os.walk sorted gives it (the reference
    ``fileset_sources`` is held to)."""
    out = []
    for p in paths:
        if os.path.isdir(p):
            for folder, dirs, files in os.walk(p):
                dirs.sort()
                out += [
                    os.path.join(folder, f)
                    for f in sorted(files)
                    if f.upper() != "DICOMDIR" and not f.startswith(".")
                ]
        else:
            out.append(p)
    return out


def test_sources_are_os_walks(tmp_path: Path) -> None:
    root = tmp_path / "in"
    for rel in ["b/2", "b/1", "a/z", "a/.hidden", "a/dicomdir", ".dot/x", "c/d/e/f", "top", "Zed"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")
    (root / "b" / "DICOMDIR").mkdir()  # a folder of that name is walked
    (root / "b" / "DICOMDIR" / "in").write_bytes(b"x")
    os.symlink(root / "a", root / "linkdir")  # not followed
    os.symlink(root / "top", root / "linkfile")  # a file
    os.symlink(root / "nowhere", root / "dangling")  # a file too
    for paths in (
        [str(root)],
        [str(root) + "/", str(root / "top"), str(tmp_path / "missing"), str(root / "c")],
        [str(root / "linkdir")],
        [],
    ):
        assert _core.fileset_sources(paths) == _walked(paths)


@pytest.mark.skipif(not (CORPUS / "public").exists(), reason="corpus not found")
def test_created_by_the_core_passes_dciodvfy_and_dcmtk(tmp_path: Path) -> None:
    """The core's DICOMDIR of real instances (several record types), checked by the
    peers themselves: dicom3tools' dciodvfy finds no error, DCMTK reads it."""
    files = sorted(
        p
        for p in glob.glob(str(CORPUS / "public/pydicom/dicomdirtests/[0-9]*/*/*"))
        if os.path.isfile(p)
    )
    assert files
    out = tmp_path / "CD"
    assert create(out, files, fileset_id="CORE") == len(files)
    if shutil.which("dcmdump"):
        r = subprocess.run(["dcmdump", str(out / "DICOMDIR")], capture_output=True, text=True)
        assert r.returncode == 0 and r.stdout.count("(0004,1430) CS [IMAGE") == len(files)
    if shutil.which("dciodvfy") is None:
        pytest.skip("dicom3tools (dciodvfy) not installed")
    r = subprocess.run(["dciodvfy", str(out / "DICOMDIR")], capture_output=True, text=True)
    assert [x for x in (r.stdout + r.stderr).splitlines() if x.startswith("Error")] == []
