//! Decoding the HT cleanup pass (ITU-T T.814 | ISO/IEC 15444-15, clause 7): one
//! code-block's codeword segment back into its coefficients. The inverse of
//! [`crate::block`]: the segment is MagSgn (read forward), MEL (forward, from where
//! MagSgn ends) and VLC (backward from the end), the split given by the last 12 bits
//! (Scup).
//!
//! Every read past a stream's end gives the filler T.814 defines (ones for MagSgn and
//! MEL, zeros for VLC): a damaged segment decodes to wrong values or an error, never a
//! read outside it.

use crate::block::{QuadRows, LOW_BITS, MEL_EXP};
#[cfg(target_arch = "x86_64")]
use crate::cpu::{features, Features};
use crate::tables::{VLC_DEC_INITIAL, VLC_DEC_LATER};

/// Bits read forward, least significant first; after a 0xFF byte the next gives 7 bits
/// (its top bit is the stuffed 0). Past the end: 0xFF bytes.
struct MagSgn<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u64,
    bits: u32,
    unstuff: bool,
}

impl<'a> MagSgn<'a> {
    fn new(data: &'a [u8]) -> Self {
        MagSgn {
            data,
            pos: 0,
            acc: 0,
            bits: 0,
            unstuff: false,
        }
    }

    /// At least 57 bits in `acc` (unless past the end, where the filler gives them).
    #[inline(always)]
    fn refill(&mut self) {
        // Whole bytes at once while none is 0xFF: the lowest 0xFF byte of the word is the
        // lowest zero byte of its complement, which this test finds exactly.
        if !self.unstuff && self.pos + 8 <= self.data.len() {
            let word = u64::from_le_bytes(self.data[self.pos..self.pos + 8].try_into().unwrap());
            let inv = !word;
            let zero = inv.wrapping_sub(0x0101_0101_0101_0101) & !inv & 0x8080_8080_8080_8080;
            let clear = (zero.trailing_zeros() / 8) as usize; // bytes before the first 0xFF
            let room = ((64 - self.bits) / 8) as usize;
            let take = clear.min(room);
            // No branch on `take` (0 adds nothing).
            let bits = 8 * take as u32;
            let part = if bits == 64 {
                word
            } else {
                word & ((1u64 << bits) - 1)
            };
            self.acc |= part.wrapping_shl(self.bits);
            self.bits += bits;
            self.pos += take;
            if self.bits > 56 {
                return;
            }
        }
        while self.bits <= 56 {
            let byte = match self.data.get(self.pos) {
                Some(&b) => {
                    self.pos += 1;
                    b
                }
                None => 0xFF,
            };
            let n = 8 - u32::from(self.unstuff);
            self.acc |= (u64::from(byte) & ((1 << n) - 1)) << self.bits;
            self.bits += n;
            self.unstuff = byte == 0xFF;
        }
    }

    /// The next `n` bits (at most 32).
    #[inline]
    fn take(&mut self, n: u32) -> u32 {
        if self.bits < n {
            self.refill();
        }
        let v = (self.acc & ((1u64 << n) - 1)) as u32;
        self.acc >>= n;
        self.bits -= n;
        v
    }

    /// The next four fields of `m[n]` bits, their sum at most 56.
    #[inline(always)]
    fn take4(&mut self, m: [u32; 4]) -> [u32; 4] {
        let total = m[0] + m[1] + m[2] + m[3];
        if self.bits < total {
            self.refill();
        }
        let acc = self.acc;
        let (p1, p2) = (m[0], m[0] + m[1]);
        let p3 = p2 + m[2];
        let field = |at: u32, n: u32| ((acc >> at) & LOW_BITS[n as usize]) as u32;
        let v = [
            field(0, m[0]),
            field(p1, m[1]),
            field(p2, m[2]),
            field(p3, m[3]),
        ];
        self.acc >>= total;
        self.bits -= total;
        v
    }
}

/// The MEL decoder: bits read forward, most significant first, 7 after a 0xFF byte; past
/// its end, ones. Gives one event (is the quad significant / are both `u` above 2) at a
/// time.
struct Mel<'a> {
    data: &'a [u8],
    pos: usize,
    byte: u32,
    left: u32,
    state: usize,
    /// Zero events still to give, and whether a one event follows them.
    zeros: u32,
    one_after: bool,
}

impl<'a> Mel<'a> {
    fn new(data: &'a [u8]) -> Self {
        Mel {
            data,
            pos: 0,
            byte: 0,
            left: 0,
            state: 0,
            zeros: 0,
            one_after: false,
        }
    }

