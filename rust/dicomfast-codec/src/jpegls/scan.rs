//! Decoding a JPEG-LS scan (T.87 Annex A): Golomb-coded prediction errors in the regular
//! mode and run lengths in the run mode, line by line, for one component or several
//! interleaved by line or by sample, over the context model of [`super::context`].

use super::bits::Bits;
use super::context::{
    corrupt, golomb, keep_quantiser, quantiser, Coding, Interruption, Model, Regular, CONTEXTS, J,
    QUANTISER,
};
use super::header::Declined;

/// The decoder's half of the model.
impl<const LOSSLESS: bool> Model<'_, LOSSLESS> {
    /// A mapped error value, Golomb-coded with `k` and limited to `limit` bits (A.5.3).
    #[inline(always)]
    fn value(&self, bits: &mut Bits<'_>, k: u32, limit: u32) -> Result<u32, Declined> {
        let qbpp = self.c.qbpp;
        let escape = limit - qbpp - 1;
        let z = bits
            .zeros(escape)
            .ok_or_else(|| corrupt("a code longer than LIMIT"))?;
        if z == escape {
            return Ok(bits.read(qbpp) + 1);
        }
        let m = (u64::from(z) << k) | u64::from(bits.read(k));
        if m > 2 * self.c.range as u64 {
            return Err(corrupt("an error value beyond the sample range"));
        }
        Ok(m as u32)
    }

    /// A sample in the regular mode (A.4 to A.6) of context `qs` (signed), neighbours
    /// `ra`, `rb`, `rc`.
    #[inline(always)]
    fn regular(
        &mut self,
        bits: &mut Bits<'_>,
        qs: i32,
        ra: i32,
        rb: i32,
        rc: i32,
    ) -> Result<i32, Declined> {
        let sign = qs >> 31;
        let q = ((qs ^ sign) - sign) as usize & (CONTEXTS - 1);
        let Regular { a, b, n, .. } = self.regular[q];
        let k = golomb(n, a);
        let px = self.predict(q, sign, ra, rb, rc);
        let m = self.value(bits, k, self.c.limit)?;
        let mut e = (m >> 1) as i32 ^ -((m & 1) as i32);
        if LOSSLESS && k == 0 {
            // The mapping of A.5.2's special case.
            e ^= (2 * b + n - 1) >> 31;
        }
        self.update(q, e)?;
        Ok(self.reconstruct(px, (e ^ sign) - sign))
    }

    /// A run's length in the run mode (A.7.1.2), up to `left`: `left` when the run ends
    /// the line, else less (an interruption sample follows).
    #[inline(always)]
    fn run_length(
        bits: &mut Bits<'_>,
        run_index: &mut usize,
        left: usize,
    ) -> Result<usize, Declined> {
        let mut len = 0usize;
        while bits.bit() == 1 {
            let step = 1usize << J[*run_index];
            let count = step.min(left - len);
            len += count;
            if count == step {
                *run_index = (*run_index + 1).min(31);
            }
            if len == left {
                return Ok(len);
            }
        }
        len += bits.read(J[*run_index]) as usize;
        if len >= left {
            return Err(corrupt("a run past the end of its line"));
        }
        Ok(len)
    }

    /// A run interruption sample's error (A.7.2) in the context of `kind` (RItype).
    #[inline(always)]
    fn interruption(
        &mut self,
        bits: &mut Bits<'_>,
        kind: usize,
        run_index: usize,
    ) -> Result<i32, Declined> {
        let Interruption { n, nn, .. } = self.interruption[kind];
        let k = self.interruption_k(kind);
        let limit = self.c.limit - J[run_index] - 1;
        let m = self.value(bits, k, limit)? as i32;
        let t = m + kind as i32;
        let map = t & 1;
        let abs = (t + map) / 2;
        let e = if (k != 0 || 2 * nn >= n) == (map != 0) {
            -abs
        } else {
            abs
        };
        self.interruption_update(kind, e, m)?;
        Ok(e)
    }

    /// A run from `x` (A.7.1): its length, which does not pass `w`, filled with `ra` into
    /// `cur` (indices one past the samples'); then, if it stopped before `w`, the
    /// interruption sample (A.7.2). Returns how many samples were decoded.
    #[inline(never)]
    fn run(
        &mut self,
        bits: &mut Bits<'_>,
        run_index: &mut usize,
        prev: &[i32],
        cur: &mut [i32],
        x: usize,
        w: usize,
    ) -> Result<usize, Declined> {
        let ra = cur[x];
        let len = Self::run_length(bits, run_index, w - x)?;
        cur[x + 1..x + 1 + len].fill(ra);
        if len == w - x {
            return Ok(len);
        }
        let at = x + len + 1;
        let rb = prev[at];
        let kind = usize::from((ra - rb).abs() <= self.c.near);
        let e = self.interruption(bits, kind, *run_index)?;
        cur[at] = if kind == 1 {
            self.reconstruct(ra, e)
        } else {
            self.reconstruct(rb, if rb > ra { e } else { -e })
        };
        *run_index = run_index.saturating_sub(1);
        Ok(len + 1)
    }

    /// [`State::run`] for pixels of `n` samples interleaved (`cur` and `prev` hold pixels
    /// one past theirs): the run is of whole pixels, and each sample of the interruption
    /// pixel is coded in the context of RItype 0 from the sample above it, its error's
    /// sign turned when that is below the sample to its left (as CharLS codes them).
    #[inline(never)]
    fn run_of_pixels(
        &mut self,
        bits: &mut Bits<'_>,
        run_index: &mut usize,
        prev: &[i32],
        cur: &mut [i32],
        (x, w, n): (usize, usize, usize),
    ) -> Result<usize, Declined> {
        let len = Self::run_length(bits, run_index, w - x)?;
        for p in x + 1..x + 1 + len {
            cur.copy_within(x * n..(x + 1) * n, p * n);
        }
        if len == w - x {
            return Ok(len);
        }
        let at = (x + len + 1) * n;
        for c in 0..n {
            let e = self.interruption(bits, 0, *run_index)?;
            let (ra, rb) = (cur[x * n + c], prev[at + c]);
            cur[at + c] = self.reconstruct(rb, if rb >= ra { e } else { -e });
        }
        *run_index = run_index.saturating_sub(1);
        Ok(len + 1)
    }

    /// One line of pixels of `n` samples interleaved (T.87's sample interleaving): a pixel
    /// is in the run mode when every sample's gradients are; else each sample is coded in
    /// the regular mode, in its own context (which may be context 0).
    #[inline(always)]
    fn line_of_pixels(
        &mut self,
        bits: &mut Bits<'_>,
        run_index: &mut usize,
        prev: &[i32],
        cur: &mut [i32],
        w: usize,
        n: usize,
    ) -> Result<(), Declined> {
        let mut x = 0;
        let mut qs = [0i32; 4];
        while x < w {
            let mut any = 0;
            for c in 0..n {
                let (ra, rc) = (cur[x * n + c], prev[x * n + c]);
                let (rb, rd) = (prev[(x + 1) * n + c], prev[(x + 2) * n + c]);
                qs[c] = self.context(ra, rb, rc, rd);
                any |= qs[c];
            }
            if any == 0 {
                x += self.run_of_pixels(bits, run_index, prev, cur, (x, w, n))?;
                continue;
            }
            for (c, &q) in qs.iter().enumerate().take(n) {
                let (ra, rc, rb) = (cur[x * n + c], prev[x * n + c], prev[(x + 1) * n + c]);
                cur[(x + 1) * n + c] = self.regular(bits, q, ra, rb, rc)?;
            }
            x += 1;
        }
        Ok(())
    }

    /// One line of a component: `cur` and `prev` hold the line and the one above at
    /// indices one past the samples', with the edges set (A.2.1).
    #[inline(always)]
    fn line(
        &mut self,
        bits: &mut Bits<'_>,
        run_index: &mut usize,
        prev: &[i32],
        cur: &mut [i32],
        w: usize,
    ) -> Result<(), Declined> {
        let mut x = 0;
        let mut rb = prev[0];
        let mut rd = prev[1];
        while x < w {
            let ra = cur[x];
            let rc = rb;
            rb = rd;
            rd = prev[x + 2];
            let qs = self.context(ra, rb, rc, rd);
            if qs != 0 {
                cur[x + 1] = self.regular(bits, qs, ra, rb, rc)?;
                x += 1;
            } else {
                x += self.run(bits, run_index, prev, cur, x, w)?;
                rb = prev[x];
                rd = prev[x + 1];
            }
        }
        Ok(())
    }
}

