//! The inverse DCT of 12-bit JPEG blocks, giving the samples libjpeg-turbo's
//! `jpeg12_idct_islow` gives (its accurate integer IDCT: the Loeffler-Ligtenberg-Moschytz
//! algorithm with 13-bit constants, one fractional bit between the passes, 64-bit
//! arithmetic, and its range-limiting table), sample for sample and for any
//! coefficients, hostile ones included.
//!
//! libjpeg-turbo has no SIMD code for 12-bit samples, so its IDCT is 40% of a 12-bit
//! frame's decode; here a block is done with AVX2 where the processor has it:
//! - pass 1 (columns) in 64-bit lanes where products need them (`_mm256_mul_epi32`),
//!   for blocks whose dequantized coefficients are below 2^28 (every real image's: a
//!   12-bit block's are below 2^15 or so), so that the sums of two or four fit 32 bits;
//!   other blocks take the scalar code, which is C's arithmetic in `i64`;
//! - pass 2 (rows) in 32-bit lanes, wrapping: a sample is bits 17-30 of a sum, which
//!   arithmetic modulo 2^32 gives exactly;
//! - a block whose coefficients are all zero but the DC is one value repeated.

/// The 13-bit fixed-point constants of the algorithm (round(x * 2^13)).
const F0_298: i64 = 2446;
const F0_390: i64 = 3196;
const F0_541: i64 = 4433;
const F0_765: i64 = 6270;
const F0_899: i64 = 7373;
const F1_175: i64 = 9633;
const F1_501: i64 = 12299;
const F1_847: i64 = 15137;
const F1_961: i64 = 16069;
const F2_053: i64 = 16819;
const F2_562: i64 = 20995;
const F3_072: i64 = 25172;

/// The largest 12-bit sample, and the offset of the samples' centre.
const MAX: i32 = 4095;
const CENTRE: i32 = 2048;

/// A descaled second-pass value (only its low 14 bits count, as libjpeg's `RANGE_MASK`)
/// as the sample libjpeg-turbo's range-limit table gives: the value plus 2048, clamped
/// to 0..4095 within +-8192 of 0 and wrapping around every 16384 beyond.
#[inline(always)]
fn sample(v: i32) -> u16 {
    let u = (v + CENTRE) & 16383;
    (if u <= MAX {
        u
    } else if u < 10240 {
        MAX
    } else {
        0
    }) as u16
}

/// The arithmetic an 8-point pass takes, on one value (`i64`, C's) or a vector of them:
/// sums and differences of the inputs (`Self`), then products of those with the
/// constants and sums of products (`Self::Wide`: wider where a product needs it).
pub(super) trait Lanes: Copy {
    type Wide: Copy;
    fn plus(self, o: Self) -> Self;
    fn minus(self, o: Self) -> Self;
    fn times(self, k: i64) -> Self::Wide;
    fn wide_plus(a: Self::Wide, b: Self::Wide) -> Self::Wide;
    fn wide_minus(a: Self::Wide, b: Self::Wide) -> Self::Wide;
}

impl Lanes for i64 {
    type Wide = i64;
    #[inline(always)]
    fn plus(self, o: i64) -> i64 {
        self + o
    }
    #[inline(always)]
    fn minus(self, o: i64) -> i64 {
        self - o
    }
    #[inline(always)]
    fn times(self, k: i64) -> i64 {
        self * k
    }
    #[inline(always)]
    fn wide_plus(a: i64, b: i64) -> i64 {
        a + b
    }
    #[inline(always)]
    fn wide_minus(a: i64, b: i64) -> i64 {
        a - b
    }
}

