"""Convert one file to another transfer syntax: the unit of work of
``dicomfast convert`` (runs in a worker process or on a Dask worker)."""

from __future__ import annotations

import functools
import math
import os
import threading
import time
from typing import Any

import numpy as np

from .. import uid as uids
from ..dataset import Dataset
from ..reader import read
from ..syntaxes import is_encapsulated
from ..writer import encode_file
from . import files
from .convert_options import ConvertOptions
from .pending import Pending, PendingDecode, PendingEncode, defer_compress, defer_decompress
from .sources import Source
from .syntaxes import LOSSY

PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)


def _has_pixels(ds: Dataset) -> bool:
    return any(t in ds for t in PIXEL_TAGS)


def output_path(src: Source, ds: Dataset, opts: ConvertOptions) -> str:
    if opts.layout == "uid":
        return files.uid_layout_path(opts.out, ds)
    return os.path.join(opts.out, src.rel)


def is_complete(path: str, sop_instance_uid: Any, transfer_syntax: str) -> bool:
    """Is ``path`` a whole, parseable file of that instance in that syntax?"""
    try:
        ds = read(path)
    except Exception:
        return False
    if ds.__dict__.get("read_error") is not None:
        return False
    return ds.get("SOPInstanceUID") == sop_instance_uid and ds.transfer_syntax == transfer_syntax


