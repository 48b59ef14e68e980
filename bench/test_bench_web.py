"""DICOMweb: dicomfast serve's web side against Orthanc's DICOMweb plugin (Debian's
``orthanc`` + ``orthanc-dicomweb``, started here on loopback on its defaults,
``SyncStorageArea`` included: it fsyncs each file as we do; its benchmarks are skipped
when it is not installed).

- STOW-RS of 500 512x512 CT images (256 MB) in one request, new UIDs each round
  (both durable before the answer; ours flushes the request's files together);
- QIDO-RS study search (patient name prefix, date range, modality: 50 of 2,500
  studies) over the same 100,000 generated instances in both (10 a series, 4 series a
  study, no pixels; loaded once, some minutes, and kept under /tmp/dicomfast-bench-qido
  for later runs); both must find the same studies;
- WADO-RS retrieval of the 500-image series as stored;
- one 512x512 CT frame rendered to JPEG (quality 90, the file's window).

One client for both: a keep-alive ``http.client`` connection reading bodies into one
reused buffer (``requests`` spent more time reading a 256 MB answer than either
server took to send it; a browser or viewer keeps its connections too).  Orthanc keeps
recently read files in its 128 MB storage cache; ours reads through the page cache:
both answer rendered frames from memory.

Targets (``competitor time / ours``): STOW >= 2x, QIDO >= 5x, WADO >= 1.5x, rendered
>= 2x.  Quiet (three runs, nothing else on the 2-core VM, load < 1): STOW ours
0.86-1.01 s, Orthanc 1.91-2.34 s: 2.0-2.3x; QIDO at 100,000 ours 4.1-4.3 ms, Orthanc
39.8-41.3 ms: 6.0-8.3x; WADO series of 500 ours 62-87 ms, Orthanc 131-171 ms: 1.6-2.5x;
rendered ours 0.92-0.99 ms, Orthanc 2.06-2.15 ms: 2.1x -- every target met in every run.
Earlier, on the shared 2-core VM while other sessions built and tested (load
1.2-5; Orthanc 1.10.1 + DICOMweb 1.7), ratio from alternating rounds:
STOW 500 (5 runs): ours 0.96-1.56 s, Orthanc 2.10-3.38 s: 1.8-2.4x (met in 4 of 5;
Orthanc was 3.7-4.2 s in earlier, busier runs); QIDO at 100,000 (6 runs): ours
4.0-4.4 ms alone, 4.9-7.2 beside, Orthanc 41-78 ms: 6.1-10.8x (met; was 14-20 ms:
SQLite now starts from the most selective index, probed, and the answers go from SQL
rows to the JSON model without data sets); WADO series of 500 (5 runs): ours 67-157
ms, Orthanc 116-304 ms: 1.3-2.2x (met in 4 of 5; a bare sendfile loop takes 110-130
ms for the same 256 MB here: ours is at that floor); rendered (5 runs since
these changes): ours 0.93-1.03 ms alone, 1.11-1.48 beside, Orthanc 2.18-2.75 ms: 1.8-2.3x (met
in 1 of 5, just under in another; was 1.1-1.2 ms alone: files read rather than mapped, the
instance lookup on a DB-API cursor, the grey JPEG without Pillow's layers; left:
libjpeg-turbo 0.22 ms, the display table 0.2 ms, aiohttp and the worker trip 0.16 ms,
reading and decoding 0.1 ms).  Beside Orthanc ours slows by 15-50% (cold caches after
each Orthanc request: a 2 ms pause between the two does not help), Orthanc by 5%.
The smoke run (``--benchmark-disable``, CI) uses 20 images and 2,000
instances."""

from __future__ import annotations

import http.client
import json
import shutil
import sys
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from itertools import count
from pathlib import Path

import pytest

pytest.importorskip("aiohttp")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "web"))

import orthanc as orthanc_server  # noqa: E402
import requests  # noqa: E402
import webutil  # noqa: E402
from benchrace import race  # noqa: E402
from dicomfast import Dataset  # noqa: E402
from dicomfast.archive import Archive  # noqa: E402
from dicomfast.web import WebOptions, WebServer  # noqa: E402

PREFIX = b"1.2.826.0.5.000000"  # study/series/instance UIDs of the template; a round replaces it
DICOM_ACCEPT = 'multipart/related; type="application/dicom"'
#: Where the QIDO data sets (both servers' copies) are kept between runs.
QIDO_CACHE = Path("/tmp/dicomfast-bench-qido")


class Client:
    """One keep-alive HTTP/1.1 connection (reopened when a server closes it); bodies
    are read into one reused buffer, so the client costs both servers the same and
    as little as it can (``requests`` reading 256 MB costs more than either server)."""

    def __init__(self, url: str) -> None:
        u = urllib.parse.urlsplit(url)
        self.prefix = u.path.rstrip("/")
        self.conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port)
        self.buf = bytearray(1 << 20)

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes | bytearray | None = None,
    ) -> tuple[int, int, bytes]:
        """(status, body size, the body's first MiB)."""
        try:
            self.conn.request(method, self.prefix + path, body=body, headers=headers)
            r = self.conn.getresponse()
        except (ConnectionError, http.client.RemoteDisconnected):
            # closed while idle (Orthanc's KeepAliveTimeout is 1 s): once more, reconnected
            self.conn.close()
            self.conn.request(method, self.prefix + path, body=body, headers=headers)
            r = self.conn.getresponse()
        first = b""
        n = 0
        while k := r.readinto(self.buf):
            if not n:
                first = bytes(self.buf[:k])
            n += k
        return r.status, n, first

    def get(self, path: str, accept: str) -> tuple[int, int, bytes]:
        return self.request("GET", path, {"Accept": accept})


