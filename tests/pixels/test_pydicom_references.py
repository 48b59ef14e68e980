"""Issue 12: pydicom's own pixel references pass with only the dicomfast plugin.

pydicom keeps, in its test suite, a reference for each test file it decodes
(``tests/pixels/pixels_reference.py``: shape, dtype and pixel values checked at chosen
positions).  Its decoder tests run ``decoder.as_array(ref.ds, raw=True,
decoding_plugin=...)`` and then ``ref.test(arr, plugin=...)`` for every reference of a
transfer syntax.  Here the same is done with ``decoding_plugin="dicomfast"``, for every
syntax pydicom has references for, against pydicom's own reference module.

That module is not in pydicom's wheel: it is read from pydicom's source distribution
(PyPI), downloaded once into ``~/.cache/dicomfast-tests`` (or taken from
``DICOMFAST_PYDICOM_SDIST``); without network the test skips, except in CI, where it
fails.  Test files: those shipped in pydicom's wheel, and those of pydicom-data that
the shared corpus holds (each checked against pydicom's ``hashes.json``, so a file is
the one the reference means).  References whose file is in neither are listed, not
counted.

JPEG baseline/extended references carry values per decoder family; ours is
libjpeg-turbo, as Pillow's, so those references are checked with ``plugin="pillow"``;
all others with ``plugin="pylibjpeg"`` (CharLS, OpenJPEG: the libraries both use).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip("pydicom")
pytest.importorskip("numpy")

import dicomfast.pydicom as plugin  # noqa: E402
import pydicom  # noqa: E402
import pydicom.data  # noqa: E402
import pydicom.uid as puid  # noqa: E402
from corpus_data import CORPUS  # noqa: E402
from pydicom.pixels import get_decoder  # noqa: E402

# libjpeg-turbo, as Pillow's decoder (see the docstring)
PILLOW_FAMILY = {puid.JPEGBaseline8Bit, puid.JPEGExtended12Bit}
# at least this many references must be checked, so that a change of where the
# files are found cannot quietly turn the test into a no-op
MIN_CHECKED = 65
EVERY_CODEC = {
    puid.RLELossless,
    puid.JPEGBaseline8Bit,
    puid.JPEGExtended12Bit,
    puid.JPEGLosslessSV1,
    puid.JPEGLSLossless,
    puid.JPEGLSNearLossless,
    puid.JPEG2000Lossless,
    puid.JPEG2000,
    puid.HTJ2KLossless,
    puid.HTJ2K,
}


def _sdist() -> Path:
    """The unpacked source distribution of the installed pydicom."""
    given = os.environ.get("DICOMFAST_PYDICOM_SDIST")
    if given:
        return Path(given)
    version = pydicom.__version__
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dicomfast-tests"
    root = cache / f"pydicom-{version}"
    if (root / "tests" / "pixels" / "pixels_reference.py").exists():
        return root
    cache.mkdir(parents=True, exist_ok=True)
    got = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "-q",
            "-d",
            str(cache),
            f"pydicom=={version}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    archive = cache / f"pydicom-{version}.tar.gz"
    if got.returncode != 0 or not archive.exists():
        if os.environ.get("CI"):
            pytest.fail(f"cannot download pydicom's source distribution: {got.stderr[-500:]}")
        pytest.skip("pydicom's source distribution cannot be downloaded here")
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if "/tests/pixels/" in m.name and m.isfile()]
        tar.extractall(cache, members=members, filter="data")
    return root


def _test_files() -> dict[str, Path]:
    """File name -> path: pydicom's wheel first, then the corpus' pydicom-data copies
    whose SHA-256 is the one pydicom expects."""
    data = Path(pydicom.data.__file__).parent
    found = {p.name: p for p in (data / "test_files").rglob("*") if p.is_file()}
    hashes = json.loads((data / "hashes.json").read_text())
    for folder in (CORPUS / "public" / "pydicom-data", CORPUS / "public" / "pydicom"):
        if not folder.is_dir():
            continue
        for p in sorted(folder.iterdir()):
            want = hashes.get(p.name)
            if p.name not in found and want and hashlib.sha256(p.read_bytes()).hexdigest() == want:
                found[p.name] = p
    return found


@pytest.fixture(scope="module")
def references() -> ModuleType:
    path = _sdist() / "tests" / "pixels" / "pixels_reference.py"
    spec = importlib.util.spec_from_file_location("pydicom_pixels_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    files = _test_files()

    def get_testdata_file(name: str, read: bool = False) -> Any:
        p = files.get(name)
        if p is None:
            raise FileNotFoundError(name)
        return pydicom.dcmread(p, force=True) if read else str(p)

    module.get_testdata_file = get_testdata_file  # type: ignore[attr-defined]
    return module


@pytest.fixture(scope="module")
def only_our_plugin() -> Any:
    plugin.register()
    yield
    plugin.unregister()


@pytest.mark.corpus
def test_every_reference_decodes_with_only_our_plugin(references, only_our_plugin) -> None:  # noqa: ANN001
    checked: list[str] = []
    reached: set[str] = set()
    missing: list[str] = []
    failed: list[str] = []
    for uid, refs in references.PIXEL_REFERENCE.items():
        family = "pillow" if uid in PILLOW_FAMILY else "pylibjpeg"
        for ref in refs:
            try:
                ds = ref.ds
            except FileNotFoundError:
                missing.append(ref.name)
                continue
            try:
                arr, _ = get_decoder(uid).as_array(ds, raw=True, decoding_plugin="dicomfast")
                ref.test(arr, plugin=family)
                assert arr.shape == ref.shape, f"shape {arr.shape} != {ref.shape}"
                assert arr.dtype == ref.dtype, f"dtype {arr.dtype} != {ref.dtype}"
            except FileNotFoundError as e:  # the reference compares with a second file
                missing.append(f"{ref.name} (needs {e})")
                continue
            except Exception as e:  # noqa: BLE001 - every failure is listed
                failed.append(f"{uid.name} {ref.name}: {type(e).__name__}: {e}")
                continue
            checked.append(ref.name)
            reached.add(uid)
    assert not failed, "\n".join(failed)
    assert len(checked) >= MIN_CHECKED, (len(checked), missing)
    # each compression pydicom has an available reference for was reached
    assert EVERY_CODEC <= reached, sorted(EVERY_CODEC - reached)
    print(f"{len(checked)} references checked; not available here: {', '.join(missing)}")
