//! Bit-level access to entropy-coded segments: byte stuffing (T.81 B.1.1.5: a 0xFF data byte
//! is followed by 0x00), fill bytes before markers (B.1.1.2), restart markers (B.2.1, E.1.4)
//! and the padding of the last byte with 1-bits (F.1.2.3).

use super::huffman::{extend, EncTable, HuffTable, LOOKUP_BITS, NEAR, PAIR_BITS};
use super::markers::RST0;
use crate::CodecError;

/// Reads bits MSB-first from an entropy-coded segment. Past a marker or the end of the data it
/// supplies zero bits and counts them, so that decoding loops need no end checks; the caller
/// asks [`BitReader::overrun`] at the end of each interval. `Copy`, so that a hot loop can
/// work on a local copy (kept in registers) and store it back.
#[derive(Clone, Copy)]
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// Next byte to load.
    pos: usize,
    /// Bits, left-aligned: the next bit is bit 63. Bits below `nbits` are either zero or the
    /// true following bits.
    acc: u64,
    nbits: u32,
    /// Offset of the 0xFF of the marker (or the data end) that ended the segment.
    end: Option<usize>,
    /// Zero bytes supplied after `end`.
    zeros: u32,
}

/// A table resolving several differences per lookup, stepping within a window of `W`
/// differences (8 for pairs, 16 when triples may be in play: four lookups of up to three).
trait Multi: Copy {
    /// One lookup into `w[*k..]`, advancing `*k`; false (nothing consumed) for a code
    /// longer than the table resolves. Both slots (all three) are written; those past the
    /// differences resolved are overwritten next.
    fn step<const W: usize>(self, r: &mut BitReader, w: &mut [i16; W], k: &mut usize) -> bool;
}

/// Differences a pair entry resolves, from its low byte `count << 6 | bits consumed`.
#[inline(always)]
fn resolved(low: u32) -> usize {
    ((low >> 6) & 3) as usize
}

/// The pair table ([`HuffTable::pairs`] entries).
#[derive(Clone, Copy)]
struct Pairs<'t>(&'t [u32; 1 << PAIR_BITS]);

impl Multi for Pairs<'_> {
    #[inline(always)]
    fn step<const W: usize>(self, r: &mut BitReader, w: &mut [i16; W], k: &mut usize) -> bool {
        let e = self.0[r.peek_table()];
        if !r.consume(e & 0xFF) {
            return false;
        }
        // Three earlier lookups of two at most: *k is at most 6 (of 8) or 9 (of 16).
        w[*k & (W - 1)] = (((e << 13) as i32) >> 21) as i16;
        w[(*k + 1) & (W - 1)] = ((e as i32) << 2 >> 21) as i16;
        *k += resolved(e & 0xFF);
        true
    }
}

/// The triple table ([`HuffTable::triple`] entries); only with a window of 16.
#[derive(Clone, Copy)]
struct Triples<'t>(&'t [u64; 1 << PAIR_BITS]);

impl Multi for Triples<'_> {
    #[inline(always)]
    fn step<const W: usize>(self, r: &mut BitReader, w: &mut [i16; W], k: &mut usize) -> bool {
        let e = self.0[r.peek_table()];
        let count = usize::from((e >> 8) as u8);
        if count == 0 {
            return false;
        }
        r.skip(u32::from(e as u8));
        // The three differences (and a zero) in one 8-byte store: three earlier lookups of
        // three at most leave *k at 9 at most, so the four slots lie within the window.
        assert!(*k + 4 <= W);
        // SAFETY: `*k + 4 <= W` slots of i16 are within `w`; unaligned store.
        unsafe {
            w.as_mut_ptr()
                .add(*k)
                .cast::<u64>()
                .write_unaligned((e >> 16).to_le());
        }
        *k += count;
        true
    }
}

/// Whether any byte of `w` is 0xFF.
#[inline(always)]
fn has_ff(w: u64) -> bool {
    let x = !w;
    (x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080) != 0
}

impl<'a> BitReader<'a> {
    pub fn new(data: &'a [u8], pos: usize) -> Self {
        BitReader {
            data,
            pos,
            acc: 0,
            nbits: 0,
            end: None,
            zeros: 0,
        }
    }

    /// Index into a pair or triple table: the next PAIR_BITS bits.
    #[inline(always)]
    fn peek_table(&self) -> usize {
        (self.acc >> (64 - PAIR_BITS)) as usize
    }

