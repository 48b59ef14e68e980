# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Display-pipeline kernels over numpy arrays (typed memoryviews, nogil).

Loops over large arrays are ``prange`` loops: parallel when the module is built
with OpenMP (setup.py adds it if the compiler has it), serial otherwise; each
element is computed alone, so results do not depend on the thread count.

Private: the public, checked entry points are in ``dicomfast.pixels.display``.
"""

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t
from libc.math cimport exp
from cython.parallel cimport prange

ctypedef fused pixel_t:
    uint8_t
    int8_t
    uint16_t
    int16_t
    uint32_t
    int32_t
    float
    double

ctypedef fused int_pixel_t:
    uint8_t
    int8_t
    uint16_t
    int16_t
    uint32_t
    int32_t

ctypedef fused lut_t:
    uint8_t
    uint16_t


def rescale(const pixel_t[::1] src, double[::1] out, double slope, double intercept, int nthreads=1):
    """out = src * slope + intercept (PS3.3 C.11.1.1.2), in one pass."""
    cdef Py_ssize_t i, n = src.shape[0]
    with nogil:
        for i in prange(n, schedule="static", num_threads=nthreads):
            out[i] = <double>src[i] * slope + intercept


def apply_lut(const int_pixel_t[::1] src, const lut_t[::1] lut, lut_t[::1] out, int64_t first_mapped, int nthreads=1):
    """out = lut[clip(src - first_mapped, 0, len(lut) - 1)] (PS3.3 C.11.1.1.1)."""
    cdef Py_ssize_t i, n = src.shape[0]
    cdef int64_t last = lut.shape[0] - 1
    cdef int64_t k
    with nogil:
        for i in prange(n, schedule="static", num_threads=nthreads):
            k = <int64_t>src[i] - first_mapped
            if k < 0:
                k = 0
            elif k > last:
                k = last
            out[i] = lut[k]


# ---------------------------------------------------------------------------
# VOI LUT, windowing, Presentation LUT, inversion, palette colour, YBR <-> RGB.
# Each loop reproduces numpy's arithmetic for the same operation step by step
# (same operation order, same precision), so results are bit-identical.
# ---------------------------------------------------------------------------

def voi_lut(const pixel_t[::1] src, const lut_t[::1] lut, lut_t[::1] out,
            int64_t first_mapped, int64_t mask, int nthreads=1):
    """out = lut[clip(wrap(src - first_mapped), 0, len(lut) - 1)]; values below
    ``first_mapped`` take entry 0 (PS3.3 C.11.2.1.1).

    The difference is taken in the input's own type and wrapped to the LUT's
    entry width (``mask``), as numpy's casts do.
    """
    cdef Py_ssize_t i, n = src.shape[0]
    cdef int64_t last = lut.shape[0] - 1
    cdef int64_t k
    with nogil:
        for i in prange(n, schedule="static", num_threads=nthreads):
            if src[i] < first_mapped:
                k = 0
            else:
                if pixel_t is float or pixel_t is double:
                    k = (<int64_t>(src[i] - first_mapped)) & mask
                else:
                    k = (<int64_t>(<pixel_t>(src[i] - first_mapped))) & mask
                if k > last:
                    k = last
            out[i] = lut[k]


def window_linear(const pixel_t[::1] src, double[::1] out, double below, double above,
                  double center, double width, double y_min, double y_max, int nthreads=1):
    """LINEAR / LINEAR_EXACT windowing (PS3.3 C.11.2.1.2/3) with the centre and
    width already adjusted by the caller; float64 output."""
    cdef Py_ssize_t i, n = src.shape[0]
    cdef double x, y_range = y_max - y_min
    with nogil:
        for i in prange(n, schedule="static", num_threads=nthreads):
            x = <double>src[i]
            if x <= below:
                out[i] = y_min
            elif x > above:
                out[i] = y_max
            else:
                out[i] = ((x - center) / width + 0.5) * y_range + y_min


def sigmoid(const pixel_t[::1] src, double[::1] out, double center, double width,
            double y_min, double y_max, int nthreads=1):
    """SIGMOID windowing (PS3.3 C.11.2.1.3.2) in one pass with the C library's exp:
    out = (y_max - y_min) / (1 + exp(-4 (x - c) / w)) + y_min."""
    cdef Py_ssize_t i, n = src.shape[0]
    cdef double y_range = y_max - y_min
    with nogil:
        for i in prange(n, schedule="static", num_threads=nthreads):
            out[i] = y_range / (1.0 + exp((-4.0 * (<double>src[i] - center)) / width)) + y_min


def sigmoid_exponent(const pixel_t[::1] src, double[::1] out, double center, double width, int nthreads=1):
    """First half of SIGMOID windowing: out = -4 (x - c) / w."""
    cdef Py_ssize_t i, n = src.shape[0]
    with nogil:
        for i in prange(n, schedule="static", num_threads=nthreads):
            out[i] = (-4.0 * (<double>src[i] - center)) / width


def sigmoid_finish(double[::1] buf, double y_min, double y_max, int nthreads=1):
    """Second half of SIGMOID windowing, in place: buf = range / (1 + exp(...)) + y_min."""
    cdef Py_ssize_t i, n = buf.shape[0]
    cdef double y_range = y_max - y_min
    with nogil:
        for i in prange(n, schedule="static", num_threads=nthreads):
            buf[i] = y_range / (1.0 + buf[i]) + y_min


def minmax_f32(const pixel_t[::1] src):
    """(min, max) of ``src`` converted to float32."""
    cdef Py_ssize_t i, n = src.shape[0]
    cdef float v, lo, hi
    if n == 0:
        raise ValueError("empty array")
    with nogil:
        lo = <float>src[0]
        hi = lo
        for i in range(1, n):
            v = <float>src[i]
            if v < lo:
                lo = v
            elif v > hi:
                hi = v
    return lo, hi


def presentation_lut(const pixel_t[::1] src, const lut_t[::1] lut, lut_t[::1] out,
                     float minimum, float scale, int nthreads=1):
    """out = lut[uint16((float32(src) - minimum) / scale)] (PS3.3 C.11.6)."""
    cdef Py_ssize_t i, n = src.shape[0]
    cdef int64_t last = lut.shape[0] - 1
    cdef int64_t k
    cdef float v
    with nogil:
        for i in prange(n, schedule="static", num_threads=nthreads):
            v = (<float>src[i] - minimum) / scale
            k = <int64_t>(<uint16_t>v)
            if k > last:
                k = last
            out[i] = lut[k]


def invert(const pixel_t[::1] src, pixel_t[::1] out, pixel_t top, int nthreads=1):
    """out = top - src in the array's own type (``src`` and ``out`` may be the same)."""
    cdef Py_ssize_t i, n = src.shape[0]
    with nogil:
        for i in prange(n, schedule="static", num_threads=nthreads):
            out[i] = <pixel_t>(top - src[i])


