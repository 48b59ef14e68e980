//! The bits of a JPEG-LS scan (T.87 A.1 and 9.1): most significant first, with a 0 bit
//! stuffed above the seven bits of each byte that follows an 0xFF.
//!
//! The reader is given the scan's bytes up to (not including) the marker that ends it;
//! past them it reads zeros, and counts them, so that a decoder that ran off its data can
//! say so at the end of a line rather than test on every read.

/// A scan's bits, up to 64 of them held ahead.
pub(super) struct Bits<'a> {
    data: &'a [u8],
    /// The next byte to take.
    pos: usize,
    /// Bits held, the next one in bit 63.
    acc: u64,
    /// How many are held.
    held: u32,
    /// The byte taken last was 0xFF (the next has a stuffed bit).
    after_ff: bool,
    /// Zero bits supplied past the end of the data.
    past: u64,
}

impl<'a> Bits<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        let mut b = Bits {
            data,
            pos: 0,
            acc: 0,
            held: 0,
            after_ff: false,
            past: 0,
        };
        b.fill();
        b
    }

    /// Whether more bits were read than the data has (a damaged or truncated scan).
    /// The few bits a stream may leave unused in its last byte do not count.
    pub(super) fn overran(&self) -> bool {
        self.past > u64::from(self.held)
    }

    /// Whether the scan's data is used up: fewer than 16 of its bits left unread (the
    /// padding of its last byte, and of a byte stuffed after an 0xFF), none read past it.
    pub(super) fn used_up(&self) -> bool {
        let held = u64::from(self.held).saturating_sub(self.past);
        !self.overran() && (self.data.len() - self.pos) as u64 * 8 + held < 16
    }

    /// Take bytes until more than 56 bits are held: eight at a time while none of them
    /// is 0xFF, else one by one.
    #[inline(always)]
    fn fill(&mut self) {
        if !self.after_ff && self.pos + 8 <= self.data.len() {
            let mut eight = [0u8; 8];
            eight.copy_from_slice(&self.data[self.pos..self.pos + 8]);
            let w = u64::from_be_bytes(eight);
            // A zero byte of !w is an 0xFF byte of w.
            let v = !w;
            let ff = v.wrapping_sub(0x0101_0101_0101_0101) & !v & 0x8080_8080_8080_8080;
            if ff == 0 {
                let bytes = (64 - self.held) / 8; // 1 to 8: `held` is at most 56 here
                self.acc |= (w >> (64 - 8 * bytes)) << (64 - self.held - 8 * bytes);
                self.held += 8 * bytes;
                self.pos += bytes as usize;
                return;
            }
        }
        self.fill_slowly();
    }

    #[inline(never)]
    fn fill_slowly(&mut self) {
        while self.held <= 56 {
            let Some(&b) = self.data.get(self.pos) else {
                // Past the end: zeros.
                self.past += 8;
                self.held += 8;
                self.after_ff = false;
                continue;
            };
            self.pos += 1;
            if self.after_ff {
                self.acc |= u64::from(b & 0x7F) << (57 - self.held);
                self.held += 7;
            } else {
                self.acc |= u64::from(b) << (56 - self.held);
                self.held += 8;
            }
            self.after_ff = b == 0xFF;
        }
    }

    /// One bit.
    #[inline(always)]
    pub(super) fn bit(&mut self) -> u32 {
        if self.held == 0 {
            self.fill();
        }
        let b = (self.acc >> 63) as u32;
        self.acc <<= 1;
        self.held -= 1;
        b
    }

    /// `n` bits (0 to 32) as a number.
    #[inline(always)]
    pub(super) fn read(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        if self.held < n {
            self.fill();
        }
        let v = (self.acc >> (64 - n)) as u32;
        self.acc <<= n;
        self.held -= n;
        v
    }

    /// The number of 0 bits before the next 1, which is taken too; `None` when there are
    /// more than `most`.
    #[inline(always)]
    pub(super) fn zeros(&mut self, most: u32) -> Option<u32> {
        if self.held < 32 {
            self.fill();
        }
        let z = self.acc.leading_zeros();
        if z < self.held {
            // The zeros and the 1 after them: z + 1 may be 64 (a full window whose only
            // 1 is its last bit), so two shifts, each below 64.
            self.acc = (self.acc << z) << 1;
            self.held -= z + 1;
            return (z <= most).then_some(z);
        }
        self.zeros_slowly(most)
    }

    #[inline(never)]
    fn zeros_slowly(&mut self, most: u32) -> Option<u32> {
        let mut count = 0;
        loop {
            if self.held == 0 {
                self.fill();
            }
            let z = self.acc.leading_zeros().min(self.held);
            count += z;
            if count > most {
                return None;
            }
            if z < self.held {
                self.acc = (self.acc << z) << 1; // z + 1 may be 64, as in `zeros`
                self.held -= z + 1;
                return Some(count);
            }
            self.acc = 0;
            self.held = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stuffed_bits_are_skipped() {
        // 0xFF, then 0x7F whose top bit is stuffed: 8 ones, then 7 ones, then 0xA5.
        let mut b = Bits::new(&[0xFF, 0x7F, 0xA5]);
        assert_eq!(b.read(15), 0x7FFF);
        assert_eq!(b.read(8), 0xA5);
        assert!(!b.overran());
        assert_eq!(b.read(9), 0);
        assert!(b.overran());
    }

    #[test]
    fn zeros_are_counted_across_bytes() {
        let data = [
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x80,
        ];
        let mut b = Bits::new(&data);
        assert_eq!(b.zeros(100), Some(79));
        assert_eq!(b.bit(), 1);
        let mut b = Bits::new(&data);
        assert_eq!(b.zeros(40), None);
        let mut b = Bits::new(&[0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0, 0x11]);
        assert_eq!(b.zeros(64), Some(3));
        assert_eq!(b.read(28), 0x2345678);
        assert_eq!(b.read(32), 0x9ABCDEF0);
        assert_eq!(b.read(8), 0x11);
    }
}
