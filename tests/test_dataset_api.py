"""The pydicom-familiar Dataset API: access forms, mapping protocol, sources."""

from __future__ import annotations

import io

import dicomfast
import numpy as np
import pytest


def test_access_forms_agree(ct_small) -> None:  # noqa: ANN001
    ds = dicomfast.read(ct_small)
    by_kw, by_int, by_tuple = ds["PatientName"], ds[0x00100010], ds[(0x0010, 0x0010)]
    assert by_kw.value == by_int.value == by_tuple.value == ds.PatientName
    assert (by_kw.tag, by_kw.VR, by_kw.keyword, by_kw.length) == (
        0x00100010,
        "PN",
        "PatientName",
        22,
    )
    assert by_kw.name == "Patient's Name"
    assert "PatientName" in ds and 0x00100010 in ds and (0x0010, 0x0010) in ds
    assert "NotAKeyword" not in ds and 0x00100011 not in ds
    assert ds.get("PatientName") == ds.PatientName and ds.get("StudyComments", "x") == "x"
    assert ds.get(0x00100010).value == ds.PatientName
    with pytest.raises(AttributeError):
        ds.StudyComments  # noqa: B018
    with pytest.raises(KeyError):
        ds[0x00100011]


def test_typed_values(ct_small) -> None:  # noqa: ANN001
    ds = dicomfast.read(ct_small)
    assert ds.Rows == 128 and isinstance(ds.Rows, int)
    assert ds.ImageType == ["ORIGINAL", "PRIMARY", "AXIAL"]
    assert ds.PixelSpacing == [0.661468, 0.661468]
    assert isinstance(ds.InstanceNumber, int)
    assert isinstance(ds.PixelData, np.ndarray) and ds.PixelData.dtype == np.dtype("<u2")
    assert not ds.PixelData.flags.writeable, "a view over the mapped file"
    assert isinstance(ds.OtherPatientIDsSequence, list)
    assert isinstance(ds.OtherPatientIDsSequence[0], dicomfast.Dataset)
    assert ds[0x00091027].value == b"\xb5\x0f\xe7\x33" or ds[0x00091027].VR != "UN"


def test_len_iteration_and_meta(ct_small) -> None:  # noqa: ANN001
    ds = dicomfast.read(ct_small)
    tags = [e.tag for e in ds]
    assert tags == sorted(tags) and len(tags) == len(ds) == 258
    assert all(t >> 16 != 0x0002 for t in tags), "file meta is separate"
    assert ds.file_meta.TransferSyntaxUID == ds.transfer_syntax == "1.2.840.10008.1.2.1"
    assert ds.keys() == tags


@pytest.mark.parametrize(
    "form", ["path", "str", "bytes", "bytearray", "memoryview", "file", "bytesio"]
)
def test_sources(ct_small, form: str) -> None:  # noqa: ANN001
    data = ct_small.read_bytes()
    source = {
        "path": ct_small,
        "str": str(ct_small),
        "bytes": data,
        "bytearray": bytearray(data),
        "memoryview": memoryview(data),
        "file": open(ct_small, "rb"),  # noqa: SIM115
        "bytesio": io.BytesIO(data),
    }[form]
    ds = dicomfast.read(source)
    assert ds.PatientName == "CompressedSamples^CT1" and len(ds) == 258


def test_stop_before_pixels(ct_small) -> None:  # noqa: ANN001
    ds = dicomfast.read(ct_small, stop_before_pixels=True)
    assert "PixelData" not in ds and "Rows" in ds


def test_error_hierarchy_and_context() -> None:
    assert issubclass(dicomfast.InvalidDicomError, dicomfast.DicomError)
    assert issubclass(dicomfast.InvalidDicomError, ValueError)
    assert issubclass(dicomfast.TruncatedDataError, dicomfast.InvalidDicomError)
    assert issubclass(dicomfast.PixelDataError, dicomfast.DicomError)
    assert issubclass(dicomfast.NetworkError, ConnectionError)
    good = (
        b"\0" * 128
        + b"DICM"
        + b"\x02\x00\x10\x00UI\x14\x001.2.840.10008.1.2.1\0"
        + b"\x10\x00\x10\x00PN\x08\x00DOE^JOHN"
    )
    assert dicomfast.read(good).PatientName == "DOE^JOHN"
    cut = good[:-3]
    with pytest.raises(dicomfast.TruncatedDataError) as info:
        dicomfast.read(cut)
    e = info.value
    assert e.tag == 0x00100010 and e.offset == 160
    assert "(0010,0010)" in str(e) and "160" in str(e)
    partial = dicomfast.read(cut, force=True)
    assert len(partial) == 0 and partial.read_error is not None
    with pytest.raises(dicomfast.InvalidDicomError):
        dicomfast.read(b"hello, not dicom at all")
    with pytest.raises(dicomfast.InvalidDicomError):
        dicomfast.read(b"")


def test_hostile_inputs_fail_fast() -> None:
    # a sequence nested far deeper than any real file
    deep = b"".join(
        b"\x08\x00\x40\x11SQ\0\0\xff\xff\xff\xff" + b"\xfe\xff\x00\xe0\xff\xff\xff\xff"
        for _ in range(5000)
    )
    with pytest.raises(dicomfast.InvalidDicomError, match="nesting"):
        dicomfast.read(deep)
    # a huge declared length is checked before anything is allocated
    huge = b"\x10\x00\x10\x00UN\0\0\xf0\xff\xff\x7f" + b"x" * 16
    with pytest.raises(dicomfast.InvalidDicomError):
        dicomfast.read(huge)


def test_set_add_delete_and_new_datasets() -> None:
    ds = dicomfast.Dataset()
    ds.PatientID = "42"
    ds.add_new((0x0009, 0x0010), "LO", "CREATOR")
    assert len(ds) == 2 and ds[0x00090010].VR == "LO"
    ds.PatientID = "43"
    assert ds.PatientID == "43"
    del ds.PatientID
    assert "PatientID" not in ds and len(ds) == 1
    with pytest.raises(AttributeError):
        ds.NotAKeyword = 1
    ds.python_attribute = 1  # ordinary attributes still work
    assert ds.python_attribute == 1
