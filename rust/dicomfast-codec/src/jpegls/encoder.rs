//! Our JPEG-LS encoder (pure Rust, T.87): one scan of 1-4 components (several interleaved
//! by sample), lossless or near-lossless, 2-16 bits, default coding parameters: the codes
//! written along the decoder's walk ([`super::lines`]) over its context model
//! ([`super::context`]), so the two read and write the same codes. Its streams are byte for byte CharLS's for the same parameters (the tests
//! check it).

use super::context::{Coding, Defaults, Model, J};
use super::header::{Declined, Preset};
use super::lines::{self, Direction, Shape};

/// Bits into bytes, most significant first, a 0 bit stuffed above the seven bits of each
/// byte that follows an 0xFF (T.87 9.1).
pub(super) struct Writer<'a> {
    out: &'a mut Vec<u8>,
    /// Bits held, the first in bit 63.
    acc: u64,
    held: u32,
    after_ff: bool,
}

impl Writer<'_> {
    /// Write the low `n` bits (at most 32) of `v`.
    #[inline(always)]
    fn put(&mut self, v: u32, n: u32) {
        debug_assert!(n <= 32 && (n == 32 || v >> n == 0));
        if n == 0 {
            return;
        }
        self.acc |= u64::from(v) << (64 - self.held - n);
        self.held += n;
        if self.held >= 32 {
            self.drain();
        }
    }

    /// `n` zero bits.
    #[inline(always)]
    fn zeros(&mut self, mut n: u32) {
        while n > 0 {
            let k = n.min(32);
            self.put(0, k);
            n -= k;
        }
    }

    /// Whole bytes out: four at once when none of them is (or follows) an 0xFF.
    #[inline(always)]
    fn drain(&mut self) {
        if !self.after_ff && self.held >= 32 {
            let four = (self.acc >> 32) as u32;
            let v = !four;
            // A zero byte of !four is an 0xFF byte of four.
            if v.wrapping_sub(0x0101_0101) & !v & 0x8080_8080 == 0 {
                self.out.extend_from_slice(&four.to_be_bytes());
                self.acc <<= 32;
                self.held -= 32;
            }
        }
        loop {
            let take = if self.after_ff { 7 } else { 8 };
            if self.held < take {
                return;
            }
            let byte = (self.acc >> (64 - take)) as u8;
            self.acc <<= take;
            self.held -= take;
            self.out.push(byte);
            self.after_ff = byte == 0xFF;
        }
    }

    /// The last bits, padded with zeros to a byte; a byte after a final 0xFF so that no
    /// marker seems to follow.
    fn finish(&mut self) {
        self.drain();
        if self.held > 0 {
            let take = if self.after_ff { 7 } else { 8 };
            let byte = (self.acc >> (64 - take)) as u8;
            self.out.push(byte);
            self.after_ff = byte == 0xFF;
            self.acc = 0;
            self.held = 0;
        }
        if self.after_ff {
            self.out.push(0);
        }
    }
}

impl Writer<'_> {
    /// A mapped error value `m`, Golomb-coded with `k` and limited to `limit` bits
    /// (A.5.3), for samples of `qbpp` bits.
    #[inline(always)]
    fn value(&mut self, k: u32, m: u32, limit: u32, qbpp: u32) {
        let high = m >> k;
        let escape = limit - qbpp - 1;
        if high < escape {
            if high < 32 {
                self.put(1, high + 1);
            } else {
                self.zeros(high);
                self.put(1, 1);
            }
            self.put(m & ((1u32 << k) - 1), k);
        } else {
            self.zeros(escape);
            self.put(1, 1);
            self.put((m - 1) & ((1u32 << qbpp) - 1), qbpp);
        }
    }
}

impl<const L: bool> Model<'_, L> {
    /// A prediction error quantised (A.4.4) and reduced modulo RANGE (A.4.5).
    #[inline(always)]
    fn error(&self, e: i32) -> i32 {
        let e = if L {
            e
        } else {
            let (near, step) = (self.c.near, 2 * self.c.near + 1);
            if e > 0 {
                (e + near) / step
            } else {
                -((near - e) / step)
            }
        };
        let range = self.c.range;
        let e = if e < 0 { e + range } else { e };
        if e >= (range + 1) / 2 {
            e - range
        } else {
            e
        }
    }
}

