"""No identifying value survives: every corpus file that reads, under several option
sets, is de-identified and its output bytes are scanned for each original value
(file's character set, UTF-8, Latin-1; PN also by component); no private or overlay
group remains; the input is untouched."""

from __future__ import annotations

import dicomfast
import pytest
from deid_helpers import KEY, OPTION_SETS, corpus_files, encodings, identifying
from dicomfast.deid import Deidentifier
from dicomfast.writer import dataset_unchanged, encode_file

FILES = corpus_files()


def _kept_text(out: dicomfast.Dataset) -> str:
    """The output's own text values (a removed value that also occurs in an attribute
    the profile keeps, e.g. 'CHEST' in Body Part Examined, is no leak)."""
    parts = [str(e.value) for e in out.file_meta or []]
    for elem in out.walk():
        if elem.VR not in ("OB", "OW", "OF", "OD", "OL", "OV", "UN", "SQ"):
            parts.append(str(elem.value))
    return "\n".join(parts)


def _without_pixels(ds: dicomfast.Dataset) -> bytes:
    """The bytes the data set was read from (inflated if deflated), pixel data values
    blanked: compressed pixels hold any short digit string by chance."""
    raw = ds._raw
    buf = bytearray(bytes(raw.source))
    for tag in (0x7FE00010, 0x7FE00008, 0x7FE00009):
        node = ds._table().get(tag)
        if isinstance(node, int):
            _t, _vr, _len, _flags, _hdr, voff, end = raw.node_info(node)
            buf[voff:end] = bytes(end - voff)
    return bytes(buf)


@pytest.mark.parametrize("name", list(OPTION_SETS))
def test_no_identifying_value_remains(name: str) -> None:
    if not FILES:
        pytest.skip("corpus not found")
    deid = Deidentifier(options=OPTION_SETS[name], key=KEY)
    modified = "retain-longitudinal-modified-dates" in deid.options
    checked = 0
    for path in FILES:
        ds = dicomfast.read(path)
        try:
            out = deid.anonymize(ds)
            data = b"".join(bytes(c) for c in encode_file(out))
        except dicomfast.DicomError:
            continue  # e.g. an input the writer refuses; the batch reports it as failed
        assert dataset_unchanged(ds), path
        back = dicomfast.read(data)
        data = _without_pixels(back)
        kept = _kept_text(back)
        for value in identifying(ds, deid.compiled, modified):
            if value in kept:
                continue
            for enc in encodings(value, ds):
                assert enc not in data, f"{path}: {value!r} survived ({name})"
        for elem in back.walk():
            group = elem.tag >> 16
            assert not group & 1, f"{path}: private {elem.tag:08X} kept"
            assert group & 0xFF01 != 0x6000, f"{path}: overlay {elem.tag:08X} kept"
            assert group & 0xFF01 != 0x5000, f"{path}: curve {elem.tag:08X} kept"
        assert back.PatientIdentityRemoved == "YES"
        checked += 1
    assert checked >= len(FILES) * 0.9
