"""Decoding while writing: the frames of a multi-frame file converted to a native syntax
are decoded as its output file is written.

Decoding every frame and then writing the file leaves the cores idle while the kernel
copies the pixels into the page cache (a third of a fast conversion).  Here the output's
leading elements are written first, then ``_core.decode_frames_into`` decodes the frames
on the codec threads and writes each one (in order) as soon as it and those before it are
decoded, then the trailing elements follow: one pass, same bytes."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..dataset import Dataset
from ..pixels.decode import _check_supported, _decode_encapsulated, _threads
from ..pixels.encode import set_native_pixels
from ..pixels.frames import EncapsulatedData, encapsulated_data
from ..pixels.info import PixelInfo


class PendingFrames:
    """Encapsulated frames to be decoded into ``out`` as ``out`` is written out: the
    data set's new native Pixel Data views ``out`` but holds its pixels only once
    :meth:`write_to` or :meth:`decode` has run."""

    def __init__(
        self, info: PixelInfo, enc: EncapsulatedData, out: np.ndarray, threads: int | None
    ) -> None:
        self.info = info
        self.enc = enc
        self.out = out
        self.threads = threads
        self.done = False

    def owns(self, chunk: Any) -> bool:
        """Whether ``chunk`` (one of ``encode_file``'s) is the view of ``out``."""
        if not isinstance(chunk, memoryview) or chunk.nbytes != self.out.nbytes:
            return False
        addr = np.frombuffer(chunk, np.uint8).__array_interface__["data"][0]
        return bool(addr == self.out.__array_interface__["data"][0])

    def _run(self, sink_fd: int | None) -> None:
        n = self.info.number_of_frames
        _decode_encapsulated(self.info, self.enc, 0, n, self.threads, self.out, sink_fd)
        self.done = True

    def write_to(self, fd: int) -> None:
        """Decode the frames and write them to ``fd`` (from its current position) in
        order as they are decoded.  Raises ``PixelDataError`` naming the first bad frame,
        or ``OSError`` from the write."""
        self._run(fd)

    def decode(self) -> None:
        """Decode the frames without writing them."""
        self._run(None)


def defer_decompress(
    ds: Dataset, info: PixelInfo, out: np.ndarray, threads: int | None
) -> PendingFrames | None:
    """Make ``ds`` ready to be written with native pixels, as ``decompress`` does, but
    leave its frames to be decoded (into ``out``) while the file is written: pass the
    result to :func:`dicomfast.batch.files.write_chunks`.  None, with ``ds`` unchanged,
    where the pixels are not encapsulated 8- or 16-bit integer frames, or there is only
    one frame (nothing to overlap), or off POSIX (the write takes a file descriptor)."""
    if (
        os.name != "posix"
        or not info.is_encapsulated
        or info.number_of_frames < 2
        or info.bits_allocated not in (8, 16)
        or info.is_float
        or info.ybr422_native
    ):
        return None
    _check_supported(info)
    enc = encapsulated_data(ds, info)
    if len(enc.frames) < info.number_of_frames:
        return None  # the whole-file path raises its error, naming the missing frame
    pending = PendingFrames(info, enc, out, _threads(threads))
    set_native_pixels(ds, out, info)
    return pending
