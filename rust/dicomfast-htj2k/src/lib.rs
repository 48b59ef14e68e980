//! HTJ2K (ITU-T T.814 | ISO/IEC 15444-15) encoding in Rust: one frame into a J2K
//! codestream whose code-blocks are all HT-coded (Part 15 Rsiz, CAP marker).
//!
//! One tile, one quality layer, the default precincts, 64 x 64 code-blocks, one HT
//! cleanup pass per code-block (every magnitude bit: lossless stays lossless). Reversible
//! 5/3 with the RCT, or irreversible 9/7 with the ICT and a quantisation step per sub-band
//! (the base step divided by the sub-band's synthesis norm). The pieces:
//! [`dwt`] (wavelets), [`block`] (the HT block coder), [`t2`] (packets) and [`codestream`]
//! (marker segments). The block coder's VLC tables are made at build time (`build.rs`).

mod block;
mod codestream;
mod dwt;
mod t2;

use codestream::{BandStep, Header};

/// JPEG 2000 progression orders (T.800 Table A.16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progression {
    Lrcp,
    Rlcp,
    Rpcl,
    Pcrl,
    Cprl,
}

impl Progression {
    /// SGcod's progression order byte.
    fn code(self) -> u8 {
        match self {
            Progression::Lrcp => 0,
            Progression::Rlcp => 1,
            Progression::Rpcl => 2,
            Progression::Pcrl => 3,
            Progression::Cprl => 4,
        }
    }

    /// With one layer and one precinct per resolution, the orders differ only in whether
    /// resolution or component comes first.
    fn component_first(self) -> bool {
        matches!(self, Progression::Pcrl | Progression::Cprl)
    }
}

/// One frame to encode: `samples` holds `height * width * components` samples of
/// `bytes_per_sample` bytes each (little endian, the samples of a pixel together); the low
/// `bit_depth` bits of each are the value (two's complement when `signed`).
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub width: u32,
    pub height: u32,
    pub components: u32,
    pub bit_depth: u32,
    pub signed: bool,
    pub bytes_per_sample: u32,
    pub samples: &'a [u8],
}

/// How to code it.
#[derive(Debug, Clone, Copy)]
pub struct Coding {
    /// Reversible 5/3 wavelet (lossless; with the RCT for colour) or irreversible 9/7
    /// (with the ICT).
    pub reversible: bool,
    /// Code three components with the colour transform.
    pub colour_transform: bool,
    /// Wavelet decomposition levels (0-32).
    pub decompositions: u32,
    /// Irreversible coding: the base quantisation step, of a unit sample range.
    pub qstep: f32,
    pub progression: Progression,
    /// Write the tile as one tile-part per resolution, listed in a TLM marker segment (as
    /// PS3.5 asks of HTJ2K Lossless RPCL); with a resolution-first progression only.
    pub tile_part_per_resolution: bool,
    /// Threads the code-blocks of this frame may be coded on (1: this thread only). The
    /// codestream is the same whatever the count.
    pub threads: usize,
}

/// The largest irreversible base step [`encode`] takes (a quarter of the sample range).
pub const MAX_QSTEP: f32 = 0.25;

/// The smallest irreversible base step [`encode`] takes.
pub const MIN_QSTEP: f32 = 1.0e-6;

/// Whether this build has the HT block coder (its VLC tables were found at build time);
/// without it [`encode`] always fails.
pub const AVAILABLE: bool = cfg!(have_ht_tables);

/// Code-block size exponent (64 x 64).
const CB_EXP: usize = 6;
/// DICOM's largest Rows and Columns.
const MAX_SIDE: u32 = u16::MAX as u32;
/// The block coder's coefficients keep to 30 magnitude bits.
const MAX_KMAX: u32 = 30;

/// One sub-band of one component's Mallat layout: where it sits, and its orientation
/// (0 LL, 1 HL, 2 LH, 3 HH).
#[derive(Debug, Clone, Copy)]
struct Band {
    x0: usize,
    y0: usize,
    w: usize,
    h: usize,
    orient: usize,
    /// Decomposition level (LL: the number of levels).
    level: u32,
}

