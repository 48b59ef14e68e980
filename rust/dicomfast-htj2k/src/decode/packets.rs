//! The tile's packets (T.800 B.9-B.12): which precinct each packet is, in the
//! progression's order, and from each packet header the code-blocks it carries (their
//! missing bit-planes, coding passes and codeword segments). One quality layer; an HT
//! code-block with more than its cleanup pass is [`DecodeError::Unsupported`]. A Part 1
//! code-block may have many passes, in one codeword segment or (with the bypass or
//! termination on each pass) several, each with its length in the header.

use super::markers::Params;
use super::DecodeError;
use crate::bands::Band;

/// One code-block of one component's band, with its codeword segment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Block {
    pub(crate) comp: usize,
    /// The band's index in [`crate::bands::bands`]' flattened order.
    pub(crate) band: usize,
    /// Where the block is in the band, and its size.
    pub(crate) x: usize,
    pub(crate) y: usize,
    pub(crate) w: usize,
    pub(crate) h: usize,
    /// Its segment in the tile's packet data (empty: not included).
    pub(crate) start: usize,
    pub(crate) len: usize,
    /// Missing most significant bit-planes.
    pub(crate) missing: u32,
    /// Its codeword segments (one for an HT block): `segments[first..first + count]` of
    /// [`read`]'s list, their bytes one after the other from `start`.
    pub(crate) first: u32,
    pub(crate) count: u32,
}

/// A codeword segment: its length in bytes and the coding passes it holds.
pub(crate) type Segment = (u32, u32);

fn corrupt(what: &str) -> DecodeError {
    DecodeError::Corrupt(what.to_string())
}

/// Packet header bits, most significant first; after a 0xFF byte the next one's top bit
/// is a stuffed 0.
struct HeaderBits<'a> {
    data: &'a [u8],
    pos: usize,
    byte: u32,
    left: u32,
}

impl<'a> HeaderBits<'a> {
    fn bit(&mut self) -> Result<u32, DecodeError> {
        if self.left == 0 {
            let stuffed = self.byte == 0xFF;
            let Some(&b) = self.data.get(self.pos) else {
                return Err(corrupt("a packet header runs past the tile's data"));
            };
            self.pos += 1;
            self.byte = u32::from(b);
            self.left = 8 - u32::from(stuffed);
        }
        self.left -= 1;
        Ok((self.byte >> self.left) & 1)
    }

    fn bits(&mut self, n: u32) -> Result<u32, DecodeError> {
        let mut v = 0;
        for _ in 0..n {
            v = (v << 1) | self.bit()?;
        }
        Ok(v)
    }

    /// The header ends at a byte boundary; after a final 0xFF, one more byte.
    fn finish(&mut self) -> usize {
        if self.byte == 0xFF && self.pos > 0 {
            self.pos += 1;
        }
        self.left = 0;
        self.byte = 0;
        self.pos
    }
}

/// A tag tree's decoder (B.10.2) over a `w` x `h` grid.
struct TagTree {
    /// (width, offset of the level's first node), from the leaves up.
    levels: Vec<(usize, usize)>,
    value: Vec<u32>,
    low: Vec<u32>,
}

impl TagTree {
    fn new(w: usize, h: usize) -> Self {
        let mut levels = vec![(w, 0)];
        let (mut lw, mut lh, mut n) = (w, h, w * h);
        while lw * lh > 1 {
            lw = lw.div_ceil(2);
            lh = lh.div_ceil(2);
            levels.push((lw, n));
            n += lw * lh;
        }
        TagTree {
            levels,
            value: vec![u32::MAX; n],
            low: vec![0; n],
        }
    }

