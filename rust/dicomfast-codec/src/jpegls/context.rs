//! JPEG-LS context modelling (T.87 A.2 to A.7), shared by the decoder ([`super::scan`])
//! and the encoder ([`super::encoder`]): a scan's coding parameters, its contexts and their
//! updates, gradient quantisation, prediction and reconstruction.

use super::header::{Declined, Preset};

pub(super) fn corrupt(reason: &'static str) -> Declined {
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
    pub(super) range: i32,
    pub(super) qbpp: u32,
    pub(super) limit: u32,
}

/// How the default thresholds are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Defaults {
    /// T.87 C.2.4.1.1.1: one formula for MAXVAL >= 128, another below.
    Standard,
    /// As CharLS 1.x computed them (DCMTK's `dcmcjpls` up to 3.6.x among its users): the
    /// formula for MAXVAL >= 128 at every MAXVAL (CharLS issue 51). For 2-7 bit samples it
    /// gives other thresholds than T.87 (T3 4 rather than 10 for 7 bits, NEAR 0), and
    /// such streams carry no LSE marker saying so.
    CharLs1,
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
    /// (each 0 taking its default, T.87 C.2.4.1.1.1, computed as `defaults` says).
    pub(super) fn new(
        precision: u8,
        near: u8,
        p: Preset,
        defaults: Defaults,
    ) -> Result<Self, Declined> {
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
        let (d1, d2, d3) = if maxval >= 128 || defaults == Defaults::CharLs1 {
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
pub(super) struct Regular {
    pub(super) a: i32,
    pub(super) b: i32,
    pub(super) c: i32,
    pub(super) n: i32,
}

/// A run interruption context's A, N and Nn.
#[derive(Clone, Copy)]
pub(super) struct Interruption {
    pub(super) a: i32,
    pub(super) n: i32,
    pub(super) nn: i32,
}

/// The run lengths' orders (T.87 A.7.1.1, J).
pub(super) const J: [u32; 32] = [
    0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13,
    14, 15,
];

/// The Golomb parameter: the least `k` with `n * 2^k >= a` (T.87 A.10).
#[inline(always)]
pub(super) fn golomb(n: i32, a: i32) -> u32 {
    let (n, a) = (n as u32, a as u32);
    // n shifted to a's bit length (no overflow), then once more if still below it.
    let k = n.leading_zeros().saturating_sub(a.leading_zeros());
    k + u32::from((n << k) < a)
}

/// Entries of a gradient quantisation table: every gradient of 16-bit samples (-65535 to
/// 65535) offset by MAXVAL, so that a masked index needs no bounds check.
pub(super) const QUANTISER: usize = 1 << 17;

thread_local! {
    /// The gradient quantisation table last built on this thread, and what for.
    static QUANTISERS: std::cell::RefCell<(Coding, Vec<i8>)> = std::cell::RefCell::default();
}

/// Regular mode contexts: 365 used, the rest so that an index masked to 9 bits needs no
/// bounds check.
pub(super) const CONTEXTS: usize = 512;

/// A scan's context model (T.87 A.2 to A.7), the same for the decoder and the encoder;
/// `LOSSLESS` when NEAR is 0 and MAXVAL is 2^n - 1, so that bringing a sample back into
/// range is a mask.
pub(super) struct Model<'q, const LOSSLESS: bool> {
    pub(super) c: Coding,
    pub(super) regular: [Regular; CONTEXTS],
    pub(super) interruption: [Interruption; 2],
    /// Each gradient `d`'s region, -4 to 4, at `d + maxval` (T.87 A.3.3).
    quantise: &'q [i8; QUANTISER],
}

impl<'q, const LOSSLESS: bool> Model<'q, LOSSLESS> {
    /// The initial contexts (A.2.1) for `c`, with its gradient regions `quantise`.
    pub(super) fn new(c: &Coding, quantise: &'q [i8; QUANTISER]) -> Self {
        let a = ((c.range + 32) / 64).max(2);
        Model {
            c: *c,
            regular: [Regular {
                a,
                b: 0,
                c: 0,
                n: 1,
            }; CONTEXTS],
            interruption: [Interruption { a, n: 1, nn: 0 }; 2],
            quantise,
        }
    }

    /// The context of a sample's neighbours (A.3): 81 Q1 + 9 Q2 + Q3, signed.
    #[inline(always)]
    pub(super) fn context(&self, ra: i32, rb: i32, rc: i32, rd: i32) -> i32 {
        81 * self.q(rd - rb) + 9 * self.q(rb - rc) + self.q(rc - ra)
    }

    #[inline(always)]
    pub(super) fn q(&self, d: i32) -> i32 {
        i32::from(self.quantise[(d + self.c.maxval) as usize & (QUANTISER - 1)])
    }

    /// The prediction (A.4.1's median edge detector), corrected by context `q`'s C with
    /// `sign` (0 or -1) and brought into range (A.4.2).
    #[inline(always)]
    pub(super) fn predict(&self, q: usize, sign: i32, ra: i32, rb: i32, rc: i32) -> i32 {
        let (lo, hi) = (ra.min(rb), ra.max(rb));
        let px = if rc >= hi {
            lo
        } else if rc <= lo {
            hi
        } else {
            ra + rb - rc
        };
        let c = self.regular[q & (CONTEXTS - 1)].c;
        (px + ((c ^ sign) - sign)).clamp(0, self.c.maxval)
    }

    /// Prediction plus the dequantised error, brought back into range (A.4.2 and A.8).
    #[inline(always)]
    pub(super) fn reconstruct(&self, px: i32, e: i32) -> i32 {
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

    /// A.6's update of context `q` after error `e`.
    #[inline(always)]
    pub(super) fn update(&mut self, q: usize, e: i32) -> Result<(), Declined> {
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

    /// The Golomb parameter of run interruption context `kind` (RItype, A.7.2.1).
    #[inline(always)]
    pub(super) fn interruption_k(&self, kind: usize) -> u32 {
        let Interruption { a, n, .. } = self.interruption[kind];
        golomb(n, a + (n >> 1) * kind as i32)
    }

    /// A.7.2's update of run interruption context `kind` after error `e`, coded as `m`
    /// (EMErrval).
    #[inline(always)]
    pub(super) fn interruption_update(
        &mut self,
        kind: usize,
        e: i32,
        m: i32,
    ) -> Result<(), Declined> {
        let Interruption { a, n, nn } = self.interruption[kind];
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
        Ok(())
    }
}

/// The gradient regions for `c`: this thread's table, built again only when the
/// parameters changed.
pub(super) fn quantiser(c: &Coding) -> Vec<i8> {
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
pub(super) fn keep_quantiser(c: &Coding, table: Vec<i8>) {
    QUANTISERS.with(|cell| *cell.borrow_mut() = (*c, table));
}