    /// Consume the bits of a pair entry from its low byte (`count << 6 | bits consumed`);
    /// false, consuming nothing, for count 0 (a longer code).
    #[inline(always)]
    fn consume(&mut self, low: u32) -> bool {
        if resolved(low) == 0 {
            return false;
        }
        self.skip(low & 63);
        true
    }

    /// Drop `bits` consumed bits (fewer than the `nbits` held).
    #[inline(always)]
    fn skip(&mut self, bits: u32) {
        self.acc <<= bits;
        self.nbits -= bits;
    }

    /// Make at least 56 bits available.
    #[inline(always)]
    fn refill(&mut self) {
        if self.end.is_none() {
            if let Some(b) = self.data.get(self.pos..self.pos + 8) {
                let w = u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
                if !has_ff(w) {
                    // No marker or stuffing in the next 8 bytes: take whole bytes, leaving the
                    // true following bits below `nbits`.
                    self.acc |= w >> self.nbits;
                    self.pos += ((63 - self.nbits) >> 3) as usize;
                    self.nbits |= 56;
                    return;
                }
            }
        }
        *self = self.refill_slow();
    }

    /// Byte by byte (markers, stuffing, the end). Takes and returns the reader by value, so
    /// that a caller's local copy is never address-taken and can live in registers.
    #[cold]
    #[inline(never)]
    fn refill_slow(mut self) -> Self {
        while self.nbits <= 56 {
            let byte = self.next_byte();
            self.acc |= u64::from(byte) << (56 - self.nbits);
            self.nbits += 8;
        }
        self
    }

    fn next_byte(&mut self) -> u8 {
        if self.end.is_some() {
            self.zeros += 1;
            return 0;
        }
        let d = self.data;
        let Some(&b) = d.get(self.pos) else {
            self.end = Some(d.len());
            self.zeros += 1;
            return 0;
        };
        if b != 0xFF {
            self.pos += 1;
            return b;
        }
        let mut p = self.pos + 1;
        while p < d.len() && d[p] == 0xFF {
            p += 1;
        }
        match d.get(p) {
            Some(0) => {
                self.pos = p + 1;
                0xFF
            }
            Some(_) => {
                self.pos = p - 1;
                self.end = Some(p - 1);
                self.zeros += 1;
                0
            }
            None => {
                self.end = Some(self.pos);
                self.zeros += 1;
                0
            }
        }
    }

    /// True once more bits were consumed than the segment holds.
    pub fn overrun(&self) -> bool {
        self.zeros * 8 > self.nbits
    }

    /// Decode one difference value (H.1.2.2, F.2.2.1 EXTEND, Table H.2).
    #[inline(always)]
    pub fn diff(&mut self, t: &HuffTable) -> Result<i32, CodecError> {
        if self.nbits < 32 {
            self.refill();
        }
        let e = t.fast((self.acc >> (64 - LOOKUP_BITS)) as usize);
        let consumed = e & 0xFF;
        if consumed != 0 {
            // Code and additional bits resolved by the lookahead.
            self.skip(consumed);
            return Ok(i32::from((e >> 16) as u16 as i16));
        }
        let (len, s) = if e != 0 {
            ((e >> 8) & 0xFF, e >> 16)
        } else {
            match t.decode_slow((self.acc >> 48) as u32) {
                Some(x) => x,
                None => return Err(self.bad_code()),
            }
        };
        if s == 16 {
            // SSSS 16: difference 32768, no additional bits (H.1.2.2).
            self.skip(len);
            return Ok(32768);
        }
        let total = len + s;
        let v = ((self.acc >> (64 - total)) as u32) & ((1u32 << s) - 1);
        self.skip(total);
        Ok(extend(v, s))
    }

    /// Decode `out.len()` differences that all use table `t`: after each refill, four
    /// lookups in its pair (or triple) table, at most 48 bits, within the 56 a refill
    /// leaves; longer codes through [`Self::diff`].
    pub fn diffs(&mut self, t: &HuffTable, out: &mut [i16]) -> Result<(), CodecError> {
        match t.triple() {
            Some(x) => self.diffs_with::<_, 16>(Triples(x), t, out),
            None => self.diffs_with::<_, 8>(Pairs(t.pairs()), t, out),
        }
    }