/// The sub-bands of each resolution, lowest first: `[LL]`, then `[HL, LH, HH]` of each
/// level from the deepest.
fn bands(width: usize, height: usize, levels: u32) -> Vec<Vec<Band>> {
    let sz = dwt::sizes(width, height, levels);
    let (lw, lh) = sz[levels as usize];
    let mut out = vec![vec![Band {
        x0: 0,
        y0: 0,
        w: lw,
        h: lh,
        orient: 0,
        level: levels,
    }]];
    for level in (1..=levels).rev() {
        let (pw, ph) = sz[level as usize - 1];
        let (w, h) = sz[level as usize];
        out.push(vec![
            Band {
                x0: w,
                y0: 0,
                w: pw - w,
                h,
                orient: 1,
                level,
            },
            Band {
                x0: 0,
                y0: h,
                w,
                h: ph - h,
                orient: 2,
                level,
            },
            Band {
                x0: w,
                y0: h,
                w: pw - w,
                h: ph - h,
                orient: 3,
                level,
            },
        ]);
    }
    out
}

/// The default precinct: 2^15 on a side in its resolution (PPx = PPy = 15, T.800 A.6.1),
/// so 2^14 in the sub-bands of resolutions above the lowest.
const PRECINCT_EXP: usize = 15;

/// The bands of resolution `r` (`rw` x `rh` samples), whole, cut into that resolution's
/// precincts in raster order: each the same bands, holding the code-blocks inside it
/// (blocks of 64 never straddle a precinct's edge).
fn split_precincts(
    bands: &[t2::BandBlocks],
    r: usize,
    rw: usize,
    rh: usize,
) -> Vec<Vec<t2::BandBlocks>> {
    let side = PRECINCT_EXP - usize::from(r > 0); // in the bands' coordinates
    let per = 1usize << (side - CB_EXP); // code-blocks on a precinct's side
    let (npx, npy) = (
        rw.div_ceil(1 << PRECINCT_EXP),
        rh.div_ceil(1 << PRECINCT_EXP),
    );
    let mut out = Vec::with_capacity(npx * npy);
    for py in 0..npy.max(1) {
        for px in 0..npx.max(1) {
            let cut = bands
                .iter()
                .map(|band| {
                    let (x0, x1) = (
                        (px * per).min(band.grid_w),
                        ((px + 1) * per).min(band.grid_w),
                    );
                    let (y0, y1) = (
                        (py * per).min(band.grid_h),
                        ((py + 1) * per).min(band.grid_h),
                    );
                    let mut segments = Vec::with_capacity((x1 - x0) * (y1 - y0));
                    for y in y0..y1 {
                        segments.extend_from_slice(
                            &band.segments[y * band.grid_w + x0..y * band.grid_w + x1],
                        );
                    }
                    t2::BandBlocks {
                        grid_w: x1 - x0,
                        grid_h: y1 - y0,
                        segments,
                        zero_planes: band.zero_planes,
                    }
                })
                .collect();
            out.push(cut);
        }
    }
    out
}

/// log2 of the nominal gain of an orientation (T.800 Table E.1).
fn gain_bits(orient: usize) -> u32 {
    [0, 1, 1, 2][orient]
}

/// The irreversible step of a band, of a unit sample range: the base over the band's
/// synthesis norm (so that each band's quantisation adds about the same error).
fn band_step(qstep: f32, band: &Band) -> f64 {
    let norm = if band.orient == 0 {
        dwt::synthesis_norm_97(band.level, false).powi(2)
    } else {
        let l = dwt::synthesis_norm_97(band.level, false);
        let h = dwt::synthesis_norm_97(band.level - 1, true);
        match band.orient {
            3 => h * h,
            _ => l * h,
        }
    };
    f64::from(qstep) / norm
}

/// Component `c` of the frame as signed, level-shifted values, into `dst`.
fn read_component(frame: &Frame<'_>, c: usize, dst: &mut [i32]) {
    let comps = frame.components as usize;
    let bits = frame.bit_depth;
    let mask = ((1u32 << bits) - 1) as i32;
    let shift = 32 - bits;
    let offset = 1 << (bits - 1);
    // One loop per case, so that each is a plain (vectorisable) loop.
    match (frame.bytes_per_sample, frame.signed) {
        (1, false) => {
            for (d, px) in dst.iter_mut().zip(frame.samples.chunks_exact(comps)) {
                *d = (i32::from(px[c]) & mask) - offset;
            }
        }
        (1, true) => {
            for (d, px) in dst.iter_mut().zip(frame.samples.chunks_exact(comps)) {
                *d = (i32::from(px[c]) << shift) >> shift;
            }
        }
        (_, false) => {
            for (d, px) in dst.iter_mut().zip(frame.samples.chunks_exact(2 * comps)) {
                *d = (i32::from(u16::from_le_bytes([px[2 * c], px[2 * c + 1]])) & mask) - offset;
            }
        }
        (_, true) => {
            for (d, px) in dst.iter_mut().zip(frame.samples.chunks_exact(2 * comps)) {
                *d = (i32::from(u16::from_le_bytes([px[2 * c], px[2 * c + 1]])) << shift) >> shift;
            }
        }
    }
}