/// One 8-point pass of the algorithm over `x` (the one source of the scalar code and both
/// vector passes): the 8 outputs before descaling, in order.
#[inline(always)]
fn one_d<L: Lanes>(x: [L; 8]) -> [L::Wide; 8] {
    let (add, sub) = (L::wide_plus, L::wide_minus);
    // Even part.
    let z1 = x[2].plus(x[6]).times(F0_541);
    let tmp2 = sub(z1, x[6].times(F1_847));
    let tmp3 = add(z1, x[2].times(F0_765));
    let tmp0 = x[0].plus(x[4]).times(1 << 13);
    let tmp1 = x[0].minus(x[4]).times(1 << 13);
    let (tmp10, tmp13) = (add(tmp0, tmp3), sub(tmp0, tmp3));
    let (tmp11, tmp12) = (add(tmp1, tmp2), sub(tmp1, tmp2));
    // Odd part.
    let (t0, t1, t2, t3) = (x[7], x[5], x[3], x[1]);
    let z1 = t0.plus(t3).times(-F0_899);
    let z2 = t1.plus(t2).times(-F2_562);
    let z5 = t0.plus(t2).plus(t1.plus(t3)).times(F1_175);
    let z3 = add(t0.plus(t2).times(-F1_961), z5);
    let z4 = add(t1.plus(t3).times(-F0_390), z5);
    let t0 = add(add(t0.times(F0_298), z1), z3);
    let t1 = add(add(t1.times(F2_053), z2), z4);
    let t2 = add(add(t2.times(F3_072), z2), z3);
    let t3 = add(add(t3.times(F1_501), z1), z4);
    [
        add(tmp10, t3),
        add(tmp11, t2),
        add(tmp12, t1),
        add(tmp13, t0),
        sub(tmp13, t0),
        sub(tmp12, t1),
        sub(tmp11, t2),
        sub(tmp10, t3),
    ]
}

/// One block (`coef` in natural order, `quant` its quantization table, natural order:
/// libjpeg-turbo's 12-bit IDCT multiplies them as `int`s) into `out` (8 rows of 8), as C
/// computes it.
pub(super) fn block_scalar(coef: &[i16; 64], quant: &[u16; 64], out: &mut [u16; 64]) {
    let mut ws = [0i32; 64];
    for c in 0..8 {
        let x: [i64; 8] = std::array::from_fn(|r| {
            i64::from(i32::from(coef[8 * r + c]) * i32::from(quant[8 * r + c]))
        });
        for (r, v) in one_d(x).into_iter().enumerate() {
            // DESCALE by CONST_BITS - PASS1_BITS, then C's (int) cast.
            ws[8 * r + c] = ((v + (1 << 11)) >> 12) as i32;
        }
    }
    for r in 0..8 {
        let x: [i64; 8] = std::array::from_fn(|c| i64::from(ws[8 * r + c]));
        for (c, v) in one_d(x).into_iter().enumerate() {
            out[8 * r + c] = sample(((v + (1 << 16)) >> 17) as i32);
        }
    }
}

/// [`block_scalar`], with AVX2 where the processor has it (checked once by the caller:
/// `avx2`).
#[inline]
pub(super) fn block(coef: &[i16; 64], quant: &[u16; 64], out: &mut [u16; 64], avx2: bool) {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        // SAFETY: the caller found AVX2 on this processor.
        if unsafe { avx2::block(coef, quant, out) } {
            return;
        }
    }
    let _ = avx2;
    block_scalar(coef, quant, out);
}

