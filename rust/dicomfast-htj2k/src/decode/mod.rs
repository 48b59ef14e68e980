//! JPEG 2000 decoding: a J2K codestream whose code-blocks are all HT-coded (HTJ2K,
//! Part 15) or all Part 1 (EBCOT), back into samples.
//!
//! The pieces, the encoder's run backward: `markers` (the codestream's parameters and
//! its tile's data), `packets` (packet headers: which code-block has which segments),
//! the block decoders (`cleanup`, the HT cleanup pass; `ebcot` with `mq`, Part 1's
//! coding passes), then dequantisation, the inverse wavelet ([`crate::dwt`]), and
//! `output` (the inverse colour transform, the level shift and the samples written as
//! the caller asks).
//!
//! It takes what JPEG 2000 and HTJ2K in DICOM are made of in practice (one tile, one
//! quality layer, HT blocks of their cleanup pass only, Part 1 blocks of any style, any
//! progression order, precinct and code-block sizes, SOP and EPH markers, any number of
//! tile-parts); anything else is [`DecodeError::Unsupported`], for the caller to hand to
//! a general JPEG 2000 decoder.

mod cleanup;
mod ebcot;
mod markers;
mod mq;
mod output;
mod packets;

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::bands::{bands, gain_bits, Band};
use crate::codestream::{k_max, unit_step};
use crate::dwt;

/// Why a codestream was not decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// A valid codestream using something this decoder does not do.
    Unsupported(String),
    /// A damaged or invalid codestream.
    Corrupt(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Unsupported(m) => write!(f, "not taken by this JPEG 2000 decoder: {m}"),
            DecodeError::Corrupt(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// A codestream whose main header has been read: its geometry, then [`Codestream::decode`].
pub struct Codestream<'a> {
    params: markers::Params,
    body: Cow<'a, [u8]>,
}

/// Read `data`'s marker segments (no code-block is decoded yet).
pub fn parse(data: &[u8]) -> Result<Codestream<'_>, DecodeError> {
    if !crate::AVAILABLE {
        return Err(DecodeError::Unsupported(
            "the HT VLC tables were not in this build".into(),
        ));
    }
    let (params, body) = markers::read(data)?;
    Ok(Codestream { params, body })
}

/// Buffers reused from frame to frame on a thread.
#[derive(Default)]
struct Scratch {
    ints: Vec<Vec<i32>>,
    floats: Vec<Vec<f32>>,
    /// Each plane's wavelet buffer (which may swap places with its plane).
    int_tmp: Vec<Vec<i32>>,
    float_tmp: Vec<Vec<f32>>,
    block: Decoders,
}

/// A thread's block decoders, and the buffer a block is decoded into when threads share
/// a frame.
#[derive(Default)]
struct Decoders {
    ht: cleanup::BlockDecoder,
    part1: ebcot::Part1Decoder,
    block: Vec<i32>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Option<Scratch>> = const { std::cell::RefCell::new(None) };
    /// The decoders of a thread helping with another's frame.
    static WORKER: std::cell::RefCell<Option<Decoders>> = const { std::cell::RefCell::new(None) };
}

impl crate::scratch::Kept for Decoders {
    /// Not counted: sized by one code-block (at most 4096 samples, T.800 A.6.1) and its
    /// segment.
    fn bytes(&self) -> usize {
        0
    }
}

impl crate::scratch::Kept for Scratch {
    fn bytes(&self) -> usize {
        crate::scratch::plane_bytes(&self.ints)
            + crate::scratch::plane_bytes(&self.floats)
            + crate::scratch::plane_bytes(&self.int_tmp)
            + crate::scratch::plane_bytes(&self.float_tmp)
    }
}

