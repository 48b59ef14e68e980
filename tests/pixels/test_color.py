"""YBR_FULL -> RGB for ``as_rgb``: pydicom 3's own arithmetic, sample for sample."""

from __future__ import annotations

import numpy as np
import pytest
from dicomfast.pixels.color import ybr_full_to_rgb


def test_every_8bit_ybr_triple_converts_as_pydicom_converts_it() -> None:
    """All 2**24 (Y, Cb, Cr) triples: the same R, G, B as pydicom's ``convert_color_space``
    (a float32 matrix product whose multiply-adds numpy may fuse on this machine; the
    element-wise arithmetic used before differed in about 3 triples per million)."""
    processing = pytest.importorskip("pydicom.pixels.processing")
    cb, cr = np.meshgrid(np.arange(256, dtype=np.uint8), np.arange(256, dtype=np.uint8))
    chroma = np.stack([cb.ravel(), cr.ravel()], -1)
    for y in range(256):
        ybr = np.empty((1, 65536, 3), np.uint8)
        ybr[0, :, 0] = y
        ybr[0, :, 1:] = chroma
        theirs = processing.convert_color_space(ybr.copy(), "YBR_FULL", "RGB")
        ours = ybr_full_to_rgb(ybr, 8)
        assert ours.dtype == np.uint8 and ours.shape == ybr.shape
        bad = np.flatnonzero((ours != theirs).any(-1))
        assert bad.size == 0, (y, ybr[0, bad[:3]], ours[0, bad[:3]], theirs[0, bad[:3]])
