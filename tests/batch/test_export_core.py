"""``dicomfast export`` to PNG by the core (``batch.export_core``, crate
``dicomfast-export``) against the Python path (``batch.export.export_file``): the same
display tables, the same pictures byte for byte, the same records, and every file the
core does not take (or fails on) given to the Python path."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import dicomfast
import numpy as np
import pytest
from core_parity import (
    assert_same,
    both,
    comparable,
    corpus_sources,
    report_records,
    slices_and_a_damaged_one,
    tree,
)
from dicomfast import _core
from dicomfast.batch import export, export_core
from dicomfast.batch.export_options import ExportOptions
from dicomfast.batch.sources import Source
from dicomfast.cli import main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CT = "perf/ct512_20/rle"


def _python_table(
    ds: Any, nbytes: int, signed: bool, bits: int, window: tuple[float, float] | None
) -> np.ndarray | type:
    """The Python pipeline's output for every stored value (as ``_grey_table`` makes
    it), or the type of the error it raises."""
    dtype = np.dtype(f"{'i' if signed else 'u'}{nbytes}")
    domain = np.arange(1 << (8 * nbytes), dtype=f"u{nbytes}").view(dtype).reshape(1, -1)
    try:
        return export._display_pixels(domain, ds, bits, window, 0)[0]
    except Exception as e:  # noqa: BLE001 - compared with the core's refusal
        return type(e)


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    nbytes=st.sampled_from([1, 2]),
    signed=st.booleans(),
    stored=st.integers(1, 16),
    rescale=st.none()
    | st.tuples(
        st.one_of(st.sampled_from([1.0, 0.5, -1.0, 0.0]), finite.filter(lambda x: abs(x) < 1e3)),
        st.one_of(st.sampled_from([0.0, -1024.0, 0.5]), finite.filter(lambda x: abs(x) < 1e6)),
    ),
    center=st.one_of(st.sampled_from([40.0, 0.5, -600.0]), finite.filter(lambda x: abs(x) < 1e6)),
    width=st.one_of(st.sampled_from([1.0, 0.5, 400.0, 1.5, 0.0]), st.floats(0, 1e6)),
    exact=st.booleans(),
    user=st.booleans(),
    mono1=st.booleans(),
    bits=st.sampled_from([8, 16]),
)
def test_grey_tables_are_the_python_pipelines(
    nbytes: int,
    signed: bool,
    stored: int,
    rescale: tuple[float, float] | None,
    center: float,
    width: float,
    exact: bool,
    user: bool,
    mono1: bool,
    bits: int,
) -> None:
    """``_core.grey_table`` (the core's table) equals the Python display pipeline's
    output for every stored value, bit for bit, or is None exactly where it raises."""
    stored = min(stored, 8 * nbytes)
    ds = dicomfast.Dataset()
    ds.PhotometricInterpretation = "MONOCHROME1" if mono1 else "MONOCHROME2"
    ds.BitsStored = stored
    ds.PixelRepresentation = int(signed)
    if rescale is not None:
        ds.RescaleSlope, ds.RescaleIntercept = rescale
    if not user:
        ds.WindowCenter, ds.WindowWidth = center, width
        if exact:
            ds.VOILUTFunction = "LINEAR_EXACT"
    window = (center, width) if user else None
    want = _python_table(ds, nbytes, signed, bits, window)
    got = _core.grey_table(nbytes, signed, stored, rescale, center, width, exact, user, mono1, bits)
    if isinstance(want, type):
        assert got is None, want
        return
    assert got is not None
    table = np.frombuffer(got, np.uint8 if bits == 8 else np.uint16)
    assert want.dtype == table.dtype
    np.testing.assert_array_equal(table, want)


def _sources(folder: Path) -> list[Source]:
    return [
        Source(str(p), str(p.relative_to(folder)), p.stat().st_size)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    ]


def _both(src: Source, opts: ExportOptions, tmp: Path) -> tuple[dict, dict, Path, Path]:
    """``src`` exported by the core's path and by the Python path (``core_parity.both``)."""
    return both(
        src,
        tmp,
        export_core.export_picture,
        export.export_file,
        lambda out: ExportOptions(**{**_fields(opts), "out": out}),
    )


def _fields(opts: ExportOptions) -> dict[str, Any]:
    return opts._asdict()


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"bits": 16},
        {"window": (40.0, 400.0)},
        {"voi_index": 1, "fsync": True},
        {"format": "npy"},
        {"format": "npy", "bits": 16, "window": (40.0, 400.0)},
        {"format": "npy", "values": "modality"},
        {"format": "npy", "values": "stored"},
        {"values": "modality"},  # PNG cannot hold it: the Python path's error, every time
    ],
)
def test_corpus_pictures_are_the_python_paths(corpus: Path, tmp_path: Path, options: dict) -> None:
    """Every file of the corpus, exported by the core's path and by the Python path:
    the same records (status, reason, frames, bytes) and the same files byte for byte;
    the core takes the grey images and 8-bit RGB ones (at least 100 of them, 20 RGB;
    none where PNG is asked of other values than the display's) and hands the rest
    over."""
    opts = ExportOptions(out="", **options)
    exporter = export_core._exporter(ExportOptions(out=str(tmp_path / "probe"), **options))
    taken = rgb = 0
    for k, entry, path, src in corpus_sources(corpus):
        case = tmp_path / str(k)
        assert_same(_both(src, opts, case), entry["path"])
        took = exporter.export(str(path), str(tmp_path / "probe" / str(k))) is not None
        taken += took
        rgb += took and entry.get("photometric_interpretation") == "RGB"
        shutil.rmtree(case, ignore_errors=True)
    if opts.format == "png" and opts.values != "display":
        assert taken == 0
    else:
        assert taken >= 100
    if opts.values == "display":
        assert rgb >= 20  # 8-bit RGB: the stored values, or times 257 for 16 bits


