"""``dicomfast.read``: a path, bytes or a binary file → :class:`Dataset`.

Files are memory-mapped (small ones read whole: see ``READ_WHOLE_BELOW``) and indexed
by the Rust parser with the GIL released; nothing is copied until a value is asked for.
"""

from __future__ import annotations

import errno
import io
import mmap
import os
import stat
from typing import Any, BinaryIO

from . import _core
from .dataset import Dataset, _new_raw_dataset
from .errors import DicomError, InvalidDicomError

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO


#: Files up to this size are read whole rather than mapped: one read(2) of a small file
#: costs less than mapping it (and faulting its pages in, and unmapping it), even when
#: only its header is looked at (2 KiB-256 KiB: 6-9 us against 11-24 us).
READ_WHOLE_BELOW = 256 << 10


#: How deep sequences may nest before a parse gives up (the default of :func:`read`).
MAX_DEPTH = 256


def _buffer_of(source: Any) -> tuple[Any, str | None]:
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        # os.open/os.read: no file object to build (2 us of a small file's 7 us).
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):  # as open() says it
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
            if st.st_size == 0:
                raise InvalidDicomError("empty file", offset=0, path=path)
            if st.st_size <= READ_WHOLE_BELOW:
                data = os.read(fd, st.st_size)  # as much as a mapping would hold
                if not data:
                    raise InvalidDicomError("empty file", offset=0, path=path)
                return data, path
            return mmap.mmap(fd, 0, access=mmap.ACCESS_READ), path
        finally:
            os.close(fd)
    if isinstance(source, bytes):
        return source, None
    if isinstance(source, bytearray | memoryview):
        # A writable buffer could change under the index: take a snapshot.
        return bytes(source), None
    if hasattr(source, "read"):
        fileno = getattr(source, "fileno", None)
        if fileno is not None and not isinstance(source, io.BytesIO):
            try:
                fd = fileno()
                pos = source.tell()
                if pos == 0 and os.fstat(fd).st_size > 0:
                    return mmap.mmap(fd, 0, access=mmap.ACCESS_READ), getattr(source, "name", None)
            except (OSError, ValueError, io.UnsupportedOperation):
                pass
        data = source.read()
        if not isinstance(data, bytes):
            raise TypeError("the file object must be opened in binary mode")
        return data, getattr(source, "name", None)
    raise TypeError(f"cannot read DICOM from {type(source).__name__}")


def read(
    source: Source,
    *,
    stop_before_pixels: bool = False,
    force: bool = False,
    max_depth: int = MAX_DEPTH,
) -> Dataset:
    """Read a Part 10 file or a raw data set.

    ``source`` is a path, a bytes-like object or a binary file object.  With
    ``force=True`` a truncated or corrupt file gives the elements before the
    damage instead of an error (the error is kept in ``ds.read_error``).
    """
    buf, path = _buffer_of(source)
    try:
        raw = _core.RawFile.parse(buf, stop_before_pixels, force, max_depth)
    except DicomError as e:
        if path is not None and e.path is None:
            e.path = path
        raise
    ds = _new_raw_dataset(raw)
    ds.filename = path
    err = raw.error
    ds.__dict__["read_error"] = (
        InvalidDicomError(err[0], offset=err[1], tag=err[2], path=path) if err else None
    )
    return ds


def indexed_nodes(buffer: Any, *, stop_before_pixels: bool = False) -> int:
    """How many elements and items :func:`read` of ``buffer`` (any contiguous byte
    buffer, a writable one included) would index at every level, parsed where it lies
    (``read`` copies a writable buffer first, to keep a snapshot); its index is dropped
    at once, so the buffer may change afterwards.  Raises as :func:`read` does."""
    raw = _core.RawFile.parse(buffer, stop_before_pixels, False, MAX_DEPTH)
    return len(raw)


def header_extent(buffer: Any) -> tuple[int, int]:
    """``(nodes, end)`` of the header of ``buffer`` (the data set up to its pixel data),
    parsed where it lies as :func:`indexed_nodes` does: how many elements and items
    :func:`read` with ``stop_before_pixels`` indexes, and the offset where the last of
    its top-level elements ends (where the data set starts, if it has none; the
    buffer's end for a deflated data set, whose offsets are the inflated bytes'), so
    that ``read(buffer[:end], stop_before_pixels=True)`` indexes the same.  Raises as
    :func:`read` does."""
    raw = _core.RawFile.parse(buffer, True, False, MAX_DEPTH)
    if raw.deflated:
        return len(raw), len(memoryview(buffer).cast("B"))
    top = raw.children(-1)
    end = raw.node_info(top[-1])[6] if top else raw.dataset_offset
    return len(raw), end


def dcmread(
    fp: Source,
    defer_size: str | int | float | None = None,  # noqa: ARG001 - values are always deferred
    stop_before_pixels: bool = False,
    force: bool = False,
    specific_tags: list[Any] | None = None,
    *,
    max_depth: int = MAX_DEPTH,
) -> Dataset:
    """:func:`read` with pydicom's ``dcmread`` arguments, in pydicom's order.

    ``defer_size`` is accepted and has nothing to do: dicomfast converts no value
    before it is asked for.  ``specific_tags`` keeps only those top-level elements
    (and Specific Character Set), as pydicom does.
    """
    ds = read(fp, stop_before_pixels=stop_before_pixels, force=force, max_depth=max_depth)
    if specific_tags is not None:
        from .tag import tag_int

        keep = {tag_int(t) for t in specific_tags} | {0x00080005}
        table = ds._table()
        for tag in [t for t in table if t not in keep]:
            del ds[tag]
    return ds