/// A scan's lines: `comps` components of `w` x `h` samples, interleaved by line (or not,
/// with one) unless `by_sample`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shape {
    pub(super) w: usize,
    pub(super) h: usize,
    pub(super) comps: usize,
    pub(super) by_sample: bool,
}

/// Decode a scan of `comps` components (interleaved by line when more than one, unless
/// `by_sample`), each `w` x `h`, handing each line to `put(row, component, samples)` (with
/// `by_sample`, component 0 and the line's pixels, their samples together).
///
/// Where the processor has them, compiled for BMI1, BMI2 and LZCNT (shifts by a register
/// and the Golomb codes' leading zeros); specialised for lossless scans.
pub(super) fn decode(
    c: &Coding,
    bits: &mut Bits<'_>,
    shape: Shape,
    put: impl FnMut(usize, usize, &[i32]),
) -> Result<(), Declined> {
    let lossless = c.near == 0 && c.maxval & (c.maxval + 1) == 0;
    let table = quantiser(c);
    let q: &[i8; QUANTISER] = table[..].try_into().expect("a table of QUANTISER entries");
    let r = 'decoded: {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("bmi2")
            && std::arch::is_x86_feature_detected!("lzcnt")
        {
            // SAFETY: the features they are compiled for were found on this processor.
            break 'decoded unsafe {
                if lossless {
                    decode_bit_fields::<true>(c, q, bits, shape, put)
                } else {
                    decode_bit_fields::<false>(c, q, bits, shape, put)
                }
            };
        }
        if lossless {
            decode_any::<true>(c, q, bits, shape, put)
        } else {
            decode_any::<false>(c, q, bits, shape, put)
        }
    };
    keep_quantiser(c, table);
    r
}