/// Buffers reused from frame to frame on a thread.
struct Scratch {
    ints: Vec<Vec<i32>>,
    floats: Vec<Vec<f32>>,
    data: Vec<u8>,
    coder: block::BlockCoder,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Option<Scratch>> = const { std::cell::RefCell::new(None) };
}

/// `n` planes of `len` values from `pool` (grown or cut to size; values not cleared).
fn planes<T: Copy + Default>(pool: &mut Vec<Vec<T>>, n: usize, len: usize) {
    pool.resize_with(n, Vec::new);
    for p in pool.iter_mut() {
        p.resize(len, T::default());
    }
}

fn check(frame: &Frame<'_>, coding: &Coding) -> Result<(), String> {
    let pixels = u64::from(frame.width) * u64::from(frame.height) * u64::from(frame.components);
    if frame.width == 0
        || frame.height == 0
        || !matches!(frame.components, 1 | 3)
        || !(1..=16).contains(&frame.bit_depth)
        || !matches!(frame.bytes_per_sample, 1 | 2)
        || frame.bit_depth > 8 * frame.bytes_per_sample
        || coding.decompositions > 32
        || (frame.samples.len() as u64) != pixels * u64::from(frame.bytes_per_sample)
    {
        return Err("frame layout the HTJ2K encoder cannot take".into());
    }
    if frame.width > MAX_SIDE || frame.height > MAX_SIDE {
        return Err(format!(
            "HTJ2K encoding takes frames of at most {MAX_SIDE} x {MAX_SIDE}"
        ));
    }
    if coding.tile_part_per_resolution && coding.progression.component_first() {
        return Err("tile-parts by resolution need a resolution-first progression".into());
    }
    if !coding.reversible && !(MIN_QSTEP..=MAX_QSTEP).contains(&coding.qstep) {
        return Err(format!(
            "an irreversible step of {} (from {MIN_QSTEP} to {MAX_QSTEP})",
            coding.qstep
        ));
    }
    Ok(())
}

/// Encode `frame` as a J2K codestream appended to `out`.
pub fn encode(frame: &Frame<'_>, coding: &Coding, out: &mut Vec<u8>) -> Result<(), String> {
    check(frame, coding)?;
    if !AVAILABLE {
        return Err(
            "HTJ2K encoding is not in this build (the HT VLC tables of openjpeg-sys were \
             not found when it was built)"
                .into(),
        );
    }
    with_scratch(|scratch| {
        transform(frame, coding, scratch);
        code(frame, coding, coding.qstep, scratch, out)
    })
}

/// Encode `frame` irreversibly at several base steps, its wavelet transform made once:
/// the first at `coding.qstep`, each next at the step `after` returns, given the
/// codestream just made, until it returns `None` (the search of a size).
pub fn encode_trials(
    frame: &Frame<'_>,
    coding: &Coding,
    mut after: impl FnMut(&[u8]) -> Option<f32>,
) -> Result<(), String> {
    check(frame, coding)?;
    if coding.reversible {
        return Err("trials are of irreversible coding".into());
    }
    with_scratch(|scratch| {
        transform(frame, coding, scratch);
        let mut trial = Vec::new();
        let mut qstep = coding.qstep;
        loop {
            trial.clear();
            code(frame, coding, qstep, scratch, &mut trial)?;
            match after(&trial) {
                Some(next) => {
                    check(
                        frame,
                        &Coding {
                            qstep: next,
                            ..*coding
                        },
                    )?;
                    qstep = next;
                }
                None => return Ok(()),
            }
        }
    })
}

