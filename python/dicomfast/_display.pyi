# Type stubs for dicomfast._display, the Cython kernels of cython/_display.pyx (used by
# dicomfast.pixels.display).  Array arguments are typed memoryviews there (fused types:
# any of the listed dtypes, C-contiguous, 1-D unless noted); ``nthreads``: OpenMP threads.
# CI checks this file against the compiled module with mypy's stubtest.

from typing import Any

import numpy as np

#: Outputs of at least this many bytes come from the reuse pool (``pooled_empty``).
POOL_MIN_BYTES: int

def pool_limit(limit: int) -> None: ...
def pool_cached() -> int: ...
def pooled_empty(shape: int | tuple[int, ...], dtype: Any) -> np.ndarray: ...
def rescale(
    src: np.ndarray, out: np.ndarray, slope: float, intercept: float, nthreads: int = 1
) -> None: ...
def apply_lut(
    src: np.ndarray, lut: np.ndarray, out: np.ndarray, first_mapped: int, nthreads: int = 1
) -> None: ...
def int_range(src: np.ndarray, nthreads: int = 1) -> tuple[int, int]: ...
def gather(
    src: np.ndarray, table: np.ndarray, out: np.ndarray, lo: int, nthreads: int = 1
) -> None: ...
def integral_range(src: np.ndarray, nthreads: int = 1) -> tuple[int, int] | None: ...
def gather_real(
    src: np.ndarray, table: np.ndarray, out: np.ndarray, lo: int, nthreads: int = 1
) -> None: ...
def voi_lut(
    src: np.ndarray,
    lut: np.ndarray,
    out: np.ndarray,
    first_mapped: int,
    mask: int,
    nthreads: int = 1,
) -> None: ...
def window_linear(
    src: np.ndarray,
    out: np.ndarray,
    below: float,
    above: float,
    center: float,
    width: float,
    y_min: float,
    y_max: float,
    nthreads: int = 1,
) -> None: ...
def sigmoid(
    src: np.ndarray,
    out: np.ndarray,
    center: float,
    width: float,
    y_min: float,
    y_max: float,
    nthreads: int = 1,
) -> None: ...
def sigmoid_exponent(
    src: np.ndarray, out: np.ndarray, center: float, width: float, nthreads: int = 1
) -> None: ...
def sigmoid_finish(buf: np.ndarray, y_min: float, y_max: float, nthreads: int = 1) -> None: ...
def minmax_f32(src: np.ndarray) -> tuple[float, float]: ...
def presentation_lut(
    src: np.ndarray,
    lut: np.ndarray,
    out: np.ndarray,
    minimum: float,
    scale: float,
    nthreads: int = 1,
) -> None: ...
def invert(src: np.ndarray, out: np.ndarray, top: Any, nthreads: int = 1) -> None: ...
def invert_from_max(src: np.ndarray, out: np.ndarray, nthreads: int = 1) -> int: ...

# palette and the YBR kernels: 2-D (pixels, 3) arrays.
def palette(
    src: np.ndarray,
    luts: np.ndarray,
    out: np.ndarray,
    first_mapped: int,
    mask: int,
    nthreads: int = 1,
) -> None: ...
def ybr_full_to_rgb(src: np.ndarray, out: np.ndarray, fused: bool, nthreads: int = 1) -> None: ...
def ybr_tables(r_tab: np.ndarray, b_tab: np.ndarray, g_tab: np.ndarray, fused: bool) -> None: ...
def ybr_full_to_rgb_lut(
    src: np.ndarray,
    out: np.ndarray,
    r_tab: np.ndarray,
    b_tab: np.ndarray,
    g_tab: np.ndarray,
    fused: bool,
    nthreads: int = 1,
) -> None: ...
def rgb_to_ybr_full(src: np.ndarray, out: np.ndarray, fused: bool, nthreads: int = 1) -> None: ...
