//! The tile's sub-bands (the Mallat layout of T.800 Annex B.5), their precincts, and
//! their irreversible quantisation steps.

use crate::{dwt, t2};

/// Code-block size exponent (64 x 64).
pub(crate) const CB_EXP: usize = 6;

/// One sub-band of one component's Mallat layout: where it sits, and its orientation
/// (0 LL, 1 HL, 2 LH, 3 HH).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Band {
    pub(crate) x0: usize,
    pub(crate) y0: usize,
    pub(crate) w: usize,
    pub(crate) h: usize,
    pub(crate) orient: usize,
    /// Decomposition level (LL: the number of levels).
    pub(crate) level: u32,
}

/// The sub-bands of each resolution, lowest first: `[LL]`, then `[HL, LH, HH]` of each
/// level from the deepest.
pub(crate) fn bands(width: usize, height: usize, levels: u32) -> Vec<Vec<Band>> {
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
pub(crate) const PRECINCT_EXP: usize = 15;

/// The bands of resolution `r` (`rw` x `rh` samples), whole, cut into that resolution's
/// precincts in raster order: each the same bands, holding the code-blocks inside it
/// (blocks of 64 never straddle a precinct's edge).
pub(crate) fn split_precincts(
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
pub(crate) fn gain_bits(orient: usize) -> u32 {
    [0, 1, 1, 2][orient]
}

/// The irreversible step of a band, of a unit sample range: the base over the band's
/// synthesis norm (so that each band's quantisation adds about the same error).
pub(crate) fn band_step(qstep: f32, band: &Band) -> f64 {
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
