"""Colour space conversion: YBR_FULL (and YBR_FULL_422 once expanded) to RGB,
PS3.3 C.7.6.3.1.2 (the ITU-R BT.601 full-range matrix)."""

from __future__ import annotations

import numpy as np


def ybr_full_to_rgb(arr: np.ndarray, bits_stored: int = 8) -> np.ndarray:
    """``arr[..., 0:3]`` as Y, Cb, Cr to R, G, B of the same dtype, rounded and clipped to
    ``0 .. 2**bits_stored - 1``.

    8-bit samples are converted as pydicom 3 converts them (``as_rgb``: one float32
    matrix product, whose multiply-adds this machine's numpy may fuse), by the display
    kernels that reproduce it (:func:`dicomfast.pixels.display.convert_color_space`:
    one table look-up per sample, on the display threads for large arrays); other
    depths by the same arithmetic without fused multiply-adds, in numpy."""
    if arr.dtype == np.uint8 and bits_stored == 8 and arr.ndim and arr.shape[-1] == 3:
        from .display import convert_color_space

        return convert_color_space(arr, "YBR_FULL", "RGB")
    top = float((1 << bits_stored) - 1)
    half = float(1 << (bits_stored - 1))
    ybr = arr.astype(np.float32)
    y = ybr[..., 0]
    cb = ybr[..., 1] - half
    cr = ybr[..., 2] - half
    rgb = np.empty_like(ybr)
    rgb[..., 0] = y + 1.402 * cr
    rgb[..., 1] = y - (0.114 * 1.772 / 0.587) * cb - (0.299 * 1.402 / 0.587) * cr
    rgb[..., 2] = y + 1.772 * cb
    np.floor(rgb + 0.5, out=rgb)
    np.clip(rgb, 0.0, top, out=rgb)
    return rgb.astype(arr.dtype)


def rgb_to_ybr_full(arr: np.ndarray, bits_stored: int = 8) -> np.ndarray:
    """The inverse of :func:`ybr_full_to_rgb`."""
    top = float((1 << bits_stored) - 1)
    half = float(1 << (bits_stored - 1))
    rgb = arr.astype(np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    out = np.empty_like(rgb)
    out[..., 0] = 0.299 * r + 0.587 * g + 0.114 * b
    out[..., 1] = (b - out[..., 0]) / 1.772 + half
    out[..., 2] = (r - out[..., 0]) / 1.402 + half
    np.floor(out + 0.5, out=out)
    np.clip(out, 0.0, top, out=out)
    return out.astype(arr.dtype)


__all__ = ["rgb_to_ybr_full", "ybr_full_to_rgb"]
