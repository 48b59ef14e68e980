//! HTJ2K (ITU-T T.814 | ISO/IEC 15444-15) in Rust: encoding one frame into a J2K
//! codestream whose code-blocks are all HT-coded (Part 15 Rsiz, CAP marker), and
//! decoding J2K codestreams back ([`decode`]: one tile, any layers, code-blocks all HT
//! (cleanup-only) or all Part 1 (T.800's MQ-coded passes, every style); the rest is
//! reported unsupported, for a general JPEG 2000 decoder).
//!
//! The encoder:
//! One tile, one quality layer, the default precincts, 64 x 64 code-blocks, one HT
//! cleanup pass per code-block (every magnitude bit: lossless stays lossless). Reversible
//! 5/3 with the RCT, or irreversible 9/7 with the ICT and a quantisation step per sub-band
//! (the base step divided by the sub-band's synthesis norm). The pieces: `samples`
//! (level shift, colour transform), `dwt` (wavelets), `bands` (sub-bands, precincts,
//! steps), `block` (the HT block coder), `codeblocks` (every block, on threads),
//! `t2` (packets), `codestream` (marker segments) and `scratch` (a thread's
//! buffers, kept from frame to frame, the decoder's too). The block coder's VLC tables are
//! made at build time (`build.rs`).

mod bands;
mod block;
mod codeblocks;
mod codestream;
mod cpu;
pub mod decode;
mod dwt;
mod samples;
mod scratch;
mod t2;

/// The CxtVLC tables, made by build.rs.
mod tables {
    include!(concat!(env!("OUT_DIR"), "/vlc_tables.rs"));
}

use bands::{band_step, bands, gain_bits, split_precincts, PRECINCT_EXP};
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

/// DICOM's largest Rows and Columns.
const MAX_SIDE: u32 = u16::MAX as u32;
/// The block coder's coefficients keep to 30 magnitude bits.
const MAX_KMAX: u32 = 30;

/// Buffers reused from frame to frame on a thread.
struct Scratch {
    ints: Vec<Vec<i32>>,
    floats: Vec<Vec<f32>>,
    /// The wavelet's buffer (which may swap places with a plane).
    int_tmp: Vec<i32>,
    float_tmp: Vec<f32>,
    data: Vec<u8>,
    coder: block::BlockCoder,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Option<Scratch>> = const { std::cell::RefCell::new(None) };
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
        scratch.transform(frame, coding);
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
        scratch.transform(frame, coding);
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

/// Run `f` with this thread's buffers.
fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    scratch::with(&SCRATCH, f)
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            ints: Vec::new(),
            floats: Vec::new(),
            int_tmp: Vec::new(),
            float_tmp: Vec::new(),
            data: Vec::new(),
            coder: block::BlockCoder::new(),
        }
    }
}

impl Scratch {
    /// The frame's samples through the colour transform and the wavelet, into
    /// `ints` (reversible) or `floats` (irreversible).
    fn transform(&mut self, frame: &Frame<'_>, coding: &Coding) {
        let tmp = (&mut self.int_tmp, &mut self.float_tmp);
        samples::transform(frame, coding, &mut self.ints, &mut self.floats, tmp);
    }
}

impl scratch::Kept for Scratch {
    fn bytes(&self) -> usize {
        scratch::plane_bytes(&self.ints)
            + scratch::plane_bytes(&self.floats)
            + 4 * (self.int_tmp.capacity() + self.float_tmp.capacity())
            + self.data.capacity()
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
    let (mut precincts, magnitudes) = codeblocks::code(
        &scratch.ints,
        w,
        &layout,
        coding.threads,
        &mut scratch.coder,
        &mut scratch.data,
    )?;
    let data = &scratch.data;

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
    let kmax = |r: usize, b: usize| codestream::k_max(guard, steps[r][b].epsilon()) as u32;
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
    // Psot is 32 bits: a tile-part of 4 GiB or more cannot be written.
    let mut from = 0;
    for &end in &parts {
        if end - from > (u32::MAX - 14) as usize {
            return Err("an HTJ2K tile-part of 4 GiB or more".into());
        }
        from = end;
    }
    codestream::write(&header, &tile, &parts, out);
    Ok(())
}

#[cfg(test)]
mod tests;
