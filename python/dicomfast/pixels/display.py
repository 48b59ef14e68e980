"""The display pipeline over numpy arrays: checked, public wrappers around the
Cython kernels in ``cython/_display.pyx``.

Order (PS3.3 C.11, Figure C.11-1 / C.7.6.3): stored values → Modality LUT
(:func:`apply_modality_lut`) → VOI LUT or window (:func:`apply_voi_lut`,
:func:`apply_windowing`, :func:`apply_voi`) → Presentation LUT
(:func:`apply_presentation_lut`); colour images go through
:func:`apply_color_lut` (PALETTE COLOR) or :func:`convert_color_space`
(YBR_FULL / YBR_FULL_422 → RGB).  Results are identical, value for value and
dtype for dtype, to pydicom 3.0.2's functions of the same names.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from functools import cache
from typing import Any, cast

import numpy as np


def _import_kernels() -> Any:
    """Import the Cython kernels with OpenMP's idle threads sleeping, not spinning
    (``OMP_WAIT_POLICY=PASSIVE``, read once when the OpenMP runtime loads, which
    is here), unless the environment already says otherwise.  Spinning threads
    cost the time a kernel gains whenever the machine has other work: on two busy
    cores a parallel kernel then ran 2-20x slower than a serial one; sleeping
    threads make it no slower.  The environment is restored afterwards."""
    if "OMP_WAIT_POLICY" in os.environ:
        from .. import _display as kernels

        return kernels
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        from .. import _display as kernels
    finally:
        del os.environ["OMP_WAIT_POLICY"]
    return kernels


_display = _import_kernels()

_RESCALE_DTYPES = frozenset("u1 i1 u2 i2 u4 i4 f4 f8".split())
_LUT_INPUT_DTYPES = frozenset("u1 i1 u2 i2 u4 i4".split())
_MONOCHROME = ("MONOCHROME1", "MONOCHROME2")


def _default_threads() -> int:
    env = os.environ.get("DICOMFAST_DISPLAY_THREADS") or os.environ.get("OMP_NUM_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    # The CPUs this process may run on: a large array's pass is bound by memory
    # bandwidth and page faults on the fresh output, both of which scale with
    # cores.  Batch workers run one process per core and set OMP_NUM_THREADS=1.
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_THREADS = _default_threads()

# A parallel region costs 20-250 us on a VM of 2 cores (the sleeping OpenMP threads
# must be woken, see above): 4-8x a whole 512x512 inversion on one thread.  A
# kernel goes parallel only where one thread would take about half a millisecond
# or more: ``size * cost >= _PARALLEL_WORK``, with ``cost`` its work per element
# relative to a plain pass (measured crossovers: inversion 2**22-2**23 elements,
# LINEAR windowing 2**19, YBR -> RGB 2**18 pixels).
_PARALLEL_WORK = 1 << 22
_PASS, _LOOKUP, _SCALE, _PALETTE, _LINEAR, _COLOR, _EXP = 1, 2, 4, 4, 8, 16, 32


def set_num_threads(n: int) -> None:
    """Threads for the kernels on large arrays (default:
    ``DICOMFAST_DISPLAY_THREADS``, else ``OMP_NUM_THREADS``, else the CPUs this
    process may use).  Results do not depend on it.  Has no effect if the kernels
    were built without OpenMP."""
    global _THREADS
    _THREADS = max(1, int(n))


def get_num_threads() -> int:
    """Threads the kernels use on large arrays (see :func:`set_num_threads`)."""
    return _THREADS


def _nt(size: int, cost: int = _PASS) -> int:
    """Threads for a kernel of relative ``cost`` per element over ``size`` elements."""
    return _THREADS if size * cost >= _PARALLEL_WORK else 1


def _default_pool_bytes() -> int:
    env = os.environ.get("DICOMFAST_DISPLAY_POOL_MB")
    if env is not None and env.strip().isdigit():
        return int(env) << 20
    return 128 << 20


_POOL_BYTES = 0


def set_output_pool(nbytes: int) -> int:
    """Keep up to ``nbytes`` (default 128 MiB, or ``DICOMFAST_DISPLAY_POOL_MB``) of
    freed output arrays of 4 MiB or more for reuse by the next output of the
    same size, in at most 4 blocks; 0 turns the reuse off and frees what is
    held.  Returns the previous limit.  A large fresh output otherwise costs a
    page fault and a zeroed page per 4 KiB (or 2 MiB) on first write: about as
    long as the kernel itself."""
    global _POOL_BYTES
    previous, _POOL_BYTES = _POOL_BYTES, max(0, int(nbytes))
    _display.pool_limit(_POOL_BYTES)
    return previous


set_output_pool(_default_pool_bytes())


def _empty(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialized output array; large ones through the reuse pool."""
    dt = np.dtype(dtype)
    if _POOL_BYTES and math.prod(shape) * dt.itemsize >= _display.POOL_MIN_BYTES:
        return _display.pooled_empty(shape, dt)
    return np.empty(shape, dt)


