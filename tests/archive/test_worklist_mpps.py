"""Modality Worklist C-FIND (PS3.4 K) and MPPS N-CREATE/N-SET records (PS3.4 F)."""

from __future__ import annotations

import io
import json

import dicomfast
import pytest
from dicomfast import Dataset, Sequence
from dicomfast.archive import QueryError
from dicomfast.archive import mpps as mp
from dicomfast.archive import worklist as wl


def _item(**kw: object) -> Dataset:
    ds = Dataset()
    for k, v in kw.items():
        setattr(ds, k, v)
    return ds


def scheduled(
    patient_id: str,
    name: str,
    study_uid: str,
    accession: str,
    steps: list[dict],
) -> Dataset:
    ds = _item(
        SpecificCharacterSet="ISO_IR 192",
        PatientID=patient_id,
        PatientName=name,
        PatientBirthDate="19800101",
        PatientSex="F",
        StudyInstanceUID=study_uid,
        AccessionNumber=accession,
        RequestedProcedureID="RP" + accession,
        RequestedProcedureDescription="Procedure " + accession,
    )
    ds.ScheduledProcedureStepSequence = Sequence([_item(**s) for s in steps])
    return ds


def step(sps_id: str, modality: str, aet: str, date: str, time: str, **kw: object) -> dict:
    return dict(
        ScheduledProcedureStepID=sps_id,
        Modality=modality,
        ScheduledStationAETitle=aet,
        ScheduledProcedureStepStartDate=date,
        ScheduledProcedureStepStartTime=time,
        ScheduledPerformingPhysicianName="WHO^DOCTOR",
        ScheduledProcedureStepDescription="step " + sps_id,
        ScheduledProcedureStepStatus="SCHEDULED",
        **kw,
    )


@pytest.fixture
def wl_archive(make_archive, tmp_path):  # noqa: ANN001, ANN201
    archive = make_archive()
    items = [
        scheduled(
            "W1", "GARCÍA^ANA", "1.3.1", "A1", [step("S1", "CT", "CT01", "20240510", "0900")]
        ),
        scheduled(
            "W2",
            "NGUYEN^BAO",
            "1.3.2",
            "A2",
            [
                step("S2a", "MR", "MR01", "20240510", "1400"),
                step("S2b", "MR", "MR01", "20240511", "0800"),
            ],
        ),
        scheduled(
            "W3", "SMITH^JOHN", "1.3.3", "A3", [step("S3", "CT", "CT02", "20240512", "1030")]
        ),
    ]
    # one from a DICOM file, the others from a DICOM JSON file (a list)
    dcm = tmp_path / "w1.dcm"
    buf = io.BytesIO()
    dicomfast.write(items[0], buf)
    dcm.write_bytes(buf.getvalue())
    js = tmp_path / "w23.json"
    js.write_text(json.dumps([ds.to_json_dict() for ds in items[1:]]))
    assert wl.add_files(archive, [dcm, js]) == 4  # W2 has two steps
    return archive


def mwl(**top: object) -> Dataset:
    sps = {k: top.pop(k) for k in list(top) if k.startswith("Scheduled") or k == "Modality"}
    base = dict(PatientName="", PatientID="", AccessionNumber="", StudyInstanceUID="")
    base.update(top)
    ds = _item(**base)
    item = dict(
        ScheduledStationAETitle="",
        ScheduledProcedureStepStartDate="",
        ScheduledProcedureStepStartTime="",
        Modality="",
        ScheduledProcedureStepID="",
    )
    item.update(sps)
    ds.ScheduledProcedureStepSequence = Sequence([_item(**item)])
    return ds


def steps_of(archive, ident: Dataset) -> list[str]:  # noqa: ANN001
    return sorted(
        r.ScheduledProcedureStepSequence[0].ScheduledProcedureStepID
        for r in wl.find(archive, ident)
    )


