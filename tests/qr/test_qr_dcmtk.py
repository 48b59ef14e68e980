"""Interoperability with DCMTK: its SCUs (findscu, movescu, getscu,
storescu) against our archive, and our SCUs against its SCPs (dcmqrscp for
Query/Retrieve, wlmscpfs for the worklist) on the same data, answers
compared element for element."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dicomfast
import pytest
from dicomfast.dataset import Dataset, Sequence
from qrutil import (
    ROOT,
    archive_server,
    canon,
    dcmtk,
    find_all,
    free_port,
    ident,
    run,
    serving,
    wait_port,
)
from qrutil import dcmqrscp as run_dcmqrscp

pytestmark = pytest.mark.dcmtk

#: DCMTK sets TCP_NODELAY only when asked; without it every exchange waits
#: for a delayed ACK (40 ms).
ENV = {**os.environ, "TCP_NODELAY": "1"}


def dcmtk_run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run([dcmtk(tool), *args], env=ENV)


# -- DCMTK SCUs against our archive ---------------------------------------------------------
def test_findscu_against_archive(loaded, tmp_path: Path) -> None:
    server, _ = loaded
    out = tmp_path / "rsp"
    out.mkdir()
    keys = {
        "QueryRetrieveLevel": "STUDY",
        "PatientName": "DOE*",
        "StudyDate": "20240101-20240131",
        "StudyInstanceUID": "",
        "PatientID": "",
        "AccessionNumber": "",
    }
    args = ["-S", "-aec", "ARCHIVE", "-X", "-od", str(out), "127.0.0.1", str(server.port)]
    for k, v in keys.items():
        args += ["-k", f"{k}={v}" if v else k]
    r = dcmtk_run("findscu", *args)
    assert r.returncode == 0, r.stderr
    theirs = sorted((canon(dicomfast.read(p)) for p in out.glob("rsp*.dcm")), key=str)
    status, ours = find_all(server.port, ident(**keys))
    assert status == 0 and len(ours) == 2
    assert theirs == sorted((canon(d) for d in ours), key=str)


def test_findscu_cancel(loaded) -> None:
    server, _ = loaded
    r = dcmtk_run(
        "findscu",
        "-v",
        "-S",
        "-aec",
        "ARCHIVE",
        "--cancel",
        "1",
        "127.0.0.1",
        str(server.port),
        "-k",
        "QueryRetrieveLevel=IMAGE",
        "-k",
        "SOPInstanceUID",
    )
    assert r.returncode == 0, r.stderr
    assert "Cancel" in r.stdout + r.stderr


def test_findscu_bad_level(loaded) -> None:
    server, _ = loaded
    r = dcmtk_run(
        "findscu",
        "-v",
        "-S",
        "-aec",
        "ARCHIVE",
        "127.0.0.1",
        str(server.port),
        "-k",
        "QueryRetrieveLevel=BOGUS",
        "-k",
        "PatientID",
    )
    text = r.stdout + r.stderr
    assert "Find Response" in text and (
        "Failed" in text or "Error" in text or "0xc" in text.lower() or "0xa9" in text.lower()
    )


def test_movescu_to_itself(tmp_path: Path, source_files) -> None:
    port = free_port()
    server, archive = archive_server(tmp_path / "a", destinations={"MOVESCU": ("127.0.0.1", port)})
    try:
        for f in source_files:
            archive.store(f)
        out = tmp_path / "moved"
        out.mkdir()
        r = dcmtk_run(
            "movescu",
            "-v",
            "-S",
            "-aet",
            "MOVESCU",
            "-aec",
            "ARCHIVE",
            "-aem",
            "MOVESCU",
            "--port",
            str(port),
            "-od",
            str(out),
            "127.0.0.1",
            str(server.port),
            "-k",
            "QueryRetrieveLevel=STUDY",
            "-k",
            "PatientID=PID003",
        )
        assert r.returncode == 0, r.stderr
        assert len(list(out.iterdir())) == 8
        assert "Final Move Response (Success)" in r.stdout + r.stderr
    finally:
        server.shutdown()
        archive.close()


def test_getscu(loaded, tmp_path: Path) -> None:
    server, _ = loaded
    out = tmp_path / "got"
    out.mkdir()
    r = dcmtk_run(
        "getscu",
        "-S",
        "-aec",
        "ARCHIVE",
        "-od",
        str(out),
        "127.0.0.1",
        str(server.port),
        "-k",
        "QueryRetrieveLevel=SERIES",
        "-k",
        f"StudyInstanceUID={ROOT}.1.0.4.1",
        "-k",
        f"SeriesInstanceUID={ROOT}.1.0.4.1.1",
    )
    assert r.returncode == 0, r.stderr
    files = list(out.iterdir())
    assert len(files) == 2
    assert {dicomfast.read(f).SeriesInstanceUID for f in files} == {f"{ROOT}.1.0.4.1.1"}


def test_storescu_into_serve_then_find(tmp_path: Path, source_files) -> None:
    data = tmp_path / "data"
    with serving(["--storage", str(data), "--no-fsync", "--aet", "ARCHIVE"]) as port:
        r = dcmtk_run(
            "storescu", "-aec", "ARCHIVE", "127.0.0.1", str(port), *map(str, source_files)
        )
        assert r.returncode == 0, r.stderr
        status, res = find_all(port, ident("IMAGE", SOPInstanceUID=""), "study")
        assert status == 0 and len(res) == len(source_files)
        r = dcmtk_run(
            "findscu",
            "-S",
            "-aec",
            "ARCHIVE",
            "127.0.0.1",
            str(port),
            "-k",
            "QueryRetrieveLevel=PATIENT",
            "-k",
            "PatientID",
        )
        assert r.returncode == 0


# -- our SCUs against dcmqrscp ----------------------------------------------------------------
@pytest.fixture(scope="module")
def dcmqrscp(tmp_path_factory: pytest.TempPathFactory, source_files) -> Iterator[tuple[int, int]]:
    """dcmqrscp holding ``source_files`` (AE QRSCP); its HostTable knows
    ARCHIVE at the second port (for C-MOVE to us)."""
    d = tmp_path_factory.mktemp("dcmqrscp")
    dest_port = free_port()
    with run_dcmqrscp(d, source_files, {"archive": ("ARCHIVE", dest_port)}) as port:
        yield port, dest_port


QUERIES = [
    (
        "study",
        dict(
            QueryRetrieveLevel="STUDY",
            PatientName="DOE*",
            StudyDate="20240101-20240131",
            StudyInstanceUID="",
            PatientID="",
            StudyTime="",
            AccessionNumber="",
        ),
    ),
    (
        "study",
        dict(
            QueryRetrieveLevel="STUDY",
            PatientName="*AN*",
            StudyDate="20240601-",
            StudyInstanceUID="",
            StudyDescription="",
        ),
    ),
    (
        "study",
        dict(
            QueryRetrieveLevel="STUDY", StudyDate="-20240112", StudyInstanceUID="", PatientName=""
        ),
    ),
    (
        "study",
        dict(QueryRetrieveLevel="STUDY", PatientName="D?E^J*", StudyInstanceUID="", StudyID=""),
    ),
    (
        "study",
        dict(
            QueryRetrieveLevel="STUDY",
            StudyInstanceUID=[f"{ROOT}.1.0.0.0", f"{ROOT}.1.0.3.1"],
            AccessionNumber="",
        ),
    ),
    (
        "study",
        dict(
            QueryRetrieveLevel="SERIES",
            StudyInstanceUID=f"{ROOT}.1.0.2.1",
            SeriesInstanceUID="",
            Modality="",
            SeriesNumber="",
        ),
    ),
    (
        "study",
        dict(
            QueryRetrieveLevel="IMAGE",
            StudyInstanceUID=f"{ROOT}.1.0.2.1",
            SeriesInstanceUID=f"{ROOT}.1.0.2.1.0",
            SOPInstanceUID="",
            InstanceNumber="",
        ),
    ),
    (
        "patient",
        dict(
            QueryRetrieveLevel="PATIENT",
            PatientName="",
            PatientID="",
            PatientBirthDate="19500101-19520101",
            PatientSex="",
        ),
    ),
    (
        "patient",
        dict(QueryRetrieveLevel="STUDY", PatientID="PID004", StudyInstanceUID="", StudyDate=""),
    ),
]


@pytest.mark.parametrize("model,keys", QUERIES, ids=[f"q{i}" for i in range(len(QUERIES))])
def test_find_matches_dcmqrscp(dcmqrscp: tuple[int, int], loaded, model: str, keys: dict) -> None:
    server, _ = loaded
    q = ident(None, **keys)
    tags = {e.tag for e in q}

    def view(results: list[Dataset]) -> list[dict]:
        rows = [{t: v for t, v in canon(r).items() if t in tags} for r in results]
        return sorted(rows, key=lambda r: sorted((k, str(v)) for k, v in r.items()))

    st_theirs, theirs = find_all(dcmqrscp[0], q, model, aec="QRSCP")
    st_ours, ours = find_all(server.port, q, model, aec="ARCHIVE")
    assert st_theirs == st_ours == 0
    assert theirs, "the query should match something"
    assert view(ours) == view(theirs)


def test_move_from_dcmqrscp_to_archive(dcmqrscp: tuple[int, int], tmp_path: Path) -> None:
    """Our C-MOVE SCU asks dcmqrscp to send a study to our archive; then an
    unknown destination is a failure status."""
    from dicomfast.net.services.find import STUDY_ROOT_MOVE
    from qrutil import scu

    port, dest_port = dcmqrscp
    server, archive = archive_server(tmp_path / "a", aet="ARCHIVE", port=dest_port)
    try:
        ae = scu(STUDY_ROOT_MOVE)
        with ae.associate("127.0.0.1", port, ae_title="QRSCP") as assoc:
            rsps = list(
                assoc.send_c_move(ident("STUDY", StudyInstanceUID=f"{ROOT}.1.0.1.0"), "ARCHIVE")
            )
            final = rsps[-1][0]
            assert int(final) == 0, final
            assert final.command[0x00001021] == 4
            rsps = list(assoc.send_c_move(ident("STUDY", PatientID="PID001"), "NOWHERE"))
            assert rsps[-1][0].category == "Failure"
        assert archive.count() == 4
    finally:
        server.shutdown()
        archive.close()


# -- our MWL SCU against wlmscpfs ---------------------------------------------------------------
def _wl_item(i: int) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = ["DOE^JOHN", "SMITH^ANNA", "DOE^JANE"][i % 3]
    ds.PatientID = f"W{i}"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "MF"[i % 2]
    ds.AccessionNumber = f"A{i}"
    ds.StudyInstanceUID = f"{ROOT}.9.{i}"
    ds.RequestedProcedureID = f"RP{i}"
    ds.RequestedProcedureDescription = f"PROC {i}"
    ds.ReferringPhysicianName = "WHO^DR"
    sps = Dataset()
    sps.Modality = ["CT", "MR"][i % 2]
    sps.ScheduledStationAETitle = "MOD1"
    sps.ScheduledProcedureStepStartDate = f"202406{10 + i:02d}"
    sps.ScheduledProcedureStepStartTime = "090000"
    sps.ScheduledProcedureStepID = f"SPS{i}"
    sps.ScheduledProcedureStepDescription = "SCAN"
    sps.ScheduledPerformingPhysicianName = "DR^X"
    ds.ScheduledProcedureStepSequence = Sequence([sps])
    return ds


@pytest.fixture(scope="module")
def wlmscpfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    tool = dcmtk("wlmscpfs")
    d = tmp_path_factory.mktemp("wl")
    ae_dir = d / "WLSCP"
    ae_dir.mkdir()
    (ae_dir / "lockfile").write_text("")
    for i in range(6):
        dicomfast.write(_wl_item(i), ae_dir / f"item{i}.wl")
    port = free_port()
    proc = subprocess.Popen(
        [tool, "-dfp", str(d), str(port)],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_port(port)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _mwl_query(**sps_keys: object) -> Dataset:
    q = Dataset()
    q.PatientName = ""
    q.PatientID = ""
    q.AccessionNumber = ""
    q.StudyInstanceUID = ""
    q.RequestedProcedureID = ""
    sps = Dataset()
    sps.Modality = ""
    sps.ScheduledStationAETitle = ""
    sps.ScheduledProcedureStepStartDate = ""
    sps.ScheduledProcedureStepID = ""
    for k, v in sps_keys.items():
        setattr(sps, k, v)
    q.ScheduledProcedureStepSequence = Sequence([sps])
    return q


MWL_QUERIES = [
    {},
    {"Modality": "CT"},
    {"ScheduledProcedureStepStartDate": "20240611-20240613"},
    {"Modality": "MR", "ScheduledProcedureStepStartDate": "-20240613"},
]


@pytest.mark.parametrize("sps", MWL_QUERIES, ids=[f"w{i}" for i in range(len(MWL_QUERIES))])
def test_mwl_matches_wlmscpfs(wlmscpfs: int, tmp_path: Path, sps: dict) -> None:
    from dicomfast.archive import worklist as wl

    server, archive = archive_server(tmp_path / "a")
    try:
        wl.add(archive, [_wl_item(i) for i in range(6)])
        q = _mwl_query(**sps)
        st_theirs, theirs = find_all(wlmscpfs, q, "worklist", aec="WLSCP")
        st_ours, ours = find_all(server.port, q, "worklist", aec="ARCHIVE")
        assert st_theirs == st_ours == 0
        assert theirs
        key = lambda r: str(r.get(0x00100020))  # noqa: E731
        assert sorted((canon(r) for r in ours), key=key) == sorted(
            (canon(r) for r in theirs), key=key
        )
    finally:
        server.shutdown()
        archive.close()


def test_mwl_cli_against_wlmscpfs(wlmscpfs: int) -> None:
    import json

    r = run(
        [
            *__import__("qrutil").SERVE,
            "mwl",
            "127.0.0.1",
            str(wlmscpfs),
            "--aec",
            "WLSCP",
            "-k",
            "PatientID",
            "-k",
            "ScheduledProcedureStepSequence.Modality=CT",
            "--json",
        ]
    )
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]  # JSON Lines
    assert sorted(x["00100020"]["Value"][0] for x in rows) == ["W0", "W2", "W4"]


def test_get_cli_from_dcmqrscp(dcmqrscp: tuple[int, int], tmp_path: Path) -> None:
    """Our C-GET SCU (role selection for the storage contexts) against dcmqrscp."""
    from dicomfast.cli import main

    out = tmp_path / "got"
    rc = main(
        [
            "get",
            "127.0.0.1",
            str(dcmqrscp[0]),
            "--aec",
            "QRSCP",
            "-q",
            "--no-fsync",
            "-k",
            f"StudyInstanceUID={ROOT}.1.0.2.0",
            "-o",
            str(out),
        ]
    )
    assert rc == 0
    files = list(out.glob("*.dcm"))
    assert len(files) == 4
    assert {dicomfast.read(f).StudyInstanceUID for f in files} == {f"{ROOT}.1.0.2.0"}