def _native(arr: np.ndarray) -> np.ndarray:
    if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and not np.little_endian):
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return np.ascontiguousarray(arr)


def _kernel_input(arr: np.ndarray, *, integer_only: bool = False) -> np.ndarray | None:
    """``arr`` native-endian and contiguous if a kernel takes its dtype, else None."""
    a = _native(np.asarray(arr))
    allowed = _LUT_INPUT_DTYPES if integer_only else _RESCALE_DTYPES
    return a if a.dtype.str[1:] in allowed else None


# -- table path ----------------------------------------------------------------
# Each transform is a function of the pixel value alone.  Where a pixel costs
# more than a lookup (SIGMOID's exp, the Presentation LUT's float scaling), and
# the values are whole numbers in a range smaller than half the pixel count, it
# is evaluated once per value in min..max, with the very kernel the per-pixel
# path uses (so the results are the same bits), then gathered.  Rescale and
# LINEAR windowing vectorize and the LUTs are lookups already: no table.

_TABLE_MIN = 2048  # elements; below this the per-pixel kernels are as fast


def _table_range(src: np.ndarray) -> tuple[int, int] | None:
    """``(lo, hi)`` covering every value of the kernel input ``src`` when a table
    over ``lo..hi`` is cheaper than a per-pixel pass, else None (floating point
    input, few pixels, or more distinct values possible than half the pixels)."""
    if src.dtype.kind not in "iu" or src.size < _TABLE_MIN:
        return None
    if src.dtype.itemsize == 1:  # the whole type: 256 entries, no scan
        info = np.iinfo(src.dtype)
        return int(info.min), int(info.max)
    lo, hi = _display.int_range(src.reshape(-1), _nt(src.size))
    return (lo, hi) if _table_pays(src, lo, hi) else None


def _table_pays(src: np.ndarray, lo: int, hi: int) -> bool:
    return src.size >= _TABLE_MIN and hi - lo < src.size // 2


def _table_values(src: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """The values ``lo..hi`` in ``src``'s dtype: the table's input."""
    return np.arange(lo, hi + 1, dtype=np.int64).astype(src.dtype)


def _gather(src: np.ndarray, table: np.ndarray, out: np.ndarray, lo: int) -> None:
    """``out = table[src - lo]`` (flat views of contiguous arrays)."""
    _display.gather(src.reshape(-1), table, out.reshape(-1), lo, _nt(src.size, _LOOKUP))


def _has_table(item: Any) -> bool:
    return all(item.get(k) is not None for k in ("LUTDescriptor", "LUTData"))


def _lut_table(item: Any) -> tuple[np.ndarray, int]:
    desc = item.LUTDescriptor
    entries = int(desc[0]) or 65536
    first = int(desc[1])
    bits = int(desc[2])
    data = item.LUTData
    dtype = np.uint8 if bits <= 8 else np.uint16
    if isinstance(data, np.ndarray):
        table = data.astype(dtype) if data.dtype.itemsize > 1 or bits <= 8 else data.view("<u2")
    elif isinstance(data, bytes | bytearray):
        table = np.frombuffer(data, "<u2").astype(dtype)
    else:
        table = np.asarray(data if isinstance(data, list) else [data], dtype=dtype)
    return np.ascontiguousarray(table[:entries]), first


def _values(data: Any) -> np.ndarray:
    """LUT Data (US list/int, OW array or raw bytes) as unsigned integer values."""
    if isinstance(data, np.ndarray):
        return data.reshape(-1)
    if isinstance(data, bytes | bytearray | memoryview):
        return np.frombuffer(bytes(data), "<u2")
    return np.asarray(data if isinstance(data, list | tuple) else [data], dtype=np.int64)


def _raw_bytes(data: Any) -> bytes:
    """LUT Data as the little-endian bytes of its values (OW)."""
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    return np.asarray(_values(data)).astype("<u2").tobytes()


def _single(value: Any, index: int) -> float:
    if isinstance(value, list | tuple | np.ndarray):
        return float(value[index]) if len(value) > 1 else float(value[0])
    return float(value)


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list | tuple) else value


