//! The MQ arithmetic decoder of JPEG 2000 Part 1 (T.800 Annex C), and the raw bits of
//! the arithmetic coding bypass (T.800 D.6): the two ways a Part 1 code-block's passes
//! are coded.
//!
//! Both read a segment from a buffer that ends with two 0xFF bytes past its data (the
//! caller appends them): reading past the segment then meets a marker-like 0xFF 0xFF,
//! which feeds ones without moving, as C.3.4 has a decoder do at the end of its data.

/// The probability estimation table (T.800 Table C.2): per state, Qe, the next state
/// after an MPS, the next after an LPS, and whether an LPS switches the MPS sense.
const STATES: [(u16, u8, u8, u8); 47] = [
    (0x5601, 1, 1, 1),
    (0x3401, 2, 6, 0),
    (0x1801, 3, 9, 0),
    (0x0AC1, 4, 12, 0),
    (0x0521, 5, 29, 0),
    (0x0221, 38, 33, 0),
    (0x5601, 7, 6, 1),
    (0x5401, 8, 14, 0),
    (0x4801, 9, 14, 0),
    (0x3801, 10, 14, 0),
    (0x3001, 11, 17, 0),
    (0x2401, 12, 18, 0),
    (0x1C01, 13, 20, 0),
    (0x1601, 29, 21, 0),
    (0x5601, 15, 14, 1),
    (0x5401, 16, 14, 0),
    (0x5101, 17, 15, 0),
    (0x4801, 18, 16, 0),
    (0x3801, 19, 17, 0),
    (0x3401, 20, 18, 0),
    (0x3001, 21, 19, 0),
    (0x2801, 22, 19, 0),
    (0x2401, 23, 20, 0),
    (0x2201, 24, 21, 0),
    (0x1C01, 25, 22, 0),
    (0x1801, 26, 23, 0),
    (0x1601, 27, 24, 0),
    (0x1401, 28, 25, 0),
    (0x1201, 29, 26, 0),
    (0x1101, 30, 27, 0),
    (0x0AC1, 31, 28, 0),
    (0x09C1, 32, 29, 0),
    (0x08A1, 33, 30, 0),
    (0x0521, 34, 31, 0),
    (0x0441, 35, 32, 0),
    (0x02A1, 36, 33, 0),
    (0x0221, 37, 34, 0),
    (0x0141, 38, 35, 0),
    (0x0111, 39, 36, 0),
    (0x0085, 40, 37, 0),
    (0x0049, 41, 38, 0),
    (0x0025, 42, 39, 0),
    (0x0015, 43, 40, 0),
    (0x0009, 44, 41, 0),
    (0x0005, 45, 42, 0),
    (0x0001, 45, 43, 0),
    (0x5601, 46, 46, 0),
];

/// A context's state and MPS in one byte: `2 * state + mps`.
pub(crate) type Context = u8;

/// Per context byte (`2 * state + mps`): Qe in the low 16 bits, the context byte after an
/// MPS in bits 16-23, after an LPS in bits 24-31 (the switch folded in). 128 entries, so
/// that a context byte masked to 7 bits needs no bounds check.
const TABLE: [u32; 128] = {
    let mut t = [0u32; 128];
    let mut k = 0;
    while k < 94 {
        let (qe, nmps, nlps, switch) = STATES[k / 2];
        let mps = (k & 1) as u32;
        let after_mps = 2 * nmps as u32 + mps;
        let after_lps = 2 * nlps as u32 + (mps ^ switch as u32);
        t[k] = qe as u32 | (after_mps << 16) | (after_lps << 24);
        k += 1;
    }
    t
};

/// A context byte for `state` with MPS 0 (how every context starts, T.800 Table D.7).
pub(crate) const fn start(state: u8) -> Context {
    2 * state
}

/// The MQ decoder's registers over one segment (T.800 C.3), with C widened to 64 bits:
/// C.3's C register is bits 32-63 (Chigh in 48-63), and up to 40 bits of the segment are
/// read ahead below Chigh, so that bytes are read a few at a time rather than one per
/// eight doublings. The decisions are the same as C.3's, bit for bit.
#[derive(Clone, Copy)]
pub(crate) struct Mq<'a> {
    a: u32,
    c: u64,
    /// Bits read ahead: C's bits [48 - ct, 48).
    ct: u32,
    /// Where the bytes come from: apart from the registers, which the passes keep in
    /// processor registers while it stays in memory.
    src: Source<'a>,
}

/// The segment being read.
#[derive(Clone, Copy)]
struct Source<'a> {
    /// The segment, then 0xFF 0xFF.
    buf: &'a [u8],
    /// The next byte to read.
    pos: usize,
    /// The byte read last (a 0xFF makes the next one's top bit a stuffed 0).
    last: u8,
}

