//! The HT cleanup pass (ITU-T T.814 | ISO/IEC 15444-15, clause 7): one code-block's
//! quantised coefficients into one HT codeword segment, made of three byte-streams.
//!
//! * **MagSgn**, forward: for each significant sample the low bits of
//!   `v = 2 (mu - 1) + sign` that the VLC code leaves unsaid.
//! * **MEL**, forward: an adaptive run-length code of the quads whose context is all
//!   zero (is the quad significant?) and, in the initial row of quads, of pairs with both
//!   exponent offsets `u` above 0 (are both above 2?).
//! * **VLC**, backward from the end of the segment: the quads' CxtVLC codewords (context,
//!   significance pattern, EMB pattern) and the `u` offsets' prefix/suffix codes.
//!
//! The segment is MagSgn, then MEL, then VLC; its last 12 bits say how many bytes MEL and
//! VLC take together (Scup). Every stream stuffs a 0 bit after 0xFF (VLC: after a byte
//! above 0x8F whose next 7 bits are all ones), so that no marker code appears.
//!
//! Only the cleanup pass is made: a single pass holds every magnitude bit (the plane of
//! the pass is 0), so the packet header says `K_max - 1` missing bit-planes and one pass.

use crate::tables;

/// `LOW_BITS[n]`: the low `n` bits set (a load, where `(1 << n) - 1` is a second
/// variable shift).
pub(crate) static LOW_BITS: [u64; 33] = {
    let mut t = [0u64; 33];
    let mut n = 0;
    while n < 33 {
        t[n] = (1u64 << n) - 1;
        n += 1;
    }
    t
};

/// MEL exponents of T.814 (the run-length threshold of each of the 13 states).
pub(crate) const MEL_EXP: [u32; 13] = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5];

struct Mel {
    buf: Vec<u8>,
    tmp: u32,
    free: u32,
    run: u32,
    state: usize,
    threshold: u32,
}

impl Mel {
    fn reset(&mut self) {
        self.buf.clear();
        self.tmp = 0;
        self.free = 8;
        self.run = 0;
        self.state = 0;
        self.threshold = 1;
    }

    #[inline(always)]
    fn bit(&mut self, b: u32) {
        self.tmp = (self.tmp << 1) | b;
        self.free -= 1;
        if self.free == 0 {
            self.buf.push(self.tmp as u8);
            self.free = if self.tmp == 0xFF { 7 } else { 8 };
            self.tmp = 0;
        }
    }

    #[inline(always)]
    fn event(&mut self, one: bool) {
        if !one {
            self.run += 1;
            if self.run >= self.threshold {
                self.bit(1);
                self.run = 0;
                self.state = (self.state + 1).min(12);
                self.threshold = 1 << MEL_EXP[self.state];
            }
        } else {
            self.bit(0);
            let mut t = MEL_EXP[self.state];
            while t > 0 {
                t -= 1;
                self.bit((self.run >> t) & 1);
            }
            self.run = 0;
            self.state = self.state.saturating_sub(1);
            self.threshold = 1 << MEL_EXP[self.state];
        }
    }
}

/// The VLC stream, kept in the order written (the segment holds it reversed). Bits
/// gather least significant first in `acc` and become bytes in [`Vlc::drain`].
struct Vlc {
    buf: Vec<u8>,
    acc: u64,
    n: u32,
    after_8f: bool,
}

impl Vlc {
    fn reset(&mut self) {
        self.buf.clear();
        // The stream's last byte, and the low nibble of the one before it, are where Scup
        // goes: start as if 0xFF and four one bits had been written.
        self.buf.push(0xFF);
        self.acc = 0xF;
        self.n = 4;
        self.after_8f = true;
    }

    #[inline(always)]
    fn put(&mut self, cwd: u32, len: u32) {
        self.acc |= (u64::from(cwd) & ((1u64 << len) - 1)) << self.n;
        self.n += len;
        if self.n >= 32 {
            self.drain();
        }
    }

