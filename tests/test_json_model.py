"""PS3.18 Annex F DICOM JSON: round trips and the model's shapes."""

from __future__ import annotations

import json

import dicomfast
import numpy as np
import pytest
from corpus_data import MANIFEST, PARSE_MUST_FAIL, corpus_path
from flatten import flat


def test_json_shapes_per_vr() -> None:
    ds = dicomfast.Dataset()
    ds.PatientName = "Yamada^Tarou=山田^太郎"
    ds.PixelSpacing = [0.5, 0.25]
    ds.Rows = 512
    ds.FrameIncrementPointer = 0x00181063
    ds.add_new(0x00091010, "OB", np.frombuffer(b"\x01\x02", np.uint8))
    ds.ReferencedImageSequence = [dicomfast.Dataset()]
    ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID = "1.2.3"
    ds.PatientID = ""
    doc = json.loads(ds.to_json())
    assert doc["00100010"]["Value"] == [{"Alphabetic": "Yamada^Tarou", "Ideographic": "山田^太郎"}]
    assert doc["00280030"] == {"vr": "DS", "Value": [0.5, 0.25]}
    assert doc["00280010"] == {"vr": "US", "Value": [512]}
    assert doc["00280009"] == {"vr": "AT", "Value": ["00181063"]}
    assert doc["00091010"] == {"vr": "OB", "InlineBinary": "AQI="}
    assert doc["00081140"]["Value"][0]["00081155"]["Value"] == ["1.2.3"]
    assert doc["00100020"] == {"vr": "LO"}
    back = dicomfast.from_json(doc)
    assert back.PatientName == ds.PatientName and back.Rows == 512
    assert back.FrameIncrementPointer == 0x00181063
    assert bytes(back[0x00091010].value) == b"\x01\x02"


@pytest.mark.corpus
@pytest.mark.parametrize(
    "rel",
    [
        "public/pydicom/CT_small.dcm",
        "public/pydicom/rtplan.dcm",
        "public/pydicom/MR_small.dcm",
        "public/dcmqi/sr-example_sr.dcm",
    ],
)
def test_json_round_trip_keeps_every_value(rel: str) -> None:
    path = corpus_path(rel)
    if not path.exists() or rel in PARSE_MUST_FAIL or not MANIFEST:
        pytest.skip("not in corpus")
    ds = dicomfast.read(path)
    back = dicomfast.from_json(ds.to_json())
    assert [(k, vr) for k, vr, _ in flat(back)] == [(k, vr) for k, vr, _ in flat(ds)]
    for (k, _, a), (_, _, b) in zip(flat(back), flat(ds), strict=True):
        assert a == b or (a in ("", None, b"") and b in ("", None, b"")), k


def test_bad_json_raises_dicom_error() -> None:
    with pytest.raises(dicomfast.InvalidDicomError):
        dicomfast.from_json({"zz": {"vr": "PN"}})
    with pytest.raises(dicomfast.InvalidDicomError):
        dicomfast.from_json("[1, 2]")
