"""Decoding pixel data into numpy arrays.

Every frame is decoded by the Rust codecs straight into one array allocated here (no
per-frame buffers), with the GIL released and frames spread over ``threads`` cores.
Arrays come out as pydicom 3 shapes and types them: ``(rows, columns[, samples])`` for
one frame, ``(frames, rows, columns[, samples])`` for several, planar configuration
undone, signed data sign-extended from Bits Stored, 1-bit data one byte per pixel, colour
as stored unless ``as_rgb=True`` (YBR_FULL and YBR_FULL_422 to RGB).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _core, syntaxes
from ..errors import PixelDataError
from ..pixel_limits import CORE_LIMITS
from ..reader import READ_WHOLE_BELOW
from .frames import EncapsulatedData, encapsulated_data, native_data
from .info import (
    CODEC_SYNTAXES,
    PixelInfo,
    check_fits,
    pixel_info,
)

if TYPE_CHECKING:
    from ..dataset import Dataset


def _threads(threads: int | None) -> int | None:
    if threads is None:
        return None
    if threads < 0:
        return os.cpu_count() or 1
    return max(1, int(threads))


def _check_supported(info: PixelInfo) -> None:
    if info.is_encapsulated and info.transfer_syntax not in CODEC_SYNTAXES:
        from ..uid import name_of

        raise PixelDataError(
            f"dicomfast cannot decode pixel data in transfer syntax {info.transfer_syntax} "
            f"({name_of(info.transfer_syntax)}); supported: native, "
            f"{syntaxes.describe(CODEC_SYNTAXES)}",
            tag=info.tag,
        )


def _allocate(
    info: PixelInfo,
    nframes: int,
    available: int,
    *,
    compressed: bool,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """An empty output of ``nframes`` frames (``out`` if given, after checking it), after
    checking the compressed data can fill it (native data is checked by the caller, who
    knows which frames are wanted)."""
    if compressed:
        check_fits(info, nframes, available, compressed=True)
    shape = (nframes, *info.frame_shape)
    if out is None:
        return np.empty(shape, info.dtype)
    if out.shape != shape or out.dtype != info.dtype or not out.flags.c_contiguous:
        raise ValueError(
            f"out must be a C-contiguous {info.dtype} array of shape {shape}, "
            f"not {out.dtype} {out.shape}"
        )
    return out


def _decode_native(
    info: PixelInfo,
    ds: Dataset,
    first: int,
    count: int,
    threads: int | None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    nd = native_data(ds, info)
    have = nd.data.nbytes
    check_fits(info, first + count, have, compressed=False)
    out = _allocate(info, count, have, compressed=False, out=out)
    _core.decode_native_into(
        nd.data, out, info.image, nd.big_endian, info.ybr422_native, first, threads
    )
    return out


def _decode_encapsulated(
    info: PixelInfo,
    enc: EncapsulatedData,
    first: int,
    count: int,
    threads: int | None,
    out: np.ndarray | None = None,
    sink_fd: int | None = None,
) -> np.ndarray:
    """Decode ``count`` frames from ``first``; with ``sink_fd``, also write them to that
    file descriptor, in order as they are decoded (see ``dicomfast.batch.pending``)."""
    frames = enc.frames[first : first + count]
    if len(frames) < count:
        raise PixelDataError(
            f"encapsulated Pixel Data has {len(enc.frames)} frame(s), frame {first + count - 1} "
            "was asked for",
            tag=info.tag,
            frame=first + count - 1,
        )
    available = sum(n for f in frames for _, n in f)
    out = _allocate(info, count, available, compressed=True, out=out)
    _core.decode_frames_into(
        enc.source,
        frames,
        out,
        info.transfer_syntax,
        info.image,
        threads,
        first,
        sink_fd,
    )
    return out


def native_frames_view(ds: Dataset, info: PixelInfo | None = None) -> np.ndarray | None:
    """Native Pixel Data as a read-only ``(frames, rows, columns[, samples])`` view of its
    value (no copy) when decoding would change nothing: little endian, 8 or 16 bits with
    Bits Stored = Bits Allocated, samples interleaved, not YBR_FULL_422; else None."""
    info = info or pixel_info(ds)
    if (
        info.is_encapsulated
        or info.is_float
        or info.bits_allocated not in (8, 16)
        or info.bits_stored != info.bits_allocated
        or (info.samples_per_pixel > 1 and info.planar_configuration != 0)
        or info.ybr422_native
    ):
        return None
    nd = native_data(ds, info)
    need = info.number_of_frames * info.frame_nbytes
    if nd.big_endian or nd.data.nbytes < need:
        return None
    view = nd.data[:need].view(info.dtype).reshape(info.number_of_frames, *info.frame_shape)
    view.flags.writeable = False
    return view


_JPEG_DCT = frozenset(
    "1.2.840.10008.1.2.4." + n for n in ("50", "51", "52", "53", "54", "55", "56")
)


def _jpeg_colour_space(info: PixelInfo, enc: EncapsulatedData) -> PixelInfo:
    """pydicom 3's reading of a three-component DCT JPEG's colour space (its
    ``_conform_jpg_colorspace``): component IDs "RGB"/"rgb" mean RGB whatever the data set
    says; a JFIF APP0 marker with a non-YBR Photometric Interpretation (the vendor quirk of an
    RGB header on a YCbCr stream) means YBR_FULL_422 for baseline, else YBR_FULL. The
    decoded samples are the same either way; only ``as_rgb`` looks at this."""
    if info.samples_per_pixel != 3 or info.transfer_syntax not in _JPEG_DCT or not enc.frames:
        return info
    first = enc.frames[0]
    if not first:
        return info
    off, n = first[0]
    data = bytes(enc.source[off : off + min(n, 1 << 16)])
    pi = info.photometric_interpretation
    jfif = False
    i = 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker, length = data[i + 1], int.from_bytes(data[i + 2 : i + 4], "big")
        body = data[i + 4 : i + 2 + length]
        if marker == 0xE0 and body.startswith(b"JFIF"):
            jfif = True
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and len(body) >= 12:
            ids = [body[6 + 3 * k] for k in range(3)]
            if ids in ([82, 71, 66], [114, 103, 98]):
                return info.with_(photometric_interpretation="RGB")
            break
        if marker == 0xDA or length < 2:
            break
        i += 2 + length
    if jfif and "YBR" not in pi:
        baseline = info.transfer_syntax == "1.2.840.10008.1.2.4.50"
        return info.with_(photometric_interpretation="YBR_FULL_422" if baseline else "YBR_FULL")
    return info


def _finish(arr: np.ndarray, info: PixelInfo, as_rgb: bool) -> np.ndarray:
    if as_rgb and info.samples_per_pixel == 3:
        pi = info.photometric_interpretation
        if pi in ("YBR_FULL", "YBR_FULL_422"):
            from .color import ybr_full_to_rgb

            arr = ybr_full_to_rgb(arr, info.bits_stored)
    return arr


def decode_frames(
    ds: Dataset,
    first: int = 0,
    count: int | None = None,
    *,
    as_rgb: bool = False,
    threads: int | None = None,
    info: PixelInfo | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Frames ``first .. first+count`` of ``ds`` as one ``(count, rows, columns[, samples])``
    array: ``out`` if given (C-contiguous, that shape and the pixels' dtype), else a new
    one."""
    info = info or pixel_info(ds)
    _check_supported(info)
    n = info.number_of_frames
    if count is None:
        count = n - first
    if not (0 <= first and count >= 1 and first + count <= n):
        raise IndexError(f"frames {first}..{first + count - 1} out of range for {n} frame(s)")
    t = _threads(threads)
    if info.is_encapsulated:
        enc = encapsulated_data(ds, info)
        arr = _decode_encapsulated(info, enc, first, count, t, out)
        return _finish(arr, _jpeg_colour_space(info, enc) if as_rgb else info, as_rgb)
    else:
        arr = _decode_native(info, ds, first, count, t, out)
    return _finish(arr, info, as_rgb)


