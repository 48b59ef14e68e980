"""``dicomfast convert -t explicit-le`` by the core (``batch.convert_core``, crate
``dicomfast-export``'s ``Decompressor``) against the Python path
(``batch.convert.convert_file``): the same records and the same files byte for byte on
every corpus file, every file the core does not take (or fails on) given to the Python
path, the inputs untouched, and the command free of numpy where the core takes all."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import dicomfast
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
from dicomfast.batch import convert, convert_core
from dicomfast.batch.convert_options import ConvertOptions
from dicomfast.batch.sources import Source
from dicomfast.cli import main

CT = "perf/ct512_20/rle"
ELE = "1.2.840.10008.1.2.1"


def _both(src: Source, tmp: Path, **options: Any) -> tuple[dict, dict, Path, Path]:
    """``src`` converted by the core's path and by the Python path (``core_parity.both``)."""
    return both(
        src,
        tmp,
        convert_core.convert_native,
        convert.convert_file,
        lambda out: ConvertOptions(out=out, transfer_syntax=ELE, **options),
    )


@pytest.mark.parametrize("options", [{}, {"fsync": False}])
def test_corpus_outputs_are_the_python_paths(corpus: Path, tmp_path: Path, options: dict) -> None:
    """Every file of the corpus converted to explicit VR little endian by both paths:
    the same records (status, reason, bytes) and the same files byte for byte; the core
    takes the encapsulated ones (at least 100, of RLE, JPEG, JPEG-LS and JPEG 2000),
    colour among them (at least 30: RGB, and YBR_FULL_422, YBR_RCT and YBR_ICT whose
    Photometric Interpretation decoding changes), and hands the rest over."""
    copier = convert_core._copier(False, False)
    taken: dict[str, int] = {}
    for k, entry, path, src in corpus_sources(corpus):
        case = tmp_path / str(k)
        assert_same(got := _both(src, case, **options), entry["path"])
        py_out = got[3]
        native = copier.native_file(path.read_bytes())
        if native is not None:
            ds = dicomfast.read(path, stop_before_pixels=True)
            for key in (ds.transfer_syntax, f"colour {ds.PhotometricInterpretation}"):
                if key == ds.transfer_syntax or ds.SamplesPerPixel == 3:
                    taken[key] = taken.get(key, 0) + 1
            assert native == (py_out / path.name).read_bytes(), entry["path"]
        shutil.rmtree(case, ignore_errors=True)
    colour = {k: v for k, v in taken.items() if k.startswith("colour")}
    assert sum(taken.values()) - sum(colour.values()) >= 100, taken
    assert sum(colour.values()) >= 30, colour
    for name in ("RGB", "YBR_FULL_422", "YBR_RCT", "YBR_ICT"):
        assert colour.get(f"colour {name}", 0) >= 1, (name, colour)
    for syntax in (
        "1.2.840.10008.1.2.5",  # RLE
        "1.2.840.10008.1.2.4.70",  # JPEG lossless
        "1.2.840.10008.1.2.4.80",  # JPEG-LS
        "1.2.840.10008.1.2.4.51",  # JPEG extended (12 bits)
        "1.2.840.10008.1.2.4.90",  # JPEG 2000
    ):
        assert taken.get(syntax, 0) >= 1, (syntax, taken)


@pytest.mark.parametrize("syntax", ["htj2k", "htj2k-lossy", "j2k", "jpeg-ls-near", "jpeg12"])
def test_syntaxes_our_encoders_write(corpus: Path, tmp_path: Path, syntax: str) -> None:
    """A CT slice coded by our encoders (HTJ2K among them, which the corpus has only in
    colour) back to native pixels: taken by the core, the Python path's bytes."""
    from dicomfast.batch.syntaxes import transfer_syntax_for

    ds = dicomfast.read(sorted((corpus / CT).glob("*.dcm"))[3])
    if syntax == "jpeg12":
        ds.decompress()
        ds.BitsStored = 12
        ds.PixelData = (ds.pixel_array.clip(-2048, 2047) & 0x0FFF).astype("u2").tobytes()
        ds.PixelRepresentation = 0
    ds.compress(transfer_syntax_for(syntax))
    (tmp_path / "in").mkdir()
    path = tmp_path / "in" / f"{syntax}.dcm"
    ds.save_as(path)
    assert convert_core._copier(False, False).native_file(path.read_bytes()) is not None
    src = Source(str(path), path.name, path.stat().st_size)
    core_rec, py_rec, core_out, py_out = _both(src, tmp_path / "out")
    assert core_rec["status"] == "converted"
    assert comparable(core_rec, core_out) == comparable(py_rec, py_out)
    assert tree(core_out) == tree(py_out)


