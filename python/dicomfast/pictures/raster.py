"""Pictures read into pixels: PNG (and what else Pillow reads: BMP, GIF...) through
Pillow, TIFF through tifffile (8/16-bit, grey or colour, every page).  Nothing is
converted that would change a value: colour with an alpha channel that is not opaque
everywhere, 16-bit colour PNG (Pillow reads it as 8-bit) and other layouts are refused."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..errors import DicomError


@dataclass(frozen=True)
class Raster:
    #: (frames, rows, columns) grey or (frames, rows, columns, 3) RGB; uint8 or uint16.
    frames: np.ndarray
    icc_profile: bytes | None


def _check(a: np.ndarray, path: str) -> np.ndarray:
    if a.dtype not in (np.uint8, np.uint16):
        if a.dtype.kind in "ui" and a.size and a.min() >= 0 and a.max() <= 0xFFFF:
            a = a.astype(np.uint16)
        else:
            raise DicomError(f"{a.dtype} pixels: DICOM pictures take 8 or 16-bit", path=path)
    if a.ndim == 3 and a.shape[-1] in (2, 4):  # grey or colour with alpha
        alpha = a[..., -1]
        if not np.all(alpha == np.iinfo(a.dtype).max):
            raise DicomError(
                "the picture is transparent in places (alpha channel): flatten it first",
                path=path,
            )
        a = a[..., :-1]
        if a.shape[-1] == 1:
            a = a[..., 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[-1] == 3)):
        raise DicomError(f"pixels of shape {a.shape}: grey or RGB expected", path=path)
    return np.ascontiguousarray(a)


def _png_16bit_colour(path: str) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(26)
    return head[:8] == b"\x89PNG\r\n\x1a\n" and head[24] == 16 and head[25] in (2, 6)


def _need(module: str) -> None:
    raise DicomError(f"importing pictures needs {module}: pip install 'dicomfast[pictures]'")


def _read_tiff(path: str) -> Raster:
    try:
        import tifffile
    except ImportError:
        _need("tifffile")

    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        page = tif.pages[0]
        if not isinstance(page, tifffile.TiffPage):  # the first page is never a frame
            raise DicomError("the TIFF's first page cannot be read", path=path)
        photometric = int(page.photometric)
        if photometric == 3:  # palette
            raise DicomError("palette TIFF: save it as RGB", path=path)
        if photometric not in (1, 2):  # MINISBLACK, RGB
            name = getattr(page.photometric, "name", photometric)
            raise DicomError(
                f"TIFF photometric {name}: grey (min-is-black) or RGB expected", path=path
            )
        a = series.asarray()
        axes = series.axes
        tag = page.tags.get(34675)  # InterColorProfile
        icc = bytes(tag.value) if tag is not None else None
    if "S" in axes:  # samples last
        s = axes.index("S")
        a = np.moveaxis(a, s, -1)
        axes = axes[:s] + axes[s + 1 :] + "S"
    frame_axes = len(axes) - (3 if axes.endswith("S") else 2)
    a = a.reshape((-1, *a.shape[frame_axes:]))
    return Raster(np.stack([_check(f, path) for f in a]), icc)


def _read_pillow(path: str) -> Raster:
    try:
        from PIL import Image, ImageSequence
    except ImportError:
        _need("Pillow")

    if _png_16bit_colour(path):
        raise DicomError(
            "16-bit colour PNG: Pillow reads it as 8-bit; save it as 16-bit TIFF", path=path
        )
    frames = []
    try:
        img = Image.open(path)
    except OSError as e:
        raise DicomError(f"not a picture Pillow reads: {e}", path=path) from None
    with img:
        icc = img.info.get("icc_profile")
        for frame in ImageSequence.Iterator(img):
            mode = frame.mode
            if mode in ("P", "PA"):
                frame = frame.convert("RGBA")
            elif mode == "1":
                frame = frame.convert("L")
            elif mode not in ("L", "LA", "RGB", "RGBA", "I", "I;16", "I;16L", "I;16B"):
                raise DicomError(f"{mode} pictures: grey or RGB expected", path=path)
            frames.append(_check(np.asarray(frame), path))
    shapes = {f.shape for f in frames}
    if len(shapes) != 1 or len({f.dtype for f in frames}) != 1:
        raise DicomError("the picture's frames differ in size or depth", path=path)
    return Raster(np.stack(frames), icc)


def read_raster(path: str | os.PathLike[str]) -> Raster:
    """The pixels of the picture at ``path``, every frame or page."""
    name = os.fspath(path)
    with open(name, "rb") as fh:
        head = fh.read(4)
    if head in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"):
        return _read_tiff(name)
    return _read_pillow(name)
