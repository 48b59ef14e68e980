"""The display pipeline (issue 6): dicomfast.pixels.display vs pydicom 3.0.2's
functions of the same names, on the same arrays — the 512×512×20 CT volume, the
3064×2396 14-bit mammogram, the 20-frame RGB ultrasound cine and the 10-frame
palette ultrasound.  Target: >= 5x each.

What the numbers include: dicomfast runs its kernels on all the CPUs it may use
(``get_num_threads()``, printed in each name; pydicom's numpy uses one), and
takes large outputs from its reuse pool, so a repeated call does not pay the page
faults of a fresh array (``set_output_pool``); the "fresh outputs" line shows
the same work with the pool off.  SIGMOID on int16 stored values and on float64
Hounsfield units both go through a table of one exp per distinct value."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import dicomfast
import numpy as np
import pytest
from benchrace import RESULTS, race, time_alternating
from dicomfast.pixels import display as D

pydicom = pytest.importorskip("pydicom")
P = pytest.importorskip("pydicom.pixels.processing")

TARGET = 5.0
THREADS = f"{D.get_num_threads()} threads"


def _both(pd: pydicom.Dataset) -> tuple[pydicom.Dataset, dicomfast.Dataset]:
    buf = io.BytesIO()
    pd.save_as(buf)
    return pd, dicomfast.read(buf.getvalue())


@contextlib.contextmanager
def _with(pd: pydicom.Dataset, ours: dicomfast.Dataset, **attrs: str) -> Iterator[None]:
    """Set ``attrs`` on both data sets for the block, then remove them again."""
    for k, v in attrs.items():
        setattr(pd, k, v)
        setattr(ours, k, v)
    try:
        yield
    finally:
        for k in attrs:
            delattr(pd, k)
            delattr(ours, k)


@pytest.fixture(scope="module")
def ct(corpus: Path) -> tuple[np.ndarray, pydicom.Dataset, dicomfast.Dataset]:
    files = sorted((corpus / "perf/ct512_20/unc").glob("*.dcm"))
    vol = np.stack([dicomfast.read(p).pixel_array for p in files])
    pd = pydicom.dcmread(files[0], stop_before_pixels=True)
    pd.WindowCenter, pd.WindowWidth = 40.0, 400.0
    pd, ours = _both(pd)
    return vol, pd, ours


@pytest.fixture(scope="module")
def mammo(corpus: Path) -> tuple[np.ndarray, pydicom.Dataset, dicomfast.Dataset]:
    path = next((corpus / "perf/mammo/unc").glob("*.dcm"))
    arr = dicomfast.read(path).pixel_array
    pd = pydicom.dcmread(path, stop_before_pixels=True)
    rng = np.random.default_rng(6)
    item = pydicom.Dataset()
    item.LUTDescriptor = [16384, 0, 16]
    item.add_new(0x00283006, "US", np.sort(rng.integers(0, 65536, 16384)).tolist())
    pd.VOILUTSequence = [item]
    pd.PresentationLUTShape = "INVERSE"
    pd, ours = _both(pd)
    return arr, pd, ours


def test_windowing_ct(benchmark, ct) -> None:  # noqa: ANN001
    vol, pd, ours = ct
    hu = P.apply_modality_lut(vol, pd)
    race(
        benchmark,
        f"apply_windowing LINEAR (CT 20x512x512 float64, {THREADS})",
        lambda: D.apply_windowing(hu, ours),
        {"pydicom": lambda: P.apply_windowing(hu, pd)},
        nbytes=hu.nbytes,
        target=TARGET,
    )


def test_windowing_sigmoid_ct(benchmark, ct) -> None:  # noqa: ANN001
    vol, pd, ours = ct
    with _with(pd, ours, VOILUTFunction="SIGMOID"):
        race(
            benchmark,
            f"apply_windowing SIGMOID (CT 20x512x512 int16, {THREADS})",
            lambda: D.apply_windowing(vol, ours),
            {"pydicom": lambda: P.apply_windowing(vol, pd)},
            nbytes=vol.nbytes,
            target=TARGET,
        )


def test_windowing_sigmoid_hu_ct(benchmark, ct) -> None:  # noqa: ANN001
    # SIGMOID after the Modality LUT, as pydicom users chain it: float64 input
    vol, pd, ours = ct
    hu = P.apply_modality_lut(vol, pd)
    with _with(pd, ours, VOILUTFunction="SIGMOID"):
        race(
            benchmark,
            f"apply_windowing SIGMOID (CT 20x512x512 float64 HU, {THREADS})",
            lambda: D.apply_windowing(hu, ours),
            {"pydicom": lambda: P.apply_windowing(hu, pd)},
            nbytes=hu.nbytes,
            target=TARGET,
        )


def test_modality_then_voi_ct(benchmark, ct) -> None:  # noqa: ANN001
    vol, pd, ours = ct
    race(
        benchmark,
        f"apply_modality_lut + apply_voi_lut (CT 20x512x512 int16, {THREADS})",
        lambda: D.apply_voi_lut(D.apply_modality_lut(vol, ours), ours),
        {"pydicom": lambda: P.apply_voi_lut(P.apply_modality_lut(vol, pd), pd)},
        nbytes=vol.nbytes,
        target=TARGET,
    )


def test_modality_then_voi_ct_fresh_outputs(benchmark, ct) -> None:  # noqa: ANN001
    # the same without the output pool: every call maps and zeroes 2 x 42 MB anew
    vol, pd, ours = ct
    previous = D.set_output_pool(0)
    try:
        race(
            benchmark,
            f"apply_modality_lut + apply_voi_lut (CT int16, {THREADS}, fresh outputs)",
            lambda: D.apply_voi_lut(D.apply_modality_lut(vol, ours), ours),
            {"pydicom": lambda: P.apply_voi_lut(P.apply_modality_lut(vol, pd), pd)},
            nbytes=vol.nbytes,
        )
    finally:
        D.set_output_pool(previous)


def test_voi_lut_sequence_mammo(benchmark, mammo) -> None:  # noqa: ANN001
    arr, pd, ours = mammo
    race(
        benchmark,
        f"apply_voi_lut VOI LUT Sequence (mammo 3064x2396 uint16, {THREADS})",
        lambda: D.apply_voi_lut(arr, ours),
        {"pydicom": lambda: P.apply_voi_lut(arr, pd)},
        nbytes=arr.nbytes,
        target=TARGET,
    )


def _race_inverse(benchmark, name: str, arr: np.ndarray, pd, ours) -> None:  # noqa: ANN001
    """INVERSE is one subtraction per pixel: bound by memory (or cache) bandwidth.
    Beside the race, the floor any INVERSE must pay: a plain copy of the array into
    a kept output (one read, one write, no maximum).  pydicom's time over that floor
    is the best ratio any implementation could reach on this machine."""
    kept = np.empty_like(arr)
    ratios = race(
        benchmark,
        name,
        lambda: D.apply_presentation_lut(arr, ours),
        {"pydicom": lambda: P.apply_presentation_lut(arr, pd)},
        nbytes=arr.nbytes,
    )
    if ratios:
        floor, theirs = time_alternating(
            lambda: np.copyto(kept, arr), lambda: P.apply_presentation_lut(arr, pd)
        )
        RESULTS.append(
            f"  -> memory floor (np.copyto into a kept array) {floor * 1e3:.3f} ms: "
            f"no INVERSE can beat pydicom by more than {theirs / floor:.1f}x on this input"
        )


def test_presentation_inverse_mammo(benchmark, mammo) -> None:  # noqa: ANN001
    arr, pd, ours = mammo
    _race_inverse(
        benchmark, f"apply_presentation_lut INVERSE (mammo uint16, {THREADS})", arr, pd, ours
    )


def test_presentation_inverse_frame(benchmark, ct) -> None:  # noqa: ANN001
    # What `export` runs: one frame at a time (a 512x512 CT slice, cache-resident).
    vol, pd, ours = ct
    with _with(pd, ours, PresentationLUTShape="INVERSE"):
        _race_inverse(
            benchmark,
            "apply_presentation_lut INVERSE (one CT frame 512x512 int16)",
            np.ascontiguousarray(vol[10]),
            pd,
            ours,
        )


def test_color_lut_palette(benchmark, corpus: Path) -> None:  # noqa: ANN001
    path = corpus / "public/mothership/US-PAL-8-10x-echo.dcm"
    pd, ours = pydicom.dcmread(path), dicomfast.read(path)
    arr = ours.pixel_array
    race(
        benchmark,
        f"apply_color_lut (US palette 10x430x600, {THREADS})",
        lambda: D.apply_color_lut(arr, ours),
        {"pydicom": lambda: P.apply_color_lut(arr, pd)},
        nbytes=arr.nbytes,
        target=TARGET,
    )


def test_ybr_to_rgb_cine(benchmark, corpus: Path) -> None:  # noqa: ANN001
    path = next((corpus / "perf/us_cine/unc").glob("*.dcm"))
    arr = dicomfast.read(path).pixel_array
    race(
        benchmark,
        f"convert_color_space YBR_FULL->RGB (US cine 20x480x640x3, {THREADS})",
        lambda: D.convert_color_space(arr, "YBR_FULL", "RGB"),
        {"pydicom": lambda: P.convert_color_space(arr, "YBR_FULL", "RGB")},
        nbytes=arr.nbytes,
        target=TARGET,
    )
