//! The JPEG 2000 Part 1 code-block decoder (EBCOT, T.800 Annex D): a block's coding
//! passes (significance propagation, magnitude refinement, cleanup), bit-plane by
//! bit-plane from its most significant, each pass arithmetic-coded ([`super::mq::Mq`])
//! or, with the bypass style, raw ([`super::mq::Raw`]).
//!
//! Every code-block style is taken: bypass, context reset, termination on each pass,
//! vertically causal contexts, predictable termination and segmentation symbols.
//!
//! The state of a sample is one `u16` (its word): its eight neighbours' significance,
//! the signs of the four it shares an edge with, and its own significance, sign, whether
//! it was coded in this bit-plane's first pass and whether it has been refined. A sample
//! that becomes significant sets its bits in its neighbours' words, so that each context
//! is one table lookup of the sample's own word. Words are kept by stripe column (the
//! four samples of a stripe's column next to each other, T.800 D.1's scan order), so a
//! column that no pass needs to visit is passed over in one 64-bit test.

use super::mq::{start, Context, Mq, Raw};

/// A code-block style bit (SPcod / SPcoc, T.800 Table A.19).
pub(crate) const BYPASS: u8 = 0x01;
pub(crate) const RESET: u8 = 0x02;
pub(crate) const TERMALL: u8 = 0x04;
pub(crate) const VCAUSAL: u8 = 0x08;
pub(crate) const SEGSYM: u8 = 0x20;

/// Whether coding pass `k` (0 the first cleanup) ends a codeword segment, for `style`:
/// every pass with termination on each pass; with the bypass, the tenth pass (the
/// fourth bit-plane's cleanup), then each bit-plane's raw passes together and each cleanup
/// (T.800 D.4.1, Table D.9).
pub(crate) fn ends_segment(k: u32, style: u8) -> bool {
    if style & TERMALL != 0 {
        return true;
    }
    if style & BYPASS != 0 {
        return k == 9 || (k > 9 && pass_kind(k) != Pass::Propagation);
    }
    false
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Propagation,
    Refinement,
    Cleanup,
}

fn pass_kind(k: u32) -> Pass {
    if k == 0 {
        return Pass::Cleanup;
    }
    match (k - 1) % 3 {
        0 => Pass::Propagation,
        1 => Pass::Refinement,
        _ => Pass::Cleanup,
    }
}

// A sample's word: the significance of its neighbours ...
const N: u16 = 1 << 0;
const W: u16 = 1 << 1;
const E: u16 = 1 << 2;
const S: u16 = 1 << 3;
const NW: u16 = 1 << 4;
const NE: u16 = 1 << 5;
const SW: u16 = 1 << 6;
const SE: u16 = 1 << 7;
const NEIGHBOURS: u16 = 0xFF;
// ... the signs of the four that share an edge with it (set with their significance) ...
const N_NEG: u16 = 1 << 8;
const W_NEG: u16 = 1 << 9;
const E_NEG: u16 = 1 << 10;
const S_NEG: u16 = 1 << 11;
// ... and its own state.
const SIG: u16 = 1 << 12;
const VISIT: u16 = 1 << 13;
const REFINED: u16 = 1 << 14;
const NEG: u16 = 1 << 15;

/// What the vertically causal style hides from a stripe's last row: the next stripe.
const BELOW: u16 = S | SW | SE | S_NEG;

/// A lane mask repeated over a stripe column's four words.
const fn lanes(m: u16) -> u64 {
    let m = m as u64;
    m | (m << 16) | (m << 32) | (m << 48)
}

/// Contexts (T.800 Table D.7's numbering): 0-8 zero coding, 9-13 sign, 14-16
/// refinement, then the run-length and uniform contexts.
const RUN: usize = 17;
const UNIFORM: usize = 18;
const CONTEXTS: usize = 19;

/// Every context as T.800 Table D.7 starts it.
const INITIAL: [Context; CONTEXTS] = {
    let mut c = [start(0); CONTEXTS];
    c[0] = start(4);
    c[RUN] = start(3);
    c[UNIFORM] = start(46);
    c
};

