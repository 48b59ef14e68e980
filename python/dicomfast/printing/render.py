"""Rendering a film box the way a printer lays it out (PS3.4 H, PS3.3 C.13).

Per grayscale image box: its P-Values (8 or 12 bits) go through Polarity and
the Presentation LUT (IDENTITY, LIN OD or a table) to P-Values, which the
Grayscale Standard Display Function (PS3.14 §7.2, :func:`~dicomfast.pixels.gsdf.pvalues_to_density`)
turns into optical densities between the film box's Min and Max Density for
its Illumination and Reflected Ambient Light.  The image is then scaled into
its box keeping its aspect ratio (Magnification Type REPLICATE: the largest
integer factor, nearest neighbour; BILINEAR; CUBIC: Keys' a = -0.5; NONE: one
image pixel per device pixel, cropped to the box) and centred; the rest of
the box is the Border Density, a box without image the Empty Image Density.

The sheet's 16-bit values encode density linearly over the film's range:
``v = 65535 (Dmax - D) / (Dmax - Dmin)`` (white is Min Density, black Max
Density; recorded in the PNG's text), so a viewer shows the film as on a
light box.  Colour image boxes are RGB; only layout, scaling and polarity
apply to them, and densities are shown as greys on the same scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from ..pixels.gsdf import pvalues_to_density
from .film import Box, film_pixels, layout

MAGNIFICATIONS = ("REPLICATE", "BILINEAR", "CUBIC", "NONE")


@dataclass
class PresentationLut:
    """A Presentation LUT (PS3.3 C.11.4): a shape or a table of output P-Values."""

    shape: str | None = "IDENTITY"
    #: (first mapped value, output bits) and the table, when not a shape.
    first: int = 0
    bits: int = 12
    table: np.ndarray | None = None


@dataclass
class ImageBoxContent:
    """One image box's image as the SCU sent it."""

    pixels: np.ndarray  # (rows, cols) uint8/uint16 P-Values, or (rows, cols, 3) uint8 RGB
    bits: int = 8
    polarity: str = "NORMAL"
    magnification: str | None = None
    requested_size_mm: float | None = None
    presentation_lut: PresentationLut | None = None


@dataclass
class FilmLayout:
    """What a Film Box says about the sheet."""

    display_format: str
    film_size: str = "14INX17IN"
    orientation: str = "PORTRAIT"
    magnification: str = "CUBIC"
    border_density: str = "BLACK"
    empty_density: str = "BLACK"
    min_density: int = 20  # hundredths of OD
    max_density: int = 300
    trim: bool = False
    illumination: float = 2000.0
    ambient: float = 10.0
    presentation_lut: PresentationLut | None = None
    color: bool = False
    images: dict[int, ImageBoxContent] = field(default_factory=dict)


@lru_cache(maxsize=32)
def _gsdf_codes(bits: int, dmin: float, dmax: float, illum: float, amb: float) -> np.ndarray:
    """Sheet code (uint16) of every P-Value of ``bits`` bits, via the GSDF."""
    d = pvalues_to_density(bits, dmin, dmax, illumination=illum, ambient=amb)
    return _codes(d, dmin, dmax)


def _codes(density: Any, dmin: float, dmax: float) -> np.ndarray:
    v = np.rint((dmax - np.asarray(density, np.float64)) * (65535.0 / (dmax - dmin)))
    return np.clip(v, 0, 65535).astype(np.uint16)


def density_of(text: str, dmin: float, dmax: float) -> float:
    """Border/Empty Image Density: BLACK, WHITE or hundredths of OD."""
    t = (text or "BLACK").strip().upper()
    if t == "BLACK":
        return dmax
    if t == "WHITE":
        return dmin
    return int(t) / 100.0


def _lut_codes(box: ImageBoxContent, film: FilmLayout) -> np.ndarray:
    """Sheet code of every stored value of the box's image."""
    dmin, dmax = film.min_density / 100.0, film.max_density / 100.0
    n = 1 << box.bits
    plut = box.presentation_lut or film.presentation_lut or PresentationLut()
    shape = (plut.shape or "").strip().upper() if plut.table is None else None
    values = np.arange(n)
    if box.polarity.strip().upper() == "REVERSE":
        values = values[::-1]
    if shape == "LIN OD":
        # input linear in optical density: 0 is Max Density, the top value Min Density
        dens = dmax - (dmax - dmin) * values / (n - 1)
        return _codes(dens, dmin, dmax)
    if plut.table is not None:
        idx = np.clip(values - plut.first, 0, len(plut.table) - 1)
        pv = plut.table[idx].astype(np.int64)
        codes = _gsdf_codes(plut.bits, dmin, dmax, film.illumination, film.ambient)
        return codes[np.clip(pv, 0, len(codes) - 1)]
    codes = _gsdf_codes(box.bits, dmin, dmax, film.illumination, film.ambient)
    return codes[values]


