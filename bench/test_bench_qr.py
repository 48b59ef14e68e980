"""Query/Retrieve over the network (issue 5).

(a) C-FIND latency: a study-level query (Patient's Name wildcard + Study
    Date range, usual return keys) through the network, our archive server
    against DCMTK ``dcmqrscp`` holding the same instances, one association
    each (query time, not association set-up).  Index size: 4,800
    instances (480 studies: dcmqrscp keeps
    at most 500) with ``--benchmark-enable``, 200 in the smoke run.
(b) Ingest over the network: C-STORE to ``dicomfast serve``'s handlers
    (store + index, one unit, fsync on) against the plain Storage SCP
    (``FileStorage``: store only, fsync on), same instances, one
    association each — target >= 0.8x.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

from benchrace import RESULTS, race

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "qr"))

import dicomfast  # noqa: E402
from dicomfast.net import AE  # noqa: E402
from dicomfast.net.services.find import STUDY_ROOT_FIND  # noqa: E402
from qrutil import (  # noqa: E402
    CT,
    MR,
    archive_server,
    dcmtk,
    free_port,
    ident,
    make_instance,
    scu,
    wait_port,
)

ENV = {**os.environ, "TCP_NODELAY": "1"}


def _n(benchmark, full: int, smoke: int) -> int:  # noqa: ANN001
    return smoke if benchmark.disabled else full


def test_cfind_latency_vs_dcmqrscp(benchmark, tmp_path: Path) -> None:  # noqa: ANN001
    tool = dcmtk("dcmqrscp")
    n = _n(benchmark, 4800, 200)
    # dcmqrscp keeps at most 500 studies per storage area (DCMTK's
    # DB_UpperMaxStudies; beyond that it deletes the oldest): 240 patients x 2
    # studies of 10 instances keeps the comparison fair.
    n_patients = max(5, n // 20)
    src = tmp_path / "src"
    src.mkdir()
    files = []
    for i in range(n):
        p = src / f"{i:06d}.dcm"
        dicomfast.write(make_instance(i, n_patients=n_patients, tag="5"), p)
        files.append(p)
    # ours
    server, archive = archive_server(tmp_path / "archive")
    for f in files:
        assert archive.store(f).ok
    # dcmqrscp, loaded over the network with storescu
    qd = tmp_path / "qr"
    (qd / "db").mkdir(parents=True)
    port = free_port()
    cfg = qd / "dcmqrscp.cfg"
    cfg.write_text(
        f"NetworkTCPPort = {port}\nMaxPDUSize = 65536\nMaxAssociations = 16\n"
        "HostTable BEGIN\nHostTable END\nVendorTable BEGIN\nVendorTable END\n"
        f"AETable BEGIN\nQRSCP {qd / 'db'} RW (500, 4096mb) ANY\nAETable END\n"
    )
    proc = subprocess.Popen([tool, "-c", str(cfg)], env=ENV, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        for k in range(0, n, 500):
            r = subprocess.run(
                [dcmtk("storescu"), "-aec", "QRSCP", "127.0.0.1", str(port)]
                + [str(f) for f in files[k : k + 500]],
                env=ENV,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert r.returncode == 0, r.stderr
        q = ident(
            "STUDY",
            # a wildcard that matches a few patients at either index size
            PatientName="SMITH^ANNA*" if benchmark.disabled else "SMITH^ANNA1*",
            StudyDate="20240101-20241231",
            StudyInstanceUID="",
            PatientID="",
            StudyTime="",
            AccessionNumber="",
            StudyDescription="",
        )
        ae = scu(STUDY_ROOT_FIND)
        ours_assoc = ae.associate("127.0.0.1", server.port, ae_title="ARCHIVE")
        theirs_assoc = ae.associate("127.0.0.1", port, ae_title="QRSCP")

        def query(assoc) -> int:  # noqa: ANN001
            got = [d for s, d in assoc.send_c_find(q, "study") if d is not None]
            return len(got)

        expected = query(theirs_assoc)
        assert query(ours_assoc) == expected > 0
        race(
            benchmark,
            f"C-FIND study level over the network, {n} instances ({expected} matches)",
            lambda: query(ours_assoc),
            {"dcmqrscp": lambda: query(theirs_assoc)},
        )
        ours_assoc.release()
        theirs_assoc.release()
    finally:
        proc.terminate()
        proc.wait(10)
        server.shutdown()
        archive.close()


def test_ingest_over_network_store_index_vs_store_only(benchmark, tmp_path: Path) -> None:  # noqa: ANN001
    n = _n(benchmark, 200, 20)
    datasets = [make_instance(i, tag="6") for i in range(n)]
    rounds = itertools.count(1)
    # store + index: the serve handlers (fsync on, as `dicomfast serve` runs)
    from dicomfast.archive import Archive
    from dicomfast.archive.handlers import archive_handlers
    from dicomfast.archive.netstorage import ArchiveStorage
    from dicomfast.cli.serve import archive_ae

    archive = Archive(tmp_path / "archive")
    server = archive_ae("ARCHIVE").start_server(
        ("127.0.0.1", 0),
        block=False,
        evt_handlers=archive_handlers(archive, "ARCHIVE", {}),
        storage=ArchiveStorage(archive),
    )
    # store only: the plain Storage SCP
    plain = AE("STORESCP")
    plain.add_storage_scp_contexts()
    plain_server = plain.start_server(("127.0.0.1", 0), block=False, storage=tmp_path / "files")
    ae = scu(CT, MR)
    a_ours = ae.associate("127.0.0.1", server.port)
    a_theirs = ae.associate("127.0.0.1", plain_server.port)

    def send(assoc) -> None:  # noqa: ANN001
        k = next(rounds)
        for i, ds in enumerate(datasets):
            ds.SOPInstanceUID = f"1.2.826.0.1.3680043.10.999.6.{k}.{i + 1}"
            assert int(assoc.send_c_store(ds)) == 0

    try:
        t0 = time.perf_counter()
        send(a_ours)
        first = time.perf_counter() - t0
        ratios = race(
            benchmark,
            f"C-STORE {n} instances over the network: store+index vs store only",
            lambda: send(a_ours),
            {"store-only": lambda: send(a_theirs)},
            target=0.8,
        )
        if not ratios:
            RESULTS.append(
                f"ingest smoke: {n} instances stored+indexed over the network in {first:.2f} s"
            )
    finally:
        a_ours.release()
        a_theirs.release()
        server.shutdown()
        plain_server.shutdown()
        archive.close()
