"""``dicomfast convert``: every syntax pair, pixels checked by dicomfast and pydicom,
layouts, resuming, failures, crash safety, streaming."""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import os
import threading
from pathlib import Path

import dicomfast
import numpy as np
import pydicom
import pytest
from dicomfast import uid as uids
from dicomfast.batch import ConvertOptions, convert_file, iter_sources, run_tasks, runner
from dicomfast.batch.syntaxes import LOSSY, NAMES
from dicomfast.cli import main

pytestmark = pytest.mark.corpus


#: HTJ2K: pydicom's one decoder is pylibjpeg-openjpeg's; without it no pydicom check
#: (tests/pixels/test_htj2k.py has OpenJPH's and OpenJPEG's tools check those outputs).
PYDICOM_HTJ2K = importlib.util.find_spec("openjpeg") is not None
HTJ2K = {uids.HTJ2KLossless, uids.HTJ2KLosslessRPCL, uids.HTJ2K}


def _pixels_pydicom(path: Path) -> np.ndarray | None:
    ds = pydicom.dcmread(path)
    if ds.file_meta.TransferSyntaxUID in HTJ2K and not PYDICOM_HTJ2K:
        return None
    ds.pixel_array_options(as_rgb=False)
    a = ds.pixel_array
    return a.astype(a.dtype.newbyteorder("=")) if a.dtype.byteorder == ">" else a


