# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Display-pipeline kernels over numpy arrays (typed memoryviews, nogil).

Private: the public, checked entry points are in ``dicomfast.pixels.display``.
"""

from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t

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
