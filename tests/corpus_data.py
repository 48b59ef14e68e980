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


# Lossy JPEG 2000 / HTJ2K syntaxes, whose reference decode (the manifest's, through
# OpenJPEG) can be made again here with imagecodecs' OpenJPEG.
J2K_LOSSY = {"1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.203"}


def lossy_within_one_of_reference(entry: dict, arr) -> bool:  # noqa: ANN001 - numpy array
    """Whether ``arr`` is within one of the reference pixels of a lossy JPEG 2000 entry:
    the frames decoded again by OpenJPEG (imagecodecs), which must give the manifest's
    hash (so they are the reference), then compared sample by sample. Two conformant
    irreversible decoders round the 9/7 wavelet's floats differently, by one at most
    (the 0.07% of the samples of the pydicom-data RGB file, measured)."""
    import hashlib

    import imagecodecs
    import numpy as np
    import pydicom
    from pydicom.encaps import generate_frames

    if entry.get("transfer_syntax") not in J2K_LOSSY:
        return False
    ds = pydicom.dcmread(corpus_path(entry["path"]))
    n = int(ds.get("NumberOfFrames") or 1)
    frames = [
        imagecodecs.jpeg2k_decode(f) for f in generate_frames(ds.PixelData, number_of_frames=n)
    ]
    ref = np.stack(frames) if n > 1 else frames[0]
    ref = ref.astype(arr.dtype).reshape(arr.shape)
    if hashlib.sha256(np.ascontiguousarray(ref).tobytes()).hexdigest() != entry["pixel_sha256"]:
        return False
    diff = np.abs(ref.astype(np.int64) - arr.astype(np.int64))
    return int(diff.max()) <= 1
