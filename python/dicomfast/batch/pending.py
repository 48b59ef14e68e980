"""Pixel data coded while the output file is written.

Coding every frame of a multi-frame file and then writing it leaves the cores idle while
the kernel copies the result into the page cache (a third of a fast conversion).  Here the
output's leading elements are written first; then the codec threads decode (or encode)
the frames and write each one, in order, as soon as it and those before it are done
(``_core.decode_frames_into(sink_fd=)``, ``_core.encode_frames_to_fd``); then the
trailing elements follow: one pass, the same bytes as coding first.

:func:`defer_decompress` and :func:`defer_compress` change the data set as ``decompress``
and ``compress`` do but leave the coding to :func:`dicomfast.batch.files.write_chunks`,
which recognises the pending value among ``encode_file``'s chunks by its buffer."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .. import _core
from ..dataset import Dataset
from ..pixels.decode import _check_supported, _decode_encapsulated, _threads
from ..pixels.encode import (
    _frames_layout,
    encapsulated_value,
    set_encapsulated_pixels,
    set_native_pixels,
)
from ..pixels.frames import EncapsulatedData, encapsulated_data
from ..pixels.info import PixelInfo


def _is_view_of(chunk: Any, buf: np.ndarray) -> bool:
    """Whether ``chunk`` (one of ``encode_file``'s) is the whole of ``buf``."""
    if not isinstance(chunk, memoryview) or chunk.nbytes != buf.nbytes:
        return False
    addr = np.frombuffer(chunk, np.uint8).__array_interface__["data"][0]
    return bool(addr == buf.__array_interface__["data"][0])


class PendingDecode:
    """Encapsulated frames to be decoded into ``out`` as ``out`` is written out: the
    data set's new native Pixel Data views ``out`` but holds its pixels only once
    :meth:`write_to` or :meth:`finish` has run."""

    #: The pixels to check the output against (``--verify``): none, they are the output.
    pixels = None

    def __init__(
        self, info: PixelInfo, enc: EncapsulatedData, out: np.ndarray, threads: int | None
    ) -> None:
        self.info, self.enc, self.out, self.threads = info, enc, out, threads
        self.done = False

    def owns(self, chunk: Any) -> bool:
        return _is_view_of(chunk, self.out)

    def _run(self, sink_fd: int | None) -> None:
        n = self.info.number_of_frames
        _decode_encapsulated(self.info, self.enc, 0, n, self.threads, self.out, sink_fd)
        self.done = True

    def write_to(self, fd: int) -> int:
        """Decode the frames and write them to ``fd`` (from its current position) in
        order as they are decoded; the number of bytes written.  Raises
        ``PixelDataError`` naming the first bad frame, or ``OSError`` from the write."""
        self._run(fd)
        return self.out.nbytes

    def finish(self) -> None:
        """Decode the frames without writing them (the data set is then complete)."""
        self._run(None)


class PendingEncode:
    """Frames to be encoded as the output is written: the data set's new Pixel Data is a
    placeholder until :meth:`write_to` writes the real encapsulated value in its place,
    or :meth:`finish` puts it in the data set."""

    def __init__(
        self,
        ds: Dataset,
        pixels: np.ndarray,
        info: PixelInfo,
        ts: str,
        predictor: int,
        threads: int | None,
    ) -> None:
        self.ds, self.pixels, self.info, self.ts = ds, pixels, info, ts
        self.predictor, self.threads = predictor, threads
        self.placeholder = np.zeros(8, np.uint8)
        self.done = False

    def owns(self, chunk: Any) -> bool:
        return _is_view_of(chunk, self.placeholder)

    def write_to(self, fd: int) -> int:
        """Encode the frames and write the encapsulated value to ``fd`` (from its current
        position; a regular file) in order as they are encoded; the number of bytes
        written.  Raises ``PixelDataError`` naming the first frame that failed, or
        ``OSError`` from the write."""
        a, _, _, _ = _frames_layout(self.pixels, self.info.samples_per_pixel)
        info = self.info
        image = info.with_(planar_configuration=0).image
        n: int = _core.encode_frames_to_fd(a, image, self.ts, fd, self.predictor, self.threads)
        self.done = True
        return n

    def finish(self) -> None:
        """Encode the frames into the data set's Pixel Data (no file)."""
        value = encapsulated_value(
            self.pixels, self.info, self.ts, predictor=self.predictor, threads=self.threads
        )
        set_encapsulated_pixels(self.ds, value, self.info, self.ts)
        self.done = True


Pending = PendingDecode | PendingEncode


def defer_decompress(
    ds: Dataset, info: PixelInfo, out: np.ndarray, threads: int | None
) -> PendingDecode | None:
    """Make ``ds`` ready to be written with native pixels, as ``decompress`` does, but
    leave its frames to be decoded (into ``out``) while the file is written.  None, with
    ``ds`` unchanged, where the pixels are not encapsulated 8- or 16-bit integer frames,
    or there is only one frame (nothing to overlap), or off POSIX (the write takes a file
    descriptor)."""
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
    pending = PendingDecode(info, enc, out, _threads(threads))
    set_native_pixels(ds, out, info)
    return pending


def defer_compress(
    ds: Dataset,
    pixels: np.ndarray,
    info: PixelInfo,
    ts: str,
    *,
    predictor: int = 1,
    threads: int | None = None,
) -> PendingEncode | None:
    """Make ``ds`` ready to be written in the encapsulated syntax ``ts`` (a UID), as
    ``compress`` does, but leave ``pixels`` (its decoded frames) to be encoded while the
    file is written.  None, with ``ds`` unchanged, for a single frame (nothing to
    overlap), 1-bit or float pixels, or off POSIX."""
    if (
        os.name != "posix"
        or info.number_of_frames < 2
        or info.bits_allocated not in (8, 16)
        or info.is_float
    ):
        return None
    pending = PendingEncode(ds, pixels, info, ts, predictor, _threads(threads))
    set_encapsulated_pixels(ds, pending.placeholder, info, ts)
    return pending
