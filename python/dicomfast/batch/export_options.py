"""What ``dicomfast export`` is asked to make (:class:`ExportOptions`) and where its
outputs go under ``--layout keep``; numpy-free, for the core's path
(:mod:`.export_core`) as much as the Python one (:mod:`.export`)."""

from __future__ import annotations

import os
from typing import NamedTuple

FORMATS = {"npy": ".npy", "png": ".png", "jpeg": ".jpg", "tiff": ".tif"}


class ExportOptions(NamedTuple):
    """What an ``export`` run makes (a named tuple, like :class:`.sources.Source`)."""

    out: str
    format: str = "png"
    bits: int = 8  # 8 or 16 (JPEG: 8 only)
    window: tuple[float, float] | None = None  # (center, width) overriding the file's
    voi_index: int = 0
    values: str = "display"  # "display" | "modality" (npy: physical values) | "stored"
    layout: str = "keep"
    resume: bool = True
    copy_failed: bool = False
    jpeg_quality: int = 95
    #: Durable outputs: left under temporary names for the runner's settle
    #: (``files.sync_outputs``) to flush and rename with their group.
    fsync: bool = False
    #: A display's characteristic curve (DCMTK ``.lut``): grey output is mapped from
    #: P-Values to the display's driving levels by the GSDF (PS3.14).
    gsdf: str | None = None


def keep_base(rel: str, out: str) -> str:
    """The outputs' path under ``out`` less their extension, for the input at ``rel``
    (relative to its source folder) under ``--layout keep``: ``.dcm``/``.dicom`` dropped."""
    base, ext = os.path.splitext(rel)
    return os.path.join(out, base if ext.lower() in (".dcm", ".dicom") else rel)
