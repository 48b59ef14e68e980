"""The bulk path against the element path.

``walk()`` / ``iterall()`` have the core build a whole tree of sequence items in one
call, iterating a data set a whole level (``RawFile.level``); reading
element by element (``ds[tag]``) builds one element at a time, each item converted
when reached (``RawFile.element``). All three must give the same elements, VRs,
values, value types and item contexts on every corpus file: they cannot drift apart.
Items refer to their parent weakly (no reference cycles); one kept after its parent
went still reads its values as before.
"""

from __future__ import annotations

import gc
import io
import weakref
from typing import Any

import dicomfast
import numpy as np
import pytest
from corpus_data import MANIFEST, corpus_path
from dicomfast.dataset import Dataset, Sequence

FILES = [f["path"] for f in MANIFEST]


def _read(path: Any) -> Dataset:
    try:
        return dicomfast.read(path)
    except dicomfast.DicomError:
        return dicomfast.read(path, force=True)


def _value_key(v: Any) -> Any:
    """A value as something ``==`` compares exactly: types included, NaN equal to NaN,
    arrays by dtype, shape and bytes."""
    if isinstance(v, np.ndarray):
        return ("ndarray", v.dtype.str, v.shape, v.tobytes())
    if isinstance(v, Sequence):
        return ("Sequence", len(v), v._undefined_length)
    if isinstance(v, list):
        return (type(v).__name__, [_value_key(x) for x in v])
    return (type(v).__name__, repr(v))


def _context(ds: Dataset) -> Any:
    cs = ds._get_charset()
    return (None if cs is None else cs.terms, ds._pixel_context())


def _compare(bulk: Dataset, single: Dataset, where: str) -> None:
    assert bulk.keys() == single.keys(), where
    assert _context(bulk) == _context(single), where
    for tag in single.keys():
        b, s = bulk[tag], single[tag]
        at = f"{where} ({tag >> 16:04X},{tag & 0xFFFF:04X})"
        assert (b.tag, b.VR, b._node, b._length) == (s.tag, s.VR, s._node, s._length), at
        assert _value_key(b.value) == _value_key(s.value), at
        if b.VR == "SQ":
            for k, (bi, si) in enumerate(zip(b.value, s.value, strict=True)):
                assert bi._node == si._node, at
                _compare(bi, si, f"{at}[{k}]")


@pytest.mark.corpus
@pytest.mark.parametrize("rel", FILES, ids=lambda p: p.removeprefix("public/"))
def test_walk_equals_element_by_element(rel: str) -> None:
    path = corpus_path(rel)
    try:
        bulk = _read(path)
    except (dicomfast.DicomError, OSError):
        pytest.skip("not readable even with force")
    walked = list(bulk.walk())
    single = _read(path)
    # Element by element: nothing converted in bulk (``_all_done`` never set).
    _compare(bulk, single, rel)
    assert not single.__dict__.get("_all_done")
    assert len(walked) == sum(1 for _ in _read(path).iterall())
    # One level at a time (iterating a data set: its items built when reached).
    by_level = _read(path)
    _iterate_levels(by_level)
    _compare(by_level, _read(path), rel)


def _iterate_levels(ds: Dataset) -> None:
    for e in ds:
        if e.VR == "SQ":
            for item in e.value:
                _iterate_levels(item)


def _nested_text() -> bytes:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = "Müller^Jörg"
    inner = Dataset()
    inner.PatientName = "Ärger^Ölf"
    inner.PixelRepresentation = 1
    mid = Dataset()
    mid.CodeMeaning = "Größe"
    mid.ContentSequence = [inner]
    ds.ContentSequence = [mid]
    buf = io.BytesIO()
    dicomfast.write(ds, buf)
    return buf.getvalue()


@pytest.mark.parametrize("walk", [False, True])
def test_item_kept_after_its_parent_went(walk: bool) -> None:
    data = _nested_text()
    ds = dicomfast.read(data)
    if walk:
        list(ds.walk())
    mid = ds.ContentSequence[0]
    ref = weakref.ref(ds)
    del ds
    assert ref() is None  # freed at once: no reference cycle through the items
    inner = mid.ContentSequence[0]
    del mid
    assert inner.PatientName == "Ärger^Ölf"
    assert inner._parent_ds().CodeMeaning == "Größe"  # rebuilt as read
    assert inner._parent_ds()._parent_ds().PatientName == "Müller^Jörg"
    assert inner._pixel_context() == (1, 16)


def test_data_set_freed_without_the_cycle_collector() -> None:
    data = _nested_text()
    enabled = gc.isenabled()
    gc.disable()
    try:
        ds = dicomfast.read(data)
        for e in ds.walk():
            e.value  # noqa: B018
        item = ds.ContentSequence[0]
        refs = [weakref.ref(ds), weakref.ref(item)]
        del ds, item, e
        assert [r() for r in refs] == [None, None]
        # Building held the collector off and left it as it was (off here).
        assert not gc.isenabled()
    finally:
        if enabled:
            gc.enable()
    list(dicomfast.read(data).walk())
    assert gc.isenabled() == enabled


def test_walk_sees_changes_made_while_walking() -> None:
    ds = dicomfast.read(_nested_text())
    seen = []
    for e in ds.walk():
        seen.append(e.tag)
        if e.tag == 0x0040A730 and len(seen) == 3:  # the top ContentSequence
            e.value = Sequence([Dataset()])  # its items are read when reached
    assert seen == [0x00080005, 0x00100010, 0x0040A730]
