//! The walk through a JPEG-LS scan, shared by the decoder and the encoder (T.87 A.2 to
//! A.7): lines with their edges, the choice of the regular or the run mode, runs and their
//! interruption samples, and the prediction, context update and reconstruction around
//! each coded value. What differs, reading codes or writing them, is a [`Direction`]:
//! [`super::bits::Bits`] decodes (`scan.rs`), [`super::encoder::Writer`] encodes.

use super::context::{
    golomb, keep_quantiser, quantiser, Coding, Model, Regular, CONTEXTS, J, QUANTISER,
};
use super::header::Declined;

/// Reading or writing a scan's codes.
pub(super) trait Direction {
    /// Whether samples are coded from `cur` (the encoder) rather than into it.
    const READS_SAMPLES: bool;

    /// A regular-mode sample's error (in its context's orientation): decoded, or computed
    /// for `sample` (the value, its prediction, its context's sign: 0 or -1) and coded;
    /// `k` the Golomb parameter, `bn` the context's B and N (for A.5.2's special case,
    /// [`special`]).
    fn regular_error<const L: bool>(
        &mut self,
        m: &Model<'_, L>,
        k: u32,
        bn: (i32, i32),
        sample: (i32, i32, i32),
    ) -> Result<i32, Declined>;

    /// A run interruption sample's error (Errval) and mapped error (EMErrval), `code`
    /// being its context (RItype), Golomb parameter and limit: decoded, or computed for
    /// `sample` (the value, its prediction, the error's sign: 1 or -1) and coded.
    fn interruption_error<const L: bool>(
        &mut self,
        m: &Model<'_, L>,
        code: (usize, u32, u32),
        sample: (i32, i32, i32),
    ) -> Result<(i32, i32), Declined>;

    /// The length of the run at `at` = (x, left, n): of pixels of `n` samples (one past
    /// their indices in `cur`) from `x`, at most `left` (A.7.1): decoded, or counted (the
    /// pixels within `near` of the one before `x`) and coded.
    fn run_length(
        &mut self,
        run_index: &mut usize,
        cur: &[i32],
        at: (usize, usize, usize),
        near: i32,
    ) -> Result<usize, Declined>;

    /// After each line: whether the codes still hold (a decoder that ran past its data
    /// says so here).
    fn line_done(&self) -> Result<(), Declined> {
        Ok(())
    }
}

/// A.5.2's special case of the error mapping, as a mask (0 or -1) to XOR the error
/// with: lossless, `k` 0 and 2B <= -N.
#[inline(always)]
pub(super) fn special<const L: bool>(k: u32, (b, n): (i32, i32)) -> i32 {
    if L && k == 0 {
        (2 * b + n - 1) >> 31
    } else {
        0
    }
}

