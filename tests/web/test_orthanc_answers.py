"""Our QIDO-RS and WADO-RS metadata answers against Orthanc's (its DICOMweb plugin)
for the same instances stored in both (skipped where Orthanc is not installed, as
in CI).  Every attribute both return has the same value (RetrieveURLs compared
below each server's root); what only one returns is the documented list below,
so a new difference fails the test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orthanc
import pytest
import requests
import webutil
from dicomfast.archive import Archive
from dicomfast.web import WebOptions, WebServer

#: Seconds any request to either server may take (a stuck server fails the test).
TIMEOUT = 30

STUDY = "1.2.826.0.7.1"
SERIES = "1.2.826.0.7.1.1"
RETRIEVE_URL = "00081190"
#: The study's attributes, which Orthanc repeats in series and instance results
#: under a study's path (PS3.18 10.6.3.3.2/3 ask for them only at /series and
#: /instances, where we give them too).
STUDY_LEVEL = {
    "00080020",  # Study Date
    "00080030",  # Study Time
    "00080050",  # Accession Number
    "00100010",  # Patient's Name
    "00100020",  # Patient ID
    "00100030",  # Patient's Birth Date
    "00100040",  # Patient's Sex
    "00200010",  # Study ID
}
#: Attributes with a value in one answer only, by request: (only Orthanc's, only ours).
#: Orthanc names the default character set (ISO_IR 100) when the file has none; we
#: leave Specific Character Set out then (the file has none) and add Instance
#: Availability and Study Description (Table 10.6.3-3 lists it as optional).
DIFFERENCES = {
    "/studies": ({"00080005"}, {"00080056", "00081030"}),
    f"/studies/{STUDY}/series": ({"00080005"} | STUDY_LEVEL, set()),
    f"/studies/{STUDY}/series/{SERIES}/instances": (
        {"00080005", "00080060", "0008103E", "00200011"} | STUDY_LEVEL,  # + the series'
        {"00080056"},
    ),
    f"/studies/{STUDY}/metadata": (set(), set()),
}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Both DICOMweb roots, the same three CT instances (and one of another study)
    stored in each by STOW-RS."""
    if not orthanc.AVAILABLE:
        orthanc.unavailable("Orthanc with its DICOMweb plugin is not installed")
    folder = tmp_path_factory.mktemp("answers")
    files = [webutil.encode(webutil.ct(number=k + 1, sop=f"1.2.826.0.7.2.{k}")) for k in range(3)]
    files.append(
        webutil.encode(
            webutil.ct(
                study="1.2.826.0.7.3",
                series="1.2.826.0.7.3.1",
                patient="ROE^RICHARD",
                patient_id="P2",
                study_date="20230615",
                modality="MR",
            )
        )
    )
    body = b"".join(b"--B\r\nContent-Type: application/dicom\r\n\r\n" + f + b"\r\n" for f in files)
    headers = {"Content-Type": 'multipart/related; type="application/dicom"; boundary=B'}
    archive = Archive(folder / "ours", fsync=False)
    server = WebServer(archive, WebOptions(port=0)).start()
    try:
        with orthanc.running(folder / "orthanc", throwaway=True) as url:
            if url is None:
                orthanc.unavailable("Orthanc did not start")
            roots = {"ours": server.url, "orthanc": f"{url}/dicom-web"}
            for root in roots.values():
                r = requests.post(
                    f"{root}/studies", data=body + b"--B--\r\n", headers=headers, timeout=TIMEOUT
                )
                assert r.ok, r.text
            yield roots
    finally:
        server.shutdown()
        archive.close()


def _valued(obj: dict[str, Any]) -> set[str]:
    return {t for t, e in obj.items() if e.get("Value") or e.get("BulkDataURI")}


def _same(tag: str, a: dict[str, Any], b: dict[str, Any], roots: dict[str, str]) -> bool:
    if "BulkDataURI" in a or "BulkDataURI" in b:  # each server's own URL
        return "BulkDataURI" in a and "BulkDataURI" in b
    if tag == RETRIEVE_URL:
        return [v.removeprefix(roots["ours"]) for v in a["Value"]] == [
            v.removeprefix(roots["orthanc"]) for v in b["Value"]
        ]
    return a.get("Value") == b.get("Value")


def _by_uid(answer: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    key = next(t for t in ("00080018", "0020000E", "0020000D") if t in answer[0])
    return {o[key]["Value"][0]: o for o in answer}


@pytest.mark.parametrize("path", list(DIFFERENCES))
def test_answers_agree_with_orthanc(servers: dict[str, str], path: str) -> None:
    ours, theirs = (
        _by_uid(
            requests.get(
                servers[k] + path, headers={"Accept": "application/dicom+json"}, timeout=TIMEOUT
            ).json()
        )
        for k in ("ours", "orthanc")
    )
    assert set(ours) == set(theirs) and ours  # the same studies/series/instances
    only_theirs, only_ours = DIFFERENCES[path]
    for uid, a in ours.items():
        b = theirs[uid]
        assert _valued(b) - _valued(a) == only_theirs, (path, uid)
        assert _valued(a) - _valued(b) == only_ours, (path, uid)
        for tag in _valued(a) & _valued(b):
            assert _same(tag, a[tag], b[tag], servers), (path, tag, a[tag], b[tag])


#: Searches Orthanc (1.10.1, DICOMweb 1.7) answers differently: a Person Name key
#: with a component separator finds nothing there (``ROE^RICHARD``, ``ROE^RICHARD*``;
#: ``ROE*`` does), where C-FIND matching (PS3.4 C.2.2.2.1) finds the patient.
ORTHANC_FINDS_NOTHING = {"PatientName=ROE^RICHARD", "PatientName=ROE^RICH*"}


@pytest.mark.parametrize(
    "query",
    [
        "PatientName=DOE*",
        "PatientName=ROE*",
        *sorted(ORTHANC_FINDS_NOTHING),
        "StudyDate=20230101-20231231",
        "StudyDate=-20240101",
        "ModalitiesInStudy=CT",
        "PatientID=P2",
        "AccessionNumber=ACC1",
    ],
)
def test_searches_find_what_orthanc_finds(servers: dict[str, str], query: str) -> None:
    found = {}
    for name, root in servers.items():
        r = requests.get(
            f"{root}/studies?{query}", headers={"Accept": "application/dicom+json"}, timeout=TIMEOUT
        )
        assert r.status_code in (200, 204)
        found[name] = {
            s["0020000D"]["Value"][0] for s in (r.json() if r.status_code == 200 else [])
        }
    assert found["ours"], query
    assert found["orthanc"] == (set() if query in ORTHANC_FINDS_NOTHING else found["ours"]), query