def apply_modality_lut(arr: np.ndarray, ds: Any) -> np.ndarray:
    """Apply the Modality LUT (PS3.3 C.11.1) of ``ds`` to ``arr``.

    A Modality LUT Sequence maps stored values through its table (values below
    the first mapped value take the first entry, those past the end the last);
    otherwise Rescale Slope and Intercept give ``float64`` output; with neither,
    ``arr`` is returned unchanged.
    """
    seq = ds.get("ModalityLUTSequence")
    # An item without its LUT Descriptor or LUT Data (both Type 1; seen empty in
    # real files) is no table: ignored, as apply_voi_lut ignores such a VOI LUT
    # item, instead of failing (pydicom 3.0.2 raises TypeError there).
    if seq and _has_table(seq[0]):
        table, first = _lut_table(seq[0])
        src = _native(np.asarray(arr))
        if src.dtype.str[1:] not in _LUT_INPUT_DTYPES:
            raise TypeError(f"a Modality LUT needs integer pixels, not {src.dtype}")
        out = _empty(src.shape, table.dtype)
        _display.apply_lut(src.reshape(-1), table, out.reshape(-1), first, _nt(src.size, _LOOKUP))
        return out
    slope, intercept = ds.get("RescaleSlope"), ds.get("RescaleIntercept")
    if slope is not None and intercept is not None:  # present and not empty
        slope, intercept = float(_first(slope)), float(_first(intercept))
        src = _native(np.asarray(arr))
        if src.dtype.str[1:] not in _RESCALE_DTYPES:
            src = src.astype(np.float64)
        out = _empty(src.shape, np.float64)
        # one vectorized multiply-add per pixel: as fast as a table's gather, no scan
        _display.rescale(src.reshape(-1), out.reshape(-1), slope, intercept, _nt(src.size, _SCALE))
        return out
    return arr


# -- VOI LUT (PS3.3 C.11.2) ---------------------------------------------------


def _map_through(arr: np.ndarray, table: np.ndarray, first: int, entries: int) -> np.ndarray:
    """``table[clip(wrap(arr - first), 0, entries - 1)]``; below ``first`` → entry 0.

    The difference is wrapped to the table's entry width as a cast would."""
    table = np.ascontiguousarray(table[:entries])
    mask = (1 << (8 * table.dtype.itemsize)) - 1
    src = _kernel_input(arr)
    if src is None:  # int64, uint64, float16, bool: the same rule in numpy
        a = np.asarray(arr)
        diff = (a - first) if a.dtype.kind != "f" else np.trunc(a - first)
        k = diff.astype(np.int64) & mask
        k[a < first] = 0
        np.minimum(k, len(table) - 1, out=k)
        return table[k]
    out = _empty(src.shape, table.dtype)
    # already one lookup per pixel: a table over min..max would not be faster
    _display.voi_lut(src.reshape(-1), table, out.reshape(-1), first, mask, _nt(src.size, _LOOKUP))
    return out


def apply_voi(arr: np.ndarray, ds: Any, index: int = 0) -> np.ndarray:
    """Map ``arr`` through item ``index`` of the VOI LUT Sequence (PS3.3 C.11.2.1.1).

    The output has the table's type (``uint8`` for 8-bit entries, ``uint16`` for
    10 to 16 bits); values before the first mapped one take the first entry, values
    past the end the last.  Without a VOI LUT Sequence (or with an item lacking its
    LUT Descriptor or LUT Data) ``arr`` is returned unchanged.
    """
    seq = ds.get("VOILUTSequence")
    if not seq or not _has_table(seq[index]):
        return arr
    item = seq[index]
    desc = item.LUTDescriptor
    entries = int(desc[0]) or 65536
    first = int(desc[1])
    bits = int(desc[2])
    if bits == 8:
        dtype: type = np.uint8
    elif 10 <= bits <= 16:
        dtype = np.uint16
    else:
        raise NotImplementedError(f"{bits} bits per VOI LUT entry is not supported")
    elem = item["LUTData"]
    values = _values(elem.value)
    if elem.VR != "US":
        values = values[:entries]
    return _map_through(arr, values.astype(dtype), first, entries)


