"""PNG pictures written by the core for ``dicomfast export`` (the ``png`` crate): every
sample back through other decoders (Pillow, imagecodecs' libpng), and arrays they
cannot be made from refused with a ValueError, never a crash."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from dicomfast import _core
from dicomfast.batch.export import save_image

CASES = [
    (np.uint8, (37, 51)),
    (np.uint16, (37, 51)),
    (np.uint8, (20, 31, 3)),
    (np.uint16, (20, 31, 3)),
    (np.uint8, (1, 1)),
]


@pytest.mark.parametrize(("dtype", "shape"), CASES, ids=str)
def test_png_holds_every_sample(dtype: type, shape: tuple[int, ...], tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    a = rng.integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)
    path = tmp_path / "x.png"
    save_image(a, str(path), "png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    imagecodecs = pytest.importorskip("imagecodecs")
    np.testing.assert_array_equal(imagecodecs.png_decode(data), a)
    if not (dtype is np.uint16 and len(shape) == 3):  # Pillow reads 16-bit RGB as 8-bit
        from PIL import Image

        np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(data))), a)


def test_big_endian_and_strided_arrays_are_written_as_their_values(tmp_path: Path) -> None:
    a = np.arange(64 * 48, dtype=">u2").reshape(64, 48)[::2, ::3]
    save_image(a, str(tmp_path / "x.png"), "png")
    imagecodecs = pytest.importorskip("imagecodecs")
    np.testing.assert_array_equal(imagecodecs.png_decode((tmp_path / "x.png").read_bytes()), a)


def test_what_a_png_cannot_hold_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="8- or 16-bit"):
        save_image(np.zeros((4, 4), np.float32), str(tmp_path / "f.png"), "png")
    with pytest.raises(ValueError, match="8- or 16-bit"):
        save_image(np.zeros((4, 4, 4), np.uint8), str(tmp_path / "rgba.png"), "png")
    buf = np.zeros((4, 4), np.uint8)
    for rows, cols, samples, bits in [(5, 4, 1, 8), (4, 4, 3, 8), (4, 4, 1, 12), (0, 0, 1, 8)]:
        with pytest.raises(ValueError):
            _core.encode_png(buf, rows, cols, samples, bits)
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.encode_png(np.zeros((4, 8), np.uint8)[:, ::2], 4, 4, 1, 8)