/// The zero coding context of each neighbourhood (T.800 Table D.1), for LL and LH
/// sub-bands, HL (horizontal and vertical swapped), and HH.
const ZERO: [[u8; 256]; 3] = {
    let mut t = [[0u8; 256]; 3];
    let mut f = 0;
    while f < 256 {
        let n = f as u16;
        let h = ((n & W != 0) as u8) + ((n & E != 0) as u8);
        let v = ((n & N != 0) as u8) + ((n & S != 0) as u8);
        let d = ((n & NW != 0) as u8)
            + ((n & NE != 0) as u8)
            + ((n & SW != 0) as u8)
            + ((n & SE != 0) as u8);
        t[0][f] = zero_context(h, v, d);
        t[1][f] = zero_context(v, h, d);
        let hv = h + v;
        t[2][f] = match d {
            0 => match hv {
                0 => 0,
                1 => 1,
                _ => 2,
            },
            1 => match hv {
                0 => 3,
                1 => 4,
                _ => 5,
            },
            2 => {
                if hv == 0 {
                    6
                } else {
                    7
                }
            }
            _ => 8,
        };
        f += 1;
    }
    t
};

/// Table D.1's LL and LH column.
const fn zero_context(h: u8, v: u8, d: u8) -> u8 {
    match h {
        2 => 8,
        1 => {
            if v >= 1 {
                7
            } else if d >= 1 {
                6
            } else {
                5
            }
        }
        _ => match v {
            2 => 4,
            1 => 3,
            _ => match d {
                0 => 0,
                1 => 1,
                _ => 2,
            },
        },
    }
}

/// The sign context and the XOR bit of each neighbourhood (T.800 Tables D.2 and D.3),
/// indexed by [`sign_key`]: the context in the low bits, the XOR bit in bit 7.
const SIGN: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut k = 0;
    while k < 256 {
        let mut h = sign_of(k, 1) + sign_of(k, 2);
        let mut v = sign_of(k, 0) + sign_of(k, 3);
        if h > 1 {
            h = 1;
        }
        if h < -1 {
            h = -1;
        }
        if v > 1 {
            v = 1;
        }
        if v < -1 {
            v = -1;
        }
        // (context, xor) by (h, v): Table D.3.
        let (ctx, xor) = match (h, v) {
            (1, 1) => (13, 0),
            (1, 0) => (12, 0),
            (1, -1) => (11, 0),
            (0, 1) => (10, 0),
            (0, 0) => (9, 0),
            (0, -1) => (10, 1),
            (-1, 1) => (11, 1),
            (-1, 0) => (12, 1),
            _ => (13, 1),
        };
        t[k] = ctx | (xor << 7);
        k += 1;
    }
    t
};

/// A neighbour's contribution to the sign contexts: 0 insignificant, 1 positive, -1
/// negative (`bit` 0-3 of a [`sign_key`]).
const fn sign_of(key: usize, bit: usize) -> i32 {
    if key & (1 << bit) == 0 {
        0
    } else if key & (16 << bit) != 0 {
        -1
    } else {
        1
    }
}

/// The sign table's index of a word: N, W, E, S significant, then the same four negative.
#[inline(always)]
fn sign_key(f: u16) -> usize {
    usize::from((f & 0xF) | ((f >> 4) & 0xF0))
}

/// Where the decisions of a pass come from: the MQ decoder, or the raw bits of a
/// bypassed pass (which has no contexts, and codes a sign as it is).
trait Decisions: Copy {
    fn decide(&mut self, cx: &mut [Context; CONTEXTS], k: usize) -> u32;
    /// A newly significant sample's sign (1 negative), from its word.
    fn sign(&mut self, cx: &mut [Context; CONTEXTS], f: u16) -> u32;
}

impl Decisions for Mq<'_> {
    #[inline(always)]
    fn decide(&mut self, cx: &mut [Context; CONTEXTS], k: usize) -> u32 {
        self.decode(&mut cx[k])
    }

    #[inline(always)]
    fn sign(&mut self, cx: &mut [Context; CONTEXTS], f: u16) -> u32 {
        let e = SIGN[sign_key(f)];
        self.decode(&mut cx[usize::from(e & 0x1F)]) ^ u32::from(e >> 7)
    }
}

impl Decisions for Raw<'_> {
    #[inline(always)]
    fn decide(&mut self, _: &mut [Context; CONTEXTS], _: usize) -> u32 {
        self.bit()
    }

    #[inline(always)]
    fn sign(&mut self, _: &mut [Context; CONTEXTS], _: u16) -> u32 {
        self.bit()
    }
}