    /// Decode the leaf at (`x`, `y`) up to `threshold`: its value if below it.
    fn decode(
        &mut self,
        x: usize,
        y: usize,
        threshold: u32,
        bits: &mut HeaderBits<'_>,
    ) -> Result<Option<u32>, DecodeError> {
        let mut low = 0;
        for (k, &(lw, offset)) in self.levels.iter().enumerate().rev() {
            let node = offset + (y >> k) * lw + (x >> k);
            if low > self.low[node] {
                self.low[node] = low;
            } else {
                low = self.low[node];
            }
            while low < threshold && low < self.value[node] {
                if bits.bit()? == 1 {
                    self.value[node] = low;
                } else {
                    low += 1;
                }
            }
            self.low[node] = low;
        }
        let leaf = self.value[(y * self.levels[0].0) + x];
        Ok((leaf < threshold).then_some(leaf))
    }
}

/// The number of coding passes (T.800 Table B.4).
fn passes(bits: &mut HeaderBits<'_>) -> Result<u32, DecodeError> {
    if bits.bit()? == 0 {
        return Ok(1);
    }
    if bits.bit()? == 0 {
        return Ok(2);
    }
    let v = bits.bits(2)?;
    if v != 3 {
        return Ok(3 + v);
    }
    let v = bits.bits(5)?;
    if v != 31 {
        return Ok(6 + v);
    }
    Ok(37 + bits.bits(7)?)
}

/// A precinct of a resolution: its index in the resolution's raster and where it sits on
/// the reference grid (for the position-first progressions).
struct Precinct {
    comp: usize,
    res: usize,
    px: usize,
    py: usize,
    x: u128,
    y: u128,
}

