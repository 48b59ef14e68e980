"""File to array in one call (``_core.pixel_array_as_read``, taken by ``pixel_array``
for a data set as read, and ``read_pixel_array`` from a path): the same array as the
usual path (attributes through the elements, fragments, allocation and decode in
separate steps), or the same error, on every encapsulated corpus file, damaged ones
included."""

from __future__ import annotations

from typing import Any

import dicomfast
import numpy as np
import pytest
from corpus_data import MANIFEST, corpus_path
from dicomfast import syntaxes
from dicomfast.errors import DicomError, PixelDataError
from dicomfast.pixels import read_pixel_array
from dicomfast.pixels.decode import _as_read
from dicomfast.reader import READ_WHOLE_BELOW

FILES = [
    e
    for e in MANIFEST
    if corpus_path(e["path"]).exists()
    and syntaxes.is_encapsulated(e.get("transfer_syntax") or "1.2.840.10008.1.2.1")
]


def _outcome(ds: Any) -> Any:
    try:
        return ds.pixel_array_as(threads=1)
    except DicomError as e:
        return (type(e), str(e), e.offset, getattr(e, "frame", None))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    return bool(a == b)


@pytest.mark.corpus
@pytest.mark.parametrize("entry", FILES, ids=lambda e: e["path"])
def test_one_call_gives_what_the_usual_path_gives(entry: dict) -> None:
    path = corpus_path(entry["path"])
    usual_ds = dicomfast.read(path, force=True)
    usual_ds._table()  # an element looked at: the usual path
    assert _as_read(usual_ds, False, 1) is None
    usual = _outcome(usual_ds)
    try:
        one = _as_read(dicomfast.read(path, force=True), False, 1)
    except PixelDataError as e:  # a damaged stream: the decoder's error, as usual
        one = (type(e), str(e), e.offset, e.frame)
        assert e.frame is not None and e.offset is not None
    if one is not None:
        assert _same(one, usual)
    assert _same(_outcome(dicomfast.read(path, force=True)), usual)


def test_the_one_call_path_is_taken() -> None:
    """On the healthy encapsulated files it decodes (no fallback), single and multi-frame."""
    taken = 0
    for entry in FILES:
        if entry.get("transfer_syntax") not in syntaxes.DECODABLE or entry.get("broken"):
            continue
        try:
            arr = _as_read(dicomfast.read(corpus_path(entry["path"])), False, 1)
        except DicomError:
            continue
        taken += arr is not None
    if not FILES:
        pytest.skip("corpus not found")
    assert taken >= 0.9 * sum(1 for e in FILES if e.get("transfer_syntax") in syntaxes.DECODABLE)


def test_a_changed_data_set_goes_the_usual_way() -> None:
    path = corpus_path("public/wg04/J2KR/CT1_J2KR")
    if not path.exists():
        pytest.skip("corpus not found")
    ds = dicomfast.read(path)
    assert _as_read(ds, False, 1) is not None
    ds.Rows = 2  # looked at and changed: the elements decide
    assert _as_read(ds, False, 1) is None
    with pytest.raises(PixelDataError):
        ds.pixel_array  # noqa: B018
    other = dicomfast.read(path)
    other.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"  # a syntax without codec
    assert _as_read(other, False, 1) is None
    with pytest.raises(PixelDataError, match="cannot decode"):
        other.pixel_array  # noqa: B018


def test_colour_conversion_goes_the_usual_way() -> None:
    path = corpus_path("public/pydicom-data/HTJ2KLossless_08_RGB.dcm")
    if not path.exists():
        pytest.skip("corpus not found")
    ds = dicomfast.read(path)
    assert _as_read(ds, True, 1) is None  # three samples and as_rgb
    assert np.array_equal(ds.pixel_array_as(as_rgb=True), dicomfast.read(path).pixel_array)


def _outcome_of_path(fn: Any, path: Any) -> Any:
    try:
        return fn(path)
    except (DicomError, OSError) as e:
        return (type(e), str(e), getattr(e, "offset", None), getattr(e, "frame", None))


@pytest.mark.corpus
@pytest.mark.parametrize("entry", FILES, ids=lambda e: e["path"])
def test_read_pixel_array_gives_what_read_then_pixel_array_gives(entry: dict) -> None:
    """From the path in one call (read whole or mapped, parsed, planned, decoded): the
    same array, or the same error, as reading the data set and asking it."""
    path = corpus_path(entry["path"])
    one = _outcome_of_path(lambda p: read_pixel_array(p, threads=1), path)
    usual = _outcome_of_path(lambda p: dicomfast.read(p).pixel_array_as(threads=1), path)
    assert _same(one, usual)


def test_read_pixel_array_of_a_mapped_file_and_of_no_file(tmp_path: Any) -> None:
    big = [e for e in FILES if e["file_size"] > READ_WHOLE_BELOW and not e.get("broken")]
    if not big:
        pytest.skip("no large encapsulated file in the corpus")
    path = corpus_path(big[0]["path"])
    assert _same(read_pixel_array(path), dicomfast.read(path).pixel_array)
    with pytest.raises(FileNotFoundError):
        read_pixel_array(tmp_path / "absent.dcm")
    with pytest.raises(IsADirectoryError):
        read_pixel_array(tmp_path)