@pytest.mark.parametrize(
    "keys, expected",
    [
        ({}, ["S1", "S2a", "S2b", "S3"]),
        ({"Modality": "CT"}, ["S1", "S3"]),
        ({"Modality": "MR", "ScheduledStationAETitle": "MR01"}, ["S2a", "S2b"]),
        ({"ScheduledStationAETitle": "CT0*"}, ["S1", "S3"]),
        ({"ScheduledProcedureStepStartDate": "20240510"}, ["S1", "S2a"]),
        ({"ScheduledProcedureStepStartDate": "20240511-"}, ["S2b", "S3"]),
        ({"ScheduledProcedureStepStartDate": "-20240510", "Modality": "MR"}, ["S2a"]),
        ({"ScheduledProcedureStepStartTime": "0800-1000"}, ["S1", "S2b"]),
        ({"PatientName": "garcía*"}, ["S1"]),
        ({"PatientName": "*^BAO"}, ["S2a", "S2b"]),
        ({"PatientID": "W3"}, ["S3"]),
        ({"AccessionNumber": "A?"}, ["S1", "S2a", "S2b", "S3"]),
        ({"AccessionNumber": "A2"}, ["S2a", "S2b"]),
        ({"ScheduledPerformingPhysicianName": "who^*"}, ["S1", "S2a", "S2b", "S3"]),
        ({"ScheduledProcedureStepStatus": "SCHEDULED"}, ["S1", "S2a", "S2b", "S3"]),
        ({"ScheduledProcedureStepDescription": "step S2*"}, ["S2a", "S2b"]),  # no column: Python
        ({"RequestedProcedureDescription": "Procedure A3"}, ["S3"]),
        ({"Modality": "US"}, []),
    ],
)
def test_worklist_matching(wl_archive, keys, expected) -> None:  # noqa: ANN001
    assert steps_of(wl_archive, mwl(**keys)) == expected


def test_worklist_return_keys(wl_archive) -> None:  # noqa: ANN001
    ident = mwl(
        Modality="CT",
        ScheduledStationAETitle="CT01",
        PatientBirthDate="",
        RequestedProcedureID="",
        ScheduledProcedureStepDescription="",
    )
    (r,) = wl.find(wl_archive, ident)
    assert r.PatientName == "GARCÍA^ANA" and r.SpecificCharacterSet == "ISO_IR 192"
    assert r.PatientBirthDate == "19800101" and r.RequestedProcedureID == "RPA1"
    (sps,) = r.ScheduledProcedureStepSequence
    assert sps.Modality == "CT" and sps.ScheduledStationAETitle == "CT01"
    assert sps.ScheduledProcedureStepStartDate == "20240510"
    assert sps.ScheduledProcedureStepDescription == "step S1"
    assert "ScheduledPerformingPhysicianName" not in sps  # not asked for
    buf = io.BytesIO()
    dicomfast.write(r, buf)
    assert dicomfast.read(buf.getvalue()).PatientName == "GARCÍA^ANA"


def test_worklist_replace_remove_and_errors(wl_archive) -> None:  # noqa: ANN001
    again = scheduled(
        "W3", "SMITH^JOHN", "1.3.3", "A3", [step("S3", "US", "US01", "20240512", "1030")]
    )
    assert wl.add(wl_archive, [again]) == 1
    assert steps_of(wl_archive, mwl(Modality="US")) == ["S3"]
    assert steps_of(wl_archive, mwl()) == ["S1", "S2a", "S2b", "S3"]
    assert wl.remove(wl_archive, "1.3.2", "S2a") == 1
    assert steps_of(wl_archive, mwl()) == ["S1", "S2b", "S3"]
    with pytest.raises(QueryError) as e:
        list(wl.find(wl_archive, mwl(ScheduledProcedureStepStartDate="2024*")))
    assert e.value.status == 0xC000


