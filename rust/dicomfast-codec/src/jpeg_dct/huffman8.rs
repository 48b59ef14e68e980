//! 8-bit sequential Huffman-coded frames (SOF0 / SOF1) of one component, or of three in
//! one interleaved scan: the entropy decoding is ours, the inverse DCT libjpeg-turbo's own
//! (`jsimd_idct_islow_avx2`, the function its decompressor calls for such a frame),
//! written straight into the caller's rows (grey) or into planes of whole blocks (colour,
//! [`decode_colour`], upsampled by the caller as libjpeg-turbo upsamples). The samples
//! are libjpeg-turbo's, bit for bit: what differs is only the work around the two, with
//! no copy of the rows, no per-frame set-up of a decompressor, Huffman tables kept from
//! frame to frame, and codes decoded up to two symbols (code and value bits) per table
//! lookup.
//!
//! Only a frame libjpeg-turbo decodes without a warning is decoded here: anything else
//! (a table it would refuse, a bad code, a restart marker out of turn, data cut short, a
//! coefficient past the block's end, a marker other than EOI after the scan) is left to
//! it ([`decode`] says `false`, [`decode_colour`] None, and the caller asks
//! libjpeg-turbo), so that its errors and warnings, and its samples for damaged data,
//! stay the ones users get.

use std::cell::RefCell;

/// Bits a lookup table is indexed by.
const LOOKUP: u32 = 11;
const ENTRIES: usize = 1 << LOOKUP;

/// The zig-zag order (T.81 Figure A.6): natural index of the k-th coefficient; past 63,
/// the spare slot 64 (never read by the inverse DCT).
const ZIGZAG: [u8; 256] = {
    const Z: [u8; 64] = [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27,
        20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    ];
    let mut t = [64u8; 256];
    let mut i = 0;
    while i < 64 {
        t[i] = Z[i];
        i += 1;
    }
    t
};

/// A Huffman table (T.81 C, F.2.2.3) as the decoder reads it.
struct Table {
    /// Per [`LOOKUP`] bits: see [`entry`] (AC) or [`dc_entry`] (DC); 0 when the first code
    /// is longer, or (AC) its value bits do not fit.
    fast: Vec<u64>,
    /// Canonical decoding for the rest (F.2.2.3): per length, the largest code (-1 none),
    /// and the index of its first value minus its first code.
    maxcode: [i32; 18],
    offset: [i32; 17],
    values: [u8; 256],
}

// An AC entry's fields.
const N_TOTAL: u64 = 0x1F; // bits of the symbols the entry takes
const EOB_FIRST: u64 = 1 << 10;
const EOB_SECOND: u64 = 1 << 11;
fn n_first(e: u64) -> u32 {
    ((e >> 5) & 0x1F) as u32
}
fn advance_first(e: u64) -> usize {
    ((e >> 12) & 0x1F) as usize
}
/// The second symbol's step from the first (r + 1), or 128 for none (its store then goes
/// to the spare slot; its advance, masked, is 0).
fn step_second(e: u64) -> usize {
    ((e >> 17) & 0xFF) as usize
}
fn value_first(e: u64) -> i16 {
    (e >> 32) as u16 as i16
}
fn value_second(e: u64) -> i16 {
    (e >> 48) as u16 as i16
}

/// HUFF_EXTEND (T.81 F.2.2.1): `bits` (s of them) as a signed value.
fn extend(bits: u32, s: u32) -> i32 {
    if s == 0 {
        0
    } else if bits < 1 << (s - 1) {
        bits as i32 - (1 << s) + 1
    } else {
        bits as i32
    }
}

impl Table {
    /// The table of a DHT's counts (16) and values, as libjpeg-turbo accepts it
    /// (`jpeg_make_d_derived_tbl`): None for what it refuses.
    fn new(counts: &[u8], values: &[u8], dc: bool) -> Option<Table> {
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        if total > 256 || values.len() < total {
            return None;
        }
        if dc && values[..total].iter().any(|&v| v > 15) {
            return None;
        }
        let mut t = Table {
            fast: Vec::new(),
            maxcode: [-1; 18],
            offset: [0; 17],
            values: [0; 256],
        };
        t.values[..total].copy_from_slice(&values[..total]);
        // Codes of each length (C.2), checked as libjpeg-turbo does.
        let mut code = 0u32;
        let mut k = 0usize;
        // (length, code) of each symbol, in order.
        let mut codes = Vec::with_capacity(total);
        for l in 1..=16u32 {
            let n = usize::from(counts[l as usize - 1]);
            if n > 0 {
                t.offset[l as usize] = k as i32 - code as i32;
                for _ in 0..n {
                    codes.push((l, code));
                    code += 1;
                    k += 1;
                }
                t.maxcode[l as usize] = code as i32 - 1;
            }
            if code >= 1 << l {
                return None;
            }
            code <<= 1;
        }
        t.maxcode[17] = i32::MAX;
        // The first code of each LOOKUP-bit index.
        let mut first = vec![(0u32, 0u8); ENTRIES];
        for (i, &(l, c)) in codes.iter().enumerate() {
            if l <= LOOKUP {
                let lo = (c << (LOOKUP - l)) as usize;
                let hi = lo + (1 << (LOOKUP - l));
                for f in &mut first[lo..hi] {
                    *f = (l, t.values[i]);
                }
            }
        }
        t.fast = vec![0; ENTRIES];
        for idx in 0..ENTRIES {
            let (cl, sym) = first[idx];
            if cl == 0 {
                continue;
            }
            let s = u32::from(sym & 15);
            if dc {
                if cl + s <= LOOKUP {
                    let bits = (idx as u32 >> (LOOKUP - cl - s)) & ((1 << s) - 1);
                    let v = extend(bits, s);
                    t.fast[idx] = u64::from(cl + s) | ((v as u32 as u64) << 32);
                }
                continue;
            }
            t.fast[idx] = entry(&first, idx, cl, sym);
        }
        Some(t)
    }