/// [`decode_any`] compiled for BMI1, BMI2 and LZCNT.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi1,bmi2,lzcnt")]
unsafe fn decode_bit_fields<const LOSSLESS: bool>(
    c: &Coding,
    quantise: &[i8; QUANTISER],
    bits: &mut Bits<'_>,
    shape: Shape,
    put: impl FnMut(usize, usize, &[i32]),
) -> Result<(), Declined> {
    decode_any::<LOSSLESS>(c, quantise, bits, shape, put)
}

/// The one source of every build.
#[inline(always)]
fn decode_any<const LOSSLESS: bool>(
    c: &Coding,
    quantise: &[i8; QUANTISER],
    bits: &mut Bits<'_>,
    shape: Shape,
    mut put: impl FnMut(usize, usize, &[i32]),
) -> Result<(), Declined> {
    let Shape {
        w,
        h,
        comps,
        by_sample,
    } = shape;
    let mut s = Model::<LOSSLESS>::new(c, quantise);
    if by_sample {
        let n = comps;
        if !(2..=4).contains(&n) {
            return Err(Declined::Unsupported(
                "sample interleaving of other than 2-4 components",
            ));
        }
        let stride = (w + 2) * n;
        let (mut even, mut odd) = (vec![0i32; stride], vec![0i32; stride]);
        let mut run_index = 0;
        for y in 0..h {
            let (prev, cur) = if y % 2 == 0 {
                (&mut odd, &mut even)
            } else {
                (&mut even, &mut odd)
            };
            prev.copy_within(w * n..(w + 1) * n, (w + 1) * n);
            cur[..n].copy_from_slice(&prev[n..2 * n]);
            s.line_of_pixels(bits, &mut run_index, prev, cur, w, n)?;
            put(y, 0, &cur[n..(w + 1) * n]);
            if bits.overran() {
                return Err(corrupt("a scan that ends before its last line"));
            }
        }
        return Ok(());
    }
    let stride = w + 2;
    let mut lines = vec![0i32; 2 * comps * stride];
    let mut run_index = vec![0usize; comps];
    for y in 0..h {
        for (k, pair) in lines.chunks_exact_mut(2 * stride).enumerate() {
            let (even, odd) = pair.split_at_mut(stride);
            let (prev, cur) = if y % 2 == 0 {
                (&mut *odd, even)
            } else {
                (&mut *even, odd)
            };
            prev[w + 1] = prev[w];
            cur[0] = prev[1];
            s.line(bits, &mut run_index[k], prev, cur, w)?;
            put(y, k, &cur[1..=w]);
        }
        if bits.overran() {
            return Err(corrupt("a scan that ends before its last line"));
        }
    }
    Ok(())
}
