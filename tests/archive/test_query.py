"""C-FIND matching rules (PS3.4 C.2.2.2) on a small index, on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import dicomfast
import pytest
from archutil import MR_IMAGE_STORAGE, create_pg_database, encode, instance, query
from dicomfast import Dataset, Sequence
from dicomfast.archive import Archive, QueryError
from dicomfast.archive import matching as mt

S1, S2, S3, S4, S5 = (f"1.2.840.99.{i}" for i in range(1, 6))

# patient, study, series, instances: everything the rules below are checked on
DATA = [
    dict(
        patient_id="P1",
        patient_name="DOE^JOHN",
        PatientBirthDate="19700101",
        PatientSex="M",
        study_uid=S1,
        StudyDate="20240115",
        StudyTime="101500",
        AccessionNumber="ACC1",
        StudyID="1",
        ReferringPhysicianName="HOUSE^GREGORY",
        StudyDescription="CT HEAD",
        InstitutionName="JFK IMAGING",
        series=[
            dict(
                series_uid=S1 + ".1",
                modality="CT",
                SeriesNumber=1,
                SeriesDescription="AXIAL",
                BodyPartExamined="HEAD",
                n=3,
            ),
            dict(series_uid=S1 + ".2", modality="SR", SeriesNumber=99, n=1),
        ],
    ),
    dict(
        patient_id="P2",
        patient_name="doe^jane",
        PatientBirthDate="19851231",
        PatientSex="F",
        study_uid=S2,
        StudyDate="20231231",
        StudyTime="235959",
        AccessionNumber="ACC2",
        StudyDescription="MR KNEE",
        series=[
            dict(
                series_uid=S2 + ".1", modality="MR", SeriesNumber=1, n=2, sop_class=MR_IMAGE_STORAGE
            )
        ],
    ),
    dict(
        patient_id="P3",
        patient_name="Müller^Jörg",
        PatientBirthDate="20000229",
        PatientSex="O",
        study_uid=S3,
        StudyDate="20240301",
        StudyTime="080000.5",
        AccessionNumber="ACC_3%",
        StudyDescription="CT CHEST 50% dose",
        series=[dict(series_uid=S3 + ".1", modality="CT", SeriesNumber=2, n=1)],
    ),
    dict(
        patient_id="P1",
        patient_name="DOE^JOHN",
        PatientBirthDate="19700101",
        PatientSex="M",
        study_uid=S4,
        StudyDate="",
        AccessionNumber="",
        series=[dict(series_uid=S4 + ".1", modality="US", n=1)],
    ),
    dict(
        patient_id="P4",
        patient_name="SMITH^ANNA",
        PatientSex="F",
        study_uid=S5,
        StudyDate="20240115",
        StudyTime="1200",
        AccessionNumber="acc1",
        series=[dict(series_uid=S5 + ".1", modality="CT", SeriesNumber=1, n=2)],
    ),
]


def _build(archive: Archive) -> None:
    for st in DATA:
        st = dict(st)
        series_list = st.pop("series")
        for se in series_list:
            se = dict(se)
            n = se.pop("n")
            for i in range(n):
                ds = instance(
                    **st, **se, sop_uid=f"{se['series_uid']}.{i + 1}", InstanceNumber=i + 1
                )
                if st["study_uid"] == S1:
                    item = Dataset()
                    item.CodeValue = "X1"
                    item.CodingSchemeDesignator = "LOCAL"
                    ds.ProcedureCodeSequence = Sequence([item])
                r = archive.store(encode(ds))
                assert r.ok, r.comment


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def qa(request, tmp_path_factory):  # noqa: ANN001, ANN201
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url_module")
    archive = Archive(tmp_path_factory.mktemp("q"), url, fsync=False)
    _build(archive)
    yield archive
    archive.close()


@pytest.fixture(scope="module")
def pg_url_module(pg_server, pg_template) -> str:  # noqa: ANN001
    return create_pg_database(pg_server[1], pg_template)


def studies(archive: Archive, **keys: object) -> set[str]:
    return {d.StudyInstanceUID for d in archive.find(query("STUDY", **keys))}


# -- STUDY level -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "keys, expected",
    [
        # universal matching: empty value, or * alone
        ({"PatientName": ""}, {S1, S2, S3, S4, S5}),
        ({"PatientName": "*", "StudyDate": ""}, {S1, S2, S3, S4, S5}),
        # single value, case sensitive for SH
        ({"AccessionNumber": "ACC1"}, {S1}),
        ({"AccessionNumber": "acc1"}, {S5}),
        # PN: case-insensitive (our documented choice)
        ({"PatientName": "DOE^JANE"}, {S2}),
        ({"PatientName": "doe^john"}, {S1, S4}),
        ({"PatientName": "MÜLLER^JÖRG"}, {S3}),
        # trailing/leading spaces are not significant
        ({"PatientName": "SMITH^ANNA "}, {S5}),
        ({"AccessionNumber": " ACC1  "}, {S1}),
        # wildcards
        ({"PatientName": "DOE*"}, {S1, S2, S4}),
        ({"PatientName": "?OE^J*"}, {S1, S2, S4}),
        ({"PatientName": "*LLER*"}, {S3}),
        ({"PatientName": "D*E^JAN?"}, {S2}),
        ({"AccessionNumber": "ACC?"}, {S1, S2}),
        ({"AccessionNumber": "ACC*"}, {S1, S2, S3}),
        # SQL LIKE's own wildcards are literal characters in DICOM
        ({"AccessionNumber": "ACC_3%"}, {S3}),
        ({"AccessionNumber": "ACC%"}, set()),
        ({"AccessionNumber": "ACC_?"}, set()),
        ({"AccessionNumber": "ACC?3*"}, {S3}),
        ({"StudyDescription": "*50% *"}, {S3}),
        ({"StudyDescription": "*0%*"}, {S3}),
        ({"StudyDescription": "CT*"}, {S1, S3}),
        # date ranges (an empty stored date never matches a range)
        ({"StudyDate": "20240101-20241231"}, {S1, S3, S5}),
        ({"StudyDate": "-20231231"}, {S2}),
        ({"StudyDate": "20240201-"}, {S3}),
        ({"StudyDate": "20240115"}, {S1, S5}),
        ({"StudyDate": "2024.01.15"}, {S1, S5}),
        ({"StudyDate": "20240115-20240115"}, {S1, S5}),
        # time ranges: 1200 is 120000; 080000.5 is after 080000
        ({"StudyTime": "1000-1200"}, {S1, S5}),
        ({"StudyTime": "080000-080000"}, set()),
        ({"StudyTime": "0800-0801"}, {S3}),
        ({"StudyTime": "23:00-"}, {S2}),
        ({"StudyTime": "120000"}, {S5}),
        # date and time together: each on its own
        ({"StudyDate": "20240115", "StudyTime": "-1100"}, {S1}),
        # list of UIDs
        ({"StudyInstanceUID": [S1, S3]}, {S1, S3}),
        ({"StudyInstanceUID": S2}, {S2}),
        ({"StudyInstanceUID": "1.2.3.4.5"}, set()),
        # ModalitiesInStudy: any series' modality
        ({"ModalitiesInStudy": "CT"}, {S1, S3, S5}),
        ({"ModalitiesInStudy": ["MR", "US"]}, {S2, S4}),
        ({"ModalitiesInStudy": "SR"}, {S1}),
        ({"ModalitiesInStudy": "C*"}, {S1, S3, S5}),
        # patient keys at the study level (Study Root)
        ({"PatientID": "P1"}, {S1, S4}),
        ({"PatientBirthDate": "19800101-"}, {S2, S3}),
        ({"PatientSex": "F"}, {S2, S5}),
        ({"ReferringPhysicianName": "house*"}, {S1}),
        # keys without columns: matched on the stored attributes
        ({"InstitutionName": "JFK*"}, {S1}),
        ({"InstitutionName": "JFK"}, set()),
        # several keys: all must match
        ({"PatientName": "DOE*", "StudyDate": "2024-"}, {S1}),
        ({"PatientName": "DOE*", "StudyDate": "-2023"}, {S2}),
        ({"StudyDate": "202401-202401"}, {S1, S5}),
        ({"PatientName": "DOE*", "StudyDate": "20240101-"}, {S1}),
        ({"PatientName": "DOE*", "AccessionNumber": "ACC2", "ModalitiesInStudy": "MR"}, {S2}),
        # counts as matching keys
        ({"NumberOfStudyRelatedInstances": "4"}, {S1}),
        ({"NumberOfStudyRelatedSeries": "2"}, {S1}),
    ],
)
def test_study_level_matching(qa, keys, expected) -> None:  # noqa: ANN001
    assert studies(qa, **keys) == expected


def test_query_starts_from_the_most_selective_index(qa, monkeypatch) -> None:  # noqa: ANN001
    """SQLite has no statistics of value ranges: the table whose indexed keys match the
    fewest rows (counted) drives the query; PostgreSQL plans on its own."""
    from dicomfast.archive import query as q
    from dicomfast.archive.schema import patients
    from dicomfast.archive.schema import studies as studies_table

    def driver(**keys: object) -> object:
        with qa.engine.connect() as conn:
            return q._driver(conn, q.plan(query("STUDY", **keys), "STUDY"))

    if qa.engine.dialect.name != "sqlite":
        assert driver(PatientID="P2", StudyDate="2020-") is None
        return
    assert driver(PatientID="P2", StudyDate="2020-") is patients  # 1 patient, 4 studies
    assert driver(PatientName="DOE*", AccessionNumber="ACC1") is studies_table  # 2 vs 1
    assert driver(PatientName="*OE*", AccessionNumber="ACC1") is None  # the name cannot seek
    monkeypatch.setattr(q, "PROBE_LIMIT", 1)  # each table has more matches: SQLite plans
    assert driver(PatientID="P2", StudyDate="2020-") is None
    assert studies(qa, PatientID="P2", StudyDate="2020-") == {S2}
    assert studies(qa, PatientName="DOE*", AccessionNumber="ACC1") == {S1}


def test_sequence_matching(qa) -> None:  # noqa: ANN001
    def seq(**kw: str) -> Sequence:
        item = Dataset()
        for k, v in kw.items():
            setattr(item, k, v)
        return Sequence([item])

    assert studies(qa, ProcedureCodeSequence=seq(CodeValue="X1")) == {S1}
    assert studies(
        qa, ProcedureCodeSequence=seq(CodeValue="X*", CodingSchemeDesignator="LOCAL")
    ) == {S1}
    assert studies(qa, ProcedureCodeSequence=seq(CodeValue="X2")) == set()
    # an empty item or an empty sequence: universal, the sequence is returned
    res = list(
        qa.find(query("STUDY", StudyInstanceUID=S1, ProcedureCodeSequence=seq(CodeValue="")))
    )
    assert res[0].ProcedureCodeSequence[0].CodeValue == "X1"
    assert "CodingSchemeDesignator" not in res[0].ProcedureCodeSequence[0]
    res = list(qa.find(query("STUDY", ProcedureCodeSequence=Sequence([]))))
    assert len(res) == 5
    two = Sequence([Dataset(), Dataset()])
    with pytest.raises(QueryError) as e:
        list(qa.find(query("STUDY", ProcedureCodeSequence=two)))
    assert e.value.status == 0xC000


def test_return_keys(qa) -> None:  # noqa: ANN001
    ident = query(
        "STUDY",
        StudyInstanceUID=S1,
        PatientName="",
        PatientID="",
        PatientBirthDate="",
        StudyDate="",
        StudyTime="",
        AccessionNumber="",
        StudyID="",
        ReferringPhysicianName="",
        StudyDescription="",
        ModalitiesInStudy="",
        NumberOfStudyRelatedSeries=None,
        NumberOfStudyRelatedInstances=None,
        InstitutionName="",
        SOPInstanceUID="",  # a lower level's key: returned empty
    )
    (r,) = qa.find(ident)
    assert r.QueryRetrieveLevel == "STUDY"
    assert r.PatientName == "DOE^JOHN" and r.PatientID == "P1" and r.PatientBirthDate == "19700101"
    assert r.StudyDate == "20240115" and r.StudyTime == "101500"
    assert r.AccessionNumber == "ACC1" and r.StudyID == "1"
    assert r.ReferringPhysicianName == "HOUSE^GREGORY" and r.StudyDescription == "CT HEAD"
    assert sorted(r.ModalitiesInStudy) == ["CT", "SR"]
    assert r.NumberOfStudyRelatedSeries == 2 and r.NumberOfStudyRelatedInstances == 4
    assert r.InstitutionName == "JFK IMAGING"
    assert r.SOPInstanceUID == ""
    assert "SpecificCharacterSet" not in r
    # results are writable data sets (the SCP sends them)
    buf = io.BytesIO()
    dicomfast.write(r, buf)
    assert dicomfast.read(buf.getvalue()).AccessionNumber == "ACC1"


def test_non_ascii_results_are_utf8(qa) -> None:  # noqa: ANN001
    (r,) = qa.find(query("STUDY", PatientName="m*"))
    assert r.PatientName == "Müller^Jörg"
    assert r.SpecificCharacterSet == "ISO_IR 192"
    buf = io.BytesIO()
    dicomfast.write(r, buf)
    assert dicomfast.read(buf.getvalue()).PatientName == "Müller^Jörg"


def test_patient_level(qa) -> None:  # noqa: ANN001
    res = list(
        qa.find(
            query(
                "PATIENT",
                PatientID="",
                PatientName="",
                NumberOfPatientRelatedStudies=None,
                NumberOfPatientRelatedSeries=None,
                NumberOfPatientRelatedInstances=None,
            ),
            "PATIENT",
        )
    )
    by_id = {r.PatientID: r for r in res}
    assert set(by_id) == {"P1", "P2", "P3", "P4"}
    p1 = by_id["P1"]
    assert (
        p1.NumberOfPatientRelatedStudies,
        p1.NumberOfPatientRelatedSeries,
        p1.NumberOfPatientRelatedInstances,
    ) == (2, 3, 5)
    assert {r.PatientID for r in qa.find(query("PATIENT", PatientSex="F"), "PATIENT")} == {
        "P2",
        "P4",
    }
    ids = {r.PatientID for r in qa.find(query("PATIENT", PatientBirthDate="-19991231"), "PATIENT")}
    assert ids == {"P1", "P2"}
    # Patient Root study level: under a patient
    got = {r.StudyInstanceUID for r in qa.find(query("STUDY", PatientID="P1"), "PATIENT")}
    assert got == {S1, S4}
    # the SOP Class UID names the model too
    got = list(qa.find(query("PATIENT", PatientID="P3"), "1.2.840.10008.5.1.4.1.2.1.1"))
    assert [r.PatientID for r in got] == ["P3"]


def test_series_level(qa) -> None:  # noqa: ANN001
    res = list(
        qa.find(
            query(
                "SERIES",
                StudyInstanceUID=S1,
                Modality="",
                SeriesNumber=None,
                NumberOfSeriesRelatedInstances=None,
                BodyPartExamined="",
            )
        )
    )
    by_uid = {r.SeriesInstanceUID: r for r in res}
    assert set(by_uid) == {S1 + ".1", S1 + ".2"}
    ct = by_uid[S1 + ".1"]
    assert ct.Modality == "CT" and ct.SeriesNumber == 1 and ct.NumberOfSeriesRelatedInstances == 3
    assert ct.BodyPartExamined == "HEAD" and ct.StudyInstanceUID == S1
    ser = lambda **k: {r.SeriesInstanceUID for r in qa.find(query("SERIES", **k))}  # noqa: E731
    assert ser(Modality="CT") == {S1 + ".1", S3 + ".1", S5 + ".1"}
    assert ser(Modality="ct") == set()  # CS is case sensitive
    assert ser(SeriesNumber=99) == {S1 + ".2"}
    assert ser(SeriesNumber="1") == {S1 + ".1", S2 + ".1", S5 + ".1"}
    assert ser(SeriesDescription="AX*") == {S1 + ".1"}
    assert ser(BodyPartExamined="HEAD", PatientName="doe*") == {S1 + ".1"}
    # unique keys of the levels above are in every response, asked or not
    (r,) = qa.find(query("SERIES", SeriesInstanceUID=S2 + ".1"))
    assert r.StudyInstanceUID == S2 and r.SeriesInstanceUID == S2 + ".1"
    (r,) = qa.find(query("SERIES", SeriesInstanceUID=S2 + ".1"), "PATIENT")
    assert r.PatientID == "P2"


def test_image_level(qa) -> None:  # noqa: ANN001
    img = lambda **k: {r.SOPInstanceUID for r in qa.find(query("IMAGE", **k))}  # noqa: E731
    assert img(SeriesInstanceUID=S1 + ".1") == {f"{S1}.1.{i}" for i in (1, 2, 3)}
    assert img(SeriesInstanceUID=S1 + ".1", InstanceNumber=2) == {f"{S1}.1.2"}
    assert img(SOPClassUID=MR_IMAGE_STORAGE) == {f"{S2}.1.1", f"{S2}.1.2"}
    assert img(SOPInstanceUID=[f"{S3}.1.1", f"{S5}.1.2", "9.9"]) == {f"{S3}.1.1", f"{S5}.1.2"}
    (r,) = qa.find(
        query(
            "IMAGE",
            SOPInstanceUID=f"{S3}.1.1",
            AvailableTransferSyntaxUID="",
            InstanceAvailability="",
        )
    )
    assert r.AvailableTransferSyntaxUID == dicomfast.uid.ExplicitVRLittleEndian
    assert r.InstanceAvailability == "ONLINE"
    assert r.StudyInstanceUID == S3 and r.SeriesInstanceUID == S3 + ".1"


@pytest.mark.parametrize(
    "ident, model, status",
    [
        (Dataset(), "STUDY", 0xA900),  # no Query/Retrieve Level
        (query("PATIENT", PatientID=""), "STUDY", 0xA900),  # not a Study Root level
        (query("FRAME"), "STUDY", 0xA900),
        (query("STUDY"), "WORKLIST", 0xA900),  # unknown model
        (query("STUDY", StudyDate="2024*"), "STUDY", 0xC000),
        (query("STUDY", StudyDate="20241301-"), "STUDY", 0xC000),
        (query("STUDY", StudyDate="24-"), "STUDY", 0xC000),
        (query("STUDY", StudyTime="ab-"), "STUDY", 0xC000),
        (query("STUDY", StudyInstanceUID="1.2.*"), "STUDY", 0xC000),
        (query("SERIES", SeriesNumber="one"), "STUDY", 0xC000),
    ],
)
def test_query_errors(qa, ident, model, status) -> None:  # noqa: ANN001
    with pytest.raises(QueryError) as e:
        list(qa.find(ident, model))
    assert e.value.status == status
    assert e.value.comment and len(e.value.comment) <= 64


def test_cancel(qa) -> None:  # noqa: ANN001
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 2

    assert len(list(qa.find(query("IMAGE"), cancel=cancel))) == 2
    gen = qa.find(query("IMAGE"))
    next(gen)
    gen.close()  # the consumer stops: nothing is left open


# -- the SQL conditions agree with the Python matcher ------------------------------------
CROSS = [
    ("PatientName", "PN", ["DOE*", "*E^J*", "d?e^*", "MÜLLER^JÖRG", "", "SMITH^ANNA"]),
    ("AccessionNumber", "SH", ["ACC?", "ACC_3%", "acc*", "*1", ["ACC1", "ACC2"]]),
    ("StudyDate", "DA", ["20240101-", "-20240115", "20231231", "20240115-20240301"]),
    ("StudyTime", "TM", ["-1200", "1015-", "080000.5", "0800-0801"]),
    ("StudyDescription", "LO", ["*%*", "CT *", "MR KNEE", "*d?se"]),
]


@pytest.mark.parametrize("keyword, vr, values", CROSS)
def test_sql_agrees_with_python_matching(qa, keyword, vr, values) -> None:  # noqa: ANN001
    import sqlalchemy as sa
    from dicomfast.archive import schema
    from dicomfast.dictionary import tag_for_keyword

    tag = tag_for_keyword(keyword)
    table = schema.studies
    with qa.engine.connect() as conn:
        rows = list(conn.execute(sa.select(table.c.study_instance_uid, table.c.attrs)))
    assert rows
    for value in values:
        matcher = mt.matcher_for(tag, vr, value)
        python = {uid for uid, attrs in rows if mt.match_attrs([matcher], attrs)}
        assert studies(qa, **{keyword: value}) == python, (keyword, value)


def test_dicomweb_lookup_of_one_instance(qa) -> None:  # noqa: ANN001
    """The web's one-instance lookup (a DB-API cursor on the pooled connection) on
    both databases: the stored file, and 404 for an unknown or mismatched UID."""
    pytest.importorskip("aiohttp")
    from dicomfast.web import locate
    from dicomfast.web.errors import NotFound

    for _ in range(2):  # the second one reuses the compiled statement
        (ref,) = locate.instances(qa, S1, S1 + ".1", S1 + ".1.2")
        assert ref.sop_instance_uid == S1 + ".1.2"
        assert dicomfast.read(ref.path).SOPInstanceUID == S1 + ".1.2"
    for study, series in ((S1, S1 + ".2"), (S2, S1 + ".1")):
        with pytest.raises(NotFound):
            locate.instances(qa, study, series, S1 + ".1.2")