def _tree_hash(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _convert_tree(src: Path, out: Path, name: str, **kw: object) -> list[dict]:
    opts = ConvertOptions(out=str(out), transfer_syntax=NAMES[name], threads=1, fsync=False, **kw)
    return [convert_file(s, opts) for s in iter_sources([src])]


def _elements(path: Path, private: bool = True) -> dict[int, object]:
    """Top-level elements as comparable values (pixel data excluded)."""
    ds = dicomfast.read(path)
    out = {}
    for elem in ds:
        if elem.tag in (0x7FE00010,) or (not private and (elem.tag >> 16) % 2):
            continue
        v = elem.value
        out[elem.tag] = (elem.VR, v.tolist() if isinstance(v, np.ndarray) else str(v))
    return out


def test_every_syntax_pair(inputs: Path, tmp_path: Path) -> None:
    """A → S → T for every S, T: pixels (dicomfast and pydicom) equal A's."""
    originals = {s.rel: dicomfast.read(s.path).pixel_array for s in iter_sources([inputs])}
    before = _tree_hash(inputs)
    first = {}
    names = {n: u for n, u in NAMES.items() if u not in LOSSY}  # lossy: test_encoders
    for s in names:
        recs = _convert_tree(inputs, tmp_path / s, s, verify=True)
        assert all(r["status"] == "converted" for r in recs), recs
        first[s] = tmp_path / s
    for s, t in itertools.product(names, names):
        out = tmp_path / f"{s}--{t}"
        recs = _convert_tree(first[s], out, t)
        assert all(r["status"] == "converted" for r in recs), (s, t, recs)
        for rel, want in originals.items():
            path = out / rel
            ds = dicomfast.read(path)
            assert ds.file_meta.TransferSyntaxUID == NAMES[t]
            np.testing.assert_array_equal(ds.pixel_array, want, err_msg=f"{s}->{t} {rel}")
            theirs = _pixels_pydicom(path)
            if theirs is not None:
                np.testing.assert_array_equal(theirs, want, err_msg=f"pydicom {s}->{t} {rel}")
    assert _tree_hash(inputs) == before  # inputs never modified


@pytest.mark.parametrize(
    "via", ["rle", "jpeg-ll", "jpeg-ll-p14", "explicit-be", "deflated", "implicit-le"]
)
def test_round_trip_keeps_elements(inputs: Path, tmp_path: Path, via: str) -> None:
    """A (explicit VR LE) → B → A: the same pixels and the same elements."""
    a = tmp_path / "a"
    _convert_tree(inputs, a, "explicit-le")
    _convert_tree(a, tmp_path / "b", via)
    _convert_tree(tmp_path / "b", tmp_path / "a2", "explicit-le")
    for s in iter_sources([a]):
        back = tmp_path / "a2" / s.rel
        np.testing.assert_array_equal(
            dicomfast.read(back).pixel_array, dicomfast.read(s.path).pixel_array
        )
        # implicit VR cannot carry the VR of private elements: they come back as UN
        private = via != "implicit-le"
        assert _elements(back, private) == _elements(Path(s.path), private)


def test_predictor_option(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "p7"
    rc = main(
        [
            "convert",
            str(inputs),
            "-o",
            str(out),
            "-t",
            "jpeg-ll-p14",
            "--predictor",
            "7",
            "--workers",
            "1",
            "-q",
            "--verify",
        ]
    )
    assert rc == 0
    ds = pydicom.dcmread(out / "ct" / "CT_small.dcm")
    frag = next(pydicom.encaps.generate_frames(ds.PixelData, number_of_frames=1))
    sos = frag.index(b"\xff\xda")
    n = frag[sos + 4]
    assert frag[sos + 5 + 2 * n] == 7  # Ss = the predictor (ITU T.81 H.1.2.1)
    assert main(["convert", str(inputs), "-o", str(out), "-t", "rle", "--predictor", "3"]) == 2


def test_cli_parallel_layout_uid_and_report(inputs: Path, tmp_path: Path) -> None:
    out, report = tmp_path / "uid", tmp_path / "r.json"
    rc = main(
        [
            "convert",
            str(inputs),
            "-o",
            str(out),
            "-t",
            "rle",
            "--layout",
            "uid",
            "--workers",
            "2",
            "--report",
            str(report),
            "-q",
        ]
    )
    assert rc == 0
    recs = [json.loads(line) for line in report.read_text().splitlines()]
    assert len(recs) == 3 and {r["status"] for r in recs} == {"converted"}
    for r in recs:
        ds = dicomfast.read(r["src"])
        want = out / ds.StudyInstanceUID / ds.SeriesInstanceUID / f"{ds.SOPInstanceUID}.dcm"
        assert Path(r["dst"]) == want and want.exists()
        assert r["bytes_out"] == want.stat().st_size


def test_resume_skips_complete_outputs(inputs: Path, tmp_path: Path) -> None:
    out, report = tmp_path / "o", tmp_path / "r.json"
    args = ["convert", str(inputs), "-o", str(out), "-t", "jpeg-ll", "--workers", "1", "-q"]
    assert main(args) == 0
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.dcm")}
    assert main([*args, "--report", str(report)]) == 0
    recs = [json.loads(x) for x in report.read_text().splitlines()]
    assert [r["status"] for r in recs] == ["skipped"] * 3
    assert stamps == {p: p.stat().st_mtime_ns for p in out.rglob("*.dcm")}
    # a truncated output (e.g. copied by hand) and a missing one are redone
    victim = out / "ct" / "CT_small.dcm"
    victim.write_bytes(victim.read_bytes()[:-1000])
    (out / "sc" / "rgb_odd.dcm").unlink()
    assert main([*args, "--report", str(report)]) == 0
    recs = {
        Path(r["src"]).name: r["status"] for r in map(json.loads, report.read_text().splitlines())
    }
    assert recs == {
        "CT_small.dcm": "converted",
        "rgb_odd.dcm": "converted",
        "rgb16_rle.dcm": "skipped",
    }
    np.testing.assert_array_equal(
        dicomfast.read(victim).pixel_array,
        dicomfast.read(inputs / "ct" / "CT_small.dcm").pixel_array,
    )


def test_failures_reported_and_copied(inputs: Path, tmp_path: Path, corpus: Path) -> None:
    broken = corpus / "public" / "broken"
    out, report = tmp_path / "o", tmp_path / "r.json"
    rc = main(
        [
            "convert",
            str(broken),
            str(inputs),
            "-o",
            str(out),
            "-t",
            "explicit-le",
            "--copy-failed",
            "--report",
            str(report),
            "--workers",
            "2",
            "-q",
        ]
    )
    assert rc == 1
    recs = [json.loads(x) for x in report.read_text().splitlines()]
    failed = [r for r in recs if r["status"] == "failed"]
    assert len(recs) == 13 and len(failed) >= 8
    assert all(r["reason"] for r in failed)
    by_name = {Path(r["src"]).name: r for r in recs}
    assert "RLE" in by_name["CT1_RLE_bad_segment_offset.dcm"]["reason"]
    assert by_name["CT_small.dcm"]["status"] == "converted"  # the run went on
    for r in failed:
        copied = out / "_failed" / Path(r["src"]).name
        assert copied.read_bytes() == Path(r["src"]).read_bytes()
        assert not (out / Path(r["src"]).name).exists()
    assert not list(out.rglob(".dicomfast-*"))


@pytest.mark.parametrize(
    "rel",
    [
        "public/broken/MR4_RLE_no_sequence_delimiter.dcm",
        "public/pydicom/dicomdirtests/DICOMDIR-nooffset",
    ],
)
@pytest.mark.parametrize("name", ["rle", "explicit-le"])
def test_damaged_input_is_reported_not_rewritten(
    corpus: Path, tmp_path: Path, rel: str, name: str
) -> None:
    """A file the reader opens but finds damaged (no pixel-data delimiter; an item
    longer than its sequence) fails with the damage and its byte offset, instead of
    being rewritten, byte for byte where untouched, into an output that no reader
    parses; --copy-failed keeps it unchanged."""
    src = tmp_path / "in" / Path(rel).name
    src.parent.mkdir()
    src.write_bytes((corpus / rel).read_bytes())
    (rec,) = _convert_tree(src.parent, tmp_path / "o", name, copy_failed=True)
    assert rec["status"] == "failed"
    assert rec["reason"].startswith("InvalidDicomError: ") and "byte offset" in rec["reason"]
    assert not (tmp_path / "o" / src.name).exists()
    assert (tmp_path / "o" / "_failed" / src.name).read_bytes() == src.read_bytes()


def test_exception_midway_leaves_no_output(inputs: Path, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from dicomfast.batch import files

    def half_then_fail(tmp: str, chunks, *, fsync: bool = True, pending=None) -> int:  # noqa: ANN001
        with open(tmp, "wb") as fh:
            fh.write(b"".join(bytes(c) for c in chunks)[:100])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "write_chunks", half_then_fail)
    recs = _convert_tree(inputs, tmp_path / "o", "rle")
    assert [r["status"] for r in recs] == ["failed"] * 3
    assert all("No space left" in r["reason"] for r in recs)
    assert [p for p in (tmp_path / "o").rglob("*") if p.is_file()] == []


def test_worker_killed_midway(inputs: Path, tmp_path: Path) -> None:
    """A worker dies while writing one file: that file has no output under its final
    name and is reported failed; the others are converted by a fresh pool."""
    import batch_helpers

    (inputs / "ct" / "CT_small.dcm").rename(inputs / "ct" / "CRASH.dcm")
    opts = ConvertOptions(
        out=str(tmp_path / "o"), transfer_syntax=NAMES["rle"], threads=1, fsync=False
    )
    import functools

    fn = functools.partial(batch_helpers.crash_while_writing, opts=opts)
    # a warm pool takes the files at once (a run this short would stay in this process)
    ready = threading.Event()
    runner._warm_pool(2, ready)
    assert ready.is_set()
    recs = list(run_tasks(fn, iter_sources([inputs]), workers=2, max_inflight=3))
    status = {Path(r["src"]).name: r["status"] for r in recs}
    # a file finished by a surviving worker of the dead pool may have lost only its
    # result: its retry then finds the output complete and skips it
    assert status.pop("CRASH.dcm") == "failed"
    assert set(status) == {"rgb_odd.dcm", "rgb16_rle.dcm"}
    assert set(status.values()) <= {"converted", "skipped"}
    for r in recs:
        if r["status"] != "failed":
            assert dicomfast.read(r["dst"]).pixel_array.size
    assert not (tmp_path / "o" / "ct" / "CRASH.dcm").exists()
    assert "died" in next(r["reason"] for r in recs if r["status"] == "failed")


@pytest.mark.parametrize("workers", [1, 2])
def test_input_stream_is_consumed_lazily(workers: int) -> None:
    """A huge input stream: only a bounded number of items is taken ahead of results."""
    import batch_helpers

    taken = 0

    def items():  # noqa: ANN202
        nonlocal taken
        for i in range(10**9):
            taken += 1
            yield i

    results = run_tasks(batch_helpers.identity, items(), workers=workers, max_inflight=4)
    got = [next(results)["src"] for _ in range(20)]
    assert sorted(got, key=int)[:1] == ["0"]
    assert taken <= 20 + 4
    results.close()


def test_sources_stream(tmp_path: Path) -> None:
    for i in range(30):
        d = tmp_path / f"d{i:02d}"
        d.mkdir()
        (d / "x.dcm").write_bytes(b"")
    it = iter_sources([tmp_path])
    first = next(it)
    assert first.rel == os.path.join("d00", "x.dcm")
    assert sum(1 for _ in it) == 29


def test_unknown_syntax(tmp_path: Path) -> None:
    assert main(["convert", str(tmp_path), "-o", str(tmp_path / "o"), "-t", "jpeg2000"]) == 2


def test_write_chunks_keeps_nothing_past_the_new_end(tmp_path: Path) -> None:
    from dicomfast.batch import files

    p = tmp_path / "t.tmp"
    p.write_bytes(b"x" * 100)
    n = files.write_chunks(str(p), [b"abc", memoryview(b"defg")], fsync=True)
    assert n == 7
    assert p.read_bytes() == b"abcdefg"
    # large outputs have their blocks reserved first: same bytes, same size
    big = np.arange(files.PREALLOCATE_FROM + 11, dtype=np.uint64).astype(np.uint8)
    p.write_bytes(b"")
    n = files.write_chunks(str(p), [b"head", memoryview(big)], fsync=False)
    assert n == 4 + big.nbytes
    assert p.read_bytes() == b"head" + big.tobytes()


def test_chunks_shrink_as_the_stream_ends() -> None:
    """Large chunks while items keep coming, single items at the end (no worker
    waits on one long last chunk); every item is answered exactly once."""
    import batch_helpers
    from dicomfast.batch.runner import chunk_size

    assert chunk_size(200, 2, 16) == 16
    assert [chunk_size(n, 2, 16) for n in (20, 7, 3, 1)] == [10, 3, 1, 1]
    recs = list(run_tasks(batch_helpers.identity, iter(range(203)), workers=2, chunksize=16))
    assert sorted(int(r["src"]) for r in recs) == list(range(203))


@pytest.mark.parametrize(
    ("name", "method", "bound"),
    [("jpeg-ls-near", "ISO_14495_1", 2), ("j2k-lossy", "ISO_15444_1", None)],
)
def test_lossy_names_mark_the_outputs(
    inputs: Path, tmp_path: Path, name: str, method: str, bound: int | None
) -> None:
    """The lossy names (only they) give lossy outputs, marked (PS3.3 C.7.6.1.1.5) with
    a new SOP Instance UID; near-lossless stays within its default max error (2)."""
    recs = _convert_tree(inputs, tmp_path / name, name, verify=True)
    assert all(r["status"] == "converted" for r in recs), recs
    for s in iter_sources([inputs]):
        src, out = dicomfast.read(s.path), dicomfast.read(tmp_path / name / s.rel)
        assert out.file_meta.TransferSyntaxUID == NAMES[name]
        assert out.LossyImageCompression == "01"
        methods = out.LossyImageCompressionMethod
        assert (methods if isinstance(methods, str) else list(methods)[-1]) == method
        assert out.SOPInstanceUID != src.SOPInstanceUID
        assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
        if bound is not None:
            err = np.abs(out.pixel_array.astype(np.int64) - src.pixel_array.astype(np.int64))
            assert err.max() <= bound
    again = _convert_tree(inputs, tmp_path / name, name)  # resumed: same new UIDs
    assert all(r["status"] == "skipped" for r in again), again
    kept = _convert_tree(inputs, tmp_path / "kept", name, keep_uid=True)
    assert all(r["status"] == "converted" for r in kept), kept
    for s in iter_sources([inputs]):
        out = dicomfast.read(tmp_path / "kept" / s.rel)
        assert out.SOPInstanceUID == dicomfast.read(s.path).SOPInstanceUID


def test_a_lone_file_may_spread_its_frame(
    inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``convert`` of one file lets its lone frame use every core (``lone_file``: nothing
    runs beside it); of two or more, each file's lone frame keeps to its thread. The
    outputs are the same either way."""
    import dicomfast.batch.convert as batch_convert  # where `convert` takes it from

    seen: list[bool] = []

    def recording(src, opts):  # noqa: ANN001, ANN202
        seen.append(opts.lone_file)
        return convert_file(src, opts)

    monkeypatch.setattr(batch_convert, "convert_file", recording)
    one = next(p for p in sorted(inputs.rglob("*")) if p.is_file())
    for source, out in ((one, tmp_path / "one"), (inputs, tmp_path / "all")):
        seen.clear()
        args = [str(source), "-o", str(out), "-t", "explicit-le", "-q", "--workers", "1"]
        assert main(["convert", *args, "--no-fsync"]) == 0
        if source == one:
            assert seen == [True]
        else:
            assert len(seen) > 1 and not any(seen)
    a = dicomfast.read(tmp_path / "one" / one.name).pixel_array
    b = dicomfast.read(tmp_path / "all" / one.relative_to(inputs)).pixel_array
    np.testing.assert_array_equal(a, b)