/// Whether this processor runs [`block`]'s AVX2 code.
pub(super) fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::*;

    /// A first-pass vector: 32-bit lanes by column (dequantized coefficients below 2^28,
    /// so that sums of two and four fit); its products 64-bit, even and odd lanes apart.
    /// Made only inside [`block`], which runs where the processor has AVX2.
    #[derive(Clone, Copy)]
    struct Columns(__m256i);

    impl Lanes for Columns {
        type Wide = (__m256i, __m256i);
        #[inline(always)]
        fn plus(self, o: Self) -> Self {
            // SAFETY: AVX2 (see the type).
            Columns(unsafe { _mm256_add_epi32(self.0, o.0) })
        }
        #[inline(always)]
        fn minus(self, o: Self) -> Self {
            // SAFETY: as above.
            Columns(unsafe { _mm256_sub_epi32(self.0, o.0) })
        }
        #[inline(always)]
        fn times(self, k: i64) -> Self::Wide {
            // SAFETY: as above.
            unsafe {
                let k = _mm256_set1_epi64x(k);
                (
                    _mm256_mul_epi32(self.0, k),
                    _mm256_mul_epi32(_mm256_srli_epi64(self.0, 32), k),
                )
            }
        }
        #[inline(always)]
        fn wide_plus(a: Self::Wide, b: Self::Wide) -> Self::Wide {
            // SAFETY: as above.
            unsafe { (_mm256_add_epi64(a.0, b.0), _mm256_add_epi64(a.1, b.1)) }
        }
        #[inline(always)]
        fn wide_minus(a: Self::Wide, b: Self::Wide) -> Self::Wide {
            // SAFETY: as above.
            unsafe { (_mm256_sub_epi64(a.0, b.0), _mm256_sub_epi64(a.1, b.1)) }
        }
    }

    /// A second-pass vector: 32-bit lanes by row, all of its arithmetic modulo 2^32. Made
    /// only inside [`block`].
    #[derive(Clone, Copy)]
    struct Rows(__m256i);

    impl Lanes for Rows {
        type Wide = __m256i;
        #[inline(always)]
        fn plus(self, o: Self) -> Self {
            // SAFETY: AVX2 (see the type).
            Rows(unsafe { _mm256_add_epi32(self.0, o.0) })
        }
        #[inline(always)]
        fn minus(self, o: Self) -> Self {
            // SAFETY: as above.
            Rows(unsafe { _mm256_sub_epi32(self.0, o.0) })
        }
        #[inline(always)]
        fn times(self, k: i64) -> __m256i {
            // SAFETY: as above.
            unsafe { _mm256_mullo_epi32(self.0, _mm256_set1_epi32(k as i32)) }
        }
        #[inline(always)]
        fn wide_plus(a: __m256i, b: __m256i) -> __m256i {
            // SAFETY: as above.
            unsafe { _mm256_add_epi32(a, b) }
        }
        #[inline(always)]
        fn wide_minus(a: __m256i, b: __m256i) -> __m256i {
            // SAFETY: as above.
            unsafe { _mm256_sub_epi32(a, b) }
        }
    }

    /// C's `(int)DESCALE(x, 12)` of even/odd 64-bit pairs, back in 32-bit lanes in order:
    /// bits 12-43 of `x + 2^11` (what the arithmetic shift and the cast keep).
    #[inline(always)]
    unsafe fn descale_first(x: (__m256i, __m256i)) -> __m256i {
        let round = _mm256_set1_epi64x(1 << 11);
        let even = _mm256_srli_epi64(_mm256_add_epi64(x.0, round), 12);
        let odd = _mm256_srli_epi64(_mm256_add_epi64(x.1, round), 12);
        _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0b1010_1010)
    }

    /// The first pass over 8 columns: `d[r]` row r's dequantized coefficients (each
    /// below 2^28), 32-bit lanes by column; out, the workspace's rows.
    #[inline(always)]
    unsafe fn columns(d: &[__m256i; 8]) -> [__m256i; 8] {
        let x = d.map(Columns);
        // (Loops, not closures: a closure would not be compiled for AVX2.)
        let mut out = [_mm256_setzero_si256(); 8];
        for (o, v) in out.iter_mut().zip(one_d(x)) {
            *o = descale_first(v);
        }
        out
    }

    /// A 32-bit constant in every lane.
    #[inline(always)]
    unsafe fn k(c: i64) -> __m256i {
        _mm256_set1_epi32(c as i32)
    }

    /// A second-pass sum descaled (by CONST_BITS + PASS1_BITS + 3) and range-limited as
    /// the table does it: u = the value plus 2048, modulo 16384; u itself below 4096,
    /// 4095 below 10240, else 0.
    #[inline(always)]
    unsafe fn limit(x: __m256i) -> __m256i {
        let v = _mm256_srai_epi32(_mm256_add_epi32(x, _mm256_set1_epi32(1 << 16)), 17);
        let u = _mm256_and_si256(_mm256_add_epi32(v, k(2048)), k(16383));
        let low = _mm256_cmpgt_epi32(k(10240), u);
        _mm256_and_si256(_mm256_min_epi32(u, k(4095)), low)
    }

    /// The second pass over 8 rows (`w[c]`: the workspace's column c, 32-bit lanes by
    /// row), modulo 2^32, then descaled and range-limited: the samples of column c of
    /// each row, lanes by row.
    #[inline(always)]
    unsafe fn rows(w: &[__m256i; 8]) -> [__m256i; 8] {
        let x = w.map(Rows);
        let mut out = [_mm256_setzero_si256(); 8];
        for (o, v) in out.iter_mut().zip(one_d(x)) {
            *o = limit(v);
        }
        out
    }

    /// The 8 x 8 transpose of 32-bit lanes.
    #[inline(always)]
    unsafe fn transpose(m: [__m256i; 8]) -> [__m256i; 8] {
        let a0 = _mm256_unpacklo_epi32(m[0], m[1]);
        let a1 = _mm256_unpackhi_epi32(m[0], m[1]);
        let a2 = _mm256_unpacklo_epi32(m[2], m[3]);
        let a3 = _mm256_unpackhi_epi32(m[2], m[3]);
        let a4 = _mm256_unpacklo_epi32(m[4], m[5]);
        let a5 = _mm256_unpackhi_epi32(m[4], m[5]);
        let a6 = _mm256_unpacklo_epi32(m[6], m[7]);
        let a7 = _mm256_unpackhi_epi32(m[6], m[7]);
        let b0 = _mm256_unpacklo_epi64(a0, a2);
        let b1 = _mm256_unpackhi_epi64(a0, a2);
        let b2 = _mm256_unpacklo_epi64(a1, a3);
        let b3 = _mm256_unpackhi_epi64(a1, a3);
        let b4 = _mm256_unpacklo_epi64(a4, a6);
        let b5 = _mm256_unpackhi_epi64(a4, a6);
        let b6 = _mm256_unpacklo_epi64(a5, a7);
        let b7 = _mm256_unpackhi_epi64(a5, a7);
        [
            _mm256_permute2x128_si256(b0, b4, 0x20),
            _mm256_permute2x128_si256(b1, b5, 0x20),
            _mm256_permute2x128_si256(b2, b6, 0x20),
            _mm256_permute2x128_si256(b3, b7, 0x20),
            _mm256_permute2x128_si256(b0, b4, 0x31),
            _mm256_permute2x128_si256(b1, b5, 0x31),
            _mm256_permute2x128_si256(b2, b6, 0x31),
            _mm256_permute2x128_si256(b3, b7, 0x31),
        ]
    }

    /// [`super::block`]; false (nothing written) for a block with a dequantized
    /// coefficient of 2^28 or more, which the scalar code does.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn block(coef: &[i16; 64], quant: &[u16; 64], out: &mut [u16; 64]) -> bool {
        let c = coef.as_ptr().cast::<__m128i>();
        let q = quant.as_ptr().cast::<__m128i>();
        // (No closures here: they would not be compiled for AVX2.)
        let mut d = [_mm256_setzero_si256(); 8];
        for (r, row) in d.iter_mut().enumerate() {
            let cr = _mm256_cvtepi16_epi32(_mm_loadu_si128(c.add(r)));
            let qr = _mm256_cvtepu16_epi32(_mm_loadu_si128(q.add(r)));
            *row = _mm256_mullo_epi32(cr, qr);
        }
        let o = out.as_mut_ptr().cast::<__m128i>();
        // All but the DC zero: one sample, everywhere (C's shortcuts give it too).
        let mut ac = _mm256_blend_epi32(d[0], _mm256_setzero_si256(), 1);
        let mut big = _mm256_setzero_si256();
        for &v in &d[1..] {
            ac = _mm256_or_si256(ac, v);
        }
        for &v in &d {
            big = _mm256_or_si256(big, _mm256_abs_epi32(v));
        }
        if _mm256_testz_si256(ac, ac) != 0 {
            let dc = _mm256_extract_epi32(d[0], 0);
            // (int)(2 * dc), then DESCALE by 4 and the table.
            let s = sample((dc.wrapping_mul(2).wrapping_add(8)) >> 4);
            let v = _mm_set1_epi16(s as i16);
            for r in 0..8 {
                _mm_storeu_si128(o.add(r), v);
            }
            return true;
        }
        // Below 2^28 every one (a coefficient times a 16-bit table entry is below 2^31 in
        // size, so its absolute value is right).
        if _mm256_movemask_epi8(_mm256_cmpgt_epi32(big, _mm256_set1_epi32((1 << 28) - 1))) != 0 {
            return false;
        }
        let ws = transpose(columns(&d));
        let s = transpose(rows(&ws));
        for (r, &row) in s.iter().enumerate() {
            // Samples are 0..4095: packed unsigned without saturating.
            let lo = _mm256_castsi256_si128(row);
            let hi = _mm256_extracti128_si256(row, 1);
            _mm_storeu_si128(o.add(r), _mm_packus_epi32(lo, hi));
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// C's arithmetic, literally: every shortcut libjpeg-turbo's `jpeg12_idct_islow` takes
    /// (a column with no AC, a row of zeros) as it takes it, to check that the code above
    /// (which takes none) gives the same.
    fn c_model(coef: &[i16; 64], quant: &[u16; 64]) -> [u16; 64] {
        let mut ws = [0i32; 64];
        for c in 0..8 {
            if (1..8).all(|r| coef[8 * r + c] == 0) {
                let d = i32::from(coef[c]) * i32::from(quant[c]);
                let dcval = ((d as i64) << 1) as i32;
                for r in 0..8 {
                    ws[8 * r + c] = dcval;
                }
                continue;
            }
            let x = std::array::from_fn(|r| {
                i64::from(i32::from(coef[8 * r + c]) * i32::from(quant[8 * r + c]))
            });
            for (r, v) in one_d(x).into_iter().enumerate() {
                ws[8 * r + c] = ((v + (1 << 11)) >> 12) as i32;
            }
        }
        let mut out = [0u16; 64];
        for r in 0..8 {
            let w = &ws[8 * r..8 * r + 8];
            if w[1..].iter().all(|&v| v == 0) {
                let s = sample(((i64::from(w[0]) + 8) >> 4) as i32);
                out[8 * r..8 * r + 8].fill(s);
                continue;
            }
            let x = std::array::from_fn(|c| i64::from(w[c]));
            for (c, v) in one_d(x).into_iter().enumerate() {
                out[8 * r + c] = sample(((v + (1 << 16)) >> 17) as i32);
            }
        }
        out
    }

    /// Coefficients of a real 12-bit image's kind (a DC within the 12-bit range, ACs
    /// decaying with frequency, some zero), then of every size, zeros, extremes.
    fn blocks(n: usize) -> Vec<([i16; 64], [u16; 64])> {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let mut coef = [0i16; 64];
            let mut quant = [0u16; 64];
            let kind = i % 5;
            for k in 0..64 {
                let r = rng.next();
                quant[k] = match kind {
                    0 | 1 => 1 + (r % 40) as u16,
                    2 => (r >> 16) as u16, // any 16-bit value
                    3 => 1,
                    _ => [1, 255, u16::MAX, 0x8000, 0x7FFF][(r % 5) as usize],
                };
                let r = rng.next();
                coef[k] = match kind {
                    0 => {
                        if k == 0 {
                            (r % 4096) as i16 - 2048
                        } else if r.is_multiple_of(3) {
                            0
                        } else {
                            ((r >> 8) % (2048 / (1 + k as u64))) as i16 - (1024 / (1 + k as i16))
                        }
                    }
                    1 if k > 0 && !r.is_multiple_of(8) => 0,
                    4 => [0, 1, -1, i16::MIN, i16::MAX, 16384, -16384][(r % 7) as usize],
                    _ => (r >> 20) as i16,
                };
            }
            out.push((coef, quant));
        }
        out
    }

    #[test]
    fn the_code_computes_what_c_computes() {
        for (coef, quant) in blocks(20_000) {
            let mut out = [0u16; 64];
            block_scalar(&coef, &quant, &mut out);
            assert_eq!(out, c_model(&coef, &quant), "{coef:?} {quant:?}");
        }
    }

    #[test]
    fn avx2_and_scalar_agree() {
        if !has_avx2() {
            return;
        }
        let (mut fast, mut vector) = (0, 0);
        for (coef, quant) in blocks(20_000) {
            let (mut a, mut b) = ([0u16; 64], [1u16; 64]);
            block_scalar(&coef, &quant, &mut a);
            // SAFETY: AVX2 found above.
            if unsafe { avx2::block(&coef, &quant, &mut b) } {
                assert_eq!(a, b, "{coef:?} {quant:?}");
                vector += 1;
            } else {
                fast += 1;
            }
        }
        // Most blocks went the vector way; the hostile ones the scalar way.
        assert!(vector > 10_000 && fast > 100, "{vector} {fast}");
    }

    #[test]
    fn the_range_limit_is_libjpeg_turbos_table() {
        // prepare_range_limit_table's post-IDCT part for 12 bits, as an index into it.
        for v in -40_000..40_000 {
            let i = v & 16383;
            let want = if i < 2048 {
                i + 2048
            } else if i < 8192 {
                4095
            } else if i < 14336 {
                0
            } else {
                i - 14336
            };
            assert_eq!(i32::from(sample(v)), want, "{v}");
        }
    }
}
