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
//! It takes what JPEG 2000 and HTJ2K in DICOM are made of in practice (one tile or
//! many, each with its own COD and QCD if it has them, one quality layer or many, HT
//! blocks of their cleanup pass only, Part 1 blocks of any style, any progression order,
//! precinct and code-block sizes, SOP and EPH markers, any number of tile-parts); tiles
//! whose origin would move their wavelet's samples, precincts or code-blocks, and the
//! rest [`markers`] lists, are [`DecodeError::Unsupported`], for the caller to hand to a
//! general JPEG 2000 decoder.

mod cleanup;
mod ebcot;
mod jp2;
mod markers;
mod mq;
mod output;
mod packets;

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
    image: markers::Image<'a>,
}

/// Read `data`'s marker segments (no code-block is decoded yet): a J2K codestream, or a
/// JP2 file holding one (without a palette or channel definitions).
pub fn parse(data: &[u8]) -> Result<Codestream<'_>, DecodeError> {
    if !crate::AVAILABLE {
        return Err(DecodeError::Unsupported(
            "the HT VLC tables were not in this build".into(),
        ));
    }
    let data = if jp2::is_jp2(data) {
        jp2::codestream(data)?
    } else {
        data
    };
    Ok(Codestream {
        image: markers::read(data)?,
    })
}

/// Buffers reused from frame to frame on a thread.
#[derive(Default)]
struct Scratch {
    ints: Vec<Vec<i32>>,
    /// Reversible tiles of 8-bit samples ([`narrow`]).
    shorts: Vec<Vec<i16>>,
    floats: Vec<Vec<f32>>,
    /// Each plane's wavelet buffer (which may swap places with its plane).
    int_tmp: Vec<Vec<i32>>,
    short_tmp: Vec<Vec<i16>>,
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
            + crate::scratch::plane_bytes(&self.shorts)
            + crate::scratch::plane_bytes(&self.floats)
            + crate::scratch::plane_bytes(&self.int_tmp)
            + crate::scratch::plane_bytes(&self.short_tmp)
            + crate::scratch::plane_bytes(&self.float_tmp)
    }
}

impl Codestream<'_> {
    pub fn width(&self) -> u32 {
        self.image.width as u32
    }

    pub fn height(&self) -> u32 {
        self.image.height as u32
    }

    pub fn components(&self) -> u32 {
        self.image.depth.len() as u32
    }

    /// Component `c`'s bit depth and signedness.
    pub fn depth(&self, c: usize) -> (u32, bool) {
        self.image.depth[c]
    }

    /// How many tiles the image has.
    pub fn tiles(&self) -> usize {
        self.image.tiles.len()
    }

    /// Decode into `out`: `width * height * components` samples of `bytes_per_sample`
    /// bytes (1 or 2, little endian, the samples of a pixel together), each its
    /// component's value (unsigned, or two's complement when signed) clamped to its depth.
    /// Code-blocks are decoded on `threads` threads; the tiles of a tiled image, on as
    /// many, each tile's on one.
    pub fn decode(
        &self,
        threads: usize,
        bytes_per_sample: usize,
        out: &mut [u8],
    ) -> Result<(), DecodeError> {
        let image = &self.image;
        let comps = image.depth.len();
        let (w, h) = (image.width, image.height);
        if !matches!(bytes_per_sample, 1 | 2)
            || image
                .depth
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
        match &image.tiles[..] {
            [t] if t.x0 == 0 && t.y0 == 0 => {
                decode_tile(&t.params, &t.body, threads, bytes_per_sample, out)
            }
            tiles => decode_tiles(tiles, w, threads, comps * bytes_per_sample, out),
        }
    }
}

