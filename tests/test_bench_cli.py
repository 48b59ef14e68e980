"""``dicomfast bench`` (issue 16): every installed contender runs on the same
files, each result is checked equal to ours before it is timed, the tables and
the JSON document say what happened (ok / mismatch / skipped / unsupported), and
``--plot`` draws a PNG.  Three small corpus files, one round: a few seconds."""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path

import numpy as np
import pytest
from corpus_data import CORPUS
from dicomfast.benchmark import registry
from dicomfast.benchmark.registry import Contender, Job
from dicomfast.cli import main

pytestmark = pytest.mark.corpus

CT = CORPUS / "perf" / "ct512_20"
DOC_KEYS = {"format", "created", "machine", "settings", "files", "contenders", "tasks"}
TASK_KEYS = {"files", "bytes", "compared_on", "reference", "results"}
ROW_KEYS = {"contender", "status", "reason", "kind", "how", "version"}
TIMED_KEYS = {
    "times_s",
    "median_s",
    "q1_s",
    "q3_s",
    "min_s",
    "max_s",
    "files_per_s",
    "mb_per_s",
    "ratio",
}


@pytest.fixture(scope="module")
def files() -> list[str]:
    paths = [CT / "unc/slice_0000.dcm", CT / "rle/slice_0001.dcm", CT / "jpll_sv1/slice_0002.dcm"]
    if not all(p.exists() for p in paths):
        pytest.skip(f"perf corpus not found under {CORPUS}")
    return [str(p) for p in paths]


def _bench(args: list[str], tmp_path: Path, capsys) -> tuple[int, str, dict]:  # noqa: ANN001
    out = tmp_path / "bench.json"
    code = main(["bench", "-q", "--rounds", "1", "--warmup", "0", "--json", str(out), *args])
    text = capsys.readouterr().out
    return code, text, json.loads(out.read_text())


def _race_on_parse(
    name: str,
    builder,  # noqa: ANN001
    files: list[str],
    tmp_path: Path,
    capsys,  # noqa: ANN001
) -> tuple[str, dict]:
    """``dicomfast bench`` of the parse task with ``builder`` registered as ``name``
    (for this call only): the text printed and that contender's row."""
    registry.register(Contender(name, lambda: "1.0", {"parse": builder}))
    try:
        code, text, doc = _bench([*files, "--tasks", "parse", "--against", name], tmp_path, capsys)
    finally:
        registry.unregister(name)
    assert code == 0
    return text, {r["contender"]: r for r in doc["tasks"]["parse"]["results"]}[name]


def _installed(name: str) -> bool:
    return registry.safe_probe(registry.contenders()[name].probe) is not None


def test_every_installed_contender_runs(files: list[str], tmp_path: Path, capsys) -> None:  # noqa: ANN001
    code, text, doc = _bench([*files, "--tasks", "parse,values,decode"], tmp_path, capsys)
    assert code == 0
    assert DOC_KEYS <= doc.keys()
    assert doc["files"]["count"] == 3 and doc["settings"]["rounds"] == 1
    assert list(doc["tasks"]) == ["parse", "values", "decode"]
    for task, sec in doc["tasks"].items():
        assert TASK_KEYS <= sec.keys()
        assert f"{task}: 3 files" in text
        rows = {r["contender"]: r for r in sec["results"]}
        assert set(rows) == set(registry.contenders())  # default --against: all registered
        for name, row in rows.items():
            assert ROW_KEYS <= row.keys()
            # nothing installed disagrees with us or fails on these files
            assert row["status"] in ("ok", "skipped", "unsupported"), (task, row)
            c = registry.contenders()[name]
            if row["status"] == "ok":
                assert TIMED_KEYS <= row.keys() and len(row["times_s"]) == 1
                assert row["median_s"] > 0 and row["files_per_s"] > 0
            if row["status"] == "skipped":
                assert not _installed(name) or task in c.tasks
        assert rows["dicomfast"]["status"] == "ok" and rows["dicomfast"]["ratio"] == 1.0
    # the contenders installed here that can do these tasks were all timed
    expect = {"parse": ["pydicom", "gdcm", "dcmtk"], "values": ["pydicom", "dcmtk"]}
    expect["decode"] = ["pydicom", "gdcm"]
    for task, names in expect.items():
        for name in names:
            row = next(r for r in doc["tasks"][task]["results"] if r["contender"] == name)
            if _installed(name) and row["status"] != "skipped":
                assert row["status"] == "ok", row
    assert "time/ours" in text