/// Run `f` with this thread's buffers (made on first use, kept after).
fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut scratch = SCRATCH
        .with(|s| s.borrow_mut().take())
        .unwrap_or_else(|| Scratch {
            ints: Vec::new(),
            floats: Vec::new(),
            data: Vec::new(),
            coder: block::BlockCoder::new(),
        });
    let result = f(&mut scratch);
    // Kept for the next frame unless large: a thread that once coded a big frame does not
    // hold its planes for good.
    if scratch.bytes() <= KEEP_SCRATCH {
        SCRATCH.with(|s| *s.borrow_mut() = Some(scratch));
    }
    result
}

/// The most buffer memory a thread keeps between frames (a 2048 x 2048 grey frame's).
const KEEP_SCRATCH: usize = 48 << 20;

impl Scratch {
    fn bytes(&self) -> usize {
        let planes = |n: usize, each: usize| n * each;
        self.ints
            .iter()
            .map(|p| planes(p.capacity(), 4))
            .sum::<usize>()
            + self
                .floats
                .iter()
                .map(|p| planes(p.capacity(), 4))
                .sum::<usize>()
            + self.data.capacity()
    }
}

/// The frame's samples through the colour transform and the wavelet, into
/// `scratch.ints` (reversible) or `scratch.floats` (irreversible, of a unit range).
fn transform(frame: &Frame<'_>, coding: &Coding, scratch: &mut Scratch) {
    let (w, h) = (frame.width as usize, frame.height as usize);
    let comps = frame.components as usize;
    let colour = coding.colour_transform && comps == 3;
    let levels = coding.decompositions;
    planes(&mut scratch.ints, comps, w * h);
    for (c, plane) in scratch.ints.iter_mut().enumerate() {
        read_component(frame, c, plane);
    }
    if coding.reversible {
        let p = &mut scratch.ints;
        if colour {
            let (r, rest) = p.split_at_mut(1);
            let (g, b) = rest.split_at_mut(1);
            for i in 0..w * h {
                let (rv, gv, bv) = (r[0][i], g[0][i], b[0][i]);
                r[0][i] = (rv + 2 * gv + bv) >> 2;
                g[0][i] = bv - gv;
                b[0][i] = rv - gv;
            }
        }
        for plane in p.iter_mut() {
            dwt::forward_53(plane, w, h, levels);
        }
    } else {
        let scale = 1.0 / (1u64 << frame.bit_depth) as f32;
        planes(&mut scratch.floats, comps, w * h);
        for (ints, plane) in scratch.ints.iter().zip(scratch.floats.iter_mut()) {
            for (f, &i) in plane.iter_mut().zip(ints.iter()) {
                *f = i as f32 * scale;
            }
        }
        let p = &mut scratch.floats;
        if colour {
            let (r, rest) = p.split_at_mut(1);
            let (g, b) = rest.split_at_mut(1);
            for i in 0..w * h {
                let (rv, gv, bv) = (r[0][i], g[0][i], b[0][i]);
                r[0][i] = 0.299 * rv + 0.587 * gv + 0.114 * bv;
                g[0][i] = -0.168_736 * rv - 0.331_264 * gv + 0.5 * bv;
                b[0][i] = 0.5 * rv - 0.418_688 * gv - 0.081_312 * bv;
            }
        }
        for plane in p.iter_mut() {
            dwt::forward_97(plane, w, h, levels);
        }
    }
}