impl<const L: bool> Model<'_, L> {
    /// Sample `x` (its reconstruction returned) in the regular mode (A.4 to A.6) of
    /// context `qs` (signed), neighbours `ra`, `rb`, `rc`.
    #[inline(always)]
    fn sample<D: Direction>(
        &mut self,
        d: &mut D,
        qs: i32,
        x: i32,
        (ra, rb, rc): (i32, i32, i32),
    ) -> Result<i32, Declined> {
        let sign = qs >> 31;
        let q = ((qs ^ sign) - sign) as usize & (CONTEXTS - 1);
        let Regular { a, b, n, .. } = self.regular[q];
        let k = golomb(n, a);
        let px = self.predict(q, sign, ra, rb, rc);
        let e = d.regular_error(self, k, (b, n), (x, px, sign))?;
        self.update(q, e)?;
        Ok(self.reconstruct(px, (e ^ sign) - sign))
    }

    /// Run interruption sample `x` (its reconstruction returned) in context `kind`,
    /// predicted as `px` with sign `s` (A.7.2).
    #[inline(always)]
    fn interruption<D: Direction>(
        &mut self,
        d: &mut D,
        (kind, run_index): (usize, usize),
        (x, px, s): (i32, i32, i32),
    ) -> Result<i32, Declined> {
        let k = self.interruption_k(kind);
        let limit = self.c.limit - J[run_index] - 1;
        let (e, em) = d.interruption_error(self, (kind, k, limit), (x, px, s))?;
        self.interruption_update(kind, e, em)?;
        Ok(self.reconstruct(px, e * s))
    }

    /// The run from `x` (A.7.1), filled with the sample before it in `cur` (indices one
    /// past the samples'), then the interruption sample if the run ends before `w`;
    /// returns how many samples were coded.
    #[inline(never)]
    fn run<D: Direction>(
        &mut self,
        d: &mut D,
        run_index: &mut usize,
        (prev, cur): (&[i32], &mut [i32]),
        x: usize,
        w: usize,
    ) -> Result<usize, Declined> {
        let (ra, near) = (cur[x], self.c.near);
        let len = d.run_length(run_index, cur, (x, w - x, 1), near)?;
        cur[x + 1..x + 1 + len].fill(ra);
        if len == w - x {
            return Ok(len);
        }
        let at = x + len + 1;
        let rb = prev[at];
        let (kind, px, s) = if (ra - rb).abs() <= near {
            (1, ra, 1)
        } else {
            (0, rb, if rb > ra { 1 } else { -1 })
        };
        cur[at] = self.interruption(d, (kind, *run_index), (cur[at], px, s))?;
        *run_index = run_index.saturating_sub(1);
        Ok(len + 1)
    }

    /// [`Model::run`] for pixels of `n` samples interleaved: the run is of whole pixels,
    /// and each sample of the interruption pixel is coded in the context of RItype 0 from
    /// the sample above it, its error's sign turned when that is below the sample to its
    /// left (as CharLS codes them).
    #[inline(never)]
    fn run_of_pixels<D: Direction>(
        &mut self,
        d: &mut D,
        run_index: &mut usize,
        (prev, cur): (&[i32], &mut [i32]),
        (x, w, n): (usize, usize, usize),
    ) -> Result<usize, Declined> {
        let len = d.run_length(run_index, cur, (x, w - x, n), self.c.near)?;
        for p in x + 1..x + 1 + len {
            cur.copy_within(x * n..(x + 1) * n, p * n);
        }
        if len == w - x {
            return Ok(len);
        }
        let at = (x + len + 1) * n;
        for c in 0..n {
            let (ra, rb) = (cur[x * n + c], prev[at + c]);
            let s = if rb >= ra { 1 } else { -1 };
            cur[at + c] = self.interruption(d, (0, *run_index), (cur[at + c], rb, s))?;
        }
        *run_index = run_index.saturating_sub(1);
        Ok(len + 1)
    }

    /// One line of a component: `cur` and `prev` hold the line (its samples, when
    /// encoding, replaced by their reconstructions) and the one above, at indices one past
    /// the samples', with the edges set (A.2.1).
    #[inline(always)]
    fn line<D: Direction>(
        &mut self,
        d: &mut D,
        run_index: &mut usize,
        (prev, cur): (&[i32], &mut [i32]),
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
                let v = if D::READS_SAMPLES { cur[x + 1] } else { 0 };
                cur[x + 1] = self.sample(d, qs, v, (ra, rb, rc))?;
                x += 1;
            } else {
                x += self.run(d, run_index, (prev, cur), x, w)?;
                rb = prev[x];
                rd = prev[x + 1];
            }
        }
        Ok(())
    }

    /// One line of pixels of `n` samples interleaved (T.87's sample interleaving): a pixel
    /// is in the run mode when every sample's gradients are; else each sample is coded in
    /// the regular mode, in its own context (which may be context 0).
    #[inline(always)]
    fn line_of_pixels<D: Direction>(
        &mut self,
        d: &mut D,
        run_index: &mut usize,
        (prev, cur): (&[i32], &mut [i32]),
        (w, n): (usize, usize),
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
                x += self.run_of_pixels(d, run_index, (prev, cur), (x, w, n))?;
                continue;
            }
            for (c, &q) in qs.iter().enumerate().take(n) {
                let (ra, rc, rb) = (cur[x * n + c], prev[x * n + c], prev[(x + 1) * n + c]);
                let i = (x + 1) * n + c;
                let v = if D::READS_SAMPLES { cur[i] } else { 0 };
                cur[i] = self.sample(d, q, v, (ra, rb, rc))?;
            }
            x += 1;
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

