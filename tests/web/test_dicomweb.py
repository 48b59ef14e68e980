"""dicomweb-client against our server: store, search, retrieve, metadata, frames,
rendered, bulk data; what is retrieved equals what was stored."""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest
import requests
import webutil
from dicomfast.archive import Archive
from dicomfast.web import WebServer
from dicomweb_client.api import DICOMwebClient
from PIL import Image

STUDY = "1.2.826.0.7.1"
SERIES = "1.2.826.0.7.1.1"
RLE = "1.2.840.10008.1.2.5"
JPEG_LS = "1.2.840.10008.1.2.4.80"


def _pyds(data: bytes) -> pydicom.Dataset:
    return pydicom.dcmread(io.BytesIO(data))


@pytest.fixture
def stored(server: WebServer) -> list[pydicom.Dataset]:
    """Three CT slices and one 4-frame instance in a second series, stored by STOW-RS."""
    dss = [_pyds(webutil.encode(webutil.ct(number=k + 1))) for k in range(3)]
    dss.append(
        _pyds(
            webutil.encode(webutil.ct(series=SERIES + ".2", number=1, frames=4, rows=32, cols=48))
        )
    )
    client = DICOMwebClient(server.url)
    resp = client.store_instances(dss)
    assert len(resp.ReferencedSOPSequence) == 4
    assert "FailedSOPSequence" not in resp
    return dss


def test_store_then_search_every_level(server: WebServer, stored: list[pydicom.Dataset]) -> None:
    c = DICOMwebClient(server.url)
    studies = c.search_for_studies()
    assert len(studies) == 1
    s = pydicom.Dataset.from_json(studies[0])
    assert s.StudyInstanceUID == STUDY and s.PatientName == "DOE^JANE"
    assert s.ModalitiesInStudy == "CT" and s.NumberOfStudyRelatedInstances == 4
    assert s.NumberOfStudyRelatedSeries == 2
    assert s.RetrieveURL.endswith(f"/studies/{STUDY}")
    assert len(c.search_for_series(STUDY)) == 2
    assert len(c.search_for_series()) == 2  # /series
    assert len(c.search_for_instances(STUDY, SERIES)) == 3
    assert len(c.search_for_instances(STUDY)) == 4  # /studies/{s}/instances
    every = c.search_for_instances()  # /instances: with the study's attributes
    assert len(every) == 4 and all("00100010" in i for i in every)
    # matching as C-FIND: wildcards, ranges, UID lists, no match
    assert len(c.search_for_studies(search_filters={"PatientName": "DOE*"})) == 1
    assert len(c.search_for_studies(search_filters={"StudyDate": "20240101-20240131"})) == 1
    assert c.search_for_studies(search_filters={"StudyDate": "2025-"}) == []
    assert c.search_for_studies(search_filters={"AccessionNumber": "ACC2"}) == []
    assert len(c.search_for_studies(search_filters={"ModalitiesInStudy": "CT"})) == 1
    uids = ",".join(d.SOPInstanceUID for d in stored[:2])
    assert len(c.search_for_instances(search_filters={"SOPInstanceUID": uids})) == 2


def test_includefield_fuzzy_limit_offset(server: WebServer, stored: list[pydicom.Dataset]) -> None:
    c = DICOMwebClient(server.url)
    [inst] = c.search_for_instances(
        STUDY, SERIES, search_filters={"InstanceNumber": "2"}, fields=["WindowCenter"]
    )
    assert inst["00281050"]["Value"] == [40]
    assert inst["00280010"]["Value"] == [64]  # Rows: a default attribute
    [everything] = c.search_for_instances(
        STUDY, SERIES, search_filters={"InstanceNumber": "2"}, fields=["all"]
    )
    assert everything["00281052"]["Value"] == [-1024]  # RescaleIntercept from the index
    # fuzzymatching: any part of the name, ignoring case
    assert c.search_for_studies(search_filters={"PatientName": "jane"}) == []
    assert (
        len(c.search_for_studies(search_filters={"PatientName": "jane"}, fuzzymatching=True)) == 1
    )
    page = c.search_for_instances(STUDY, SERIES, limit=2, offset=1)
    assert len(page) == 2
    r = requests.get(f"{server.url}/studies/{STUDY}/series/{SERIES}/instances?limit=1")
    assert r.status_code == 200 and "2 additional results" in r.headers["Warning"]
    numbers = sorted(i["00200013"]["Value"][0] for i in c.search_for_instances(STUDY, SERIES))
    assert numbers == [1, 2, 3]