def _output_range(ds: Any) -> tuple[float, float]:
    """The range of the Modality LUT output (PS3.3 C.11.2.1.2): the table's bit depth,
    else the stored values' range through Rescale Slope and Intercept."""
    mlut = ds.get("ModalityLUTSequence")
    bits_stored = int(ds.BitsStored)
    if mlut and _has_table(mlut[0]):
        y_min: float = 0
        y_max: float = 2 ** int(mlut[0].LUTDescriptor[2]) - 1
    elif int(ds.PixelRepresentation) == 0:
        y_min, y_max = 0, 2**bits_stored - 1
    else:
        y_min, y_max = -(2 ** (bits_stored - 1)), 2 ** (bits_stored - 1) - 1
    slope = ds.get("RescaleSlope")
    intercept = ds.get("RescaleIntercept")
    if slope is not None and intercept is not None:
        slope, intercept = float(_first(slope)), float(_first(intercept))
        y_min = y_min * slope + intercept
        y_max = y_max * slope + intercept
    return y_min, y_max


@cache
def _libm_exp_is_numpys() -> bool:
    """Does numpy's float64 ``exp`` give the C library's results here?  (It does unless
    numpy uses its own SIMD exp, e.g. on AVX-512 machines; then the kernel leaves
    ``exp`` to numpy to stay identical.)"""
    x = np.linspace(-745.0, 709.0, 4099)
    x = np.concatenate([x, np.random.default_rng(0).standard_normal(4096) * 40])
    with np.errstate(over="ignore"):
        want = 1.0 / (1.0 + np.exp((-4.0 * (x - 0.0)) / 1.0))
    got = np.empty_like(x)
    _display.sigmoid(x, got, 0.0, 1.0, 0.0, 1.0)
    return bool(np.array_equal(got, want))


def window(
    arr: np.ndarray,
    center: float,
    width: float,
    y_min: float,
    y_max: float,
    function: str = "LINEAR",
) -> np.ndarray:
    """Window ``arr`` (PS3.3 C.11.2.1.2 LINEAR, C.11.2.1.3.1 LINEAR_EXACT,
    C.11.2.1.3.2 SIGMOID) onto ``y_min .. y_max``, as ``float64``."""
    function = function.upper()
    src = _kernel_input(arr)
    if src is None:
        src = np.ascontiguousarray(arr, dtype=np.float64)
    out = _empty(src.shape, np.float64)
    flat_in, flat_out = src.reshape(-1), out.reshape(-1)
    # LINEAR is a vectorized divide per pixel, as fast as a gather: a table only
    # for SIGMOID, where it saves an exp per pixel
    if function == "SIGMOID" and src.size >= _TABLE_MIN:
        if src.dtype.kind == "f":
            # whole numbers (e.g. Hounsfield units from an integer rescale); a
            # table entry computed at +0.0 serves -0.0 too: the sigmoid of both
            # is the same number (x - c is -c, or -4 * ±0 / w is ±0, exp gives 1)
            span = _display.integral_range(flat_in, _nt(src.size))
            if span is not None and _table_pays(src, *span):
                values = np.arange(span[0], span[1] + 1, dtype=np.float64).astype(src.dtype)
                table = np.empty(values.shape, dtype=np.float64)
                _window_pixels(values, table, center, width, y_min, y_max, function)
                _display.gather_real(flat_in, table, flat_out, span[0], _nt(src.size, _LOOKUP))
                return out
        else:
            span = _table_range(src)
            if span is not None:
                values = _table_values(src, *span)
                table = np.empty(values.shape, dtype=np.float64)
                _window_pixels(values, table, center, width, y_min, y_max, function)
                _gather(src, table, out, span[0])
                return out
    _window_pixels(flat_in, flat_out, center, width, y_min, y_max, function)
    return out


