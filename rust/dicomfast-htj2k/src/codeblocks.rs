//! The tile's code-blocks: listed in the packets' order, coded (on this thread or on
//! several, the same bytes either way), and gathered back into their bands.

use crate::bands::{Band, CB_EXP};
use crate::{block, t2};

/// The code-blocks of every band (`layout`, resolution by resolution) of every plane
/// (`width` wide), coded on `threads` threads into `data`: per component, resolution and
/// band, its blocks; per resolution and band, the OR of the magnitudes over components.
#[allow(clippy::type_complexity)]
pub(crate) fn code(
    planes: &[Vec<i32>],
    width: usize,
    layout: &[Vec<Band>],
    threads: usize,
    coder: &mut block::BlockCoder,
    data: &mut Vec<u8>,
) -> Result<(Vec<Vec<Vec<t2::BandBlocks>>>, Vec<Vec<u32>>), String> {
    let (w, comps) = (width, planes.len());
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
        for res in layout {
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
    // or cut into `coding.threads` runs of about equal area, the first on this thread and
    // the others on rayon's pool.
    // Each block: its segment (start, length) in `data`, and the OR of its magnitudes.
    data.clear();
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
    let threads = threads.clamp(1, 64).min(jobs.len().max(1));
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
        type Coded = Result<(Vec<u8>, Vec<(usize, usize, u32)>), String>;
        let mut theirs: Vec<Coded> = rest.iter().map(|_| Ok(Default::default())).collect();
        let mut mine = Ok(Vec::new());
        rayon::in_place_scope(|s| {
            for (run, slot) in rest.iter().zip(theirs.iter_mut()) {
                let code_run = &code_run;
                s.spawn(move |_| {
                    let mut buf = Vec::new();
                    *slot =
                        code_run(&mut block::BlockCoder::new(), run, &mut buf).map(|c| (buf, c));
                });
            }
            mine = code_run(coder, first, data);
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
    Ok((precincts, magnitudes))
}
