"""``dicomfast export``: images match what pydicom's pixel_array and display
functions give; 16-bit outputs; stacks sorted along the slice normal."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from dicomfast.cli import main
from PIL import Image
from pydicom.pixels import processing as P

pytestmark = pytest.mark.corpus


def _export(srcs: list[Path], out: Path, *args: str) -> int:
    return main(["export", *map(str, srcs), "-o", str(out), "--workers", "1", "-q", *args])


def _y_range(ds: pydicom.Dataset) -> tuple[float, float]:
    """The windowing output range PS3.3 C.11.2.1.2 gives for ``ds``."""
    bs = ds.BitsStored
    lo, hi = (
        (0, 2**bs - 1) if ds.PixelRepresentation == 0 else (-(2 ** (bs - 1)), 2 ** (bs - 1) - 1)
    )
    if "RescaleSlope" in ds:
        lo, hi = (
            lo * ds.RescaleSlope + ds.RescaleIntercept,
            hi * ds.RescaleSlope + ds.RescaleIntercept,
        )
    return float(lo), float(hi)


def _scale(v: np.ndarray, lo: float, hi: float, bits: int) -> np.ndarray:
    top = 2**bits - 1
    return np.clip(np.rint((v - lo) * (top / (hi - lo))), 0, top)


def _expected_grey(
    path: Path, bits: int = 8, window: tuple[float, float] | None = None
) -> np.ndarray:
    ds = pydicom.dcmread(path)
    m = P.apply_modality_lut(ds.pixel_array, ds)
    if window:
        ds.WindowCenter, ds.WindowWidth = window
        ds.VOILUTFunction = "LINEAR"
    if "WindowCenter" in ds:
        lo, hi = _y_range(ds)
        want = _scale(P.apply_voi_lut(m, ds), lo, hi, bits)
    else:
        want = _scale(m, float(m.min()), float(m.max()), bits)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        want = (2**bits - 1) - want
    return want


def test_png_grey_window_and_override(corpus: Path, tmp_path: Path) -> None:
    ct = corpus / "public/pydicom/CT_small.dcm"
    assert _export([ct], tmp_path / "a", "--format", "png") == 0
    got = np.asarray(Image.open(tmp_path / "a" / "CT_small.png"))
    np.testing.assert_array_equal(got, _expected_grey(ct))
    assert (
        _export([ct], tmp_path / "b", "--format", "png", "--window", "40,400", "--bits", "16") == 0
    )
    got = np.asarray(Image.open(tmp_path / "b" / "CT_small.png"))
    assert got.dtype == np.uint16 or got.dtype == np.int32
    np.testing.assert_array_equal(got, _expected_grey(ct, 16, (40.0, 400.0)))


def test_monochrome1_inverted(corpus: Path, tmp_path: Path) -> None:
    cr = corpus / "public/pydicom/dicomdirtests/77654033/CR1/6154"
    assert _export([cr], tmp_path, "--format", "png") == 0
    got = np.asarray(Image.open(tmp_path / "6154.png"))
    np.testing.assert_array_equal(got, _expected_grey(cr))


def test_palette_and_ybr_to_rgb(corpus: Path, tmp_path: Path) -> None:
    pal = corpus / "public/mothership/US-PAL-8-10x-echo.dcm"
    ybr = corpus / "public/pydicom/SC_ybr_full_422_uncompressed.dcm"
    assert _export([pal, ybr], tmp_path, "--format", "png") == 0
    ds = pydicom.dcmread(pal)
    rgb = P.apply_color_lut(ds.pixel_array, ds)
    frames = sorted(tmp_path.glob("US-PAL-8-10x-echo_*.png"))
    assert len(frames) == 10
    for i in (0, 9):
        np.testing.assert_array_equal(np.asarray(Image.open(frames[i])), rgb[i] >> 8)
    want = pydicom.dcmread(ybr).pixel_array  # pydicom converts YBR to RGB by default
    np.testing.assert_array_equal(
        np.asarray(Image.open(tmp_path / "SC_ybr_full_422_uncompressed.png")), want
    )


def test_tiff_jpeg_npy(corpus: Path, tmp_path: Path) -> None:
    import tifffile

    ct = corpus / "public/pydicom/CT_small.dcm"
    rgb16 = corpus / "public/pydicom/SC_rgb_rle_16bit_2frame.dcm"
    assert _export([ct, rgb16], tmp_path / "t", "--format", "tiff", "--bits", "16") == 0
    np.testing.assert_array_equal(
        tifffile.imread(tmp_path / "t" / "CT_small.tif"), _expected_grey(ct, 16)
    )
    t = tifffile.imread(tmp_path / "t" / "SC_rgb_rle_16bit_2frame_0001.tif")
    np.testing.assert_array_equal(t, pydicom.dcmread(rgb16).pixel_array[1])
    assert _export([ct], tmp_path / "j", "--format", "jpeg") == 0
    j = np.asarray(Image.open(tmp_path / "j" / "CT_small.jpg")).astype(float)
    assert np.abs(j - _expected_grey(ct)).mean() < 2.0
    assert _export([ct], tmp_path / "n", "--format", "npy", "--values", "modality") == 0
    ds = pydicom.dcmread(ct)
    np.testing.assert_array_equal(
        np.load(tmp_path / "n" / "CT_small.npy"), P.apply_modality_lut(ds.pixel_array, ds)
    )
    assert _export([ct], tmp_path / "j", "--format", "jpeg", "--bits", "16") == 2


def test_stack_sorted_along_normal(corpus: Path, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    slices = sorted((corpus / "perf/ct512_20/unc").glob("*.dcm"))[:6]
    for i, p in enumerate(slices):  # names in the reverse of the spatial order
        shutil.copyfile(p, src / f"s{len(slices) - i}.dcm")
    out = tmp_path / "o"
    assert _export([src], out, "--format", "npy", "--stack", "--values", "modality") == 0
    (vol,) = out.glob("*.npy")
    side = json.loads(vol.with_suffix(".json").read_text())
    arr = np.load(vol)
    assert arr.shape == (6, 512, 512) and side["shape"] == [6, 512, 512]
    z = side["positions_along_normal"]
    assert z == sorted(z)
    ds = [pydicom.dcmread(p) for p in slices]
    ds.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    for k in (0, 5):
        np.testing.assert_array_equal(arr[k], P.apply_modality_lut(ds[k].pixel_array, ds[k]))
    assert side["spacing"][0] == pytest.approx(abs(z[1] - z[0]))
    assert side["spacing"][1:] == [float(v) for v in ds[0].PixelSpacing]


def test_export_resume_and_failure(corpus: Path, tmp_path: Path) -> None:
    ct = corpus / "public/pydicom/CT_small.dcm"
    bad = corpus / "public/broken/CT1_RLE_bad_segment_offset.dcm"
    report = tmp_path / "r.json"
    assert _export([ct, bad], tmp_path / "o", "--copy-failed", "--report", str(report)) == 1
    assert _export([ct], tmp_path / "o", "--report", str(report)) == 0
    assert json.loads(report.read_text())["status"] == "skipped"
    assert (tmp_path / "o" / "_failed" / bad.name).exists()


def test_non_images_skipped_bad_frame_count_named(corpus: Path, tmp_path: Path) -> None:
    """A folder of mixed objects: a structured report or plan has nothing to
    export and is skipped (exit 0), not failed; a bad Number of Frames fails
    with the element named, not a bare int() error."""
    report = tmp_path / "r.json"
    plan = corpus / "public/pydicom/rtplan.dcm"
    assert _export([plan], tmp_path / "o", "--report", str(report)) == 0
    (rec,) = [json.loads(x) for x in report.read_text().splitlines()]
    assert rec["status"] == "skipped" and rec["reason"].startswith("no pixel data")
    bad = corpus / "public/pydicom/badVR.dcm"
    assert _export([bad], tmp_path / "o2", "--report", str(report)) == 1
    (rec,) = [json.loads(x) for x in report.read_text().splitlines()]
    assert rec["reason"].startswith("PixelDataError: NumberOfFrames")


def test_empty_rescale_window_and_modality_lut_item(corpus: Path, tmp_path: Path) -> None:
    """A real file with empty Rescale Slope/Intercept and Window Center/Width and a
    Modality LUT Sequence item without descriptor or data (pydicom 3.0.2 raises
    TypeError on it): exported as if those were absent (stored values scaled
    over their range)."""
    src = corpus / "public/pylibjpeg-data/JPEGLosslessP14SV1_1s_1f_u_16_16.dcm"
    ds = pydicom.dcmread(src)
    assert ds.RescaleSlope is None and ds.ModalityLUTSequence[0].LUTDescriptor is None
    assert _export([src], tmp_path / "o", "--format", "npy") == 0
    got = np.load(tmp_path / "o" / (src.stem + ".npy"))
    arr = ds.pixel_array.astype(np.float64)
    np.testing.assert_array_equal(got, _scale(arr, arr.min(), arr.max(), 8).astype(got.dtype))


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"bits": 16},
        {"window": (40.0, 400.0)},
        {"window": (0.0, 1.0), "bits": 16},
        {"voi_index": 1},
    ],
)
def test_grey_table_equals_pixel_by_pixel(corpus: Path, options: dict) -> None:
    """The display pipeline through a table of every stored value gives exactly what it
    gives pixel by pixel (or the same error), on every grey integer image of the corpus;
    frames too small for a table (or with a range from their own pixels) are tried
    enlarged."""
    import dicomfast
    from dicomfast.batch import export

    manifest = json.loads((corpus / "manifest.json").read_text())
    tabled = 0
    for entry in manifest["files"]:
        pi = entry.get("photometric_interpretation")
        if pi not in ("MONOCHROME1", "MONOCHROME2") or (entry.get("bits_allocated") or 0) > 16:
            continue
        try:
            ds = dicomfast.read(corpus / entry["path"])
            arr = ds.pixel_array
        except Exception:  # noqa: BLE001 - damaged inputs have tests of their own
            continue
        frame = arr[0] if arr.ndim == 3 else arr
        if frame.size < 2 << (8 * frame.dtype.itemsize):  # tile it up to a table's worth
            reps = -(-(2 << (8 * frame.dtype.itemsize)) // frame.size)
            frame = np.tile(frame, (reps, 1))
        args = (options.get("bits", 8), options.get("window"), options.get("voi_index", 0))
        results = []
        for fn in (export.display_frame, export._display_pixels):
            try:
                results.append(
                    fn(frame, ds, *args)
                    if fn is export._display_pixels
                    else fn(frame, ds, **options)
                )
            except Exception as e:  # noqa: BLE001 - the same error both ways
                results.append(type(e))
        got, want = results
        if isinstance(want, np.ndarray):
            assert isinstance(got, np.ndarray) and got.dtype == want.dtype, entry["path"]
            assert np.array_equal(got, want), entry["path"]
        else:
            assert got is want, entry["path"]
        tabled += export._grey_table(frame, ds, *args) is not None
    assert tabled >= 10


def test_grey_tables_are_reused_only_for_the_same_display_attributes(corpus: Path) -> None:
    """Slices of a series share one table; a slice whose window, rescale or sign
    differs gets its own (each equal to the pixel-by-pixel result)."""
    import dicomfast
    from dicomfast.batch import export

    path = next((corpus / "perf" / "ct512_20" / "unc").glob("*.dcm"))
    base = dicomfast.read(path)
    frame = base.pixel_array
    export._tables.clear()
    variants = [{}, {"WindowCenter": 400}, {"WindowWidth": 80}, {"RescaleIntercept": 0}]
    tables = []
    for change in variants:
        ds = dicomfast.read(path)
        for k, v in change.items():
            setattr(ds, k, v)
        got = export.display_frame(frame, ds)
        assert np.array_equal(got, export._display_pixels(frame, ds, 8, None, 0)), change
        tables.append(export._grey_table(frame, ds, 8, None, 0))
    again = export._grey_table(frame, dicomfast.read(path), 8, None, 0)
    assert again is tables[0]  # the same attributes: the same table
    assert len({id(t) for t in tables}) == len(variants)
    assert not tables[0].flags.writeable


def test_frames_through_reused_buffers_on_threads(corpus: Path, tmp_path: Path) -> None:
    """``export`` decodes each frame, and makes its image, in one thread's reused memory,
    files side by side on threads: a grey multi-frame file (every frame through the
    table path) and single-frame slices, on two workers, give the images each frame gives
    alone through ``display_frame``."""
    import dicomfast
    from dicomfast.batch import export

    ct = sorted((corpus / "perf" / "ct512_20" / "rle").glob("*.dcm"))[:6]
    src = tmp_path / "in"
    src.mkdir()
    # one file of three different frames (a table's worth of pixels each), native
    frames = np.stack([dicomfast.read(p).pixel_array for p in ct[:3]])
    multi = dicomfast.read(ct[0])
    multi.decompress()
    multi.NumberOfFrames = 3
    multi.PixelData = frames.tobytes()
    multi.save_as(src / "multi.dcm")
    for p in ct[3:]:
        shutil.copy(p, src / p.name)
    out = tmp_path / "o"
    rc = main(["export", str(src), "-o", str(out), "--workers", "2", "-q"])
    assert rc == 0
    ds = dicomfast.read(src / "multi.dcm")
    for i in range(3):
        want = export.display_frame(frames[i], ds)
        assert export._grey_table(frames[i], ds, 8, None, 0) is not None
        got = np.asarray(Image.open(out / f"multi_{i:04d}.png"))
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(frames[0], frames[1])
    for p in ct[3:]:
        ds = dicomfast.read(p)
        got = np.asarray(Image.open(out / (p.stem + ".png")))
        np.testing.assert_array_equal(got, export.display_frame(ds.pixel_array, ds))
