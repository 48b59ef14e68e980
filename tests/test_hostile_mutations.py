"""Standing hostile-input suite: real corpus files of different kinds, mutated at random
(seeded: byte flips, truncations, huge length fields, insertions), through everything a
user can do with a file: ``dicomfast.read`` (also ``force=True``), every value touched
(recursively, ``str``, ``to_json``), ``pixel_array``, ``convert`` (the API the CLI uses,
and the CLI itself for a few).  Only ``DicomError`` may come out, nothing may hang, and
an output convert writes decodes to the same pixels as its (mutated) input.

More cases: ``DICOMFAST_MUTATION_SEED=7 DICOMFAST_MUTATION_CASES=200 pytest ...``.
"""

from __future__ import annotations

import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

import pytest
from corpus_data import CORPUS

SEED = int(os.environ.get("DICOMFAST_MUTATION_SEED", "19"))
CASES = int(os.environ.get("DICOMFAST_MUTATION_CASES", "10"))
#: Seconds one case may take (read, touch, decode, two conversions) before it counts as a hang.
CASE_TIMEOUT = 20

FILES = [
    "public/pydicom/CT_small.dcm",  # native explicit VR LE
    "public/pydicom/MR_small_RLE.dcm",  # RLE
    "public/pydicom/SC_rgb_jpeg_gdcm.dcm",  # JPEG Lossless SV1, RGB
    "public/pydicom/image_dfl.dcm",  # deflated explicit VR LE
    "public/pydicom-data/liver_deflate.dcm",  # Deflated Image Frame Compression, 3 frames
    "public/pydicom/test-SR.dcm",  # SR: nested sequences
    "public/pydicom/dicomdirtests/DICOMDIR",  # DICOMDIR: many records
    "public/pydicom/MR_small_bigendian.dcm",  # explicit VR big endian
]