def _taps(n_out: int, n_in: int, scale: float, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Source indices (n_out, k) and weights (n_out, k) of a 1-D resampling."""
    x = (np.arange(n_out) + 0.5) / scale - 0.5
    if kind == "BILINEAR":
        x0 = np.floor(x)
        f = x - x0
        idx = np.stack([x0, x0 + 1], axis=1)
        w = np.stack([1 - f, f], axis=1)
    else:  # CUBIC (Keys, a = -0.5)
        x0 = np.floor(x)
        f = (x - x0)[:, None]
        idx = x0[:, None] + np.arange(-1, 3)[None, :]
        d = np.abs(f - np.arange(-1, 3)[None, :])
        a = -0.5
        w = np.where(
            d <= 1,
            (a + 2) * d**3 - (a + 3) * d**2 + 1,
            np.where(d < 2, a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a, 0.0),
        )
    return np.clip(idx, 0, n_in - 1).astype(np.intp), w.astype(np.float32)


def _pass(src: np.ndarray, n_out: int, kind: str) -> np.ndarray:
    """Resample ``src`` along axis 0 to ``n_out`` rows."""
    idx, w = _taps(n_out, src.shape[0], n_out / src.shape[0], kind)
    tail = (1,) * (src.ndim - 1)
    out = src[idx[:, 0]] * w[:, 0].reshape(-1, *tail)
    for k in range(1, idx.shape[1]):
        out += src[idx[:, k]] * w[:, k].reshape(-1, *tail)
    return out


def _resample(img: np.ndarray, out_h: int, out_w: int, kind: str) -> np.ndarray:
    """``img`` scaled to ``out_h`` x ``out_w`` (separable; float32 arithmetic)."""
    h, w = img.shape[:2]
    if kind in ("REPLICATE", "NONE") or (out_h == h and out_w == w):
        ys = np.minimum((np.arange(out_h) * h) // out_h, h - 1)
        xs = np.minimum((np.arange(out_w) * w) // out_w, w - 1)
        return img[ys][:, xs]
    src = img.astype(np.float32)
    rows = _pass(src, out_h, kind)  # along axis 0: gathers of whole rows
    cols = _pass(np.ascontiguousarray(np.swapaxes(rows, 0, 1)), out_w, kind)
    cols = np.swapaxes(cols, 0, 1)
    top = 65535 if img.dtype == np.uint16 else 255
    return np.clip(np.rint(cols), 0, top).astype(img.dtype)


def _fit(
    box: Box, img_h: int, img_w: int, content: ImageBoxContent, film: FilmLayout, dpi: int
) -> tuple[int, int, str]:
    """Output size of the image in its box and the resampling used."""
    kind = (content.magnification or film.magnification or "CUBIC").strip().upper()
    if kind not in MAGNIFICATIONS:
        kind = "CUBIC"
    if kind == "NONE":
        return img_h, img_w, kind
    scale = min(box.width / img_w, box.height / img_h)
    if content.requested_size_mm:
        scale = min(scale, content.requested_size_mm / 25.4 * dpi / img_w)
    if kind == "REPLICATE" and scale >= 1:
        scale = float(int(scale))
    return max(1, int(img_h * scale)), max(1, int(img_w * scale)), kind


def render(film: FilmLayout, dpi: int) -> np.ndarray:
    """The sheet of ``film`` at ``dpi``: uint16 (rows, cols), or uint8 RGB for colour."""
    width, height = film_pixels(film.film_size, film.orientation, dpi)
    dmin, dmax = film.min_density / 100.0, film.max_density / 100.0
    border = int(_codes(density_of(film.border_density, dmin, dmax), dmin, dmax))
    empty = int(_codes(density_of(film.empty_density, dmin, dmax), dmin, dmax))
    if film.color:
        sheet = np.empty((height, width, 3), np.uint8)
        sheet[...] = border >> 8
    else:
        sheet = np.full((height, width), border, np.uint16)
    for box in layout(film.display_format, width, height):
        content = film.images.get(box.position)
        area = sheet[box.y : box.y + box.height, box.x : box.x + box.width]
        if content is None:
            area[...] = empty >> 8 if film.color else empty
            continue
        src = content.pixels
        if film.color:
            if src.ndim == 2:
                src = np.repeat(src[..., None], 3, axis=2)
            if content.polarity.strip().upper() == "REVERSE":
                src = 255 - src
        else:
            src = _lut_codes(content, film)[src]
        out_h, out_w, kind = _fit(box, src.shape[0], src.shape[1], content, film, dpi)
        scaled = _resample(src, out_h, out_w, kind) if kind != "NONE" else src
        # centre; crop what does not fit (NONE on a small box)
        sh, sw = scaled.shape[:2]
        cy, cx = max(0, (sh - box.height) // 2), max(0, (sw - box.width) // 2)
        scaled = scaled[cy : cy + box.height, cx : cx + box.width]
        sh, sw = scaled.shape[:2]
        y0, x0 = (box.height - sh) // 2, (box.width - sw) // 2
        area[y0 : y0 + sh, x0 : x0 + sw] = scaled
        if film.trim:
            _trim(area, y0, x0, sh, sw, dpi, film.color)
    return sheet


def _trim(area: np.ndarray, y0: int, x0: int, h: int, w: int, dpi: int, color: bool) -> None:
    """Trim YES: a white line (Min Density) around the image, 1/100 inch wide."""
    t = max(1, dpi // 100)
    white = 255 if color else 65535
    top, left = max(0, y0 - t), max(0, x0 - t)
    bottom, right = min(area.shape[0], y0 + h + t), min(area.shape[1], x0 + w + t)
    area[top:y0, left:right] = white
    area[y0 + h : bottom, left:right] = white
    area[top:bottom, left:x0] = white
    area[top:bottom, x0 + w : right] = white
