# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Display-pipeline kernels over numpy arrays (typed memoryviews, nogil).

Loops over large arrays run in ``prange`` loops over chunks of CHUNK elements
(``dynamic`` schedule): parallel when the module is built with OpenMP (setup.py
adds it if the compiler has it), serial otherwise; each element is computed
alone, so results do not depend on the thread count.  Whole-number input can
take a table path (``int_range`` or ``integral_range``, the transform once per
value, then ``gather`` or ``gather_real``), and large outputs come from
``pooled_empty``.

Private: the public, checked entry points are in ``dicomfast.pixels.display``.
"""

from libc.stdint cimport (
    INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN,
    int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t,
)
from libc.math cimport exp
from cython.parallel cimport prange

import numpy as np

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

ctypedef fused real_t:
    float
    double

ctypedef fused table_t:
    uint8_t
    uint16_t
    double

cdef enum:
    # Elements per work item of the parallel loops: large enough that scheduling
    # costs nothing, small enough that an idle thread takes over the work of one
    # descheduled on a busy machine (``dynamic`` schedule).
    CHUNK = 65536
    MAX_RANGE_CHUNKS = 1024


cdef inline Py_ssize_t _chunks(Py_ssize_t n) noexcept nogil:
    return (n + CHUNK - 1) // CHUNK


cdef inline Py_ssize_t _chunk_len(Py_ssize_t n, Py_ssize_t start) noexcept nogil:
    return CHUNK if n - start > CHUNK else n - start


cdef inline bint _serial(Py_ssize_t n, int nthreads) noexcept nogil:
    return nthreads <= 1 or n <= CHUNK


cdef inline int _check(Py_ssize_t n_in, Py_ssize_t n_out) except -1:
    if n_in != n_out:
        raise ValueError(f"output of {n_out} elements for an input of {n_in}")
    return 0


# Each kernel below is a serial loop over raw pointers (so the compiler keeps
# the pointers in registers and vectorizes where it can) and a ``def`` that runs
# it over the whole array, or over CHUNK-sized pieces in a ``prange``.  Each
# element is computed alone, so results do not depend on the thread count.

cdef void _rescale(const pixel_t* src, double* out, Py_ssize_t n,
                   double slope, double intercept) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = <double>src[i] * slope + intercept


def rescale(const pixel_t[::1] src, double[::1] out, double slope, double intercept, int nthreads=1):
    """out = src * slope + intercept (PS3.3 C.11.1.1.2), in one pass."""
    cdef Py_ssize_t c, s, n = src.shape[0]
    _check(n, out.shape[0])
    if n == 0:
        return
    cdef const pixel_t* p = &src[0]
    cdef double* o = &out[0]
    with nogil:
        if _serial(n, nthreads):
            _rescale(p, o, n, slope, intercept)
        else:
            for c in prange(_chunks(n), schedule="dynamic", num_threads=nthreads):
                s = c * CHUNK
                _rescale(p + s, o + s, _chunk_len(n, s), slope, intercept)


cdef void _apply_lut(const int_pixel_t* src, const lut_t* lut, lut_t* out, Py_ssize_t n,
                     int64_t first_mapped, int64_t last) noexcept nogil:
    cdef Py_ssize_t i
    cdef int64_t k
    for i in range(n):
        k = <int64_t>src[i] - first_mapped
        k = 0 if k < 0 else k
        k = last if k > last else k
        out[i] = lut[k]


def apply_lut(const int_pixel_t[::1] src, const lut_t[::1] lut, lut_t[::1] out, int64_t first_mapped, int nthreads=1):
    """out = lut[clip(src - first_mapped, 0, len(lut) - 1)] (PS3.3 C.11.1.1.1)."""
    cdef Py_ssize_t c, s, n = src.shape[0]
    _check(n, out.shape[0])
    if n == 0:
        return
    if lut.shape[0] == 0:
        raise ValueError("empty LUT")
    cdef const int_pixel_t* p = &src[0]
    cdef const lut_t* t = &lut[0]
    cdef lut_t* o = &out[0]
    cdef int64_t last = lut.shape[0] - 1
    with nogil:
        if _serial(n, nthreads):
            _apply_lut(p, t, o, n, first_mapped, last)
        else:
            for c in prange(_chunks(n), schedule="dynamic", num_threads=nthreads):
                s = c * CHUNK
                _apply_lut(p + s, t, o + s, _chunk_len(n, s), first_mapped, last)


# ---------------------------------------------------------------------------
# Table path for integer input: the caller evaluates a transform once per value
# in min..max (with the per-pixel kernel itself, so the results are the same
# bits) and gathers; an exp or a division per distinct value instead of per pixel.
# ---------------------------------------------------------------------------

cdef void _minmax(const int_pixel_t* src, Py_ssize_t n, int64_t* lo_out, int64_t* hi_out) noexcept nogil:
    cdef Py_ssize_t i
    cdef int_pixel_t v, lo, hi
    if n <= 0:
        lo_out[0] = INT64_MAX
        hi_out[0] = INT64_MIN
        return
    lo = src[0]
    hi = src[0]
    for i in range(n):
        v = src[i]
        lo = v if v < lo else lo
        hi = v if v > hi else hi
    lo_out[0] = lo
    hi_out[0] = hi


def int_range(const int_pixel_t[::1] src, int nthreads=1):
    """(min, max) of ``src`` as Python ints, in one pass."""
    cdef Py_ssize_t c, s, n = src.shape[0]
    cdef Py_ssize_t size = CHUNK, nchunks
    cdef int64_t lo_c[MAX_RANGE_CHUNKS]
    cdef int64_t hi_c[MAX_RANGE_CHUNKS]
    cdef int64_t lo, hi
    if n == 0:
        raise ValueError("empty array")
    cdef const int_pixel_t* p = &src[0]
    with nogil:
        if _serial(n, nthreads):
            _minmax(p, n, &lo, &hi)
        else:
            if n > size * MAX_RANGE_CHUNKS:
                size = (n + MAX_RANGE_CHUNKS - 1) // MAX_RANGE_CHUNKS
            nchunks = (n + size - 1) // size
            for c in prange(nchunks, schedule="dynamic", num_threads=nthreads):
                s = c * size
                _minmax(p + s, size if n - s > size else n - s, &lo_c[c], &hi_c[c])
            lo = lo_c[0]
            hi = hi_c[0]
            for c in range(1, nchunks):
                lo = lo_c[c] if lo_c[c] < lo else lo
                hi = hi_c[c] if hi_c[c] > hi else hi
    return lo, hi


cdef void _gather(const int_pixel_t* src, const table_t* table, table_t* out, Py_ssize_t n,
                  int64_t lo, uint64_t last) noexcept nogil:
    cdef Py_ssize_t i
    cdef uint64_t k
    for i in range(n):
        k = <uint64_t>(<int64_t>src[i] - lo)
        out[i] = table[k if k <= last else last]


def gather(const int_pixel_t[::1] src, const table_t[::1] table, table_t[::1] out,
           int64_t lo, int nthreads=1):
    """out[i] = table[src[i] - lo].  The caller's table covers min(src)..max(src)
    from ``lo``; an index outside it (never, then) takes the last entry."""
    cdef Py_ssize_t c, s, n = src.shape[0]
    _check(n, out.shape[0])
    if n == 0:
        return
    if table.shape[0] == 0:
        raise ValueError("empty table")
    cdef const int_pixel_t* p = &src[0]
    cdef const table_t* t = &table[0]
    cdef table_t* o = &out[0]
    cdef uint64_t last = table.shape[0] - 1
    with nogil:
        if _serial(n, nthreads):
            _gather(p, t, o, n, lo, last)
        else:
            for c in prange(_chunks(n), schedule="dynamic", num_threads=nthreads):
                s = c * CHUNK
                _gather(p + s, t, o + s, _chunk_len(n, s), lo, last)


cdef extern from *:
    """
    #include <stdint.h>
    #if defined(__SSE2__) || defined(_M_X64)
    #include <emmintrin.h>
    #define DF_HAVE_SSE2 1
    #endif

    /* 1, with the range, if every value is a whole number in int32's range, else
       0.  NaN and values out of range become 0.5 before the conversion (no
       undefined behaviour) and fail the comparison with the converted value. */
    static int df_whole_f64(const double *src, Py_ssize_t n, int64_t *lo_out, int64_t *hi_out) {
        Py_ssize_t i = 0;
        double lo = 2147483648.0, hi = -2147483649.0, x, xc;
        int bad = 0;
    #if defined(DF_HAVE_SSE2)
        const __m128d below = _mm_set1_pd(-2147483649.0), above = _mm_set1_pd(2147483648.0);
        const __m128d half = _mm_set1_pd(0.5);
        __m128d bad0 = _mm_setzero_pd(), bad1 = bad0;
        __m128d lo0 = _mm_set1_pd(lo), lo1 = lo0, hi0 = _mm_set1_pd(hi), hi1 = hi0;
        double l[2], h[2];
        for (; i + 4 <= n; i += 4) {  /* two independent chains */
            __m128d a = _mm_loadu_pd(src + i), b = _mm_loadu_pd(src + i + 2);
            __m128d ina = _mm_and_pd(_mm_cmpgt_pd(a, below), _mm_cmplt_pd(a, above));
            __m128d inb = _mm_and_pd(_mm_cmpgt_pd(b, below), _mm_cmplt_pd(b, above));
            __m128d ac = _mm_or_pd(_mm_and_pd(ina, a), _mm_andnot_pd(ina, half));
            __m128d bc = _mm_or_pd(_mm_and_pd(inb, b), _mm_andnot_pd(inb, half));
            bad0 = _mm_or_pd(bad0, _mm_cmpneq_pd(_mm_cvtepi32_pd(_mm_cvttpd_epi32(ac)), a));
            bad1 = _mm_or_pd(bad1, _mm_cmpneq_pd(_mm_cvtepi32_pd(_mm_cvttpd_epi32(bc)), b));
            lo0 = _mm_min_pd(lo0, ac);
            hi0 = _mm_max_pd(hi0, ac);
            lo1 = _mm_min_pd(lo1, bc);
            hi1 = _mm_max_pd(hi1, bc);
        }
        bad = _mm_movemask_pd(_mm_or_pd(bad0, bad1)) != 0;
        _mm_storeu_pd(l, _mm_min_pd(lo0, lo1));
        _mm_storeu_pd(h, _mm_max_pd(hi0, hi1));
        lo = l[0] < l[1] ? l[0] : l[1];
        hi = h[0] > h[1] ? h[0] : h[1];
    #endif
        for (; i < n; i++) {
            x = src[i];
            xc = (x > -2147483649.0 && x < 2147483648.0) ? x : 0.5;
            bad |= (double)(int32_t)xc != x;
            lo = xc < lo ? xc : lo;
            hi = xc > hi ? xc : hi;
        }
        *lo_out = (int64_t)lo;
        *hi_out = (int64_t)hi;
        return !bad;
    }
    """
    bint df_whole_f64(const double* src, Py_ssize_t n, int64_t* lo_out, int64_t* hi_out) noexcept nogil


cdef bint _integral_range(const real_t* src, Py_ssize_t n, int64_t* lo_out,
                          int64_t* hi_out) noexcept nogil:
    """True, with min and max, if every value is a whole number in int32's range
    (so that a table can serve floating point input too)."""
    cdef Py_ssize_t i
    cdef int32_t k, lo = INT32_MAX, hi = INT32_MIN
    cdef bint bad = False
    cdef double x, xc
    if real_t is double:
        return df_whole_f64(src, n, lo_out, hi_out)
    else:
        for i in range(n):
            x = <double>src[i]
            # NaN and values out of range convert 0.5 instead, and fail below
            xc = x if ((x > -2147483649.0) & (x < 2147483648.0)) else 0.5
            k = <int32_t>xc
            bad = bad | (<double>k != x)
            lo = k if k < lo else lo
            hi = k if k > hi else hi
        lo_out[0] = lo
        hi_out[0] = hi
        return not bad


def integral_range(const real_t[::1] src, int nthreads=1):
    """(min, max) of ``src`` as Python ints if all of its values are whole
    numbers in int32's range, else None (found out at the first chunk that has
    another value)."""
    cdef Py_ssize_t c, s, n = src.shape[0]
    cdef Py_ssize_t size = CHUNK, nchunks
    cdef int64_t lo_c[MAX_RANGE_CHUNKS]
    cdef int64_t hi_c[MAX_RANGE_CHUNKS]
    cdef bint failed[1]
    cdef int64_t lo = 0, hi = 0
    if n == 0:
        return None
    cdef const real_t* p = &src[0]
    if n > size * MAX_RANGE_CHUNKS:
        size = (n + MAX_RANGE_CHUNKS - 1) // MAX_RANGE_CHUNKS
    nchunks = (n + size - 1) // size
    failed[0] = False
    with nogil:
        if nthreads <= 1 or nchunks == 1:
            for c in range(nchunks):
                s = c * size
                if not _integral_range(p + s, size if n - s > size else n - s,
                                       &lo_c[c], &hi_c[c]):
                    failed[0] = True
                    break
        else:
            for c in prange(nchunks, schedule="dynamic", num_threads=nthreads):
                s = c * size
                if failed[0]:  # another chunk failed: skip the rest (a benign race)
                    continue
                if not _integral_range(p + s, size if n - s > size else n - s,
                                       &lo_c[c], &hi_c[c]):
                    failed[0] = True
        if not failed[0]:
            lo = lo_c[0]
            hi = hi_c[0]
            for c in range(1, nchunks):
                lo = lo_c[c] if lo_c[c] < lo else lo
                hi = hi_c[c] if hi_c[c] > hi else hi
    if failed[0]:
        return None
    return lo, hi


cdef void _gather_real(const real_t* src, const double* table, double* out, Py_ssize_t n,
                       int64_t lo, uint64_t last) noexcept nogil:
    cdef Py_ssize_t i
    cdef uint64_t k
    cdef double x
    for i in range(n):
        x = <double>src[i]
        x = x if (x > -2147483649.0 and x < 2147483648.0) else <double>lo
        k = <uint64_t>(<int64_t>(<int32_t>x) - lo)
        out[i] = table[k if k <= last else last]


def gather_real(const real_t[::1] src, const double[::1] table, double[::1] out,
                int64_t lo, int nthreads=1):
    """out[i] = table[int(src[i]) - lo] for whole-number ``src`` (see
    :func:`integral_range`); an index outside the table takes the last entry."""
    cdef Py_ssize_t c, s, n = src.shape[0]
    _check(n, out.shape[0])
    if n == 0:
        return
    if table.shape[0] == 0:
        raise ValueError("empty table")
    cdef const real_t* p = &src[0]
    cdef const double* t = &table[0]
    cdef double* o = &out[0]
    cdef uint64_t last = table.shape[0] - 1
    with nogil:
        if _serial(n, nthreads):
            _gather_real(p, t, o, n, lo, last)
        else:
            for c in prange(_chunks(n), schedule="dynamic", num_threads=nthreads):
                s = c * CHUNK
                _gather_real(p + s, t, o + s, _chunk_len(n, s), lo, last)


# ---------------------------------------------------------------------------
# Output buffers.  A fresh array of tens of megabytes costs as much again as the
# kernel that fills it: the C library maps such blocks anew on every call and the
# kernel zeroes each page on first touch (6 ms for a 42 MB float64 CT volume here).
# Outputs from ``pooled_empty`` are ordinary numpy arrays whose memory goes, when
# numpy frees it, to a small pool of recently freed blocks (at most POOL_SLOTS
# blocks and ``pool_limit`` bytes) that the next output of the same size reuses,
# as an allocator with a higher mmap threshold would.
# ---------------------------------------------------------------------------

cdef extern from *:
    """
    #include <stdlib.h>
    #include <stdint.h>
    #if defined(__linux__)
    #include <sys/mman.h>
    #endif
    #include "numpy/arrayobject.h"

    #define DF_POOL_SLOTS 4
    typedef struct { void *ptr; size_t size; } df_block;
    static df_block df_pool[DF_POOL_SLOTS];
    static size_t df_pool_bytes = 0;
    static size_t df_pool_limit = 0;
    static const size_t df_pool_min = (size_t)1 << 22;  /* smaller blocks: plain malloc */
    static int df_pool_next = 0;

    #if defined(_MSC_VER)
    #include <intrin.h>
    static volatile long df_pool_flag = 0;
    static void df_lock(void) { while (_InterlockedExchange(&df_pool_flag, 1)) {} }
    static void df_unlock(void) { _InterlockedExchange(&df_pool_flag, 0); }
    #else
    static volatile char df_pool_flag = 0;
    static void df_lock(void) { while (__atomic_test_and_set(&df_pool_flag, __ATOMIC_ACQUIRE)) {} }
    static void df_unlock(void) { __atomic_clear(&df_pool_flag, __ATOMIC_RELEASE); }
    #endif

    static void *df_malloc(void *ctx, size_t size) {
        void *p = NULL;
        int i;
        (void)ctx;
        if (size < df_pool_min) {
            return malloc(size ? size : 1);
        }
        df_lock();
        for (i = 0; i < DF_POOL_SLOTS; i++) {
            if (df_pool[i].ptr != NULL && df_pool[i].size == size) {
                p = df_pool[i].ptr;
                df_pool[i].ptr = NULL;
                df_pool_bytes -= size;
                break;
            }
        }
        df_unlock();
        if (p != NULL) {
            return p;
        }
        p = malloc(size);
    #if defined(MADV_HUGEPAGE)
        if (p != NULL) {  /* as numpy does for large arrays: fewer faults and TLB misses */
            uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
            uintptr_t e = ((uintptr_t)p + size) & ~(uintptr_t)4095;
            if (e > a) {
                madvise((void *)a, e - a, MADV_HUGEPAGE);
            }
        }
    #endif
        return p;
    }

    static void *df_calloc(void *ctx, size_t nelem, size_t elsize) {
        (void)ctx;
        return calloc(nelem ? nelem : 1, elsize ? elsize : 1);
    }

    static void *df_realloc(void *ctx, void *ptr, size_t new_size) {
        (void)ctx;
        return realloc(ptr, new_size ? new_size : 1);
    }

    static void df_free(void *ctx, void *ptr, size_t size) {
        void *evicted[DF_POOL_SLOTS + 1];
        int n_evicted = 0, i, slot = -1;
        (void)ctx;
        if (ptr == NULL) {
            return;
        }
        df_lock();
        if (size < df_pool_min || size > df_pool_limit) {
            evicted[n_evicted++] = ptr;
        } else {
            for (i = 0; i < DF_POOL_SLOTS; i++) {
                if (df_pool[i].ptr == NULL) {
                    slot = i;
                    break;
                }
            }
            if (slot < 0) {  /* all taken: replace the slots in turn */
                slot = df_pool_next;
                df_pool_next = (df_pool_next + 1) % DF_POOL_SLOTS;
                evicted[n_evicted++] = df_pool[slot].ptr;
                df_pool_bytes -= df_pool[slot].size;
                df_pool[slot].ptr = NULL;
            }
            for (i = 0; i < DF_POOL_SLOTS && df_pool_bytes + size > df_pool_limit; i++) {
                if (df_pool[i].ptr != NULL) {
                    evicted[n_evicted++] = df_pool[i].ptr;
                    df_pool_bytes -= df_pool[i].size;
                    df_pool[i].ptr = NULL;
                }
            }
            df_pool[slot].ptr = ptr;
            df_pool[slot].size = size;
            df_pool_bytes += size;
        }
        df_unlock();
        for (i = 0; i < n_evicted; i++) {
            free(evicted[i]);
        }
    }

    /* Set the pool's byte limit (0 disables it); returns the blocks it frees. */
    static void df_pool_set_limit(size_t limit) {
        void *evicted[DF_POOL_SLOTS];
        int n_evicted = 0, i;
        df_lock();
        df_pool_limit = limit;
        for (i = 0; i < DF_POOL_SLOTS; i++) {
            if (df_pool[i].ptr != NULL && df_pool_bytes > limit) {
                evicted[n_evicted++] = df_pool[i].ptr;
                df_pool_bytes -= df_pool[i].size;
                df_pool[i].ptr = NULL;
            }
        }
        df_unlock();
        for (i = 0; i < n_evicted; i++) {
            free(evicted[i]);
        }
    }

    static size_t df_pool_cached(void) {
        size_t n;
        df_lock();
        n = df_pool_bytes;
        df_unlock();
        return n;
    }

    static PyDataMem_Handler df_handler = {
        "dicomfast_display_pool", 1, {NULL, df_malloc, df_calloc, df_realloc, df_free}
    };

    /* A capsule for PyDataMem_SetHandler, or NULL with an exception set. */
    static PyObject *df_pool_capsule(void) {
        if (PyArray_API == NULL && _import_array() < 0) {
            return NULL;
        }
        return PyCapsule_New(&df_handler, "mem_handler", NULL);
    }

    static PyObject *df_set_handler(PyObject *handler) {
        return PyDataMem_SetHandler(handler);
    }
    """
    size_t df_pool_min
    void df_pool_set_limit(size_t limit) nogil
    size_t df_pool_cached() nogil
    object df_pool_capsule()
    object df_set_handler(object handler)


cdef object _pool_handler = df_pool_capsule()

POOL_MIN_BYTES = df_pool_min


def pool_limit(size_t limit):
    """Keep at most ``limit`` bytes of freed output blocks for reuse (0: none)."""
    df_pool_set_limit(limit)


def pool_cached():
    """Bytes of freed output blocks held for reuse."""
    return df_pool_cached()


def pooled_empty(shape, dtype):
    """``numpy.empty(shape, dtype)`` with its memory from (and back to) the pool."""
    old = df_set_handler(_pool_handler)
    try:
        return np.empty(shape, dtype)
    finally:
        df_set_handler(old)


# ---------------------------------------------------------------------------
# VOI LUT, windowing, Presentation LUT, inversion, palette colour, YBR <-> RGB.
# Each loop reproduces numpy's arithmetic for the same operation step by step
# (same operation order, same precision), so results are bit-identical.
# ---------------------------------------------------------------------------

cdef void _voi_lut(const pixel_t* src, const lut_t* lut, lut_t* out, Py_ssize_t n,
                   int64_t first_mapped, int64_t mask, int64_t last) noexcept nogil:
    cdef Py_ssize_t i
    cdef int64_t k
    for i in range(n):
        if src[i] < first_mapped:
            k = 0
        else:
            if pixel_t is float or pixel_t is double:
                k = (<int64_t>(src[i] - first_mapped)) & mask
            else:
                k = (<int64_t>(<pixel_t>(src[i] - first_mapped))) & mask
            k = last if k > last else k
        out[i] = lut[k]


def voi_lut(const pixel_t[::1] src, const lut_t[::1] lut, lut_t[::1] out,
            int64_t first_mapped, int64_t mask, int nthreads=1):
    """out = lut[clip(wrap(src - first_mapped), 0, len(lut) - 1)]; values below
    ``first_mapped`` take entry 0 (PS3.3 C.11.2.1.1).

    The difference is taken in the input's own type and wrapped to the LUT's
    entry width (``mask``), as numpy's casts do.
    """
    cdef Py_ssize_t c, s, n = src.shape[0]
    _check(n, out.shape[0])
    if n == 0:
        return
    if lut.shape[0] == 0:
        raise ValueError("empty LUT")
    cdef const pixel_t* p = &src[0]
    cdef const lut_t* t = &lut[0]
    cdef lut_t* o = &out[0]
    cdef int64_t last = lut.shape[0] - 1
    with nogil:
        if _serial(n, nthreads):
            _voi_lut(p, t, o, n, first_mapped, mask, last)
        else:
            for c in prange(_chunks(n), schedule="dynamic", num_threads=nthreads):
                s = c * CHUNK
                _voi_lut(p + s, t, o + s, _chunk_len(n, s), first_mapped, mask, last)


cdef void _window_linear(const pixel_t* src, double* out, Py_ssize_t n, double below,
                         double above, double center, double width, double y_min,
                         double y_max) noexcept nogil:
    cdef Py_ssize_t i
    cdef double x, v, y_range = y_max - y_min
    for i in range(n):
        # branch-free (computed, then replaced outside the window) so it vectorizes
        x = <double>src[i]
        v = ((x - center) / width + 0.5) * y_range + y_min
        v = y_min if x <= below else v
        v = y_max if x > above else v
        out[i] = v


def window_linear(const pixel_t[::1] src, double[::1] out, double below, double above,
                  double center, double width, double y_min, double y_max, int nthreads=1):
    """LINEAR / LINEAR_EXACT windowing (PS3.3 C.11.2.1.2/3) with the centre and
    width already adjusted by the caller; float64 output."""
    cdef Py_ssize_t c, s, n = src.shape[0]
    _check(n, out.shape[0])
    if n == 0:
        return
    cdef const pixel_t* p = &src[0]
    cdef double* o = &out[0]
    with nogil:
        if _serial(n, nthreads):
            _window_linear(p, o, n, below, above, center, width, y_min, y_max)
        else:
            for c in prange(_chunks(n), schedule="dynamic", num_threads=nthreads):
                s = c * CHUNK
                _window_linear(p + s, o + s, _chunk_len(n, s), below, above, center, width,
                               y_min, y_max)


cdef void _sigmoid(const pixel_t* src, double* out, Py_ssize_t n, double center, double width,
                   double y_min, double y_max) noexcept nogil:
    cdef Py_ssize_t i
    cdef double y_range = y_max - y_min
    for i in range(n):
        out[i] = y_range / (1.0 + exp((-4.0 * (<double>src[i] - center)) / width)) + y_min


def sigmoid(const pixel_t[::1] src, double[::1] out, double center, double width,
            double y_min, double y_max, int nthreads=1):
    """SIGMOID windowing (PS3.3 C.11.2.1.3.2) in one pass with the C library's exp:
    out = (y_max - y_min) / (1 + exp(-4 (x - c) / w)) + y_min."""
    cdef Py_ssize_t c, s, n = src.shape[0]
    _check(n, out.shape[0])
    if n == 0:
        return
    cdef const pixel_t* p = &src[0]
    cdef double* o = &out[0]
    with nogil:
        if _serial(n, nthreads):
            _sigmoid(p, o, n, center, width, y_min, y_max)
        else:
            for c in prange(_chunks(n), schedule="dynamic", num_threads=nthreads):
                s = c * CHUNK
                _sigmoid(p + s, o + s, _chunk_len(n, s), center, width, y_min, y_max)


cdef void _sigmoid_exponent(const pixel_t* src, double* out, Py_ssize_t n, double center,
                            double width) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = (-4.0 * (<double>src[i] - center)) / width


def sigmoid_exponent(const pixel_t[::1] src, double[::1] out, double center, double width, int nthreads=1):
    """First half of SIGMOID windowing: out = -4 (x - c) / w."""
    cdef Py_ssize_t c, s, n = src.shape[0]
    _check(n, out.shape[0])
    if n == 0:
        return
    cdef const pixel_t* p = &src[0]
    cdef double* o = &out[0]
    with nogil:
        if _serial(n, nthreads):
            _sigmoid_exponent(p, o, n, center, width)
        else:
            for c in prange(_chunks(n), schedule="dynamic", num_threads=nthreads):
                s = c * CHUNK
                _sigmoid_exponent(p + s, o + s, _chunk_len(n, s), center, width)


cdef void _sigmoid_finish(double* buf, Py_ssize_t n, double y_min, double y_max) noexcept nogil:
    cdef Py_ssize_t i
    cdef double y_range = y_max - y_min
    for i in range(n):
        buf[i] = y_range / (1.0 + buf[i]) + y_min


def sigmoid_finish(double[::1] buf, double y_min, double y_max, int nthreads=1):
    """Second half of SIGMOID windowing, in place: buf = range / (1 + exp(...)) + y_min."""
    cdef Py_ssize_t c, s, n = buf.shape[0]
    if n == 0:
        return
    cdef double* b = &buf[0]
    with nogil:
        if _serial(n, nthreads):
            _sigmoid_finish(b, n, y_min, y_max)
        else:
            for c in prange(_chunks(n), schedule="dynamic", num_threads=nthreads):
                s = c * CHUNK
                _sigmoid_finish(b + s, _chunk_len(n, s), y_min, y_max)


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


cdef void _presentation_lut(const pixel_t* src, const lut_t* lut, lut_t* out, Py_ssize_t n,
                            float minimum, float scale, int64_t last) noexcept nogil:
    cdef Py_ssize_t i
    cdef int64_t k
    cdef float v
    for i in range(n):
        v = (<float>src[i] - minimum) / scale
        k = <int64_t>(<uint16_t>v)
        out[i] = lut[last if k > last else k]


def presentation_lut(const pixel_t[::1] src, const lut_t[::1] lut, lut_t[::1] out,
                     float minimum, float scale, int nthreads=1):
    """out = lut[uint16((float32(src) - minimum) / scale)] (PS3.3 C.11.6)."""
    cdef Py_ssize_t c, s, n = src.shape[0]
    _check(n, out.shape[0])
    if n == 0:
        return
    if lut.shape[0] == 0:
        raise ValueError("empty LUT")
    cdef const pixel_t* p = &src[0]
    cdef const lut_t* t = &lut[0]
    cdef lut_t* o = &out[0]
    cdef int64_t last = lut.shape[0] - 1
    with nogil:
        if _serial(n, nthreads):
            _presentation_lut(p, t, o, n, minimum, scale, last)
        else:
            for c in prange(_chunks(n), schedule="dynamic", num_threads=nthreads):
                s = c * CHUNK
                _presentation_lut(p + s, t, o + s, _chunk_len(n, s), minimum, scale, last)


cdef void _invert(const pixel_t* src, pixel_t* out, Py_ssize_t n, pixel_t top) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = <pixel_t>(top - src[i])


def invert(const pixel_t[::1] src, pixel_t[::1] out, pixel_t top, int nthreads=1):
    """out = top - src in the array's own type (``src`` and ``out`` may be the same)."""
    cdef Py_ssize_t c, s, n = src.shape[0]
    _check(n, out.shape[0])
    if n == 0:
        return
    cdef const pixel_t* p = &src[0]
    cdef pixel_t* o = &out[0]
    with nogil:
        if _serial(n, nthreads):
            _invert(p, o, n, top)
        else:
            for c in prange(_chunks(n), schedule="dynamic", num_threads=nthreads):
                s = c * CHUNK
                _invert(p + s, o + s, _chunk_len(n, s), top)