impl Codestream<'_> {
    pub fn width(&self) -> u32 {
        self.params.width as u32
    }

    pub fn height(&self) -> u32 {
        self.params.height as u32
    }

    pub fn components(&self) -> u32 {
        self.params.depth.len() as u32
    }

    /// Component `c`'s bit depth and signedness.
    pub fn depth(&self, c: usize) -> (u32, bool) {
        self.params.depth[c]
    }

    /// Decode into `out`: `width * height * components` samples of `bytes_per_sample`
    /// bytes (1 or 2, little endian, the samples of a pixel together), each its
    /// component's value (unsigned, or two's complement when signed) clamped to its depth.
    /// Code-blocks are decoded on `threads` threads.
    pub fn decode(
        &self,
        threads: usize,
        bytes_per_sample: usize,
        out: &mut [u8],
    ) -> Result<(), DecodeError> {
        let p = &self.params;
        let comps = p.depth.len();
        let (w, h) = (p.width, p.height);
        if !matches!(bytes_per_sample, 1 | 2)
            || p.depth
                .iter()
                .any(|&(d, _)| d > 8 * bytes_per_sample as u32)
            || !matches!(comps, 1 | 3)
        {
            return Err(DecodeError::Unsupported(
                "components other than 1 or 3, or deeper than the output's samples".into(),
            ));
        }
        if Some(out.len())
            != w.checked_mul(h)
                .and_then(|n| n.checked_mul(comps * bytes_per_sample))
        {
            return Err(DecodeError::Corrupt(
                "the output buffer does not fit the codestream's image".into(),
            ));
        }
        let layout = bands(w, h, p.levels);
        let flat: Vec<Band> = layout.iter().flatten().copied().collect();
        let tile = packets::read(p, &layout, &self.body)?;
        let blocks = &tile.blocks;
        // Each block's cleanup plane and coefficient shift.
        let mut jobs = Vec::with_capacity(blocks.len());
        for b in blocks {
            let (eps, _) = p.steps[b.band];
            let plane = k_max(p.guard, eps) - 1 - i64::from(b.missing);
            if b.len > 0 && plane < 0 {
                return Err(DecodeError::Corrupt(
                    "a code-block missing more bit-planes than its band has".into(),
                ));
            }
            // Part 1: the first pass's bit-plane; HT: the cleanup's magnitudes' shift.
            let shift = plane.max(0) as u32 + u32::from(!p.reversible && p.ht);
            if b.len > 0 && shift > 30 {
                return Err(DecodeError::Unsupported(
                    "coefficients of more than 31 bits".into(),
                ));
            }
            // An irreversible band's step, halved for the doubled indices.
            let step = (!p.reversible).then(|| {
                let (eps, mant) = p.steps[b.band];
                (unit_step(gain_bits(flat[b.band].orient), eps, mant) / 2.0) as f32
            });
            jobs.push(Job {
                block: *b,
                shift,
                half: !p.reversible || shift > 0,
                step,
            });
        }
        let body: &[u8] = &self.body;
        with_scratch(|s| {
            let coded = Coded {
                params: p,
                flat: &flat,
                body,
                gathered: &tile.gathered,
                segments: &tile.segments,
            };
            // Each component's wavelet on a thread of its own when there are threads to
            // spare.
            let parallel = threads > 1 && comps > 1;
            // The planes need no clearing first when every sample is in a block listed
            // (which its decoder writes or, without bytes, clears): otherwise a frame
            // decoded before could show through. Each band's blocks sit on one grid
            // no wider than its spacing, so blocks at distinct places are disjoint;
            // disjoint blocks whose areas add up to the planes' cover them (a packet
            // was read for every precinct). Otherwise the planes are cleared.
            let clear = !covered(blocks, w * h * comps);
            if p.reversible {
                let mut planes = sized_planes(&mut s.ints, comps, w * h, clear);
                decode_blocks(&jobs, &coded, w, threads, &mut planes, &mut s.block)?;
                each_plane(&mut s.ints, &mut s.int_tmp, parallel, |plane, tmp| {
                    dwt::inverse_53(plane, tmp, w, h, p.levels);
                });
                output::write(p, &mut s.ints, bytes_per_sample, threads, out);
            } else {
                // Decoded as integers into the floats' memory, each block made floats
                // (dequantised) in place as soon as it is decoded.
                let mut planes: Vec<&mut [i32]> = sized_planes(&mut s.floats, comps, w * h, clear)
                    .into_iter()
                    .map(bytemuck::cast_slice_mut)
                    .collect();
                decode_blocks(&jobs, &coded, w, threads, &mut planes, &mut s.block)?;
                each_plane(&mut s.floats, &mut s.float_tmp, parallel, |plane, tmp| {
                    dwt::inverse_97(plane, tmp, w, h, p.levels);
                });
                output::write(p, &mut s.floats, bytes_per_sample, threads, out);
            }
            Ok(())
        })
    }
}

