"""Issue 17's bar: pydicom user-guide style snippets, written once, run unchanged with
``import pydicom`` and with ``import dicomfast as pydicom`` (``from dicomfast import
dcmread``...), on corpus files, giving the same results."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pydicom")

CORPUS = Path("/work/shared/corpus/public/pydicom")
pytestmark = pytest.mark.skipif(not CORPUS.exists(), reason="corpus not found")

READ_AND_ACCESS = """
import pydicom
ds = pydicom.dcmread(PATH)
elem = ds["PatientName"]
result = [
    str(ds.PatientName), ds.PatientName.family_name, ds.PatientName.given_name,
    ds[0x0010, 0x0020].value, ds[0x00100020].VR, elem.keyword, elem.name, elem.VR, elem.VM,
    str(elem.tag), elem.tag.group, "PatientName" in ds, 0x7FE00010 in ds,
    ds.get("StudyComments", "none"), ds.data_element("Modality").value,
    str(ds.SOPClassUID), ds.SOPClassUID.name, ds.file_meta.TransferSyntaxUID.name,
    ds.file_meta.TransferSyntaxUID.is_little_endian,
]
"""

MODIFY_AND_SAVE = """
from pydicom import dcmread
ds = dcmread(PATH)
ds.PatientName = "Doe^John"
ds.PatientID = "12345"
del ds.PatientBirthDate
ds.add_new(0x00101010, "AS", "042Y")
ds.InstitutionName = "Hospital"
ds[0x00080090].value = "Ref^Doctor"
ds.save_as(OUT)
ds2 = dcmread(OUT)
result = [
    str(ds2.PatientName), ds2.PatientName.family_name, ds2.PatientID,
    "PatientBirthDate" in ds2, ds2.PatientAge, ds2.InstitutionName,
    str(ds2.ReferringPhysicianName), len(ds2), ds2.Rows,
]
"""

PIXELS = """
import pydicom
ds = pydicom.dcmread(PATH)
arr = ds.pixel_array
result = [arr.shape, str(arr.dtype), int(arr.astype("int64").sum()), int(arr.max()),
          ds.Rows, ds.Columns, ds.BitsAllocated]
"""

JSON = """
import pydicom
from pydicom import Dataset
ds = pydicom.dcmread(PATH)
js = ds.to_json_dict()
back = Dataset.from_json(js)
result = [sorted(js)[:12], js["00100010"], js["00100020"], str(back.PatientName),
          back.PatientID, back.Rows]
"""

SEQUENCES = """
import pydicom
ds = pydicom.dcmread(PATH)
found = []
def callback(dataset, elem):
    if elem.VR == "SQ":
        found.append((elem.keyword, len(elem.value)))
ds.walk(callback)
beams = [(b.BeamNumber, b.BeamName, len(b.ControlPointSequence)) for b in ds.BeamSequence]
for beam in ds.BeamSequence:
    beam.BeamName = beam.BeamName.lower()
keywords = [elem.keyword for elem in ds if elem.VR == "SQ"]
result = [found, beams, [b.BeamName for b in ds.BeamSequence], keywords,
          ds.BeamSequence[0].ControlPointSequence[0].GantryAngle]
"""

NEW_FILE = """
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid
meta = FileMetaDataset()
meta.MediaStorageSOPClassUID = CTImageStorage
meta.MediaStorageSOPInstanceUID = "1.2.3.4"
meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds = Dataset()
ds.file_meta = meta
ds.PatientName = "Test^Firstname"
ds.PatientID = "123456"
ds.SOPClassUID = CTImageStorage
ds.SOPInstanceUID = "1.2.3.4"
ds.save_as(OUT, enforce_file_format=True)
ds2 = pydicom.dcmread(OUT)
result = [str(ds2.PatientName), ds2.PatientID, ds2.SOPClassUID.name,
          str(ds2.file_meta.TransferSyntaxUID), generate_uid().startswith("") ]
"""

TAGS_AND_PRIVATE = """
import copy
import pydicom
from pydicom.tag import Tag
ds = pydicom.dcmread(PATH)
t = Tag(0x0010, 0x0010)
private = [str(e.tag) for e in ds if e.tag.is_private]
clean = copy.deepcopy(ds)
clean.remove_private_tags()
result = [t == 0x00100010, t == Tag("PatientName"), str(t), t.group, t.element,
          ds[t].value == ds.PatientName, private, len(clean), len(ds), clean.dir("patient")]
"""

SNIPPETS = {
    "read_and_access": (READ_AND_ACCESS, ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm"]),
    "modify_and_save": (MODIFY_AND_SAVE, ["CT_small.dcm", "MR_small_implicit.dcm"]),
    "pixels": (PIXELS, ["CT_small.dcm", "MR_small.dcm", "MR_small_RLE.dcm", "SC_rgb_rle.dcm"]),
    "json": (JSON, ["CT_small.dcm", "MR_small.dcm"]),
    "sequences": (SEQUENCES, ["rtplan.dcm"]),
    "new_file": (NEW_FILE, ["CT_small.dcm"]),
    "tags_and_private": (TAGS_AND_PRIVATE, ["CT_small.dcm", "MR_small.dcm"]),
}
CASES = [(name, f) for name, (_, files) in SNIPPETS.items() for f in files]


def as_dicomfast(code: str) -> str:
    """The port: only the imports change."""
    return code.replace("import pydicom\n", "import dicomfast as pydicom\n").replace(
        "from pydicom", "from dicomfast"
    )


def run(code: str, path: Path, out: Path) -> object:
    ns: dict[str, object] = {"PATH": str(path), "OUT": str(out)}
    exec(compile(code, "<snippet>", "exec"), ns)  # noqa: S102 - our own snippets
    return ns["result"]


@pytest.mark.parametrize(("name", "file"), CASES)
def test_snippet_runs_the_same(name: str, file: str, tmp_path: Path) -> None:
    code = SNIPPETS[name][0]
    port = as_dicomfast(code)
    assert port != code  # only the imports differ
    theirs = run(code, CORPUS / file, tmp_path / "pydicom.dcm")
    ours = run(port, CORPUS / file, tmp_path / "dicomfast.dcm")
    assert ours == theirs
