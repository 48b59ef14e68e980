//! Decoding a JPEG-LS scan (T.87 Annex A): context modelling, prediction, Golomb-coded
//! prediction errors in the regular mode and run lengths in the run mode, line by line,
//! for one component or several interleaved by line.

use super::bits::Bits;
use super::header::{Declined, Preset};

fn corrupt(reason: &'static str) -> Declined {
    Declined::Corrupt { offset: 0, reason }
}

/// The coding parameters of a scan (T.87 C.2.4.1.1 and A.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Coding {
    pub(super) maxval: i32,
    pub(super) near: i32,
    pub(super) t1: i32,
    pub(super) t2: i32,
    pub(super) t3: i32,
    pub(super) reset: i32,
    /// RANGE, qbpp and LIMIT.
    range: i32,
    qbpp: u32,
    limit: u32,
}

/// The default thresholds' basis (T.87 Table C.3).
const BASIC_T1: i32 = 3;
const BASIC_T2: i32 = 7;
const BASIC_T3: i32 = 21;

/// The smallest `q` with `2^q >= v` (v >= 1).
fn bits_for(v: i32) -> u32 {
    32 - (v - 1).max(0).leading_zeros()
}

impl Coding {
    /// For samples of `precision` bits, NEAR `near`, and the preset parameters in force
    /// (each 0 taking its default, T.87 C.2.4.1.1.1).
    pub(super) fn new(precision: u8, near: u8, p: Preset) -> Result<Self, Declined> {
        let full = (1i32 << precision) - 1;
        let maxval = if p.maxval == 0 {
            full
        } else {
            i32::from(p.maxval)
        };
        let near = i32::from(near);
        if maxval > full || near > (maxval / 2).min(255) {
            return Err(corrupt("a MAXVAL or NEAR out of range"));
        }
        let clamp = |i: i32, j: i32| if i > maxval || i < j { j } else { i };
        let (d1, d2, d3) = if maxval >= 128 {
            let f = (maxval.min(4095) + 128) / 256;
            let t1 = clamp(f * (BASIC_T1 - 2) + 2 + 3 * near, near + 1);
            let t2 = clamp(f * (BASIC_T2 - 3) + 3 + 5 * near, t1);
            (t1, t2, clamp(f * (BASIC_T3 - 4) + 4 + 7 * near, t2))
        } else {
            let f = 256 / (maxval + 1);
            let t1 = clamp((BASIC_T1 / f + 3 * near).max(2), near + 1);
            let t2 = clamp((BASIC_T2 / f + 5 * near).max(3), t1);
            (t1, t2, clamp((BASIC_T3 / f + 7 * near).max(4), t2))
        };
        let given = |v: u16, d: i32| if v == 0 { d } else { i32::from(v) };
        let (t1, t2, t3) = (given(p.t1, d1), given(p.t2, d2), given(p.t3, d3));
        let reset = given(p.reset, 64);
        let ordered = near < t1 && t1 <= t2 && t2 <= t3 && t3 <= maxval;
        if !ordered || !(3..=maxval.max(255)).contains(&reset) {
            return Err(corrupt("preset coding parameters out of order"));
        }
        let range = (maxval + 2 * near) / (2 * near + 1) + 1;
        let bpp = bits_for(maxval + 1).max(2);
        Ok(Coding {
            maxval,
            near,
            t1,
            t2,
            t3,
            reset,
            range,
            qbpp: bits_for(range),
            limit: 2 * (bpp + bpp.max(8)),
        })
    }
}

/// A regular mode context's variables A, B, C and N (T.87 A.2.2).
#[derive(Clone, Copy)]
struct Regular {
    a: i32,
    b: i32,
    c: i32,
    n: i32,
}

/// A run interruption context's A, N and Nn.
#[derive(Clone, Copy)]
struct Interruption {
    a: i32,
    n: i32,
    nn: i32,
}

/// The run lengths' orders (T.87 A.7.1.1, J).
const J: [u32; 32] = [
    0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13,
    14, 15,
];

/// The Golomb parameter: the least `k` with `n * 2^k >= a` (T.87 A.10).
#[inline(always)]
fn golomb(n: i32, a: i32) -> u32 {
    let (n, a) = (n as u32, a as u32);
    // n shifted to a's bit length (no overflow), then once more if still below it.
    let k = n.leading_zeros().saturating_sub(a.leading_zeros());
    k + u32::from((n << k) < a)
}

/// Entries of a gradient quantisation table: every gradient of 16-bit samples (-65535 to
/// 65535) offset by MAXVAL, so that a masked index needs no bounds check.
const QUANTISER: usize = 1 << 17;

thread_local! {
    /// The gradient quantisation table last built on this thread, and what for.
    static QUANTISERS: std::cell::RefCell<(Coding, Vec<i8>)> = std::cell::RefCell::default();
}

/// Regular mode contexts: 365 used, the rest so that an index masked to 9 bits needs no
/// bounds check.
const CONTEXTS: usize = 512;

/// A scan's decoder state; `LOSSLESS` when NEAR is 0 (and, as [`super::decoder`] has it,
/// MAXVAL is 2^n - 1, so that bringing a sample back into range is a mask).
struct State<'q, const LOSSLESS: bool> {
    c: Coding,
    regular: [Regular; CONTEXTS],
    interruption: [Interruption; 2],
    /// Each gradient `d`'s region, -4 to 4, at `d + maxval` (T.87 A.3.3).
    quantise: &'q [i8; QUANTISER],
}