def palette(const int_pixel_t[::1] src, const lut_t[:, ::1] luts, lut_t[:, ::1] out,
            int64_t first_mapped, int64_t mask, int nthreads=1):
    """out[i, c] = luts[c, clip(wrap(src[i] - first_mapped))] (PS3.3 C.7.6.3.1.5/6)."""
    cdef Py_ssize_t i, c, n = src.shape[0], nc = luts.shape[0]
    cdef int64_t last = luts.shape[1] - 1
    cdef int64_t k
    with nogil:
        for i in prange(n, schedule="static", num_threads=nthreads):
            if src[i] < first_mapped:
                k = 0
            else:
                k = (<int64_t>src[i] - first_mapped) & mask
                if k > last:
                    k = last
            if nc == 3:
                out[i, 0] = luts[0, k]
                out[i, 1] = luts[1, k]
                out[i, 2] = luts[2, k]
            else:
                for c in range(nc):
                    out[i, c] = luts[c, k]


cdef inline uint8_t _clip_u8(float v) noexcept nogil:
    # floor, then clip to 0..255: for 0 <= v < 255 floor is truncation (no libm call)
    if v < 0.0:
        return 0
    if v >= 255.0:
        return 255
    return <uint8_t>(<int>v)


cdef inline float _fma(float x, float y, float z) noexcept nogil:
    # x*y + z rounded once to float: the product of two floats is exact in double,
    # and for the 8-bit inputs and coefficients here the double sum is exact too
    # (checked over all 2**24 inputs by the tests), so this equals a hardware FMA
    # without needing one (no libm call, vectorizable).
    return <float>(<double>x * <double>y + <double>z)


cdef inline float _dot3(float a, float ma, float b, float mb, float c, float mc,
                       bint fused) noexcept nogil:
    # numpy's float32 matmul goes to BLAS, which may use fused multiply-adds
    # (a*ma first, then b and c added by FMA); ``fused`` picks that order.
    if fused:
        return _fma(c, mc, _fma(b, mb, a * ma))
    return a * ma + b * mb + c * mc


