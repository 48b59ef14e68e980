"""Writing: byte-exact round trips, conversions checked against DCMTK's dcmconv,
modification, building from scratch, and atomic output."""

from __future__ import annotations

import io
import os
import pathlib
import shutil
import subprocess

import dicomfast
import numpy as np
import pytest
from corpus_data import MANIFEST, PARSE_MUST_FAIL, corpus_path
from dicomfast import uid
from flatten import differences, flat

NATIVE = [
    f
    for f in MANIFEST
    if f["path"] not in PARSE_MUST_FAIL
    and not f.get("expect_error")
    and f.get("has_file_meta")
    and f.get("transfer_syntax") in uid.NATIVE_SYNTAXES
]
WITH_META = [
    f
    for f in MANIFEST
    if f["path"] not in PARSE_MUST_FAIL
    and not f.get("expect_error")
    and f.get("has_file_meta")
    # its data set is implicit VR though the meta says JPEG baseline (explicit):
    # written back it becomes explicit VR, as the transfer syntax requires.
    and f["path"] != "public/pydicom/SC_rgb_jpeg.dcm"
]
DCMCONV = {
    uid.ImplicitVRLittleEndian: "+ti",
    uid.ExplicitVRLittleEndian: "+te",
    uid.ExplicitVRBigEndian: "+tb",
    uid.DeflatedExplicitVRLittleEndian: "+td",
}


def _id(f: dict) -> str:
    return f["path"].removeprefix("public/")


@pytest.mark.corpus
@pytest.mark.parametrize("entry", WITH_META, ids=_id)
def test_unmodified_rewrite_reproduces_data_set_bytes(entry: dict) -> None:
    path = corpus_path(entry["path"])
    ds = dicomfast.read(path)
    out = io.BytesIO()
    dicomfast.write(ds, out)
    again = dicomfast.read(out.getvalue())
    old = memoryview(ds._raw.source)[ds._raw.dataset_offset :]
    new = memoryview(again._raw.source)[again._raw.dataset_offset :]
    assert bytes(new) == bytes(old)
    # every element of the original meta group is kept (missing required ones are added)
    kept = {k: v for k, _, v in flat(again.file_meta)}
    for key, _vr, value in flat(ds.file_meta):
        if key != "00020000":
            assert kept[key] == value


@pytest.mark.corpus
@pytest.mark.dcmtk
@pytest.mark.parametrize("ts", list(DCMCONV), ids=["implicit", "explicit", "big", "deflated"])
@pytest.mark.parametrize("entry", NATIVE, ids=_id)
def test_conversion_matches_dcmconv(entry: dict, ts: str, tmp_path) -> None:  # noqa: ANN001
    if shutil.which("dcmconv") is None:
        pytest.skip("DCMTK dcmconv not installed")
    src = corpus_path(entry["path"])
    ours, theirs = tmp_path / "ours.dcm", tmp_path / "theirs.dcm"
    dicomfast.write(dicomfast.read(src), ours, transfer_syntax=ts)
    run = subprocess.run(["dcmconv", DCMCONV[ts], str(src), str(theirs)], capture_output=True)
    if run.returncode != 0:
        pytest.skip(f"dcmconv refused the file: {run.stderr[:200]!r}")
    a, b = dicomfast.read(ours), dicomfast.read(theirs)
    assert a.transfer_syntax == b.transfer_syntax == ts
    # DCMTK writes sequences with explicit lengths, so the (retired) group
    # lengths differ with the encoding choice; every other element must agree.
    assert differences(flat(a, skip_group_lengths=True), flat(b, skip_group_lengths=True)) == []
    # and the converted file reads back as the original, value for value
    assert (
        differences(
            flat(a, skip_group_lengths=True), flat(dicomfast.read(src), skip_group_lengths=True)
        )
        == []
    )