impl<const LOSSLESS: bool> State<'_, LOSSLESS> {
    #[inline(always)]
    fn q(&self, d: i32) -> i32 {
        i32::from(self.quantise[(d + self.c.maxval) as usize & (QUANTISER - 1)])
    }

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

    /// Prediction plus the dequantised error, brought back into range (A.4.2 and A.8).
    #[inline(always)]
    fn reconstruct(&self, px: i32, e: i32) -> i32 {
        if LOSSLESS {
            return (px + e) & self.c.maxval;
        }
        let (near, step) = (self.c.near, 2 * self.c.near + 1);
        let mut v = px + e * step;
        if v < -near {
            v += self.c.range * step;
        } else if v > self.c.maxval + near {
            v -= self.c.range * step;
        }
        v.clamp(0, self.c.maxval)
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
        let Regular { a, b, c, n } = self.regular[q];
        let k = golomb(n, a);
        let (lo, hi) = (ra.min(rb), ra.max(rb));
        let px = if rc >= hi {
            lo
        } else if rc <= lo {
            hi
        } else {
            ra + rb - rc
        };
        let px = (px + ((c ^ sign) - sign)).clamp(0, self.c.maxval);
        let m = self.value(bits, k, self.c.limit)?;
        let mut e = (m >> 1) as i32 ^ -((m & 1) as i32);
        if LOSSLESS && k == 0 {
            // The mapping of A.5.2's special case.
            e ^= (2 * b + n - 1) >> 31;
        }
        self.update(q, e)?;
        Ok(self.reconstruct(px, (e ^ sign) - sign))
    }

    /// A.6's update of context `q` after error `e`.
    #[inline(always)]
    fn update(&mut self, q: usize, e: i32) -> Result<(), Declined> {
        let reset = self.c.reset;
        let ctx = &mut self.regular[q];
        let mut a = ctx.a + e.abs();
        let mut b = ctx.b
            + if LOSSLESS {
                e
            } else {
                e * (2 * self.c.near + 1)
            };
        if a >= 1 << 24 || b.abs() >= 1 << 24 {
            return Err(corrupt("a context's variables out of range"));
        }
        let mut n = ctx.n;
        if n == reset {
            a >>= 1;
            b >>= 1;
            n >>= 1;
        }
        n += 1;
        let mut c = ctx.c;
        if b + n <= 0 {
            b = (b + n).max(-n + 1);
            c = (c - 1).max(-128);
        } else if b > 0 {
            b = (b - n).min(0);
            c = (c + 1).min(127);
        }
        *ctx = Regular { a, b, c, n };
        Ok(())
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
        let Interruption { a, n, nn } = self.interruption[kind];
        let k = golomb(n, a + (n >> 1) * kind as i32);
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
        let mut next = Interruption {
            a: a + ((m + 1 - kind as i32) >> 1),
            n,
            nn: nn + i32::from(e < 0),
        };
        if next.a >= 1 << 24 {
            return Err(corrupt("a context's variables out of range"));
        }
        if n == self.c.reset {
            next.a >>= 1;
            next.n >>= 1;
            next.nn >>= 1;
        }
        next.n += 1;
        self.interruption[kind] = next;
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
                qs[c] = 81 * self.q(rd - rb) + 9 * self.q(rb - rc) + self.q(rc - ra);
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
            let qs = 81 * self.q(rd - rb) + 9 * self.q(rb - rc) + self.q(rc - ra);
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

/// The gradient regions for `c`: this thread's table, built again only when the
/// parameters changed.
fn quantiser(c: &Coding) -> Vec<i8> {
    let (kept, mut table) = QUANTISERS.with(|cell| std::mem::take(&mut *cell.borrow_mut()));
    if kept != *c || table.len() != QUANTISER {
        let m = c.maxval;
        table.clear();
        table.resize(QUANTISER, 0);
        // Regions by their least gradient, from -4 (d <= -T3) to 4 (d >= T3).
        let starts = [
            (-m, -4),
            (-c.t3 + 1, -3),
            (-c.t2 + 1, -2),
            (-c.t1 + 1, -1),
            (-c.near, 0),
            (c.near + 1, 1),
            (c.t1, 2),
            (c.t2, 3),
            (c.t3, 4),
        ];
        for (k, &(from, q)) in starts.iter().enumerate() {
            let to = starts.get(k + 1).map_or(m + 1, |s| s.0);
            let (from, to) = (
                (from.max(-m) + m) as usize,
                (to.clamp(-m, m + 1) + m) as usize,
            );
            if from < to {
                table[from..to].fill(q);
            }
        }
    }
    table
}

/// Keep `table` (for `c`) for this thread's next scan.
fn keep_quantiser(c: &Coding, table: Vec<i8>) {
    QUANTISERS.with(|cell| *cell.borrow_mut() = (*c, table));
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
    let a = ((c.range + 32) / 64).max(2);
    let mut s = State::<LOSSLESS> {
        c: *c,
        regular: [Regular {
            a,
            b: 0,
            c: 0,
            n: 1,
        }; CONTEXTS],
        interruption: [Interruption { a, n: 1, nn: 0 }; 2],
        quantise,
    };
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
