"""``dicomfast.pixels.apply_modality_lut`` (Cython kernel) against pydicom's function."""

from __future__ import annotations

import dicomfast
import numpy as np
import pytest
from corpus_data import corpus_path
from dicomfast.pixels import apply_modality_lut

pydicom = pytest.importorskip("pydicom")
from pydicom.pixels import apply_modality_lut as reference  # noqa: E402


def _pair(**attrs):  # noqa: ANN003, ANN202
    ours, theirs = dicomfast.Dataset(), pydicom.Dataset()
    for k, v in attrs.items():
        setattr(ours, k, v)
        setattr(theirs, k, v)
    return ours, theirs


@pytest.mark.parametrize("dtype", ["u1", "i1", "<u2", "<i2", "<u4", "<i4", "<f4", "<f8", ">i2"])
@pytest.mark.parametrize("slope,intercept", [(1.0, -1024.0), (0.5, 3.25), (2.0, 0.0)])
def test_rescale_matches_pydicom(dtype: str, slope: float, intercept: float) -> None:
    rng = np.random.default_rng(7)
    arr = rng.integers(-100, 200, size=(3, 17, 19)).astype(dtype)
    ours, theirs = _pair(RescaleSlope=slope, RescaleIntercept=intercept)
    got = apply_modality_lut(arr, ours)
    want = reference(arr, theirs)
    assert got.dtype == want.dtype == np.float64
    assert got.shape == arr.shape
    assert np.array_equal(got, want)


@pytest.mark.parametrize("bits,first,entries", [(16, -50, 300), (8, 10, 40), (16, 0, 0)])
def test_lut_sequence_matches_pydicom(bits: int, first: int, entries: int) -> None:
    n = entries or 65536
    table = (np.arange(n) * 3 % (1 << bits)).astype("<u2" if bits == 16 else "u1")
    arr = np.random.default_rng(1).integers(-200, 600, size=(64, 65)).astype("<i2")
    results = []
    for toolkit in (dicomfast, pydicom):
        item = toolkit.Dataset()
        item.LUTDescriptor = [entries, first, bits]
        item.ModalityLUTType = "HU"
        item.add_new(0x00283006, "US", table.tolist())
        ds = toolkit.Dataset()
        ds.ModalityLUTSequence = [item]
        results.append(ds)
    got = apply_modality_lut(arr, results[0])
    want = reference(arr, results[1])
    assert got.dtype == want.dtype and np.array_equal(got, want)


def test_without_a_modality_lut_the_array_is_returned() -> None:
    arr = np.arange(6, dtype="<u2")
    assert apply_modality_lut(arr, dicomfast.Dataset()) is arr


@pytest.mark.corpus
def test_real_ct_with_rescale(ct_small) -> None:  # noqa: ANN001
    ds = dicomfast.read(ct_small)
    theirs = pydicom.dcmread(ct_small)
    arr = theirs.pixel_array
    assert np.array_equal(apply_modality_lut(arr, ds), reference(arr, theirs))
    path = corpus_path("public/pydicom-data/mlut_18.dcm")
    if path.exists():
        ours, theirs = dicomfast.read(path), pydicom.dcmread(path)
        arr = theirs.pixel_array
        got, want = apply_modality_lut(arr, ours), reference(arr, theirs)
        assert got.dtype == want.dtype and np.array_equal(got, want)