    #[inline]
    fn bit(&mut self) -> u32 {
        if self.left == 0 {
            let stuffed = self.byte == 0xFF;
            self.byte = match self.data.get(self.pos) {
                Some(&b) => {
                    self.pos += 1;
                    u32::from(b)
                }
                None => 0xFF,
            };
            self.left = 8 - u32::from(stuffed);
        }
        self.left -= 1;
        (self.byte >> self.left) & 1
    }

    #[inline(always)]
    fn event(&mut self) -> bool {
        loop {
            if self.zeros > 0 {
                self.zeros -= 1;
                return false;
            }
            if self.one_after {
                self.one_after = false;
                return true;
            }
            let e = MEL_EXP[self.state];
            if self.bit() == 1 {
                self.zeros = 1 << e;
                self.state = (self.state + 1).min(12);
            } else {
                let mut run = 0;
                for _ in 0..e {
                    run = (run << 1) | self.bit();
                }
                self.zeros = run;
                self.one_after = true;
                self.state = self.state.saturating_sub(1);
            }
        }
    }
}

/// The VLC stream, read backward from the segment's end, least significant bit first; a
/// byte read after one above 0x8F gives 7 bits when its low 7 are all ones. Past its
/// start, zeros.
struct Vlc<'a> {
    data: &'a [u8],
    /// The next byte to read is `data[pos - 1]`.
    pos: usize,
    acc: u64,
    bits: u32,
    prev: u8,
}

impl<'a> Vlc<'a> {
    /// `data`: the MEL and VLC bytes (at least 2); the last byte and the low nibble of
    /// the one before hold Scup, read as ones.
    fn new(data: &'a [u8]) -> Self {
        let n = data.len();
        let byte = data[n - 2] | 0x0F;
        let take = if byte & 0x7F == 0x7F { 7 } else { 8 };
        Vlc {
            data,
            pos: n - 2,
            acc: u64::from(byte >> 4) & ((1 << (take - 4)) - 1),
            bits: take - 4,
            prev: byte,
        }
    }

    /// More bits in hand: at least 32 (every read takes at most that many), more when
    /// bytes are read one at a time.
    #[inline(always)]
    fn refill(&mut self) {
        // Four bytes at once when none ends in seven 1s (none can then be unstuffed,
        // whatever came before it): the usual case, tested on the word at once. They
        // make 32 bits at least; the byte loop is for the rest.
        if self.bits <= 32 && self.pos >= 4 {
            let word = u32::from_be_bytes(self.data[self.pos - 4..self.pos].try_into().unwrap());
            let x = (word & 0x7F7F_7F7F) ^ 0x7F7F_7F7F; // a zero byte: seven 1s there
            if x.wrapping_sub(0x0101_0101) & !x & 0x8080_8080 == 0 {
                self.acc |= u64::from(word) << self.bits;
                self.bits += 32;
                self.pos -= 4;
                self.prev = (word >> 24) as u8;
                return;
            }
        }
        while self.bits <= 56 {
            let byte = if self.pos > 0 {
                self.pos -= 1;
                self.data[self.pos]
            } else {
                0
            };
            let n = if self.prev > 0x8F && byte & 0x7F == 0x7F {
                7
            } else {
                8
            };
            self.acc |= (u64::from(byte) & ((1 << n) - 1)) << self.bits;
            self.bits += n;
            self.prev = byte;
        }
    }

    #[inline]
    fn peek(&mut self, n: u32) -> u32 {
        if self.bits < n {
            self.refill();
        }
        (self.acc & ((1u64 << n) - 1)) as u32
    }

    #[inline]
    fn skip(&mut self, n: u32) {
        self.acc >>= n;
        self.bits -= n;
    }

    #[inline]
    fn take(&mut self, n: u32) -> u32 {
        let v = self.peek(n);
        self.skip(n);
        v
    }

    /// At least `n` bits (at most 32) in hand, for the reads of [`Vlc::look`].
    #[inline(always)]
    fn ensure(&mut self, n: u32) {
        if self.bits < n {
            self.refill();
        }
    }

    /// The next `n` bits, when [`Vlc::ensure`] made them there (`READY`), or read now.
    #[inline(always)]
    fn look<const READY: bool>(&mut self, n: u32) -> u32 {
        if READY {
            (self.acc & ((1u64 << n) - 1)) as u32
        } else {
            self.peek(n)
        }
    }