/// The transformed frame in `scratch` quantised (irreversible: at base step `qstep`, into
/// `scratch.ints`), coded and written as a codestream appended to `out`.
fn code(
    frame: &Frame<'_>,
    coding: &Coding,
    qstep: f32,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let (w, h) = (frame.width as usize, frame.height as usize);
    let comps = frame.components as usize;
    let colour = coding.colour_transform && comps == 3;
    let levels = coding.decompositions;
    let layout = bands(w, h, levels);
    let steps: Vec<Vec<BandStep>> = if coding.reversible {
        let depth = frame.bit_depth + u32::from(colour);
        layout
            .iter()
            .map(|res| {
                res.iter()
                    .map(|b| BandStep::Reversible {
                        epsilon: depth + gain_bits(b.orient),
                    })
                    .collect()
            })
            .collect()
    } else {
        layout
            .iter()
            .map(|res| {
                res.iter()
                    .map(|b| BandStep::irreversible(band_step(qstep, b), gain_bits(b.orient)))
                    .collect()
            })
            .collect()
    };
    if !coding.reversible {
        for (plane, q) in scratch.floats.iter().zip(scratch.ints.iter_mut()) {
            for res in layout.iter().zip(&steps) {
                for (b, step) in res.0.iter().zip(res.1) {
                    let inv = 1.0 / step.absolute() as f32;
                    for y in b.y0..b.y0 + b.h {
                        let row = y * w;
                        for x in b.x0..b.x0 + b.w {
                            let v = plane[row + x] * inv;
                            // Magnitudes are truncated (dead zone), the sign kept.
                            let mag = v.abs().min(1.0e9) as i32;
                            q[row + x] = if v < 0.0 { -mag } else { mag };
                        }
                    }
                }
            }
        }
    }
    let planes = &scratch.ints;

    // Every code-block, in the order of the packets' lists (component, resolution, band,
    // raster): where it starts in its plane, and its size.
    struct Job {
        comp: usize,
        start: usize,
        bw: usize,
        bh: usize,
    }
    let mut jobs = Vec::new();
    let mut grids = Vec::with_capacity(comps); // [comp][r][b] = (grid_w, grid_h)
    for comp in 0..comps {
        let mut per_res = Vec::with_capacity(layout.len());
        for res in &layout {
            let mut per_band = Vec::with_capacity(res.len());
            for band in res {
                let (gw, gh) = (band.w.div_ceil(1 << CB_EXP), band.h.div_ceil(1 << CB_EXP));
                for gy in 0..gh {
                    for gx in 0..gw {
                        let (bx, by) = (gx << CB_EXP, gy << CB_EXP);
                        jobs.push(Job {
                            comp,
                            start: (band.y0 + by) * w + band.x0 + bx,
                            bw: (band.w - bx).min(1 << CB_EXP),
                            bh: (band.h - by).min(1 << CB_EXP),
                        });
                    }
                }
                per_band.push((gw, gh));
            }
            per_res.push(per_band);
        }
        grids.push(per_res);
    }

    // Code them (the coder codes all bit-planes whatever the band's K_max): on this thread,
    // or cut into `coding.threads` runs of about equal area, the first on this thread.
    // Each block: its segment (start, length) in `data`, and the OR of its magnitudes.
    let data = &mut scratch.data;
    data.clear();
    let coder = &mut scratch.coder;
    let code_run = |coder: &mut block::BlockCoder,
                    run: &[Job],
                    buf: &mut Vec<u8>|
     -> Result<Vec<(usize, usize, u32)>, String> {
        let mut out = Vec::with_capacity(run.len());
        for job in run {
            let at = buf.len();
            let (len, ored) = coder
                .encode(&planes[job.comp][job.start..], w, job.bw, job.bh, buf)
                .map_err(String::from)?;
            out.push((at, len, ored));
        }
        Ok(out)
    };
    let threads = coding.threads.clamp(1, 64).min(jobs.len().max(1));
    let coded: Vec<(usize, usize, u32)> = if threads <= 1 {
        code_run(coder, &jobs, data)?
    } else {
        let total: usize = jobs.iter().map(|j| j.bw * j.bh).sum();
        let mut runs = Vec::with_capacity(threads);
        let (mut from, mut area) = (0, 0);
        for (k, job) in jobs.iter().enumerate() {
            area += job.bw * job.bh;
            if area * threads >= total * (runs.len() + 1) && runs.len() + 1 < threads {
                runs.push(&jobs[from..=k]);
                from = k + 1;
            }
        }
        runs.push(&jobs[from..]);
        let (first, rest) = runs.split_first().expect("one run at least");
        let (mine, theirs) = std::thread::scope(|s| {
            let handles: Vec<_> = rest
                .iter()
                .map(|run| {
                    s.spawn(move || {
                        let mut buf = Vec::new();
                        code_run(&mut block::BlockCoder::new(), run, &mut buf).map(|c| (buf, c))
                    })
                })
                .collect();
            let mine = code_run(coder, first, data);
            let theirs: Vec<_> = handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect();
            (mine, theirs)
        });
        let mut coded = mine?;
        for result in theirs {
            let (buf, blocks) = result?;
            let base = data.len();
            data.extend_from_slice(&buf);
            coded.extend(
                blocks
                    .into_iter()
                    .map(|(at, len, ored)| (base + at, len, ored)),
            );
        }
        coded
    };

    // The blocks back in their bands; the OR of each band's magnitudes, over the
    // components, gives the bits the band needs.
    let mut magnitudes: Vec<Vec<u32>> = layout.iter().map(|res| vec![0; res.len()]).collect();
    let mut precincts: Vec<Vec<Vec<t2::BandBlocks>>> = Vec::with_capacity(comps);
    let mut next = coded.into_iter();
    for comp_grids in &grids {
        let mut per_res = Vec::with_capacity(layout.len());
        for (r, res) in comp_grids.iter().enumerate() {
            let mut per_band = Vec::with_capacity(res.len());
            for (b, &(gw, gh)) in res.iter().enumerate() {
                let mut segments = Vec::with_capacity(gw * gh);
                for (at, len, ored) in next.by_ref().take(gw * gh) {
                    magnitudes[r][b] |= ored;
                    segments.push((at, len));
                }
                per_band.push(t2::BandBlocks {
                    grid_w: gw,
                    grid_h: gh,
                    segments,
                    zero_planes: 0, // set below, once K_max is known
                });
            }
            per_res.push(per_band);
        }
        precincts.push(per_res);
    }

    // Guard bits: enough for the largest magnitude of every band over the nominal
    // exponent (the HT coder codes every bit-plane at once, so more costs nothing).
    let mut guard = 1u32;
    for (r, res) in magnitudes.iter().enumerate() {
        for (b, &ored) in res.iter().enumerate() {
            let need = 32 - ored.leading_zeros();
            guard = guard.max((need + 1).saturating_sub(steps[r][b].epsilon()));
        }
    }
    if guard > 7 {
        return Err("coefficients too large for the quantisation exponents".into());
    }
    let kmax = |r: usize, b: usize| guard + steps[r][b].epsilon() - 1;
    let magb = (0..layout.len())
        .flat_map(|r| (0..layout[r].len()).map(move |b| (r, b)))
        .map(|(r, b)| kmax(r, b))
        .max()
        .unwrap_or(1);
    if magb > MAX_KMAX {
        return Err(format!("{magb} magnitude bit-planes (at most {MAX_KMAX})"));
    }
    for comp in precincts.iter_mut() {
        for (r, res) in comp.iter_mut().enumerate() {
            for (b, band) in res.iter_mut().enumerate() {
                band.zero_planes = kmax(r, b).saturating_sub(1);
            }
        }
    }
    let mut tile = Vec::with_capacity(data.len() + 1024);
    let resolutions = layout.len();
    let sizes = dwt::sizes(w, h, levels);
    // Each resolution's precincts (raster order), each holding its bands' blocks.
    let split: Vec<Vec<Vec<Vec<t2::BandBlocks>>>> = precincts
        .iter()
        .map(|comp| {
            comp.iter()
                .enumerate()
                .map(|(r, bands)| {
                    let (rw, rh) = sizes[levels as usize - r];
                    split_precincts(bands, r, rw, rh)
                })
                .collect()
        })
        .collect();
    if coding.progression.component_first() && split[0].iter().any(|p| p.len() > 1) {
        return Err(format!(
            "frames wider or higher than {} are coded in a resolution-first progression",
            1u32 << PRECINCT_EXP
        ));
    }
    // Where each tile-part ends in `tile`.
    let mut parts = Vec::new();
    if coding.progression.component_first() {
        for comp in &split {
            for res in comp {
                t2::packet(&res[0], data, &mut tile);
            }
        }
    } else {
        for r in 0..resolutions {
            let count = split[0][r].len();
            if coding.progression == Progression::Rpcl {
                for p in 0..count {
                    for comp in &split {
                        t2::packet(&comp[r][p], data, &mut tile);
                    }
                }
            } else {
                for comp in &split {
                    for precinct in &comp[r] {
                        t2::packet(precinct, data, &mut tile);
                    }
                }
            }
            if coding.tile_part_per_resolution {
                parts.push(tile.len());
            }
        }
    }
    if parts.is_empty() {
        parts.push(tile.len());
    }

    let header = Header {
        width: frame.width,
        height: frame.height,
        components: frame.components,
        bit_depth: frame.bit_depth,
        signed: frame.signed,
        reversible: coding.reversible,
        colour_transform: colour,
        levels,
        progression: coding.progression.code(),
        guard_bits: guard,
        magb,
        steps: steps.into_iter().flatten().collect(),
    };
    codestream::write(&header, &tile, &parts, out);
    Ok(())
}

#[cfg(test)]
mod tests;