    /// Make bytes of the gathered bits: after a byte above 0x8F, seven ones take a byte of
    /// their own (its top bit a stuffed 0); otherwise a byte holds eight bits.
    fn drain(&mut self) {
        // Four bytes at once while none has its low seven bits all ones (none of them can
        // then be stuffed, whatever came before it): the usual case.
        while self.n >= 32 {
            let word = self.acc as u32;
            let x = (word & 0x7F7F_7F7F) ^ 0x7F7F_7F7F; // a zero byte: seven 1s there
            if x.wrapping_sub(0x0101_0101) & !x & 0x8080_8080 != 0 {
                break;
            }
            self.buf.extend_from_slice(&word.to_le_bytes());
            self.acc >>= 32;
            self.n -= 32;
            self.after_8f = word >> 24 > 0x8F;
        }
        loop {
            let stuff = self.after_8f && self.acc & 0x7F == 0x7F;
            let take = 8 - u32::from(stuff);
            if self.n < take {
                return;
            }
            let byte = (self.acc & ((1 << take) - 1)) as u8;
            self.buf.push(byte);
            self.acc >>= take;
            self.n -= take;
            self.after_8f = byte > 0x8F;
        }
    }
}

struct MagSgn {
    buf: Vec<u8>,
    tmp: u64,
    used: u32,
    max: u32,
}

impl MagSgn {
    fn reset(&mut self) {
        self.buf.clear();
        self.tmp = 0;
        self.used = 0;
        self.max = 8;
    }

    #[inline(always)]
    fn put(&mut self, bits: u32, len: u32) {
        self.tmp |= u64::from(bits) << self.used;
        self.used += len;
        if self.used >= 32 {
            // Four bytes at once when none is 0xFF (and none follows one).
            let word = self.tmp as u32;
            // A 0xFF byte is a zero byte of !word (the exact zero-byte test).
            let has_ff = (!word).wrapping_sub(0x0101_0101) & word & 0x8080_8080 != 0;
            if self.max == 8 && !has_ff {
                self.buf.extend_from_slice(&word.to_le_bytes());
                self.tmp >>= 32;
                self.used -= 32;
            } else {
                self.drain();
            }
        }
    }

    fn drain(&mut self) {
        while self.used >= self.max {
            let byte = (self.tmp & ((1 << self.max) - 1)) as u8;
            self.buf.push(byte);
            self.tmp >>= self.max;
            self.used -= self.max;
            self.max = if byte == 0xFF { 7 } else { 8 };
        }
    }

    fn terminate(&mut self) {
        self.drain();
        if self.used > 0 {
            let t = self.max - self.used;
            let byte = (self.tmp | (((1u64 << t) - 1) << self.used)) & 0xFF;
            if byte != 0xFF {
                self.buf.push(byte as u8);
            }
        } else if self.max == 7 {
            self.buf.pop(); // a final 0xFF is implied
        }
    }
}

/// Exponents of the lower samples of the previous quad row (`prev_e`) and of the one
/// being coded (`next_e`), by column + 1 (0: not significant, so significance is a
/// non-zero exponent): what a later row's contexts and exponent bounds come from (T.814
/// 7.3.5-7.3.6), the same for coding and decoding.
#[derive(Default)]
pub(crate) struct QuadRows {
    pub(crate) prev_e: Vec<u8>,
    pub(crate) next_e: Vec<u8>,
}

impl QuadRows {
    /// Zeros for a block `w` wide.
    pub(crate) fn reset(&mut self, w: usize) {
        for v in [&mut self.prev_e, &mut self.next_e] {
            v.clear();
            v.resize(w + 4, 0);
        }
    }

    /// The row just coded becomes the one above.
    pub(crate) fn advance(&mut self) {
        std::mem::swap(&mut self.prev_e, &mut self.next_e);
    }

    /// Note the exponents of the lower samples of the quad at column `x`.
    #[inline(always)]
    pub(crate) fn note(&mut self, x: usize, e_left: u8, e_right: u8) {
        self.next_e[x + 1..x + 3].copy_from_slice(&[e_left, e_right]);
    }

