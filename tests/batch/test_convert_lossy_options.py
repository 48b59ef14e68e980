"""``dicomfast convert``'s options for the lossy syntaxes: --max-error, --ratio,
--quality and --keep-uid reach the encoders, and are refused for a lossless one."""

from __future__ import annotations

import shutil
from pathlib import Path

import dicomfast
import numpy as np
import pytest
from dicomfast.cli import main

pytestmark = pytest.mark.corpus


@pytest.fixture
def ct(corpus: Path, tmp_path: Path) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(corpus / "perf" / "ct512_20" / "unc" / "slice_0000.dcm", src / "a.dcm")
    return src


def _convert(src: Path, out: Path, *args: str) -> int:
    return main(["convert", str(src), "-o", str(out), "--workers", "1", "-q", *args])


def test_max_error_bounds_near_lossless(ct: Path, tmp_path: Path) -> None:
    original = dicomfast.read(ct / "a.dcm").pixel_array.astype(np.int32)
    for near in (1, 6):
        out = tmp_path / f"near{near}"
        assert _convert(ct, out, "-t", "jpeg-ls-near", "--max-error", str(near)) == 0
        got = dicomfast.read(out / "a.dcm")
        err = np.abs(got.pixel_array.astype(np.int32) - original).max()
        assert 0 < err <= near  # lossy, and within the bound asked for
        assert got.LossyImageCompression == "01"


def test_ratio_and_keep_uid(ct: Path, tmp_path: Path) -> None:
    uid = dicomfast.read(ct / "a.dcm").SOPInstanceUID
    sizes = {}
    for ratio in (8, 40):
        out = tmp_path / f"r{ratio}"
        assert _convert(ct, out, "-t", "j2k-lossy", "--ratio", str(ratio), "--keep-uid") == 0
        got = dicomfast.read(out / "a.dcm")
        assert got.SOPInstanceUID == uid  # kept, as asked
        sizes[ratio] = (out / "a.dcm").stat().st_size
    assert sizes[40] < sizes[8] / 2
    out = tmp_path / "newuid"
    assert _convert(ct, out, "-t", "j2k-lossy") == 0
    assert dicomfast.read(out / "a.dcm").SOPInstanceUID != uid


def test_quality_reaches_jpeg(corpus: Path, tmp_path: Path) -> None:
    src = tmp_path / "rgb"
    src.mkdir()
    shutil.copy(corpus / "public" / "wg04" / "REF" / "VL1_UNC", src / "vl.dcm")
    sizes = {}
    for q in (30, 95):
        out = tmp_path / f"q{q}"
        assert _convert(src, out, "-t", "jpeg", "--quality", str(q)) == 0
        sizes[q] = (out / "vl.dcm").stat().st_size
    assert sizes[30] < sizes[95]


def test_lossy_options_refused_for_a_lossless_syntax(ct: Path, tmp_path: Path) -> None:
    assert _convert(ct, tmp_path / "x", "-t", "rle", "--quality", "50") == 2
    assert _convert(ct, tmp_path / "y", "-t", "j2k", "--keep-uid") == 2
