"""Rendered resources and thumbnails (PS3.18 10.4.1.1.3, 10.7.3; 8.3.5).

``.../instances/{i}/rendered``, ``.../frames/{n}/rendered`` and the
``/thumbnail`` of a study, series, instance or frame: the frame goes through the
display pipeline of ``dicomfast export`` (:func:`dicomfast.batch.export.display_frame`:
Modality LUT, VOI LUT or window, MONOCHROME1 inverted, colour converted to RGB)
and is encoded as JPEG (default) or PNG.  Parameters:

- ``window=center,width[,linear|linear-exact|sigmoid]`` (replaces the VOI in the file);
- ``viewport=vw,vh[,sx,sy,sw,sh]``: the source region (default all of it) scaled to
  fit within ``vw`` x ``vh`` pixels, its aspect ratio kept;
- ``quality=1..100`` (JPEG).

An instance's rendering is its first frame (a multi-frame instance as one image
is not offered); a study's or series' thumbnail is its middle instance.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

import numpy as np
from aiohttp import web

from ..batch.export import display_frame
from ..dataset import Dataset
from ..errors import DicomError, PixelDataError
from ..pixels import display as D
from ..pixels.decode import frame
from ..pixels.encode import encode_frame
from ..reader import read
from ..uid import JPEGBaseline8Bit
from . import locate
from .context import context
from .errors import BadRequest, NotFound
from .mediatypes import JPEG, PNG, choose, parse_accept

THUMBNAIL = 128
_FUNCTIONS = {"linear": "LINEAR", "linear-exact": "LINEAR_EXACT", "sigmoid": "SIGMOID"}


@dataclass
class Rendering:
    media_type: str = JPEG
    window: tuple[float, float, str] | None = None
    viewport: tuple[int, ...] | None = None
    quality: int = 90


def _floats(text: str, name: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise BadRequest(f"{name}: numbers separated by commas, not {text!r}") from None


def parse_rendering(query: dict[str, str] | web.Request, accept: str | None) -> Rendering:
    q = query.query if isinstance(query, web.Request) else query
    r = Rendering()
    r.media_type = choose(parse_accept(accept), [JPEG, PNG], multipart=False).type
    if w := q.get("window"):
        parts = w.split(",")
        vals = _floats(",".join(parts[:2]), "window")
        fn = parts[2].strip().lower() if len(parts) > 2 else "linear"
        if len(vals) != 2 or vals[1] <= 0 or fn not in _FUNCTIONS:
            raise BadRequest(f"window=center,width[,function] with width > 0, not {w!r}")
        r.window = (vals[0], vals[1], _FUNCTIONS[fn])
    if v := q.get("viewport"):
        vals = _floats(v, "viewport")
        if len(vals) not in (2, 6) or vals[0] < 1 or vals[1] < 1 or max(vals[:2]) > 8192:
            raise BadRequest(f"viewport=vw,vh[,sx,sy,sw,sh] with 1..8192 pixels, not {v!r}")
        r.viewport = tuple(int(x) for x in vals)
    if qual := q.get("quality"):
        if not qual.isdigit() or not 1 <= int(qual) <= 100:
            raise BadRequest(f"quality is 1..100, not {qual!r}")
        r.quality = int(qual)
    return r


def _pipeline(arr: np.ndarray, ds: Dataset, window: tuple[float, float, str] | None) -> np.ndarray:
    """The display pipeline of ``export`` to 8 bits, or the given window instead of
    the file's VOI."""
    if window is None or arr.ndim != 2:
        return display_frame(arr, ds, bits=8)
    center, width, fn = window
    v = D.window(D.apply_modality_lut(arr, ds), center, width, 0.0, 255.0, fn)
    img = np.clip(np.rint(v), 0, 255).astype(np.uint8)
    if str(ds.get("PhotometricInterpretation") or "").strip().upper() == "MONOCHROME1":
        img = 255 - img
    return img


