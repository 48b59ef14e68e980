"""Convert one file to another transfer syntax: the unit of work of
``dicomfast convert`` (runs in a worker process or on a Dask worker)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import uid as uids
from ..dataset import Dataset
from ..reader import read
from ..writer import encode_file
from . import files
from .sources import Source
from .syntaxes import is_encapsulated

PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)


@dataclass(frozen=True, slots=True)
class ConvertOptions:
    """What to do with every file (picklable: sent to the workers)."""

    out: str
    transfer_syntax: str
    predictor: int = 1
    layout: str = "keep"  # "keep": the input's relative path; "uid": study/series/instance.dcm
    verify: bool = False
    resume: bool = True
    copy_failed: bool = False
    threads: int | None = None  # codec threads per file (None: all cores)
    fsync: bool = True


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


def transcode(
    ds: Dataset, ts: str, *, predictor: int = 1, threads: int | None = None
) -> np.ndarray | None:
    """Change ``ds`` in place so that it can be written in ``ts``; returns the pixels it
    holds afterwards (decoded), or None if there is nothing to compare."""
    from ..pixels.decode import pixel_array
    from ..pixels.encode import compress, decompress

    if not _has_pixels(ds):
        return None
    current = ds.transfer_syntax or uids.ExplicitVRLittleEndian
    if is_encapsulated(ts):
        if current == ts:
            return None  # already in the target syntax: the fragments are copied as they are
        arr = pixel_array(ds, threads=threads)
        compress(ds, ts, predictor=predictor, threads=threads, arr=arr)
        return arr
    decompress(ds, threads=threads)
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
        dst = output_path(src, ds, opts)
        rec["dst"] = dst
        if os.path.abspath(dst) == os.path.abspath(src.path):
            raise ValueError("the output would overwrite the input")
        sop = ds.get("SOPInstanceUID")
        if opts.resume and os.path.exists(dst) and is_complete(dst, sop, opts.transfer_syntax):
            rec.update(status="skipped", reason="output exists and is complete")
            rec["bytes_out"] = os.path.getsize(dst)
            return rec
        pixels = transcode(ds, opts.transfer_syntax, predictor=opts.predictor, threads=opts.threads)
        chunks = encode_file(ds, opts.transfer_syntax)
        tmp = files.temp_path_for(dst)
        rec["bytes_out"] = files.write_chunks(tmp, chunks, fsync=opts.fsync)
        del chunks
        if opts.verify:
            _verify(tmp, ds, pixels, opts.threads)
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