/// A Part 1 block decoder's buffers, kept from block to block.
#[derive(Default)]
pub(crate) struct Part1Decoder {
    flags: Vec<u16>,
    mags: Vec<u32>,
    segment: Vec<u8>,
}

/// The block being decoded: geometry and state words.
///
/// Every index the passes use is inside both buffers (see [`Grid::column`]): the hot
/// loops read and write them unchecked.
struct Grid<'a> {
    flags: &'a mut [u16],
    mags: &'a mut [u32],
    w: usize,
    h: usize,
    /// Words from one stripe to the next.
    stride: usize,
    /// Row 3's mask (vertically causal: [`BELOW`] hidden).
    last_row: u16,
    zero: &'static [u8; 256],
}

impl Grid<'_> {
    /// The word index of the first sample of stripe `s`, column `x`. With `s` below the
    /// stripe count and `x` below `w`, it and its neighbours' words (one stripe and one
    /// column either way, the padding included) are in the buffers, which hold
    /// `(stripes + 2) * stride` words.
    #[inline(always)]
    fn column(&self, s: usize, x: usize) -> usize {
        (s + 1) * self.stride + (x + 1) * 4
    }

    #[inline(always)]
    fn flag(&self, i: usize) -> u16 {
        debug_assert!(i < self.flags.len());
        // SAFETY: `i` is a sample's or a neighbour's word ([`Grid::column`]).
        unsafe { *self.flags.get_unchecked(i) }
    }

    #[inline(always)]
    fn set(&mut self, i: usize, bits: u16) {
        debug_assert!(i < self.flags.len());
        // SAFETY: as in `flag`.
        unsafe { *self.flags.get_unchecked_mut(i) |= bits }
    }

    #[inline(always)]
    fn mag(&mut self, i: usize) -> &mut u32 {
        debug_assert!(i < self.mags.len());
        // SAFETY: `mags` is as long as `flags`.
        unsafe { self.mags.get_unchecked_mut(i) }
    }

    /// The four words of a stripe column as one number.
    #[inline(always)]
    fn quad(&self, i: usize) -> u64 {
        debug_assert!(i + 4 <= self.flags.len());
        // SAFETY: a column's four words ([`Grid::column`]); read unaligned.
        let q: [u16; 4] = unsafe { std::ptr::read_unaligned(self.flags.as_ptr().add(i).cast()) };
        u64::from(q[0])
            | (u64::from(q[1]) << 16)
            | (u64::from(q[2]) << 32)
            | (u64::from(q[3]) << 48)
    }

    /// The word of sample `i` (row `r` of its stripe) as its contexts see it.
    #[inline(always)]
    fn seen(&self, i: usize, r: usize) -> u16 {
        let f = self.flag(i);
        if r == 3 {
            f & self.last_row
        } else {
            f
        }
    }

    /// Sample `i` (row `r` of its stripe) becomes significant, negative when `neg`: its
    /// word and its neighbours' say so.
    #[inline(always)]
    fn set_significant(&mut self, i: usize, r: usize, neg: u32) {
        let up = if r == 0 { i - self.stride + 3 } else { i - 1 };
        let down = if r == 3 { i + self.stride - 3 } else { i + 1 };
        let n = neg as u16;
        self.set(i, SIG | (n * NEG));
        self.set(up - 4, SE);
        self.set(up, S | (n * S_NEG));
        self.set(up + 4, SW);
        self.set(i - 4, E | (n * E_NEG));
        self.set(i + 4, W | (n * W_NEG));
        self.set(down - 4, NE);
        self.set(down, N | (n * N_NEG));
        self.set(down + 4, NW);
    }

    /// Sample `i` (row `r`, word `f` as its contexts see it) is significant: its sign is
    /// decoded, its magnitude set to `value` (the mid-point of this bit-plane) and the
    /// words told.
    #[inline(always)]
    fn significant<D: Decisions>(
        &mut self,
        d: &mut D,
        cx: &mut [Context; CONTEXTS],
        i: usize,
        r: usize,
        f: u16,
        value: u32,
    ) {
        let neg = d.sign(cx, f);
        *self.mag(i) = value;
        self.set_significant(i, r, neg);
    }

    /// Sample `i`, row `r`, in the significance propagation pass.
    #[inline(always)]
    fn propagate<D: Decisions>(
        &mut self,
        d: &mut D,
        cx: &mut [Context; CONTEXTS],
        i: usize,
        r: usize,
        value: u32,
    ) {
        let f = self.seen(i, r);
        if f & SIG != 0 || f & NEIGHBOURS == 0 {
            return;
        }
        if d.decide(cx, usize::from(self.zero[usize::from(f & NEIGHBOURS)])) != 0 {
            self.significant(d, cx, i, r, f, value);
        }
        self.set(i, VISIT);
    }

    /// The significance propagation pass of bit-plane `plane`.
    #[inline(always)]
    fn propagation<D: Decisions>(
        &mut self,
        decisions: &mut D,
        cx: &mut [Context; CONTEXTS],
        plane: u32,
    ) {
        // The decoder's registers held in locals for the pass.
        let mut local = *decisions;
        let d = &mut local;
        let value = 3u32 << plane;
        let hidden = u64::from(BELOW & !self.last_row) << 48;
        for s in 0..self.h.div_ceil(4) {
            let rows = (self.h - 4 * s).min(4);
            for x in 0..self.w {
                let base = self.column(s, x);
                // Nothing to code in a column whose every sample is significant or
                // without a significant neighbour.
                if propagation_lanes(self.quad(base) & !hidden) == 0 {
                    continue;
                }
                if rows == 4 {
                    self.propagate(d, cx, base, 0, value);
                    self.propagate(d, cx, base + 1, 1, value);
                    self.propagate(d, cx, base + 2, 2, value);
                    self.propagate(d, cx, base + 3, 3, value);
                } else {
                    for r in 0..rows {
                        self.propagate(d, cx, base + r, r, value);
                    }
                }
            }
        }
        *decisions = local;
    }

    /// Sample `i`, row `r`, in the magnitude refinement pass.
    #[inline(always)]
    fn refine<D: Decisions>(
        &mut self,
        d: &mut D,
        cx: &mut [Context; CONTEXTS],
        i: usize,
        r: usize,
        half: u32,
    ) {
        let f = self.seen(i, r);
        if f & (SIG | VISIT) != SIG {
            return;
        }
        let k = if f & REFINED != 0 {
            16
        } else if f & NEIGHBOURS != 0 {
            15
        } else {
            14
        };
        // The mid-point of the interval the bit leaves.
        let bit = d.decide(cx, k);
        let m = self.mag(i);
        *m = if bit != 0 { *m + half } else { *m - half };
        self.set(i, REFINED);
    }

    /// The magnitude refinement pass of bit-plane `plane`.
    #[inline(always)]
    fn refinement<D: Decisions>(
        &mut self,
        decisions: &mut D,
        cx: &mut [Context; CONTEXTS],
        plane: u32,
    ) {
        // The decoder's registers held in locals for the pass.
        let mut local = *decisions;
        let d = &mut local;
        let half = 1u32 << plane;
        for s in 0..self.h.div_ceil(4) {
            let rows = (self.h - 4 * s).min(4);
            for x in 0..self.w {
                let base = self.column(s, x);
                // Significant and not coded in this bit-plane's first pass (a
                // refinement changes no sample's state that another's depends on).
                let q = self.quad(base);
                let mut todo = q & !(q >> 1) & lanes(SIG);
                while todo != 0 {
                    let r = (todo.trailing_zeros() / 16) as usize;
                    todo &= todo - 1;
                    if r < rows {
                        self.refine(d, cx, base + r, r, half);
                    }
                }
            }
        }
        *decisions = local;
    }

    /// Sample `i`, row `r`, in the cleanup pass (not run-length coded).
    #[inline(always)]
    fn clean(
        &mut self,
        d: &mut Mq<'_>,
        cx: &mut [Context; CONTEXTS],
        i: usize,
        r: usize,
        value: u32,
    ) {
        let f = self.seen(i, r);
        if f & (SIG | VISIT) == 0
            && d.decode(&mut cx[usize::from(self.zero[usize::from(f & NEIGHBOURS)])]) != 0
        {
            self.significant(d, cx, i, r, f, value);
        }
    }

    /// The cleanup pass of bit-plane `plane` (always arithmetic-coded).
    #[inline(always)]
    fn cleanup(&mut self, decoder: &mut Mq<'_>, cx: &mut [Context; CONTEXTS], plane: u32) {
        let mut local = *decoder;
        let d = &mut local;
        let value = 3u32 << plane;
        // A column is run-length coded when all four samples are insignificant, not yet
        // coded in this bit-plane and without significant neighbours.
        let hidden = u64::from(BELOW & !self.last_row) << 48;
        let run_mask = lanes(NEIGHBOURS | SIG | VISIT) & !hidden;
        for s in 0..self.h.div_ceil(4) {
            let rows = (self.h - 4 * s).min(4);
            for x in 0..self.w {
                let base = self.column(s, x);
                let q = self.quad(base);
                if rows == 4 {
                    // Every sample coded already (significant, or visited): nothing to do
                    // but forget the visits.
                    let done = (q | (q << 1)) & lanes(VISIT);
                    if done != lanes(VISIT) {
                        if q & run_mask == 0 {
                            if d.decode_skewed(&mut cx[RUN]) == 0 {
                                continue; // four insignificant samples; nothing visited
                            }
                            let r = ((d.decode(&mut cx[UNIFORM]) << 1) | d.decode(&mut cx[UNIFORM]))
                                as usize;
                            let f = self.seen(base + r, r);
                            self.significant(d, cx, base + r, r, f, value);
                            for r in r + 1..4 {
                                self.clean(d, cx, base + r, r, value);
                            }
                        } else {
                            self.clean(d, cx, base, 0, value);
                            self.clean(d, cx, base + 1, 1, value);
                            self.clean(d, cx, base + 2, 2, value);
                            self.clean(d, cx, base + 3, 3, value);
                        }
                    }
                } else {
                    for r in 0..rows {
                        self.clean(d, cx, base + r, r, value);
                    }
                }
                if q & lanes(VISIT) != 0 {
                    let now = self.quad(base) & !lanes(VISIT);
                    debug_assert!(base + 4 <= self.flags.len());
                    let words = [
                        now as u16,
                        (now >> 16) as u16,
                        (now >> 32) as u16,
                        (now >> 48) as u16,
                    ];
                    // SAFETY: the column's four words, written unaligned.
                    unsafe {
                        std::ptr::write_unaligned(self.flags.as_mut_ptr().add(base).cast(), words)
                    };
                }
            }
        }
        *decoder = local;
    }
}

