"""De-identify one file: the unit of work of ``dicomfast anonymize`` (runs in a worker
process, like :func:`~dicomfast.batch.convert.convert_file`, on the same runner).

The per-element pass is Rust's (:mod:`dicomfast.deid.fast`), which writes the output
file's bytes directly; the data sets it declines (its reason is in the report record as
``python_pass``) go through the Python engine and writer, with the same result."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, cast

from ..deid import Deidentifier, burned_in_reason
from ..deid.fast import EncodedFile
from ..deid.fast import encode_file as encode_fast
from ..reader import read
from ..writer import encode_file
from . import files
from .convert import _SCRATCH, is_complete, transcode
from .sources import Source


@dataclass(frozen=True)
class AnonymizeOptions:
    """What to do with every file (picklable: sent to the workers)."""

    out: str
    deid: Deidentifier
    transfer_syntax: str | None = None  # None: the input's
    layout: str = "uid"  # "uid": study/series/instance.dcm (new UIDs); "keep": input's path
    resume: bool = True
    allow_burned_in: bool = False
    #: Durable outputs: left under temporary names for the runner's settle
    #: (``files.sync_outputs``) to flush, rename and flush their folders with their group.
    fsync: bool = True
    threads: int | None = None


def anonymize_file(src: Source, opts: AnonymizeOptions) -> dict[str, Any]:
    """De-identify ``src``; never raises: the outcome is a report record (``status``:
    anonymized, skipped, excluded (burned-in annotation) or failed, with ``reason``).
    The input is never written to; the output appears whole or not at all."""
    t0 = time.perf_counter()
    rec: dict[str, Any] = {"src": src.path, "dst": None, "status": "failed", "bytes_in": src.size}
    tmp = None
    try:
        ds = read(src.path)
        if ds.__dict__.get("read_error") is not None:
            raise ds.read_error
        reason = burned_in_reason(ds)
        if reason is not None:
            rec["burned_in"] = reason
            if not opts.allow_burned_in:
                rec.update(status="excluded", reason=f"burned-in annotation: {reason}")
                return rec
        # a data set read from a file always has a transfer syntax
        ts = cast(str, opts.transfer_syntax or ds.transfer_syntax)
        fast = encode_fast(opts.deid, ds, ts)
        if isinstance(fast, str):  # left to the Python engine: say why
            rec["python_pass"] = fast
            new: Any = opts.deid.anonymize(ds)
        else:
            new = fast
        dst = (
            files.uid_layout_path(opts.out, new)
            if opts.layout == "uid"
            else os.path.join(opts.out, src.rel)
        )
        rec["dst"] = dst
        if os.path.abspath(dst) == os.path.abspath(src.path):
            raise ValueError("the output would overwrite the input")
        if opts.resume and os.path.exists(dst) and is_complete(dst, new.get("SOPInstanceUID"), ts):
            rec.update(status="skipped", reason="output exists and is complete")
            rec["bytes_out"] = os.path.getsize(dst)
            return rec
        if isinstance(fast, EncodedFile):
            chunks = fast.chunks
        else:
            if ts != ds.transfer_syntax:
                transcode(new, ts, threads=opts.threads, scratch=_SCRATCH)
            chunks = encode_file(new, ts)
        tmp = files.temp_path_for(dst)
        rec["bytes_out"] = files.write_chunks(tmp, chunks, fsync=False)
        del chunks
        if opts.fsync:  # flushed, then renamed, then its folder flushed, with its group
            files.stage(rec, tmp, dst)  # (files.sync_outputs, the runner's settle)
        else:
            files.commit(tmp, dst)
        tmp = None
        rec["status"] = "anonymized"
    except Exception as e:  # one bad file must not stop the run
        rec["reason"] = f"{type(e).__name__}: {e}"
    finally:
        files.discard(tmp)
        rec["seconds"] = round(time.perf_counter() - t0, 6)
    return rec