# The one-call path below takes these limits from here (the one definition of them).
_core.configure_pixel_array_as_read(
    CORE_LIMITS,
    READ_WHOLE_BELOW,
    np.empty,
    [np.dtype(f"<{k}{n}") for n in (1, 2, 4, 8) for k in "ui"],
)


def _as_read(ds: Dataset, as_rgb: bool, threads: int | None) -> np.ndarray | None:
    """Encapsulated pixel data of a data set as read (nothing looked at or changed since,
    its file meta group neither), file to array in one call to ``_core``: attributes,
    transfer syntax and fragments found in the file's index, the array allocated and
    decoded into with the GIL released.  None where the usual path decides (native
    data, any value or size it would look at more closely, errors other than the
    decoding's): then it gives the same array, or raises as it always did."""
    raw = ds._raw
    if raw is None or ds._map is not None:
        return None
    fm = ds.file_meta
    meta = None
    if fm is not None:
        if getattr(fm, "_raw", None) is not raw or getattr(fm, "_map", True) is not None:
            return None
        meta = fm._node
    arr: np.ndarray | None = _core.pixel_array_as_read(
        raw, ds._node, meta, _threads(threads), as_rgb
    )
    return arr


def pixel_array(ds: Dataset, *, as_rgb: bool = False, threads: int | None = None) -> np.ndarray:
    """Every frame of ``ds``, shaped as pydicom's ``Dataset.pixel_array``."""
    arr = _as_read(ds, as_rgb, threads)
    if arr is not None:
        return arr
    info = pixel_info(ds)
    arr = decode_frames(ds, as_rgb=as_rgb, threads=threads, info=info)
    return arr if info.number_of_frames > 1 else arr[0]