def mutate(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One seeded mutation of ``data`` and its description."""
    b = bytearray(data)
    kind = rng.choice(["flip", "truncate", "length", "insert", "flip"])
    if kind == "flip":
        where = [rng.randrange(132, len(b)) for _ in range(rng.randint(1, 4))]
        for i in where:
            b[i] ^= 1 << rng.randrange(8)
        return f"flip {where}", bytes(b)
    if kind == "truncate":
        n = rng.randrange(132, len(b))
        return f"truncate {n}", bytes(b[:n])
    if kind == "length":
        # A value length field (u16 or u32, anywhere: the header of some element) set huge.
        i = rng.randrange(132, len(b) - 4)
        if rng.random() < 0.5:
            b[i : i + 2] = struct.pack("<H", rng.choice([0xFFFF, 0xFFFE, 0x8001]))
        else:
            b[i : i + 4] = struct.pack("<I", rng.choice([0xFFFFFFF0, 0x7FFFFFFF, 0x10000000]))
        return f"length @{i}", bytes(b)
    i = rng.randrange(132, len(b))
    chunk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return f"insert {len(chunk)} @{i}", bytes(b[:i] + chunk + b[i:])


def _touch(ds) -> None:  # noqa: ANN001
    for elem in ds:
        str(elem)
        value = elem.value
        if elem.VR == "SQ":
            for item in value or []:
                _touch(item)
        else:
            str(value)


def _check_case(data: bytes, workdir: Path, name: str) -> list[str]:
    """Every operation on one mutated file; the problems found (empty: fine)."""
    import dicomfast
    import numpy as np
    from dicomfast.batch import ConvertOptions, convert_file, iter_sources
    from dicomfast.batch.syntaxes import NAMES
    from dicomfast.errors import DicomError

    problems: list[str] = []
    dicom_errors = {
        c.__name__
        for c in vars(dicomfast.errors).values()
        if isinstance(c, type) and issubclass(c, DicomError)
    }

    def guard(what: str, fn):  # noqa: ANN001, ANN202
        try:
            return fn()
        except DicomError:
            return None
        except Exception:
            problems.append(f"{what}: {traceback.format_exc(limit=6)}")
            return None

    pixels = None
    for force in (False, True):
        ds = guard(f"read(force={force})", lambda f=force: dicomfast.read(data, force=f))
        if ds is None:
            continue
        guard("touch", lambda d=ds: _touch(d))
        guard("to_json", lambda d=ds: d.to_json())
        if "PixelData" in ds:
            arr = guard("pixel_array", lambda d=ds: d.pixel_array)
            if not force:
                pixels = arr
    src = workdir / name
    src.write_bytes(data)
    for ts in ("rle", "explicit-le"):
        out = workdir / f"out-{ts}"
        opts = ConvertOptions(
            out=str(out), transfer_syntax=NAMES[ts], threads=1, fsync=False, resume=False
        )
        (s,) = list(iter_sources([src]))
        rec = convert_file(s, opts)
        written = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
        if rec["status"] == "failed":
            kind = rec["reason"].split(":", 1)[0]
            if kind not in dicom_errors:
                problems.append(f"convert {ts}: {rec['reason']}")
            if written:
                problems.append(f"convert {ts} failed but wrote {written}")
            continue
        try:
            got = dicomfast.read(rec["dst"])
            if pixels is not None:
                g = got.pixel_array
                if g.shape != pixels.shape or not np.array_equal(g, pixels):
                    problems.append(f"convert {ts}: output pixels differ from the input's")
        except Exception:
            problems.append(f"convert {ts}: output unreadable: {traceback.format_exc(limit=4)}")
        for p in written:
            p.unlink()
    src.unlink()
    return problems


def _run_cases(rel: str, seed: int, cases: int, log: str) -> None:
    """In a child process: every case of one file, one JSON line each (started, then
    the problems), so a hang is named by the last case started."""
    data = (CORPUS / rel).read_bytes()
    with open(log, "a") as fh, tempfile.TemporaryDirectory() as tmp:
        for k in range(cases):
            rng = random.Random(f"{seed}:{rel}:{k}")
            what, mutated = mutate(data, rng)
            fh.write(json.dumps({"case": k, "mutation": what}) + "\n")
            fh.flush()
            problems = _check_case(mutated, Path(tmp), f"case{k}.dcm")
            fh.write(json.dumps({"case": k, "mutation": what, "problems": problems}) + "\n")
            fh.flush()


@pytest.mark.corpus
@pytest.mark.parametrize("rel", FILES)
def test_mutations_raise_only_dicom_errors(rel: str, tmp_path: Path) -> None:
    if not (CORPUS / rel).exists():
        pytest.skip(f"{rel} not in the corpus")
    log = tmp_path / "cases.jsonl"
    code = (
        f"import sys; sys.path[:0] = {[str(Path(__file__).parent)]!r}; "
        "import test_hostile_mutations as t; "
        f"t._run_cases({rel!r}, {SEED}, {CASES}, {str(log)!r})"
    )
    try:
        r = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=CASE_TIMEOUT * CASES + 30,
        )
    except subprocess.TimeoutExpired:
        lines = log.read_text().splitlines() if log.exists() else []
        pytest.fail(f"hang: {rel} seed {SEED}, last case started: {lines[-1] if lines else '-'}")
    lines = [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []
    assert r.returncode == 0, f"crash ({r.returncode}) after {lines[-1:]}: {r.stderr[-2000:]}"
    bad = [x for x in lines if x.get("problems")]
    assert not bad, json.dumps(bad, indent=1)[:6000]
    assert len([x for x in lines if "problems" in x]) == CASES


@pytest.mark.corpus
def test_mutations_through_the_cli(tmp_path: Path) -> None:
    """A few mutated files through ``dicomfast convert`` itself: exit 0 or 1, never a
    traceback; a failed file writes nothing."""
    src = tmp_path / "in"
    src.mkdir()
    for k, rel in enumerate(FILES[:4]):
        rng = random.Random(f"{SEED}:cli:{k}")
        for j in range(2):
            _, data = mutate((CORPUS / rel).read_bytes(), rng)
            (src / f"{k}_{j}.dcm").write_bytes(data)
    out, report = tmp_path / "out", tmp_path / "report.jsonl"
    r = subprocess.run(
        [sys.executable, "-m", "dicomfast", "convert", str(src), "-o", str(out), "-t", "rle",
         "--workers", "1", "-q", "--no-fsync", "--report", str(report)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode in (0, 1), r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    recs = [json.loads(x) for x in report.read_text().splitlines()]
    assert len(recs) == 8
    for rec in recs:
        if rec["status"] == "failed":
            assert rec["dst"] is None or not os.path.exists(rec["dst"]), rec
        else:
            assert rec["status"] == "converted", rec
