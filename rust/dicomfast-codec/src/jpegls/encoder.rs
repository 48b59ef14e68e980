//! Our JPEG-LS encoder (pure Rust, T.87): one scan of 1-4 components (several interleaved
//! by sample), lossless or near-lossless, 2-16 bits, default coding parameters; over the
//! context model the decoder uses ([`super::context`]), so the two read and write the
//! same codes. Its streams are byte for byte CharLS's for the same parameters (the tests
//! check it).

use super::context::{
    golomb, keep_quantiser, quantiser, Coding, Interruption, Model, Regular, CONTEXTS, J,
};
use super::header::{Declined, Preset};

/// Bits into bytes, most significant first, a 0 bit stuffed above the seven bits of each
/// byte that follows an 0xFF (T.87 9.1).
struct Writer<'a> {
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

/// The encoder's half of the model.
impl<const LOSSLESS: bool> Model<'_, LOSSLESS> {
    /// A prediction error quantised (A.4.4) and reduced modulo RANGE (A.4.5).
    #[inline(always)]
    fn error(&self, e: i32) -> i32 {
        let e = if LOSSLESS {
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

    /// A mapped error value, Golomb-coded with `k` and limited to `limit` bits (A.5.3).
    #[inline(always)]
    fn put_value(&self, w: &mut Writer<'_>, k: u32, m: u32, limit: u32) {
        let qbpp = self.c.qbpp;
        let high = m >> k;
        let escape = limit - qbpp - 1;
        if high < escape {
            if high < 32 {
                w.put(1, high + 1);
            } else {
                w.zeros(high);
                w.put(1, 1);
            }
            w.put(m & ((1u32 << k) - 1), k);
        } else {
            w.zeros(escape);
            w.put(1, 1);
            w.put((m - 1) & ((1u32 << qbpp) - 1), qbpp);
        }
    }

    /// Sample `x` in the regular mode of context `qs` (signed), neighbours `ra`, `rb`,
    /// `rc`: coded, and its reconstruction returned.
    #[inline(always)]
    fn encode_regular(
        &mut self,
        w: &mut Writer<'_>,
        qs: i32,
        x: i32,
        ra: i32,
        rb: i32,
        rc: i32,
    ) -> i32 {
        let sign = qs >> 31;
        let q = ((qs ^ sign) - sign) as usize & (CONTEXTS - 1);
        let Regular { a, b, n, .. } = self.regular[q];
        let k = golomb(n, a);
        let px = self.predict(q, sign, ra, rb, rc);
        let e = self.error(((x - px) ^ sign) - sign);
        // A.5.2's special case, then the mapping to non-negative values.
        let special = if LOSSLESS && k == 0 {
            (2 * b + n - 1) >> 31
        } else {
            0
        };
        let v = e ^ special;
        let m = ((v << 1) ^ (v >> 31)) as u32;
        self.put_value(w, k, m, self.c.limit);
        // Within range by construction (the error is reduced modulo RANGE).
        let _ = self.update(q, e);
        self.reconstruct(px, (e ^ sign) - sign)
    }

    /// A run interruption sample's error `e` in the context of `kind` (A.7.2).
    #[inline(always)]
    fn encode_interruption(&mut self, w: &mut Writer<'_>, kind: usize, e: i32, run_index: usize) {
        let Interruption { n, nn, .. } = self.interruption[kind];
        let k = self.interruption_k(kind);
        let map = (k == 0 && e > 0 && 2 * nn < n) || (e < 0 && (2 * nn >= n || k != 0));
        let m = 2 * e.abs() - kind as i32 - i32::from(map);
        self.put_value(w, k, m as u32, self.c.limit - J[run_index] - 1);
        let _ = self.interruption_update(kind, e, m);
    }

    /// A run of `len` samples (A.7.1.1), `eol` when it ends the line.
    #[inline(always)]
    fn encode_run_length(w: &mut Writer<'_>, run_index: &mut usize, mut len: usize, eol: bool) {
        while len >= 1 << J[*run_index] {
            w.put(1, 1);
            len -= 1 << J[*run_index];
            *run_index = (*run_index + 1).min(31);
        }
        if eol {
            if len != 0 {
                w.put(1, 1);
            }
        } else {
            // A 0, then the rest in J bits.
            w.put(len as u32, J[*run_index] + 1);
        }
    }

    /// The run from `x` (samples one past their indices in `cur`, the line above in
    /// `prev`), and the interruption sample if it ends before `width`; returns how many
    /// samples were coded.
    #[inline(never)]
    fn encode_run(
        &mut self,
        w: &mut Writer<'_>,
        run_index: &mut usize,
        prev: &[i32],
        cur: &mut [i32],
        x: usize,
        width: usize,
    ) -> usize {
        let ra = cur[x];
        let near = self.c.near;
        let mut len = 0;
        while x + len < width && (cur[x + 1 + len] - ra).abs() <= near {
            cur[x + 1 + len] = ra;
            len += 1;
        }
        let eol = x + len == width;
        Self::encode_run_length(w, run_index, len, eol);
        if eol {
            return len;
        }
        let at = x + len + 1;
        let (xv, rb) = (cur[at], prev[at]);
        cur[at] = if (ra - rb).abs() <= near {
            let e = self.error(xv - ra);
            self.encode_interruption(w, 1, e, *run_index);
            self.reconstruct(ra, e)
        } else {
            let s = if rb > ra { 1 } else { -1 };
            let e = self.error((xv - rb) * s);
            self.encode_interruption(w, 0, e, *run_index);
            self.reconstruct(rb, e * s)
        };
        *run_index = run_index.saturating_sub(1);
        len + 1
    }

    /// One line of a component: `cur` holds its samples (replaced by their
    /// reconstructions) and `prev` the line above, at indices one past the samples', with
    /// the edges set (A.2.1).
    #[inline(always)]
    fn encode_line(
        &mut self,
        w: &mut Writer<'_>,
        run_index: &mut usize,
        prev: &[i32],
        cur: &mut [i32],
        width: usize,
    ) {
        let mut x = 0;
        let mut rb = prev[0];
        let mut rd = prev[1];
        while x < width {
            let ra = cur[x];
            let rc = rb;
            rb = rd;
            rd = prev[x + 2];
            let qs = self.context(ra, rb, rc, rd);
            if qs != 0 {
                cur[x + 1] = self.encode_regular(w, qs, cur[x + 1], ra, rb, rc);
                x += 1;
            } else {
                x += self.encode_run(w, run_index, prev, cur, x, width);
                rb = prev[x];
                rd = prev[x + 1];
            }
        }
    }

    /// One line of pixels of `n` samples interleaved (as the decoder's
    /// `line_of_pixels` reads them).
    #[inline(always)]
    fn encode_pixels(
        &mut self,
        w: &mut Writer<'_>,
        run_index: &mut usize,
        prev: &[i32],
        cur: &mut [i32],
        (width, n): (usize, usize),
    ) {
        let near = self.c.near;
        let mut x = 0;
        let mut qs = [0i32; 4];
        while x < width {
            let mut any = 0;
            for c in 0..n {
                let (ra, rc) = (cur[x * n + c], prev[x * n + c]);
                let (rb, rd) = (prev[(x + 1) * n + c], prev[(x + 2) * n + c]);
                qs[c] = self.context(ra, rb, rc, rd);
                any |= qs[c];
            }
            if any != 0 {
                for (c, &q) in qs.iter().enumerate().take(n) {
                    let (ra, rc, rb) = (cur[x * n + c], prev[x * n + c], prev[(x + 1) * n + c]);
                    cur[(x + 1) * n + c] =
                        self.encode_regular(w, q, cur[(x + 1) * n + c], ra, rb, rc);
                }
                x += 1;
                continue;
            }
            // A run of whole pixels.
            let mut len = 0;
            while x + len < width
                && (0..n).all(|c| (cur[(x + 1 + len) * n + c] - cur[x * n + c]).abs() <= near)
            {
                cur.copy_within(x * n..(x + 1) * n, (x + 1 + len) * n);
                len += 1;
            }
            let eol = x + len == width;
            Self::encode_run_length(w, run_index, len, eol);
            if eol {
                x += len;
                continue;
            }
            let at = (x + len + 1) * n;
            for c in 0..n {
                let (ra, rb, xv) = (cur[x * n + c], prev[at + c], cur[at + c]);
                let s = if rb >= ra { 1 } else { -1 };
                let e = self.error((xv - rb) * s);
                self.encode_interruption(w, 0, e, *run_index);
                cur[at + c] = self.reconstruct(rb, e * s);
            }
            *run_index = run_index.saturating_sub(1);
            x += len + 1;
        }
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
    let c = Coding::new(precision, near, Preset::default())?;
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
    if precision > 12 {
        // The default parameters written out, as CharLS does for these depths: some
        // decoders compute other defaults above 12 bits.
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
    let lossless = near == 0;
    let table = quantiser(&c);
    let q = table[..].try_into().expect("a quantiser table");
    let mut writer = Writer {
        out,
        acc: 0,
        held: 0,
        after_ff: false,
    };
    'coded: {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("bmi2")
            && std::arch::is_x86_feature_detected!("lzcnt")
        {
            // SAFETY: the features they are compiled for were found on this processor.
            unsafe {
                if lossless {
                    scan_bit_fields::<true>(&mut Model::new(&c, q), &mut writer, samples, image);
                } else {
                    scan_bit_fields::<false>(&mut Model::new(&c, q), &mut writer, samples, image);
                }
            }
            break 'coded;
        }
        if lossless {
            scan::<true>(&mut Model::new(&c, q), &mut writer, samples, image);
        } else {
            scan::<false>(&mut Model::new(&c, q), &mut writer, samples, image);
        }
    }
    writer.finish();
    keep_quantiser(&c, table);
    out.extend_from_slice(&[0xFF, 0xD9]);
    Ok(())
}

/// [`scan`] compiled for BMI1, BMI2 and LZCNT (shifts by a register, the Golomb
/// parameter's leading zeros).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi1,bmi2,lzcnt")]
unsafe fn scan_bit_fields<const LOSSLESS: bool>(
    m: &mut Model<'_, LOSSLESS>,
    wr: &mut Writer<'_>,
    samples: &[u8],
    image: Image,
) {
    scan::<LOSSLESS>(m, wr, samples, image);
}

/// The scan's lines, each read into `cur` (pixels one past their indices) and coded.
#[inline(always)]
fn scan<const LOSSLESS: bool>(
    m: &mut Model<'_, LOSSLESS>,
    wr: &mut Writer<'_>,
    samples: &[u8],
    image: Image,
) {
    let Image {
        w,
        comps: n,
        precision,
        ..
    } = image;
    let bytes = if precision > 8 { 2 } else { 1 };
    let stride = (w + 2) * n;
    let (mut even, mut odd) = (vec![0i32; stride], vec![0i32; stride]);
    let mut run_index = 0;
    for (y, row) in samples.chunks_exact(w * n * bytes).enumerate() {
        let (prev, cur) = if y % 2 == 0 {
            (&mut odd, &mut even)
        } else {
            (&mut even, &mut odd)
        };
        let line = &mut cur[n..(w + 1) * n];
        if bytes == 2 {
            for (v, b) in line.iter_mut().zip(row.chunks_exact(2)) {
                *v = i32::from(u16::from_le_bytes([b[0], b[1]]));
            }
        } else {
            for (v, &b) in line.iter_mut().zip(row) {
                *v = i32::from(b);
            }
        }
        prev.copy_within(w * n..(w + 1) * n, (w + 1) * n);
        cur[..n].copy_from_slice(&prev[n..2 * n]);
        if n == 1 {
            m.encode_line(wr, &mut run_index, prev, cur, w);
        } else {
            m.encode_pixels(wr, &mut run_index, prev, cur, (w, n));
        }
    }
}