    /// A quad's codeword in `context`: the table's entry (see build.rs).
    #[inline]
    fn codeword<const READY: bool>(
        &mut self,
        table: &[u16; 1024],
        context: u32,
    ) -> Result<u32, &'static str> {
        let entry = u32::from(table[((context << 7) | self.look::<READY>(7)) as usize]);
        let len = entry & 7;
        if len == 0 {
            return Err("an HT VLC codeword that no table row matches");
        }
        self.skip(len);
        Ok(entry)
    }

    /// The `u` values of a pair of quads in a later row, `pattern` saying which has one
    /// (bit 0 the first): both prefixes, then both suffixes, in one lookup of
    /// [`U_PAIRS`].
    /// At most 16 bits, which `READY` says are in hand.
    #[inline(always)]
    fn u_pair<const READY: bool>(&mut self, pattern: u32) -> [u32; 2] {
        // Pattern 0 too (no branch the data decide): its entries read nothing, give 0s.
        let e = U_PAIRS[((pattern << 6) | self.look::<READY>(6)) as usize];
        self.skip(e & 7);
        let (l0, l1) = (e >> 12 & 7, e >> 16 & 7);
        let suffixes = self.look::<READY>(l0 + l1);
        self.skip(l0 + l1);
        [
            (e >> 4 & 7) + (suffixes & ((1 << l0) - 1)),
            (e >> 8 & 7) + (suffixes >> l0),
        ]
    }

    /// A `u` prefix: (value before the suffix, suffix length).
    #[inline]
    fn prefix(&mut self) -> (u32, u32) {
        let (len, value, suffix) = prefix_of(self.peek(3));
        self.skip(len);
        (value, suffix)
    }
}

/// A `u` prefix (T.814 U-VLC) read from the low bits of `bits`: (length, value before
/// the suffix, suffix length); [`Vlc::prefix`] and [`U_PAIRS`] both read it so.
const fn prefix_of(bits: u32) -> (u32, u32, u32) {
    if bits & 1 != 0 {
        (1, 1, 0)
    } else if bits & 2 != 0 {
        (2, 2, 0)
    } else if bits & 4 != 0 {
        (3, 3, 1)
    } else {
        (3, 5, 5)
    }
}

/// For a pair's `u` pattern (bits 6-7: which quads have a `u`) and the next 6 VLC bits:
/// the prefixes' total length, each quad's value before its suffix (bits 4 and 8), and
/// each suffix length (bits 12 and 16).
static U_PAIRS: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let (pattern, bits) = (i as u32 >> 6, i as u32 & 0x3F);
        let mut used = 0;
        let (mut b0, mut l0, mut b1, mut l1) = (0, 0, 0, 0);
        if pattern & 1 != 0 {
            let (n, b, l) = prefix_of(bits);
            used = n;
            b0 = b;
            l0 = l;
        }
        if pattern & 2 != 0 {
            let (n, b, l) = prefix_of(bits >> used);
            used += n;
            b1 = b;
            l1 = l;
        }
        t[i] = used | b0 << 4 | b1 << 8 | l0 << 12 | l1 << 16;
        i += 1;
    }
    t
};

/// A decoded quad: its significance pattern and the codeword's entry.
#[derive(Clone, Copy, Default)]
struct Quad {
    rho: u32,
    entry: u32,
}

impl Quad {
    fn u_off(&self) -> bool {
        self.entry >> 7 & 1 != 0
    }
}

/// Reusable state of the block decoder (one per thread).
#[derive(Default)]
pub(crate) struct BlockDecoder {
    rows: QuadRows,
    /// The bottom row of a block of odd height's last quad row.
    spare: Vec<i32>,
}

