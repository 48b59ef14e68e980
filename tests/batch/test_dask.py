"""``--scheduler tcp://…``: the same convert job on a Dask distributed cluster
(a LocalCluster on loopback here)."""

from __future__ import annotations

import json
from pathlib import Path

import dicomfast
import numpy as np
import pytest
from dicomfast.cli import main

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.corpus


def test_convert_on_dask_cluster(inputs: Path, tmp_path: Path) -> None:
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        report = tmp_path / "r.json"
        rc = main(
            [
                "convert",
                str(inputs),
                "-o",
                str(tmp_path / "o"),
                "-t",
                "rle",
                "--verify",
                "--scheduler",
                cluster.scheduler_address,
                "--report",
                str(report),
                "-q",
            ]
        )
        assert rc == 0
        recs = [json.loads(x) for x in report.read_text().splitlines()]
        assert sorted(r["status"] for r in recs) == ["converted"] * 3
        for r in recs:
            np.testing.assert_array_equal(
                dicomfast.read(r["dst"]).pixel_array, dicomfast.read(r["src"]).pixel_array
            )
        # resumable there too
        rc = main(
            [
                "convert",
                str(inputs),
                "-o",
                str(tmp_path / "o"),
                "-t",
                "rle",
                "--scheduler",
                cluster.scheduler_address,
                "--report",
                str(report),
                "-q",
            ]
        )
        assert rc == 0
        assert {json.loads(x)["status"] for x in report.read_text().splitlines()} == {"skipped"}
