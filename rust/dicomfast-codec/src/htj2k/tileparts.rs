//! The RPCL syntax's resolution breakpoints: OpenJPH 0.9 writes the tile as one tile-part;
//! PS3.5 10.18 wants the TLM marker to let a reader find where each resolution ends. So the
//! packet headers of OpenJPH's tile are read (T.800 B.10, with 15444-15's HT code-blocks:
//! one layer, one precinct per resolution, one Cleanup pass per code-block) to find each
//! resolution's last byte, and the tile is rewritten as one tile-part per resolution, all
//! listed in a TLM marker segment (T.800 A.7.1). Only what is read back exactly, packet
//! after packet to the EOC marker, is split; anything else keeps its single tile-part.

/// Code-block side (OpenJPH's 64 x 64; precincts are the default 2^15, so whole bands).
const CB: u32 = 64;

/// Packet header bits (T.800 B.10.1): after a 0xFF byte, the next holds 7 bits.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    last: u8,
    left: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], pos: usize) -> Self {
        Bits {
            data,
            pos,
            last: 0,
            left: 0,
        }
    }

    fn bit(&mut self) -> Option<u32> {
        if self.left == 0 {
            let stuffed = self.last == 0xFF;
            self.last = *self.data.get(self.pos)?;
            self.pos += 1;
            self.left = if stuffed { 7 } else { 8 };
        }
        self.left -= 1;
        Some(u32::from(self.last >> self.left & 1))
    }

    fn bits(&mut self, n: u32) -> Option<u32> {
        (0..n).try_fold(0, |v, _| Some(v << 1 | self.bit()?))
    }

    /// The header's end: the rest of the byte, and the byte after a 0xFF.
    fn align(&mut self) -> Option<usize> {
        if self.last == 0xFF {
            self.data.get(self.pos)?;
            self.pos += 1;
        }
        self.left = 0;
        self.last = 0;
        Some(self.pos)
    }
}

/// A tag tree (T.800 B.10.2) over `w` x `h` leaves, decoded bit by bit.
struct TagTree {
    /// Node widths and first indices of each level, leaves first.
    levels: Vec<(u32, usize)>,
    value: Vec<u32>,
    low: Vec<u32>,
}

impl TagTree {
    fn new(mut w: u32, mut h: u32) -> Self {
        let mut levels = Vec::new();
        let mut n = 0usize;
        loop {
            levels.push((w, n));
            n += (w * h) as usize;
            if w == 1 && h == 1 {
                break;
            }
            w = w.div_ceil(2);
            h = h.div_ceil(2);
        }
        TagTree {
            levels,
            value: vec![u32::MAX; n],
            low: vec![0; n],
        }
    }

    /// Whether leaf (x, y)'s value is below `threshold`.
    fn below(&mut self, bits: &mut Bits<'_>, x: u32, y: u32, threshold: u32) -> Option<bool> {
        let path: Vec<usize> = self
            .levels
            .iter()
            .enumerate()
            .map(|(k, &(w, first))| first + ((y >> k) * w + (x >> k)) as usize)
            .collect();
        let mut low = 0;
        for &node in path.iter().rev() {
            low = low.max(self.low[node]);
            while low < threshold && low < self.value[node] {
                if bits.bit()? == 1 {
                    self.value[node] = low;
                } else {
                    low += 1;
                }
            }
            self.low[node] = low;
        }
        Some(self.value[path[0]] < threshold)
    }
}

/// The number of coding passes (T.800 Table B.4).
fn passes(bits: &mut Bits<'_>) -> Option<u32> {
    if bits.bit()? == 0 {
        return Some(1);
    }
    if bits.bit()? == 0 {
        return Some(2);
    }
    let two = bits.bits(2)?;
    if two < 3 {
        return Some(3 + two);
    }
    let five = bits.bits(5)?;
    if five < 31 {
        return Some(6 + five);
    }
    Some(37 + bits.bits(7)?)
}

/// One packet's header from `pos`: where the header ends and how many body bytes follow.
fn packet(data: &[u8], pos: usize, bands: &[(u32, u32)]) -> Option<(usize, usize)> {
    let mut bits = Bits::new(data, pos);
    if bits.bit()? == 0 {
        return Some((bits.align()?, 0));
    }
    let mut body = 0usize;
    for &(bw, bh) in bands {
        let (nx, ny) = (bw.div_ceil(CB), bh.div_ceil(CB));
        if nx == 0 || ny == 0 {
            continue;
        }
        let mut inclusion = TagTree::new(nx, ny);
        let mut zero_planes = TagTree::new(nx, ny);
        for y in 0..ny {
            for x in 0..nx {
                if !inclusion.below(&mut bits, x, y, 1)? {
                    continue;
                }
                let mut planes = 0;
                while !zero_planes.below(&mut bits, x, y, planes)? {
                    planes += 1;
                    if planes > 64 {
                        return None;
                    }
                }
                if passes(&mut bits)? != 1 {
                    return None; // OpenJPH codes the Cleanup pass only
                }
                let mut lblock = 3;
                while bits.bit()? == 1 {
                    lblock += 1;
                    if lblock > 32 {
                        return None;
                    }
                }
                body += bits.bits(lblock)? as usize;
            }
        }
    }
    Some((bits.align()?, body))
}