/// A build of [`BlockDecoder::decode_any`] for the processor features named (an
/// `unsafe fn`: only where they were found).
macro_rules! build {
    ($(#[$doc:meta])* $name:ident, $features:literal, $vector:literal) => {
        $(#[$doc])*
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        #[allow(clippy::too_many_arguments)]
        pub(super) unsafe fn $name(
            &mut self,
            seg: &[u8],
            w: usize,
            h: usize,
            shift: u32,
            half: bool,
            dst: &mut [i32],
            stride: usize,
        ) -> Result<(), &'static str> {
            self.decode_any::<$vector>(seg, w, h, shift, half, dst, stride)
        }
    };
}

impl BlockDecoder {
    /// Decode the segment `seg` of a `w` x `h` block into `dst` (rows `stride` apart):
    /// each coefficient is its magnitude shifted left by `shift`, with the bit below it
    /// set when `half` (mid-point reconstruction), and its sign.
    ///
    /// Where the processor has them (checked once), compiled for BMI1/BMI2, LZCNT and
    /// POPCNT: the decoder is mostly variable shifts and masks of bit fields (`shrx`,
    /// `bzhi`, no shift count held in one register) and exponents (`lzcnt`); 4-6% of a
    /// frame's decoding on this project's VM; and a quad's MagSgn bits are counted by
    /// `popcnt` (a dozen instructions without it: 4-6% more, 2026-12-06). With AVX2 as well, a quad's magnitudes in one
    /// vector ([`Samples::put_vector`]): 2-3% more. The same source every way.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn decode(
        &mut self,
        seg: &[u8],
        w: usize,
        h: usize,
        shift: u32,
        half: bool,
        dst: &mut [i32],
        stride: usize,
    ) -> Result<(), &'static str> {
        #[cfg(target_arch = "x86_64")]
        match features() {
            // SAFETY: the features each is compiled for were found on this processor.
            Features::Vector => {
                return unsafe { self.decode_vector(seg, w, h, shift, half, dst, stride) }
            }
            Features::BitFields => {
                return unsafe { self.decode_bit_fields(seg, w, h, shift, half, dst, stride) }
            }
            Features::Baseline => {}
        }
        self.decode_any::<false>(seg, w, h, shift, half, dst, stride)
    }

    build! {
        /// [`BlockDecoder::decode`] compiled for AVX2 as well: a quad's four magnitudes
        /// taken from MagSgn and made coefficients in one vector
        /// ([`Samples::put_vector`]).
        decode_vector, "avx2,bmi1,bmi2,lzcnt,popcnt", true
    }

    build! {
        /// [`BlockDecoder::decode`] compiled for BMI1, BMI2, LZCNT and POPCNT.
        decode_bit_fields, "bmi1,bmi2,lzcnt,popcnt", false
    }

    /// The one source of every build (the tests call it for the portable one).
    /// `VECTOR` runs AVX2 code: meant for [`BlockDecoder::decode_vector`], and the
    /// portable code where the processor has no AVX2.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn decode_any<const VECTOR: bool>(
        &mut self,
        seg: &[u8],
        w: usize,
        h: usize,
        shift: u32,
        half: bool,
        dst: &mut [i32],
        stride: usize,
    ) -> Result<(), &'static str> {
        #[cfg(target_arch = "x86_64")]
        if VECTOR && !crate::cpu::vector() {
            return self.decode_any::<false>(seg, w, h, shift, half, dst, stride);
        }
        let lcup = seg.len();
        if lcup < 2 {
            return Err("an HT segment shorter than 2 bytes");
        }
        let scup = (usize::from(seg[lcup - 1]) << 4) | usize::from(seg[lcup - 2] & 0xF);
        if scup < 2 || scup > lcup || scup > 4079 {
            return Err("an HT segment whose MEL and VLC length (Scup) is out of range");
        }
        if w == 0 || h == 0 || w > 1024 || h > 1024 || w * h > 4096 || stride < w {
            return Err("an HT code-block of a size T.814 does not allow");
        }
        if dst.len() < (h - 1) * stride + w {
            return Err("an HT code-block outside its band");
        }
        let pcup = lcup - scup;
        let mut streams = Streams {
            ms: MagSgn::new(&seg[..pcup]),
            mel: Mel::new(&seg[pcup..]),
            vlc: Vlc::new(&seg[pcup..]),
        };
        let samples = Samples {
            shift,
            half: if half && shift > 0 {
                1i32 << (shift - 1)
            } else {
                0
            },
            // The most magnitude bits a coefficient may have once shifted.
            max_u: 31u32.saturating_sub(shift),
        };
        self.rows.reset(w);
        // Lossless blocks (every bit-plane, no reconstruction offset) take a leaner path.
        let shifted = samples.shift != 0 || samples.half != 0;
        // The bottom row of the last quad row when `h` is odd: written, never read.
        self.spare.resize(w, 0);

        let mut y = 0;
        while y < h {
            let (top, bottom): (&mut [i32], &mut [i32]) = if y + 1 < h {
                let (a, b) = dst[y * stride..].split_at_mut(stride);
                (&mut a[..w], &mut b[..w])
            } else {
                (&mut dst[y * stride..y * stride + w], &mut self.spare[..w])
            };
            let mut rows = Rows {
                top,
                bottom,
                quads: &mut self.rows,
            };
            if y == 0 {
                if shifted {
                    initial_row::<true, VECTOR>(&mut streams, &samples, &mut rows, w)?;
                } else {
                    initial_row::<false, VECTOR>(&mut streams, &samples, &mut rows, w)?;
                }
            } else {
                if shifted {
                    later_row::<true, VECTOR>(&mut streams, &samples, &mut rows, w)?;
                } else {
                    later_row::<false, VECTOR>(&mut streams, &samples, &mut rows, w)?;
                }
            }
            self.rows.advance();
            y += 2;
        }
        Ok(())
    }
}