def _full(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("benchmark_enable", False))


@pytest.fixture(scope="module")
def n_images(request: pytest.FixtureRequest) -> int:
    return 500 if _full(request) else 20


@pytest.fixture(scope="module")
def template(n_images: int) -> list[bytes]:
    """The CT series as Part 10 files, UIDs under PREFIX."""
    p = PREFIX.decode()
    return [
        webutil.encode(
            webutil.ct(
                study=f"{p}.1",
                series=f"{p}.1.1",
                sop=f"{p}.2.{k:06d}",
                number=k + 1,
                rows=512,
                cols=512,
            )
        )
        for k in range(n_images)
    ]


def _body(files: list[bytes]) -> bytes:
    head = b"--BOUNDARY\r\nContent-Type: application/dicom\r\n\r\n"
    return b"".join(x for f in files for x in (head, f, b"\r\n")) + b"--BOUNDARY--\r\n"


class Rounds:
    """The STOW-RS body of the series, made once: round r rewrites the six digits
    of the UID prefix where it occurs (in place: new instances each round, for
    about a millisecond of the client's time instead of rebuilding 256 MB)."""

    def __init__(self, template: list[bytes]) -> None:
        self.body = bytearray(_body(template))
        self.at = []
        k = self.body.find(PREFIX)
        while k >= 0:
            self.at.append(k + len(PREFIX) - 6)
            k = self.body.find(PREFIX, k + 1)

    def body_of(self, r: int) -> bytearray:
        digits = f"{r:06d}".encode()
        for k in self.at:
            self.body[k : k + 6] = digits
        return self.body


STOW_HEADERS = {"Content-Type": 'multipart/related; type="application/dicom"; boundary=BOUNDARY'}


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Archive]]:
    archive = Archive(tmp_path_factory.mktemp("web-archive"))  # durable: fsync on
    server = WebServer(archive, WebOptions(port=0)).start()
    try:
        yield server.url, archive
    finally:
        server.shutdown()
        archive.close()


@pytest.fixture(scope="module")
def orthanc(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str | None]:
    """Its DICOMweb root, on its defaults (SyncStorageArea: fsync of each file); None
    in the smoke run (which checks our side only)."""
    if not _full(request):
        yield None
        return
    with orthanc_server.running(tmp_path_factory.mktemp("orthanc"), throwaway=True) as url:
        yield f"{url}/dicom-web" if url else None


@pytest.fixture(scope="module")
def stored(
    ours: tuple[str, Archive], orthanc: str | None, template: list[bytes]
) -> tuple[str, str]:
    """Round 0 of the series stored in both servers: (study UID, series UID)."""
    body = bytes(Rounds(template).body_of(0))
    assert requests.post(f"{ours[0]}/studies", data=body, headers=STOW_HEADERS).status_code == 200
    if orthanc:
        assert requests.post(f"{orthanc}/studies", data=body, headers=STOW_HEADERS).ok
    p = "1.2.826.0.5.000000"
    return f"{p}.1", f"{p}.1.1"


def test_stow(benchmark, ours, orthanc, template, stored) -> None:  # noqa: ANN001
    rounds = count(1)
    made = Rounds(template)
    clients = {url: Client(url) for url in (ours[0], orthanc) if url}

    def post(url: str) -> None:
        body = made.body_of(next(rounds))
        status, _, first = clients[url].request("POST", "/studies", STOW_HEADERS, body)
        assert status == 200, first[:200]

    theirs = {"orthanc-dicomweb": lambda: post(orthanc)} if orthanc else {}
    race(benchmark, f"STOW-RS {len(template)} CT 512x512", lambda: post(ours[0]), theirs, target=2)


def _tiny(k: int, per_series: int = 10, per_study: int = 4) -> bytes:
    """Instance k of the QIDO data set: 10 a series, 4 series a study (CT and MR
    alternating), a patient a study, no pixel data."""
    se = k // per_series
    st = se // per_study
    ds = Dataset()
    ds.SOPClassUID = webutil.CT_IMAGE_STORAGE
    ds.SOPInstanceUID = f"1.2.826.0.6.9.{k}"
    ds.StudyInstanceUID = f"1.2.826.0.6.{st}"
    ds.SeriesInstanceUID = f"1.2.826.0.6.{st}.{se}"
    ds.PatientName = f"SYN^PATIENT{st:06d}"
    ds.PatientID = f"SYN{st:06d}"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyDate = f"2020{1 + st % 12:02d}{1 + st % 28:02d}"
    ds.StudyTime = "120000"
    ds.AccessionNumber = f"SA{st:06d}"
    ds.StudyDescription = "SYNTHETIC"
    ds.StudyID = str(st)
    ds.Modality = "CT" if se % 2 else "MR"
    ds.SeriesNumber = se % per_study + 1
    ds.InstanceNumber = k % per_series + 1
    return webutil.encode(ds)


