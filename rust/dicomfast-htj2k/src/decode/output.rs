//! Decoded planes into the caller's samples: the inverse colour transform (RCT or ICT,
//! T.800 G.2-G.3), rounding (irreversible), the level shift, the clamp to each
//! component's depth, interleaved as 1- or 2-byte little-endian samples; in runs of
//! pixels on the allowed threads. Each step is a plain loop over a few hundred values of
//! one plane (so that it vectorises), the interleaving last.

use super::markers::Params;

/// Pixels converted at a time.
const CHUNK: usize = 256;

/// A component's level shift and clamp, and (irreversible) its scale from a unit range.
#[derive(Clone, Copy)]
pub(crate) struct Range {
    offset: i32,
    low: i32,
    high: i32,
    scale: f32,
}

fn ranges(p: &Params) -> [Range; 3] {
    std::array::from_fn(|c| {
        let (d, signed) = p.depth[c.min(p.depth.len() - 1)];
        let (offset, low, high) = if signed {
            (0, -(1 << (d - 1)), (1 << (d - 1)) - 1)
        } else {
            (1 << (d - 1), 0, (1 << d) - 1)
        };
        Range {
            offset,
            low,
            high,
            scale: (1u32 << d) as f32,
        }
    })
}

/// A plane's values: reversible integers (32 or 16 bits) or irreversible floats (of a
/// unit range).
pub(crate) trait Plane: Copy + Send + Sync {
    /// The inverse colour transform of three planes' values, in place.
    fn colour(a: &mut [Self], b: &mut [Self], c: &mut [Self]);
    /// Values to clamped samples.
    fn samples(src: &[Self], r: Range, dst: &mut [i32]);
}

impl Plane for i32 {
    #[inline(always)]
    fn colour(y: &mut [i32], u: &mut [i32], v: &mut [i32]) {
        for ((y, u), v) in y.iter_mut().zip(u.iter_mut()).zip(v.iter_mut()) {
            // Wrapping: a damaged codestream's values may be anything.
            let g = y.wrapping_sub(u.wrapping_add(*v) >> 2);
            (*y, *u, *v) = (v.wrapping_add(g), g, u.wrapping_add(g));
        }
    }

    #[inline(always)]
    fn samples(src: &[i32], r: Range, dst: &mut [i32]) {
        for (d, &v) in dst.iter_mut().zip(src) {
            *d = v.wrapping_add(r.offset).clamp(r.low, r.high);
        }
    }
}

impl Plane for i16 {
    #[inline(always)]
    fn colour(y: &mut [i16], u: &mut [i16], v: &mut [i16]) {
        for ((y, u), v) in y.iter_mut().zip(u.iter_mut()).zip(v.iter_mut()) {
            // Worked in 32 bits; what a valid tile holds fits in 16 (`dwt::narrow_fits`).
            let (l, b, r) = (i32::from(*y), i32::from(*u), i32::from(*v));
            let g = l - ((b + r) >> 2);
            (*y, *u, *v) = ((r + g) as i16, g as i16, (b + g) as i16);
        }
    }

    #[inline(always)]
    fn samples(src: &[i16], r: Range, dst: &mut [i32]) {
        for (d, &v) in dst.iter_mut().zip(src) {
            *d = (i32::from(v) + r.offset).clamp(r.low, r.high);
        }
    }
}

impl Plane for f32 {
    #[inline(always)]
    fn colour(y: &mut [f32], cb: &mut [f32], cr: &mut [f32]) {
        for ((y, cb), cr) in y.iter_mut().zip(cb.iter_mut()).zip(cr.iter_mut()) {
            let (l, b, r) = (*y, *cb, *cr);
            (*y, *cb, *cr) = (
                l + 1.402 * r,
                l - 0.344_136 * b - 0.714_136 * r,
                l + 1.772 * b,
            );
        }
    }

    #[inline(always)]
    fn samples(src: &[f32], r: Range, dst: &mut [i32]) {
        // Rounded to nearest (ties to even) by the float unit itself: exact below 2^22,
        // and beyond that some value the clamp bounds.
        // The sum's bits hold the integer: 1.5 * 2^23 as a float is 0x4B40_0000, and
        // below 2^22 each unit of the sum is one unit of its mantissa (no conversion
        // instruction, nothing to saturate).
        const MAGIC: f32 = 12_582_912.0;
        for (d, &v) in dst.iter_mut().zip(src) {
            let rounded = ((v * r.scale + MAGIC).to_bits() as i32).wrapping_sub(0x4B40_0000);
            *d = rounded.wrapping_add(r.offset).clamp(r.low, r.high);
        }
    }
}