    /// The four exponents above the quad at column `qx` (columns `qx - 1` to `qx + 2`,
    /// at `qx .. qx + 3` here), one a byte.
    #[inline(always)]
    fn above(&self, qx: usize) -> u32 {
        u32::from_le_bytes(self.prev_e[qx..qx + 4].try_into().unwrap())
    }

    /// The context of the quad at column `qx` of a later row: the significance of the row
    /// above's samples from column `qx - 1` to `qx + 2` and of the left quad's right
    /// column (`left_rho`).
    #[inline(always)]
    pub(crate) fn context(&self, qx: usize, left_rho: u32) -> u32 {
        let e = self.above(qx);
        u32::from(e & 0xFFFF != 0)
            | (((left_rho >> 2) | (left_rho >> 3)) & 1) << 1
            | u32::from(e >> 16 != 0) << 2
    }

    /// The exponent bound kappa of a later row's quad of pattern `rho` at column `qx`:
    /// with two or more significant samples, one less than the largest exponent above
    /// (at least 1); otherwise 1.
    #[inline(always)]
    pub(crate) fn kappa(&self, qx: usize, rho: u32) -> u32 {
        // Both computed, one taken (no branch on a quad's pattern, which the data decide).
        let e = self.above(qx).to_le_bytes();
        let above = e[0].max(e[1]).max(e[2]).max(e[3]);
        let k = (u32::from(above).saturating_sub(1)).max(1);
        if rho & rho.wrapping_sub(1) == 0 {
            1
        } else {
            k
        }
    }
}

/// Reusable state of the block coder (one per thread).
pub(crate) struct BlockCoder {
    mel: Mel,
    vlc: Vlc,
    ms: MagSgn,
    rows: QuadRows,
    /// The block copied with its width and height rounded up to even, zeros beyond.
    pad: Vec<i32>,
}

/// One quad's samples (T.814 scan order: left column top, bottom, right column top,
/// bottom), pattern and largest exponent.
#[derive(Default, Clone, Copy)]
struct Quad {
    rho: u32,
    e: [u32; 4],
    v: [u32; 4],
    emax: u32,
}

/// Sample `n` of the quad `q`: its significance, exponent (0 when insignificant) and
/// MagSgn value. Without a branch on the sample (which the data decide).
#[inline(always)]
fn sample(q: &mut Quad, n: usize, value: i32) {
    let mu = value.unsigned_abs();
    let sig = u32::from(mu != 0);
    let mask = 0u32.wrapping_sub(sig);
    q.rho |= sig << n;
    // 2 mu - 1 is odd, so at least 1 where significant; masked off where not.
    let e = (32 - (2 * mu).wrapping_sub(1).leading_zeros()) & mask;
    q.e[n] = e;
    q.emax = q.emax.max(e);
    q.v[n] = (2 * mu).wrapping_sub(2).wrapping_add(u32::from(value < 0)) & mask;
}

/// The `u` offset's prefix, prefix length, suffix, suffix length (T.814 U-VLC; `u` at most
/// 36, which 32-bit coefficients never exceed).
const fn uvlc_of(u: u32) -> (u32, u32, u32, u32) {
    match u {
        0 => (0, 0, 0, 0),
        1 => (1, 1, 0, 0),
        2 => (2, 2, 0, 0),
        3 => (4, 3, 0, 1),
        4 => (4, 3, 1, 1),
        _ => (0, 3, u - 5, 5),
    }
}

/// [`uvlc_of`] of each `u` up to 36 (a load, where the match is a chain of branches the
/// data decide).
static UVLC: [(u32, u32, u32, u32); 37] = {
    let mut t = [(0, 0, 0, 0); 37];
    let mut u = 0;
    while u < 37 {
        t[u] = uvlc_of(u as u32);
        u += 1;
    }
    t
};

/// [`uvlc_of`] from [`UVLC`] (`u` at most 36: checked by the callers first).
#[inline(always)]
fn uvlc(u: u32) -> (u32, u32, u32, u32) {
    UVLC[u as usize]
}