/// A Part 1 code-block to decode: a `w` x `h` block of a band of orientation `orient`
/// (0 LL, 1 HL, 2 LH, 3 HH), its codeword segments one after the other in `data`
/// (`segments`: each one's length and number of coding passes, the first pass a cleanup
/// pass at bit-plane `top`), coded with `style`, of a `reversible` wavelet or not.
pub(crate) struct CodeBlock<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) segments: &'a [(u32, u32)],
    pub(crate) top: u32,
    pub(crate) orient: usize,
    pub(crate) style: u8,
    pub(crate) reversible: bool,
    pub(crate) w: usize,
    pub(crate) h: usize,
}

impl Part1Decoder {
    /// Decode `block` into `dst` (rows `stride` apart).
    ///
    /// Each coefficient is written with one fractional bit (twice the quantisation
    /// index, with the mid-point of what its last pass left it), or, when reversible,
    /// as the integer (the fraction dropped), with its sign.
    ///
    /// Where the processor has them (checked once), compiled for BMI1, BMI2, LZCNT and POPCNT
    /// (the renormalisation's `lzcnt`).
    pub(crate) fn decode(
        &mut self,
        block: &CodeBlock<'_>,
        dst: &mut [i32],
        stride: usize,
    ) -> Result<(), &'static str> {
        #[cfg(target_arch = "x86_64")]
        if crate::cpu::features() != crate::cpu::Features::Baseline {
            // SAFETY: the features it is compiled for were found on this processor.
            return unsafe { self.decode_bit_fields(block, dst, stride) };
        }
        self.decode_any(block, dst, stride)
    }

    /// [`Part1Decoder::decode`] compiled for BMI1, BMI2, LZCNT and POPCNT.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "bmi1,bmi2,lzcnt,popcnt")]
    unsafe fn decode_bit_fields(
        &mut self,
        block: &CodeBlock<'_>,
        dst: &mut [i32],
        stride: usize,
    ) -> Result<(), &'static str> {
        self.decode_any(block, dst, stride)
    }

    /// The one source of every build.
    #[inline(always)]
    pub(super) fn decode_any(
        &mut self,
        block: &CodeBlock<'_>,
        dst: &mut [i32],
        stride: usize,
    ) -> Result<(), &'static str> {
        let &CodeBlock {
            data,
            segments,
            top,
            orient,
            style,
            reversible,
            w,
            h,
        } = block;
        let passes: u32 = segments.iter().map(|s| s.1).sum();
        if passes > 3 * top + 1 {
            return Err("a code-block with more coding passes than bit-planes");
        }
        if top > 29 {
            return Err("a code-block of more than 30 bit-planes");
        }
        let cols = w + 2;
        let stripes = h.div_ceil(4);
        let words = (stripes + 2) * cols * 4;
        self.flags.clear();
        self.flags.resize(words, 0);
        if self.mags.len() < words {
            self.mags.resize(words, 0);
        }
        let mut grid = Grid {
            flags: &mut self.flags,
            mags: &mut self.mags,
            w,
            h,
            stride: cols * 4,
            last_row: if style & VCAUSAL != 0 { !BELOW } else { !0 },
            zero: &ZERO[[0, 1, 0, 2][orient & 3]],
        };
        let mut cx = INITIAL;
        let mut k = 0u32;
        let mut at = 0usize;
        for &(len, count) in segments {
            let bytes = data
                .get(at..at + len as usize)
                .ok_or("a code-block's segment runs past its data")?;
            at += len as usize;
            if count == 0 {
                continue;
            }
            self.segment.clear();
            self.segment.extend_from_slice(bytes);
            self.segment.extend_from_slice(&[0xFF, 0xFF]);
            let raw = style & BYPASS != 0 && k >= 10 && pass_kind(k) != Pass::Cleanup;
            if raw {
                let mut d = Raw::new(&self.segment);
                for _ in 0..count {
                    let plane = top - k.div_ceil(3);
                    match pass_kind(k) {
                        Pass::Propagation => grid.propagation(&mut d, &mut cx, plane),
                        Pass::Refinement => grid.refinement(&mut d, &mut cx, plane),
                        Pass::Cleanup => return Err("a bypassed segment holding a cleanup pass"),
                    }
                    k += 1;
                }
            } else {
                let mut d = Mq::new(&self.segment);
                for _ in 0..count {
                    let plane = top - k.div_ceil(3);
                    match pass_kind(k) {
                        Pass::Propagation => grid.propagation(&mut d, &mut cx, plane),
                        Pass::Refinement => grid.refinement(&mut d, &mut cx, plane),
                        Pass::Cleanup => {
                            grid.cleanup(&mut d, &mut cx, plane);
                            if style & SEGSYM != 0 {
                                for _ in 0..4 {
                                    d.decode(&mut cx[UNIFORM]);
                                }
                            }
                        }
                    }
                    if style & RESET != 0 {
                        cx = INITIAL;
                    }
                    k += 1;
                }
            }
        }
        // The coefficients, row by row.
        let flags = &*grid.flags;
        let mags = &*grid.mags;
        let drop = u32::from(reversible);
        for y in 0..h {
            let (s, r) = (y / 4, y % 4);
            let row = &mut dst[y * stride..y * stride + w];
            let base = (s + 1) * cols * 4 + 4 + r;
            for (x, out) in row.iter_mut().enumerate() {
                let i = base + 4 * x;
                let f = flags[i];
                // Without a branch: an insignificant sample's magnitude (stale) masked
                // off, the sign applied as a two's complement negation.
                let significant = -i32::from(f & SIG != 0);
                let negative = -i32::from(f & NEG != 0);
                let m = (mags[i] >> drop) as i32 & significant;
                *out = (m ^ negative) - negative;
            }
        }
        Ok(())
    }
}

/// The lanes of a stripe column's words that the significance propagation pass codes:
/// bit 8 of each lane set for an insignificant sample with a significant neighbour.
#[inline(always)]
fn propagation_lanes(q: u64) -> u64 {
    // A lane's neighbour byte plus 0xFF carries into bit 8 when not zero (no lane
    // overflows into the next).
    let neighbours = (q & lanes(NEIGHBOURS)) + lanes(NEIGHBOURS);
    neighbours & !(q >> 4) & lanes(1 << 8)
}