def test_modify_add_delete_round_trip(ct_small, tmp_path) -> None:  # noqa: ANN001
    before = ct_small.read_bytes()
    ds = dicomfast.read(ct_small)
    ds.PatientName = "DOE^JANE"
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.add_new(0x00091099, "LO", "private value")
    ds.WindowCenter = [40.5, 400]
    del ds.StudyDescription
    ds.OtherPatientIDsSequence[0].PatientID = "CHANGED"
    out = tmp_path / "out.dcm"
    for ts in DCMCONV:
        dicomfast.write(ds, out, transfer_syntax=ts)
        back = dicomfast.read(out)
        assert back.PatientName == "DOE^JANE"
        assert back.ImageType == ["DERIVED", "SECONDARY"]
        # implicit VR has no VR for an unknown private tag: it reads back as UN bytes
        priv = back[0x00091099]
        assert (priv.value if priv.VR == "LO" else priv.value.decode().rstrip()) == "private value"
        assert priv.VR == ("UN" if ts == uid.ImplicitVRLittleEndian else "LO")
        assert back.WindowCenter == [40.5, 400.0]
        assert "StudyDescription" not in back
        assert back.OtherPatientIDsSequence[0].PatientID == "CHANGED"
        assert back.OtherPatientIDsSequence[1].PatientID == "1234ABCD"
        assert np.array_equal(back.PixelData, ds.PixelData)
        assert back.Rows == 128 and back.file_meta.TransferSyntaxUID == ts
    assert ct_small.read_bytes() == before, "the input file must never change"
    assert [p.name for p in tmp_path.iterdir()] == ["out.dcm"], "no temporary files left behind"


def test_build_from_scratch_and_read_with_pydicom(tmp_path) -> None:  # noqa: ANN001
    pydicom = pytest.importorskip("pydicom")
    ds = dicomfast.Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = uid.generate_uid()
    ds.PatientName = "Müller^Jürgen"
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientID = "12345"
    ds.Rows, ds.Columns = 2, 3
    ds.BitsAllocated = 16
    ds.PixelSpacing = [0.5, 0.25]
    ds.PixelData = np.arange(6, dtype="<u2")
    seq_item = dicomfast.Dataset()
    seq_item.CodeValue = "T-A0100"
    ds.AnatomicRegionSequence = [seq_item]
    path = tmp_path / "scratch.dcm"
    ds.save(path, transfer_syntax=uid.ExplicitVRBigEndian)
    theirs = pydicom.dcmread(path)
    assert str(theirs.PatientName) == "Müller^Jürgen"
    assert theirs.Rows == 2 and list(theirs.PixelSpacing) == [0.5, 0.25]
    assert theirs.AnatomicRegionSequence[0].CodeValue == "T-A0100"
    assert theirs.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    ours = dicomfast.read(path)
    assert np.array_equal(ours.PixelData, np.arange(6))
    assert ours.PatientName == "Müller^Jürgen"


def test_failed_write_leaves_nothing(tmp_path) -> None:  # noqa: ANN001
    ds = dicomfast.Dataset()
    ds.add_new(0x00100010, "PN", "X")
    ds.add_new(0x00180050, "DS", [object()])  # cannot be encoded
    target = tmp_path / "target.dcm"
    target.write_bytes(b"precious")
    with pytest.raises((dicomfast.WriteError, TypeError, ValueError)):
        dicomfast.write(ds, target)
    assert target.read_bytes() == b"precious"
    assert sorted(os.listdir(tmp_path)) == ["target.dcm"]


def test_encapsulated_to_native_needs_decompression(tmp_path) -> None:  # noqa: ANN001
    rle = [
        f
        for f in MANIFEST
        if f.get("transfer_syntax") == uid.RLELossless and not f.get("expect_error")
    ]
    if not rle:
        pytest.skip("corpus not found")
    ds = dicomfast.read(corpus_path(rle[0]["path"]))
    with pytest.raises(dicomfast.WriteError) as info:
        dicomfast.write(ds, tmp_path / "x.dcm", transfer_syntax=uid.ExplicitVRLittleEndian)
    assert info.value.tag == 0x7FE00010
    assert not (tmp_path / "x.dcm").exists()


ENCODINGS = [(True, False), (False, False), (True, True)]


@pytest.mark.corpus
@pytest.mark.parametrize("entry", WITH_META[:40], ids=_id)
def test_encode_parts_is_encode_with_large_values_by_reference(entry: dict) -> None:
    raw = dicomfast.read(corpus_path(entry["path"]))._raw
    nodes = sorted(raw.child_map(-1).values())
    source = np.frombuffer(raw.source, np.uint8)
    for explicit, be in ENCODINGS:
        try:
            whole = raw.encode(nodes, explicit, be)
        except dicomfast.DicomError:  # e.g. encapsulated pixel data in another encoding
            continue
        parts = raw.encode_parts(nodes, explicit, be, min_reference=4096)
        assert b"".join(parts) == whole
        for p in parts:
            assert isinstance(p, bytes) or (
                len(p) >= 4096 and np.shares_memory(np.frombuffer(p, np.uint8), source)
            )
        if (explicit, be) == (raw.explicit_vr, raw.big_endian):
            # unchanged encoding: every element of 4096 bytes or more is referenced
            large = [n for n in nodes if raw.node_info(n)[6] - raw.node_info(n)[4] >= 4096]
            views = [p for p in parts if isinstance(p, memoryview)]
            assert sum(map(len, views)) >= sum(
                raw.node_info(n)[6] - raw.node_info(n)[4] for n in large
            )


