"""UIDs: one key gives the same new UIDs within and across runs, another key others;
references inside sequences stay linked to the instances they name; the API returns a
new data set and leaves its input untouched; options and keys are checked."""

from __future__ import annotations

import re

import dicomfast
import pytest
from corpus_data import CORPUS
from deid_helpers import KEY, corpus_files
from dicomfast.deid import DeidentificationError, Deidentifier, anonymize
from dicomfast.writer import dataset_unchanged, encode_file

PERF = sorted((CORPUS / "perf" / "ct512_20" / "unc").glob("*.dcm"))
UID_RE = re.compile(r"^2\.25\.(0|[1-9][0-9]{0,38})$")


def _uids(ds: dicomfast.Dataset, compiled) -> list[tuple[str, str]]:  # noqa: ANN001
    return [
        (f"{e.tag:08X}", str(e.value))
        for e in ds.walk()
        if e.VR == "UI" and compiled.action(e.tag) == "U" and e.value
    ]


def test_same_key_same_uids_across_runs_and_files() -> None:
    if not PERF:
        pytest.skip("corpus not found")
    a = [Deidentifier(key=KEY).anonymize(dicomfast.read(p)) for p in PERF]
    b = [Deidentifier(key=KEY).anonymize(dicomfast.read(p)) for p in PERF]  # another "run"
    c = [Deidentifier(key=KEY + b"x").anonymize(dicomfast.read(p)) for p in PERF]
    assert [x.SOPInstanceUID for x in a] == [x.SOPInstanceUID for x in b]
    assert len({x.SOPInstanceUID for x in a}) == len(PERF)
    assert len({x.StudyInstanceUID for x in a}) == 1  # the study stays one study
    assert len({x.SeriesInstanceUID for x in a}) == 1
    assert len({x.FrameOfReferenceUID for x in a}) == 1
    assert {x.PatientID for x in a} == {a[0].PatientID}
    assert not {x.SOPInstanceUID for x in a} & {x.SOPInstanceUID for x in c}
    assert a[0].StudyInstanceUID != c[0].StudyInstanceUID
    for x in a:
        assert UID_RE.match(x.SOPInstanceUID) and len(x.SOPInstanceUID) <= 64
        assert x.file_meta.MediaStorageSOPInstanceUID == x.SOPInstanceUID


def test_references_in_sequences_stay_linked() -> None:
    """Every U-action UID anywhere (SR/RT/SEG references included) becomes the keyed
    map of the original, so a reference equals the referenced instance's new UID; and
    pairs found in the corpus (file A references file B) are checked end to end."""
    files = corpus_files()
    if not files:
        pytest.skip("corpus not found")
    deid = Deidentifier(key=KEY)
    instances: dict[str, str] = {}
    references: list[tuple[str, str]] = []
    for path in files:
        ds = dicomfast.read(path)
        out = deid.anonymize(ds)
        before, after = _uids(ds, deid.compiled), _uids(out, deid.compiled)
        mapped = set()
        for tag, old in before:
            for u in old.strip("[]'").split("', '") if old.startswith("[") else [old]:
                mapped.add((tag, deid.map_uid(u)))
        for tag, new in after:  # nothing but keyed maps of the originals, tag for tag
            for u in new.strip("[]'").split("', '") if new.startswith("[") else [new]:
                assert (tag, u) in mapped, (path, tag, u)
        sop = ds.get("SOPInstanceUID")
        if sop:
            instances[str(sop)] = out.SOPInstanceUID
        for e in ds.walk():
            if e.tag == 0x00081155 and e.value:
                references.append((path, str(e.value)))
    linked = [(p, u) for p, u in references if u in instances]
    assert references, "the corpus has referencing files"
    for _path, uid in linked:
        assert deid.map_uid(uid) == instances[uid]


def test_api_returns_new_dataset_input_untouched() -> None:
    if not PERF:
        pytest.skip("corpus not found")
    ds = dicomfast.read(PERF[0])
    before = b"".join(bytes(c) for c in encode_file(ds))
    out = anonymize(ds, options=["retain-longitudinal-modified-dates"], key=KEY)
    assert out is not ds and dataset_unchanged(ds)
    assert b"".join(bytes(c) for c in encode_file(ds)) == before
    assert ds.PatientName == "DICOMFAST^PERF" and out.PatientName != ds.PatientName
    assert out.LongitudinalTemporalInformationModified == "MODIFIED"
    assert out.StudyDate != ds.StudyDate and len(out.StudyDate) == 8
    assert out.StudyTime == ds.StudyTime  # time of day kept
    codes = [i.CodeValue for i in out.DeidentificationMethodCodeSequence]
    assert codes == ["113100", "113107"]
    again = anonymize(
        dicomfast.read(PERF[1]), options=["retain-longitudinal-modified-dates"], key=KEY
    )
    assert again.StudyDate == out.StudyDate  # one offset per patient
    full = anonymize(ds, options=["retain-longitudinal-full-dates"], key=KEY)
    assert full.StudyDate == ds.StudyDate
    assert full.LongitudinalTemporalInformationModified == "UNMODIFIED"


def test_patient_map_and_checks() -> None:
    if not PERF:
        pytest.skip("corpus not found")
    ds = dicomfast.read(PERF[0])
    out = anonymize(ds, key=KEY, patient_map={"DFPERF01": ("SUBJ-7", "SUBJECT^SEVEN")})
    assert out.PatientID == "SUBJ-7" and out.PatientName == "SUBJECT^SEVEN"
    with pytest.raises(DeidentificationError):
        anonymize(ds, options=["clean-pixel-data"], key=KEY)
    with pytest.raises(DeidentificationError):
        anonymize(ds, options=["no-such-option"], key=KEY)
    with pytest.raises(DeidentificationError):
        anonymize(
            ds,
            options=["retain-longitudinal-full-dates", "retain-longitudinal-modified-dates"],
            key=KEY,
        )
    with pytest.raises(DeidentificationError):
        anonymize(ds, key=b"short")
