"""The display pipeline over numpy arrays: checked, public wrappers around the
Cython kernels in ``cython/_display.pyx``.  Results match pydicom's functions
of the same names."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _display

_RESCALE_DTYPES = frozenset("u1 i1 u2 i2 u4 i4 f4 f8".split())
_LUT_INPUT_DTYPES = frozenset("u1 i1 u2 i2 u4 i4".split())


def _native(arr: np.ndarray) -> np.ndarray:
    if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and not np.little_endian):
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return np.ascontiguousarray(arr)


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


def apply_modality_lut(arr: np.ndarray, ds: Any) -> np.ndarray:
    """Apply the Modality LUT (PS3.3 C.11.1) of ``ds`` to ``arr``.

    A Modality LUT Sequence maps stored values through its table (values below
    the first mapped value take the first entry, those past the end the last);
    otherwise Rescale Slope and Intercept give ``float64`` output; with neither,
    ``arr`` is returned unchanged.
    """
    seq = ds.get("ModalityLUTSequence")
    if seq:
        table, first = _lut_table(seq[0])
        src = _native(np.asarray(arr))
        if src.dtype.str[1:] not in _LUT_INPUT_DTYPES:
            raise TypeError(f"a Modality LUT needs integer pixels, not {src.dtype}")
        out = np.empty(src.shape, dtype=table.dtype)
        _display.apply_lut(src.reshape(-1), table, out.reshape(-1), first)
        return out
    if "RescaleSlope" in ds and "RescaleIntercept" in ds:
        slope = ds.RescaleSlope
        intercept = ds.RescaleIntercept
        slope = float(slope[0] if isinstance(slope, list) else slope)
        intercept = float(intercept[0] if isinstance(intercept, list) else intercept)
        src = _native(np.asarray(arr))
        if src.dtype.str[1:] not in _RESCALE_DTYPES:
            src = src.astype(np.float64)
        out = np.empty(src.shape, dtype=np.float64)
        _display.rescale(src.reshape(-1), out.reshape(-1), slope, intercept)
        return out
    return arr
