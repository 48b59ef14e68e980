//! Predictor-1 lines (the SV1 syntax) rebuilt as SIMD prefix sums.
//!
//! A line predicted from the left is a running sum of its differences per component,
//! modulo 2^16 (H.2.1). One sample at a time that is a byte or word store per sample; here
//! a block of samples is summed in a vector register by shifted adds (log steps, the shift
//! a multiple of the component count) and stored at once, the last pixel's sums carried
//! into the next block. Two layouts have vector code: 8-bit colour (three components, 15
//! samples a block) and 16-bit grey (8 samples a block); every other is summed sample by
//! sample, and so are the samples past the last whole block.

/// The running sum of `diffs` from `start` written into `line` as `B`-byte little-endian
/// samples of `NC` interleaved components (B = 1 keeps the low byte: the sums modulo 2^8 are
/// the low bytes of the sums modulo 2^16).
#[inline(always)]
pub(super) fn sum_into<const NC: usize, const B: usize>(
    diffs: &[i16],
    line: &mut [u8],
    start: [u16; NC],
) {
    let done = simd::<NC, B>(diffs, line, start);
    let mut ra = start;
    if done > 0 {
        for (c, r) in ra.iter_mut().enumerate() {
            let at = (done - NC + c) * B;
            *r = if B == 2 {
                u16::from_le_bytes([line[at], line[at + 1]])
            } else {
                u16::from(line[at])
            };
        }
    }
    let line = &mut line[done * B..];
    for (px, d) in line
        .chunks_exact_mut(NC * B)
        .zip(diffs[done..].chunks_exact(NC))
    {
        for c in 0..NC {
            ra[c] = ra[c].wrapping_add(d[c] as u16);
            px[c * B..(c + 1) * B].copy_from_slice(&ra[c].to_le_bytes()[..B]);
        }
    }
}

/// The samples summed with vector code (a whole number of pixels; 0 where there is none).
#[inline(always)]
fn simd<const NC: usize, const B: usize>(
    diffs: &[i16],
    line: &mut [u8],
    start: [u16; NC],
) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("ssse3") {
            let n = diffs.len().min(line.len() / B);
            // SAFETY: SSSE3 is available; both functions keep within `n` samples.
            return unsafe {
                match (NC, B) {
                    (3, 1) => rgb8_ssse3(
                        &diffs[..n],
                        &mut line[..n],
                        [0, 1, 2].map(|c| start[c % NC] as u8),
                    ),
                    (1, 2) => grey16_ssse3(&diffs[..n], &mut line[..2 * n], start[0]),
                    _ => 0,
                }
            };
        }
    }
    let _ = (diffs, line, start);
    0
}

/// 8-bit colour: 15 samples (5 pixels) a block, from the low bytes of 16 differences; the
/// 16th lane is the next block's first sample, stored and then stored again.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "ssse3")]
unsafe fn rgb8_ssse3(diffs: &[i16], line: &mut [u8], start: [u8; 3]) -> usize {
    use std::arch::x86_64::*;
    let n = diffs.len().min(line.len());
    let low = _mm_set1_epi16(0xFF);
    // Lane j takes lane 12 + j % 3: the last pixel of the block, for every pixel of the next.
    let last = _mm_setr_epi8(
        12, 13, 14, 12, 13, 14, 12, 13, 14, 12, 13, 14, 12, 13, 14, 12,
    );
    let s = start.map(|b| b as i8);
    let mut carry = _mm_setr_epi8(
        s[0], s[1], s[2], s[0], s[1], s[2], s[0], s[1], s[2], s[0], s[1], s[2], s[0], s[1], s[2],
        s[0],
    );
    let mut i = 0;
    while i + 16 <= n {
        let p = diffs.as_ptr().add(i).cast::<__m128i>();
        let a = _mm_and_si128(_mm_loadu_si128(p), low);
        let b = _mm_and_si128(_mm_loadu_si128(p.add(1)), low);
        let mut x = _mm_packus_epi16(a, b);
        x = _mm_add_epi8(x, _mm_slli_si128::<3>(x));
        x = _mm_add_epi8(x, _mm_slli_si128::<6>(x));
        x = _mm_add_epi8(x, _mm_slli_si128::<12>(x));
        x = _mm_add_epi8(x, carry);
        _mm_storeu_si128(line.as_mut_ptr().add(i).cast::<__m128i>(), x);
        carry = _mm_shuffle_epi8(x, last);
        i += 15;
    }
    i
}

/// 16-bit grey: 8 samples a block.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "ssse3")]
unsafe fn grey16_ssse3(diffs: &[i16], line: &mut [u8], start: u16) -> usize {
    use std::arch::x86_64::*;
    let n = diffs.len().min(line.len() / 2);
    let last = _mm_setr_epi8(
        14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15,
    );
    let mut carry = _mm_set1_epi16(start as i16);
    let mut i = 0;
    while i + 8 <= n {
        let mut x = _mm_loadu_si128(diffs.as_ptr().add(i).cast::<__m128i>());
        x = _mm_add_epi16(x, _mm_slli_si128::<2>(x));
        x = _mm_add_epi16(x, _mm_slli_si128::<4>(x));
        x = _mm_add_epi16(x, _mm_slli_si128::<8>(x));
        x = _mm_add_epi16(x, carry);
        _mm_storeu_si128(line.as_mut_ptr().add(2 * i).cast::<__m128i>(), x);
        carry = _mm_shuffle_epi8(x, last);
        i += 8;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The running sum one sample at a time, modulo 2^16.
    fn reference<const NC: usize, const B: usize>(diffs: &[i16], start: [u16; NC]) -> Vec<u8> {
        let mut ra = start;
        let mut out = Vec::new();
        for (k, d) in diffs.iter().enumerate() {
            let c = k % NC;
            ra[c] = ra[c].wrapping_add(*d as u16);
            out.extend_from_slice(&ra[c].to_le_bytes()[..B]);
        }
        out
    }

    fn diffs(n: usize, seed: u64) -> Vec<i16> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                // Mostly small, now and then far out of range either way.
                let r = (s >> 33) as i32;
                if r % 7 == 0 {
                    (r % 65536) as i16
                } else {
                    (r % 19 - 9) as i16
                }
            })
            .collect()
    }

    #[test]
    fn blocks_and_tails_match_one_at_a_time() {
        for pixels in [0, 1, 4, 5, 6, 7, 15, 16, 17, 640, 641] {
            let d3 = diffs(3 * pixels, pixels as u64);
            let mut line = vec![0xEEu8; 3 * pixels];
            sum_into::<3, 1>(&d3, &mut line, [128, 7, 255]);
            assert_eq!(line, reference::<3, 1>(&d3, [128, 7, 255]), "rgb8 {pixels}");
            let d1 = diffs(pixels, 99 + pixels as u64);
            let mut line = vec![0xEEu8; 2 * pixels];
            sum_into::<1, 2>(&d1, &mut line, [32768]);
            assert_eq!(line, reference::<1, 2>(&d1, [32768]), "grey16 {pixels}");
            let mut line = vec![0xEEu8; pixels];
            sum_into::<1, 1>(&d1, &mut line, [3]);
            assert_eq!(line, reference::<1, 1>(&d1, [3]), "grey8 {pixels}");
            let mut line = vec![0xEEu8; 6 * pixels];
            sum_into::<3, 2>(&d3, &mut line, [1, 2, 65535]);
            assert_eq!(
                line,
                reference::<3, 2>(&d3, [1, 2, 65535]),
                "rgb16 {pixels}"
            );
        }
    }
}