/// The segment's three streams.
struct Streams<'a> {
    vlc: Vlc<'a>,
    mel: Mel<'a>,
    ms: MagSgn<'a>,
}

/// How magnitudes become coefficients.
struct Samples {
    shift: u32,
    half: i32,
    max_u: u32,
}

/// Where a quad row's samples go: its two rows of the block, and the quad rows' record
/// of exponents and significance.
struct Rows<'r> {
    top: &'r mut [i32],
    bottom: &'r mut [i32],
    quads: &'r mut QuadRows,
}

impl Rows<'_> {
    /// A quad's four coefficients (in sample order: left column top, bottom, then the
    /// right column) at column `x`: both columns, or the left one at an odd width's end.
    #[inline(always)]
    fn put(&mut self, x: usize, values: [i32; 4]) {
        if let (Some(t), Some(b)) = (self.top.get_mut(x..x + 2), self.bottom.get_mut(x..x + 2)) {
            t.copy_from_slice(&[values[0], values[2]]);
            b.copy_from_slice(&[values[1], values[3]]);
        } else {
            self.top[x] = values[0];
            self.bottom[x] = values[1];
        }
    }
}

impl Samples {
    /// The quad `q` at column `x`, its exponent bound `big_u`: its magnitude bits from
    /// MagSgn, its coefficients into `rows`.
    #[inline(always)]
    fn put<const SHIFTED: bool, const VECTOR: bool>(
        &self,
        ms: &mut MagSgn<'_>,
        rows: &mut Rows<'_>,
        q: Quad,
        big_u: u32,
        x: usize,
    ) -> Result<(), &'static str> {
        if q.rho == 0 {
            // No significant sample (most quads of the fine bands): no bits to read.
            rows.put(x, [0; 4]);
            rows.quads.note(x, 0, 0);
            return Ok(());
        }
        if big_u > self.max_u {
            return Err("an HT coefficient with more bits than the band allows");
        }
        #[cfg(target_arch = "x86_64")]
        if VECTOR && big_u <= 14 {
            // SAFETY: VECTOR only where the processor has AVX2 (`decode_any`).
            unsafe { self.put_vector::<SHIFTED>(ms, rows, q, big_u, x) };
            return Ok(());
        }
        let (ek, e1) = (q.entry >> 8 & 0xF, q.entry >> 12 & 0xF);
        // Insignificant samples: no bits (and no EMB bits: e_1 and e_k are within rho);
        // masks rather than branches or multiplications.
        let sig: [u32; 4] = std::array::from_fn(|n| 0u32.wrapping_sub(q.rho >> n & 1));
        let m: [u32; 4] = std::array::from_fn(|n| (big_u - (ek >> n & 1)) & sig[n]);
        let raw = if big_u <= 14 {
            ms.take4(m)
        } else {
            [ms.take(m[0]), ms.take(m[1]), ms.take(m[2]), ms.take(m[3])]
        };
        let mut values = [0i32; 4];
        let mut exps = [0u8; 4];
        for n in 0..4 {
            let v = raw[n] | ((e1 >> n & 1) << m[n]);
            exps[n] = ((32 - (v | 1).leading_zeros()) & sig[n]) as u8;
            let mu = (v >> 1) + 1;
            let mag = if SHIFTED {
                (mu << self.shift) as i32 | self.half
            } else {
                mu as i32
            } & sig[n] as i32;
            let neg = -((v & 1) as i32);
            values[n] = (mag ^ neg) - neg;
        }
        rows.put(x, values);
        rows.quads.note(x, exps[1], exps[3]);
        Ok(())
    }
}