cdef extern from *:
    """
    /* Maximum of an integer array: four independent maxima, so the compiler
       keeps four vector registers busy; an AVX2 clone where the CPU has it (the
       unsigned 16- and 32-bit maxima have no SSE2 instruction). */
    #if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
    #define DF_CLONES __attribute__((target_clones("avx2", "default")))
    #else
    #define DF_CLONES
    #endif
    #define DF_MAX(name, T) \
        DF_CLONES static int64_t name(const T *src, Py_ssize_t n) { \
            Py_ssize_t i = 0; \
            T a = src[0], b = src[0], c = src[0], d = src[0]; \
            for (; i + 4 <= n; i += 4) { \
                a = src[i] > a ? src[i] : a; \
                b = src[i + 1] > b ? src[i + 1] : b; \
                c = src[i + 2] > c ? src[i + 2] : c; \
                d = src[i + 3] > d ? src[i + 3] : d; \
            } \
            for (; i < n; i++) a = src[i] > a ? src[i] : a; \
            a = b > a ? b : a; \
            c = d > c ? d : c; \
            return (int64_t)(c > a ? c : a); \
        }
    DF_MAX(df_max_u8, uint8_t)
    DF_MAX(df_max_i8, int8_t)
    DF_MAX(df_max_u16, uint16_t)
    DF_MAX(df_max_i16, int16_t)
    DF_MAX(df_max_u32, uint32_t)
    DF_MAX(df_max_i32, int32_t)
    """
    int64_t df_max_u8(const uint8_t* src, Py_ssize_t n) noexcept nogil
    int64_t df_max_i8(const int8_t* src, Py_ssize_t n) noexcept nogil
    int64_t df_max_u16(const uint16_t* src, Py_ssize_t n) noexcept nogil
    int64_t df_max_i16(const int16_t* src, Py_ssize_t n) noexcept nogil
    int64_t df_max_u32(const uint32_t* src, Py_ssize_t n) noexcept nogil
    int64_t df_max_i32(const int32_t* src, Py_ssize_t n) noexcept nogil