def test_pixel_values_are_written_from_the_array_itself(ct_small) -> None:  # noqa: ANN001
    ds = dicomfast.read(ct_small)
    pixels = ds.pixel_array.copy()
    ds.PixelData = pixels.reshape(-1).view("<u2").copy()  # changed: encoded here
    chunks = dicomfast.writer.encode_file(ds)
    views = [c for c in chunks if isinstance(c, memoryview) and len(c) >= pixels.nbytes]
    assert len(views) == 1
    assert np.shares_memory(np.frombuffer(views[0], np.uint8), ds.PixelData)
    back = dicomfast.read(b"".join(chunks))
    np.testing.assert_array_equal(back.pixel_array, pixels)


@pytest.mark.dcmtk
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("how", ["as read", "decoded", "bytes", "convert"])
def test_32_bit_pixel_cells_survive_explicit_vr_big_endian(
    tmp_path: pathlib.Path, how: str, signed: bool
) -> None:
    """Native Pixel Data of 32 bits allocated (RT Dose) written Explicit VR Big Endian: OW
    is 16-bit words, each byte-swapped (PS3.5 Table 6.2-1), as the writer writes it and
    DCMTK's dcmconv does; our decoder reversed a 32-bit cell whole instead (as pydicom
    does), so a file we wrote read back with each cell's halves exchanged (found by
    random transcoding chains, 2026-12-08). Now ours and DCMTK read it alike."""
    import pydicom

    if shutil.which("dcmconv") is None:
        pytest.skip("DCMTK dcmconv not installed")
    cells = np.arange(120, dtype=np.uint32).reshape(12, 10) * 1234577 + 1249000
    arr = cells.astype("<i4") - (1 << 30) if signed else cells
    src, out = tmp_path / "le.dcm", tmp_path / "be.dcm"
    ds = dicomfast.Dataset()
    ds.file_meta = dicomfast.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = uid.ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.481.2"
    ds.SOPInstanceUID = uid.generate_uid()
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 12, 10, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 32, 32, 31
    ds.PixelRepresentation = int(signed)
    ds.add_new(0x7FE00010, "OW", arr.reshape(-1).view("<u2"))
    dicomfast.write(ds, src)
    if how == "convert":
        r = subprocess.run(
            [
                "dicomfast",
                "convert",
                "-q",
                "-t",
                "explicit-be",
                str(src),
                "-o",
                str(tmp_path / "c"),
            ],
            capture_output=True,
            text=True,
        )
        assert r.returncode == 0, r.stderr
        out = tmp_path / "c" / "le.dcm"
    else:
        ds = dicomfast.read(src)
        if how == "decoded":
            ds.decompress()
        elif how == "bytes":
            ds.PixelData = arr.tobytes()
        ds.file_meta.TransferSyntaxUID = uid.ExplicitVRBigEndian
        ds.save(out)
    assert dicomfast.read(out).file_meta.TransferSyntaxUID == uid.ExplicitVRBigEndian
    np.testing.assert_array_equal(dicomfast.read(out).pixel_array, arr)
    # DCMTK takes it back to little endian with the same values
    r = subprocess.run(["dcmconv", "+te", str(out), str(tmp_path / "dk.dcm")], capture_output=True)
    assert r.returncode == 0, r.stderr
    np.testing.assert_array_equal(dicomfast.read(tmp_path / "dk.dcm").pixel_array, arr)
    # the same bytes as dcmconv +tb writes from the source
    r = subprocess.run(
        ["dcmconv", "+tb", str(src), str(tmp_path / "dk_be.dcm")], capture_output=True
    )
    assert r.returncode == 0, r.stderr
    theirs = pydicom.dcmread(tmp_path / "dk_be.dcm").PixelData
    assert pydicom.dcmread(out).PixelData == theirs
    # pydicom reverses the cell whole: its reading has the halves exchanged
    halves = arr.view("<u4")
    exchanged = ((halves >> 16) | (halves << 16)).view(arr.dtype)
    np.testing.assert_array_equal(pydicom.dcmread(out).pixel_array, exchanged)
