"""Fixtures shared by the tests; the corpus helpers live in ``corpus_data``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from corpus_data import CORPUS, MANIFEST  # noqa: E402


def pytest_collection_modifyitems(config, items):  # noqa: ANN001
    if not MANIFEST:
        skip = pytest.mark.skip(reason=f"corpus not found at {CORPUS}")
        for item in items:
            if "corpus" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def ct_small() -> Path:
    p = CORPUS / "public/pydicom/CT_small.dcm"
    if not p.exists():
        pytest.skip("corpus not found")
    return p