/// Pixels of `planes` (their colour transform undone in place when the codestream says
/// so) into `out` as `bps`-byte samples, on up to `threads` threads.
pub(crate) fn write<T: Plane>(
    p: &Params,
    planes: &mut [Vec<T>],
    bps: usize,
    threads: usize,
    out: &mut [u8],
) {
    let ranges = ranges(p);
    let comps = planes.len();
    let colour = p.colour_transform && comps == 3;
    let n = planes[0].len();
    // Runs of at least 2^18 samples: fewer threads for small frames (waking a thread
    // costs more than converting a 512 x 512 grey frame's half).
    let per = n.div_ceil(threads.clamp(1, 64)).max((1 << 18) / comps);
    let mut runs: Vec<Vec<&mut [T]>> = (0..n.div_ceil(per)).map(|_| Vec::new()).collect();
    for plane in planes.iter_mut() {
        for (run, part) in runs.iter_mut().zip(plane.chunks_mut(per)) {
            run.push(part);
        }
    }
    let one = |mut run: Vec<&mut [T]>, out: &mut [u8]| {
        if bps == 1 {
            interleave::<T, 1>(&mut run, colour, &ranges, out);
        } else {
            interleave::<T, 2>(&mut run, colour, &ranges, out);
        }
    };
    let mut parts = runs.into_iter().zip(out.chunks_mut(per * comps * bps));
    let Some((run, first)) = parts.next() else {
        return;
    };
    rayon::in_place_scope(|s| {
        for (run, chunk) in parts {
            let one = &one;
            s.spawn(move |_| one(run, chunk));
        }
        one(run, first);
    });
}

/// The planes' values as samples, `B` bytes each, the samples of a pixel together; the
/// colour transform undone first (in place) when `colour`, a chunk at a time, while the
/// chunk is in cache. Compiled for AVX2 as well, taken where the processor has it (the
/// clamps are then one instruction each, the loops twice as wide).
fn interleave<T: Plane, const B: usize>(
    planes: &mut [&mut [T]],
    colour: bool,
    ranges: &[Range; 3],
    out: &mut [u8],
) {
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::vector() {
        // SAFETY: AVX2 was found on this processor.
        return unsafe { interleave_avx2::<T, B>(planes, colour, ranges, out) };
    }
    interleave_any::<T, B>(planes, colour, ranges, out)
}

/// [`interleave`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn interleave_avx2<T: Plane, const B: usize>(
    planes: &mut [&mut [T]],
    colour: bool,
    ranges: &[Range; 3],
    out: &mut [u8],
) {
    interleave_any::<T, B>(planes, colour, ranges, out)
}

/// The one source of [`interleave`]'s builds.
#[inline(always)]
fn interleave_any<T: Plane, const B: usize>(
    planes: &mut [&mut [T]],
    colour: bool,
    ranges: &[Range; 3],
    out: &mut [u8],
) {
    let comps = planes.len();
    let mut buf = [[0i32; CHUNK]; 3];
    for (k, o) in out.chunks_mut(CHUNK * comps * B).enumerate() {
        let n = o.len() / (comps * B);
        if let ([a, b, c], true) = (&mut *planes, colour) {
            let at = k * CHUNK..k * CHUNK + n;
            T::colour(&mut a[at.clone()], &mut b[at.clone()], &mut c[at]);
        }
        for (c, plane) in planes.iter().enumerate() {
            T::samples(
                &plane[k * CHUNK..k * CHUNK + n],
                ranges[c],
                &mut buf[c][..n],
            );
        }
        match (comps, B) {
            (1, 1) => {
                for (o, &v) in o.iter_mut().zip(&buf[0][..n]) {
                    *o = v as u8;
                }
            }
            (1, _) => {
                for (o, &v) in o.chunks_exact_mut(2).zip(&buf[0][..n]) {
                    o.copy_from_slice(&(v as u16).to_le_bytes());
                }
            }
            (_, 1) => {
                for (i, o) in o.chunks_exact_mut(3).enumerate() {
                    o[0] = buf[0][i] as u8;
                    o[1] = buf[1][i] as u8;
                    o[2] = buf[2][i] as u8;
                }
            }
            _ => {
                for (i, o) in o.chunks_exact_mut(6).enumerate() {
                    for c in 0..3 {
                        o[2 * c..2 * c + 2].copy_from_slice(&(buf[c][i] as u16).to_le_bytes());
                    }
                }
            }
        }
    }
}