def _window_pixels(
    flat_in: np.ndarray,
    flat_out: np.ndarray,
    center: float,
    width: float,
    y_min: float,
    y_max: float,
    function: str,
) -> None:
    """:func:`window` of the flat kernel input ``flat_in`` into ``flat_out``."""
    nt = _nt(flat_in.size, _EXP if function == "SIGMOID" else _LINEAR)
    if function in ("LINEAR", "LINEAR_EXACT"):
        if function == "LINEAR":
            if width < 1:
                raise ValueError("LINEAR windowing needs a Window Width of at least 1")
            center -= 0.5
            width -= 1
        elif width <= 0:
            raise ValueError("LINEAR_EXACT windowing needs a Window Width above 0")
        below = center - width / 2
        above = center + width / 2
        _display.window_linear(flat_in, flat_out, below, above, center, width, y_min, y_max, nt)
    elif function == "SIGMOID":
        if width <= 0:
            raise ValueError("SIGMOID windowing needs a Window Width above 0")
        if _libm_exp_is_numpys():
            _display.sigmoid(flat_in, flat_out, center, width, y_min, y_max, nt)
        else:
            _display.sigmoid_exponent(flat_in, flat_out, center, width, nt)
            np.exp(flat_out, out=flat_out)
            _display.sigmoid_finish(flat_out, y_min, y_max, nt)
    else:
        raise ValueError(f"unsupported VOI LUT Function {function!r}")


def apply_windowing(arr: np.ndarray, ds: Any, index: int = 0) -> np.ndarray:
    """Apply Window Center/Width ``index`` of ``ds`` (with its VOI LUT Function,
    default LINEAR) to ``arr`` (Modality LUT already applied); ``float64`` output
    spanning the Modality LUT's output range.  ``arr`` is returned unchanged
    when ``ds`` has no window."""
    if ds.get("WindowWidth") is None or ds.get("WindowCenter") is None:
        return arr  # no window (or an empty one)
    if ds.PhotometricInterpretation not in _MONOCHROME:
        raise ValueError("windowing applies to MONOCHROME1 and MONOCHROME2 images only")
    function = str(ds.get("VOILUTFunction") or "LINEAR").strip().upper()
    center = _single(ds.WindowCenter, index)
    width = _single(ds.WindowWidth, index)
    y_min, y_max = _output_range(ds)
    return window(arr, center, width, y_min, y_max, function)


def apply_voi_lut(arr: np.ndarray, ds: Any, index: int = 0, prefer_lut: bool = True) -> np.ndarray:
    """Apply the VOI transform of ``ds``: its VOI LUT Sequence or its window,
    ``prefer_lut`` choosing when both are present (PS3.3 C.11.2)."""
    seq = ds.get("VOILUTSequence")
    has_lut = bool(seq) and _has_table(seq[0])
    has_window = ds.get("WindowCenter") is not None and ds.get("WindowWidth") is not None
    if has_lut and (prefer_lut or not has_window):
        return apply_voi(arr, ds, index)
    if has_window:
        return apply_windowing(arr, ds, index)
    return arr


# -- Presentation LUT (PS3.3 C.11.4, C.11.6) --------------------------------


def invert(arr: np.ndarray, top: Any | None = None, *, out: np.ndarray | None = None) -> np.ndarray:
    """``top - arr`` in ``arr``'s own type (default ``top``: ``arr.max()``); ``out``
    may be ``arr`` itself for an in-place inversion."""
    src = _kernel_input(arr)
    if top is None and (src is None or src.size == 0 or src.dtype.kind == "f"):
        top = np.asarray(arr).max()
    if src is None:
        assert top is not None  # set above: no kernel input means top was taken from arr
        return np.subtract(top, arr, out=out, dtype=np.asarray(arr).dtype)
    if out is None:
        out = _empty(src.shape, src.dtype)
    elif out.dtype != src.dtype or not out.flags.c_contiguous or out.shape != src.shape:
        raise ValueError("out must be a contiguous array of the input's shape and dtype")
    if top is None:  # the maximum and the inversion in one call, both parallel
        _display.invert_from_max(src.reshape(-1), out.reshape(-1), _nt(src.size))
        return out
    top = src.dtype.type(top)
    nt = _nt(src.size)
    if nt == 1:  # numpy's subtraction is the same pass, as fast on one thread
        np.subtract(top, src, out=out)
    else:
        _display.invert(src.reshape(-1), out.reshape(-1), top, nt)
    return out