def read_pixel_array(
    path: str | os.PathLike[str], *, as_rgb: bool = False, threads: int | None = None
) -> np.ndarray:
    """``dicomfast.read(path).pixel_array_as(as_rgb=as_rgb, threads=threads)`` without
    the data set: for encapsulated pixel data, one call to ``_core`` reads the file
    (whole below ``READ_WHOLE_BELOW``, else mapped), finds the attributes and fragments,
    allocates the array and decodes into it; anything else (native data, a file that
    does not read or parse, any value the usual path looks at more closely) goes that
    path, which decides and raises as it does."""
    arr: np.ndarray | None = _core.pixel_array_from_path(os.fspath(path), _threads(threads), as_rgb)
    if arr is not None:
        return arr
    from ..reader import read

    return read(path).pixel_array_as(as_rgb=as_rgb, threads=threads)


def frame(ds: Dataset, index: int, *, as_rgb: bool = False) -> np.ndarray:
    """Frame ``index`` (from 0; negative counts from the end) as ``(rows, columns[, samples])``."""
    info = pixel_info(ds)
    n = info.number_of_frames
    if index < 0:
        index += n
    if not 0 <= index < n:
        raise IndexError(f"frame {index} out of range for {n} frame(s)")
    return decode_frames(ds, index, 1, as_rgb=as_rgb, info=info)[0]


def iter_frames(
    ds: Dataset,
    *,
    as_rgb: bool = False,
    buffer: Callable[[tuple[int, ...], np.dtype], np.ndarray] | None = None,
) -> Iterator[np.ndarray]:
    """Each frame in turn, decoded as it is reached (the fragments are located once).
    ``buffer(shape, dtype)``: where each frame is decoded (a frame is then valid until
    the next is asked for): a caller's reused memory, not a fresh allocation per frame
    (whose page faults, and unmapping, contend between threads decoding side by side)."""
    info = pixel_info(ds)
    _check_supported(info)
    enc = encapsulated_data(ds, info) if info.is_encapsulated else None
    colour = _jpeg_colour_space(info, enc) if enc is not None and as_rgb else info
    shape = (1, *info.frame_shape)
    for k in range(info.number_of_frames):
        out = None if buffer is None else buffer(shape, info.dtype)
        if enc is not None:
            arr = _decode_encapsulated(info, enc, k, 1, 1, out=out)
        else:
            arr = _decode_native(info, ds, k, 1, 1, out=out)
        yield _finish(arr, colour, as_rgb)[0]


def decode_frame(
    data: Any,
    rows: int,
    columns: int,
    samples_per_pixel: int = 1,
    bits_allocated: int = 16,
    bits_stored: int | None = None,
    pixel_representation: int = 0,
    planar_configuration: int = 0,
    transfer_syntax: str = "1.2.840.10008.1.2.5",
) -> np.ndarray:
    """Decode one frame's bytes (compressed for RLE / JPEG Lossless / Deflated Image Frame
    Compression, else native) to a ``(rows, columns[, samples])`` array."""
    bs = bits_stored or bits_allocated
    info = PixelInfo(
        rows,
        columns,
        samples_per_pixel,
        bits_allocated,
        bs,
        pixel_representation,
        planar_configuration,
        1,
        "",
        transfer_syntax,
    )
    raw = _core.decode_frame(data, info.image, transfer_syntax)
    return np.frombuffer(raw, info.dtype).reshape(info.frame_shape)


__all__ = [
    "decode_frame",
    "decode_frames",
    "frame",
    "iter_frames",
    "pixel_array",
    "read_pixel_array",
]
