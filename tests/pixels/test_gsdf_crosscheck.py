"""The GSDF of PS3.14 §7.1 against a second, independent implementation
(colour-science's ``eotf_DICOMGSDF`` and its inverse) at every JND index of
Table B-1 (j = 1..1023) and across the luminance range; Table B-1's own rows
are not available here as data (see test_gsdf.py for its quoted end points)."""

from __future__ import annotations

import numpy as np
import pytest
from dicomfast.pixels.gsdf import jnd_index, luminance

colour = pytest.importorskip("colour")


def test_luminance_at_every_jnd_index_equals_colour_science() -> None:
    j = np.arange(1, 1024)
    ours = luminance(j)
    theirs = colour.models.eotf_DICOMGSDF(j, in_int=True)
    assert np.max(np.abs(ours - theirs) / theirs) < 1e-9


def test_jnd_index_across_the_range_equals_colour_science() -> None:
    lum = np.logspace(np.log10(0.05), np.log10(3990.0), 2000)
    ours = jnd_index(lum)
    theirs = colour.models.eotf_inverse_DICOMGSDF(lum, out_int=False) * 1023
    assert np.max(np.abs(ours - theirs)) < 1e-6