class _Scratch(threading.local):
    """Output buffers of one worker thread, reused from file to file: decoding into memory
    the process already has (instead of a fresh allocation the kernel must fault in and zero
    page by page) is what makes a small file's conversion cheap.  A buffer is lent for one
    :func:`convert_file` call; nothing refers to it afterwards."""

    #: Buffers larger than this are allocated per file and not kept.
    KEEP = 64 << 20

    def __init__(self) -> None:
        self.buffers: dict[str, np.ndarray] = {}

    def take(self, key: str, nbytes: int) -> np.ndarray:
        """``nbytes`` bytes (uint8) of the buffer ``key``, grown if needed."""
        if nbytes > self.KEEP:
            return np.empty(nbytes, np.uint8)
        buf = self.buffers.get(key)
        if buf is None or buf.nbytes < nbytes:
            buf = self.buffers[key] = np.empty(nbytes, np.uint8)
        return buf[:nbytes]

    def array(self, key: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        n = math.prod(shape) * dtype.itemsize
        return self.take(key, n).view(dtype).reshape(shape)


_SCRATCH = _Scratch()


def transcode(
    ds: Dataset,
    ts: str,
    *,
    predictor: int = 1,
    threads: int | None = None,
    scratch: _Scratch | None = None,
    defer: bool = False,
    lossy: dict[str, Any] | None = None,
    spread: bool = False,
) -> np.ndarray | Pending | None:
    """Change ``ds`` in place so that it can be written in ``ts``; returns the pixels it
    holds afterwards (decoded), or None if there is nothing to compare.  With ``scratch``
    the new pixel values live in its buffers (valid until its next use).  With ``defer``
    (and ``scratch``), multi-frame pixels going to an encapsulated syntax, or encapsulated
    ones going to a little-endian native syntax (written from the buffer itself, no copy),
    are not coded yet: the :mod:`~dicomfast.batch.pending` value returned codes them as
    the file is written (``files.write_chunks(..., pending=)``); its ``pixels`` are those
    to compare.  ``lossy``: ``compress``'s ``quality``/``max_error``/``ratio``/``keep_uid``
    for a lossy ``ts`` (whose pixels are then not compared: None).  ``spread``: a lone
    frame may be coded on every core (a run of one file), not kept to this thread."""
    from ..pixels.decode import _check_supported, decode_frames, native_frames_view
    from ..pixels.encode import compress, decompress, needs_decoding
    from ..pixels.info import pixel_info

    if not _has_pixels(ds):
        return None
    # Checks the image attributes against each other and the data held, before anything
    # is allocated from them.
    info = pixel_info(ds)
    if info.number_of_frames <= 1 and threads is None and not spread:
        # A batch codes files side by side on every core: a lone frame keeps to its file's
        # thread (left to itself, a JPEG 2000 / HTJ2K codec would spread it over all).
        threads = 1
    shape = (info.number_of_frames, *info.frame_shape)
    current = ds.transfer_syntax or uids.ExplicitVRLittleEndian
    if is_encapsulated(ts) and current == ts:
        # Already in the target syntax: the fragments are copied as they are, once every
        # frame is known to decode to the size the attributes give (a corrupt input is
        # not passed on as converted).  Decoding is cheap next to the copy for RLE (0.1
        # ms for a 512x512 CT frame) and costs about 0.5 ms for JPEG Lossless.
        out = None if scratch is None else scratch.array("pixels", shape, info.dtype)
        arr = decode_frames(ds, threads=threads, info=info, out=out)
        return arr if info.number_of_frames > 1 else arr[0]
    _check_supported(info)  # before a buffer is sized for pixels that cannot be decoded
    if is_encapsulated(ts):
        # Native pixels that decode to themselves are encoded straight from the file.
        view = native_frames_view(ds, info)
        if view is not None:
            arr = view
        else:
            out = None if scratch is None else scratch.array("pixels", shape, info.dtype)
            arr = decode_frames(ds, threads=threads, info=info, out=out)
        if ts in LOSSY:
            compress(ds, ts, threads=threads, arr=arr, info=info, **(lossy or {}))
            return None
        pending: Pending | None
        if defer and scratch is not None:
            pending = defer_compress(ds, arr, info, ts, predictor=predictor, threads=threads)
            if pending is not None:
                return pending
        allocate = None if scratch is None else functools.partial(scratch.take, "encoded")
        compress(
            ds, ts, predictor=predictor, threads=threads, arr=arr, allocate=allocate, info=info
        )
        return arr if info.number_of_frames > 1 else arr[0]
    out = None
    if scratch is not None and needs_decoding(info):
        out = scratch.array("pixels", shape, info.dtype)
        if defer and ts in (uids.ExplicitVRLittleEndian, uids.ImplicitVRLittleEndian):
            pending = defer_decompress(ds, info, out, threads)
            if pending is not None:
                return pending
    decompress(ds, threads=threads, out=out, info=info)
    return None


def _verify(tmp: str, ds: Dataset, expected: np.ndarray | None, threads: int | None) -> None:
    from ..pixels.decode import pixel_array

    out = read(tmp)
    if out.__dict__.get("read_error") is not None:
        raise ValueError(f"verify: the output does not parse: {out.read_error}")
    if out.get("SOPInstanceUID") != ds.get("SOPInstanceUID"):
        raise ValueError("verify: SOP Instance UID differs")
    if not _has_pixels(ds):
        return
    if expected is None:
        expected = pixel_array(ds, threads=threads)
    got = pixel_array(out, threads=threads)
    if got.shape != expected.shape or not np.array_equal(got, expected):
        raise ValueError("verify: decoded output pixels differ from the input's")


def convert_file(src: Source, opts: ConvertOptions) -> dict[str, Any]:
    """Convert ``src``; never raises: the outcome is a report record
    (``status``: converted, skipped or failed, with ``reason``)."""
    t0 = time.perf_counter()
    rec: dict[str, Any] = {"src": src.path, "dst": None, "status": "failed", "bytes_in": src.size}
    tmp = None
    try:
        ds = read(src.path)
        if ds.__dict__.get("read_error") is not None:
            # Damage the reader tolerates (a missing delimiter, an item past its
            # sequence): the untouched parts would be copied as they are, into an
            # output as damaged as the input.  Reported (and copied with
            # --copy-failed) instead, naming where the damage is.
            raise ds.read_error
        dst = output_path(src, ds, opts)
        rec["dst"] = dst
        if os.path.abspath(dst) == os.path.abspath(src.path):
            raise ValueError("the output would overwrite the input")
        uid_out = ds.get("SOPInstanceUID")
        if opts.transfer_syntax in LOSSY and not opts.keep_uid and uid_out:
            # The same input and settings give the same new UID: a rerun resumes.
            settings = f"{opts.transfer_syntax}|{opts.quality}|{opts.max_error}|{opts.ratio}"
            uid_out = uids.generate_uid(entropy_srcs=[str(uid_out), settings])
        if opts.resume and os.path.exists(dst) and is_complete(dst, uid_out, opts.transfer_syntax):
            rec.update(status="skipped", reason="output exists and is complete")
            rec["bytes_out"] = os.path.getsize(dst)
            return rec
        pixels = transcode(
            ds,
            opts.transfer_syntax,
            predictor=opts.predictor,
            threads=opts.threads,
            scratch=_SCRATCH,
            defer=True,
            spread=opts.lone_file,
            lossy={
                "quality": opts.quality,
                "max_error": opts.max_error,
                "ratio": opts.ratio,
                "keep_uid": opts.keep_uid,
                "new_uid": uid_out,
            },
        )
        if isinstance(pixels, PendingDecode | PendingEncode):
            pending: Pending | None = pixels
            expected = pixels.pixels
        else:
            pending, expected = None, pixels
        chunks = encode_file(ds, opts.transfer_syntax)
        if pending is not None and not any(pending.owns(c) for c in chunks):
            pending.finish()  # the writer made its own copy of the buffer: do it again
            pending, chunks = None, encode_file(ds, opts.transfer_syntax)
        tmp = files.temp_path_for(dst)
        rec["bytes_out"] = files.write_chunks(tmp, chunks, fsync=False, pending=pending)
        del chunks
        if opts.verify:
            _verify(tmp, ds, expected, opts.threads)
        if opts.fsync:  # flushed, then renamed, with its group (files.sync_outputs)
            files.stage(rec, tmp, dst)
        else:
            files.commit(tmp, dst)
        tmp = None
        rec["status"] = "converted"
    except Exception as e:  # one bad file must not stop the run
        rec["reason"] = f"{type(e).__name__}: {e}"
        if opts.copy_failed and os.path.isfile(src.path):
            rec["copied_to"] = files.copy_failed(src.path, src.rel, opts.out)
    finally:
        files.discard(tmp)
        rec["seconds"] = round(time.perf_counter() - t0, 6)
    return rec
