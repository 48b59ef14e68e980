"""dicomfast as pydicom's pixel data plugin: every RLE / JPEG Lossless (4.57, 4.70) file of
pydicom's test data (pydicom's own test files, pydicom-data, pylibjpeg-data) decodes
through ``pydicom`` with ONLY the dicomfast plugin to the corpus reference (and, for RLE,
to pydicom's own decoder); pydicom's ``compress`` with the dicomfast encoder round trips."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import dicomfast
import numpy as np
import pytest
from corpus_data import MANIFEST, corpus_path, lossy_within_one_of_reference

pydicom = pytest.importorskip("pydicom")
import dicomfast.pydicom as plugin  # noqa: E402

pytestmark = pytest.mark.corpus

TWINS = {
    "public/pydicom-data/liver_rle.dcm": "public/pydicom-data/liver.dcm",
    "public/pydicom-data/liver_nonbyte_aligned_rle.dcm": "public/pydicom-data/liver_nonbyte_aligned.dcm",
}
BY_PATH = {e["path"]: e for e in MANIFEST}
PYDICOM_FOLDERS = ("public/pydicom/", "public/pydicom-data/", "public/pylibjpeg-data/")
FILES = [
    e
    for e in MANIFEST
    if e["path"].startswith(PYDICOM_FOLDERS)
    and e["transfer_syntax"] in plugin.SYNTAXES
    and e.get("expect_error") is not True
    and (e.get("pixel_sha256") or e["path"] in TWINS)
]


@pytest.fixture(scope="module", autouse=True)
def registered() -> None:
    plugin.register()


def _path(entry: dict) -> Path:
    """pydicom's own copy when ``get_testdata_file`` finds it, else the corpus copy."""
    from pydicom.data import get_testdata_file

    name = Path(entry["path"]).name
    if entry["path"].startswith("public/pydicom/"):
        try:
            found = get_testdata_file(name)
        except Exception:  # noqa: BLE001 - pydicom may try the network for pydicom-data
            found = None
        if found:
            return Path(found)
    return corpus_path(entry["path"])


def _sha(arr: np.ndarray) -> str:
    a = np.ascontiguousarray(arr)
    if a.dtype.byteorder == ">":
        a = a.astype(a.dtype.newbyteorder("<"))
    return hashlib.sha256(a.tobytes()).hexdigest()


def test_there_are_files() -> None:
    assert len(FILES) >= 10


@pytest.mark.parametrize("entry", FILES, ids=lambda e: e["path"])
def test_pydicom_with_only_dicomfast_matches_reference(entry: dict) -> None:
    ds = pydicom.dcmread(_path(entry), force=True)
    ds.pixel_array_options(decoding_plugin="dicomfast", as_rgb=False)
    arr = ds.pixel_array
    ref = BY_PATH[TWINS[entry["path"]]] if entry["path"] in TWINS else entry
    agreeing = {ref["pixel_sha256"]}
    if dicomfast.syntaxes.get(entry["transfer_syntax"]).lossy:
        # Conformant lossy decoders may differ by one in rounding: any the manifest recorded.
        agreeing |= {
            r["sha256"]
            for r in (ref.get("decoder_results") or {}).values()
            if r.get("sha256") and r.get("shape") == ref["pixel_shape"]
        }
    assert _sha(arr) in agreeing or lossy_within_one_of_reference(ref, arr)
    assert list(arr.shape) == ref["pixel_shape"]
    if entry["transfer_syntax"] == plugin.RLE_LOSSLESS and entry["path"] not in TWINS:
        theirs = pydicom.dcmread(_path(entry), force=True)
        theirs.pixel_array_options(decoding_plugin="pydicom", as_rgb=False)
        assert np.array_equal(arr, theirs.pixel_array)


LOSSLESS_ENCODABLE = {
    u for u in dicomfast.syntaxes.ENCODABLE if not dicomfast.syntaxes.get(u).lossy
}


@pytest.mark.parametrize("ts", sorted(LOSSLESS_ENCODABLE & set(plugin.SYNTAXES)))
@pytest.mark.parametrize(
    "name",
    [
        "public/pydicom/CT_small.dcm",
        "public/pydicom/MR_small.dcm",
        "public/pydicom-data/SC_rgb_16bit_2frame.dcm",
    ],
)
def test_pydicom_compress_with_dicomfast_encoder(name: str, ts: str) -> None:
    src = corpus_path(name)
    if not src.exists():
        pytest.skip("corpus file missing")
    ds = pydicom.dcmread(src)
    ref = ds.pixel_array.copy()
    ds.compress(ts, encoding_plugin="dicomfast")
    assert ds.file_meta.TransferSyntaxUID == ts
    ds.pixel_array_options(decoding_plugin="dicomfast")
    assert np.array_equal(ds.pixel_array, ref)
    if ts == plugin.RLE_LOSSLESS:  # cross-check with pydicom's own RLE decoder
        again = pydicom.dcmread(src)
        again.compress(ts, encoding_plugin="dicomfast")
        again.pixel_array_options(decoding_plugin="pydicom")
        assert np.array_equal(again.pixel_array, ref)


def test_exclusive_registration_leaves_only_dicomfast() -> None:
    code = (
        "import dicomfast.pydicom as p; p.register(exclusive=True)\n"
        "from pydicom.pixels.decoders import base as b\n"
        "assert b.RLELosslessDecoder.available_plugins == ('dicomfast',), b.RLELosslessDecoder.available_plugins\n"
        "assert b.JPEGLosslessSV1Decoder.available_plugins == ('dicomfast',)\n"
        "import pydicom, sys\n"
        f"ds = pydicom.dcmread({str(corpus_path('public/pydicom/MR_small_RLE.dcm'))!r})\n"
        "print(ds.pixel_array.shape)\n"
        "p.unregister()\n"
        "assert 'dicomfast' not in b.RLELosslessDecoder.available_plugins\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "(64, 64)" in r.stdout