/// Codes one after the other, as one put (at most 32 bits).
#[inline(always)]
fn join(parts: &[(u32, u32)]) -> (u32, u32) {
    let (mut bits, mut len) = (0u64, 0u32);
    for &(b, l) in parts {
        bits |= u64::from(b) << len;
        len += l;
    }
    (bits as u32, len)
}

/// The quads at columns `x` and `x + 2` of rows `y` and `y + 1` of the block (rows `pw`
/// apart; all four columns inside it), as [`BlockCoder::gather`] reads each, in one
/// vector: the eight samples in quad order, their magnitudes, significance, exponents
/// (from the float exponent of `2 mu - 1`: exact for magnitudes below 2^23, which the
/// caller checked) and MagSgn values at once, each quad's largest exponent by two
/// shuffles.
///
/// # Safety
/// Only where AVX2 was found on this processor.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn gather_pair(src: &[i32], pw: usize, x: usize, y: usize) -> [Quad; 2] {
    use std::arch::x86_64::*;
    let (top, bottom) = (
        &src[y * pw + x..y * pw + x + 4],
        &src[(y + 1) * pw + x..(y + 1) * pw + x + 4],
    );
    let t = _mm_loadu_si128(top.as_ptr() as *const __m128i);
    let b = _mm_loadu_si128(bottom.as_ptr() as *const __m128i);
    let v = _mm256_set_m128i(_mm_unpackhi_epi32(t, b), _mm_unpacklo_epi32(t, b));
    if _mm256_testz_si256(v, v) == 1 {
        // Two quads of zeros (most of a smooth image's fine bands).
        return [Quad::default(); 2];
    }
    let one = _mm256_set1_epi32(1);
    let mu = _mm256_abs_epi32(v);
    let sig = _mm256_cmpgt_epi32(mu, _mm256_setzero_si256());
    let twice = _mm256_add_epi32(mu, mu);
    let odd = _mm256_sub_epi32(twice, one); // 2 mu - 1
    let biased = _mm256_srli_epi32::<23>(_mm256_castps_si256(_mm256_cvtepi32_ps(odd)));
    let e = _mm256_and_si256(_mm256_sub_epi32(biased, _mm256_set1_epi32(126)), sig);
    let sign = _mm256_srli_epi32::<31>(v);
    let value = _mm256_and_si256(
        _mm256_add_epi32(_mm256_sub_epi32(twice, _mm256_set1_epi32(2)), sign),
        sig,
    );
    let m1 = _mm256_max_epu32(e, _mm256_shuffle_epi32::<0b10_11_00_01>(e));
    let emax = _mm256_max_epu32(m1, _mm256_shuffle_epi32::<0b01_00_11_10>(m1));
    let rho = _mm256_movemask_ps(_mm256_castsi256_ps(sig)) as u32;
    let (mut es, mut vs, mut maxes) = ([0u32; 8], [0u32; 8], [0u32; 8]);
    _mm256_storeu_si256(es.as_mut_ptr() as *mut __m256i, e);
    _mm256_storeu_si256(vs.as_mut_ptr() as *mut __m256i, value);
    _mm256_storeu_si256(maxes.as_mut_ptr() as *mut __m256i, emax);
    let quad = |k: usize| Quad {
        rho: rho >> (4 * k) & 0xF,
        e: es[4 * k..4 * k + 4].try_into().unwrap(),
        v: vs[4 * k..4 * k + 4].try_into().unwrap(),
        emax: maxes[4 * k],
    };
    [quad(0), quad(1)]
}

/// The OR of the magnitudes of the `w` x `h` block at `plane[0]` (rows `stride` apart):
/// its highest bit is the largest magnitude's.
#[inline(always)]
fn magnitudes_of(plane: &[i32], stride: usize, w: usize, h: usize) -> u32 {
    (0..h).fold(0, |any, y| {
        plane[y * stride..y * stride + w]
            .iter()
            .fold(any, |any, v| any | v.unsigned_abs())
    })
}

