"""``dicomfast export --gsdf DISPLAY.lut``: grey images are written as the
calibrated display's driving levels (PS3.14), i.e. the plain export's P-Values
through that display's GSDF table; colour images pass unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dicomfast.cli import main
from dicomfast.pixels.gsdf import apply_gsdf, calibrate
from PIL import Image

pytestmark = pytest.mark.corpus
MONITOR = Path("/usr/share/dcmtk/monitor.lut")


def _export(src: Path, out: Path, *args: str) -> int:
    return main(["export", str(src), "-o", str(out), "--workers", "1", "-q", *args])


@pytest.mark.skipif(not MONITOR.exists(), reason="DCMTK's sample display curve not installed")
def test_gsdf_maps_pvalues_to_driving_levels(corpus: Path, tmp_path: Path) -> None:
    ct = corpus / "public/pydicom/CT_small.dcm"
    assert _export(ct, tmp_path / "plain") == 0
    assert _export(ct, tmp_path / "gsdf", "--gsdf", str(MONITOR)) == 0
    plain = np.asarray(Image.open(tmp_path / "plain" / "CT_small.png"))
    shown = np.asarray(Image.open(tmp_path / "gsdf" / "CT_small.png"))
    expected = apply_gsdf(plain, calibrate(MONITOR), bits=8)
    assert np.array_equal(shown, expected)
    assert not np.array_equal(shown, plain)  # the sample monitor is not already linear in JND
    # the table is monotonic: darker P-Values never show brighter
    order = np.argsort(plain, axis=None, kind="stable")
    assert np.all(np.diff(shown.ravel()[order].astype(int)) >= 0)


def test_bad_display_curve_is_a_usage_error(corpus: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.lut"
    bad.write_text("max 255\nthis is not a curve\n")
    ct = corpus / "public/pydicom/CT_small.dcm"
    assert _export(ct, tmp_path / "out", "--gsdf", str(bad)) == 2
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