#[cfg(target_arch = "x86_64")]
impl Samples {
    /// [`Samples::put`] of a significant quad whose exponent bound `big_u` is at most
    /// 14 (its fields, at most 56 bits, in one refill): [`Samples::vector_fields`] with
    /// no second quad, its two columns stored.
    ///
    /// Inlined into [`BlockDecoder::decode_vector`] (whose features its intrinsics
    /// need), as memchr builds its vector code; a call per quad would cost more than
    /// it saves.
    ///
    /// # Safety
    /// Only where AVX2 was found on this processor.
    #[inline(always)]
    unsafe fn put_vector<const SHIFTED: bool>(
        &self,
        ms: &mut MagSgn<'_>,
        rows: &mut Rows<'_>,
        q: Quad,
        big_u: u32,
        x: usize,
    ) {
        use std::arch::x86_64::*;
        let (by_row, e) = self.vector_fields::<SHIFTED>(ms, [q, Quad::default()], [big_u, 0]);
        // The top row's samples are lanes 0-1 of `by_row`, the bottom row's lanes 4-5.
        let top = _mm256_castsi256_si128(by_row);
        let bottom = _mm256_extracti128_si256::<1>(by_row);
        if let (Some(t), Some(b)) = (rows.top.get_mut(x..x + 2), rows.bottom.get_mut(x..x + 2)) {
            _mm_storel_epi64(t.as_mut_ptr() as *mut __m128i, top);
            _mm_storel_epi64(b.as_mut_ptr() as *mut __m128i, bottom);
        } else {
            rows.top[x] = _mm_cvtsi128_si32(top);
            rows.bottom[x] = _mm_cvtsi128_si32(bottom);
        }
        rows.quads.note(x, e[0], e[1]);
    }

    /// [`Samples::put`] of a pair of quads side by side (columns `x` to `x + 3`, all in
    /// the block) in one vector ([`Samples::vector_fields`]), when each exponent bound
    /// `big_u` is at most 14 (and within the band's) and their fields together hold at
    /// most 56 bits (one refill): each row's four coefficients in one store. False,
    /// nothing read, otherwise.
    ///
    /// # Safety
    /// Only where AVX2 was found on this processor.
    #[inline(always)]
    unsafe fn put_pair_vector<const SHIFTED: bool>(
        &self,
        ms: &mut MagSgn<'_>,
        rows: &mut Rows<'_>,
        q: [Quad; 2],
        big_u: [u32; 2],
        x: usize,
    ) -> bool {
        use std::arch::x86_64::*;
        let limit = self.max_u.min(14);
        if big_u[0] > limit || big_u[1] > limit || bits(q[0], big_u[0]) + bits(q[1], big_u[1]) > 56
        {
            return false;
        }
        let (Some(top), Some(bottom)) = (rows.top.get_mut(x..x + 4), rows.bottom.get_mut(x..x + 4))
        else {
            return false;
        };
        if q[0].rho | q[1].rho == 0 {
            // No significant sample (most pairs of the fine bands): no bits to read.
            top.fill(0);
            bottom.fill(0);
            rows.quads.note(x, 0, 0);
            rows.quads.note(x + 2, 0, 0);
            return true;
        }
        let (by_row, e) = self.vector_fields::<SHIFTED>(ms, q, big_u);
        _mm_storeu_si128(
            top.as_mut_ptr() as *mut __m128i,
            _mm256_castsi256_si128(by_row),
        );
        _mm_storeu_si128(
            bottom.as_mut_ptr() as *mut __m128i,
            _mm256_extracti128_si256::<1>(by_row),
        );
        rows.quads.note(x, e[0], e[1]);
        rows.quads.note(x + 2, e[2], e[3]);
        true
    }