def _mpps_create(status: str = "IN PROGRESS", study: str = "1.3.2", sps: str = "S2a") -> Dataset:
    ds = _item(
        PerformedProcedureStepStatus=status,
        PerformedStationAETitle="MR01",
        PerformedProcedureStepID="PPS1",
        PerformedProcedureStepStartDate="20240510",
        PerformedProcedureStepStartTime="140100",
        Modality="MR",
        PatientName="NGUYEN^BAO",
    )
    ds.ScheduledStepAttributesSequence = Sequence(
        [_item(StudyInstanceUID=study, ScheduledProcedureStepID=sps, AccessionNumber="A2")]
    )
    return ds


def test_mpps_life_cycle(wl_archive) -> None:  # noqa: ANN001
    r = mp.n_create(wl_archive, "1.4.1", _mpps_create())
    assert r.ok and r.sop_instance_uid == "1.4.1"
    assert mp.status_of(wl_archive, "1.4.1") == "IN PROGRESS"
    # the worklist step follows
    assert [
        x.ScheduledProcedureStepSequence[0].ScheduledProcedureStepStatus
        for x in wl.find(
            wl_archive, mwl(ScheduledProcedureStepID="S2a", ScheduledProcedureStepStatus="")
        )
    ] == ["STARTED"]
    # a second N-CREATE of the same instance
    assert mp.n_create(wl_archive, "1.4.1", _mpps_create()).status == 0x0111
    # N-SET while in progress
    r = mp.n_set(wl_archive, "1.4.1", _item(PerformedProcedureStepDescription="done soon"))
    assert r.ok
    r = mp.n_set(
        wl_archive,
        "1.4.1",
        _item(PerformedProcedureStepStatus="COMPLETED", PerformedProcedureStepEndDate="20240510"),
    )
    assert r.ok and mp.status_of(wl_archive, "1.4.1") == "COMPLETED"
    got = mp.get(wl_archive, "1.4.1")
    assert got.PerformedProcedureStepDescription == "done soon"
    assert got.PerformedProcedureStepEndDate == "20240510" and got.PatientName == "NGUYEN^BAO"
    # F.7.2.2: a completed step may no longer be updated
    r = mp.n_set(wl_archive, "1.4.1", _item(PerformedProcedureStepDescription="late change"))
    assert r.status == 0x0110 and "no longer" in r.comment
    assert mp.get(wl_archive, "1.4.1").PerformedProcedureStepDescription == "done soon"
    r = mp.n_set(wl_archive, "1.4.1", _item(PerformedProcedureStepStatus="IN PROGRESS"))
    assert r.status == 0x0110
    status = next(
        wl.find(wl_archive, mwl(ScheduledProcedureStepID="S2a", ScheduledProcedureStepStatus=""))
    )
    assert status.ScheduledProcedureStepSequence[0].ScheduledProcedureStepStatus == "COMPLETED"


def test_mpps_discontinued_and_errors(wl_archive) -> None:  # noqa: ANN001
    assert mp.n_create(wl_archive, "1.4.2", _mpps_create("COMPLETED")).status == 0x0106
    assert (
        mp.n_set(wl_archive, "9.9", _item(PerformedProcedureStepStatus="COMPLETED")).status
        == 0x0112
    )
    r = mp.n_create(wl_archive, None, _mpps_create())  # the SCP makes the UID
    assert r.ok and r.sop_instance_uid
    assert (
        mp.n_set(
            wl_archive, r.sop_instance_uid, _item(PerformedProcedureStepStatus="PAUSED")
        ).status
        == 0x0106
    )
    assert mp.n_set(
        wl_archive, r.sop_instance_uid, _item(PerformedProcedureStepStatus="DISCONTINUED")
    ).ok
    assert (
        mp.n_set(
            wl_archive, r.sop_instance_uid, _item(PerformedProcedureStepStatus="COMPLETED")
        ).status
        == 0x0110
    )
    assert mp.status_of(wl_archive, r.sop_instance_uid) == "DISCONTINUED"