def test_a_wrong_result_is_a_mismatch_and_not_timed(
    files: list[str],
    tmp_path: Path,
    capsys,  # noqa: ANN001
) -> None:
    import dicomfast

    def wrong_parse(w) -> Job:  # noqa: ANN001
        paths = w.files_for("parse")
        # one tag missing per file: what a parser that drops an element would report
        return Job(lambda: [sorted(dicomfast.read(p).keys())[1:] for p in paths])

    def right_parse(w) -> Job:  # noqa: ANN001
        paths = w.files_for("parse")
        return Job(
            lambda: [[t for t in dicomfast.read(p).keys() if t >> 16 != 0xFFFE] for p in paths]
        )

    registry.register(Contender("liar", lambda: "1.0", {"parse": wrong_parse}))
    registry.register(Contender("twin", lambda: "1.0", {"parse": right_parse}))
    registry.register(Contender("absent", lambda: None, {"parse": right_parse}))
    try:
        code, text, doc = _bench(
            [*files, "--tasks", "parse,decode", "--against", "liar,twin,absent,nosuch"],
            tmp_path,
            capsys,
        )
    finally:
        for name in ("liar", "twin", "absent"):
            registry.unregister(name)
    assert code == 0
    rows = {r["contender"]: r for r in doc["tasks"]["parse"]["results"]}
    assert list(rows) == ["dicomfast", "liar", "twin", "absent", "nosuch"]
    assert rows["liar"]["status"] == "mismatch" and "median_s" not in rows["liar"]
    assert rows["liar"]["reason"].startswith("[0]")  # where it differs
    assert rows["twin"]["status"] == "ok" and rows["twin"]["median_s"] > 0
    assert rows["absent"]["status"] == "skipped" and rows["absent"]["reason"] == "not installed"
    assert rows["nosuch"]["status"] == "skipped"
    decode = {r["contender"]: r["status"] for r in doc["tasks"]["decode"]["results"]}
    assert decode["liar"] == "unsupported"
    assert "liar: mismatch" in text and "absent: skipped: not installed" in text