    /// Two quads' coefficients from MagSgn (at most 56 bits of fields in all, taken from
    /// one refill), in the eight 32-bit lanes of one vector: the four fields of each
    /// sample's magnitude bits cut out of the 64-bit window by variable shifts at offsets
    /// from a prefix sum over the lanes, then each lane's magnitude and sign at once.
    /// Returns the coefficients by row (lanes 0-3: the top row's four samples, quad 0's
    /// two columns then quad 1's; lanes 4-7: the bottom row's) and the exponents of the
    /// bottom row's samples (quad 0's left and right, then quad 1's), for the next row's
    /// kappa. A quad with no significant sample (`rho` 0) takes no bits and gives zeros.
    ///
    /// # Safety
    /// Only where AVX2 was found on this processor.
    #[inline(always)]
    unsafe fn vector_fields<const SHIFTED: bool>(
        &self,
        ms: &mut MagSgn<'_>,
        q: [Quad; 2],
        big_u: [u32; 2],
    ) -> (std::arch::x86_64::__m256i, [u8; 4]) {
        use std::arch::x86_64::*;
        let total = bits(q[0], big_u[0]) + bits(q[1], big_u[1]);
        ms.refill();
        let acc = ms.acc;
        ms.acc >>= total;
        ms.bits -= total;

        let field = |q: Quad, shift: u32| (q.entry >> shift & 0xF) as i32;
        let lane = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
        let one = _mm256_set1_epi32(1);
        let has = |bits: i32| {
            let b = _mm256_and_si256(_mm256_set1_epi32(bits), lane);
            _mm256_cmpeq_epi32(b, lane) // all ones where the lane's bit is set
        };
        let sig = has((q[0].rho | q[1].rho << 4) as i32);
        let ek = field(q[0], 8) | field(q[1], 8) << 4;
        let e1 = field(q[0], 12) | field(q[1], 12) << 4;
        // m = U, less one where e_k's bit is set; none where insignificant.
        let (u0, u1) = (big_u[0] as i32, big_u[1] as i32);
        let m = _mm256_and_si256(
            _mm256_add_epi32(_mm256_setr_epi32(u0, u0, u0, u0, u1, u1, u1, u1), has(ek)),
            sig,
        );
        // Each field's offset: the sum of the fields before it (each half's prefix sums,
        // the first half's total added to the second's).
        let s1 = _mm256_add_epi32(m, _mm256_slli_si256::<4>(m));
        let s2 = _mm256_add_epi32(s1, _mm256_slli_si256::<8>(s1));
        let carry = _mm256_permutevar8x32_epi32(s2, _mm256_setr_epi32(7, 7, 7, 7, 3, 3, 3, 3));
        let carry = _mm256_blend_epi32::<0b1111_0000>(_mm256_setzero_si256(), carry);
        let at = _mm256_sub_epi32(_mm256_add_epi32(s2, carry), m);
        // The field at `at` (< 56) of the 64-bit window: shifts of 32 or more give 0.
        let lo = _mm256_set1_epi32(acc as u32 as i32);
        let hi = _mm256_set1_epi32((acc >> 32) as u32 as i32);
        let thirty_two = _mm256_set1_epi32(32);
        let fields = _mm256_or_si256(
            _mm256_or_si256(
                _mm256_srlv_epi32(lo, at),
                _mm256_sllv_epi32(hi, _mm256_sub_epi32(thirty_two, at)),
            ),
            _mm256_srlv_epi32(hi, _mm256_sub_epi32(at, thirty_two)),
        );
        let low_m = _mm256_sub_epi32(_mm256_sllv_epi32(one, m), one);
        let raw = _mm256_and_si256(fields, low_m);
        // e_1's bit above the field.
        let v = _mm256_or_si256(raw, _mm256_sllv_epi32(_mm256_and_si256(has(e1), one), m));
        let mu = _mm256_add_epi32(_mm256_srli_epi32::<1>(v), one);
        let mag = if SHIFTED {
            _mm256_or_si256(
                _mm256_sll_epi32(mu, _mm_cvtsi32_si128(self.shift as i32)),
                _mm256_set1_epi32(self.half),
            )
        } else {
            mu
        };
        let mag = _mm256_and_si256(mag, sig);
        let neg = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_and_si256(v, one));
        let values = _mm256_sub_epi32(_mm256_xor_si256(mag, neg), neg);
        // Exponents of the bottom row's samples (lanes 1, 3, 5, 7): 32 - lzcnt(v | 1),
        // from the exponent of v | 1 as a float (exact: v < 2^15).
        let float_exp = _mm256_srli_epi32::<23>(_mm256_castps_si256(_mm256_cvtepi32_ps(
            _mm256_or_si256(v, one),
        )));
        let exps = _mm256_and_si256(_mm256_sub_epi32(float_exp, _mm256_set1_epi32(126)), sig);
        let odd = _mm256_permutevar8x32_epi32(exps, _mm256_setr_epi32(1, 3, 5, 7, 1, 3, 5, 7));
        let four = _mm_cvtsi128_si32(_mm_shuffle_epi8(
            _mm256_castsi256_si128(odd),
            _mm_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1),
        )) as u32;
        // Sample order (per quad: left column top, bottom, right column top, bottom) to
        // rows: the top row's four, then the bottom row's.
        let by_row = _mm256_permutevar8x32_epi32(values, _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
        (by_row, four.to_le_bytes())
    }
}

/// How many MagSgn bits the quad `q` of exponent bound `big_u` takes: `big_u` for each
/// significant sample, one less where its e_k bit is set.
#[inline(always)]
fn bits(q: Quad, big_u: u32) -> u32 {
    let ek = q.entry >> 8 & 0xF;
    big_u * q.rho.count_ones() - (ek & q.rho).count_ones()
}

