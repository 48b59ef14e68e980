"""The real-file corpus beside the checkout (``../shared/corpus``) and its manifest."""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("DICOMFAST_CORPUS", ROOT.parent / "shared" / "corpus"))


def load_manifest() -> list[dict]:
    path = CORPUS / "manifest.json"
    if not path.exists():
        return []
    return json.loads(path.read_text())["files"]


MANIFEST = load_manifest()

# Files pydicom reads but that are damaged so that dicomfast refuses them by
# default (and reads their valid prefix with force=True).
PARSE_MUST_FAIL = {
    "public/broken/CT1_JPLL_truncated_60pct.dcm",
    "public/broken/CT1_UNC_truncated_pixels.dcm",
    "public/broken/CT_small_truncated_header.dcm",
    "public/broken/NM1_JPLL_bad_item_length.dcm",
}


def corpus_path(rel: str) -> Path:
    return CORPUS / rel
