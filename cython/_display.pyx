# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Display-pipeline kernels over numpy arrays (typed memoryviews, nogil).

Private: the public, checked entry points are in ``dicomfast.pixels.display``.
"""

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t
from libc.math cimport floorf, fmaf

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


def rescale(const pixel_t[::1] src, double[::1] out, double slope, double intercept):
    """out = src * slope + intercept (PS3.3 C.11.1.1.2), in one pass."""
    cdef Py_ssize_t i, n = src.shape[0]
    with nogil:
        for i in range(n):
            out[i] = <double>src[i] * slope + intercept


def apply_lut(const int_pixel_t[::1] src, const lut_t[::1] lut, lut_t[::1] out, int64_t first_mapped):
    """out = lut[clip(src - first_mapped, 0, len(lut) - 1)] (PS3.3 C.11.1.1.1)."""
    cdef Py_ssize_t i, n = src.shape[0]
    cdef int64_t last = lut.shape[0] - 1
    cdef int64_t k
    with nogil:
        for i in range(n):
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
            int64_t first_mapped, int64_t mask):
    """out = lut[clip(wrap(src - first_mapped), 0, len(lut) - 1)]; values below
    ``first_mapped`` take entry 0 (PS3.3 C.11.2.1.1).

    The difference is taken in the input's own type and wrapped to the LUT's
    entry width (``mask``), as numpy's casts do.
    """
    cdef Py_ssize_t i, n = src.shape[0]
    cdef int64_t last = lut.shape[0] - 1
    cdef int64_t k
    with nogil:
        for i in range(n):
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
                  double center, double width, double y_min, double y_max):
    """LINEAR / LINEAR_EXACT windowing (PS3.3 C.11.2.1.2/3) with the centre and
    width already adjusted by the caller; float64 output."""
    cdef Py_ssize_t i, n = src.shape[0]
    cdef double x, y_range = y_max - y_min
    with nogil:
        for i in range(n):
            x = <double>src[i]
            if x <= below:
                out[i] = y_min
            elif x > above:
                out[i] = y_max
            else:
                out[i] = ((x - center) / width + 0.5) * y_range + y_min


def sigmoid_exponent(const pixel_t[::1] src, double[::1] out, double center, double width):
    """First half of SIGMOID windowing: out = -4 (x - c) / w."""
    cdef Py_ssize_t i, n = src.shape[0]
    with nogil:
        for i in range(n):
            out[i] = (-4.0 * (<double>src[i] - center)) / width


def sigmoid_finish(double[::1] buf, double y_min, double y_max):
    """Second half of SIGMOID windowing, in place: buf = range / (1 + exp(...)) + y_min."""
    cdef Py_ssize_t i, n = buf.shape[0]
    cdef double y_range = y_max - y_min
    with nogil:
        for i in range(n):
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
                     float minimum, float scale):
    """out = lut[uint16((float32(src) - minimum) / scale)] (PS3.3 C.11.6)."""
    cdef Py_ssize_t i, n = src.shape[0]
    cdef int64_t last = lut.shape[0] - 1
    cdef int64_t k
    cdef float v
    with nogil:
        for i in range(n):
            v = (<float>src[i] - minimum) / scale
            k = <int64_t>(<uint16_t>v)
            if k > last:
                k = last
            out[i] = lut[k]


def invert(const pixel_t[::1] src, pixel_t[::1] out, pixel_t top):
    """out = top - src in the array's own type (``src`` and ``out`` may be the same)."""
    cdef Py_ssize_t i, n = src.shape[0]
    with nogil:
        for i in range(n):
            out[i] = <pixel_t>(top - src[i])


def palette(const int_pixel_t[::1] src, const lut_t[:, ::1] luts, lut_t[:, ::1] out,
            int64_t first_mapped, int64_t mask):
    """out[i, c] = luts[c, clip(wrap(src[i] - first_mapped))] (PS3.3 C.7.6.3.1.5/6)."""
    cdef Py_ssize_t i, c, n = src.shape[0], nc = luts.shape[0]
    cdef int64_t last = luts.shape[1] - 1
    cdef int64_t k
    with nogil:
        for i in range(n):
            if src[i] < first_mapped:
                k = 0
            else:
                k = (<int64_t>src[i] - first_mapped) & mask
                if k > last:
                    k = last
            for c in range(nc):
                out[i, c] = luts[c, k]


cdef inline uint8_t _clip_u8(float v) noexcept nogil:
    v = floorf(v)
    if v < 0.0:
        return 0
    if v > 255.0:
        return 255
    return <uint8_t>v


cdef inline float _dot3(float a, float ma, float b, float mb, float c, float mc,
                       bint fused) noexcept nogil:
    # numpy's float32 matmul goes to BLAS, which may use fused multiply-adds
    # (a*ma first, then b and c added by FMA); ``fused`` picks that order.
    if fused:
        return fmaf(c, mc, fmaf(b, mb, a * ma))
    return a * ma + b * mb + c * mc


def ybr_full_to_rgb(const uint8_t[:, ::1] src, uint8_t[:, ::1] out, bint fused):
    """YBR_FULL → RGB (PS3.3 C.7.6.3.1.2), float32 arithmetic, rounded and clipped;
    ``src`` and ``out`` (pixels × 3) may be the same buffer."""
    cdef Py_ssize_t i, n = src.shape[0]
    cdef float y, cb, cr
    cdef float gb = <float>(-0.114 * 1.772 / 0.587)
    cdef float gr = <float>(-0.299 * 1.402 / 0.587)
    cdef float rr = <float>1.402
    cdef float bb = <float>1.772
    with nogil:
        for i in range(n):
            y = <float>src[i, 0]
            cb = <float>src[i, 1] - 128.0
            cr = <float>src[i, 2] - 128.0
            out[i, 0] = _clip_u8(_dot3(y, 1.0, cb, 0.0, cr, rr, fused) + 0.5)
            out[i, 1] = _clip_u8(_dot3(y, 1.0, cb, gb, cr, gr, fused) + 0.5)
            out[i, 2] = _clip_u8(_dot3(y, 1.0, cb, bb, cr, 0.0, fused) + 0.5)


def rgb_to_ybr_full(const uint8_t[:, ::1] src, uint8_t[:, ::1] out, bint fused):
    """RGB → YBR_FULL (PS3.3 C.7.6.3.1.2), the inverse of :func:`ybr_full_to_rgb`."""
    cdef Py_ssize_t i, n = src.shape[0]
    cdef float r, g, b
    cdef float yr = <float>0.299, yg = <float>0.587, yb = <float>0.114
    cdef float br = <float>(-0.299 / 1.772), bg = <float>(-0.587 / 1.772), bb = <float>(0.886 / 1.772)
    cdef float rr = <float>(0.701 / 1.402), rg = <float>(-0.587 / 1.402), rb = <float>(-0.114 / 1.402)
    with nogil:
        for i in range(n):
            r = <float>src[i, 0]
            g = <float>src[i, 1]
            b = <float>src[i, 2]
            out[i, 0] = _clip_u8(_dot3(r, yr, g, yg, b, yb, fused) + 0.5)
            out[i, 1] = _clip_u8(_dot3(r, br, g, bg, b, bb, fused) + 128.5)
            out[i, 2] = _clip_u8(_dot3(r, rr, g, rg, b, rb, fused) + 128.5)