def apply_presentation_lut(arr: np.ndarray, ds: Any) -> np.ndarray:
    """Apply the Presentation LUT Sequence of ``ds`` (the input's range scaled onto
    the table) or its Presentation LUT Shape (INVERSE: ``arr.max() - arr``)."""
    if "PresentationLUTSequence" in ds:
        item = ds.PresentationLUTSequence[0]
        entries, _first_mapped, bits = (int(v) for v in item.LUTDescriptor)
        entries = entries or 65536
        dtype = np.uint8 if bits <= 8 else np.uint16
        elem = item["LUTData"]
        table: np.ndarray
        if elem.VR == "US":
            table = _values(elem.value).astype(np.uint16)
        else:
            raw = _raw_bytes(elem.value)[: entries * np.dtype(dtype).itemsize]
            table = np.frombuffer(raw, dtype).copy()
        if 8 * table.dtype.itemsize > bits:
            np.bitwise_and(table, (1 << bits) - 1, out=table)
        src = _kernel_input(arr)
        if src is None:
            src = np.ascontiguousarray(arr, dtype=np.float32)
        extremes = None
        if src.dtype.kind in "iu" and src.size:
            # float32 conversion keeps order: the extremes convert to the extremes
            extremes = _display.int_range(src.reshape(-1), _nt(src.size))
            lo, hi = (float(np.float32(v)) for v in extremes)
        else:
            lo, hi = _display.minmax_f32(src.reshape(-1))
        span = np.float32(np.float32(hi) - np.float32(lo))
        scale = np.float32(span / np.float32(entries - 1))
        table = np.ascontiguousarray(table)
        out = _empty(src.shape, table.dtype)
        if extremes is not None and _table_pays(src, *extremes):
            values = _table_values(src, *extremes)
            composed = np.empty(values.shape, dtype=table.dtype)
            _display.presentation_lut(values, table, composed, lo, float(scale))
            _gather(src, composed, out, extremes[0])
            return out
        _display.presentation_lut(
            src.reshape(-1), table, out.reshape(-1), lo, float(scale), _nt(src.size, _SCALE)
        )
        return out
    if "PresentationLUTShape" in ds:
        shape = str(ds.PresentationLUTShape).strip().upper()
        if shape not in ("IDENTITY", "INVERSE"):
            raise NotImplementedError(f"Presentation LUT Shape {shape!r} is not supported")
        if shape == "INVERSE":
            return invert(arr)
    return arr


# -- Palette colour (PS3.3 C.7.6.3.1.5, C.7.9) --------------------------------


def expand_segmented_lut(data: Sequence[int] | np.ndarray) -> list[int]:
    """Expand Segmented Palette Color LUT Data (PS3.3 C.7.9.2): discrete (0),
    linear (1) and indirect (2) segments.  Linear segments are rounded to
    nearest, half to even, excluding their start value."""
    values = [int(v) for v in data]
    indirect_words = 2  # an indirect offset is two 16-bit words, low word first
    return _expand(values, 0, None, None, indirect_words)


def _expand(
    values: list[int], pos: int, count: int | None, previous: int | None, indirect_words: int
) -> list[int]:
    out: list[int] = []
    done = 0
    n = len(values)
    while pos + 1 < n and (count is None or done < count):
        opcode, length = values[pos], values[pos + 1]
        pos += 2
        if opcode == 0:
            out.extend(values[pos : pos + length])
            pos += length
        elif opcode == 1:
            if not out and not previous:
                raise ValueError("a segmented LUT cannot start with a linear segment")
            start = out[-1] if out else cast(int, previous)  # not None: checked above
            end = values[pos]
            pos += 1
            if start == end:
                out.extend([end] * length)
            else:
                step = (end - start) / length
                ramp = np.around(np.linspace(start + step, end, length))
                out.extend(int(v) for v in ramp)
        elif opcode == 2:
            if not out:
                raise ValueError("a segmented LUT cannot start with an indirect segment")
            if indirect_words == 4:  # 8-bit entries: four bytes, most significant first
                b = values[pos : pos + 4]
                target = (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]
                pos += 4
            else:
                target = (values[pos + 1] << 16) | values[pos]
                pos += 2
            out.extend(_expand(values, target, length, out[-1], indirect_words))
        else:
            raise ValueError(f"unknown segment type {opcode} in a segmented LUT")
        done += 1
    return out