/// A build of [`BlockCoder::encode_any`] for the processor features named (an `unsafe
/// fn`: only where they were found), as the block decoder's builds are made.
macro_rules! build {
    ($(#[$doc:meta])* $name:ident, $features:literal, $vector:literal) => {
        $(#[$doc])*
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        unsafe fn $name(
            &mut self,
            plane: &[i32],
            stride: usize,
            w: usize,
            h: usize,
            out: &mut Vec<u8>,
        ) -> Result<(usize, u32), &'static str> {
            self.encode_any::<$vector>(plane, stride, w, h, out)
        }
    };
}

impl BlockCoder {
    pub(crate) fn new() -> Self {
        BlockCoder {
            mel: Mel {
                buf: Vec::with_capacity(256),
                tmp: 0,
                free: 8,
                run: 0,
                state: 0,
                threshold: 1,
            },
            vlc: Vlc {
                buf: Vec::with_capacity(2048),
                acc: 0,
                n: 0,
                after_8f: false,
            },
            ms: MagSgn {
                buf: Vec::with_capacity(16384),
                tmp: 0,
                used: 0,
                max: 8,
            },
            rows: QuadRows::default(),
            pad: Vec::new(),
        }
    }

    /// The quad at (`x`, `y`) of the block (rows `pw` apart).
    #[inline(always)]
    fn gather(pad: &[i32], pw: usize, x: usize, y: usize) -> Quad {
        let mut q = Quad::default();
        let top = &pad[y * pw + x..y * pw + x + 2];
        let bottom = &pad[(y + 1) * pw + x..(y + 1) * pw + x + 2];
        // A quad of zeros (most of a smooth image's fine bands) at once: one branch a
        // quad, where one a sample mispredicts on textured images and none costs every
        // sample's work on smooth ones.
        if top[0] | top[1] | bottom[0] | bottom[1] == 0 {
            return q;
        }
        sample(&mut q, 0, top[0]);
        sample(&mut q, 1, bottom[0]);
        sample(&mut q, 2, top[1]);
        sample(&mut q, 3, bottom[1]);
        q
    }

    /// Copy the block into `pad` (its width and height rounded up to even, zeros
    /// beyond); its width there, and the OR of its magnitudes (whose
    /// highest bit is the largest magnitude's).
    #[inline(always)]
    fn load(&mut self, plane: &[i32], stride: usize, w: usize, h: usize) -> (usize, u32) {
        let (pw, ph) = (w + (w & 1), h + (h & 1));
        self.pad.clear();
        self.pad.resize(pw * ph, 0);
        let mut any = 0;
        for y in 0..h {
            let row = &plane[y * stride..y * stride + w];
            for (d, &v) in self.pad[y * pw..y * pw + w].iter_mut().zip(row) {
                *d = v;
                any |= v.unsigned_abs();
            }
        }
        (pw, any)
    }

    /// The quad's magnitude bits and the MEL event when its context is 0; returns `u`
    /// and the quad's codeword (from `table` by context; bits and length), which the
    /// caller puts with the pair's (one VLC put a pair).
    #[inline(always)]
    fn code_quad(
        &mut self,
        q: &Quad,
        context: u32,
        kappa: u32,
        table: &[u16; 2048],
    ) -> (u32, (u32, u32)) {
        if q.rho == 0 {
            // No significant sample (most quads of the fine bands): its codeword (none in
            // context 0, where MEL says it instead), no EMB pattern, no magnitude bits.
            let entry = u32::from(table[(context << 8) as usize]);
            if context == 0 {
                self.mel.event(false);
            }
            return (0, (entry >> 8, (entry >> 4) & 7));
        }
        let big_u = q.emax.max(kappa);
        let u = big_u - kappa;
        // Insignificant samples have exponent 0 and the largest is at least 1: no test of
        // significance needed; no EMB pattern when u is 0.
        let mut emb = 0;
        for n in 0..4 {
            emb |= u32::from(q.e[n] == q.emax) << n;
        }
        emb &= 0u32.wrapping_sub(u32::from(u > 0));
        let entry = u32::from(table[((context << 8) | (q.rho << 4) | emb) as usize]);
        if context == 0 {
            self.mel.event(q.rho != 0);
        }
        // Without branches: an insignificant sample puts no bits. Up to 32 bits go in one
        // call: all four samples when U <= 8, two by two when U <= 16.
        let mut m = [0u32; 4];
        let mut bits = [0u64; 4];
        for n in 0..4 {
            m[n] = (big_u - (entry >> n & 1)) & 0u32.wrapping_sub(q.rho >> n & 1);
            bits[n] = u64::from(q.v[n]) & LOW_BITS[m[n] as usize];
        }
        if big_u <= 8 {
            let all = bits[0]
                | bits[1] << m[0]
                | bits[2] << (m[0] + m[1])
                | bits[3] << (m[0] + m[1] + m[2]);
            self.ms.put(all as u32, m[0] + m[1] + m[2] + m[3]);
        } else if big_u <= 16 {
            self.ms.put((bits[0] | bits[1] << m[0]) as u32, m[0] + m[1]);
            self.ms.put((bits[2] | bits[3] << m[2]) as u32, m[2] + m[3]);
        } else {
            for n in 0..4 {
                self.ms.put(bits[n] as u32, m[n]);
            }
        }
        (u, (entry >> 8, (entry >> 4) & 7))
    }

    /// Note the quad's lower samples for the next row's contexts (columns `x`, `x + 1`).
    #[inline(always)]
    fn remember(&mut self, q: &Quad, x: usize) {
        self.rows.note(x, q.e[1] as u8, q.e[3] as u8);
    }

    /// Encode the `w` x `h` block at `plane[0]` (rows `stride` apart) into `out`
    /// (appended); returns the segment's length (0 for a block with no significant
    /// sample) and the OR of the block's magnitudes.
    ///
    /// Where the processor has them (checked once), compiled for BMI1/BMI2, LZCNT and
    /// POPCNT, and with AVX2 as well, as the block decoder is ([`crate::cpu`]):
    /// exponents are one `lzcnt`, bit fields are `shrx`/`bzhi`. The same source every
    /// way.
    pub(crate) fn encode(
        &mut self,
        plane: &[i32],
        stride: usize,
        w: usize,
        h: usize,
        out: &mut Vec<u8>,
    ) -> Result<(usize, u32), &'static str> {
        #[cfg(target_arch = "x86_64")]
        match crate::cpu::features() {
            // SAFETY: the features each is compiled for were found on this processor.
            crate::cpu::Features::Vector => {
                return unsafe { self.encode_vector(plane, stride, w, h, out) }
            }
            crate::cpu::Features::BitFields => {
                return unsafe { self.encode_bit_fields(plane, stride, w, h, out) }
            }
            crate::cpu::Features::Baseline => {}
        }
        self.encode_any::<false>(plane, stride, w, h, out)
    }

    build! {
        /// [`BlockCoder::encode`] compiled for AVX2 as well: a pair of quads' samples
        /// read in one vector ([`gather_pair`]).
        encode_vector, "avx2,bmi1,bmi2,lzcnt,popcnt", true
    }

    build! {
        /// [`BlockCoder::encode`] compiled for BMI1, BMI2, LZCNT and POPCNT.
        encode_bit_fields, "bmi1,bmi2,lzcnt,popcnt", false
    }

    /// The one source of [`BlockCoder::encode`]'s builds. `VECTOR` runs AVX2 code: meant
    /// for [`BlockCoder::encode_vector`] (the portable code where the processor has no
    /// AVX2).
    #[inline(always)]
    fn encode_any<const VECTOR: bool>(
        &mut self,
        plane: &[i32],
        stride: usize,
        w: usize,
        h: usize,
        out: &mut Vec<u8>,
    ) -> Result<(usize, u32), &'static str> {
        // A block of odd width or height is copied with zeros around it; others are read
        // where they are.
        let padded = w % 2 == 1 || h % 2 == 1;
        let (pw, magnitudes) = if padded {
            self.load(plane, stride, w, h)
        } else {
            (stride, magnitudes_of(plane, stride, w, h))
        };
        if magnitudes == 0 {
            return Ok((0, 0));
        }
        let pad = if padded {
            std::mem::take(&mut self.pad)
        } else {
            Vec::new()
        };
        let src: &[i32] = if padded { &pad } else { plane };
        // Pairs of quads in one vector where AVX2 is there and every magnitude's
        // exponent is exact as a float's (below 2^23).
        #[cfg(target_arch = "x86_64")]
        let pairs = VECTOR && crate::cpu::vector() && magnitudes < 1 << 23;
        #[cfg(not(target_arch = "x86_64"))]
        let pairs = false;
        let (initial, later) = (&tables::VLC_INITIAL, &tables::VLC_LATER);
        self.mel.reset();
        self.vlc.reset();
        self.ms.reset();
        self.rows.reset(w);

        // The initial row of quads: the context is the left quad's; kappa is 1.
        let mut left_rho = 0u32;
        let mut x = 0;
        while x < w {
            let q0 = Self::gather(src, pw, x, 0);
            let c0 = (left_rho >> 1) | (left_rho & 1);
            let (u0, cw0) = self.code_quad(&q0, c0, 1, initial);
            self.remember(&q0, x);
            let (mut u1, mut cw1) = (0, (0, 0));
            left_rho = q0.rho;
            if x + 2 < w {
                let q1 = Self::gather(src, pw, x + 2, 0);
                let c1 = (q0.rho >> 1) | (q0.rho & 1);
                (u1, cw1) = self.code_quad(&q1, c1, 1, initial);
                self.remember(&q1, x + 2);
                left_rho = q1.rho;
            }
            if u0 > 32 || u1 > 32 {
                return Err("a coefficient too large for the HT block coder");
            }
            if u0 > 0 && u1 > 0 {
                self.mel.event(u0.min(u1) > 2);
            }
            let (bits, len) = if u0 > 2 && u1 > 2 {
                let (p0, pl0, s0, sl0) = uvlc(u0 - 2);
                let (p1, pl1, s1, sl1) = uvlc(u1 - 2);
                join(&[(p0, pl0), (p1, pl1), (s0, sl0), (s1, sl1)])
            } else if u0 > 2 && u1 > 0 {
                let (p0, pl0, s0, sl0) = uvlc(u0);
                join(&[(p0, pl0), (u1 - 1, 1), (s0, sl0)])
            } else {
                let (p0, pl0, s0, sl0) = uvlc(u0);
                let (p1, pl1, s1, sl1) = uvlc(u1);
                join(&[(p0, pl0), (p1, pl1), (s0, sl0), (s1, sl1)])
            };
            // The pair's codewords, then its `u` codes: at most 30 bits, one put.
            let (bits, len) = join(&[cw0, cw1, (bits, len)]);
            self.vlc.put(bits, len);
            x += 4;
        }

        // The other rows: contexts from the row above and the left quad; kappa from the
        // exponents above when the quad has two or more significant samples.
        let mut y = 2;
        while y < h {
            self.rows.advance();
            let mut left_rho = 0u32;
            let mut x = 0;
            while x < w {
                let mut us = [0u32; 2];
                let two = x + 2 < w;
                let quads = if pairs && two {
                    // SAFETY: `pairs` only where the processor has AVX2; both quads'
                    // columns are in the block (or its padding).
                    #[cfg(target_arch = "x86_64")]
                    unsafe {
                        gather_pair(src, pw, x, y)
                    }
                    #[cfg(not(target_arch = "x86_64"))]
                    unreachable!()
                } else {
                    let q1 = if two {
                        Self::gather(src, pw, x + 2, y)
                    } else {
                        Quad::default()
                    };
                    [Self::gather(src, pw, x, y), q1]
                };
                let mut cws = [(0, 0); 2];
                for (k, (u, cw)) in us.iter_mut().zip(&mut cws).enumerate() {
                    let qx = x + 2 * k;
                    if qx >= w {
                        break;
                    }
                    let q = quads[k];
                    let context = self.rows.context(qx, left_rho);
                    let kappa = self.rows.kappa(qx, q.rho);
                    (*u, *cw) = self.code_quad(&q, context, kappa, later);
                    self.remember(&q, qx);
                    left_rho = q.rho;
                }
                if us[0] > 36 || us[1] > 36 {
                    return Err("a coefficient too large for the HT block coder");
                }
                let (p0, pl0, s0, sl0) = uvlc(us[0]);
                let (p1, pl1, s1, sl1) = uvlc(us[1]);
                // The pair's codewords, then its `u` prefixes and suffixes: at most 30
                // bits, one put.
                let (bits, len) =
                    join(&[cws[0], cws[1], (p0, pl0), (p1, pl1), (s0, sl0), (s1, sl1)]);
                self.vlc.put(bits, len);
                x += 4;
            }
            // Columns past the block's last are never written: they stay 0.
            y += 2;
        }

        if padded {
            self.pad = pad;
        }
        self.terminate_mel_vlc();
        self.ms.terminate();
        let start = out.len();
        out.extend_from_slice(&self.ms.buf);
        out.extend_from_slice(&self.mel.buf);
        out.extend(self.vlc.buf.iter().rev());
        let scup = self.mel.buf.len() + self.vlc.buf.len();
        if scup > 4079 {
            return Err("HT MEL and VLC streams too long");
        }
        let end = out.len();
        out[end - 1] = (scup >> 4) as u8;
        out[end - 2] = (out[end - 2] & 0xF0) | (scup & 0xF) as u8;
        Ok((end - start, magnitudes))
    }

    /// End MEL and VLC: a pending run is closed, and their last partial bytes share one
    /// byte when their bits do not overlap (and it is not 0xFF).
    fn terminate_mel_vlc(&mut self) {
        let (mel, vlc) = (&mut self.mel, &mut self.vlc);
        vlc.drain();
        let (vlc_tmp, vlc_used) = (vlc.acc as u32, vlc.n);
        if mel.run > 0 {
            mel.bit(1);
        }
        let mel_tmp = (mel.tmp << mel.free) & 0xFF;
        let mel_mask = (0xFFu32 << mel.free) & 0xFF;
        let vlc_mask = 0xFFu32 >> (8 - vlc_used);
        if mel_mask | vlc_mask == 0 {
            return;
        }
        let fused = mel_tmp | vlc_tmp;
        if ((fused ^ mel_tmp) & mel_mask) | ((fused ^ vlc_tmp) & vlc_mask) == 0
            && fused != 0xFF
            && vlc.buf.len() > 1
        {
            mel.buf.push(fused as u8);
        } else {
            mel.buf.push(mel_tmp as u8);
            vlc.buf.push(vlc_tmp as u8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every build of the block coder writes the same bytes: the portable one against
    /// the one this processor takes, on blocks of every kind (sizes odd and even, sparse
    /// and dense, small and large magnitudes, signs).
    #[test]
    fn every_build_codes_alike() {
        let mut rng = crate::tests::Rng(0x9E37_79B9_7F4A_7C15);
        let mut next = move || rng.next();
        let (mut a, mut b) = (BlockCoder::new(), BlockCoder::new());
        let mut coded = 0;
        for k in 0..300 {
            let (w, h) = (1 + next() as usize % 64, 1 + next() as usize % 64);
            let stride = w + (next() as usize % 3);
            let bits = 1 + next() as u32 % 26;
            let sparse = next() % 3;
            let plane: Vec<i32> = (0..stride * h)
                .map(|_| {
                    if sparse > 0 && next() % (4 * sparse) != 0 {
                        return 0;
                    }
                    let m = (next() % (1u64 << bits)) as i32;
                    if next() & 1 == 1 {
                        -m
                    } else {
                        m
                    }
                })
                .collect();
            let (mut out_a, mut out_b) = (Vec::new(), Vec::new());
            let got_a = a.encode(&plane, stride, w, h, &mut out_a);
            let got_b = b.encode_any::<false>(&plane, stride, w, h, &mut out_b);
            assert_eq!(got_a, got_b, "block {k}: {w}x{h}");
            assert!(out_a == out_b, "block {k}: {w}x{h}, {bits} bits");
            coded += usize::from(!out_a.is_empty());
        }
        assert!(coded > 250, "{coded} blocks with a segment");
    }
}