/// Whether `blocks` (each on its band's grid of code-blocks) cover `samples` samples:
/// no two at one place of one band, and their areas add up.
fn covered(blocks: &[packets::Block], samples: usize) -> bool {
    let area: usize = blocks.iter().map(|b| b.w * b.h).sum();
    if area != samples {
        return false;
    }
    let mut places: Vec<(usize, usize, usize, usize)> =
        blocks.iter().map(|b| (b.comp, b.band, b.y, b.x)).collect();
    places.sort_unstable();
    places.windows(2).all(|p| p[0] != p[1])
}

/// `comps` planes of `n` samples in `planes` (buffers kept from frame to frame): zeros
/// when `clear`, else whatever a frame before left there.
fn sized_planes<T: Copy + Default>(
    planes: &mut Vec<Vec<T>>,
    comps: usize,
    n: usize,
    clear: bool,
) -> Vec<&mut [T]> {
    planes.resize_with(comps, Vec::new);
    planes
        .iter_mut()
        .map(|plane| {
            if clear {
                plane.clear();
            }
            plane.resize(n, T::default());
            &mut plane[..n]
        })
        .collect()
}

/// `f` on every plane with its wavelet buffer (`tmps` grown to as many): one thread
/// each when `parallel` (the first on this one).
fn each_plane<T: Send>(
    planes: &mut [Vec<T>],
    tmps: &mut Vec<Vec<T>>,
    parallel: bool,
    f: impl Fn(&mut Vec<T>, &mut Vec<T>) + Sync,
) {
    tmps.resize_with(planes.len(), Vec::new);
    let mut pairs: Vec<(&mut Vec<T>, &mut Vec<T>)> =
        planes.iter_mut().zip(tmps.iter_mut()).collect();
    if !parallel || pairs.len() < 2 {
        pairs.into_iter().for_each(|(plane, tmp)| f(plane, tmp));
        return;
    }
    let (first, rest) = pairs.split_first_mut().expect("two planes at least");
    let f = &f;
    rayon::in_place_scope(|s| {
        for (plane, tmp) in rest {
            s.spawn(move |_| f(plane, tmp));
        }
        f(first.0, first.1);
    });
}

/// Run `f` with this thread's buffers.
fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    crate::scratch::with(&SCRATCH, f)
}

/// A code-block to decode and how.
#[derive(Clone, Copy)]
struct Job {
    block: packets::Block,
    shift: u32,
    half: bool,
    /// An irreversible band's step: the block's values are made floats of a unit sample
    /// range ([`dequantise`]).
    step: Option<f32>,
}

/// What the blocks are decoded from.
struct Coded<'a> {
    params: &'a markers::Params,
    flat: &'a [Band],
    body: &'a [u8],
    /// The bytes of blocks that came in more than one packet.
    gathered: &'a [u8],
    segments: &'a [(u32, u32)],
}

