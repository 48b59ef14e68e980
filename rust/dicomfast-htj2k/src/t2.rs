//! Packets (T.800 B.9-B.10): a packet header's bits, tag trees, and one packet per
//! resolution of each component (one quality layer; the default precinct, which covers
//! the whole resolution).

/// Packet header bits, most significant first, with a 0 bit stuffed after each 0xFF
/// (B.10.1); the header never ends on 0xFF.
pub(crate) struct HeaderBits<'a> {
    out: &'a mut Vec<u8>,
    acc: u32,
    n: u32,
    max: u32,
}

impl<'a> HeaderBits<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        HeaderBits {
            out,
            acc: 0,
            n: 0,
            max: 8,
        }
    }

    #[inline]
    pub(crate) fn bit(&mut self, b: u32) {
        self.acc = (self.acc << 1) | (b & 1);
        self.n += 1;
        if self.n == self.max {
            self.out.push(self.acc as u8);
            self.max = if self.acc == 0xFF { 7 } else { 8 };
            self.acc = 0;
            self.n = 0;
        }
    }

    pub(crate) fn bits(&mut self, value: u32, count: u32) {
        for i in (0..count).rev() {
            self.bit(value >> i);
        }
    }

    pub(crate) fn finish(mut self) {
        if self.n > 0 {
            let pad = self.max - self.n;
            self.bits(0, pad);
        }
        if self.max == 7 {
            self.out.push(0); // the zero bit stuffed after a final 0xFF, and padding
        }
    }
}

/// A tag tree (B.10.2) over a `w` x `h` grid of leaf values.
pub(crate) struct TagTree {
    /// (width, height, offset of the level's first node) from the leaves up.
    levels: Vec<(usize, usize, usize)>,
    value: Vec<u32>,
    low: Vec<u32>,
    known: Vec<bool>,
}

impl TagTree {
    pub(crate) fn new(w: usize, h: usize, leaves: &[u32]) -> Self {
        let mut levels = vec![(w, h, 0)];
        let mut value = leaves.to_vec();
        let (mut lw, mut lh) = (w, h);
        while lw * lh > 1 {
            let (pw, ph) = (lw.div_ceil(2), lh.div_ceil(2));
            let start = levels.last().unwrap().2;
            let offset = value.len();
            for py in 0..ph {
                for px in 0..pw {
                    let mut m = u32::MAX;
                    for y in 2 * py..(2 * py + 2).min(lh) {
                        for x in 2 * px..(2 * px + 2).min(lw) {
                            m = m.min(value[start + y * lw + x]);
                        }
                    }
                    value.push(m);
                }
            }
            levels.push((pw, ph, offset));
            lw = pw;
            lh = ph;
        }
        let n = value.len();
        TagTree {
            levels,
            value,
            low: vec![0; n],
            known: vec![false; n],
        }
    }

    /// Code what the leaf at (`x`, `y`) says below `threshold`: whether its value is under
    /// it and, when it is, the value.
    pub(crate) fn encode(&mut self, x: usize, y: usize, threshold: u32, bits: &mut HeaderBits<'_>) {
        let mut path = [0usize; 32];
        let depth = self.levels.len();
        for (k, &(lw, _, offset)) in self.levels.iter().enumerate() {
            path[k] = offset + (y >> k) * lw + (x >> k);
        }
        let mut low = 0;
        for &node in path[..depth].iter().rev() {
            if low > self.low[node] {
                self.low[node] = low;
            } else {
                low = self.low[node];
            }
            while low < threshold {
                if low >= self.value[node] {
                    if !self.known[node] {
                        bits.bit(1);
                        self.known[node] = true;
                    }
                    break;
                }
                bits.bit(0);
                low += 1;
            }
            self.low[node] = low;
        }
    }
}

/// One sub-band's coded code-blocks, in raster order over its grid.
pub(crate) struct BandBlocks {
    pub(crate) grid_w: usize,
    pub(crate) grid_h: usize,
    /// Each block's segment (empty: not included).
    pub(crate) segments: Vec<(usize, usize)>, // (start, len) in the shared data
    /// Missing most significant bit-planes of the band's included blocks (K_max - 1).
    pub(crate) zero_planes: u32,
}

/// Append the packet of one precinct holding `bands` (one quality layer, one pass per
/// included block): header, then the blocks' segments from `data`.
pub(crate) fn packet(bands: &[BandBlocks], data: &[u8], out: &mut Vec<u8>) {
    let included = bands
        .iter()
        .any(|b| b.segments.iter().any(|&(_, len)| len > 0));
    let mut bits = HeaderBits::new(out);
    if !included {
        bits.bit(0);
        bits.finish();
        return;
    }
    bits.bit(1);
    for band in bands {
        if band.segments.is_empty() {
            continue;
        }
        let incl: Vec<u32> = band
            .segments
            .iter()
            .map(|&(_, len)| u32::from(len == 0))
            .collect();
        let planes = vec![band.zero_planes; band.segments.len()];
        let mut inclusion = TagTree::new(band.grid_w, band.grid_h, &incl);
        let mut zero = TagTree::new(band.grid_w, band.grid_h, &planes);
        for (i, &(_, len)) in band.segments.iter().enumerate() {
            let (x, y) = (i % band.grid_w, i / band.grid_w);
            inclusion.encode(x, y, 1, &mut bits);
            if len == 0 {
                continue;
            }
            zero.encode(x, y, u32::MAX, &mut bits);
            bits.bit(0); // one coding pass
                         // Lblock starts at 3; raise it (a 1 bit each) until the length fits.
            let need = usize::BITS - len.leading_zeros();
            let mut lblock = 3;
            while need > lblock {
                bits.bit(1);
                lblock += 1;
            }
            bits.bit(0);
            bits.bits(len as u32, lblock);
        }
    }
    bits.finish();
    for band in bands {
        for &(start, len) in &band.segments {
            out.extend_from_slice(&data[start..start + len]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_bits_stuff_after_ff() {
        let mut out = Vec::new();
        let mut b = HeaderBits::new(&mut out);
        b.bits(0xFF, 8);
        b.bits(0x7F, 7);
        b.bits(1, 1);
        b.finish();
        assert_eq!(out, [0xFF, 0x7F, 0x80]);
        let mut out = Vec::new();
        let mut b = HeaderBits::new(&mut out);
        b.bits(0xFF, 8);
        b.finish();
        assert_eq!(out, [0xFF, 0x00]);
    }

    #[test]
    fn tag_tree_codes_a_lone_value() {
        // One leaf of value 2, coded in full: 0 0 1.
        let mut out = Vec::new();
        let mut b = HeaderBits::new(&mut out);
        let mut t = TagTree::new(1, 1, &[2]);
        t.encode(0, 0, u32::MAX, &mut b);
        b.finish();
        assert_eq!(out, [0b0010_0000]);
    }
}
