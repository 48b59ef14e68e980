//! The frame's samples into planes: level shift, colour transform (RCT or ICT), wavelet.

use crate::{dwt, Coding, Frame};

/// Component `c` of the frame as signed, level-shifted values, into `dst`.
fn read_component(frame: &Frame<'_>, c: usize, dst: &mut [i32]) {
    let comps = frame.components as usize;
    let bits = frame.bit_depth;
    let mask = ((1u32 << bits) - 1) as i32;
    let shift = 32 - bits;
    let offset = 1 << (bits - 1);
    // One loop per case, so that each is a plain (vectorisable) loop.
    let (samples, word) = (frame.samples, |b: [u8; 2]| i32::from(u16::from_le_bytes(b)));
    match (frame.bytes_per_sample, frame.signed) {
        (1, false) => fill(dst, samples, comps, c, |[b]| (i32::from(b) & mask) - offset),
        (1, true) => fill(dst, samples, comps, c, |[b]| {
            (i32::from(b) << shift) >> shift
        }),
        (_, false) => fill(dst, samples, comps, c, |b| (word(b) & mask) - offset),
        (_, true) => fill(dst, samples, comps, c, |b| (word(b) << shift) >> shift),
    }
}

/// `dst` from sample `c` of each pixel of `comps` samples of `W` bytes, through `f`: a
/// grey frame's loop over samples of a constant size (which vectorises; a stride known
/// only at run time does not: 5% of a 16-bit CT slice's coding).
#[inline(always)]
fn fill<const W: usize>(
    dst: &mut [i32],
    samples: &[u8],
    comps: usize,
    c: usize,
    f: impl Fn([u8; W]) -> i32,
) {
    let value = |px: &[u8]| f(px.try_into().expect("W bytes"));
    if comps == 1 {
        for (d, px) in dst.iter_mut().zip(samples.chunks_exact(W)) {
            *d = value(px);
        }
    } else {
        for (d, px) in dst.iter_mut().zip(samples.chunks_exact(W * comps)) {
            *d = value(&px[W * c..W * c + W]);
        }
    }
}

/// Unsigned 8-bit RGB read, level-shifted and through the RCT (T.800 G.2) in one pass:
/// Y, then Cb = B - G, then Cr = R - G, as [`transform`] does in two for other samples.
///
/// Compiled for AVX2 where the processor has it (checked once): the pixels' three
/// samples are then taken apart eight pixels at a time.
fn read_rct_8(frame: &Frame<'_>, ints: &mut [Vec<i32>]) {
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::vector() {
        // SAFETY: AVX2 was found on this processor.
        return unsafe { read_rct_8_avx2(frame, ints) };
    }
    read_rct_8_any(frame, ints)
}

/// [`read_rct_8`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn read_rct_8_avx2(frame: &Frame<'_>, ints: &mut [Vec<i32>]) {
    read_rct_8_any(frame, ints)
}

/// The one source of [`read_rct_8`]'s builds.
#[inline(always)]
fn read_rct_8_any(frame: &Frame<'_>, ints: &mut [Vec<i32>]) {
    let mask = ((1u32 << frame.bit_depth) - 1) as i32;
    let offset = 1 << (frame.bit_depth - 1);
    if let [y, cb, cr] = ints {
        let px = frame.samples.chunks_exact(3);
        for (((y, cb), cr), px) in y.iter_mut().zip(cb.iter_mut()).zip(cr.iter_mut()).zip(px) {
            let r = (i32::from(px[0]) & mask) - offset;
            let g = (i32::from(px[1]) & mask) - offset;
            let b = (i32::from(px[2]) & mask) - offset;
            *y = (r + 2 * g + b) >> 2;
            *cb = b - g;
            *cr = r - g;
        }
    }
}

/// `n` planes of `len` values from `pool` (grown or cut to size; values not cleared).
fn planes<T: Copy + Default>(pool: &mut Vec<Vec<T>>, n: usize, len: usize) {
    pool.resize_with(n, Vec::new);
    for p in pool.iter_mut() {
        p.resize(len, T::default());
    }
}

/// The frame's samples through the colour transform and the wavelet, into
/// `ints` (reversible) or `floats` (irreversible, of a unit range).
pub(crate) fn transform(
    frame: &Frame<'_>,
    coding: &Coding,
    ints: &mut Vec<Vec<i32>>,
    floats: &mut Vec<Vec<f32>>,
    (int_tmp, float_tmp): (&mut Vec<i32>, &mut Vec<f32>),
) {
    let (w, h) = (frame.width as usize, frame.height as usize);
    let comps = frame.components as usize;
    let colour = coding.colour_transform && comps == 3;
    let levels = coding.decompositions;
    planes(ints, comps, w * h);
    let rgb8 = coding.reversible && colour && frame.bytes_per_sample == 1 && !frame.signed;
    if rgb8 {
        read_rct_8(frame, ints);
    } else {
        for (c, plane) in ints.iter_mut().enumerate() {
            read_component(frame, c, plane);
        }
    }
    if coding.reversible {
        let p = ints;
        if colour && !rgb8 {
            if let [r, g, b] = &mut p[..] {
                for ((r, g), b) in r.iter_mut().zip(g.iter_mut()).zip(b.iter_mut()) {
                    let (rv, gv, bv) = (*r, *g, *b);
                    *r = (rv + 2 * gv + bv) >> 2;
                    *g = bv - gv;
                    *b = rv - gv;
                }
            }
        }
        for plane in p.iter_mut() {
            dwt::forward_53(plane, int_tmp, w, h, levels);
        }
    } else {
        let scale = 1.0 / (1u64 << frame.bit_depth) as f32;
        planes(floats, comps, w * h);
        for (ints, plane) in ints.iter().zip(floats.iter_mut()) {
            for (f, &i) in plane.iter_mut().zip(ints.iter()) {
                *f = i as f32 * scale;
            }
        }
        let p = floats;
        if colour {
            if let [r, g, b] = &mut p[..] {
                for ((r, g), b) in r.iter_mut().zip(g.iter_mut()).zip(b.iter_mut()) {
                    let (rv, gv, bv) = (*r, *g, *b);
                    *r = 0.299 * rv + 0.587 * gv + 0.114 * bv;
                    *g = -0.168_736 * rv - 0.331_264 * gv + 0.5 * bv;
                    *b = 0.5 * rv - 0.418_688 * gv - 0.081_312 * bv;
                }
            }
        }
        for plane in p.iter_mut() {
            dwt::forward_97(plane, float_tmp, w, h, levels);
        }
    }
}
