"""The Rust pass (``dicomfast.deid.fast``, crate dicomfast-deid) against the Python
engine: the same keyed UIDs for many keys and UIDs (runs made by either stay linked),
and byte for byte the same output file for every corpus file under several option sets
and for generated data sets (dates to move, text to clean, names, nested sequences);
where the pass declines, it says why, and the batch runs the Python engine."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import dicomfast
import pytest
from corpus_data import CORPUS
from deid_helpers import KEY, OPTION_SETS, corpus_files
from dicomfast.cli import main
from dicomfast.dataset import Dataset, Sequence
from dicomfast.deid import Deidentifier, keys
from dicomfast.deid.fast import EncodedFile, encode_file
from dicomfast.uid import REGISTRY
from dicomfast.writer import encode_file as python_encode_file
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

#: Why the pass may decline a corpus file (everything else it must do).
DECLINED = ("a deflated or big endian data set", "encoded as UN", "an output encoding")


def test_rust_and_python_give_the_same_uids() -> None:
    rng = random.Random(18)
    registry = sorted(REGISTRY)
    for n in range(200):
        size = (16, 17, 32, 63, 64, 65, 100, 200)[n % 8]  # around the HMAC block size
        key = bytes(rng.randrange(256) for _ in range(size))
        fast = Deidentifier(key=key).rust_pass()
        for _ in range(25):
            parts = [str(rng.randrange(10 ** rng.randrange(1, 12))) for _ in range(6)]
            uid = ".".join(parts)[:64]
            assert fast.map_uid(uid) == keys.uid_for(key, uid)
        assert fast.map_uid(registry[n]) == registry[n]  # registry UIDs are kept
        assert fast.map_uid(" 1.2.3\0") == keys.uid_for(key, "1.2.3")
        assert fast.map_uid("") == ""


def _python_bytes(deid: Deidentifier, path: str | bytes) -> bytes | None:
    try:
        return b"".join(bytes(c) for c in python_encode_file(deid.anonymize(dicomfast.read(path))))
    except dicomfast.DicomError:
        return None  # the Python writer refuses it: no comparison


@pytest.mark.parametrize("name", list(OPTION_SETS))
def test_same_bytes_as_the_python_engine_on_the_corpus(name: str) -> None:
    files = corpus_files()
    if not files:
        pytest.skip("corpus not found")
    deid = Deidentifier(options=OPTION_SETS[name], key=KEY)
    done = 0
    for path in files:
        ds = dicomfast.read(path)
        fast = encode_file(deid, ds, ds.transfer_syntax)
        if isinstance(fast, str):
            assert any(d in fast for d in DECLINED) or name == "clean", (path, fast)
            continue
        want = _python_bytes(deid, path)
        if want is not None:
            assert b"".join(bytes(c) for c in fast.chunks) == want, path
            done += 1
    assert done >= len(files) * 0.85, (done, len(files))


def test_same_bytes_on_mutated_corpus_files() -> None:
    """Bytes flipped at random in small corpus files (a missing or garbled file meta,
    elements in another encoding than their data set's, odd lengths, non-ASCII UIDs):
    the pass writes what the Python engine writes, or declines; it never fails."""
    files = [f for f in corpus_files() if Path(f).stat().st_size < 100_000]
    if not files:
        pytest.skip("corpus not found")
    rng = random.Random(1818)
    deids = [Deidentifier(options=o, key=KEY) for o in OPTION_SETS.values()]
    compared = 0
    for _ in range(300):
        data = bytearray(Path(rng.choice(files)).read_bytes())
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(132, len(data))] = rng.randrange(256)
        try:
            ds = dicomfast.read(bytes(data))
        except dicomfast.DicomError:
            continue
        if ds.__dict__.get("read_error") is not None:
            continue
        deid = rng.choice(deids)
        fast = encode_file(deid, ds, ds.transfer_syntax)
        if isinstance(fast, str):
            continue
        want = _python_bytes(deid, bytes(data))
        if want is not None:
            assert b"".join(bytes(c) for c in fast.chunks) == want
            compared += 1
    assert compared >= 150, compared


_words = st.text(string.ascii_letters + string.digits + " ^=-.\t", min_size=0, max_size=12)
_date = st.one_of(
    st.dates().map(lambda d: f"{d.year:04}{d.month:02}{d.day:02}"),
    st.text("0123456789 ", max_size=9),
)


@st.composite
def _datasets(draw: st.DrawFn) -> Dataset:
    """A data set with a patient, dates (valid, partial, early), descriptions that
    repeat identifying words, UIDs, private and overlay elements, and a sequence."""
    ds = Dataset()
    name = draw(_words)
    charset = draw(
        st.sampled_from(
            [None, "ISO_IR 100", "ISO_IR 192", "ISO 2022 IR 6", ["ISO 2022 IR 6", "ISO 2022 IR 87"]]
        )
    )
    if charset:
        ds.add_new(0x00080005, "CS", charset)
    ds.add_new(0x00080016, "UI", "1.2.840.10008.5.1.4.1.1.7")
    ds.add_new(0x00080018, "UI", "1.2.3." + str(draw(st.integers(0, 10**12))))
    ds.add_new(0x00080020, "DA", draw(_date))
    ds.add_new(0x00080021, "DA", draw(st.lists(_date, max_size=3)))
    ds.add_new(0x0008002A, "DT", draw(_date) + draw(st.sampled_from(["", "1200", "120000.5+0100"])))
    ds.add_new(0x00080201, "SH", draw(st.sampled_from(["+0100", "-0500", ""])))
    ds.add_new(0x00081030, "LO", draw(_words) + name.split("^")[0].lower() + draw(_words))
    ds.add_new(0x0008103E, "LO", [draw(_words), draw(_words)])
    ds.add_new(0x00100010, "PN", draw(st.sampled_from([name, [name, draw(_words)]])))
    ds.add_new(0x00100020, "LO", draw(st.text(string.ascii_uppercase + string.digits, max_size=8)))
    ds.add_new(0x00100030, "DA", draw(_date))
    ds.add_new(0x00102160, "SH", draw(_words))
    ds.add_new(0x00204000, "LT", draw(_words) + " " + name)
    ds.add_new(0x0020000D, "UI", "1.2.3.4")
    ds.add_new(0x00090010, "LO", "PRIVATE")
    ds.add_new(0x60003000, "OW", b"\0\0")
    item = Dataset()
    item.add_new(0x00081150, "UI", "1.2.840.10008.5.1.4.1.1.2")
    item.add_new(0x00081155, "UI", draw(st.sampled_from(["1.2.3.4.5", "", "1.2\\3.4"])))
    item.add_new(0x00080104, "LO", draw(_words))
    item.add_new(0x0040A160, "UT", draw(_words) + name)
    item.add_new(0x00080020, "DA", draw(_date))
    ds.add_new(0x00081140, "SQ", Sequence([item], undefined_length=draw(st.booleans())))
    ds.add_new(0x0040A730, "SQ", Sequence([item], undefined_length=draw(st.booleans())))
    return ds


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ds=_datasets(), name=st.sampled_from(list(OPTION_SETS)), implicit=st.booleans())
def test_same_bytes_on_generated_data_sets(ds: Dataset, name: str, implicit: bool) -> None:
    ts = "1.2.840.10008.1.2" if implicit else "1.2.840.10008.1.2.1"
    data = b"".join(bytes(c) for c in python_encode_file(ds, ts))
    deid = Deidentifier(options=OPTION_SETS[name], key=KEY)
    fast = encode_file(deid, dicomfast.read(data), ts)
    assert isinstance(fast, EncodedFile), fast
    assert b"".join(bytes(c) for c in fast.chunks) == _python_bytes(deid, data)


def test_batch_uses_the_pass_and_says_when_it_does_not(tmp_path: Path) -> None:
    perf = sorted((CORPUS / "perf" / "ct512_20" / "unc").glob("*.dcm"))[:3]
    if not perf:
        pytest.skip("corpus not found")
    key = tmp_path / "key"
    key.write_bytes(KEY)
    out, report = tmp_path / "out", tmp_path / "r.json"
    args = ["anonymize", *map(str, perf), "-o", str(out), "--key-file", str(key), "-q"]
    assert main([*args, "--no-fsync", "--report", str(report)]) == 0
    recs = [json.loads(line) for line in report.read_text().splitlines()]
    assert [r["status"] for r in recs] == ["anonymized"] * 3
    assert not any("python_pass" in r for r in recs)
    deid = Deidentifier(key=KEY)
    for r in recs:
        assert Path(r["dst"]).read_bytes() == _python_bytes(deid, r["src"])
    assert main([*args, "-o", str(tmp_path / "rle"), "-t", "rle", "--report", str(report)]) == 0
    recs = [json.loads(line) for line in report.read_text().splitlines()]
    assert all(r["python_pass"].startswith("transcoding to") for r in recs)