    fn diffs_with<L: Multi, const W: usize>(
        &mut self,
        l: L,
        t: &HuffTable,
        out: &mut [i16],
    ) -> Result<(), CodecError> {
        let mut r = *self;
        let n = out.len();
        let mut i = 0;
        while i + W <= n {
            r.refill();
            let w: &mut [i16; W] = (&mut out[i..i + W]).try_into().expect("window");
            let mut k = 0;
            let mut long = false;
            for _ in 0..4 {
                if !l.step(&mut r, w, &mut k) {
                    long = true;
                    break;
                }
            }
            i += k;
            if long {
                out[i] = r.diff(t)? as i16;
                i += 1;
            }
        }
        while i < n {
            out[i] = r.diff(t)? as i16;
            i += 1;
        }
        *self = r;
        Ok(())
    }

    /// [`Self::diffs`] for two independent streams (two frames) at once, so that the
    /// processor overlaps the two readers' chains of dependent lookups.
    pub fn diffs2(
        a: &mut Self,
        ta: &HuffTable,
        out_a: &mut [i16],
        b: &mut BitReader<'a>,
        tb: &HuffTable,
        out_b: &mut [i16],
    ) -> Result<(), CodecError> {
        let (pa, pb) = (Pairs(ta.pairs()), Pairs(tb.pairs()));
        match (ta.triple(), tb.triple()) {
            (Some(x), Some(y)) => {
                Self::diffs2_with::<_, _, 16>(a, Triples(x), ta, out_a, b, Triples(y), tb, out_b)
            }
            (Some(x), None) => {
                Self::diffs2_with::<_, _, 16>(a, Triples(x), ta, out_a, b, pb, tb, out_b)
            }
            (None, Some(y)) => {
                Self::diffs2_with::<_, _, 16>(a, pa, ta, out_a, b, Triples(y), tb, out_b)
            }
            (None, None) => Self::diffs2_with::<_, _, 8>(a, pa, ta, out_a, b, pb, tb, out_b),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn diffs2_with<LA: Multi, LB: Multi, const W: usize>(
        a: &mut Self,
        la: LA,
        ta: &HuffTable,
        out_a: &mut [i16],
        b: &mut BitReader<'a>,
        lb: LB,
        tb: &HuffTable,
        out_b: &mut [i16],
    ) -> Result<(), CodecError> {
        let (mut ra, mut rb) = (*a, *b);
        let (mut i, mut j) = (0, 0);
        while i + W <= out_a.len() && j + W <= out_b.len() {
            // The two streams' lookups alternate, so that each waits for its table load
            // while the other's is under way.
            ra.refill();
            rb.refill();
            let wa: &mut [i16; W] = (&mut out_a[i..i + W]).try_into().expect("window");
            let wb: &mut [i16; W] = (&mut out_b[j..j + W]).try_into().expect("window");
            let (mut ka, mut kb) = (0, 0);
            let (mut long_a, mut long_b) = (false, false);
            for _ in 0..4 {
                if !long_a {
                    long_a = !la.step(&mut ra, wa, &mut ka);
                }
                if !long_b {
                    long_b = !lb.step(&mut rb, wb, &mut kb);
                }
            }
            i += ka;
            if long_a {
                out_a[i] = ra.diff(ta)? as i16;
                i += 1;
            }
            j += kb;
            if long_b {
                out_b[j] = rb.diff(tb)? as i16;
                j += 1;
            }
        }
        *a = ra;
        *b = rb;
        a.diffs_with::<LA, W>(la, ta, &mut out_a[i..])?;
        b.diffs_with::<LB, W>(lb, tb, &mut out_b[j..])
    }

    #[cold]
    fn bad_code(&self) -> CodecError {
        CodecError::JpegData {
            offset: self.pos,
            reason: "invalid Huffman code",
        }
    }

    /// Offset of the marker that follows the segment: where marker parsing resumes.
    pub fn finish(&self) -> usize {
        if let Some(e) = self.end {
            return e;
        }
        find_marker(self.data, self.pos)
    }

    /// At the end of a restart interval: drop the padding bits, expect RSTn with n = `count`
    /// mod 8 (B.2.1), and start the next interval.
    pub fn restart(&mut self, count: usize) -> Result<(), CodecError> {
        if self.overrun() {
            return Err(CodecError::JpegData {
                offset: self.finish(),
                reason: "entropy-coded data ends inside a restart interval",
            });
        }
        let m = self.finish();
        let d = self.data;
        let mut p = m;
        while p < d.len() && d[p] == 0xFF {
            p += 1;
        }
        let want = RST0 + (count % 8) as u8;
        match d.get(p) {
            Some(&c) if c == want && p > m => {
                *self = BitReader::new(d, p + 1);
                Ok(())
            }
            Some(&c) if (RST0..RST0 + 8).contains(&c) && p > m => Err(CodecError::JpegData {
                offset: m,
                reason: "restart marker out of sequence",
            }),
            _ => Err(CodecError::JpegData {
                offset: m,
                reason: "expected a restart marker",
            }),
        }
    }
}

/// First marker (0xFF not followed by 0x00 or 0xFF) at or after `from`, or the data end.
fn find_marker(d: &[u8], from: usize) -> usize {
    let mut p = from;
    while p + 1 < d.len() {
        if d[p] == 0xFF && d[p + 1] != 0 && d[p + 1] != 0xFF {
            return p;
        }
        p += 1;
    }
    d.len()
}

/// Writes bits MSB-first with byte stuffing.
pub(crate) struct BitWriter {
    /// Bytes `..len` are written; the rest is room, grown ahead of need.
    out: Vec<u8>,
    len: usize,
    acc: u64,
    nbits: u32,
}

impl BitWriter {
    pub fn new(out: Vec<u8>) -> Self {
        BitWriter {
            len: out.len(),
            out,
            acc: 0,
            nbits: 0,
        }
    }

    /// At least 16 bytes of room after `len`.
    #[inline(always)]
    fn room(&mut self) {
        if self.len + 16 > self.out.len() {
            grow(&mut self.out);
        }
    }

    #[inline(always)]
    fn push(&mut self, b: u8) {
        self.room();
        self.out[self.len] = b;
        self.len += 1;
    }

    /// Append the low `n` bits of `v` (n <= 32).
    #[inline(always)]
    pub fn put(&mut self, v: u32, n: u32) {
        if n == 0 {
            return;
        }
        self.put_bits(v & (u32::MAX >> (32 - n)), n);
    }

    /// Append `v`, which must be below 2^n (n <= 32).
    #[inline(always)]
    fn put_bits(&mut self, v: u32, n: u32) {
        // nbits < 32 on entry, so the n new bits fit below the 64.
        self.acc = (self.acc << n) | u64::from(v);
        self.nbits += n;
        if self.nbits >= 32 {
            self.nbits -= 32;
            let w = (self.acc >> self.nbits) as u32;
            self.room();
            if has_ff(u64::from(w)) {
                self.len = stuffed(&mut self.out, self.len, w);
            } else {
                self.out[self.len..self.len + 4].copy_from_slice(&w.to_be_bytes());
                self.len += 4;
            }
        }
    }

    /// Encode one difference with table `t` (H.1.2.2, F.1.2.1).
    #[inline(always)]
    pub fn diff(&mut self, t: &EncTable, d: u16) {
        let near = (i32::from(d as i16) + NEAR) as u32;
        if let Some(&e) = t.near.get(near as usize) {
            self.put_bits(e >> 5, e & 31);
            return;
        }
        self.diff_far(t, d);
    }

    /// [`Self::diff`] for |d| > NEAR.
    #[inline(never)]
    fn diff_far(&mut self, t: &EncTable, d: u16) {
        if d == 0x8000 {
            self.put(u32::from(t.code[16]), u32::from(t.len[16]));
            return;
        }
        let d = i32::from(d as i16);
        let s = 32 - d.unsigned_abs().leading_zeros();
        let v = if d < 0 { d - 1 } else { d };
        let extra = (v as u32) & ((1u32 << s) - 1);
        let len = u32::from(t.len[s as usize]);
        let code = u32::from(t.code[s as usize]);
        if len + s <= 32 {
            self.put((code << s) | extra, len + s);
        } else {
            self.put(code, len);
            self.put(extra, s);
        }
    }

    /// Pad the last byte with 1-bits (F.1.2.3) and write out every whole byte.
    fn flush(&mut self) {
        let pad = (8 - self.nbits % 8) % 8;
        self.put((1 << pad) - 1, pad);
        while self.nbits >= 8 {
            let b = (self.acc >> (self.nbits - 8)) as u8;
            self.nbits -= 8;
            self.push(b);
            if b == 0xFF {
                self.push(0);
            }
        }
    }

    /// End a restart interval: pad, then RSTn with n = `count` mod 8 (B.2.1, E.1.4).
    pub fn restart_marker(&mut self, count: usize) {
        self.flush();
        self.push(0xFF);
        self.push(RST0 + (count % 8) as u8);
    }

    /// Pad the last byte and return the buffer.
    pub fn finish(mut self) -> Vec<u8> {
        self.flush();
        self.out.truncate(self.len);
        self.out
    }
}

// The writer's slow paths take its buffer, not the writer, so that the bit accumulator of a
// writer held in a local stays in registers.

#[cold]
#[inline(never)]
fn grow(out: &mut Vec<u8>) {
    let n = out.len();
    out.resize(n + (n / 2).max(1 << 16), 0);
}

/// Write the bytes of `w` at `len` with a zero after each 0xFF (B.1.1.5); the new length.
/// The caller made 16 bytes of room.
#[cold]
#[inline(never)]
fn stuffed(out: &mut [u8], mut len: usize, w: u32) -> usize {
    for b in w.to_be_bytes() {
        out[len] = b;
        len += 1;
        if b == 0xFF {
            out[len] = 0;
            len += 1;
        }
    }
    len
}

/// SSSS of the differences -NEAR..=NEAR, at `d + NEAR`.
static NEAR_CATEGORY: [u8; 2 * NEAR as usize + 1] = {
    let mut t = [0u8; 2 * NEAR as usize + 1];
    let mut i = 0;
    while i < t.len() {
        let d = i as i32 - NEAR;
        t[i] = (32 - d.unsigned_abs().leading_zeros()) as u8;
        i += 1;
    }
    t
};

/// SSSS category of a difference (Table H.2).
#[inline(always)]
pub(crate) fn category(d: u16) -> usize {
    let near = (i32::from(d as i16) + NEAR) as u32;
    if let Some(&c) = NEAR_CATEGORY.get(near as usize) {
        return usize::from(c);
    }
    if d == 0x8000 {
        16
    } else {
        (32 - i32::from(d as i16).unsigned_abs().leading_zeros()) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::super::huffman::optimal_table;
    use super::*;

    /// A small deterministic generator (xorshift), so the test needs no dependency.
    fn next(s: &mut u64) -> u64 {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        *s
    }

    const TAIL: [u16; 4] = [3, 0xFFF0, 0, 0x8000];

    /// `diffs` (two or three per table lookup, four lookups per refill) gives what `diff` gives,
    /// for differences that are mostly small (pairs), spread over every category (long codes
    /// and additional bits beyond the lookahead), and SSSS 16; and leaves the reader where the
    /// next difference starts.
    #[test]
    fn line_decoding_matches_one_by_one() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut kinds = Vec::new();
        for spread in [2u32, 6, 12, 16] {
            for n in [1usize, 7, 8, 9, 1000, 4093] {
                let want: Vec<u16> = (0..n)
                    .map(|_| {
                        let r = next(&mut seed);
                        if r.is_multiple_of(97) {
                            0x8000
                        } else {
                            let mag = (r >> 8) as u32 & ((1 << (r % u64::from(spread) + 1)) - 1);
                            (if r & 0x80 != 0 {
                                mag as i32
                            } else {
                                -(mag as i32)
                            }) as u16
                        }
                    })
                    .collect();
                let mut freq = [1u32; 17];
                for &d in want.iter().chain(&TAIL) {
                    freq[category(d)] += 1;
                }
                let enc = optimal_table(&freq);
                let mut w = BitWriter::new(Vec::new());
                for &d in want.iter().chain(&TAIL) {
                    w.diff(&enc, d);
                }
                let mut data = w.finish();
                data.extend_from_slice(&[0xFF, 0xD9]);
                let dec = HuffTable::new(&enc.bits, &enc.values).unwrap();
                // Small differences get the triple table, spread ones the pair table.
                kinds.push((spread, dec.triple().is_some()));
                let mut one = BitReader::new(&data, 0);
                let single: Vec<u16> = (0..n).map(|_| one.diff(&dec).unwrap() as u16).collect();
                assert_eq!(single, want);
                let mut line = BitReader::new(&data, 0);
                let mut got = vec![0i16; n];
                line.diffs(&dec, &mut got).unwrap();
                let got: Vec<u16> = got.iter().map(|&d| d as u16).collect();
                assert_eq!(got, want, "spread {spread}, {n} differences");
                let tail: Vec<u16> = TAIL
                    .iter()
                    .map(|_| line.diff(&dec).unwrap() as u16)
                    .collect();
                assert_eq!(tail, TAIL);
                assert!(!line.overrun());
            }
        }
        assert!(kinds.iter().any(|&(s, t)| s == 2 && t), "{kinds:?}");
        assert!(kinds.iter().any(|&(s, t)| s == 16 && !t), "{kinds:?}");
    }
}