def _load_orthanc(url: str, n: int) -> None:
    session = requests.Session()

    def post(k: int) -> None:
        assert session.post(f"{url}/instances", data=_tiny(k)).ok

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(post, range(n)))


@pytest.fixture(scope="module")
def qido_data(request: pytest.FixtureRequest) -> tuple[int, Path]:
    """The same n instances in our archive and (when installed) Orthanc's storage,
    under QIDO_CACHE/<n>: loaded once (some minutes at 100,000), reused by later runs."""
    n = 100_000 if _full(request) else 2_000
    folder = QIDO_CACHE / str(n)
    ours_done, theirs_done = folder / "ours.done", folder / "orthanc.done"
    if not ours_done.exists():
        shutil.rmtree(folder / "ours", ignore_errors=True)
        with Archive(folder / "ours", fsync=False) as archive:
            for k in range(n):
                assert archive.ingest(_tiny(k)).ok
        ours_done.touch()
    if _full(request) and orthanc_server.AVAILABLE and not theirs_done.exists():
        shutil.rmtree(folder / "orthanc", ignore_errors=True)
        with orthanc_server.running(folder / "orthanc", SyncStorageArea=False) as url:
            if url:
                _load_orthanc(url, n)
                theirs_done.touch()
    return n, folder


def _qido(n: int) -> tuple[str, set[str]]:
    """The study search raced at n instances (a patient name prefix, a date range,
    a modality: about 2% of the studies), and the studies it must find."""
    prefix = "SYN^PATIENT0001" if n >= 40_000 else "SYN^PATIENT00001"
    query = f"/studies?PatientName={prefix}*&StudyDate=20200101-20200630&ModalitiesInStudy=CT"
    expected = {
        f"1.2.826.0.6.{st}"
        for st in range(n // 40)
        if f"SYN^PATIENT{st:06d}".startswith(prefix) and st % 12 < 6
    }
    return query, expected


def _study_uids(client: Client, query: str) -> set[str]:
    client.conn.request("GET", client.prefix + query, headers={"Accept": "application/dicom+json"})
    r = client.conn.getresponse()
    assert r.status == 200
    return {s["0020000D"]["Value"][0] for s in json.loads(r.read())}


def test_qido_studies(benchmark, qido_data, request) -> None:  # noqa: ANN001
    n, folder = qido_data
    archive = Archive(folder / "ours", fsync=False)
    server = WebServer(archive, WebOptions(port=0)).start()
    orthanc_run = (
        orthanc_server.running(folder / "orthanc") if _full(request) else nullcontext(None)
    )
    try:
        with orthanc_run as url:
            clients = {"ours": Client(server.url)}
            if url and (folder / "orthanc.done").exists():
                clients["orthanc"] = Client(f"{url}/dicom-web")
            query, expected = _qido(n)
            for name, client in clients.items():
                assert _study_uids(client, query) == expected, name  # both find the same

            def search(client: Client) -> None:
                status, size, _ = client.get(query, "application/dicom+json")
                assert status == 200 and size > 1000

            theirs = (
                {"orthanc-dicomweb": lambda: search(clients["orthanc"])}
                if "orthanc" in clients
                else {}
            )
            race(
                benchmark,
                f"QIDO-RS study search, {n} instances",
                lambda: search(clients["ours"]),
                theirs,
                target=5,
            )
    finally:
        server.shutdown()
        archive.close()


def test_wado_series(benchmark, ours, orthanc, stored, n_images) -> None:  # noqa: ANN001
    study, series_uid = stored
    clients = {url: Client(url) for url in (ours[0], orthanc) if url}

    def get(url: str) -> None:
        status, size, _ = clients[url].get(f"/studies/{study}/series/{series_uid}", DICOM_ACCEPT)
        assert status == 200 and size > n_images * 512 * 512 * 2

    theirs = {"orthanc-dicomweb": lambda: get(orthanc)} if orthanc else {}
    race(benchmark, f"WADO-RS series of {n_images} CT", lambda: get(ours[0]), theirs, target=1.5)


def test_rendered_frame(benchmark, ours, orthanc, stored) -> None:  # noqa: ANN001
    study, series_uid = stored
    sop = "1.2.826.0.5.000000.2.000000"
    path = f"/studies/{study}/series/{series_uid}/instances/{sop}/rendered"
    clients = {url: Client(url) for url in (ours[0], orthanc) if url}

    def get(url: str) -> None:
        status, _, first = clients[url].get(path, "image/jpeg")
        assert status == 200 and first[:2] == b"\xff\xd8"

    theirs = {"orthanc-dicomweb": lambda: get(orthanc)} if orthanc else {}
    race(benchmark, "rendered 512x512 CT frame to JPEG", lambda: get(ours[0]), theirs, target=2)