impl Source<'_> {
    /// BYTEIN (T.800 C.3.4) into `c` until more than 32 bits are read ahead (`ct`)
    /// (C's arithmetic is modulo its width, as the register's). A
    /// 0xFF followed by a byte above 0x8F (a marker, or the padding past the segment) is
    /// not passed: ones are fed instead.
    #[inline(never)]
    fn fill(&mut self, mut c: u64, mut ct: u32) -> (u64, u32) {
        while ct <= 32 {
            // The padding's second 0xFF is never passed: `pos` stays in the buffer.
            let next = self.buf[self.pos.min(self.buf.len() - 1)];
            if self.last == 0xFF {
                if next > 0x8F {
                    c = c.wrapping_add(0xFF << (40 - ct));
                    ct += 8;
                } else {
                    self.pos += 1;
                    self.last = next;
                    c = c.wrapping_add(u64::from(next) << (41 - ct));
                    ct += 7;
                }
            } else {
                self.pos += 1;
                self.last = next;
                c = c.wrapping_add(u64::from(next) << (40 - ct));
                ct += 8;
            }
        }
        (c, ct)
    }
}

impl<'a> Mq<'a> {
    /// INITDEC over `buf` (the segment's bytes followed by 0xFF 0xFF).
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        debug_assert!(buf.len() >= 2 && buf[buf.len() - 2..] == [0xFF, 0xFF]);
        let mut src = Source {
            buf,
            pos: 1,
            last: buf[0],
        };
        let (c, ct) = src.fill(u64::from(buf[0]) << 48, 0);
        Mq {
            a: 0x8000,
            c: c << 7,
            ct: ct - 7,
            src,
        }
    }

    /// DECODE (T.800 C.3.2): one decision in context `cx`, without a branch on which way
    /// it goes (the two exchanges and the renormalisation are selects; only reading
    /// bytes, every 32 doublings or so, is a branch).
    #[inline(always)]
    pub(crate) fn decode(&mut self, cx: &mut Context) -> u32 {
        let k = usize::from(*cx & 0x7F);
        let e = TABLE[k];
        let qe = e & 0xFFFF;
        let mps = (k & 1) as u32;
        let a = self.a - qe;
        // C below Qe: the LPS sub-interval (exchanged when A fell below Qe as well).
        let lower = ((self.c >> 48) as u32) < qe;
        let exchange = a < qe;
        let lps = lower ^ exchange;
        let a = if lower { qe } else { a };
        // Qe off C unless in the lower sub-interval (a mask rather than a branch).
        let c = self.c - ((u64::from(qe) << 48) & u64::from(lower).wrapping_sub(1));
        // RENORMD: no doubling when A kept its top bit; the context moves on otherwise.
        let n = (a as u16).leading_zeros();
        let next = if lps { e >> 24 } else { e >> 16 } as u8;
        *cx = if n != 0 { next } else { *cx };
        if n > self.ct {
            let (c, ct) = self.src.fill(c, self.ct);
            self.a = a << n;
            self.c = c << n;
            self.ct = ct - n;
        } else {
            self.a = a << n;
            self.c = c << n;
            self.ct -= n;
        }
        mps ^ u32::from(lps)
    }

    /// [`Mq::decode`] for a context whose decisions are nearly always its MPS (the
    /// run-length context): that case, with no renormalisation, on a branch the
    /// processor predicts.
    #[inline(always)]
    pub(crate) fn decode_skewed(&mut self, cx: &mut Context) -> u32 {
        let qe = TABLE[usize::from(*cx & 0x7F)] & 0xFFFF;
        let a = self.a - qe;
        if a >= 0x8000 && ((self.c >> 48) as u32) >= qe {
            self.a = a;
            self.c -= u64::from(qe) << 48;
            return u32::from(*cx & 1);
        }
        self.decode(cx)
    }
}

/// The raw bits of a bypassed pass (T.800 D.6): most significant first, seven of the byte
/// after a 0xFF.
#[derive(Clone, Copy)]
pub(crate) struct Raw<'a> {
    buf: &'a [u8],
    pos: usize,
    c: u32,
    ct: u32,
}

impl<'a> Raw<'a> {
    /// Over `buf` (the segment's bytes followed by 0xFF 0xFF).
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Raw {
            buf,
            pos: 0,
            c: 0,
            ct: 0,
        }
    }

    #[inline(always)]
    pub(crate) fn bit(&mut self) -> u32 {
        if self.ct == 0 {
            // The padding's last byte is never passed.
            let b = u32::from(self.buf[self.pos.min(self.buf.len() - 1)]);
            if self.c == 0xFF {
                if b > 0x8F {
                    self.c = 0xFF;
                    self.ct = 8;
                } else {
                    self.c = b;
                    self.pos += 1;
                    self.ct = 7;
                }
            } else {
                self.c = b;
                self.pos += 1;
                self.ct = 8;
            }
        }
        self.ct -= 1;
        (self.c >> self.ct) & 1
    }
}