/// Code a scan in direction `d`: for each line, `fill(row, component, samples)` first
/// (the encoder puts the samples there), then the line is coded, then `put(row,
/// component, samples)` (the decoder takes them). With `by_sample`, component 0 and the
/// line's pixels, their samples together.
///
/// Where the processor has them, compiled for BMI1, BMI2 and LZCNT (shifts by a register
/// and the Golomb parameter's leading zeros); specialised for lossless scans.
pub(super) fn code<D: Direction>(
    c: &Coding,
    d: &mut D,
    shape: Shape,
    fill: impl FnMut(usize, usize, &mut [i32]),
    put: impl FnMut(usize, usize, &[i32]),
) -> Result<(), Declined> {
    let lossless = c.near == 0 && c.maxval & (c.maxval + 1) == 0;
    let table = quantiser(c);
    let q: &[i8; QUANTISER] = table[..].try_into().expect("a table of QUANTISER entries");
    let r = 'coded: {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("bmi2")
            && std::arch::is_x86_feature_detected!("lzcnt")
        {
            // SAFETY: the features they are compiled for were found on this processor.
            break 'coded unsafe {
                if lossless {
                    code_bit_fields::<D, true>(&mut Model::new(c, q), d, shape, fill, put)
                } else {
                    code_bit_fields::<D, false>(&mut Model::new(c, q), d, shape, fill, put)
                }
            };
        }
        if lossless {
            code_any::<D, true>(&mut Model::new(c, q), d, shape, fill, put)
        } else {
            code_any::<D, false>(&mut Model::new(c, q), d, shape, fill, put)
        }
    };
    keep_quantiser(c, table);
    r
}

/// [`code_any`] compiled for BMI1, BMI2 and LZCNT.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi1,bmi2,lzcnt")]
unsafe fn code_bit_fields<D: Direction, const L: bool>(
    m: &mut Model<'_, L>,
    d: &mut D,
    shape: Shape,
    fill: impl FnMut(usize, usize, &mut [i32]),
    put: impl FnMut(usize, usize, &[i32]),
) -> Result<(), Declined> {
    code_any::<D, L>(m, d, shape, fill, put)
}

/// The one source of every build: the lines, two buffers per component (or one pair of
/// pixels), the edges of A.2.1 set before each.
#[inline(always)]
fn code_any<D: Direction, const L: bool>(
    m: &mut Model<'_, L>,
    d: &mut D,
    shape: Shape,
    mut fill: impl FnMut(usize, usize, &mut [i32]),
    mut put: impl FnMut(usize, usize, &[i32]),
) -> Result<(), Declined> {
    let Shape {
        w,
        h,
        comps,
        by_sample,
    } = shape;
    if by_sample && !(2..=4).contains(&comps) {
        return Err(Declined::Unsupported(
            "sample interleaving of other than 2-4 components",
        ));
    }
    // Lines of `n` samples per position, `lines` of them coded together.
    let (n, lines) = if by_sample { (comps, 1) } else { (1, comps) };
    let stride = (w + 2) * n;
    let mut buffers = vec![0i32; 2 * lines * stride];
    let mut run_index = vec![0usize; lines];
    for y in 0..h {
        for (k, pair) in buffers.chunks_exact_mut(2 * stride).enumerate() {
            let (even, odd) = pair.split_at_mut(stride);
            let (prev, cur) = if y % 2 == 0 {
                (&mut *odd, even)
            } else {
                (&mut *even, odd)
            };
            fill(y, k, &mut cur[n..(w + 1) * n]);
            prev.copy_within(w * n..(w + 1) * n, (w + 1) * n);
            cur[..n].copy_from_slice(&prev[n..2 * n]);
            if n == 1 {
                m.line(d, &mut run_index[k], (prev, cur), w)?;
            } else {
                m.line_of_pixels(d, &mut run_index[k], (prev, cur), (w, n))?;
            }
            put(y, k, &cur[n..(w + 1) * n]);
        }
        d.line_done()?;
    }
    Ok(())
}