def test_plot_writes_a_png(files: list[str], tmp_path: Path, capsys) -> None:  # noqa: ANN001
    pytest.importorskip("matplotlib")
    png = tmp_path / "bench.png"
    code, _, _ = _bench(
        [files[0], "--tasks", "parse", "--against", "pydicom", "--plot", str(png)], tmp_path, capsys
    )
    assert code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_folder_uses_the_same_timing_rule() -> None:
    from dicomfast.benchmark import time_alternating

    path = Path(__file__).resolve().parent.parent / "bench" / "benchrace.py"
    spec = importlib.util.spec_from_file_location("benchrace_probe", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.time_alternating is time_alternating
    calls: list[str] = []
    ours, theirs = time_alternating(
        lambda: calls.append("o"), lambda: calls.append("t"), min_time=0.0, max_rounds=3
    )
    assert calls == ["o", "t"] * 3 and ours >= 0 and theirs >= 0


def test_codecs_agree_on_compressed_frames(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """RLE frames of signed CT: imagecodecs (frames only), pydicom and GDCM agree with us."""
    rle = [str(CT / "rle/slice_0003.dcm"), str(CT / "rle/slice_0004.dcm")]
    if not all(Path(p).exists() for p in rle):
        pytest.skip("perf corpus not found")
    code, _, doc = _bench([*rle, "--tasks", "decode"], tmp_path, capsys)
    assert code == 0
    for row in doc["tasks"]["decode"]["results"]:
        if row["contender"] in ("imagecodecs", "pydicom", "gdcm") and _installed(row["contender"]):
            assert row["status"] == "ok", row


def test_colour_jpeg_is_compared_as_stored(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """Colour JPEG files (YBR_FULL_422 4:2:2 and 4:2:0, RGB-coded 4:4:4): pydicom (asked
    for colour as stored, not its default RGB) and imagecodecs' libjpeg-turbo kernel (the
    components as coded) give our samples, so both are timed, not reported as a mismatch
    or as unsupported."""
    from corpus_data import corpus_path

    files = [
        corpus_path(f"public/pydicom/{name}")
        for name in (
            "SC_rgb_dcmtk_+eb+cy+np.dcm",  # YBR_FULL_422, 4:2:0
            "SC_rgb_dcmtk_+eb+cy+s2.dcm",  # YBR_FULL_422, 4:2:2
            "SC_rgb_dcmtk_+eb+cr.dcm",  # RGB, 4:4:4
        )
    ]
    if not all(p.exists() for p in files):
        pytest.skip("pydicom's test files not in the corpus")
    args = [*map(str, files), "--tasks", "decode", "--tolerance", "3"]
    code, _, doc = _bench([*args, "--against", "pydicom,imagecodecs"], tmp_path, capsys)
    assert code == 0
    rows = {row["contender"]: row for row in doc["tasks"]["decode"]["results"]}
    for name in ("pydicom", "imagecodecs"):
        if _installed(name):
            assert rows[name]["status"] == "ok", rows[name]


@pytest.mark.parametrize("codec", ["htj2k", "jpeg-ls"])
def test_imagecodecs_encoders_race_ours(codec: str, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """``--tasks encode --codec htj2k|jpeg-ls``: imagecodecs' encoder (OpenJPH, CharLS) is
    timed against ours once its frames, decoded by us, equal the input (signed CT)."""
    unc = [str(CT / "unc/slice_0005.dcm"), str(CT / "unc/slice_0006.dcm")]
    if not all(Path(p).exists() for p in unc):
        pytest.skip("perf corpus not found")
    if not _installed("imagecodecs"):
        pytest.skip("imagecodecs not installed")
    code, _, doc = _bench(
        [*unc, "--tasks", "encode", "--codec", codec, "--against", "imagecodecs"], tmp_path, capsys
    )
    assert code == 0
    rows = {row["contender"]: row for row in doc["tasks"]["encode"]["results"]}
    assert rows["imagecodecs"]["status"] == "ok", rows["imagecodecs"]
    assert rows["imagecodecs"]["ratio"] > 0


@pytest.mark.parametrize("codec", ["htj2k", "jpeg-ls"])
def test_imagecodecs_decoders_race_ours(codec: str, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """``--tasks decode`` on HTJ2K / JPEG-LS files (made by our encoders from signed CT):
    imagecodecs' kernel (OpenJPH, CharLS) is timed against ours once its samples equal
    ours."""
    import dicomfast

    unc = [CT / "unc/slice_0007.dcm", CT / "unc/slice_0008.dcm"]
    if not all(p.exists() for p in unc):
        pytest.skip("perf corpus not found")
    if not _installed("imagecodecs"):
        pytest.skip("imagecodecs not installed")
    syntax = {"htj2k": "1.2.840.10008.1.2.4.201", "jpeg-ls": "1.2.840.10008.1.2.4.80"}[codec]
    made = []
    for p in unc:
        ds = dicomfast.read(p)
        ds.compress(syntax)
        out = tmp_path / p.name
        ds.save(out)
        made.append(str(out))
    code, _, doc = _bench(
        [*made, "--tasks", "decode", "--against", "imagecodecs"], tmp_path, capsys
    )
    assert code == 0
    rows = {row["contender"]: row for row in doc["tasks"]["decode"]["results"]}
    assert rows["imagecodecs"]["status"] == "ok", rows["imagecodecs"]
    assert rows["imagecodecs"]["ratio"] > 0


def test_a_contender_failing_on_some_files_is_timed_on_the_others(
    files: list[str],
    tmp_path: Path,
    capsys,  # noqa: ANN001
) -> None:
    """A real folder nearly always holds a file some toolkit cannot do: such a
    contender is tried on each file alone, then timed on the files it does (ours on the
    same files for its ratio), and the files left out are named with the reason; one
    that does none stays an error."""
    import dicomfast

    def tags(p: str) -> list[int]:
        return [t for t in dicomfast.read(p).keys() if t >> 16 != 0xFFFE]

    def picky(w) -> Job:  # noqa: ANN001 - fails on the second file
        paths = [str(p) for p in w.files_for("parse")]

        def run() -> list:
            if files[1] in paths:
                raise ValueError("cannot read this one")
            return [tags(p) for p in paths]

        return Job(run, how="picky")

    def fussy(w) -> Job:  # noqa: ANN001 - drops an element of the third file
        paths = [str(p) for p in w.files_for("parse")]
        return Job(lambda: [tags(p)[p == files[2] :] for p in paths], how="fussy")

    def hopeless(w) -> Job:  # noqa: ANN001
        return Job(lambda: 1 / 0)

    def tangled(w) -> Job:  # noqa: ANN001 - fails on every file, each its own way
        paths = [Path(p).name for p in w.files_for("parse")]

        def run() -> list:
            raise ValueError(f"cannot read {paths[-1]}")

        return Job(run)

    names = ("picky", "fussy", "hopeless", "tangled")
    builders = (picky, fussy, hopeless, tangled)
    for name, builder in zip(names, builders, strict=True):
        registry.register(Contender(name, lambda: "1.0", {"parse": builder}))
    try:
        code, text, doc = _bench(
            [*files, "--tasks", "parse", "--against", ",".join(names)], tmp_path, capsys
        )
    finally:
        for name in names:
            registry.unregister(name)
    assert code == 0
    rows = {r["contender"]: r for r in doc["tasks"]["parse"]["results"]}
    assert list(rows) == ["dicomfast", *names]  # no row of our own part
    assert rows["dicomfast"]["files"] == 3 and "excluded" not in rows["dicomfast"]
    for name, bad, status in (("picky", 1, "error"), ("fussy", 2, "mismatch")):
        row = rows[name]
        assert row["status"] == "ok" and row["files"] == 2, row
        assert TIMED_KEYS <= row.keys() and row["ratio"] > 0 and row["how"] == name
        assert [(e["path"], e["status"]) for e in row["excluded"]] == [(files[bad], status)]
        assert f"{name}: timed on 2 of 3 files, ours on the same; left out: " in text
        assert Path(files[bad]).name in text
    assert "cannot read this one" in rows["picky"]["excluded"][0]["reason"]
    # failing on every file alone as on all of them, for the same reason: said once
    hopeless_row = rows["hopeless"]
    assert hopeless_row["status"] == "error" and "median_s" not in hopeless_row
    assert hopeless_row["reason"].startswith("ZeroDivisionError")
    assert "excluded" not in hopeless_row and "hopeless: on each file alone" not in text
    # failing on each file for its own reason: each said
    tangled_row = rows["tangled"]
    assert tangled_row["status"] == "error" and "median_s" not in tangled_row
    reasons = [e["reason"] for e in tangled_row["excluded"]]
    assert reasons == [f"ValueError: cannot read {Path(f).name}" for f in files]
    assert "tangled: on each file alone: left out: " in text


def test_a_decoder_declining_one_syntax_is_timed_on_the_others(
    tmp_path: Path,
    capsys,  # noqa: ANN001
) -> None:
    """imagecodecs declines a deflated file (no decoder of that syntax is taken) beside
    RLE files it decodes: it is timed on the RLE files, the deflated one named as left
    out (before, the whole row was "unsupported")."""
    import dicomfast

    rle = [CT / "rle/slice_0009.dcm", CT / "rle/slice_0010.dcm"]
    if not all(p.exists() for p in rle):
        pytest.skip("perf corpus not found")
    if not _installed("imagecodecs"):
        pytest.skip("imagecodecs not installed")
    ds = dicomfast.read(rle[0])
    ds.decompress()
    deflated = tmp_path / "deflated.dcm"
    dicomfast.write(ds, deflated, transfer_syntax="1.2.840.10008.1.2.1.99")
    args = [*map(str, rle), str(deflated), "--tasks", "decode", "--against", "imagecodecs"]
    code, text, doc = _bench(args, tmp_path, capsys)
    assert code == 0
    row = next(r for r in doc["tasks"]["decode"]["results"] if r["contender"] == "imagecodecs")
    assert row["status"] == "ok" and row["files"] == 2, row
    assert [(e["path"], e["status"]) for e in row["excluded"]] == [(str(deflated), "unsupported")]


def test_imagecodecs_samples_are_compared_without_the_unused_bits(
    tmp_path: Path,
    capsys,  # noqa: ANN001
) -> None:
    """A 12-bit JPEG frame of 10 bits stored (RG3_JPLY) holds samples of 1024 (past Bits
    Stored): imagecodecs' kernel gives them as coded; compared as the data set's values
    (those bits ignored, as ours and pydicom's are) it agrees with us."""
    from corpus_data import corpus_path

    rg3 = corpus_path("public/wg04/JPLY/RG3_JPLY")
    if not rg3.exists():
        pytest.skip("wg04 files not in the corpus")
    if not _installed("imagecodecs"):
        pytest.skip("imagecodecs not installed")
    code, _, doc = _bench(
        [str(rg3), "--tasks", "decode", "--against", "imagecodecs"], tmp_path, capsys
    )
    assert code == 0
    row = next(r for r in doc["tasks"]["decode"]["results"] if r["contender"] == "imagecodecs")
    assert row["status"] == "ok", row


def test_a_lossy_mismatch_says_by_how_much_and_points_to_tolerance(
    tmp_path: Path,
    capsys,  # noqa: ANN001
) -> None:
    """Lossy JPEG 2000 (CT2_J2KI) decoded by another conformant decoder differs from ours
    by rounding: the file is left out as a mismatch that says how many values differ, by
    how much, and points to ``--tolerance``, which then admits it."""
    from corpus_data import corpus_path

    j2ki, j2kr = corpus_path("public/wg04/J2KI/CT2_J2KI"), corpus_path("public/wg04/J2KR/CT1_J2KR")
    if not (j2ki.exists() and j2kr.exists()):
        pytest.skip("wg04 files not in the corpus")
    if not _installed("imagecodecs"):
        pytest.skip("imagecodecs not installed")
    args = [str(j2ki), str(j2kr), "--tasks", "decode", "--against", "imagecodecs"]
    code, text, doc = _bench(args, tmp_path, capsys)
    assert code == 0
    row = next(r for r in doc["tasks"]["decode"]["results"] if r["contender"] == "imagecodecs")
    assert row["status"] == "ok" and row["files"] == 1, row
    (gone,) = row["excluded"]
    assert gone["path"] == str(j2ki) and gone["status"] == "mismatch"
    assert gone["reason"].startswith("lossy, see --tolerance: [0]: ")
    assert " values differ, by 1 at most (first at " in gone["reason"]
    code, _, doc = _bench([*args, "--tolerance", "1"], tmp_path, capsys)
    row = next(r for r in doc["tasks"]["decode"]["results"] if r["contender"] == "imagecodecs")
    assert row["status"] == "ok" and row["files"] == 2 and "excluded" not in row, row


def test_files_dicomfast_does_not_do_are_named_not_hidden(
    files: list[str],
    tmp_path: Path,
    capsys,  # noqa: ANN001
) -> None:
    """Files the reference does not read (a stray text file) or decode (Pixel Data cut
    short) are left out of the tasks that need that, and the report names them with the
    reason instead of leaving them out silently."""
    import dicomfast

    note = tmp_path / "README.txt"
    note.write_text("not a DICOM file\n" * 20)
    ds = dicomfast.read(files[0])
    ds.PixelData = bytes(ds.PixelData)[:100]  # frames cut short: read, not decoded
    cut = tmp_path / "cut.dcm"
    ds.save(cut)
    args = [files[0], str(note), str(cut), "--tasks", "parse,decode", "--against", "none"]
    code, text, doc = _bench(args, tmp_path, capsys)
    assert code == 0
    parse, decode = doc["tasks"]["parse"], doc["tasks"]["decode"]
    assert parse["files"] == 2 and decode["files"] == 1
    assert [e["path"] for e in parse["left_out"]] == [str(note)]
    assert [e["path"] for e in decode["left_out"]] == [str(note), str(cut)]
    assert decode["left_out"][1]["reason"].startswith("PixelDataError")
    assert "left out: 1 file(s) dicomfast does not read: README.txt (" in text
    assert "left out: 2 file(s) dicomfast does not read or decode: README.txt (" in text


def test_files_the_codec_does_not_take_are_named_and_the_others_timed(
    files: list[str],
    tmp_path: Path,
    capsys,  # noqa: ANN001
) -> None:
    """A 32-bit dose among CT slices, encoded to JPEG-LS (2-16 bits) or transcoded to JPEG
    Lossless (8 or 16 bits allocated): each task ended in an error for every file (found
    running ``--codec jpeg-ls`` over the corpus, 2026-12-08); now the dose is named with the
    reason and the slices are timed, every contender on them."""
    import dicomfast

    dose = dicomfast.read(files[0])
    dose.BitsAllocated, dose.BitsStored, dose.HighBit = 32, 32, 31
    dose.PixelRepresentation = 0
    dose.PixelData = np.arange(512 * 512, dtype="<u4").tobytes()
    dose.save(tmp_path / "dose.dcm")
    args = [*files, str(tmp_path / "dose.dcm"), "--tasks", "encode,transcode"]
    args += ["--codec", "jpeg-ls", "--transcode-to", "jpeg-ll-sv1"]
    code, text, doc = _bench([*args, "--against", "imagecodecs"], tmp_path, capsys)
    assert code == 0
    enc, tra = doc["tasks"]["encode"], doc["tasks"]["transcode"]
    assert enc["files"] == tra["files"] == 3
    assert [e["path"] for e in enc["left_out"]] == [str(tmp_path / "dose.dcm")]
    assert [e["path"] for e in tra["left_out"]] == [str(tmp_path / "dose.dcm")]
    assert "JPEG-LS encodes 2-16-bit samples" in enc["left_out"][0]["reason"]
    assert "JPEG Lossless encodes 8 or 16 bits allocated" in tra["left_out"][0]["reason"]
    for task in (enc, tra):
        ours = next(r for r in task["results"] if r["contender"] == "dicomfast")
        assert ours["status"] == "ok", ours
    assert text.count("left out: 1 file(s) dicomfast does not encode so, read or decode") == 2
    if _installed("imagecodecs"):
        theirs = next(r for r in enc["results"] if r["contender"] == "imagecodecs")
        assert theirs["status"] == "ok", theirs


def test_files_serve_does_not_store_are_named_not_sent(
    files: list[str],
    tmp_path: Path,
    capsys,  # noqa: ANN001
) -> None:
    """The store task sends what ``dicomfast serve`` keeps: a file without a Study
    Instance UID (its archive files instances under study and series) or of a SOP class
    that is not a storage one is left out and named, rather than failing the task (as
    it did on the public corpus: "12 C-STOREs failed")."""
    import dicomfast

    ds = dicomfast.read(files[0])
    del ds.StudyInstanceUID
    no_study = tmp_path / "no_study.dcm"
    ds.save(no_study)
    ds = dicomfast.read(files[1])
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.2.1.1"
    not_storage = tmp_path / "not_storage.dcm"  # Patient Root Q/R - FIND
    ds.save(not_storage)
    args = [files[0], str(no_study), str(not_storage), "--tasks", "store", "--against", "none"]
    code, text, doc = _bench(args, tmp_path, capsys)
    assert code == 0
    store = doc["tasks"]["store"]
    assert store["files"] == 1
    ours = {r["contender"]: r for r in store["results"]}["dicomfast"]
    assert ours["status"] == "ok", ours
    gone = {Path(e["path"]).name: e["reason"] for e in store["left_out"]}
    assert set(gone) == {"no_study.dcm", "not_storage.dcm"}
    assert "missing or invalid Study Instance UID" in gone["no_study.dcm"]
    assert "not a storage SOP class" in gone["not_storage.dcm"]
    assert "left out: 2 file(s) dicomfast does not read or store: " in text


CRASHY = """
import os
import time

from dicomfast.benchmark.registry import Job

BAD = {bad!r}


def tags(p):
    import dicomfast

    return [t for t in dicomfast.read(p).keys() if t >> 16 != 0xFFFE]


def crashy(w):
    paths = [str(p) for p in w.files_for("parse")]

    def run():
        print("a library's own words, no newline", end="", flush=True)
        if BAD[0] in paths:
            os.abort()  # what python-gdcm does on some malformed files
        return [tags(p) for p in paths]

    return Job(run, how="crashy")


def sleepy(w):
    paths = [str(p) for p in w.files_for("parse")]

    def run():
        if BAD[1] in paths:
            time.sleep(3600)
        return [tags(p) for p in paths]

    return Job(run, how="sleepy")
"""


def test_a_contender_ending_the_process_on_a_file_is_timed_on_the_others(
    files: list[str],
    tmp_path: Path,
    capsys,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """python-gdcm aborts the whole process on some malformed files (an uncaught C++
    exception; five of the public corpus' files): a contender that may do so is run on
    each file in a child process first, and a file that ends it (or that it does not
    finish) is left out, named, with how the child ended, instead of ending the
    benchmark."""
    import importlib
    import os

    from dicomfast.benchmark import screen

    (tmp_path / "crashy_contender.py").write_text(CRASHY.format(bad=[files[1], files[2]]))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    )
    monkeypatch.setattr(screen, "PER_FILE_S", 5.0)
    mod = importlib.import_module("crashy_contender")
    for name in ("crashy", "sleepy"):
        registry.register(
            Contender(
                name, lambda: "1.0", {"parse": getattr(mod, name)}, may_crash=frozenset({"parse"})
            )
        )
    try:
        code, text, doc = _bench(
            [*files, "--tasks", "parse", "--against", "crashy,sleepy"], tmp_path, capsys
        )
    finally:
        for name in ("crashy", "sleepy"):
            registry.unregister(name)
    assert code == 0
    rows = {r["contender"]: r for r in doc["tasks"]["parse"]["results"]}
    for name, bad, how in (("crashy", 1, "SIGABRT"), ("sleepy", 2, "still running after 5 s")):
        row = rows[name]
        assert row["status"] == "ok" and row["files"] == 2, row
        assert TIMED_KEYS <= row.keys() and row["how"] == name
        assert [(e["path"], e["status"]) for e in row["excluded"]] == [(files[bad], "crashed")]
        assert how in row["excluded"][0]["reason"], row["excluded"]
        assert f"{name}: timed on 2 of 3 files, ours on the same; left out: " in text


def test_gdcm_ending_the_process_on_a_real_file_is_left_out(
    files: list[str],
    tmp_path: Path,
    capsys,  # noqa: ANN001
) -> None:
    """The real case: python-gdcm 3.0 aborts the process decoding pydicom's
    ``rtdose_1frame.dcm`` (an uncaught ``gdcm::Exception`` on its data set); the
    benchmark goes on and times GDCM on the other files."""
    if not _installed("gdcm"):
        pytest.skip("python-gdcm not installed")
    rtdose = CORPUS / "public" / "pydicom" / "rtdose_1frame.dcm"
    if not rtdose.exists():
        pytest.skip(f"{rtdose} not in the corpus")
    code, text, doc = _bench(
        [files[0], str(rtdose), "--tasks", "decode", "--against", "gdcm"], tmp_path, capsys
    )
    assert code == 0
    row = {r["contender"]: r for r in doc["tasks"]["decode"]["results"]}["gdcm"]
    assert row["status"] == "ok" and row["files"] == 1, row
    assert [(e["path"], e["status"]) for e in row["excluded"]] == [(str(rtdose), "crashed")]
    assert "ended the process (SIGABRT)" in row["excluded"][0]["reason"]
    assert "gdcm: timed on 1 of 2 files, ours on the same; left out: rtdose_1frame.dcm" in text


def test_files_of_many_sop_classes_are_each_sent_on_their_association(
    files: list[str],
    tmp_path: Path,
    capsys,  # noqa: ANN001
) -> None:
    """More SOP classes than one association's 128 presentation contexts take: each file
    goes on the association that has its class (every file went on every association,
    and those of the other associations' classes failed)."""
    import dicomfast
    from dicomfast import uid as uids

    classes = sorted(uids.storage_sop_classes())[:70]  # 2 contexts each: 140 > 128
    paths = []
    for i, sop in enumerate(classes):
        ds = dicomfast.read(files[0], stop_before_pixels=True)
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = sop
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = (
            f"1.2.826.0.1.3680043.10.9.{i}"
        )
        paths.append(tmp_path / f"f{i:03d}.dcm")
        ds.save(paths[-1])
    code, text, doc = _bench(
        [*map(str, paths), "--tasks", "store", "--against", "none"], tmp_path, capsys
    )
    assert code == 0
    ours = {r["contender"]: r for r in doc["tasks"]["store"]["results"]}["dicomfast"]
    assert ours["status"] == "ok" and doc["tasks"]["store"]["files"] == 70, ours


def test_a_contender_declining_files_ahead_is_timed_on_the_others(
    files: list[str],
    tmp_path: Path,
    capsys,  # noqa: ANN001
) -> None:
    """A contender that knows ahead which files it cannot do (DCMTK's ``storescu`` has
    no option proposing JPEG Extended, pynetdicom sends nothing pydicom reads without
    its UIDs) raises ``Declines`` with them: it is timed on the others, ours on the
    same, and those are named (before, one such file put the whole row out as
    unsupported)."""
    import dicomfast
    from dicomfast.benchmark.registry import Declines

    def tags(p: str) -> list[int]:
        return [t for t in dicomfast.read(p).keys() if t >> 16 != 0xFFFE]

    def choosy(w) -> Job:  # noqa: ANN001
        paths = [str(p) for p in w.files_for("parse")]
        if files[0] in paths:
            raise Declines({Path(files[0]): "not this one"})
        return Job(lambda: [tags(p) for p in paths], how="choosy")

    text, row = _race_on_parse("choosy", choosy, files, tmp_path, capsys)
    assert row["status"] == "ok" and row["files"] == 2 and row["ratio"] > 0, row
    assert row["excluded"] == [
        {"path": files[0], "status": "unsupported", "reason": "not this one"}
    ]
    assert "choosy: timed on 2 of 3 files, ours on the same; left out: " in text


def test_a_contender_going_on_past_files_is_timed_on_the_others(
    files: list[str],
    tmp_path: Path,
    capsys,  # noqa: ANN001
) -> None:
    """A sender that goes on past a file it cannot load (``storescu --no-halt``,
    pynetdicom past a data set it cannot encode) reports it (``Job.failed``): the
    contender is timed on the other files, ours on the same, and the file is named (before,
    one such file made the whole store row an error or a mismatch)."""
    import dicomfast

    def tags(p: str) -> list[int]:
        return [t for t in dicomfast.read(p).keys() if t >> 16 != 0xFFFE]

    def skipping(w) -> Job:  # noqa: ANN001
        paths = [str(p) for p in w.files_for("parse")]
        failed: dict[str, str] = {}

        def run() -> list:
            failed.clear()
            out = []
            for p in paths:
                if p == files[1]:
                    failed[p] = "cannot load it"
                    continue
                out.append(tags(p))
            return out

        return Job(run, how="skipping", failed=lambda: {Path(p): r for p, r in failed.items()})

    text, row = _race_on_parse("skipping", skipping, files, tmp_path, capsys)
    assert row["status"] == "ok" and row["files"] == 2 and row["ratio"] > 0, row
    assert row["excluded"] == [{"path": files[1], "status": "error", "reason": "cannot load it"}]
    assert "skipping: timed on 2 of 3 files, ours on the same; left out: " in text


@pytest.mark.skipif(not _installed("dcmtk") or not _installed("pydicom"), reason="no DCMTK")
def test_store_from_peers_leaves_out_what_each_cannot_send(
    files: list[str],
    tmp_path: Path,
    capsys,  # noqa: ANN001
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Real peers on a folder with a file each cannot send: ``storescu`` has no option
    proposing JPEG Extended (declined ahead), and loads no file cut short before its
    sequence delimiter (gone past at run time); pynetdicom's SCP takes no retired JPEG
    syntax, and pynetdicom cannot encode pydicom's SC_rgb_jpeg (gone past, its
    traceback not printed: the table names the file and the reason). Each is timed on
    the rest, ours on the same."""
    broken = CORPUS / "public" / "broken" / "MR4_RLE_no_sequence_delimiter.dcm"
    jpeg12 = CORPUS / "public" / "wg04" / "JPLY" / "MR1_JPLY"
    unencodable = CORPUS / "public" / "pydicom" / "SC_rgb_jpeg.dcm"
    if not broken.exists() or not jpeg12.exists() or not unencodable.exists():
        pytest.skip("corpus files missing")
    caplog.set_level(logging.DEBUG)
    code, text, doc = _bench(
        [
            files[0],
            str(broken),
            str(jpeg12),
            str(unencodable),
            "--tasks",
            "store",
            "--against",
            "dcmtk,pydicom",
        ],
        tmp_path,
        capsys,
    )
    said = [r for r in caplog.records if r.name.startswith("pynetdicom")]
    assert not [r for r in said if r.levelno >= logging.ERROR], said[:3]
    assert code == 0
    rows = {r["contender"]: r for r in doc["tasks"]["store"]["results"]}
    dcmtk_row = rows["dcmtk"]
    assert dcmtk_row["status"] == "ok" and dcmtk_row["files"] == 1, dcmtk_row
    left = {Path(e["path"]).name: e for e in dcmtk_row["excluded"]}
    assert left["MR1_JPLY"]["status"] == "unsupported"
    assert left[broken.name]["status"] == "error" and "storescu" in left[broken.name]["reason"]
    pyd = rows["pydicom"]
    assert pyd["status"] == "ok" and pyd["files"] == 2, pyd
    gone = {Path(e["path"]).name: e for e in pyd["excluded"]}
    assert sorted(gone) == sorted([broken.name, unencodable.name])
    assert "pynetdicom: ValueError" in gone[unencodable.name]["reason"]


def test_gdcm_samples_are_compared_in_our_layout(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """GDCM's buffer keeps the file's layout: 1-bit samples packed, colour-by-plane
    frames as planes, a big endian file's bytes as they are. Read in our layout
    (pydicom's), it agrees: GDCM was reported as a mismatch on such files and left out."""
    if not _installed("gdcm"):
        pytest.skip("python-gdcm not installed")
    names = ["pydicom-data/color-pl.dcm", "pydicom/liver_1frame.dcm", "pydicom/ExplVR_BigEnd.dcm"]
    paths = [CORPUS / "public" / n for n in names]
    if not all(p.exists() for p in paths):
        pytest.skip("corpus files missing")
    code, text, doc = _bench(
        [*map(str, paths), "--tasks", "decode", "--against", "gdcm"], tmp_path, capsys
    )
    assert code == 0
    row = {r["contender"]: r for r in doc["tasks"]["decode"]["results"]}["gdcm"]
    assert row["status"] == "ok" and "excluded" not in row, row
    assert row["files"] == 3


def test_values_leave_out_private_data_elements(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """An implicit VR file's private VRs come from each toolkit's private dictionary:
    pydicom gives cornerstone's GE CT's 167 private values as numbers and text,
    dicomfast (with none) as bytes, and the file was a mismatch (84 values against 251).
    The values task leaves private data elements out (their creators stay), and a
    lossy file's values mismatch no longer points to --tolerance."""
    ct = CORPUS / "public" / "cornerstone" / "CTImage.dcm"
    if not ct.exists():
        pytest.skip(f"{ct} not in the corpus")
    code, text, doc = _bench(
        [str(ct), "--tasks", "values", "--against", "pydicom"], tmp_path, capsys
    )
    assert code == 0
    row = {r["contender"]: r for r in doc["tasks"]["values"]["results"]}["pydicom"]
    assert row["status"] == "ok" and "excluded" not in row, row
    from dicomfast.benchmark.compare import values_form

    kept = values_form([(0x00091001, "LO", "x"), (0x00090010, "LO", "GEMS_IDEN_01")])
    assert kept == [(0x00090010, "GEMS_IDEN_01")]