cdef inline int64_t _max(const int_pixel_t* src, Py_ssize_t n) noexcept nogil:
    if int_pixel_t is uint8_t:
        return df_max_u8(src, n)
    elif int_pixel_t is int8_t:
        return df_max_i8(src, n)
    elif int_pixel_t is uint16_t:
        return df_max_u16(src, n)
    elif int_pixel_t is int16_t:
        return df_max_i16(src, n)
    elif int_pixel_t is uint32_t:
        return df_max_u32(src, n)
    else:
        return df_max_i32(src, n)


def invert_from_max(const int_pixel_t[::1] src, int_pixel_t[::1] out, int nthreads=1):
    """out = max(src) - src; returns the maximum.  The maximum in one parallel
    pass, the inversion in a second (``src`` and ``out`` may be the same)."""
    cdef Py_ssize_t c, s, n = src.shape[0]
    cdef Py_ssize_t size = CHUNK, nchunks
    cdef int64_t hi_c[MAX_RANGE_CHUNKS]
    cdef int64_t hi
    _check(n, out.shape[0])
    if n == 0:
        raise ValueError("empty array")
    cdef const int_pixel_t* p = &src[0]
    cdef int_pixel_t* o = &out[0]
    with nogil:
        if _serial(n, nthreads):
            hi = _max(p, n)
            _invert(p, o, n, <int_pixel_t>hi)
        else:
            if n > size * MAX_RANGE_CHUNKS:
                size = (n + MAX_RANGE_CHUNKS - 1) // MAX_RANGE_CHUNKS
            nchunks = (n + size - 1) // size
            for c in prange(nchunks, schedule="static", num_threads=nthreads):
                s = c * size
                hi_c[c] = _max(p + s, size if n - s > size else n - s)
            hi = hi_c[0]
            for c in range(1, nchunks):
                hi = hi_c[c] if hi_c[c] > hi else hi
            for c in prange(_chunks(n), schedule="static", num_threads=nthreads):
                s = c * CHUNK
                _invert(p + s, o + s, _chunk_len(n, s), <int_pixel_t>hi)
    return hi


