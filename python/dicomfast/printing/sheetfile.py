"""The rendered sheet on disk: a PNG (16-bit grey or 8-bit RGB) and a PDF whose
page has the film's true physical size, both from one deflate stream.

The PNG's IDAT data is a zlib stream of scanlines, each prefixed by filter type
0 (None); a PDF image XObject with ``/FlateDecode`` and the PNG predictor
(``/Predictor 15``, PDF 1.5 §7.4.4.4) decodes exactly the same bytes, so the
pixels are compressed once for both files.  Compression (zlib level 1 by
default: the sheet is mostly flat) runs in independent row chunks in
threads: every chunk but the last ends on a sync flush, so their raw deflate
outputs concatenate into one valid stream.  Both files are written to a
temporary name beside the final one, fsynced and renamed.
"""

from __future__ import annotations

import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..tempfiles import publish

_CHUNK_ROWS = 512


def scanlines(img: np.ndarray) -> np.ndarray:
    """PNG scanlines of ``img`` (uint16 grey, or uint8 grey/RGB): a filter byte 0
    then the row's samples, big-endian."""
    h, w = img.shape[:2]
    per_row = img.size // h * img.dtype.itemsize
    out = np.empty((h, per_row + 1), dtype=np.uint8)
    out[:, 0] = 0
    row = out[:, 1:]
    if img.dtype == np.uint16:
        row.view(">u2")[...] = img.reshape(h, -1) if img.ndim == 3 else img
    else:
        row[...] = img.reshape(h, -1)
    return out


def _deflate_chunk(data: memoryview, level: int, last: bool) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, -15, 9)
    body = c.compress(data)
    return body + c.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def deflate(lines: np.ndarray, level: int = 1, threads: int | None = None) -> bytes:
    """The zlib stream of ``lines`` (C-contiguous bytes), compressed in row chunks
    in parallel."""
    raw = lines.reshape(-1).data
    step = _CHUNK_ROWS * lines.shape[1]
    spans = [(s, min(s + step, len(raw))) for s in range(0, len(raw), step)] or [(0, 0)]
    n = threads or min(4, os.cpu_count() or 1)
    if n > 1 and len(spans) > 1:
        with ThreadPoolExecutor(n) as pool:
            parts = list(
                pool.map(
                    lambda i: _deflate_chunk(
                        raw[spans[i][0] : spans[i][1]], level, i == len(spans) - 1
                    ),
                    range(len(spans)),
                )
            )
    else:
        parts = [
            _deflate_chunk(raw[a:b], level, i == len(spans) - 1) for i, (a, b) in enumerate(spans)
        ]
    header = b"\x78\x01"
    return b"".join([header, *parts, struct.pack(">I", zlib.adler32(raw) & 0xFFFFFFFF)])


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_bytes(img: np.ndarray, stream: bytes, dpi: int, text: dict[str, str]) -> list[bytes]:
    """The PNG file's parts: signature, IHDR, pHYs (``dpi``), tEXt, IDAT, IEND."""
    h, w = img.shape[:2]
    color = 2 if img.ndim == 3 else 0
    depth = 8 * img.dtype.itemsize
    ppm = round(dpi / 0.0254)
    parts = [
        b"\x89PNG\r\n\x1a\n",
        _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, 0)),
        _chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)),
    ]
    for k, v in text.items():
        parts.append(_chunk(b"tEXt", k.encode("latin-1") + b"\0" + v.encode("latin-1", "replace")))
    # IDAT chunks of at most 64 MiB each (a chunk's length field is 31 bits)
    view = memoryview(stream)
    for s in range(0, len(view), 1 << 26):
        parts.append(_chunk(b"IDAT", bytes(view[s : s + (1 << 26)])))
    parts.append(_chunk(b"IEND", b""))
    return parts


def pdf_bytes(img: np.ndarray, stream: bytes, width_in: float, height_in: float) -> list[bytes]:
    """A one-page PDF 1.5 of ``width_in`` x ``height_in`` inches showing ``img``
    (whose Flate+PNG-predictor data is ``stream``) over the whole page."""
    h, w = img.shape[:2]
    colors = 3 if img.ndim == 3 else 1
    bpc = 8 * img.dtype.itemsize
    pw, ph = width_in * 72.0, height_in * 72.0
    content = f"q {pw:.4f} 0 0 {ph:.4f} 0 0 cm /Im0 Do Q\n".encode()
    space = "/DeviceRGB" if colors == 3 else "/DeviceGray"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {pw:.4f} {ph:.4f}] "
            f"/Resources << /XObject << /Im0 5 0 R >> >> /Contents 4 0 R >>"
        ).encode(),
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
    ]
    image_head = (
        f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace {space} "
        f"/BitsPerComponent {bpc} /Filter /FlateDecode /DecodeParms << /Predictor 15 "
        f"/Colors {colors} /BitsPerComponent {bpc} /Columns {w} >> /Length {len(stream)} >>\n"
        "stream\n"
    ).encode()
    parts = [b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n"]
    offsets = []
    pos = len(parts[0])
    for i, body in enumerate(objects, 1):
        obj = b"%d 0 obj\n" % i + body + b"\nendobj\n"
        offsets.append(pos)
        parts.append(obj)
        pos += len(obj)
    offsets.append(pos)
    head = b"5 0 obj\n" + image_head
    tail = b"\nendstream\nendobj\n"
    parts += [head, stream, tail]
    pos += len(head) + len(stream) + len(tail)
    xref = [b"xref\n0 6\n0000000000 65535 f \n"] + [b"%010d 00000 n \n" % o for o in offsets]
    parts += xref
    parts.append(b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % pos)
    return parts


def write_atomic(path: str, parts: list[bytes], *, fsync: bool = True) -> None:
    """Write ``parts`` to ``path`` through a temporary file in the same folder and a rename."""
    publish(path, parts, fsync, prefix=".print-")


def write_sheet(
    img: np.ndarray,
    base: str,
    *,
    dpi: int,
    width_in: float,
    height_in: float,
    text: dict[str, str] | None = None,
    level: int = 1,
    fsync: bool = True,
) -> tuple[str, str]:
    """Write ``base.png`` and ``base.pdf``; return their paths."""
    stream = deflate(scanlines(img), level)
    png, pdf = base + ".png", base + ".pdf"
    write_atomic(png, png_bytes(img, stream, dpi, text or {}), fsync=fsync)
    write_atomic(pdf, pdf_bytes(img, stream, width_in, height_in), fsync=fsync)
    return png, pdf