def _variant(
    corpus: Path, folder: Path, name: str, syntax: str | None = None, **changes: Any
) -> Path:
    """A copy of an RLE CT slice with its display attributes changed (None: removed),
    in ``syntax`` (a native one) if given."""
    ds = dicomfast.read(sorted((corpus / CT).glob("*.dcm"))[3])
    for k, v in changes.items():
        if v is None:
            del ds[k]
        else:
            setattr(ds, k, v)
    folder.mkdir(parents=True, exist_ok=True)
    if syntax is not None:
        ds.decompress()
        ds.save_as(folder / name, transfer_syntax=syntax)
    else:
        ds.save_as(folder / name)
    return folder / name


NATIVE = {
    "explicit_le": "1.2.840.10008.1.2.1",
    "implicit_le": "1.2.840.10008.1.2",
    "deflated_le": "1.2.840.10008.1.2.1.99",
    "explicit_be": "1.2.840.10008.1.2.2",
}


@pytest.mark.parametrize("name", sorted(NATIVE))
@pytest.mark.parametrize("options", [{}, {"bits": 16}])
def test_native_syntaxes(corpus: Path, tmp_path: Path, name: str, options: dict) -> None:
    """Native Pixel Data: the core takes the little-endian syntaxes (deflated too) and
    leaves big endian to the Python path; the pictures are the Python path's."""
    path = _variant(corpus, tmp_path / "in", f"{name}.dcm", syntax=NATIVE[name])
    src = Source(str(path), path.name, path.stat().st_size)
    core_rec, py_rec, core_out, py_out = _both(src, ExportOptions(out="", **options), tmp_path)
    assert core_rec["status"] == "converted"
    assert comparable(core_rec, core_out) == comparable(py_rec, py_out)
    assert tree(core_out) == tree(py_out)
    ex = export_core._exporter(ExportOptions(out=str(tmp_path / "o"), **options))
    taken = ex.export(str(path), str(tmp_path / "o" / name)) is not None
    assert taken == (name != "explicit_be")


VARIANTS: dict[str, dict[str, Any]] = {
    "mono1": {"PhotometricInterpretation": "MONOCHROME1"},
    "exact": {"VOILUTFunction": "LINEAR_EXACT", "WindowWidth": 0.5},
    "sigmoid": {"VOILUTFunction": "SIGMOID"},
    "lower_case_function": {"VOILUTFunction": "linear_exact"},
    "two_windows": {"WindowCenter": [40, -600], "WindowWidth": [400, 1500]},
    "three_windows_two_widths": {"WindowCenter": [40, -600, 50], "WindowWidth": [400, 1500]},
    "no_window": {"WindowCenter": None, "WindowWidth": None},
    "no_width": {"WindowWidth": None},
    "narrow_linear": {"WindowWidth": 0.5},
    "one_wide": {"WindowWidth": 1},
    "no_rescale": {"RescaleSlope": None, "RescaleIntercept": None},
    "no_intercept": {"RescaleIntercept": None},
    "negative_slope": {"RescaleSlope": -2.5},
    "two_slopes": {"RescaleSlope": [2, 3]},
    "bits_stored_12": {"BitsStored": 12},
    "no_photometric": {"PhotometricInterpretation": None},
    "no_bits_stored": {"BitsStored": None},
    "pixel_representation_2": {"PixelRepresentation": 2},
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"voi_index": 1},
        {"window": (-600.0, 1500.0)},
        {"format": "npy", "values": "modality"},
    ],
)
def test_display_attribute_variants(corpus: Path, tmp_path: Path, name: str, options: dict) -> None:
    """Display attributes the core reads, and those it leaves to the Python path
    (absent, several values, a function it does not compute, a bad width): the two
    paths agree on the record and the bytes."""
    path = _variant(corpus, tmp_path / "in", f"{name}.dcm", **VARIANTS[name])
    src = Source(str(path), path.name, path.stat().st_size)
    core_rec, py_rec, core_out, py_out = _both(src, ExportOptions(out="", **options), tmp_path)
    assert comparable(core_rec, core_out) == comparable(py_rec, py_out)
    assert tree(core_out) == tree(py_out)