def ybr_full_to_rgb(const uint8_t[:, ::1] src, uint8_t[:, ::1] out, bint fused, int nthreads=1):
    """YBR_FULL → RGB (PS3.3 C.7.6.3.1.2), float32 arithmetic, rounded and clipped;
    ``src`` and ``out`` (pixels × 3) may be the same buffer."""
    cdef Py_ssize_t i, n = src.shape[0]
    cdef float y, cb, cr
    cdef float gb = <float>(-0.114 * 1.772 / 0.587)
    cdef float gr = <float>(-0.299 * 1.402 / 0.587)
    cdef float rr = <float>1.402
    cdef float bb = <float>1.772
    with nogil:
        for i in prange(n, schedule="static", num_threads=nthreads):
            y = <float>src[i, 0]
            cb = <float>src[i, 1] - 128.0
            cr = <float>src[i, 2] - 128.0
            out[i, 0] = _clip_u8(_dot3(y, 1.0, cb, 0.0, cr, rr, fused) + 0.5)
            out[i, 1] = _clip_u8(_dot3(y, 1.0, cb, gb, cr, gr, fused) + 0.5)
            out[i, 2] = _clip_u8(_dot3(y, 1.0, cb, bb, cr, 0.0, fused) + 0.5)


def ybr_tables(uint8_t[::1] r_tab, uint8_t[::1] b_tab, float[::1] g_tab, bint fused):
    """Fill the tables (65536 entries each) for :func:`ybr_full_to_rgb_lut`, each
    indexed by ``y << 8 | chroma``:
    R from (Y, Cr) and B from (Y, Cb) final, and G's first partial sum from (Y, Cb).
    Built with the same arithmetic as :func:`ybr_full_to_rgb` (the zero matrix
    terms contribute exactly 0), so the table kernel gives identical results."""
    cdef float gb = <float>(-0.114 * 1.772 / 0.587)
    cdef float rr = <float>1.402
    cdef float bb = <float>1.772
    cdef int y, c
    cdef float fy, fc
    with nogil:
        for y in range(256):
            for c in range(256):
                fy = <float>y
                fc = <float>c - 128.0
                r_tab[y << 8 | c] = _clip_u8(_dot3(fy, 1.0, 0.0, 0.0, fc, rr, fused) + 0.5)
                b_tab[y << 8 | c] = _clip_u8(_dot3(fy, 1.0, fc, bb, 0.0, 0.0, fused) + 0.5)
                if fused:
                    g_tab[y << 8 | c] = _fma(fc, gb, fy * 1.0)
                else:
                    g_tab[y << 8 | c] = fy * 1.0 + fc * gb


def ybr_full_to_rgb_lut(const uint8_t[:, ::1] src, uint8_t[:, ::1] out,
                        const uint8_t[::1] r_tab, const uint8_t[::1] b_tab,
                        const float[::1] g_tab, bint fused, int nthreads=1):
    """:func:`ybr_full_to_rgb` through the tables of :func:`ybr_tables` (one
    multiply-add per pixel instead of six)."""
    cdef Py_ssize_t i, n = src.shape[0]
    cdef float gr = <float>(-0.299 * 1.402 / 0.587)
    cdef int y, cb, cr
    cdef float cr_f
    with nogil:
        for i in prange(n, schedule="static", num_threads=nthreads):
            y = src[i, 0]
            cb = src[i, 1]
            cr = src[i, 2]
            cr_f = <float>cr - 128.0
            out[i, 0] = r_tab[y << 8 | cr]
            if fused:
                out[i, 1] = _clip_u8(_fma(cr_f, gr, g_tab[y << 8 | cb]) + 0.5)
            else:
                out[i, 1] = _clip_u8((g_tab[y << 8 | cb] + cr_f * gr) + 0.5)
            out[i, 2] = b_tab[y << 8 | cb]


def rgb_to_ybr_full(const uint8_t[:, ::1] src, uint8_t[:, ::1] out, bint fused, int nthreads=1):
    """RGB → YBR_FULL (PS3.3 C.7.6.3.1.2), the inverse of :func:`ybr_full_to_rgb`."""
    cdef Py_ssize_t i, n = src.shape[0]
    cdef float r, g, b
    cdef float yr = <float>0.299, yg = <float>0.587, yb = <float>0.114
    cdef float br = <float>(-0.299 / 1.772), bg = <float>(-0.587 / 1.772), bb = <float>(0.886 / 1.772)
    cdef float rr = <float>(0.701 / 1.402), rg = <float>(-0.587 / 1.402), rb = <float>(-0.114 / 1.402)
    with nogil:
        for i in prange(n, schedule="static", num_threads=nthreads):
            r = <float>src[i, 0]
            g = <float>src[i, 1]
            b = <float>src[i, 2]
            out[i, 0] = _clip_u8(_dot3(r, yr, g, yg, b, yb, fused) + 0.5)
            out[i, 1] = _clip_u8(_dot3(r, br, g, bg, b, bb, fused) + 128.5)
            out[i, 2] = _clip_u8(_dot3(r, rr, g, rg, b, rb, fused) + 128.5)