def test_declined_where_uncertain(corpus: Path, tmp_path: Path) -> None:
    """What the Python path might write otherwise (a group length, an offset table
    element, no preamble) is left to it, with the same result either way."""
    slice_ = sorted((corpus / CT).glob("*.dcm"))[3]
    copier = convert_core._copier(False, False)
    assert copier.native_file(slice_.read_bytes()) is not None
    ds = dicomfast.read(slice_)
    made = tmp_path / "in"
    made.mkdir()
    ds.add_new(0x00100000, "UL", 0)  # a group length in the data set
    ds.save_as(made / "group_length.dcm")
    ds = dicomfast.read(slice_)
    ds.add_new(0x7FE00001, "OV", b"\0" * 8)  # an Extended Offset Table
    ds.save_as(made / "extended_offsets.dcm")
    data = slice_.read_bytes()
    (made / "no_preamble.dcm").write_bytes(data[128:])
    cases = {p.name: p for p in made.iterdir()}
    for name, path in cases.items():
        assert copier.native_file(path.read_bytes()) is None, name
        src = Source(str(path), name, path.stat().st_size)
        core_rec, py_rec, core_out, py_out = _both(src, tmp_path / name)
        assert comparable(core_rec, core_out) == comparable(py_rec, py_out), name
        assert tree(core_out) == tree(py_out), name


def test_command_resume_durable_failures_and_inputs(corpus: Path, tmp_path: Path) -> None:
    """The command through the core: durable by default (no temporary file left), a
    second run skips every file (the Python path checks the outputs), a damaged file is
    reported as the Python path reports it and leaves nothing behind, an output that
    would be its own input is refused, and the inputs are untouched."""
    src, ct = slices_and_a_damaged_one(corpus, tmp_path, CT)
    before = tree(src)
    out = tmp_path / "out"
    report = tmp_path / "report.json"
    argv = ["convert", str(src), "-o", str(out), "-t", "explicit-le", "-q", "--report"]
    rc = main([*argv, str(report)])
    recs = report_records(report)
    assert rc == 1
    bad = src / "sub" / "damaged.dcm"
    python_rec = convert.convert_file(
        Source(str(bad), "sub/damaged.dcm", bad.stat().st_size),
        ConvertOptions(out=str(tmp_path / "p"), transfer_syntax=ELE),
    )
    assert recs["damaged.dcm"]["status"] == "failed"
    assert recs["damaged.dcm"]["reason"] == python_rec["reason"]
    assert all(recs[p.name]["status"] == "converted" for p in ct)
    made = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert made == sorted(p.name for p in ct)  # nothing temporary, nothing of the damaged
    for p in ct:
        got = dicomfast.read(out / p.name)
        assert got.transfer_syntax == ELE
        assert (got.pixel_array == dicomfast.read(p).pixel_array).all()
    rc = main([*argv, str(report)])
    recs = report_records(report)
    assert all(recs[p.name]["status"] == "skipped" for p in ct)
    # into its own folder, without resume: the output would be its input
    one = Source(str(src / ct[0].name), ct[0].name, ct[0].stat().st_size)
    rec = convert_core.convert_native(
        one, ConvertOptions(out=str(src), transfer_syntax=ELE, resume=False)
    )
    assert rec["status"] == "failed" and "overwrite the input" in rec["reason"]
    assert tree(src) == before


def test_the_command_loads_no_numpy(corpus: Path, tmp_path: Path) -> None:
    """``dicomfast convert -t explicit-le`` of RLE slices, all taken by the core, runs
    without importing numpy, and still imports it for a file left to the Python path."""
    slices = sorted((corpus / CT).glob("*.dcm"))[:3]
    native = sorted((corpus / "perf" / "ct512_20" / "unc").glob("*.dcm"))[0]  # relabelled
    script = (
        "import sys; from dicomfast.cli import main; rc = main(sys.argv[1:]); "
        "print(rc, 'numpy' in sys.modules)"
    )
    for k, (inputs, want) in enumerate([(slices, "0 False"), ([native], "0 True")]):
        args = ["convert", *map(str, inputs), "-o", str(tmp_path / f"o{k}"), "-t", "explicit-le"]
        got = subprocess.run(
            [sys.executable, "-c", script, *args, "-q"], capture_output=True, text=True, check=True
        )
        assert got.stdout.split() == want.split(), got.stderr
