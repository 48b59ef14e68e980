//! The tile's packets (T.800 B.9-B.12): which precinct each packet is, in the
//! progression's order, and from each packet header the code-blocks it carries (their
//! missing bit-planes, coding passes and codeword segments), over any number of quality
//! layers. An HT code-block with more than its cleanup pass is
//! [`DecodeError::Unsupported`]. A Part 1 code-block may have many passes, in one
//! codeword segment or (with the bypass or termination on each pass) several, each part
//! of one with its length in a packet header.

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
    /// Its bytes are in [`Tile::gathered`] (they came in more than one packet), not in
    /// the tile's data.
    pub(crate) gathered: bool,
}

/// What the packets say of a tile's code-blocks.
#[derive(Default)]
pub(crate) struct Tile {
    pub(crate) blocks: Vec<Block>,
    /// Every block's codeword segments, a block's [`Block::first`] on.
    pub(crate) segments: Vec<Segment>,
    /// The bytes of blocks that came in more than one packet, each one's together.
    pub(crate) gathered: Vec<u8>,
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

/// A code-block as the packets of its precinct have told it so far.
#[derive(Default)]
struct Seen {
    included: bool,
    missing: u32,
    lblock: u32,
    passes: u32,
    /// Its number among the tile's blocks (as first seen), which its pieces and
    /// segments in [`read`]'s lists carry.
    id: u32,
    /// Its last codeword segment in [`read`]'s list while still open (its last pass did
    /// not end it).
    open: Option<usize>,
}

/// One band of a precinct: its code-blocks (a range of the band's grid), their tag trees
/// and what each has been told.
struct BandState {
    x0: usize,
    y0: usize,
    cols: usize,
    inclusion: TagTree,
    zero: TagTree,
    blocks: Vec<Seen>,
}

/// Every code-block of the tile, from the packets in `data` (the tile's packet data), and
/// where each one's bytes are: `layout` is [`crate::bands::bands`] of the tile. With
/// them, every block's codeword segments (length, coding passes). A block whose bytes
/// came in more than one packet (quality layers) has them gathered, one after the
/// other, in the third list returned (its [`Block::gathered`]).
pub(crate) fn read(p: &Params, layout: &[Vec<Band>], data: &[u8]) -> Result<Tile, DecodeError> {
    let comps = p.depth.len();
    let levels = p.levels as usize;
    let layers = p.layers as usize;
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
    if count * layers as u128 > data.len() as u128 {
        return Err(corrupt("more packets than the tile has bytes"));
    }
    let mut precincts = Vec::with_capacity(count as usize);
    for comp in 0..comps {
        for (r, g) in geometry.iter().enumerate() {
            let (ppx, ppy) = p.precincts[r];
            let up = (levels - r) as u32;
            for py in 0..g.5 {
                for px in 0..g.4 {
                    precincts.push(Precinct {
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
    // The packets, (layer, precinct), in the progression's order (T.800 B.12.1).
    let mut order: Vec<(usize, usize)> = (0..layers)
        .flat_map(|l| (0..precincts.len()).map(move |q| (l, q)))
        .collect();
    let key = |&(l, q): &(usize, usize)| {
        let c = &precincts[q];
        let (r, k, y, x) = (c.res as u128, c.comp as u128, c.y, c.x);
        let (l, py, px) = (l as u128, c.py as u128, c.px as u128);
        match p.progression {
            0 => (l, r, k, py, px),
            1 => (r, l, k, py, px),
            2 => (r, y, x, k, l),
            3 => (y, x, k, r, l),
            _ => (k, y, x, r, l),
        }
    };
    order.sort_by_key(key);

    // The first band of each resolution in the flattened list.
    let first_band: Vec<usize> = (0..=levels)
        .map(|r| if r == 0 { 0 } else { 3 * r - 2 })
        .collect();
    // Each precinct's bands, made when its first packet comes.
    let mut states: Vec<Option<Vec<BandState>>> = (0..precincts.len()).map(|_| None).collect();
    // Every block's bytes in the tile's data (block, start, length) and codeword segments
    // (block, length, passes), in the packets' order: one list each for the tile rather
    // than two per block, grouped by block at the end.
    let mut pieces: Vec<(u32, usize, usize)> = Vec::new();
    let mut segs: Vec<(u32, Segment)> = Vec::new();
    let mut ids = 0u32;
    let mut pos = 0;
    let mut fresh: Vec<(usize, usize, usize)> = Vec::new();
    for &(layer, qi) in &order {
        let q = &precincts[qi];
        let (bx, by, cx, cy, _, _) = geometry[q.res];
        let bands = states[qi].get_or_insert_with(|| {
            layout[q.res]
                .iter()
                .map(|band| {
                    // This precinct's code-blocks of the band.
                    let (gw, gh) = (band.w.div_ceil(1 << cx), band.h.div_ceil(1 << cy));
                    let (perx, pery) = (1usize << (bx - cx), 1usize << (by - cy));
                    let (x0, x1) = ((q.px * perx).min(gw), ((q.px + 1) * perx).min(gw));
                    let (y0, y1) = ((q.py * pery).min(gh), ((q.py + 1) * pery).min(gh));
                    let (cols, rows) = (x1 - x0, y1 - y0);
                    BandState {
                        x0,
                        y0,
                        cols,
                        inclusion: TagTree::new(cols, rows),
                        zero: TagTree::new(cols, rows),
                        blocks: (0..cols * rows)
                            .map(|_| {
                                ids += 1;
                                Seen {
                                    id: ids - 1,
                                    ..Seen::default()
                                }
                            })
                            .collect(),
                    }
                })
                .collect()
        });
        if p.sop && data.get(pos..pos + 2) == Some(&[0xFF, 0x91]) {
            pos += 6;
        }
        let mut bits = HeaderBits {
            data,
            pos,
            byte: 0,
            left: 0,
        };
        // The blocks with bytes in this packet: (band, block, length).
        fresh.clear();
        if bits.bit()? == 1 {
            for (k, band) in bands.iter_mut().enumerate() {
                for b in 0..band.blocks.len() {
                    let (tx, ty) = (b % band.cols, b / band.cols);
                    let seen = &mut band.blocks[b];
                    if !seen.included {
                        if band
                            .inclusion
                            .decode(tx, ty, layer as u32 + 1, &mut bits)?
                            .is_none()
                        {
                            continue;
                        }
                        let mut missing = None;
                        for t in 1..=74 {
                            missing = band.zero.decode(tx, ty, t, &mut bits)?;
                            if missing.is_some() {
                                break;
                            }
                        }
                        let seen = &mut band.blocks[b];
                        seen.missing = missing.ok_or_else(|| {
                            corrupt("a code-block missing more than 74 bit-planes")
                        })?;
                        seen.included = true;
                        seen.lblock = 3;
                    } else if bits.bit()? == 0 {
                        continue;
                    }
                    let seen = &mut band.blocks[b];
                    let n = passes(&mut bits)?;
                    if p.ht && (n != 1 || seen.passes != 0) {
                        return Err(DecodeError::Unsupported(
                            "HT code-blocks with refinement passes".into(),
                        ));
                    }
                    while bits.bit()? == 1 {
                        seen.lblock += 1;
                        if seen.lblock > 32 {
                            return Err(corrupt("a code-block length of more than 32 bits"));
                        }
                    }
                    // Each codeword segment's part (T.800 B.10.7): Lblock bits, and one
                    // more for each doubling of the passes it holds.
                    let mut len = 0usize;
                    let mut run = 0u32;
                    for j in 0..n {
                        let pass = seen.passes + j;
                        run += 1;
                        let ends = !p.ht && super::ebcot::ends_segment(pass, p.style);
                        if j + 1 == n || ends {
                            let width = seen.lblock + 31 - run.leading_zeros();
                            if width > 32 {
                                return Err(corrupt("a code-block length of more than 32 bits"));
                            }
                            let l = bits.bits(width)?;
                            let at = match seen.open {
                                Some(k) => {
                                    let last = &mut segs[k].1;
                                    last.0 = last.0.saturating_add(l);
                                    last.1 += run;
                                    k
                                }
                                None => {
                                    segs.push((seen.id, (l, run)));
                                    segs.len() - 1
                                }
                            };
                            seen.open = (!ends).then_some(at);
                            len += l as usize;
                            run = 0;
                        }
                    }
                    seen.passes += n;
                    if seen.passes > 164 {
                        return Err(corrupt("a code-block of more than 164 coding passes"));
                    }
                    fresh.push((k, b, len));
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
        for &(k, b, len) in &fresh {
            pieces.push((bands[k].blocks[b].id, pos, len));
            pos += len;
        }
        if pos > data.len() {
            return Err(corrupt(
                "a packet's code-block data runs past the tile's data",
            ));
        }
    }

    // Each block's pieces and segments together, in their order (a counting sort by
    // block; already so with one layer).
    let pieces = group(pieces, ids as usize, |p| p.0);
    let segs = group(segs, ids as usize, |s| s.0);
    // Every block of every precinct a packet was read for: those included with their
    // bytes where they lie or gathered, the others with none (zeros).
    let mut tile = Tile::default();
    for (qi, bands) in states.iter().enumerate() {
        let Some(bands) = bands else { continue };
        let q = &precincts[qi];
        let (_, _, cx, cy, _, _) = geometry[q.res];
        for (k, (band, state)) in layout[q.res].iter().zip(bands).enumerate() {
            for (b, seen) in state.blocks.iter().enumerate() {
                let (gx, gy) = (state.x0 + b % state.cols, state.y0 + b / state.cols);
                let (x, y) = (gx << cx, gy << cy);
                let (w, h) = ((band.w - x).min(1 << cx), (band.h - y).min(1 << cy));
                let band = first_band[q.res] + k;
                if !seen.included {
                    tile.blocks.push(Block {
                        comp: q.comp,
                        band,
                        x,
                        y,
                        w,
                        h,
                        start: 0,
                        len: 0,
                        missing: 0,
                        first: tile.segments.len() as u32,
                        count: 0,
                        gathered: false,
                    });
                    continue;
                }
                let id = seen.id as usize;
                let mine = &pieces.0[pieces.1[id]..pieces.1[id + 1]];
                let len: usize = mine.iter().map(|p| p.2).sum();
                let (start, gathered) = match mine {
                    [(_, start, _)] => (*start, false),
                    _ => {
                        let start = tile.gathered.len();
                        for &(_, at, n) in mine {
                            tile.gathered.extend_from_slice(&data[at..at + n]);
                        }
                        (start, true)
                    }
                };
                let first = tile.segments.len() as u32;
                let its = &segs.0[segs.1[id]..segs.1[id + 1]];
                tile.segments.extend(its.iter().map(|s| s.1));
                tile.blocks.push(Block {
                    comp: q.comp,
                    band,
                    x,
                    y,
                    w,
                    h,
                    start,
                    len,
                    missing: seen.missing,
                    first,
                    count: its.len() as u32,
                    gathered,
                });
            }
        }
    }
    Ok(tile)
}

/// `items` grouped by `key` (below `n`), each group in its first order, and where each
/// group starts (`n + 1` offsets): a counting sort, which leaves a list already grouped
/// as it was.
fn group<T: Copy>(items: Vec<T>, n: usize, key: impl Fn(&T) -> u32) -> (Vec<T>, Vec<usize>) {
    let mut starts = vec![0usize; n + 1];
    for it in &items {
        starts[key(it) as usize + 1] += 1;
    }
    for k in 0..n {
        starts[k + 1] += starts[k];
    }
    if items.windows(2).all(|w| key(&w[0]) <= key(&w[1])) {
        return (items, starts);
    }
    let mut at = starts.clone();
    let mut out = items.clone();
    for it in items {
        let k = key(&it) as usize;
        out[at[k]] = it;
        at[k] += 1;
    }
    (out, starts)
}