    /// One symbol by its canonical code (F.2.2.3) from the top of `buf` (at least 16
    /// bits): its length and value, or None for a code the table lacks.
    fn slow(&self, buf: u64) -> Option<(u32, u8)> {
        for l in 1..=16u32 {
            let code = (buf >> (64 - l)) as i32;
            if code <= self.maxcode[l as usize] {
                let i = (self.offset[l as usize] + code) as usize;
                return Some((l, *self.values.get(i)?));
            }
        }
        None
    }
}

/// The AC entry of index `idx`, whose first code is `cl` bits for symbol `sym`.
fn entry(first: &[(u32, u8)], idx: usize, cl: u32, sym: u8) -> u64 {
    let (r, s) = (u32::from(sym >> 4), u32::from(sym & 15));
    if s == 0 && r != 15 {
        // End of block (libjpeg-turbo ends a block at any run with no size but 15).
        return u64::from(cl) | (u64::from(cl) << 5) | EOB_FIRST;
    }
    let n1 = cl + s;
    if n1 > LOOKUP {
        return 0;
    }
    let bits = (idx as u32 >> (LOOKUP - n1)) & ((1 << s) - 1);
    let v1 = extend(bits, s) as i16;
    let head = (u64::from(n1) << 5) | (u64::from(r + 1) << 12) | (u64::from(v1 as u16) << 32);
    // A second symbol, when its code and value bits are in the rest of the index.
    let rest = LOOKUP - n1;
    let next = (idx << n1) & (ENTRIES - 1);
    let (cl2, sym2) = first[next];
    if cl2 != 0 && cl2 <= rest {
        let (r2, s2) = (u32::from(sym2 >> 4), u32::from(sym2 & 15));
        if s2 == 0 && r2 != 15 {
            return head | u64::from(n1 + cl2) | (128 << 17) | EOB_SECOND;
        }
        if cl2 + s2 <= rest {
            let bits2 = (next as u32 >> (LOOKUP - cl2 - s2)) & ((1 << s2) - 1);
            let v2 = extend(bits2, s2) as i16;
            return head
                | u64::from(n1 + cl2 + s2)
                | (u64::from(r2 + 1) << 17)
                | (u64::from(v2 as u16) << 48);
        }
    }
    head | u64::from(n1) | (128 << 17)
}

/// The bit reader over unstuffed entropy-coded data followed by at least 8 zero bytes:
/// the bits not yet taken at the top of `buf`, `count` of them.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u64,
    count: u32,
}

impl Bits<'_> {
    /// At least 56 bits in `buf`.
    #[inline(always)]
    fn refill(&mut self) {
        let w = match self.data.get(self.pos..self.pos + 8) {
            Some(b) => u64::from_be_bytes(b.try_into().unwrap()),
            None => 0,
        };
        self.buf |= w >> self.count;
        self.pos += ((63 - self.count) >> 3) as usize;
        self.count |= 56;
    }

    #[inline(always)]
    fn take(&mut self, n: u32) {
        self.buf <<= n;
        self.count -= n;
    }

    /// Bits read so far.
    fn read(&self) -> usize {
        self.pos * 8 - self.count as usize
    }
}

/// A DHT table's counts and values.
type Dht<'a> = (&'a [u8], &'a [u8]);

/// A component of the frame and its scan's tables.
struct Component<'a> {
    id: u8,
    /// Sampling factors (H, V).
    h: usize,
    v: usize,
    /// libjpeg-turbo's multipliers for its integer IDCT: the quantization values in
    /// natural order, as its 16-bit type.
    quant: [i16; 64],
    dc: Dht<'a>,
    ac: Dht<'a>,
}

/// The frame's parts as this decoder takes them: one component, or three in one
/// interleaved scan.
struct Frame<'a> {
    comps: Vec<Component<'a>>,
    interval: usize,
}