/// Decode `tiles` (which cover an image `w` pixels wide, of `px`-byte pixels) into `out`:
/// each into a buffer of its size, then into its place; on up to `threads` threads, each
/// taking the next tile (with the threads a tile's code-blocks may use when fewer
/// tiles than threads).
fn decode_tiles(
    tiles: &[markers::Tile<'_>],
    w: usize,
    threads: usize,
    px: usize,
    out: &mut [u8],
) -> Result<(), DecodeError> {
    let bps = px / tiles[0].params.depth.len();
    let queue = Queue::new(tiles.len());
    let shared = SharedPlanes::new(&mut [out]);
    let work = |inner: usize| {
        let mut buf = Vec::new();
        while let Some(t) = queue.take().map(|k| &tiles[k]) {
            let (tw, th) = (t.params.width, t.params.height);
            buf.clear();
            buf.resize(tw * th * px, 0u8);
            if let Err(e) = decode_tile(&t.params, &t.body, inner, bps, &mut buf) {
                queue.fail(e);
                break;
            }
            shared.put(0, (t.y0 * w + t.x0) * px, w * px, &buf, tw * px);
        }
    };
    // Fewer tiles than threads: each tile's code-blocks on the threads left.
    let threads = threads.clamp(1, 64);
    let inner = (threads / tiles.len()).max(1);
    let outer = threads.min(tiles.len());
    if outer == 1 {
        work(inner);
    } else {
        rayon::in_place_scope(|s| {
            for _ in 1..outer {
                let work = &work;
                s.spawn(move |_| work(inner));
            }
            work(inner);
        });
    }
    queue.finish()
}

/// Work items taken in turn by several threads, and the first failure, which stops them
/// all at their next take.
struct Queue {
    next: AtomicUsize,
    len: usize,
    failure: Mutex<Option<DecodeError>>,
}

impl Queue {
    fn new(len: usize) -> Self {
        Queue {
            next: AtomicUsize::new(0),
            len,
            failure: Mutex::new(None),
        }
    }

    /// The next item's index, if any is left and nothing failed.
    fn take(&self) -> Option<usize> {
        let k = self.next.fetch_add(1, Ordering::Relaxed);
        (k < self.len).then_some(k)
    }

    fn fail(&self, e: DecodeError) {
        self.next.store(self.len, Ordering::Relaxed);
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(e);
    }

    fn finish(self) -> Result<(), DecodeError> {
        match self.failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Decode one tile, coded with `p` (its size `p.width` x `p.height`), from its packet
/// data `body` into `out` (sized by the caller).
fn decode_tile(
    p: &markers::Params,
    body: &[u8],
    threads: usize,
    bytes_per_sample: usize,
    out: &mut [u8],
) -> Result<(), DecodeError> {
    let comps = p.depth.len();
    let (w, h) = (p.width, p.height);
    let layout = bands(w, h, p.levels);
    let flat: Vec<Band> = layout.iter().flatten().copied().collect();
    let tile = packets::read(p, &layout, body)?;
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
        if narrow(p) {
            // Half the memory of 32-bit planes: less for the caches to fetch and keep.
            let mut planes = sized_planes(&mut s.shorts, comps, w * h, clear);
            decode_blocks(&jobs, &coded, w, threads, &mut planes, &mut s.block)?;
            each_plane(&mut s.shorts, &mut s.short_tmp, parallel, |plane, tmp| {
                dwt::inverse_53(plane, tmp, w, h, p.levels);
            });
            output::write(p, &mut s.shorts, bytes_per_sample, threads, out);
        } else if p.reversible {
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

/// Whether a tile's planes can hold 16-bit values: reversible, of samples whose every
/// wavelet value fits ([`dwt::narrow_fits`]: up to 12 bits, 11 with the colour
/// transform, whose chroma take one more). A damaged codestream's values beyond 16 bits
/// wrap, as beyond 32 they do in the wide planes: samples the clamp bounds, never a
/// panic.
fn narrow(p: &markers::Params) -> bool {
    if !p.reversible || p.depth.iter().any(|&(d, _)| d > 16 || d == 0) {
        return false;
    }
    let deepest = p.depth.iter().map(|&(d, _)| d).max().unwrap_or(8);
    // The level shift makes unsigned samples signed: magnitudes up to 2^(d-1); the
    // colour transform's differences, up to 2^d - 1.
    let colour = p.colour_transform && p.depth.len() == 3;
    let bound = if colour {
        (1u32 << deepest) - 1
    } else {
        1u32 << (deepest - 1)
    };
    dwt::narrow_fits(bound, p.levels)
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

/// `f` on every plane with a wavelet buffer of `tmps`: one thread and one buffer each
/// when `parallel` (the first on this one), else one after another with the first buffer.
fn each_plane<T: Send>(
    planes: &mut [Vec<T>],
    tmps: &mut Vec<Vec<T>>,
    parallel: bool,
    f: impl Fn(&mut Vec<T>, &mut Vec<T>) + Sync,
) {
    if !parallel || planes.len() < 2 {
        // One after another: one buffer for all (it holds nothing between them), which
        // keeps the frame's memory, and what a cold cache must fetch, a plane smaller
        // per component beyond the first.
        if tmps.is_empty() {
            tmps.push(Vec::new());
        }
        let tmp = &mut tmps[0];
        planes.iter_mut().for_each(|plane| f(plane, tmp));
        return;
    }
    if tmps.len() < planes.len() {
        tmps.resize_with(planes.len(), Vec::new);
    }
    let mut pairs: Vec<(&mut Vec<T>, &mut Vec<T>)> =
        planes.iter_mut().zip(tmps.iter_mut()).collect();
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
fn decode_blocks<P: Coefficient>(
    jobs: &[Job],
    coded: &Coded<'_>,
    w: usize,
    threads: usize,
    planes: &mut [&mut [P]],
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
            planes[j.block.comp][at + y * w..at + y * w + j.block.w].fill(P::default());
        }
    }
    let mut order: Vec<&Job> = jobs.iter().filter(|j| j.block.len > 0).collect();
    let threads = threads.clamp(1, 64).min(order.len().max(1));
    if threads == 1 {
        let mut buf = std::mem::take(&mut decoder.block);
        for j in order {
            let at = origin(j);
            let plane = &mut planes[j.block.comp][at..];
            if let Some(dst) = P::wide(plane) {
                decode_one(decoder, j, dst, w)?;
            } else {
                // Through a block's buffer (in cache), then narrowed into its place.
                let (bw, bh) = (j.block.w, j.block.h);
                buf.clear();
                buf.resize(bw * bh, 0);
                decode_one(decoder, j, &mut buf, bw)?;
                for (y, row) in buf.chunks_exact(bw).enumerate() {
                    P::narrow(row, &mut plane[y * w..y * w + bw]);
                }
            }
        }
        decoder.block = buf;
        return Ok(());
    }
    // A block's work counted as its samples and its segment's bits.
    order.sort_by_key(|j| std::cmp::Reverse(j.block.w * j.block.h + 8 * j.block.len));
    let queue = Queue::new(order.len());
    let shared = SharedPlanes::new(planes);
    let work = |d: &mut Decoders| {
        let mut buf = std::mem::take(&mut d.block);
        while let Some(j) = queue.take().map(|k| order[k]) {
            let (bw, bh) = (j.block.w, j.block.h);
            buf.clear();
            buf.resize(bw * bh, 0);
            if let Err(e) = decode_one(d, j, &mut buf, bw) {
                // The others stop at their next block.
                queue.fail(e);
                break;
            }
            shared.put_block(j.block.comp, origin(j), w, &buf, bw);
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
    queue.finish()
}

/// Planes that several threads write at once, each into rectangles of its own: the
/// components' planes of a tile's code-blocks, or the output of an image's tiles.
struct SharedPlanes<T> {
    planes: Vec<(*mut T, usize)>,
}

// SAFETY: the planes are only written through `put`, whose writes are bounds checked, and
// each rectangle is put by one thread: the code-blocks of a tile are disjoint rectangles
// of their component's plane (they tile its bands, which tile the plane), and the tiles
// of an image are disjoint rectangles of it (T.800 B.3).
unsafe impl<T: Send> Sync for SharedPlanes<T> {}

impl<T: Copy> SharedPlanes<T> {
    /// Over `planes`, which are not touched otherwise while this lives.
    fn new(planes: &mut [&mut [T]]) -> Self {
        SharedPlanes {
            planes: planes
                .iter_mut()
                .map(|p| (p.as_mut_ptr(), p.len()))
                .collect(),
        }
    }

    /// Rows of `bw` values from `src` into plane `comp` at `at`, `w` apart.
    fn put(&self, comp: usize, at: usize, w: usize, src: &[T], bw: usize) {
        let (plane, len) = self.planes[comp];
        for (y, row) in src.chunks_exact(bw).enumerate() {
            let to = at + y * w;
            assert!(to + bw <= len, "a rectangle outside its plane");
            // SAFETY: inside the plane (checked); no other thread writes these values.
            unsafe { std::ptr::copy_nonoverlapping(row.as_ptr(), plane.add(to), bw) };
        }
    }
}

impl<P: Coefficient> SharedPlanes<P> {
    /// A block's rows of `bw` decoded values from `src` into plane `comp` at `at`, `w`
    /// apart, as the plane's values.
    fn put_block(&self, comp: usize, at: usize, w: usize, src: &[i32], bw: usize) {
        let (plane, len) = self.planes[comp];
        for (y, row) in src.chunks_exact(bw).enumerate() {
            let to = at + y * w;
            assert!(to + bw <= len, "a rectangle outside its plane");
            // SAFETY: inside the plane (checked); no other thread writes these values.
            let dst = unsafe { std::slice::from_raw_parts_mut(plane.add(to), bw) };
            P::narrow(row, dst);
        }
    }
}

/// What a plane holds of a decoded block's values: `i32` as they are (decoded in place),
/// `i16` (a [`narrow`] tile's) cut to 16 bits.
trait Coefficient: Copy + Default + Send + Sync {
    /// The plane as the block decoders write it, where it is of their values.
    fn wide(plane: &mut [Self]) -> Option<&mut [i32]>;
    /// A row of decoded values into the plane's.
    fn narrow(src: &[i32], dst: &mut [Self]);
}

impl Coefficient for i32 {
    #[inline(always)]
    fn wide(plane: &mut [i32]) -> Option<&mut [i32]> {
        Some(plane)
    }

    #[inline(always)]
    fn narrow(src: &[i32], dst: &mut [i32]) {
        dst.copy_from_slice(src);
    }
}

impl Coefficient for i16 {
    #[inline(always)]
    fn wide(_: &mut [i16]) -> Option<&mut [i32]> {
        None
    }

    #[inline(always)]
    fn narrow(src: &[i32], dst: &mut [i16]) {
        for (d, &v) in dst.iter_mut().zip(src) {
            *d = v as i16;
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
