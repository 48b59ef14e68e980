"""JPEG-LS decoding (issue 12) against DCMTK: ``dcmcjpls`` (DCMTK's own JPEG-LS coder)
encodes images with each of its options (lossless and near-lossless, line, sample and no
interleaving, its own thresholds and RESET, raw and cooked modes), ``dcmdjpls`` decodes
them, and our ``pixel_array`` must give its samples exactly. Our Rust decoder takes every
one of these but the sample-interleaved, which CharLS decodes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import dicomfast
import numpy as np
import pytest
from test_roundtrip import make_dataset

pytestmark = pytest.mark.skipif(
    shutil.which("dcmcjpls") is None or shutil.which("dcmdjpls") is None,
    reason="DCMTK's dcmcjpls/dcmdjpls not installed",
)


def _image(shape: tuple[int, ...], dtype: str, bits: int, seed: int) -> np.ndarray:
    """A CT-like picture: a flat background (runs), a smooth disc with noise (the regular
    mode), and a few sharp edges, within ``bits`` bits of ``dtype``."""
    rng = np.random.default_rng(seed)
    rows, cols = shape[-3:-1] if len(shape) > 2 and shape[-1] == 3 else shape[-2:]
    y, x = np.mgrid[0:rows, 0:cols]
    r = np.hypot(y - rows / 2, x - cols / 2)
    dt = np.dtype(dtype)
    lo = -(1 << (bits - 1)) if dt.kind == "i" else 0
    hi = (1 << (bits - 1)) - 1 if dt.kind == "i" else (1 << bits) - 1
    span = hi - lo
    disc = lo + span * (0.3 + 0.4 * np.cos(x / 9.0) * np.sin(y / 13.0) ** 2)
    img = np.where(r < min(rows, cols) / 2.5, disc, lo + span // 10)
    noisy = img + rng.normal(0, max(1.0, span / 400), size=img.shape) * (r < min(rows, cols) / 2.5)
    img = np.clip(np.rint(noisy), lo, hi)
    img[rows // 3, :] = hi  # a sharp line
    out = np.broadcast_to(img[..., None] if len(shape) > 2 and shape[-1] == 3 else img, shape)
    if len(shape) > 2 and shape[-1] == 3:
        out = out + np.arange(3) * (span // 7)
        out = np.clip(out, lo, hi)
    if len(shape) == 3 and shape[-1] != 3:  # frames
        out = np.stack([np.roll(img, k * 3, axis=1) for k in range(shape[0])])
    return np.ascontiguousarray(out).astype(dt)


CASES = [
    # (shape, dtype, bits stored, dcmcjpls options)
    ((64, 80), "<i2", 12, []),
    # cooked mode: unsigned only (DCMTK 3.6.7 asserts on signed samples)
    ((64, 80), "<u2", 12, ["+pc"]),
    ((64, 80), "<i2", 12, ["+t1", "5", "+t2", "20", "+t3", "90"]),
    ((64, 80), "<i2", 12, ["+rs", "32"]),
    ((64, 80), "<u2", 12, ["+en", "+md", "1"]),  # DCMTK codes signed only losslessly
    ((64, 80), "<u2", 12, ["+en", "+md", "5"]),
    ((50, 61), "<u2", 16, []),
    ((50, 61), "<u2", 16, ["+en", "+md", "3"]),
    ((50, 61), "<u2", 10, ["+t1", "4", "+t2", "9", "+t3", "30", "+rs", "100"]),
    ((3, 40, 44), "<u2", 12, []),
    ((45, 70), "u1", 8, []),
    ((45, 70), "u1", 8, ["+en", "+md", "2"]),
    ((45, 70), "u1", 6, []),
    ((30, 42, 3), "u1", 8, ["+il"]),
    ((30, 42, 3), "u1", 8, ["+in"]),
    ((30, 42, 3), "u1", 8, ["+is"]),
    ((30, 42, 3), "u1", 8, ["+il", "+en", "+md", "2"]),
    ((30, 42, 3), "u1", 8, ["+in", "+en", "+md", "1"]),
    # 6 and 7 bits at their own precision (cooked mode, or near-lossless): DCMTK 3.6.7's
    # CharLS 1.x codes them with its own default thresholds (T.87's formula for MAXVAL
    # >= 128 at every MAXVAL; CharLS issue 51) and no LSE marker. T.87's defaults find
    # them damaged; our decoder then takes CharLS 1.x's if they decode the scan to its
    # last bit (found by random runs against dcmcjpls, 2026-12-08: CharLS 2 refuses them).
    ((45, 70), "u1", 7, ["+pc"]),
    ((45, 70), "u1", 6, ["+pc"]),
    ((45, 70), "u1", 7, ["+en", "+md", "2"]),
    ((45, 70), "u1", 6, ["+en", "+md", "1"]),
    ((30, 42, 3), "u1", 7, ["+is", "+pc"]),
    ((30, 42, 3), "u1", 6, ["+il", "+en", "+md", "3"]),
]


@pytest.mark.parametrize(("shape", "dtype", "bits", "options"), CASES)
def test_our_jpeg_ls_decoding_matches_dcmtk(
    tmp_path: Path, shape: tuple[int, ...], dtype: str, bits: int, options: list[str]
) -> None:
    arr = _image(shape, dtype, bits, seed=len(options) + bits)
    rgb = len(shape) == 3 and shape[-1] == 3
    ds = make_dataset(arr, bits, "RGB" if rgb else None)
    src, coded, ref = tmp_path / "s.dcm", tmp_path / "c.dcm", tmp_path / "d.dcm"
    dicomfast.write(ds, src)
    for cmd in (["dcmcjpls", *options, str(src), str(coded)], ["dcmdjpls", str(coded), str(ref)]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, (cmd, r.stderr)
    theirs = dicomfast.read(ref).pixel_array
    ours = dicomfast.read(coded).pixel_array
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape == arr.shape
    assert np.array_equal(ours, theirs)
    near = int(options[options.index("+md") + 1]) if "+md" in options else 0
    err = np.abs(ours.astype(np.int64) - arr.astype(np.int64)).max()
    assert err <= near
    if near == 0:
        assert np.array_equal(ours, arr)


@pytest.mark.parametrize(
    ("shape", "bits", "near"), [((45, 70), 7, 2), ((45, 70), 6, 1), ((30, 42, 3), 7, 4)]
)
def test_dcmtk_reads_our_near_lossless_streams_of_6_and_7_bits(
    tmp_path: Path, shape: tuple[int, ...], bits: int, near: int
) -> None:
    """Our near-lossless streams keep the precision Bits Stored gives; below 8 bits they
    carry the default thresholds in an LSE marker, as above 12, so that DCMTK's CharLS
    1.x (which computes other defaults there) reads them: it refused them before."""
    arr = _image(shape, "u1", bits, seed=bits + near)
    rgb = len(shape) == 3
    ds = make_dataset(arr, bits, "RGB" if rgb else None).compress("jpeg-ls-near", max_error=near)
    coded, ref = tmp_path / "c.dcm", tmp_path / "d.dcm"
    dicomfast.write(ds, coded)
    r = subprocess.run(["dcmdjpls", str(coded), str(ref)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    ours = dicomfast.read(coded).pixel_array
    assert np.array_equal(dicomfast.read(ref).pixel_array, ours)
    assert np.abs(ours.astype(int) - arr.astype(int)).max() <= near