def _big_endian(ds: Any) -> bool:
    meta = getattr(ds, "file_meta", None)
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    return str(ts) == "1.2.840.10008.1.2.2"


def _palette_tables(ds: Any) -> tuple[np.ndarray, int]:
    """The Red, Green, Blue (and Alpha) tables of ``ds`` stacked as one
    ``(channels, entries)`` array, and the first mapped value."""
    if str(ds.get("PixelPresentation") or "") in ("MIXED", "COLOR"):
        raise ValueError("the Supplemental Palette Color LUT Module is not supported")
    if "RedPaletteColorLookupTableDescriptor" not in ds:
        raise ValueError("no Palette Color Lookup Table Module in the data set")
    desc = ds.RedPaletteColorLookupTableDescriptor
    entries = int(desc[0]) or 65536
    first = int(desc[1])
    depth = int(desc[2])
    colours = ("Red", "Green", "Blue", "Alpha")
    tables: list[np.ndarray] = []
    if "RedPaletteColorLookupTableData" in ds:
        raw = [ds.get(f"{c}PaletteColorLookupTableData") for c in colours]
        blobs = [_raw_bytes(v) for v in raw if v is not None and len(_raw_bytes(v))]
        actual = len(blobs[0]) / entries * 8
        if actual not in (8, 16):
            raise ValueError(f"palette LUT entries of {actual:.1f} bits (8 or 16 allowed)")
        dtype = np.dtype(f"u{int(actual) // 8}")
        tables = [np.frombuffer(b, "<" + dtype.str[1:]).astype(dtype) for b in blobs]
    elif "SegmentedRedPaletteColorLookupTableData" in ds:
        if depth not in (8, 16):
            raise ValueError(f"palette LUT entries of {depth} bits (8 or 16 allowed)")
        dtype = np.dtype(f"u{depth // 8}")
        for c in colours:
            v = ds.get(f"Segmented{c}PaletteColorLookupTableData")
            if v is None or len(_raw_bytes(v)) == 0:
                continue
            if depth == 8:  # the data are bytes in file order
                words = _values(v).astype(">u2" if _big_endian(ds) else "<u2")
                seg = np.frombuffer(words.tobytes(), np.uint8)
                expanded = _expand([int(x) for x in seg], 0, None, None, 4)
            else:
                expanded = expand_segmented_lut(_values(v))
            tables.append(np.asarray(expanded).astype(dtype))
    else:
        raise ValueError("no Palette Color Lookup Table Data in the data set")
    if any(len(t) != len(tables[0]) for t in tables[1:]):
        raise ValueError("the palette LUTs differ in length")
    stacked = np.ascontiguousarray(np.stack(tables)[:, :entries])
    return stacked, first


def apply_color_lut(arr: np.ndarray, ds: Any) -> np.ndarray:
    """Map PALETTE COLOR indices ``arr`` through the palette of ``ds`` (normal or
    segmented tables): ``arr.shape + (3,)`` (4 with an Alpha table), of the
    tables' type.  Indices below the first mapped value take entry 0; those past
    the end, the last entry."""
    tables, first = _palette_tables(ds)
    src = _kernel_input(arr, integer_only=True)
    if src is None:
        raise TypeError(f"palette indices must be integers of at most 32 bits, not {arr.dtype}")
    out = _empty(src.shape + (tables.shape[0],), tables.dtype)
    mask = (1 << (8 * tables.dtype.itemsize)) - 1
    _display.palette(
        src.reshape(-1),
        tables,
        out.reshape(-1, tables.shape[0]),
        first,
        mask,
        _nt(src.size, _PALETTE),
    )
    return out


# -- colour space (PS3.3 C.7.6.3.1.2) -----------------------------------------

_YBR = ("YBR_FULL", "YBR_FULL_422")
# Pixels where float32 multiply-adds, fused or not, round differently.
_PROBE_YBR = [[0, 178, 78], [7, 178, 78], [19, 78, 178], [26, 78, 178], [40, 78, 178]]
_PROBE_RGB = [[4, 40, 16], [91, 175, 119], [134, 122, 130], [171, 59, 217], [255, 203, 71]]
_YBR_TO_RGB = [
    [1.0, 1.0, 1.0],
    [0.0, -0.114 * 1.772 / 0.587, 1.772],
    [1.402, -0.299 * 1.402 / 0.587, 0.0],
]
_RGB_TO_YBR = [
    [0.299, -0.299 / 1.772, 0.701 / 1.402],
    [0.587, -0.587 / 1.772, -0.587 / 1.402],
    [0.114, 0.886 / 1.772, -0.114 / 1.402],
]


