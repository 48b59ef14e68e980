"""A data set whose sequences were reached is garbage like any other (issue 19),
or each read keeps its file mapped until the process ends. Items read from a file
refer to their parent weakly, so such a data set is no cycle and goes with its last
reference; a cycle made through the Rust ``DataElement`` (a value that refers back)
is still let through to the cycle collector."""

from __future__ import annotations

import gc
import shutil
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import dicomfast
import pytest
from corpus_data import corpus_path

pytestmark = pytest.mark.corpus

# A structured report: 56 sequences nested up to several levels deep.
SR = "public/pydicom/test-SR.dcm"


@pytest.fixture
def sr_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The SR file under a path of its own, to find its mappings in /proc/self/maps
    (mapped however small: a file read whole would leave no mapping to count)."""
    monkeypatch.setattr(dicomfast.reader, "READ_WHOLE_BELOW", 0)
    src = corpus_path(SR)
    if not src.exists():
        pytest.skip("corpus not found")
    dst = tmp_path / "leak-sr.dcm"
    shutil.copyfile(src, dst)
    return dst


def _mappings() -> list[str]:
    with open("/proc/self/maps") as f:
        return f.readlines()


def _mappings_of(path: Path) -> int:
    name = str(path)
    return sum(1 for line in _mappings() if line.rstrip("\n").endswith(name))


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def _reach_sequences(ds: dicomfast.Dataset) -> Iterator[dicomfast.DataElement]:
    """Every element of the data set and of its sequences' first items."""
    for elem in ds:
        yield elem
        if elem.VR == "SQ":
            for item in elem.value[:1]:
                yield from item


def test_dataset_with_reached_sequences_is_collected(sr_copy: Path) -> None:
    ds = dicomfast.read(sr_copy)
    assert sum(1 for e in _reach_sequences(ds) if e.VR == "SQ") >= 9
    assert ds.ContentSequence[0].ConceptNameCodeSequence[0].CodeMeaning
    ds.to_json()
    sq = ds["ContentSequence"]
    refs = [weakref.ref(ds), weakref.ref(sq), weakref.ref(ds.ContentSequence[0])]
    assert _mappings_of(sr_copy) >= 1
    del ds, sq
    gc.collect()
    assert [r() is None for r in refs] == [True, True, True]
    assert _mappings_of(sr_copy) == 0


def test_gc_collect_unmaps_the_file_with_automatic_gc_off(sr_copy: Path) -> None:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(20):
            ds = dicomfast.read(sr_copy)
            assert sum(1 for _ in _reach_sequences(ds)) > 40
            ds.to_json()
        del ds
        # No cycle (items refer to their parent weakly): freed without the collector.
        assert _mappings_of(sr_copy) == 0
        gc.collect()
        assert _mappings_of(sr_copy) == 0
    finally:
        if was_enabled:
            gc.enable()


def test_cycle_through_an_element_alone_is_collected() -> None:
    elem = dicomfast.DataElement(0x00400260, "SQ", dicomfast.Sequence())
    elem.value.append(elem)  # a cycle through the element alone
    ref = weakref.ref(elem)
    del elem
    gc.collect()
    assert ref() is None


@pytest.mark.slow
def test_100000_reads_keep_memory_and_mappings_flat(sr_copy: Path) -> None:
    """100,000 reads of a sequence-heavy file in one process, each reaching
    sequences (by iteration, by attribute, and every 100th through to_json).

    Every 2,000 reads: the reads the automatic collector has not freed yet stay
    few (a leak adds one mapping per read), and after a full collection the
    mapping count and RSS are those after the first 2,000 reads."""
    reads, every = 100_000, 2_000
    gc.collect()
    start = time.perf_counter()
    base: tuple[int, int] | None = None
    history: list[tuple[int, int, int, int]] = []  # (reads, pending, mappings, RSS KiB)
    for i in range(1, reads + 1):
        ds = dicomfast.read(sr_copy)
        for elem in ds:
            if elem.VR == "SQ":
                for item in elem.value[:1]:
                    item.get(0x00080100)
        assert ds.ContentSequence[0].ConceptNameCodeSequence[0].CodeMeaning
        if i % 100 == 0:
            ds.to_json()
        if i % every == 0:
            del ds, elem, item
            # Checked as we go, so that a leak fails in seconds, not at 65k mappings.
            pending = _mappings_of(sr_copy)
            assert pending <= every // 2, history
            gc.collect()
            maps, rss = len(_mappings()), _rss_kib()
            history.append((i, pending, maps, rss))
            assert _mappings_of(sr_copy) == 0, history
            if base is None:
                base = maps, rss
            assert maps - base[0] <= 16, history
            assert rss - base[1] <= 8 * 1024, history
    elapsed = time.perf_counter() - start
    assert history[-1][0] == reads
    print(f"{reads} reads in {elapsed:.1f}s; (reads, pending, mappings, RSS KiB): {history}")
