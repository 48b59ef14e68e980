"""The rendered frame's table path gives the bytes the per-pixel display pipeline
gives (file window, given windows of each function, MONOCHROME1, signed pixels,
a window from the image's own range)."""

from __future__ import annotations

import numpy as np
import pytest
import webutil
from dicomfast.pixels.decode import frame
from dicomfast.reader import read
from dicomfast.web.render import _pipeline, display_8bit


@pytest.mark.parametrize(
    "window",
    [None, (40.0, 400.0, "LINEAR"), (40.0, 400.0, "LINEAR_EXACT"), (300.0, 1500.0, "SIGMOID")],
)
@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
def test_table_path_is_the_pipeline(window: tuple | None, photometric: str) -> None:
    ds = webutil.ct(rows=96, cols=96)
    ds.PhotometricInterpretation = photometric
    ds = read(webutil.encode(ds))
    arr = frame(ds, 0)
    assert np.array_equal(display_8bit(arr, ds, window), _pipeline(arr, ds, window))
    signed = (arr.astype(np.int32) - 2000).astype(np.int16)
    del ds.WindowCenter, ds.WindowWidth  # scaled from the image's own min..max
    got = display_8bit(signed, ds, window)
    assert np.array_equal(got, _pipeline(signed, ds, window))
    if window is None:
        assert got.min() < 50 < 200 < got.max()  # the full range used, not blank


@pytest.mark.parametrize("quality", [90, 40])
def test_grey_jpeg_is_pillows(tmp_path, quality: int) -> None:  # noqa: ANN001
    """A grey frame's JPEG (encoded by our libjpeg-turbo, without Pillow) is the very
    stream Pillow writes for the same image; a viewport still goes through Pillow."""
    import io

    from dicomfast.web.render import Rendering, render
    from PIL import Image

    path = tmp_path / "ct.dcm"
    path.write_bytes(webutil.encode(webutil.ct(rows=64, cols=80)))
    ds = read(path)
    expected = io.BytesIO()
    Image.fromarray(display_8bit(frame(ds, 0), ds)).save(expected, "JPEG", quality=quality)
    assert render(str(path), 1, Rendering(quality=quality)) == expected.getvalue()
    small = render(str(path), 1, Rendering(quality=quality, viewport=(40, 40)))
    assert Image.open(io.BytesIO(small)).size == (40, 32)
