"""Every file of the real-file corpus: parse as the manifest says, and element
for element as pydicom reads it."""

from __future__ import annotations

import dicomfast
import pytest
from corpus_data import MANIFEST, PARSE_MUST_FAIL, corpus_path
from oracle import compare

pytestmark = pytest.mark.corpus

# Bytes that are not a DICOM data set at all (raw pixels, a text file, a data
# set missing its first byte); pydicom "reads" them only with force=True.
NOT_DICOM = {
    "public/cornerstone/CTImageEvenAligned.dat",
    "public/cornerstone/CTImageOddAligned.dat",
    "public/pydicom/dicomdirtests/TINY_ALPHA/README",
    "public/pydicom/no_meta.dcm",
}
READABLE = [f for f in MANIFEST if f["path"] not in PARSE_MUST_FAIL | NOT_DICOM]


def _id(f: dict) -> str:
    return f["path"].removeprefix("public/")


@pytest.mark.parametrize("entry", READABLE, ids=_id)
def test_counts_and_values_match_manifest(entry: dict) -> None:
    if entry.get("expect_error"):
        # Damaged (mostly in pixel data): refusing is fine if the error says where.
        try:
            ds = dicomfast.read(corpus_path(entry["path"]))
        except dicomfast.DicomError as e:
            assert e.offset is not None
            return
    else:
        ds = dicomfast.read(corpus_path(entry["path"]))
    if entry["elements"]:  # 0: pydicom itself could not read the file
        assert len(ds) == entry["elements"]
    for keyword, expected in entry["tags"].items():
        if expected is None and entry["elements"]:
            assert keyword not in ds
        elif expected is not None:
            value = ds.get(keyword)
            text = "\\".join(map(str, value)) if isinstance(value, list) else str(value)
            assert text == expected
    if entry.get("transfer_syntax"):
        assert ds.transfer_syntax == entry["transfer_syntax"]


@pytest.mark.parametrize(
    "entry", [f for f in READABLE if f["elements"] and not f.get("expect_error")], ids=_id
)
def test_every_element_equals_pydicom(entry: dict) -> None:
    pydicom = pytest.importorskip("pydicom")
    path = corpus_path(entry["path"])
    theirs = pydicom.dcmread(path, force=entry["needs_force"])
    ours = dicomfast.read(path)
    assert compare(ours, theirs) == []
    if theirs.get("file_meta") is not None and len(theirs.file_meta):
        assert compare(ours.file_meta, theirs.file_meta) == []


@pytest.mark.parametrize("rel", sorted(PARSE_MUST_FAIL))
def test_damaged_files_raise_with_position_and_force_gives_prefix(rel: str) -> None:
    path = corpus_path(rel)
    with pytest.raises(dicomfast.InvalidDicomError) as info:
        dicomfast.read(path)
    err = info.value
    assert err.offset is not None and err.offset > 0
    assert err.path == str(path)
    assert "offset" in str(err)
    ds = dicomfast.read(path, force=True)
    assert ds.read_error is not None
    assert len(ds) > 0 or rel.endswith("60pct.dcm") is False


@pytest.mark.parametrize("rel", sorted(NOT_DICOM))
def test_non_dicom_bytes_raise_clearly(rel: str) -> None:
    with pytest.raises(dicomfast.InvalidDicomError) as info:
        dicomfast.read(corpus_path(rel))
    assert info.value.offset is not None
    dicomfast.read(corpus_path(rel), force=True)  # no crash, no hang
