"""The core's JSON of an instance's text and number attributes (what the archive
indexes, ``RawFile.text_attributes_json``) equals the Python JSON model built
from the Dataset's values, on every corpus file."""

from __future__ import annotations

import json
import math
from typing import Any

import dicomfast
import pytest
from corpus_data import MANIFEST, PARSE_MUST_FAIL, corpus_path
from dicomfast.archive import index as ix

FILES = [e["path"] for e in MANIFEST if e["path"] not in PARSE_MUST_FAIL]


def _no_nan(obj: Any) -> Any:
    """NaN/infinite numbers: the core writes null (valid JSON); Python keeps the float."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _no_nan(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_no_nan(v) for v in obj]
    return obj


@pytest.mark.skipif(not FILES, reason="corpus not found")
def test_core_attributes_json_equals_python_model_on_the_corpus() -> None:
    compared = 0
    for rel in FILES:
        try:
            ds = dicomfast.read(corpus_path(rel), stop_before_pixels=True)
        except dicomfast.DicomError:
            continue  # not a data set dicomfast reads without force
        fast = json.loads(ds._raw.text_attributes_json())
        slow = _no_nan(ix._json_of(ds, 0))
        assert fast == slow, rel
        compared += 1
    assert compared >= 0.9 * len(FILES)


def test_attrs_of_uses_python_model_once_changed() -> None:
    path = corpus_path("public/pydicom/CT_small.dcm")
    if not path.exists():
        pytest.skip("corpus not found")
    ds = dicomfast.read(path, stop_before_pixels=True)
    fast = ix._attrs_for_index(ds)
    assert isinstance(fast, ix.JsonDict) and fast == ix._json_of(ds, 0) == ix.attrs_of(ds)
    ds.PatientName = "CHANGED^NAME"
    for changed in (ix.attrs_of(ds), ix._attrs_for_index(ds)):
        assert not isinstance(changed, ix.JsonDict)
        assert changed["00100010"]["Value"] == [{"Alphabetic": "CHANGED^NAME"}]