/// The segments of a DHT or DQT, and the frame, of `head` (SOI to SOS), and the scan's
/// tables; None for anything this decoder leaves to libjpeg-turbo.
fn frame<'a>(h: &super::header::Header<'a>) -> Option<Frame<'a>> {
    let head = h.head;
    let mut quant: [Option<[u16; 64]>; 4] = [None; 4];
    let mut huff: [[Option<Dht<'_>>; 4]; 2] = [[None; 4]; 2];
    let mut sof: Option<&[u8]> = None;
    let mut at = 2;
    while at < head.len() {
        if head[at] != 0xFF {
            return None;
        }
        // Fill bytes (0xFF) may come before a marker, the SOS's among them (T.81 B.1.1.2).
        let Some(&marker) = head.get(at + 1) else {
            break;
        };
        if marker == 0xFF {
            at += 1;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([*head.get(at + 2)?, *head.get(at + 3)?]));
        let seg = head.get(at + 4..at + 2 + len)?;
        match marker {
            0xDB => {
                let mut p = 0;
                while p < seg.len() {
                    let (pq, t) = (seg[p] >> 4, usize::from(seg[p] & 15));
                    // 16-bit tables (not baseline's) are left to libjpeg-turbo.
                    if pq != 0 {
                        return None;
                    }
                    let mut q = [0u16; 64];
                    for (k, v) in q.iter_mut().enumerate() {
                        *v = u16::from(*seg.get(p + 1 + k)?);
                    }
                    *quant.get_mut(t)? = Some(q);
                    p += 65;
                }
            }
            0xC4 => {
                let mut p = 0;
                while p < seg.len() {
                    let (tc, th) = (usize::from(seg[p] >> 4), usize::from(seg[p] & 15));
                    let counts = seg.get(p + 1..p + 17)?;
                    let n: usize = counts.iter().map(|&c| usize::from(c)).sum();
                    let values = seg.get(p + 17..p + 17 + n)?;
                    *huff.get_mut(tc)?.get_mut(th)? = Some((counts, values));
                    p += 17 + n;
                }
            }
            // P, Y, X, Nf, then per component C, H << 4 | V (each 1-4), Tq.
            0xC0 | 0xC1 => sof = Some(seg),
            0xDD if seg.len() == 2 => {}
            // A JFIF APP0 of another major version than 1: libjpeg-turbo warns.
            0xE0 if seg.len() >= 14 && seg[..5] == *b"JFIF\0" && seg[5] != 1 => return None,
            // APPn and COM; any other marker (one libjpeg-turbo refuses, or DNL) is left
            // to it.
            0xE0..=0xEF | 0xFE => {}
            _ => return None,
        }
        at += 2 + len;
    }
    let sof = sof?;
    let nf = usize::from(*sof.get(5)?);
    if *sof.first()? != 8 || !(nf == 1 || nf == 3) || sof.len() != 6 + 3 * nf {
        return None;
    }
    // SOS: the frame's components in its order, each once; Ss 0, Se 63, Ah Al 0.
    let sos = h.sos;
    if sos.len() != 8 + 2 * nf || usize::from(sos[4]) != nf || sos[5 + 2 * nf..] != [0, 63, 0] {
        return None;
    }
    let mut comps = Vec::with_capacity(nf);
    for c in 0..nf {
        let (id, hv, tq) = (sof[6 + 3 * c], sof[7 + 3 * c], usize::from(sof[8 + 3 * c]));
        let (hs, vs) = (usize::from(hv >> 4), usize::from(hv & 15));
        if !(1..=4).contains(&hs)
            || !(1..=4).contains(&vs)
            || comps.iter().any(|k: &Component<'_>| k.id == id)
        {
            return None;
        }
        if sos[5 + 2 * c] != id {
            return None;
        }
        let t = sos[6 + 2 * c];
        let (td, ta) = (usize::from(t >> 4), usize::from(t & 15));
        let q = (*quant.get(tq)?)?;
        let mut natural = [0i16; 64];
        for (k, &v) in q.iter().enumerate() {
            natural[usize::from(ZIGZAG[k])] = v as i16;
        }
        comps.push(Component {
            id,
            h: hs,
            v: vs,
            quant: natural,
            dc: (*huff[0].get(td)?)?,
            ac: (*huff[1].get(ta)?)?,
        });
    }
    // libjpeg-turbo's largest MCU: 10 blocks.
    if nf > 1 && comps.iter().map(|c| c.h * c.v).sum::<usize>() > 10 {
        return None;
    }
    Some(Frame {
        comps,
        interval: usize::from(h.interval.unwrap_or(0)),
    })
}

/// The entropy-coded data after SOS with its stuffed zeros removed (`out`, then 8 zero
/// bytes), split at its restart markers (each segment's end in `out`): None when a
/// restart marker is out of turn or the scan does not end at EOI.
fn unstuff(rest: &[u8], out: &mut Vec<u8>, ends: &mut Vec<usize>) -> Option<()> {
    out.clear();
    ends.clear();
    let mut i = 0;
    loop {
        let j = i + memchr::memchr(0xFF, &rest[i..])?;
        out.extend_from_slice(&rest[i..j]);
        let mut m = j + 1;
        while *rest.get(m)? == 0xFF {
            m += 1;
        }
        let c = rest[m];
        i = m + 1;
        if c == 0 {
            out.push(0xFF);
        } else if (0xD0..=0xD7).contains(&c) {
            if usize::from(c - 0xD0) != ends.len() % 8 {
                return None;
            }
            ends.push(out.len());
        } else if c == 0xD9 {
            ends.push(out.len());
            out.extend_from_slice(&[0; 8]);
            return Some(());
        } else {
            return None;
        }
    }
}

/// A table made from a DHT's counts and values, kept for the next frames that define
/// the same (a series' frames, from one encoder, mostly do).
struct Kept {
    dc: bool,
    counts: Vec<u8>,
    values: Vec<u8>,
    table: Table,
}

/// The tables kept per thread (a frame uses up to 6).
const KEPT: usize = 8;

/// Where the table of `dht` is in `kept`.
fn find(kept: &[Kept], dc: bool, dht: Dht<'_>) -> Option<usize> {
    kept.iter()
        .position(|k| k.dc == dc && k.counts == dht.0 && k.values == dht.1)
}

/// Put the table of `dht` last in `kept` (the most recently used; made when it is not
/// there, and then the first, least recently used, let go past [`KEPT`]); None for a
/// table libjpeg-turbo refuses.
fn keep(kept: &mut Vec<Kept>, dc: bool, dht: Dht<'_>) -> Option<()> {
    let k = match find(kept, dc, dht) {
        Some(i) => kept.remove(i),
        None => Kept {
            dc,
            counts: dht.0.to_vec(),
            values: dht.1.to_vec(),
            table: Table::new(dht.0, dht.1, dc)?,
        },
    };
    if kept.len() == KEPT {
        kept.remove(0);
    }
    kept.push(k);
    Some(())
}

/// A thread's unstuffed scan, its segments' ends, the tables it keeps, and a colour
/// frame's planes.
#[derive(Default)]
struct Scratch {
    data: Vec<u8>,
    ends: Vec<usize>,
    kept: Vec<Kept>,
    planes: [Vec<u8>; 3],
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// A block's coefficients as the IDCT reads them, and the spare slot.
#[repr(C, align(32))]
struct Block([i16; 80]);

#[repr(C, align(32))]
struct Quant([i16; 64]);

#[cfg(target_arch = "x86_64")]
extern "C" {
    fn jsimd_idct_islow_avx2(
        dct_table: *const i16,
        coef_block: *const i16,
        output_buf: *const *mut u8,
        output_col: u32,
    );
}

/// libjpeg-turbo's AVX2 integer IDCT of a block (`jsimd_idct_islow_avx2`): 64
/// coefficients and 64 multipliers, 32-byte aligned, into eight rows from column `col`.
///
/// # Safety
/// The CPU has AVX2; each of the eight rows holds at least `col + 8` samples.
#[cfg(target_arch = "x86_64")]
unsafe fn islow(quant: &Quant, blk: &Block, rows: &[*mut u8; 8], col: u32) {
    // SAFETY: as the caller promises; the arrays are aligned by their types.
    unsafe { jsimd_idct_islow_avx2(quant.0.as_ptr(), blk.0.as_ptr(), rows.as_ptr(), col) }
}

/// Elsewhere libjpeg-turbo has no such function, and nothing is decoded here ([`header`]
/// needs AVX2).
#[cfg(not(target_arch = "x86_64"))]
unsafe fn islow(_: &Quant, _: &Block, _: &[*mut u8; 8], _: u32) {
    unreachable!("frames are decoded here only on x86-64 with AVX2")
}

/// Where a component's samples go: rows `stride` apart from `base`, of which `w` x `h`
/// are kept (a block past them is cut to them); row `y` at row `y % ring` of the buffer
/// (a multiple of 8: a window of the last rows decoded).
struct Target {
    base: *mut u8,
    stride: usize,
    w: usize,
    h: usize,
    ring: usize,
}

/// The header of `jpeg` read for this decoder: its frame, when its size is `cols` x
/// `rows` and it has `nf` components.
fn header(
    jpeg: &[u8],
    cols: usize,
    rows: usize,
    nf: usize,
) -> Option<(super::header::Header<'_>, Frame<'_>)> {
    if !has_avx2() {
        return None;
    }
    let h = super::header::read(jpeg)?;
    // (libjpeg-turbo's largest image: 65,500 samples a side.)
    let sides = 1..=65_500;
    if h.components != nf
        || h.lines != rows
        || h.width != cols
        || !sides.contains(&cols)
        || !sides.contains(&rows)
    {
        return None;
    }
    let f = frame(&h)?;
    Some((h, f))
}

/// Whether the processor has AVX2, which this decoder needs (libjpeg-turbo's IDCT it calls).
#[cfg(target_arch = "x86_64")]
pub(super) fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) fn has_avx2() -> bool {
    false
}

/// Decode the scan of `h` (frame `f`, `grid` MCUs across and down) into `targets` (one
/// per component) with the thread's scratch (its planes not touched); false when left to
/// libjpeg-turbo.
fn decode_into(
    h: &super::header::Header<'_>,
    f: &Frame<'_>,
    grid: (usize, usize),
    s: &mut Scratch,
    targets: &[Target],
    on_row: impl FnMut(usize),
) -> bool {
    let Scratch {
        data, ends, kept, ..
    } = s;
    if unstuff(h.rest, data, ends).is_none() {
        return false;
    }
    // Every table last in `kept` (none let go of while another is kept), then found.
    for c in &f.comps {
        if keep(kept, true, c.dc).is_none() || keep(kept, false, c.ac).is_none() {
            return false;
        }
    }
    let mut tables = Vec::with_capacity(f.comps.len());
    for c in &f.comps {
        let (Some(dc), Some(ac)) = (find(kept, true, c.dc), find(kept, false, c.ac)) else {
            return false;
        };
        tables.push((&kept[dc].table, &kept[ac].table, Quant(c.quant)));
    }
    decode_scan(f, grid, &tables, data, ends, targets, on_row).is_some()
}

/// Decode the grey 8-bit frame `jpeg` of `cols` x `rows` into `out` (its rows one after
/// the other), when this decoder takes it; false leaves it to libjpeg-turbo.
pub(super) fn decode(jpeg: &[u8], cols: usize, rows: usize, out: &mut [u8]) -> bool {
    if out.len() != cols * rows {
        return false;
    }
    let Some((h, f)) = header(jpeg, cols, rows, 1) else {
        return false;
    };
    let target = Target {
        base: out.as_mut_ptr(),
        stride: cols,
        w: cols,
        h: rows,
        ring: rows.next_multiple_of(8),
    };
    // One component: its blocks are the MCUs, whatever its sampling factors.
    let grid = (cols.div_ceil(8), rows.div_ceil(8));
    SCRATCH.with(|s| decode_into(&h, &f, grid, &mut s.borrow_mut(), &[target], |_| ()))
}

/// A colour frame's three components as decoded so far, before any upsampling: each
/// plane's rows `stride` apart (whole blocks: at least as wide as the component), the
/// first `rows[k]` rows of plane `k` decoded, of which the last `ring[k]` are kept (row
/// `r` at row `r % ring[k]` of the buffer).
pub(super) struct Planes<'a> {
    pub planes: [&'a [u8]; 3],
    pub strides: [usize; 3],
    pub rows: [usize; 3],
    pub ring: [usize; 3],
    /// The first component's sampling factors (H, V); the others' are 1 and 1.
    pub sampling: (usize, usize),
}

/// Decode the three-component 8-bit frame `jpeg` of `cols` x `rows`, its second and third
/// components unsubsampled and its first sampled 1x1, 2x1 or 2x2, into the thread's
/// planes, giving them to `emit` after each row of MCUs (while those rows are in the
/// processor's caches); None when left to libjpeg-turbo (`emit` may have been called).
pub(super) fn decode_colour(
    jpeg: &[u8],
    cols: usize,
    rows: usize,
    mut emit: impl FnMut(&Planes<'_>),
) -> Option<()> {
    let (h, frame) = header(jpeg, cols, rows, 3)?;
    let sampling = (frame.comps[0].h, frame.comps[0].v);
    if !matches!(sampling, (1, 1) | (2, 1) | (2, 2))
        || frame.comps[1..].iter().any(|c| (c.h, c.v) != (1, 1))
    {
        return None;
    }
    let (hmax, vmax) = sampling;
    let (mcux, mcuy) = (cols.div_ceil(8 * hmax), rows.div_ceil(8 * vmax));
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        let mut planes = std::mem::take(&mut s.planes);
        let mut strides = [0; 3];
        let mut targets = Vec::with_capacity(3);
        // Each plane a window of its last three MCU rows (the rows given out after an MCU
        // row are of it and the one before, 4:2:0 chroma's row above one more): small
        // enough to stay in the processor's cache, where whole planes went to memory and
        // back.
        let mut ring = [0; 3];
        for (k, c) in frame.comps.iter().enumerate() {
            let (w, hgt) = (mcux * c.h * 8, mcuy * c.v * 8);
            strides[k] = w;
            ring[k] = (3 * 8 * c.v).min(hgt);
            // Every sample of a window is written before it is read (whole blocks of
            // every MCU): a window of the last frame's size is not cleared first.
            let p = &mut planes[k];
            p.resize(w * ring[k], 0);
            targets.push(Target {
                base: p.as_mut_ptr(),
                stride: w,
                w,
                h: hgt,
                ring: ring[k],
            });
        }
        let heights = [8 * vmax, 8, 8];
        let on_row = |done: usize| {
            let rows = heights.map(|r| r * done);
            // SAFETY: the windows' rows given out are written and not written again
            // before `emit` returns (the scan goes on after it); the windows outlive the
            // call.
            let planes = std::array::from_fn(|k| unsafe {
                std::slice::from_raw_parts(targets[k].base, ring[k] * strides[k])
            });
            emit(&Planes {
                planes,
                strides,
                rows,
                ring,
                sampling,
            });
        };
        let done = decode_into(&h, &frame, (mcux, mcuy), &mut s, &targets, on_row);
        s.planes = planes;
        done.then_some(())
    })
}

/// The scan's MCUs (a block each for one component; for three, each component's H x V
/// blocks in turn, T.81 A.2.3), each block's samples into its component's target.
fn decode_scan(
    f: &Frame<'_>,
    (mcux, mcuy): (usize, usize),
    tables: &[(&Table, &Table, Quant)],
    data: &[u8],
    ends: &[usize],
    targets: &[Target],
    mut on_row: impl FnMut(usize),
) -> Option<()> {
    let one = f.comps.len() == 1;
    let mcus = mcux * mcuy;
    let interval = if f.interval == 0 { mcus } else { f.interval };
    if ends.len() != mcus.div_ceil(interval) {
        return None;
    }
    // An MCU's blocks (up to 10) decoded before any goes through the IDCT, as
    // libjpeg-turbo does: the IDCT's wide loads then find the coefficients' narrow stores
    // done, not waiting in the store buffer.
    let mut blks: Vec<Block> = (0..10).map(|_| Block([0; 80])).collect();
    let mut places = [(0usize, 0usize, 0usize); 10];
    let mut edge = [0u8; 64];
    let mut n = 0usize;
    let mut start = 0usize;
    for &end in ends {
        let mut bits = Bits {
            data,
            pos: start,
            buf: 0,
            count: 0,
        };
        let mut pred = [0i32; 3];
        for _ in 0..interval.min(mcus - n) {
            let (my, mx) = (n / mcux, n % mcux);
            let mut i = 0;
            for (k, c) in f.comps.iter().enumerate() {
                let (dc, ac, _) = &tables[k];
                let (bh, bw) = if one { (1, 1) } else { (c.v, c.h) };
                for by in 0..bh {
                    for bx in 0..bw {
                        decode_block(&mut bits, dc, ac, &mut pred[k], &mut blks[i])?;
                        places[i] = (k, (my * bh + by) * 8, (mx * bw + bx) * 8);
                        i += 1;
                    }
                }
            }
            for (blk, &(k, y, x)) in blks.iter_mut().zip(&places[..i]) {
                idct(blk, &tables[k].2, &targets[k], y, x, &mut edge);
                blk.0 = [0; 80];
            }
            n += 1;
            if mx + 1 == mcux {
                on_row(my + 1);
            }
        }
        // Nothing read past the segment (libjpeg-turbo would warn, and feed zeros), and,
        // before a restart marker, no whole byte left unread (it would warn of
        // extraneous bytes; only before EOI is that let pass).
        let read = bits.read();
        if read > end * 8 || (end != *ends.last()? && read.div_ceil(8) < end) {
            return None;
        }
        start = end;
    }
    Some(())
}

/// One block's coefficients (T.81 F.2.2): its DC difference added to `pred`, its AC
/// coefficients up to two a table lookup; None for what libjpeg-turbo would warn of or
/// read otherwise (a bad code, a coefficient past the 64th, a DC value out of bounds).
#[inline(always)]
fn decode_block(
    bits: &mut Bits<'_>,
    dc: &Table,
    ac: &Table,
    pred: &mut i32,
    blk: &mut Block,
) -> Option<()> {
    // DC (F.2.2.1).
    bits.refill();
    let e = dc.fast[(bits.buf >> (64 - LOOKUP)) as usize];
    let diff = if e != 0 {
        bits.take((e & 0x1F) as u32);
        (e >> 32) as u32 as i32
    } else {
        let (l, s) = dc.slow(bits.buf)?;
        bits.take(l);
        let s = u32::from(s);
        let v = if s == 0 {
            0
        } else {
            (bits.buf >> (64 - s)) as u32
        };
        bits.take(s);
        extend(v, s)
    };
    *pred = pred.checked_add(diff)?;
    if pred.unsigned_abs() > 1 << 30 {
        return None;
    }
    blk.0[0] = *pred as i16;
    // AC (F.2.2.2), up to two symbols a lookup.
    let mut k = 0usize;
    loop {
        bits.refill();
        let e = ac.fast[(bits.buf >> (64 - LOOKUP)) as usize];
        if e == 0 {
            let (l, rs) = ac.slow(bits.buf)?;
            bits.take(l);
            let (r, s) = (usize::from(rs >> 4), u32::from(rs & 15));
            if s == 0 {
                if r != 15 {
                    break;
                }
                k += 16;
            } else {
                let v = (bits.buf >> (64 - s)) as u32;
                bits.take(s);
                k += r + 1;
                if k > 63 {
                    return None;
                }
                blk.0[usize::from(ZIGZAG[k])] = extend(v, s) as i16;
            }
            if k >= 63 {
                if k > 63 {
                    return None;
                }
                break;
            }
            continue;
        }
        if e & EOB_FIRST != 0 {
            bits.take((e & N_TOTAL) as u32);
            break;
        }
        let k1 = k + advance_first(e);
        if k1 >= 63 {
            if k1 > 63 {
                return None;
            }
            bits.take(n_first(e));
            blk.0[usize::from(ZIGZAG[63])] = value_first(e);
            break;
        }
        bits.take((e & N_TOTAL) as u32);
        let s2 = step_second(e);
        blk.0[usize::from(ZIGZAG[k1 + s2])] = value_second(e);
        blk.0[usize::from(ZIGZAG[k1])] = value_first(e);
        k = k1 + (s2 & 0x1F);
        if e & EOB_SECOND != 0 {
            break;
        }
        if k >= 63 {
            if k > 63 {
                return None;
            }
            break;
        }
    }
    Some(())
}

/// The block's samples by libjpeg-turbo's IDCT into `t` at row `y`, column `x` (through
/// `edge` when the block is not wholly inside the kept part).
#[inline(always)]
fn idct(blk: &Block, quant: &Quant, t: &Target, y: usize, x: usize, edge: &mut [u8; 64]) {
    // A block's rows are together in the window (both multiples of 8).
    let at = y % t.ring;
    if y + 8 <= t.h && x + 8 <= t.w {
        // SAFETY: rows at..at + 8 of the target's buffer (at + 8 <= ring rows, each of at
        // least x + 8 samples: rows `stride` >= w apart).
        let ptrs: [*mut u8; 8] =
            std::array::from_fn(|r| unsafe { t.base.add((at + r) * t.stride) });
        // SAFETY: eight rows of at least x + 8 samples; the CPU has AVX2 (checked by
        // `header`).
        unsafe { islow(quant, blk, &ptrs, x as u32) };
    } else {
        let base = edge.as_mut_ptr();
        // SAFETY: eight rows of 8 in `edge`.
        let ptrs: [*mut u8; 8] = std::array::from_fn(|r| unsafe { base.add(8 * r) });
        // SAFETY: as above, into `edge`.
        unsafe { islow(quant, blk, &ptrs, 0) };
        let w = 8.min(t.w.saturating_sub(x));
        for r in 0..8.min(t.h.saturating_sub(y)) {
            // SAFETY: buffer row at + r < ring, columns x..x + w <= w of the target.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    edge[8 * r..].as_ptr(),
                    t.base.add((at + r) * t.stride + x),
                    w,
                )
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::damaged;
    use super::super::Handle;
    use super::decode;
    use std::ffi::c_int;
    use turbojpeg_sys as tj;

    /// `img` (`cols` x `rows`) coded grey by libjpeg-turbo: quality, restart interval in
    /// blocks, optimised Huffman tables or the standard ones.
    fn encode(
        img: &[u8],
        cols: usize,
        rows: usize,
        quality: i32,
        restart: i32,
        optimize: bool,
    ) -> Vec<u8> {
        let h = Handle::new(tj::TJINIT_TJINIT_COMPRESS).unwrap();
        assert!(h.set(tj::TJPARAM_TJPARAM_QUALITY, quality));
        assert!(h.set(tj::TJPARAM_TJPARAM_SUBSAMP, tj::TJSAMP_TJSAMP_GRAY as c_int));
        assert!(h.set(tj::TJPARAM_TJPARAM_RESTARTBLOCKS, restart));
        assert!(h.set(tj::TJPARAM_TJPARAM_OPTIMIZE, c_int::from(optimize)));
        let mut buf: *mut u8 = std::ptr::null_mut();
        let mut size: tj::size_t = 0;
        // SAFETY: img holds cols * rows samples; TurboJPEG allocates buf.
        let rc = unsafe {
            tj::tj3Compress8(
                h.0,
                img.as_ptr(),
                cols as c_int,
                cols as c_int,
                rows as c_int,
                tj::TJPF_TJPF_GRAY as c_int,
                &mut buf,
                &mut size,
            )
        };
        assert_eq!(rc, 0, "{}", h.error());
        // SAFETY: buf holds size bytes, freed once.
        let v = unsafe { std::slice::from_raw_parts(buf, size as usize) }.to_vec();
        unsafe { tj::tj3Free(buf.cast()) };
        v
    }

    /// libjpeg-turbo's samples of `jpeg` alone, as the codec takes its answer.
    fn turbo(jpeg: &[u8], cols: usize, rows: usize) -> Option<Vec<u8>> {
        super::super::turbojpeg_alone::decode8(jpeg, rows, cols).ok()
    }

    fn images(cols: usize, rows: usize) -> Vec<Vec<u8>> {
        let n = cols * rows;
        let mut seed = 12345u32;
        let noise: Vec<u8> = (0..n)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (seed >> 16) as u8
            })
            .collect();
        let gradient: Vec<u8> = (0..n)
            .map(|i| ((i % cols) * 3 + (i / cols) * 2) as u8)
            .collect();
        let flat = vec![117u8; n];
        let edges: Vec<u8> = (0..n)
            .map(|i| {
                if ((i % cols) / 3 + (i / cols) / 5).is_multiple_of(2) {
                    250
                } else {
                    4
                }
            })
            .collect();
        vec![noise, gradient, flat, edges]
    }

    fn avx2() -> bool {
        super::has_avx2()
    }

    #[test]
    fn frames_decode_to_libjpeg_turbos_samples() {
        if !avx2() {
            return;
        }
        let sizes = [
            (1, 1),
            (7, 9),
            (8, 8),
            (16, 24),
            (33, 17),
            (64, 64),
            (100, 3),
            (255, 130),
        ];
        for &(cols, rows) in &sizes {
            for (which, img) in images(cols, rows).iter().enumerate() {
                for quality in [1, 25, 50, 75, 90, 95, 100] {
                    for restart in [0, 1, 5] {
                        for optimize in [false, true] {
                            let jpeg = encode(img, cols, rows, quality, restart, optimize);
                            let expected = turbo(&jpeg, cols, rows).expect("libjpeg-turbo");
                            let mut out = vec![0u8; cols * rows];
                            let case = format!(
                                "{cols}x{rows} image {which} q{quality} restart {restart} optimize {optimize}"
                            );
                            assert!(decode(&jpeg, cols, rows, &mut out), "{case}: not taken");
                            assert_eq!(out, expected, "{case}");
                        }
                    }
                }
            }
        }
    }

    /// What the `jpeg_bands` fuzz target found (its input: four layout bytes, then the
    /// stream): fill bytes before SOS, which ended the header's segments on a lone 0xFF
    /// and made the marker walk read past them. Now the frame decodes, to libjpeg-turbo's
    /// samples; the same stream with fill bytes before SOS made here, too.
    #[test]
    fn fill_bytes_before_the_scan_decode_as_libjpeg_turbo() {
        if !avx2() {
            return;
        }
        let found = include_bytes!("regressions/fill_bytes_before_sos.bin");
        let (rows, cols) = (usize::from(found[1]) + 1, usize::from(found[2]) + 1);
        let jpeg = &found[4..];
        let mut out = vec![0u8; cols * rows];
        if decode(jpeg, cols, rows, &mut out) {
            assert_eq!(Some(out), turbo(jpeg, cols, rows));
        }
        let img = &images(40, 24)[1];
        let plain = encode(img, 40, 24, 75, 0, false);
        let sos = plain.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        let mut filled = plain[..sos].to_vec();
        filled.extend_from_slice(&[0xFF; 5]);
        filled.extend_from_slice(&plain[sos..]);
        let mut out = vec![0u8; 40 * 24];
        assert!(decode(&filled, 40, 24, &mut out), "not taken");
        assert_eq!(Some(out), turbo(&filled, 40, 24));
    }

    #[test]
    fn a_large_frame_decodes_to_libjpeg_turbos_samples() {
        if !avx2() {
            return;
        }
        let (cols, rows) = (512, 512);
        for img in images(cols, rows) {
            for quality in [10, 80, 100] {
                let jpeg = encode(&img, cols, rows, quality, 0, true);
                let expected = turbo(&jpeg, cols, rows).unwrap();
                let mut out = vec![0u8; cols * rows];
                assert!(decode(&jpeg, cols, rows, &mut out));
                assert_eq!(out, expected, "q{quality}");
            }
        }
    }

    /// A damaged stream is decoded here only when libjpeg-turbo decodes it without a
    /// warning, and then to its samples; anything else is left to it.
    #[test]
    fn damaged_frames_are_left_to_libjpeg_turbo_or_decode_alike() {
        if !avx2() {
            return;
        }
        let (cols, rows) = (40, 24);
        let mut seed = 7u32;
        let mut rand = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            seed >> 8
        };
        let (mut taken, mut left) = (0, 0);
        for img in images(cols, rows) {
            for &(quality, restart) in &[(50, 0), (90, 2), (100, 1)] {
                let jpeg = encode(&img, cols, rows, quality, restart, false);
                for trial in 0..400 {
                    let bad = damaged(&jpeg, trial, &mut rand);
                    let mut out = vec![0u8; cols * rows];
                    if decode(&bad, cols, rows, &mut out) {
                        taken += 1;
                        let expected = turbo(&bad, cols, rows).unwrap_or_else(|| {
                            let at = bad.iter().zip(&jpeg).position(|(a, b)| a != b);
                            panic!("taken here, refused by libjpeg-turbo: trial {trial}, at {at:?} of {} ({:02x?})", jpeg.len(), at.map(|a| (jpeg[a], bad[a])))
                        });
                        assert_eq!(out, expected, "trial {trial}");
                    } else {
                        left += 1;
                    }
                }
            }
        }
        assert!(taken > 0 && left > 0, "taken {taken}, left {left}");
    }
}