impl Direction for Writer<'_> {
    const READS_SAMPLES: bool = true;

    #[inline(always)]
    fn regular_error<const L: bool>(
        &mut self,
        m: &Model<'_, L>,
        k: u32,
        bn: (i32, i32),
        (x, px, sign): (i32, i32, i32),
    ) -> Result<i32, Declined> {
        let e = m.error(((x - px) ^ sign) - sign);
        // A.5.2's special case, then the mapping to non-negative values.
        let v = e ^ lines::special::<L>(k, bn);
        self.value(k, ((v << 1) ^ (v >> 31)) as u32, m.c.limit, m.c.qbpp);
        Ok(e)
    }

    #[inline(always)]
    fn interruption_error<const L: bool>(
        &mut self,
        m: &Model<'_, L>,
        (kind, k, limit): (usize, u32, u32),
        (x, px, s): (i32, i32, i32),
    ) -> Result<(i32, i32), Declined> {
        let e = m.error((x - px) * s);
        let (n, nn) = (m.interruption[kind].n, m.interruption[kind].nn);
        let map = (k == 0 && e > 0 && 2 * nn < n) || (e < 0 && (2 * nn >= n || k != 0));
        let em = 2 * e.abs() - kind as i32 - i32::from(map);
        self.value(k, em as u32, limit, m.c.qbpp);
        Ok((e, em))
    }

    #[inline(always)]
    fn run_length(
        &mut self,
        run_index: &mut usize,
        cur: &[i32],
        (x, left, n): (usize, usize, usize),
        near: i32,
    ) -> Result<usize, Declined> {
        let mut len = 0;
        while len < left
            && (0..n).all(|c| (cur[(x + 1 + len) * n + c] - cur[x * n + c]).abs() <= near)
        {
            len += 1;
        }
        // Whole segments of 2^J as ones, then a partial one: a one at the end of the
        // line, else a 0 and its length in J bits (A.7.1.1).
        let mut rest = len;
        while rest >= 1 << J[*run_index] {
            self.put(1, 1);
            rest -= 1 << J[*run_index];
            *run_index = (*run_index + 1).min(31);
        }
        if len == left {
            if rest != 0 {
                self.put(1, 1);
            }
        } else {
            self.put(rest as u32, J[*run_index] + 1);
        }
        Ok(len)
    }
}

/// What is coded: `comps` samples per pixel (interleaved by sample when more than one) of
/// `w` x `h` pixels, of `precision` bits, with NEAR `near`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Image {
    pub(super) w: usize,
    pub(super) h: usize,
    pub(super) comps: usize,
    pub(super) precision: u8,
    pub(super) near: u8,
}

/// Append the JPEG-LS stream of `samples` (`image`'s, pixel by pixel, each little endian
/// in 2 bytes when `precision` is above 8, else 1) to `out`.
pub(super) fn encode(samples: &[u8], image: Image, out: &mut Vec<u8>) -> Result<(), Declined> {
    encode_as(samples, image, out, Defaults::Standard)
}

/// [`encode`], its default thresholds computed as `defaults` says; with CharLS 1.x's, no
/// LSE marker is written (the streams CharLS 1.x wrote, for the decoder's tests).
pub(super) fn encode_as(
    samples: &[u8],
    image: Image,
    out: &mut Vec<u8>,
    defaults: Defaults,
) -> Result<(), Declined> {
    let Image {
        w,
        h,
        comps,
        precision,
        near,
    } = image;
    if !(1..=4).contains(&comps)
        || !(2..=16).contains(&precision)
        || w == 0
        || h == 0
        || w > 65535
        || h > 65535
    {
        return Err(Declined::Unsupported("an image JPEG-LS does not code"));
    }
    let bytes = if precision > 8 { 2 } else { 1 };
    if samples.len() != w * h * comps * bytes {
        return Err(Declined::Unsupported("samples that do not fill the image"));
    }
    let c = Coding::new(precision, near, Preset::default(), defaults)?;
    // SOI, SOF55, SOS.
    out.extend_from_slice(&[0xFF, 0xD8, 0xFF, 0xF7]);
    out.extend_from_slice(&(8 + 3 * comps as u16).to_be_bytes());
    out.push(precision);
    out.extend_from_slice(&(h as u16).to_be_bytes());
    out.extend_from_slice(&(w as u16).to_be_bytes());
    out.push(comps as u8);
    for k in 1..=comps as u8 {
        out.extend_from_slice(&[k, 0x11, 0]);
    }
    if !(8..=12).contains(&precision) && defaults == Defaults::Standard {
        // The default parameters written out, as CharLS does above 12 bits: some
        // decoders compute other defaults there; and below 8 bits (near-lossless: lossless
        // frames of 8 bits or fewer are coded at 8), where CharLS 1.x (DCMTK's dcmdjpls up
        // to 3.6.x) computes other thresholds than T.87 and refused or misread ours.
        out.extend_from_slice(&[0xFF, 0xF8, 0, 13, 1]);
        for v in [c.maxval, c.t1, c.t2, c.t3, c.reset] {
            out.extend_from_slice(&(v as u16).to_be_bytes());
        }
    }
    out.extend_from_slice(&[0xFF, 0xDA]);
    out.extend_from_slice(&(6 + 2 * comps as u16).to_be_bytes());
    out.push(comps as u8);
    for k in 1..=comps as u8 {
        out.extend_from_slice(&[k, 0]);
    }
    let interleave = if comps > 1 { 2 } else { 0 };
    out.extend_from_slice(&[near, interleave, 0]);
    let mut writer = Writer {
        out,
        acc: 0,
        held: 0,
        after_ff: false,
    };
    let row = w * comps * bytes;
    let shape = Shape {
        w,
        h,
        comps,
        by_sample: comps > 1,
    };
    // Each line's samples from `samples`, little endian.
    let fill = |y: usize, _: usize, line: &mut [i32]| {
        let src = &samples[y * row..(y + 1) * row];
        if bytes == 2 {
            for (v, b) in line.iter_mut().zip(src.chunks_exact(2)) {
                *v = i32::from(u16::from_le_bytes([b[0], b[1]]));
            }
        } else {
            for (v, &b) in line.iter_mut().zip(src) {
                *v = i32::from(b);
            }
        }
    };
    lines::code(&c, &mut writer, shape, fill, |_, _, _| {})?;
    writer.finish();
    out.extend_from_slice(&[0xFF, 0xD9]);
    Ok(())
}
