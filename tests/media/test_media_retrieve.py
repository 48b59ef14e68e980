"""``dicomfast media create OUT --from HOST PORT -k ...``: C-GET straight into a
File-set, from ``dicomfast serve`` and from DCMTK's ``dcmqrscp``; ``FileSet.store``
and ``discard`` underneath."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "qr"))

import dicomfast  # noqa: E402
from dicomfast.media import FileSet  # noqa: E402
from dicomfast.media.verify import verify  # noqa: E402
from media_helpers import make_instance, media_cli, our_tree, pydicom_tree  # noqa: E402
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


def test_create_from_converts_on_the_way(
    archive: int, tmp_path: Path, sources: dict[str, list[Path]]
) -> None:
    """``--profile`` proposes the profile's syntaxes first (the implicit VR instance
    arrives as explicit VR); ``-t jpeg`` makes each image JPEG Baseline on the way,
    with a new SOP Instance UID, which its record names."""
    key = ["-k", f"StudyInstanceUID={STUDY.format(1)}"]
    out = tmp_path / "OUT"
    r = _cli(str(out), "--from", "127.0.0.1", str(archive), *key, "--profile", "STD-GEN-DVD-JPEG")
    assert r.returncode == 0, r.stderr
    want = {dicomfast.read(p).SOPInstanceUID: dicomfast.read(p) for p in sources["good"]}
    fs = _check_fileset(out, sources["good"])
    assert {i.TransferSyntaxUID for i in fs} == {dicomfast.uid.ExplicitVRLittleEndian}
    r = _cli(str(tmp_path / "L2"), "--from", "127.0.0.1", str(archive), *key, "-t", "jpeg")
    assert r.returncode == 0, r.stderr
    fs = FileSet(tmp_path / "L2")
    assert verify(fs) == []
    assert len(fs) == 4 and not {i.SOPInstanceUID for i in fs} & set(want)
    for inst in fs:
        ds = inst.load()
        assert inst.TransferSyntaxUID == ds.transfer_syntax == dicomfast.uid.JPEGBaseline8Bit
        assert ds.SOPInstanceUID == inst.SOPInstanceUID and ds.LossyImageCompression == "01"


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


@pytest.fixture
def breaker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[int, list[Path]]]:
    """A pynetdicom C-GET SCP that answers a retrieval of 4 instances by sending 2 of
    them, then breaks the association: an A-ABORT (``abort``) or the socket shut and
    closed under it (``close``).  Its port and the 4 instances."""
    pytest.importorskip("pydicom")
    pynetdicom = pytest.importorskip("pynetdicom")
    from pydicom import dcmread
    from pynetdicom import evt
    from pynetdicom.sop_class import (
        SecondaryCaptureImageStorage,
        StudyRootQueryRetrieveInformationModelGet,
    )

    paths = []
    for i in range(4):
        p = tmp_path / f"src{i}"
        make_instance(p, "3", "1", "1", i + 1)
        paths.append(p)

    def handle_get(event: Any) -> Iterator[Any]:
        yield len(paths)
        for i, p in enumerate(paths):
            if i == 2:
                if request.param == "abort":
                    event.assoc.abort()
                else:
                    sock = event.assoc.dul.socket.socket
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                return
            yield (0xFF00, dcmread(p))

    ae = pynetdicom.AE(ae_title="BREAKER")
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelGet)
    ae.add_supported_context(SecondaryCaptureImageStorage, scu_role=True, scp_role=True)
    server = ae.start_server(
        ("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_GET, handle_get)]
    )
    try:
        yield server.server_address[1], paths
    finally:
        server.shutdown()


@pytest.mark.parametrize("breaker", ["abort", "close"], indirect=True)
def test_association_broken_mid_retrieval(breaker: tuple[int, list[Path]], tmp_path: Path) -> None:
    """The peer sends 2 of 4 instances and breaks the association: no File-set is
    left (exit 1; a folder that was there stays, with what it held); with
    ``--keep-partial`` the 2 that arrived are a valid File-set with its DICOMDIR."""
    port, paths = breaker
    args = ["--from", "127.0.0.1", str(port), "-k", f"StudyInstanceUID={STUDY.format(3)}"]
    out = tmp_path / "OUT"
    r = _cli(str(out), *args)
    assert r.returncode == 1 and "interrupted" in r.stderr and "no File-set" in r.stderr
    assert not out.exists()
    mine = tmp_path / "MINE"
    mine.mkdir()
    (mine / "notes.txt").write_text("kept")
    r = _cli(str(mine), *args)
    assert r.returncode == 1
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    r = _cli(str(out), *args, "--keep-partial")
    assert r.returncode == 1 and "2 instances kept" in r.stderr, r.stderr
    _check_fileset(out, paths[:2])
    v = media_cli("verify", str(out))
    assert v.returncode == 0, v.stdout + v.stderr


def _other_kinds(folder: Path) -> list[Path]:
    """Patient 4, one study: an image, a Basic Text SR, an Encapsulated PDF and a
    Grayscale Softcopy Presentation State referencing the image (each in a series of
    its own): the record types IMAGE, SR DOCUMENT, ENCAP DOC and PRESENTATION."""
    from dicomfast.documents import encapsulate

    image = folder / "img"
    make_instance(image, "4", "1", "1", 1)
    ref = dicomfast.read(image)

    def like(series: int, sop_class: str, modality: str) -> Any:
        ds = dicomfast.read(image)
        for tag in [t for t in ds.keys() if 0x00280000 <= t < 0x00290000 or t == 0x7FE00010]:
            del ds[tag]
        del ds.ConversionType
        uid = dicomfast.uid.generate_uid()
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = sop_class
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
        ds.SeriesInstanceUID = f"{ref.SeriesInstanceUID}.{series}"
        ds.SeriesNumber = series
        ds.Modality = modality
        ds.ContentDate, ds.ContentTime = "20240102", "101500"
        return ds

    def code(value: str, meaning: str) -> Any:
        item = dicomfast.Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "DCM", meaning
        return item

    sr = like(2, "1.2.840.10008.5.1.4.1.1.88.11", "SR")
    sr.ValueType = "CONTAINER"
    sr.ContinuityOfContent = "SEPARATE"
    sr.CompletionFlag, sr.VerificationFlag = "COMPLETE", "UNVERIFIED"
    sr.ConceptNameCodeSequence = [code("121070", "Findings")]
    text = dicomfast.Dataset()
    text.RelationshipType, text.ValueType, text.TextValue = "CONTAINS", "TEXT", "no finding"
    text.ConceptNameCodeSequence = [code("121071", "Finding")]
    sr.ContentSequence = [text]
    dicomfast.write(sr, folder / "sr")

    pr = like(3, "1.2.840.10008.5.1.4.1.1.11.1", "PR")
    pr.PresentationCreationDate, pr.PresentationCreationTime = "20240103", "090000"
    pr.ContentLabel = "GSPS"
    pr.ContentDescription = pr.ContentCreatorName = ""
    pr.InstanceNumber = 1
    image_ref = dicomfast.Dataset()
    image_ref.ReferencedSOPClassUID = ref.SOPClassUID
    image_ref.ReferencedSOPInstanceUID = ref.SOPInstanceUID
    series_ref = dicomfast.Dataset()
    series_ref.SeriesInstanceUID = ref.SeriesInstanceUID
    series_ref.ReferencedImageSequence = [image_ref]
    pr.ReferencedSeriesSequence = [series_ref]
    dicomfast.write(pr, folder / "pr")

    (folder / "report.pdf").write_bytes(b"%PDF-1.4\n%% a report\n%%EOF\n")
    pdf = encapsulate(folder / "report.pdf", like=image)
    pdf.StudyDescription = ref.StudyDescription  # not taken from --like (a key of STUDY)
    pdf.SeriesInstanceUID = f"{ref.SeriesInstanceUID}.4"
    pdf.SeriesNumber = 4
    pdf.InstanceNumber = 1
    dicomfast.write(pdf, folder / "pdf")
    return [image, folder / "sr", folder / "pr", folder / "pdf"]


def _records(fs: FileSet) -> dict[str, tuple[str, dict[int, Any]]]:
    """SOP Instance UID -> (record type, the record's elements but its File ID)."""
    return {
        i.SOPInstanceUID: (
            i.record_type,
            {e.tag: e.value for e in i.node.dataset if e.tag != 0x00041500},
        )
        for i in fs
    }


def test_create_from_gives_the_record_types_of_create_from_files(tmp_path: Path) -> None:
    """Instances retrieved with ``--from`` get the records ``media create`` gives the
    same files: SR DOCUMENT, ENCAP DOC, PRESENTATION beside IMAGE, the same keys."""
    files = _other_kinds(tmp_path)
    local = tmp_path / "LOCAL"
    r = media_cli("create", str(local), *map(str, files))
    assert r.returncode == 0, r.stderr
    with serving(["--storage", str(tmp_path / "serve"), "--no-fsync", "--aet", "ARCHIVE"]) as port:
        r = subprocess.run(
            [sys.executable, "-m", "dicomfast", "store", "127.0.0.1", str(port), *map(str, files)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr
        out = tmp_path / "OUT"
        r = _cli(
            str(out), "--from", "127.0.0.1", str(port), "-k", f"StudyInstanceUID={STUDY.format(4)}"
        )
        assert r.returncode == 0, r.stderr
    fs = FileSet(out)
    assert verify(fs) == []
    got = _records(fs)
    assert sorted(t for t, _ in got.values()) == [
        "ENCAP DOC",
        "IMAGE",
        "PRESENTATION",
        "SR DOCUMENT",
    ]
    assert got == _records(FileSet(local))
    by_uid = {dicomfast.read(f).SOPInstanceUID: dicomfast.read(f) for f in files}
    for inst in fs:  # each file holds its instance: the document, the report's text
        got, want = inst.load(), by_uid[inst.SOPInstanceUID]
        assert got.SOPClassUID == want.SOPClassUID
        if "EncapsulatedDocument" in want:
            assert bytes(got.EncapsulatedDocument) == bytes(want.EncapsulatedDocument)
        if "ContentSequence" in want:
            assert got.ContentSequence[0].TextValue == want.ContentSequence[0].TextValue
    pydicom = pytest.importorskip("pydicom")
    from pydicom.fileset import FileSet as PydicomFileSet

    assert pydicom_tree(PydicomFileSet(pydicom.dcmread(out / "DICOMDIR"))) == our_tree(fs)