def _same(a: pydicom.Dataset, b: pydicom.Dataset) -> None:
    assert a.SOPInstanceUID == b.SOPInstanceUID
    for kw in ("PatientName", "StudyDate", "Rows", "Columns", "RescaleIntercept", "InstanceNumber"):
        assert a.get(kw) == b.get(kw), kw
    assert np.array_equal(a.pixel_array, b.pixel_array)


def test_retrieve_equals_stored(server: WebServer, stored: list[pydicom.Dataset]) -> None:
    c = DICOMwebClient(server.url)
    by_uid = {d.SOPInstanceUID: d for d in stored}
    study = c.retrieve_study(STUDY)
    assert len(study) == 4
    for ds in study:
        _same(ds, by_uid[ds.SOPInstanceUID])
        assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    series = c.retrieve_series(STUDY, SERIES)
    assert sorted(d.SOPInstanceUID for d in series) == sorted(d.SOPInstanceUID for d in stored[:3])
    one = c.retrieve_instance(STUDY, SERIES, stored[1].SOPInstanceUID)
    _same(one, stored[1])
    # transcoded to RLE by our codecs on request; decoded by pydicom, equal pixels
    rle = c.retrieve_instance(
        STUDY, SERIES, stored[1].SOPInstanceUID, media_types=(("application/dicom", RLE),)
    )
    assert rle.file_meta.TransferSyntaxUID == RLE
    assert np.array_equal(rle.pixel_array, stored[1].pixel_array)
    # as stored
    raw = requests.get(
        f"{server.url}/studies/{STUDY}/series/{SERIES}/instances/{stored[0].SOPInstanceUID}",
        headers={"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'},
    )
    assert raw.status_code == 200 and b"transfer-syntax=1.2.840.10008.1.2.1" in raw.content[:300]


def test_metadata_and_bulkdata(server: WebServer, stored: list[pydicom.Dataset]) -> None:
    c = DICOMwebClient(server.url)
    meta = c.retrieve_series_metadata(STUDY, SERIES)
    assert len(meta) == 3
    m = next(x for x in meta if x["00080018"]["Value"][0] == stored[0].SOPInstanceUID)
    assert m["00100010"]["Value"][0]["Alphabetic"] == "DOE^JANE"
    uri = m["7FE00010"]["BulkDataURI"]
    assert uri.endswith(f"/instances/{stored[0].SOPInstanceUID}/bulkdata/7FE00010")
    [pixels] = c.retrieve_bulkdata(uri)
    assert np.array_equal(np.frombuffer(pixels, "<u2").reshape(64, 64), stored[0].pixel_array)
    assert len(c.retrieve_study_metadata(STUDY)) == 4
    inst = c.retrieve_instance_metadata(STUDY, SERIES, stored[2].SOPInstanceUID)
    assert inst["00200013"]["Value"] == [3]


def test_frames(server: WebServer, stored: list[pydicom.Dataset]) -> None:
    c = DICOMwebClient(server.url)
    mf = stored[3]
    frames = c.retrieve_instance_frames(STUDY, mf.SeriesInstanceUID, mf.SOPInstanceUID, [1, 3, 4])
    assert len(frames) == 3
    expect = mf.pixel_array
    for got, k in zip(frames, (0, 2, 3), strict=True):
        assert np.array_equal(np.frombuffer(got, "<u2").reshape(32, 48), expect[k])
    # stored compressed (RLE), asked as native: decoded by the server
    rle = webutil.ct(study="1.2.826.0.7.9", series="1.2.826.0.7.9.1", rows=16, cols=16)
    rle.compress(RLE)
    c.store_instances([_pyds(webutil.encode(rle, RLE))])
    [f] = c.retrieve_instance_frames("1.2.826.0.7.9", "1.2.826.0.7.9.1", rle.SOPInstanceUID, [1])
    assert np.array_equal(np.frombuffer(f, "<u2").reshape(16, 16), webutil.phantom(16, 16, 1))
    r = requests.get(
        f"{server.url}/studies/1.2.826.0.7.9/series/1.2.826.0.7.9.1/instances/"
        f"{rle.SOPInstanceUID}/frames/1",
        headers={"Accept": 'multipart/related; type="application/octet-stream"; transfer-syntax=*'},
    )
    assert r.status_code == 200 and f"transfer-syntax={RLE}".encode() in r.content[:200]


def test_rendered_and_thumbnails(server: WebServer, stored: list[pydicom.Dataset]) -> None:
    c = DICOMwebClient(server.url)
    sop = stored[0].SOPInstanceUID
    jpeg = c.retrieve_instance_rendered(STUDY, SERIES, sop)
    img = Image.open(io.BytesIO(jpeg))
    assert img.format == "JPEG" and img.size == (64, 64)
    assert np.asarray(img).std() > 20  # not blank
    png = c.retrieve_instance_rendered(
        STUDY,
        SERIES,
        sop,
        media_types=("image/png",),
        params={"window": "-600,1500", "viewport": "32,32"},
    )
    small = Image.open(io.BytesIO(png))
    assert small.format == "PNG" and small.size == (32, 32)
    mf = stored[3]
    f2 = c.retrieve_instance_frames_rendered(STUDY, mf.SeriesInstanceUID, mf.SOPInstanceUID, [2])
    assert Image.open(io.BytesIO(f2)).size == (48, 32)
    for path in (f"/studies/{STUDY}", f"/studies/{STUDY}/series/{SERIES}"):
        r = requests.get(f"{server.url}{path}/thumbnail?viewport=20,20")
        assert r.status_code == 200 and r.headers["Content-Type"] == "image/jpeg"
        assert Image.open(io.BytesIO(r.content)).size == (20, 20)
    # windows differ: soft tissue and lung renderings are not the same image
    soft = np.asarray(
        Image.open(
            io.BytesIO(
                c.retrieve_instance_rendered(
                    STUDY, SERIES, sop, media_types=("image/png",), params={"window": "40,400"}
                )
            )
        )
    )
    lung = np.asarray(
        Image.open(
            io.BytesIO(
                c.retrieve_instance_rendered(
                    STUDY, SERIES, sop, media_types=("image/png",), params={"window": "-600,1500"}
                )
            )
        )
    )
    assert np.abs(soft.astype(int) - lung.astype(int)).mean() > 10


def test_wado_uri(server: WebServer, stored: list[pydicom.Dataset]) -> None:
    sop = stored[1].SOPInstanceUID
    q = f"{server.url}/wado?requestType=WADO&studyUID={STUDY}&seriesUID={SERIES}&objectUID={sop}"
    r = requests.get(q + "&contentType=application/dicom")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/dicom"
    _same(_pyds(r.content), stored[1])
    r = requests.get(q + "&rows=32&windowCenter=40&windowWidth=400")
    assert r.status_code == 200 and Image.open(io.BytesIO(r.content)).size == (32, 32)
    assert requests.get(q.replace("WADO&", "X&")).status_code == 400
    assert requests.get(q.replace(sop, "1.2.3")).status_code == 404


def test_stow_is_durable_and_follows_the_duplicate_policy(
    server: WebServer, archive: Archive, stored: list[pydicom.Dataset]
) -> None:
    # each stored file is on disk under its final name when the answer comes
    for ds in stored:
        p = Path(
            archive.folder, ds.StudyInstanceUID, ds.SeriesInstanceUID, f"{ds.SOPInstanceUID}.dcm"
        )
        assert p.is_file()
    c = DICOMwebClient(server.url)
    again = c.store_instances([stored[0]])  # keep-first: answered as stored
    assert len(again.ReferencedSOPSequence) == 1
    assert archive.count() == 4


def test_stow_failures(server: WebServer, archive: Archive, stored: list[pydicom.Dataset]) -> None:
    url = f"{server.url}/studies/{STUDY}"
    good = webutil.encode(webutil.ct(number=9))
    other = webutil.encode(webutil.ct(study="1.2.826.0.7.2", series="1.2.826.0.7.2.1"))

    def post(target: str, *parts: bytes) -> requests.Response:
        body = (
            b"".join(
                b"--XYZ\r\nContent-Type: application/dicom\r\n\r\n" + p + b"\r\n" for p in parts
            )
            + b"--XYZ--\r\n"
        )
        return requests.post(
            target,
            data=body,
            headers={"Content-Type": 'multipart/related; type="application/dicom"; boundary=XYZ'},
        )

    # one good, one of another study, one unreadable: 202 with both lists
    r = post(url, good, other, b"not dicom at all")
    assert r.status_code == 202
    body = r.json()
    assert len(body["00081199"]["Value"]) == 1
    reasons = sorted(item["00081197"]["Value"][0] for item in body["00081198"]["Value"])
    assert reasons == [0xA900, 0xC000]
    # nothing stored: 409
    r = post(url, b"junk")
    assert r.status_code == 409 and "00081198" in r.json()
    # a body that ends inside its part: refused, its temporary file removed
    cut = b"--XYZ\r\nContent-Type: application/dicom\r\n\r\n" + good[:1000]
    r = requests.post(
        url,
        data=cut,
        headers={"Content-Type": 'multipart/related; type="application/dicom"; boundary=XYZ'},
    )
    assert r.status_code == 409 and r.json()["00081198"]["Value"][0]["00081197"]["Value"] == [
        0xC000
    ]
    assert not list(Path(archive.folder).glob(".stow.*"))
    # not multipart of application/dicom: 415
    r = requests.post(url, data=b"{}", headers={"Content-Type": "application/json"})
    assert r.status_code == 415


def test_bad_requests_get_the_right_status(
    server: WebServer, stored: list[pydicom.Dataset]
) -> None:
    u = server.url
    sop = stored[0].SOPInstanceUID
    inst = f"{u}/studies/{STUDY}/series/{SERIES}/instances/{sop}"
    cases = [
        (f"{u}/studies?NoSuchKeyword=1", {}, 400),
        (f"{u}/studies?StudyDate=2024*", {}, 400),  # no wildcard in a date (C-FIND: 0xC000)
        (f"{u}/studies?limit=-1", {}, 400),
        (f"{u}/studies/1.2.3.4", {}, 404),
        (f"{u}/studies/not-a-uid", {}, 400),
        (f"{inst}/frames/9", {}, 404),
        (f"{inst}/frames/0", {}, 400),
        (f"{inst}/frames/x", {}, 400),
        (f"{inst}/rendered?window=40", {}, 400),
        (f"{inst}/rendered?quality=500", {}, 400),
        (f"{inst}/rendered", {"Accept": "image/jp2"}, 406),
        (f"{u}/studies", {"Accept": "application/dicom+xml"}, 406),
        # JPEG 2000 Part 2 multi-component: no encoder here
        (
            inst,
            {
                "Accept": 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.92'
            },
            406,
        ),
    ]
    for url, headers, status in cases:
        r = requests.get(url, headers=headers)
        assert r.status_code == status, (url, r.status_code, r.text)
        assert "Traceback" not in r.text


def test_a_client_that_goes_away_costs_nothing(server: WebServer, archive: Archive) -> None:
    for k in range(20):
        archive.ingest(
            webutil.encode(webutil.ct(series="1.2.826.0.7.1.5", number=k, rows=256, cols=256))
        )
    url = f"{server.url}/studies/{STUDY}/series/1.2.826.0.7.1.5"
    for _ in range(5):
        with requests.get(url, stream=True) as r:
            assert r.status_code == 200
            next(r.iter_content(4096))
    assert requests.get(f"{server.url}/studies").status_code == 200
    r = requests.get(url)
    assert r.status_code == 200 and r.content.count(b"DICM") == 20


def test_stow_client_gone_midway_leaves_nothing(server: WebServer, archive: Archive) -> None:
    parts = [webutil.encode(webutil.ct(number=k, rows=512, cols=512)) for k in range(12)]
    body = b"".join(
        b"--XYZ\r\nContent-Type: application/dicom\r\n\r\n" + p + b"\r\n" for p in parts
    )
    head = (
        "POST /studies HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        'Content-Type: multipart/related; type="application/dicom"; boundary=XYZ\r\n'
        f"Content-Length: {len(body) + 100000}\r\n\r\n"
    )
    temps = lambda: list(Path(archive.folder).rglob(".stow.*"))  # noqa: E731

    def wait(done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 10
        while not done() and time.monotonic() < deadline:
            time.sleep(0.02)

    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(head.encode() + body)  # 6 MB of the body: the first parts are being written
        wait(lambda: bool(temps()))
        assert temps()
    wait(lambda: not temps())  # the client went away: its files are removed
    assert not temps() and archive.count() == 0