/// Decode every block into its component's plane (`w` wide, zeros to start with): on
/// this thread, or on `threads` threads that each take the next block, the costliest
/// first (so that a thread that starts late or runs slow takes fewer, and the last
/// blocks taken are short), each decoded into a buffer of the thread's own and copied
/// into its place in the plane.
fn decode_blocks(
    jobs: &[Job],
    coded: &Coded<'_>,
    w: usize,
    threads: usize,
    planes: &mut [&mut [i32]],
    decoder: &mut Decoders,
) -> Result<(), DecodeError> {
    let (flat, body) = (coded.flat, coded.body);
    let corrupt = |m: &'static str| DecodeError::Corrupt(m.to_string());
    let segment = |j: &Job| -> Result<&[u8], DecodeError> {
        let from = if j.block.gathered {
            coded.gathered
        } else {
            body
        };
        from.get(j.block.start..j.block.start + j.block.len)
            .ok_or_else(|| corrupt("a code-block's segment runs past the tile's data"))
    };
    let origin = |j: &Job| {
        let band = &flat[j.block.band];
        (band.y0 + j.block.y) * w + band.x0 + j.block.x
    };
    let p = coded.params;
    let decode_one = |decoder: &mut Decoders,
                      j: &Job,
                      dst: &mut [i32],
                      stride: usize|
     -> Result<(), DecodeError> {
        let b = &j.block;
        if p.ht {
            decoder
                .ht
                .decode(segment(j)?, b.w, b.h, j.shift, j.half, dst, stride)
                .map_err(corrupt)?;
        } else {
            let block = ebcot::CodeBlock {
                data: segment(j)?,
                segments: &coded.segments[b.first as usize..(b.first + b.count) as usize],
                top: j.shift,
                orient: flat[b.band].orient,
                style: p.style,
                reversible: p.reversible,
                w: b.w,
                h: b.h,
            };
            decoder.part1.decode(&block, dst, stride).map_err(corrupt)?;
        }
        if let Some(step) = j.step {
            dequantise(dst, stride, (b.w, b.h), step);
        }
        Ok(())
    };
    // Blocks without bytes are zeros (cleared here, or with the whole plane).
    for j in jobs.iter().filter(|j| j.block.len == 0) {
        let at = origin(j);
        for y in 0..j.block.h {
            planes[j.block.comp][at + y * w..at + y * w + j.block.w].fill(0);
        }
    }
    let mut order: Vec<&Job> = jobs.iter().filter(|j| j.block.len > 0).collect();
    let threads = threads.clamp(1, 64).min(order.len().max(1));
    if threads == 1 {
        for j in order {
            let at = origin(j);
            decode_one(decoder, j, &mut planes[j.block.comp][at..], w)?;
        }
        return Ok(());
    }
    // A block's work counted as its samples and its segment's bits.
    order.sort_by_key(|j| std::cmp::Reverse(j.block.w * j.block.h + 8 * j.block.len));
    let next = AtomicUsize::new(0);
    let failure: Mutex<Option<DecodeError>> = Mutex::new(None);
    let shared = SharedPlanes::new(planes);
    let work = |d: &mut Decoders| {
        let mut buf = std::mem::take(&mut d.block);
        while let Some(j) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            let (bw, bh) = (j.block.w, j.block.h);
            buf.clear();
            buf.resize(bw * bh, 0);
            if let Err(e) = decode_one(d, j, &mut buf, bw) {
                // The others stop at their next block.
                next.store(order.len(), Ordering::Relaxed);
                failure
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert(e);
                break;
            }
            shared.put(j.block.comp, origin(j), w, &buf, bw);
        }
        d.block = buf;
    };
    rayon::in_place_scope(|s| {
        for _ in 1..threads {
            let work = &work;
            s.spawn(move |_| crate::scratch::with(&WORKER, |d: &mut Decoders| work(d)));
        }
        work(decoder);
    });
    match failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Component planes that several threads write at once, each into blocks of its own.
struct SharedPlanes {
    planes: Vec<(*mut i32, usize)>,
}

// SAFETY: the planes are only written through `put`, whose writes are bounds checked, and
// each block is put by one thread: the code-blocks of a tile are disjoint rectangles of
// their component's plane (they tile its bands, which tile the plane).
unsafe impl Sync for SharedPlanes {}

impl SharedPlanes {
    /// Over `planes`, which are not touched otherwise while this lives.
    fn new(planes: &mut [&mut [i32]]) -> Self {
        SharedPlanes {
            planes: planes
                .iter_mut()
                .map(|p| (p.as_mut_ptr(), p.len()))
                .collect(),
        }
    }

    /// Rows of `bw` samples from `src` into plane `comp` at `at`, `w` apart.
    fn put(&self, comp: usize, at: usize, w: usize, src: &[i32], bw: usize) {
        let (plane, len) = self.planes[comp];
        for (y, row) in src.chunks_exact(bw).enumerate() {
            let to = at + y * w;
            assert!(to + bw <= len, "a code-block outside its plane");
            // SAFETY: inside the plane (checked); no other thread writes these samples.
            unsafe { std::ptr::copy_nonoverlapping(row.as_ptr(), plane.add(to), bw) };
        }
    }
}

/// A block's irreversible coefficients (quantisation indices times two, with the half
/// step: rows of `bw` at `stride` apart in `dst`) made samples of a unit range in place:
/// each replaced by the bits of the float `i * step` (`step` the band's, halved).
fn dequantise(dst: &mut [i32], stride: usize, (bw, bh): (usize, usize), step: f32) {
    for y in 0..bh {
        for v in &mut dst[y * stride..y * stride + bw] {
            *v = (*v as f32 * step).to_bits() as i32;
        }
    }
}

#[cfg(test)]
mod tests;