/// The sub-band sizes of resolution `r` of a `w` x `h` tile at the origin with `levels`
/// decompositions (T.800 B.5): LL alone at r = 0, else HL, LH, HH.
fn bands(w: u32, h: u32, levels: u32, r: u32) -> Vec<(u32, u32)> {
    let low = |v: u32, n: u32| (u64::from(v) + (1u64 << n) - 1) >> n;
    let high = |v: u32, n: u32| (u64::from(v) + (1u64 << (n - 1)) - 1) >> n;
    if r == 0 {
        return vec![(low(w, levels) as u32, low(h, levels) as u32)];
    }
    let n = levels - r + 1;
    let (lw, lh, hw, hh) = (low(w, n), low(h, n), high(w, n), high(h, n));
    vec![
        (hw as u32, lh as u32),
        (lw as u32, hh as u32),
        (hw as u32, hh as u32),
    ]
}

/// `cs` (one tile, one tile-part, RPCL, ending with EOC; its main header ends at `sot`) as
/// one tile-part per resolution with a TLM marker segment listing them; None when its
/// packets do not read back exactly.
pub(super) fn split(
    cs: &[u8],
    sot: usize,
    (w, h, comps, levels): (u32, u32, u32, u32),
) -> Option<Vec<u8>> {
    let sod = sot + 12;
    if cs.get(sod..sod + 2)? != [0xFF, 0x93] || !cs.ends_with(&[0xFF, 0xD9]) {
        return None;
    }
    let end = cs.len() - 2;
    let mut pos = sod + 2;
    let mut parts = Vec::new();
    for r in 0..=levels {
        let start = pos;
        let b = bands(w, h, levels, r);
        for _ in 0..comps {
            let (header_end, body) = packet(&cs[..end], pos, &b)?;
            pos = header_end.checked_add(body).filter(|&p| p <= end)?;
        }
        parts.push(start..pos);
    }
    if pos != end || parts.len() > 255 {
        return None;
    }
    let n = parts.len();
    let mut out = Vec::with_capacity(cs.len() + 6 + 5 * n + 12 * n);
    out.extend_from_slice(&cs[..sot]);
    // TLM: Ztlm 0; Stlm ST = 1 (8-bit Ttlm), SP = 1 (32-bit Ptlm).
    out.extend_from_slice(&[0xFF, 0x55]);
    out.extend_from_slice(&((4 + 5 * n) as u16).to_be_bytes());
    out.extend_from_slice(&[0x00, 0x50]);
    let psot = |part: &std::ops::Range<usize>| (14 + part.len()) as u32;
    for part in &parts {
        out.push(0);
        out.extend_from_slice(&psot(part).to_be_bytes());
    }
    for (k, part) in parts.iter().enumerate() {
        out.extend_from_slice(&[0xFF, 0x90, 0x00, 0x0A, 0x00, 0x00]);
        out.extend_from_slice(&psot(part).to_be_bytes());
        out.extend_from_slice(&[k as u8, n as u8, 0xFF, 0x93]);
        out.extend_from_slice(&cs[part.clone()]);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_sizes() {
        // 130 x 100, 2 levels: LL 33 x 25; r1 (n = 2) HL 32 x 25, LH 33 x 25, HH 32 x 25;
        // r2 (n = 1) HL 65 x 50, LH 65 x 50, HH 65 x 50.
        assert_eq!(bands(130, 100, 2, 0), [(33, 25)]);
        assert_eq!(bands(130, 100, 2, 1), [(32, 25), (33, 25), (32, 25)]);
        assert_eq!(bands(130, 100, 2, 2), [(65, 50), (65, 50), (65, 50)]);
        assert_eq!(bands(1, 1, 3, 2), [(0, 1), (1, 0), (0, 0)]);
    }

    #[test]
    fn bit_stuffing() {
        let data = [0xFF, 0x7F, 0x80];
        let mut b = Bits::new(&data, 0);
        assert_eq!(b.bits(8), Some(0xFF));
        assert_eq!(b.bits(7), Some(0x7F)); // the stuffed bit skipped
        assert_eq!(b.align(), Some(2));
        let mut b = Bits::new(&data, 0);
        b.bits(3);
        assert_eq!(b.align(), Some(2)); // the byte after a 0xFF belongs to the header
    }
}
