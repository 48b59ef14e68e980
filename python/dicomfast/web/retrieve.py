"""WADO-RS (PS3.18 10.4): instances, metadata, bulk data and frames.

- ``GET /studies/{s}[/series/{se}[/instances/{i}]]``: ``multipart/related;
  type="application/dicom"``, one Part 10 file a part.  The transfer syntax comes
  from the Accept header: Explicit VR Little Endian by default, ``*`` as stored,
  else any our codecs reach from the stored one (decoding RLE, JPEG Lossless,
  Deflated Image Frame; encoding the same; any native syntax); 406 otherwise,
  before anything is sent.  When every file goes as stored, they are sent with
  ``sendfile`` under a ``Content-Length``; else transcoded ones are made one
  instance at a time (chunked).
- ``.../metadata``: a DICOM JSON array, one object an instance, written as each
  instance is read; binary values over the threshold and Pixel Data are
  ``BulkDataURI``\\ s to ``.../instances/{i}/bulkdata/{tag}``.
- ``.../bulkdata/{tag}``: the value, little endian, as ``application/octet-stream``
  (Pixel Data: one part a frame, as ``/frames`` gives them).
- ``.../frames/{n[,n...]}``: ``multipart/related; type="application/octet-stream"``,
  one part a frame: native little-endian pixels by default (decoded when stored
  compressed), ``transfer-syntax=*`` the frame as stored.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import numpy as np
from aiohttp import web

from .. import syntaxes
from ..dataset import Dataset
from ..element import ARRAY_VRS
from ..json_model import to_json_dict
from ..pixels.decode import decode_frames
from ..pixels.frames import encapsulated_data, native_data
from ..pixels.info import pixel_info
from ..reader import read
from ..writer import encode_file, encode_value
from . import locate
from .context import base_url, context
from .errors import BadRequest, NotAcceptable, NotFound
from .mediatypes import (
    DICOM,
    DICOM_JSON,
    EXPLICIT_LE,
    OCTET,
    choose,
    parse_accept,
    transfer_syntaxes_for,
)
from .multipart import MultipartWriter

PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)
_BINARY = frozenset({*ARRAY_VRS, "UN"})


def _uids(request: web.Request) -> tuple[str | None, str | None, str | None]:
    m = request.match_info
    return m.get("study"), m.get("series"), m.get("instance")


def _accept(request: web.Request) -> str | None:
    return request.query.get("accept") or request.headers.get("Accept")


def transcode(path: str, ts: str) -> list[bytes | memoryview]:
    """The Part 10 bytes of the file at ``path`` in transfer syntax ``ts``."""
    ds = read(path)
    want = syntaxes.get(ts)
    if ds.get(0x7FE00010) is not None:
        stored = syntaxes.get(ds.transfer_syntax or EXPLICIT_LE)
        if stored.encapsulated or stored.big_endian or want.encapsulated:
            ds.decompress()
        if want.encapsulated:
            ds.compress(ts)
    return encode_file(ds, ts)


def _file_bytes(path: str) -> list[bytes | memoryview]:
    with open(path, "rb") as fh:
        return [fh.read()]


async def instances(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    refs = await ctx.run(locate.instances, ctx.archive, *_uids(request))
    ranges = parse_accept(_accept(request))
    choose(ranges, [DICOM], multipart=True)
    plan = []
    for ref in refs:
        ts = transfer_syntaxes_for(ranges, DICOM, ref.transfer_syntax_uid)
        if ts is None:
            raise NotAcceptable(
                f"instance {ref.sop_instance_uid} is stored as {ref.transfer_syntax_uid}, "
                "which cannot be sent in any acceptable transfer syntax"
            )
        plan.append((ref, ts))
    out = MultipartWriter(request, DICOM)
    if all(ts == ref.transfer_syntax_uid for ref, ts in plan):  # as stored: sendfile
        return await out.send_files(
            [(ref.path, f"{DICOM}; transfer-syntax={ts}") for ref, ts in plan], ctx.executor
        )
    await out.start()
    for ref, ts in plan:
        await out.begin_part(f"{DICOM}; transfer-syntax={ts}")
        if ts == ref.transfer_syntax_uid:
            produce = functools.partial(_file_bytes, ref.path)
        else:
            produce = functools.partial(transcode, ref.path, ts)
        await out.write_chunks(produce, ctx.executor)
    return await out.finish()


def instance_url(base: str, ds: Dataset) -> str:
    return (
        f"{base}/studies/{ds.get('StudyInstanceUID')}/series/{ds.get('SeriesInstanceUID')}"
        f"/instances/{ds.get('SOPInstanceUID')}"
    )


def _size(elem: Any) -> int:
    v = elem.value
    if isinstance(v, np.ndarray):
        return int(v.nbytes)
    try:
        return len(v) if v is not None else 0
    except TypeError:
        return 0


def metadata_of(path: str, base: str, threshold: int) -> dict[str, Any]:
    """The DICOM JSON of an instance with BulkDataURIs for large binary values."""
    ds = read(path)
    url = instance_url(base, ds)
    kept = Dataset()
    bulk: dict[int, str] = {}
    for elem in ds:
        if elem.tag in PIXEL_TAGS or (elem.VR in _BINARY and _size(elem) > threshold):
            bulk[elem.tag] = elem.VR if elem.VR in _BINARY else "OB"
        else:
            kept[elem.tag] = elem
    obj = to_json_dict(kept)
    for tag, vr in bulk.items():
        obj[f"{tag:08X}"] = {"vr": vr, "BulkDataURI": f"{url}/bulkdata/{tag:08X}"}
    return dict(sorted(obj.items()))


async def metadata(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    refs = await ctx.run(locate.instances, ctx.archive, *_uids(request))
    choose(parse_accept(_accept(request)), [DICOM_JSON, "application/json"], multipart=False)
    base = base_url(request)
    threshold = ctx.options.bulk_data_threshold
    resp = web.StreamResponse(headers={"Content-Type": DICOM_JSON})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    for k, ref in enumerate(refs):
        obj = await ctx.run(metadata_of, ref.path, base, threshold)
        await resp.write((b"[" if k == 0 else b",") + json.dumps(obj).encode())
    await resp.write(b"]")
    await resp.write_eof()
    return resp


def parse_frames(text: str) -> list[int]:
    try:
        numbers = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise BadRequest(f"frame numbers must be integers: {text!r}") from None
    if not numbers or min(numbers) < 1:
        raise BadRequest(f"frame numbers start at 1: {text!r}")
    return numbers


def frames_of(path: str, numbers: list[int] | None, ts: str) -> list[tuple[str, bytes]]:
    """(part Content-Type, bytes) of each frame (1-based; None: all): as stored for
    ``ts`` ``*`` or the stored syntax, else native little endian."""
    ds = read(path)
    if not any(t in ds for t in PIXEL_TAGS):
        raise NotFound("the instance has no pixel data")
    info = pixel_info(ds)
    n = info.number_of_frames
    numbers = numbers or list(range(1, n + 1))
    bad = [k for k in numbers if k > n]
    if bad:
        raise NotFound(f"no frame {bad[0]}: the instance has {n} frame(s)")
    stored = info.transfer_syntax
    as_stored = ts in ("*", stored)
    out = []
    if as_stored and info.is_encapsulated:
        enc = encapsulated_data(ds, info)
        src = memoryview(enc.source)
        for k in numbers:
            data = b"".join(bytes(src[o : o + ln]) for o, ln in enc.frames[k - 1])
            out.append((f"{OCTET}; transfer-syntax={stored}", data))
        return out
    size = info.rows * info.columns * info.samples_per_pixel * info.bits_allocated // 8
    native = None
    if not info.is_encapsulated and info.bits_allocated % 8 == 0 and not info.ybr422_native:
        native = native_data(ds, info)
        if native.big_endian and not as_stored:
            native = None
    label = stored if as_stored else EXPLICIT_LE
    for k in numbers:
        if native is not None:
            data = native.data[(k - 1) * size : k * size].tobytes()
        else:
            arr = decode_frames(ds, k - 1, 1, info=info)[0]
            data = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
        out.append((f"{OCTET}; transfer-syntax={label}", data))
    return out


def _frame_syntax(request: web.Request, stored: str) -> str:
    ranges = parse_accept(_accept(request))
    choose(ranges, [OCTET], multipart=True)
    for a in ranges:
        if a.type not in (OCTET, "*/*", "", "application/*"):
            continue
        ts = a.transfer_syntax or EXPLICIT_LE
        if ts == "*" or ts == stored:
            return "*"
        row = syntaxes.get(stored)
        if ts == EXPLICIT_LE and (not row.encapsulated or row.can_decode):
            return EXPLICIT_LE
    raise NotAcceptable(f"frames stored as {stored} cannot be sent as any acceptable type")


async def _send_parts(request: web.Request, parts: list[tuple[str, bytes]]) -> web.StreamResponse:
    out = MultipartWriter(request, OCTET)
    await out.start()
    for ctype, data in parts:
        await out.begin_part(ctype)
        await out.write(data)
    return await out.finish()


async def frames(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    numbers = parse_frames(request.match_info["frames"])
    (ref,) = await ctx.run(locate.instances, ctx.archive, *_uids(request))
    ts = _frame_syntax(request, ref.transfer_syntax_uid)
    parts = await ctx.run(frames_of, ref.path, numbers, ts)
    return await _send_parts(request, parts)


def bulk_value(path: str, tag: int) -> bytes:
    ds = read(path)
    elem = ds.get(tag)
    if elem is None:
        raise NotFound(f"the instance has no ({tag >> 16:04X},{tag & 0xFFFF:04X})")
    return bytes(encode_value(elem, explicit_vr=True, big_endian=False, charset=None))


async def bulkdata(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    try:
        tag = int(request.match_info["tag"], 16)
    except ValueError:
        raise BadRequest("the bulk data tag must be 8 hex digits") from None
    (ref,) = await ctx.run(locate.instances, ctx.archive, *_uids(request))
    if tag in PIXEL_TAGS:
        ts = _frame_syntax(request, ref.transfer_syntax_uid)
        return await _send_parts(request, await ctx.run(frames_of, ref.path, None, ts))
    choose(parse_accept(_accept(request)), [OCTET], multipart=True)
    data = await ctx.run(bulk_value, ref.path, tag)
    return await _send_parts(request, [(OCTET, data)])