def _matmul_reference(arr: np.ndarray, to_rgb: bool) -> np.ndarray:
    """The conversion as one float32 matrix product (what numpy-based toolkits do)."""
    a = np.asarray(arr, dtype=np.float32)
    if to_rgb:
        a = a - np.asarray([0, 128, 128], np.float32)
        a = np.matmul(a, np.asarray(_YBR_TO_RGB, np.float32))
        a += np.float32(0.5)
    else:
        a = np.matmul(a, np.asarray(_RGB_TO_YBR, np.float32))
        a += np.asarray([0.5, 128.5, 128.5], np.float32)
    np.floor(a, out=a)
    np.clip(a, 0, 255, out=a)
    return a.astype(np.uint8)


@cache
def _fused_mode(to_rgb: bool) -> bool | None:
    """Does this machine's float32 matmul fuse multiply-adds?  True/False, or None
    when neither kernel order reproduces it (then numpy is used)."""
    probe = np.asarray(_PROBE_YBR if to_rgb else _PROBE_RGB, np.uint8)
    want = _matmul_reference(probe, to_rgb)
    kernel = _display.ybr_full_to_rgb if to_rgb else _display.rgb_to_ybr_full
    for fused in (True, False):
        got = np.empty_like(probe)
        kernel(probe, got, fused)
        if np.array_equal(got, want):
            return fused
    return None


def convert_color_space(
    arr: np.ndarray, current: str, desired: str, per_frame: bool = False
) -> np.ndarray:
    """Convert ``uint8`` colour pixels (``(..., 3)``) between YBR_FULL /
    YBR_FULL_422 (already expanded) and RGB (PS3.3 C.7.6.3.1.2).  A new array is
    returned; when nothing changes, ``arr`` itself.  ``per_frame`` is accepted for
    compatibility (the conversion is per pixel either way)."""
    a = np.asarray(arr)
    if a.dtype != np.uint8:
        raise ValueError(f"colour space conversion needs uint8 pixels, not {a.dtype}")
    known = ("RGB", *_YBR)
    if current not in known or desired not in known:
        raise NotImplementedError(f"conversion from {current} to {desired} is not supported")
    if (current == "RGB") == (desired == "RGB"):
        return arr
    to_rgb = desired == "RGB"
    if a.shape[-1] != 3:
        raise ValueError(f"colour pixels need 3 samples last, not shape {a.shape}")
    fused = _fused_mode(to_rgb)
    if fused is None:
        return _matmul_reference(a, to_rgb)
    src = np.ascontiguousarray(a)
    out = _empty(src.shape, np.uint8)
    if to_rgb and src.size >= 3 * 65536:
        r_tab, b_tab, g_tab = _ybr_tables(fused)
        _display.ybr_full_to_rgb_lut(
            src.reshape(-1, 3),
            out.reshape(-1, 3),
            r_tab,
            b_tab,
            g_tab,
            fused,
            _nt(src.size, _COLOR),
        )
        return out
    kernel = _display.ybr_full_to_rgb if to_rgb else _display.rgb_to_ybr_full
    kernel(src.reshape(-1, 3), out.reshape(-1, 3), fused, _nt(src.size, _COLOR))
    return out


@cache
def _ybr_tables(fused: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r_tab = np.empty(65536, np.uint8)
    b_tab = np.empty(65536, np.uint8)
    g_tab = np.empty(65536, np.float32)
    _display.ybr_tables(r_tab, b_tab, g_tab, fused)
    return r_tab, b_tab, g_tab


__all__ = [
    "apply_color_lut",
    "apply_modality_lut",
    "apply_presentation_lut",
    "apply_voi",
    "apply_voi_lut",
    "apply_windowing",
    "convert_color_space",
    "expand_segmented_lut",
    "get_num_threads",
    "invert",
    "set_num_threads",
    "set_output_pool",
    "window",
]
