"""Helpers for the batch (convert/export) tests."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # worker processes import batch_helpers from here

from corpus_data import CORPUS  # noqa: E402


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (CORPUS / "manifest.json").exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    return CORPUS


@pytest.fixture
def inputs(tmp_path: Path, corpus: Path) -> Path:
    """A small input tree (copies, so that 'inputs are never modified' can be checked):
    16-bit signed CT, 8-bit RGB of odd size, 16-bit RGB RLE with 2 frames."""
    src = tmp_path / "in"
    for rel, dest in [
        ("public/pydicom/CT_small.dcm", "ct/CT_small.dcm"),
        ("public/pydicom/SC_rgb_small_odd.dcm", "sc/rgb_odd.dcm"),
        ("public/pydicom/SC_rgb_rle_16bit_2frame.dcm", "sc/deep/rgb16_rle.dcm"),
    ]:
        (src / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus / rel, src / dest)
    return src