/// The initial row of quads: contexts from the left quad only, kappa 1, and the MEL's
/// say on a pair's `u` values.
#[inline(always)]
fn initial_row<const SHIFTED: bool, const VECTOR: bool>(
    st: &mut Streams<'_>,
    samples: &Samples,
    rows: &mut Rows<'_>,
    w: usize,
) -> Result<(), &'static str> {
    let Streams { vlc, mel, ms } = st;
    let mut left_rho = 0u32;
    let mut x = 0;
    while x < w {
        let c0 = (left_rho >> 1) | (left_rho & 1);
        let q0 = quad::<false>(vlc, mel, &VLC_DEC_INITIAL, c0)?;
        let mut q1 = Quad::default();
        let two = x + 2 < w;
        if two {
            let c1 = (q0.rho >> 1) | (q0.rho & 1);
            q1 = quad::<false>(vlc, mel, &VLC_DEC_INITIAL, c1)?;
            left_rho = q1.rho;
        } else {
            left_rho = q0.rho;
        }
        let (mut u0, mut u1) = (0, 0);
        match (q0.u_off(), q1.u_off()) {
            (true, true) => {
                if mel.event() {
                    let (b0, l0) = vlc.prefix();
                    let (b1, l1) = vlc.prefix();
                    u0 = 2 + b0 + vlc.take(l0);
                    u1 = 2 + b1 + vlc.take(l1);
                } else {
                    let (b0, l0) = vlc.prefix();
                    if b0 > 2 {
                        u1 = 1 + vlc.take(1);
                        u0 = b0 + vlc.take(l0);
                    } else {
                        let (b1, l1) = vlc.prefix();
                        u0 = b0;
                        u1 = b1 + vlc.take(l1);
                    }
                }
            }
            (true, false) => {
                let (b0, l0) = vlc.prefix();
                u0 = b0 + vlc.take(l0);
            }
            (false, true) => {
                let (b1, l1) = vlc.prefix();
                u1 = b1 + vlc.take(l1);
            }
            (false, false) => {}
        }
        samples.put::<SHIFTED, VECTOR>(ms, rows, q0, 1 + u0, x)?;
        if two {
            samples.put::<SHIFTED, VECTOR>(ms, rows, q1, 1 + u1, x + 2)?;
        }
        x += 4;
    }
    Ok(())
}

/// A later row of quads: contexts from the row above and the left quad; kappa from the
/// exponents above when the quad has two or more significant samples.
#[inline(always)]
fn later_row<const SHIFTED: bool, const VECTOR: bool>(
    st: &mut Streams<'_>,
    samples: &Samples,
    rows: &mut Rows<'_>,
    w: usize,
) -> Result<(), &'static str> {
    let Streams { vlc, mel, ms } = st;
    let mut left_rho = 0u32;
    let mut x = 0;
    while x < w {
        // A pair's VLC bits (two codewords of at most 7, its u values' at most 16) in
        // hand at once.
        vlc.ensure(32);
        let q0 = quad::<true>(vlc, mel, &VLC_DEC_LATER, rows.quads.context(x, left_rho))?;
        let k0 = rows.quads.kappa(x, q0.rho);
        let two = x + 2 < w;
        let (mut q1, mut k1) = (Quad::default(), 1);
        left_rho = q0.rho;
        if two {
            q1 = quad::<true>(vlc, mel, &VLC_DEC_LATER, rows.quads.context(x + 2, q0.rho))?;
            k1 = rows.quads.kappa(x + 2, q1.rho);
            left_rho = q1.rho;
        }
        let us = vlc.u_pair::<true>(u32::from(q0.u_off()) | u32::from(q1.u_off()) << 1);
        #[cfg(target_arch = "x86_64")]
        if VECTOR && x + 4 <= w {
            // SAFETY: VECTOR only where the processor has AVX2 (`decode_any`).
            if unsafe {
                samples.put_pair_vector::<SHIFTED>(ms, rows, [q0, q1], [k0 + us[0], k1 + us[1]], x)
            } {
                x += 4;
                continue;
            }
        }
        samples.put::<SHIFTED, VECTOR>(ms, rows, q0, k0 + us[0], x)?;
        if two {
            samples.put::<SHIFTED, VECTOR>(ms, rows, q1, k1 + us[1], x + 2)?;
        }
        x += 4;
    }
    Ok(())
}

/// A quad's significance and codeword in `context`: context 0 asks MEL first whether the
/// quad is significant at all (no codeword when it is not).
#[inline(always)]
fn quad<const READY: bool>(
    vlc: &mut Vlc<'_>,
    mel: &mut Mel<'_>,
    table: &[u16; 1024],
    context: u32,
) -> Result<Quad, &'static str> {
    if context == 0 && !mel.event() {
        return Ok(Quad::default());
    }
    let entry = vlc.codeword::<READY>(table, context)?;
    Ok(Quad {
        rho: entry >> 3 & 0xF,
        entry,
    })
}
