"""8-bit grey JPEG decoding (issue 12) against the peers that write it: DCMTK's
``dcmcjpeg`` (IJG libjpeg: optimised or standard Huffman tables, qualities low to high) and
GDCM's ``gdcmconv --jpeg --lossy`` code grey 8-bit images (synthetic, and a real CT
windowed to 8 bits), DCMTK's ``dcmdjpeg`` decodes them, and our ``pixel_array`` (our entropy
decoder into libjpeg-turbo's IDCT, ``jpeg_dct/grey8.rs``) must give its samples exactly:
both use the integer ("islow") inverse DCT."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import dicomfast
import numpy as np
import pytest
from test_jpegls_peer import _image
from test_roundtrip import make_dataset

pytestmark = pytest.mark.skipif(
    shutil.which("dcmcjpeg") is None or shutil.which("dcmdjpeg") is None,
    reason="DCMTK's dcmcjpeg/dcmdjpeg not installed",
)

CT = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "corpus"
    / "public"
    / "wg04"
    / "REF"
    / "CT1_UNC"
)


def _ct_as_8_bits() -> np.ndarray:
    """WG-04's CT1 (512x512, 16 bits) in a soft-tissue window, as 8-bit samples."""
    hu = dicomfast.read(CT).pixel_array.astype(np.float64) - 1024
    return np.clip(np.rint((hu + 160) * 255 / 400), 0, 255).astype(np.uint8)


ENCODERS = {
    "dcmcjpeg q90 optimised": ["dcmcjpeg", "+eb"],
    "dcmcjpeg q30 optimised": ["dcmcjpeg", "+eb", "+q", "30"],
    "dcmcjpeg q100 optimised": ["dcmcjpeg", "+eb", "+q", "100"],
    "dcmcjpeg q75 standard tables": ["dcmcjpeg", "+eb", "+q", "75", "-ho"],
    "dcmcjpeg extended q95": ["dcmcjpeg", "+ee", "+q", "95"],
    "gdcmconv q75": ["gdcmconv", "--jpeg", "--lossy", "-q", "75"],
}


@pytest.mark.parametrize("image", ["synthetic 64x80", "synthetic 45x71", "CT windowed"])
@pytest.mark.parametrize("encoder", list(ENCODERS))
def test_our_grey_8_bit_jpeg_decoding_matches_dcmtk(
    tmp_path: Path, image: str, encoder: str
) -> None:
    argv = ENCODERS[encoder]
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} not installed")
    if image == "CT windowed":
        if not CT.exists():
            pytest.skip("wg04 files not in the corpus")
        arr = _ct_as_8_bits()
    else:
        rows, cols = (int(v) for v in image.split()[1].split("x"))
        arr = _image((rows, cols), "u1", 8, seed=rows)
    ds = make_dataset(arr, 8)
    src, coded, ref = tmp_path / "s.dcm", tmp_path / "c.dcm", tmp_path / "d.dcm"
    dicomfast.write(ds, src)
    for cmd in ([*argv, str(src), str(coded)], ["dcmdjpeg", str(coded), str(ref)]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, (cmd, r.stderr)
        if not coded.exists() and argv[0] == "gdcmconv":
            # GDCM 3.0's lossy JPEG writes nothing (and exits 0) for some sizes (45x71).
            pytest.skip(f"gdcmconv wrote no file for {image}")
    assert dicomfast.read(coded, stop_before_pixels=True).transfer_syntax in (
        "1.2.840.10008.1.2.4.50",
        "1.2.840.10008.1.2.4.51",
    )
    theirs = dicomfast.read(ref).pixel_array
    ours = dicomfast.read(coded).pixel_array
    assert ours.dtype == theirs.dtype == np.uint8 and ours.shape == theirs.shape == arr.shape
    assert np.array_equal(ours, theirs)
    # Lossy, but near the source: a decoder that went wrong is far from it.
    assert np.abs(ours.astype(np.int16) - arr).mean() < 8