/// Every code-block of the tile, from the packets in `data` (the tile's packet data):
/// `layout` is [`crate::bands::bands`] of the tile. With them, every block's codeword
/// segments: (length, coding passes).
pub(crate) fn read(
    p: &Params,
    layout: &[Vec<Band>],
    data: &[u8],
) -> Result<(Vec<Block>, Vec<Segment>), DecodeError> {
    let comps = p.depth.len();
    let levels = p.levels as usize;
    let sizes = crate::dwt::sizes(p.width, p.height, p.levels);
    // Each resolution: precinct exponents in its bands, code-block exponents, precincts.
    let mut geometry = Vec::with_capacity(levels + 1);
    let mut count: u128 = 0;
    for r in 0..=levels {
        let (ppx, ppy) = p.precincts[r];
        let (rw, rh) = sizes[levels - r];
        let (bx, by) = (ppx - u32::from(r > 0), ppy - u32::from(r > 0));
        let (cx, cy) = (p.xcb.min(bx), p.ycb.min(by));
        let (npx, npy) = (
            (rw as u128).div_ceil(1u128 << ppx),
            (rh as u128).div_ceil(1u128 << ppy),
        );
        count += npx * npy * comps as u128;
        geometry.push((bx, by, cx, cy, npx as usize, npy as usize));
    }
    // Every packet has a byte at least.
    if count > data.len() as u128 {
        return Err(corrupt("more packets than the tile has bytes"));
    }
    let mut order = Vec::with_capacity(count as usize);
    for comp in 0..comps {
        for (r, g) in geometry.iter().enumerate() {
            let (ppx, ppy) = p.precincts[r];
            let up = (levels - r) as u32;
            for py in 0..g.5 {
                for px in 0..g.4 {
                    order.push(Precinct {
                        comp,
                        res: r,
                        px,
                        py,
                        x: (px as u128) << (ppx + up),
                        y: (py as u128) << (ppy + up),
                    });
                }
            }
        }
    }
    match p.progression {
        0 | 1 => order.sort_by_key(|q| (q.res, q.comp, q.py, q.px)),
        2 => order.sort_by_key(|q| (q.res, q.y, q.x, q.comp)),
        3 => order.sort_by_key(|q| (q.y, q.x, q.comp, q.res)),
        _ => order.sort_by_key(|q| (q.comp, q.y, q.x, q.res)),
    }

    // The first band of each resolution in the flattened list.
    let first_band: Vec<usize> = (0..=levels)
        .map(|r| if r == 0 { 0 } else { 3 * r - 2 })
        .collect();
    let mut blocks = Vec::new();
    let mut segments = Vec::new();
    let mut pos = 0;
    for q in &order {
        let (bx, by, cx, cy, _, _) = geometry[q.res];
        if p.sop && data.get(pos..pos + 2) == Some(&[0xFF, 0x91]) {
            pos += 6;
        }
        let mut bits = HeaderBits {
            data,
            pos,
            byte: 0,
            left: 0,
        };
        let present = bits.bit()? == 1;
        let from = blocks.len();
        if present {
            for (k, band) in layout[q.res].iter().enumerate() {
                // This precinct's code-blocks of the band.
                let (gw, gh) = (band.w.div_ceil(1 << cx), band.h.div_ceil(1 << cy));
                let (perx, pery) = (1usize << (bx - cx), 1usize << (by - cy));
                let (x0, x1) = ((q.px * perx).min(gw), ((q.px + 1) * perx).min(gw));
                let (y0, y1) = ((q.py * pery).min(gh), ((q.py + 1) * pery).min(gh));
                if x0 == x1 || y0 == y1 {
                    continue;
                }
                let mut inclusion = TagTree::new(x1 - x0, y1 - y0);
                let mut zero = TagTree::new(x1 - x0, y1 - y0);
                for gy in y0..y1 {
                    for gx in x0..x1 {
                        let (tx, ty) = (gx - x0, gy - y0);
                        if inclusion.decode(tx, ty, 1, &mut bits)?.is_none() {
                            continue;
                        }
                        let mut missing = None;
                        for t in 1..=74 {
                            missing = zero.decode(tx, ty, t, &mut bits)?;
                            if missing.is_some() {
                                break;
                            }
                        }
                        let missing = missing.ok_or_else(|| {
                            corrupt("a code-block missing more than 74 bit-planes")
                        })?;
                        let n = passes(&mut bits)?;
                        if p.ht && n != 1 {
                            return Err(DecodeError::Unsupported(
                                "HT code-blocks with refinement passes".into(),
                            ));
                        }
                        let mut lblock = 3;
                        while bits.bit()? == 1 {
                            lblock += 1;
                            if lblock > 32 {
                                return Err(corrupt("a code-block length of more than 32 bits"));
                            }
                        }
                        // Each codeword segment's length (T.800 B.10.7): Lblock bits, and
                        // one more for each doubling of the passes it holds.
                        let first = segments.len() as u32;
                        let mut len = 0usize;
                        let mut run = 0u32;
                        for k in 0..n {
                            run += 1;
                            if k + 1 == n || (!p.ht && super::ebcot::ends_segment(k, p.style)) {
                                let width = lblock + 31 - run.leading_zeros();
                                if width > 32 {
                                    return Err(corrupt(
                                        "a code-block length of more than 32 bits",
                                    ));
                                }
                                let l = bits.bits(width)?;
                                segments.push((l, run));
                                len += l as usize;
                                run = 0;
                            }
                        }
                        let (x, y) = (gx << cx, gy << cy);
                        blocks.push(Block {
                            comp: q.comp,
                            band: first_band[q.res] + k,
                            x,
                            y,
                            w: (band.w - x).min(1 << cx),
                            h: (band.h - y).min(1 << cy),
                            start: 0,
                            len,
                            missing,
                            first,
                            count: segments.len() as u32 - first,
                        });
                    }
                }
            }
        }
        pos = bits.finish();
        if p.eph {
            if data.get(pos..pos + 2) != Some(&[0xFF, 0x92]) {
                return Err(corrupt("a packet header without its EPH marker"));
            }
            pos += 2;
        }
        for b in &mut blocks[from..] {
            b.start = pos;
            pos += b.len;
        }
        if pos > data.len() {
            return Err(corrupt(
                "a packet's code-block data runs past the tile's data",
            ));
        }
    }
    Ok((blocks, segments))
}
