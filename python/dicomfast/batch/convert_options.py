"""What ``dicomfast convert`` is asked to do (:class:`ConvertOptions`); numpy-free, for
the core's path (:mod:`.convert_core`) as much as the Python one (:mod:`.convert`)."""

from __future__ import annotations

from dataclasses import dataclass


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
    #: The run has this one file: a lone frame may use every core too (files side by
    #: side would otherwise; ``transcode``'s ``spread``).
    lone_file: bool = False
    #: Durable outputs: each is left under its temporary name (``rec["staged"]``) for
    #: the runner's settle, ``files.sync_outputs``, to flush and rename with its group.
    #: False: renamed at once, flushed whenever the kernel does.
    fsync: bool = True
    max_error: int | None = None  # JPEG-LS near-lossless NEAR (None: 2)
    quality: int | None = None  # JPEG baseline/extended (None: 90)
    ratio: int | None = None  # JPEG 2000 lossy (None: 10)
    keep_uid: bool = False  # lossy outputs keep the SOP Instance UID