def display_8bit(
    arr: np.ndarray, ds: Dataset, window: tuple[float, float, str] | None = None
) -> np.ndarray:
    """A frame of stored values as the 8-bit image to encode.  For a grey frame of
    whole numbers every step (rescale, window or VOI LUT, scaling to 8 bits,
    MONOCHROME1 inversion) is a function of the stored value alone: the pipeline
    runs once per value in the frame's min..max and the pixels are looked up in
    that table (the same bytes as running it per pixel, in a fraction of the
    time).  A Modality LUT Sequence (possibly not monotonic, where the
    pipeline's own min/max scaling would see values the frame has not) takes
    the per-pixel path."""
    if arr.ndim == 2 and ds.get("ModalityLUTSequence") is None:
        span = D._table_range(arr)
        if span is not None:
            values = D._table_values(arr, *span).reshape(1, -1)
            table = np.ascontiguousarray(_pipeline(values, ds, window).reshape(-1), np.uint8)
            out = np.empty(arr.shape, np.uint8)
            D._gather(np.ascontiguousarray(arr), table, out, span[0])
            return out
    return _pipeline(arr, ds, window)


#: Files up to this size are read into memory to be rendered; larger ones (multi-frame)
#: are mapped.  Mapping a file costs its page faults and, when it is unmapped, a TLB
#: shoot-down on every core running another of the server's threads: more than reading
#: a single image (0.1-0.2 ms of a 1 ms 512x512 rendering on a 2-core VM).
READ_WHOLE = 16 << 20


def _dataset(path: str) -> Dataset:
    with open(path, "rb") as fh:
        data = fh.read() if os.fstat(fh.fileno()).st_size <= READ_WHOLE else None
    if data is None:
        return read(path)
    try:
        return read(data)
    except DicomError as e:
        e.path = e.path or path
        raise


def render(path: str, frame_number: int, r: Rendering) -> bytes:
    """Frame ``frame_number`` (1-based) of the file at ``path`` as JPEG/PNG bytes."""
    from PIL import Image

    ds = _dataset(path)
    try:
        n = int(ds.get("NumberOfFrames") or 1)
    except (TypeError, ValueError):
        n = 1
    if frame_number > n:
        raise NotFound(f"no frame {frame_number}: the instance has {n} frame(s)")
    if ds.get(0x7FE00010) is None:
        raise PixelDataError("the instance has no pixel data to render")
    img = display_8bit(frame(ds, frame_number - 1), ds, r.window)
    if r.media_type == JPEG and r.viewport is None and img.ndim == 2:
        # libjpeg-turbo as Pillow calls it (the same bytes), without Pillow's image and
        # stream layers
        return encode_frame(img, transfer_syntax=JPEGBaseline8Bit, quality=r.quality)
    pil = Image.fromarray(img)
    if r.viewport is not None:
        vw, vh = r.viewport[:2]
        if len(r.viewport) == 6:
            sx, sy, sw, sh = r.viewport[2:]
            sw = sw or pil.width - sx
            sh = sh or pil.height - sy
            pil = pil.crop((sx, sy, sx + abs(sw), sy + abs(sh)))
        scale = min(vw / pil.width, vh / pil.height)
        size = (max(1, round(pil.width * scale)), max(1, round(pil.height * scale)))
        pil = pil.resize(size, Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    if r.media_type == PNG:
        pil.save(buf, "PNG")
    else:
        pil.save(buf, "JPEG", quality=r.quality)
    return buf.getvalue()


async def _answer(request: web.Request, frame_number: int, r: Rendering) -> web.Response:
    ctx = context(request)
    m = request.match_info

    def run() -> bytes:  # one trip to a worker thread
        refs = locate.instances(ctx.archive, m["study"], m.get("series"), m.get("instance"))
        return render(refs[len(refs) // 2].path, frame_number, r)

    return web.Response(body=await ctx.run(run), content_type=r.media_type)


def _accept(request: web.Request) -> str | None:
    return request.query.get("accept") or request.headers.get("Accept")


async def rendered(request: web.Request) -> web.Response:
    r = parse_rendering(request, _accept(request))
    frames = request.match_info.get("frames")
    number = 1
    if frames is not None:
        if not frames.isdigit() or int(frames) < 1:
            raise BadRequest(f"one frame number (from 1) is rendered at a time, not {frames!r}")
        number = int(frames)
    return await _answer(request, number, r)


async def thumbnail(request: web.Request) -> web.Response:
    r = parse_rendering(request, _accept(request))
    if r.viewport is None:
        r.viewport = (THUMBNAIL, THUMBNAIL)
    frames = request.match_info.get("frames")
    number = int(frames) if frames and frames.isdigit() and int(frames) >= 1 else 1
    return await _answer(request, number, r)
