"""``pixel_info`` of a data set as read takes its attributes straight from the index
(``RawFile.find``, one call): the same ``PixelInfo`` and the same errors as the usual
way through the data set's elements, and the usual way as soon as an element has been
looked at or changed."""

from __future__ import annotations

import dicomfast
import pytest
from corpus_data import MANIFEST, corpus_path
from dicomfast.errors import DicomError
from dicomfast.pixels.frames import encapsulated_data
from dicomfast.pixels.info import _as_read, pixel_info

FILES = [e for e in MANIFEST if corpus_path(e["path"]).exists()]


def _both(entry: dict) -> tuple[object, object]:
    """pixel_info (or its error) through the index, then through the elements."""
    results = []
    for touch in (False, True):
        ds = dicomfast.read(corpus_path(entry["path"]), force=True)  # damaged ones too
        if touch:
            ds._table()  # the element table built: the usual way
            assert _as_read(ds) is None
        try:
            info = pixel_info(ds)
            frames = encapsulated_data(ds, info).frames if info.is_encapsulated else None
            results.append((info, frames))
        except DicomError as e:
            results.append((type(e), str(e), e.offset, e.frame))
    return results[0], results[1]


@pytest.mark.corpus
@pytest.mark.parametrize("entry", FILES, ids=lambda e: e["path"])
def test_as_read_gives_what_the_elements_give(entry: dict) -> None:
    fast, usual = _both(entry)
    assert fast == usual


def test_a_changed_data_set_is_read_through_its_elements() -> None:
    path = corpus_path("public/wg04/J2KR/CT1_J2KR")
    if not path.exists():
        pytest.skip("corpus not found")
    ds = dicomfast.read(path)
    assert pixel_info(ds).as_read is not None
    ds.PhotometricInterpretation = "MONOCHROME1"
    info = pixel_info(ds)
    assert info.as_read is None and info.photometric_interpretation == "MONOCHROME1"
    assert dicomfast.read(path).file_meta is not None
    other = dicomfast.read(path)
    other.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.91"
    assert pixel_info(other).transfer_syntax == "1.2.840.10008.1.2.4.91"