def palette(const int_pixel_t[::1] src, const lut_t[:, ::1] luts, lut_t[:, ::1] out,
            int64_t first_mapped, int64_t mask, int nthreads=1):
    """out[i, c] = luts[c, clip(wrap(src[i] - first_mapped))] (PS3.3 C.7.6.3.1.5/6)."""
    cdef Py_ssize_t i, c, n = src.shape[0], nc = luts.shape[0]
    cdef int64_t last = luts.shape[1] - 1
    cdef int64_t k
    with nogil:
        for i in prange(n, schedule="dynamic", chunksize=CHUNK, num_threads=nthreads):
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
        for i in prange(n, schedule="dynamic", chunksize=CHUNK, num_threads=nthreads):
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
        for i in prange(n, schedule="dynamic", chunksize=CHUNK, num_threads=nthreads):
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
        for i in prange(n, schedule="dynamic", chunksize=CHUNK, num_threads=nthreads):
            r = <float>src[i, 0]
            g = <float>src[i, 1]
            b = <float>src[i, 2]
            out[i, 0] = _clip_u8(_dot3(r, yr, g, yg, b, yb, fused) + 0.5)
            out[i, 1] = _clip_u8(_dot3(r, br, g, bg, b, bb, fused) + 128.5)
            out[i, 2] = _clip_u8(_dot3(r, rr, g, rg, b, rb, fused) + 128.5)