def test_taken_where_certain(corpus: Path, tmp_path: Path) -> None:
    """The core takes the plain slice and the variants it reads (so the tests above
    compare its pictures, not the Python path's twice), and leaves the others."""
    taken = {}
    for name in ["plain", *VARIANTS]:
        path = _variant(corpus, tmp_path / "in", f"{name}.dcm", **VARIANTS.get(name, {}))
        ex = export_core._exporter(ExportOptions(out=str(tmp_path / "o")))
        taken[name] = ex.export(str(path), str(tmp_path / "o" / name)) is not None
    assert {k for k, v in taken.items() if v} == {
        "plain",
        "mono1",
        "exact",
        "lower_case_function",
        "two_windows",
        "three_windows_two_widths",  # the first of each
        "one_wide",
        "no_rescale",
        "no_intercept",
        "negative_slope",
        "two_slopes",
        "bits_stored_12",
    }


def test_command_resume_durable_and_failures(corpus: Path, tmp_path: Path) -> None:
    """The command through the core: durable by default (no temporary file left, every
    picture there), a second run skips every file, a damaged file is reported as the
    Python path reports it and leaves nothing behind, and the inputs are untouched."""
    src, ct = slices_and_a_damaged_one(corpus, tmp_path, CT)
    rle = bytearray(ct[1].read_bytes())
    item = rle.index(b"\xfe\xff\x00\xe0", rle.index(b"\xfe\xff\x00\xe0") + 8)
    rle[item + 8 : item + 12] = (15).to_bytes(4, "little")  # 15 RLE segments: no such frame
    (src / "sub" / "bad_rle.dcm").write_bytes(bytes(rle))
    before = tree(src)
    out = tmp_path / "out"
    report = tmp_path / "report.json"
    rc = main(["export", str(src), "-o", str(out), "-q", "--report", str(report)])
    recs = report_records(report)
    assert rc == 1
    for name, says in (("damaged.dcm", "runs past the end"), ("bad_rle.dcm", "PixelDataError")):
        bad = src / "sub" / name
        python_rec = export.export_file(
            Source(str(bad), name, bad.stat().st_size), ExportOptions(out=str(tmp_path / "p"))
        )
        assert recs[name]["status"] == "failed"
        assert recs[name]["reason"] == python_rec["reason"]
        assert says in python_rec["reason"]
    assert all(recs[p.name]["status"] == "converted" for p in ct)
    made = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert made == sorted(p.stem + ".png" for p in ct)
    for p in ct:
        ds = dicomfast.read(p)
        want = export.display_frame(ds.pixel_array, ds)
        from PIL import Image

        np.testing.assert_array_equal(np.asarray(Image.open(out / (p.stem + ".png"))), want)
    rc = main(["export", str(src), "-o", str(out), "-q", "--report", str(report)])
    recs = report_records(report)
    assert all(recs[p.name]["status"] == "skipped" for p in ct)
    assert tree(src) == before


def test_names_that_are_no_utf8(corpus: Path, tmp_path: Path) -> None:
    """A file and folder named with bytes that are no UTF-8 (as Linux allows): the core
    takes the file and names its picture and record as the Python path does (the bytes
    kept, as surrogates in ``str``)."""
    src = tmp_path / "in"
    folder = os.fsdecode(os.fsencode(str(src)) + b"/caf\xe9")
    os.makedirs(folder)
    name = os.path.join(folder, os.fsdecode(b"sl\xffce.dcm"))
    shutil.copy(sorted((corpus / CT).glob("*.dcm"))[0], name)
    rel = os.path.relpath(name, src)
    source = Source(name, rel, os.path.getsize(name))
    core_rec, py_rec, core_out, py_out = _both(source, ExportOptions(out=""), tmp_path)
    assert core_rec["status"] == "converted"
    assert comparable(core_rec, core_out) == comparable(py_rec, py_out)
    assert tree(core_out) == tree(py_out)
    assert os.fsencode(core_rec["dst"]).endswith(b"/caf\xe9/sl\xffce.png")
    ex = export_core._exporter(ExportOptions(out=str(tmp_path / "o")))
    assert ex.export(name, os.path.join(str(tmp_path / "o"), rel[:-4])) is not None


def test_the_command_loads_no_numpy(corpus: Path, tmp_path: Path) -> None:
    """``dicomfast export`` of grey slices to PNG and ``.npy``, all taken by the core,
    runs without importing numpy (33 ms of the command's start), and still imports it
    for a file the core leaves to the Python path."""
    import subprocess
    import sys

    slices = sorted((corpus / CT).glob("*.dcm"))[:3]
    palette = corpus / "public" / "pydicom-data" / "OT-PAL-8-face.dcm"  # PALETTE COLOR
    script = (
        "import sys; from dicomfast.cli import main; rc = main(sys.argv[1:]); "
        "print(rc, 'numpy' in sys.modules)"
    )
    cases = [([*slices], "png", "0 False"), ([*slices], "npy", "0 False")]
    cases.append(([palette], "png", "0 True"))  # the Python path's
    for k, (inputs, fmt, want) in enumerate(cases):
        out = tmp_path / f"o{k}"
        args = ["export", *map(str, inputs), "-o", str(out), "--format", fmt, "-q"]
        got = subprocess.run(
            [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True
        )
        assert got.stdout.split() == want.split(), (fmt, got.stderr)
