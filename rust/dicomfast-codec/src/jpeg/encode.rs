//! Lossless encoding (T.81 Annex H, H.1): sampling factors 1x1, one optimal Huffman table per
//! component (K.2), optional point transform, restart interval and one scan per component.

use super::bits::{category, BitWriter};
use super::decode::{predict, predict_dyn};
use super::huffman::{optimal_table, EncTable};
use super::markers;
use crate::{frame_size_bytes, CodecError, FrameInfo};

/// Encoder settings; the default is what DICOM's "SV1" transfer syntax (.70) wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeOptions {
    /// Predictor selection value 1-7 (Table H.1).
    pub predictor: u8,
    /// Point transform Pt (H.1.2.3): the low Pt bits are dropped, so this is lossy unless
    /// they are zero. DICOM lossless transfer syntaxes want 0.
    pub point_transform: u8,
    /// Restart interval in MCUs (B.2.4.4); 0 for none.
    pub restart_interval: u16,
    /// One scan with every component (true), or one scan per component.
    pub interleaved: bool,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            predictor: 1,
            point_transform: 0,
            restart_interval: 0,
            interleaved: true,
        }
    }
}

/// Differences of one scan in coding order (H.1.2.1 prediction, H.1.2.2 modulo 2^16), and
/// the index in `diffs` where each restart interval after the first begins.
fn scan_differences(
    s: &[u16],
    nc: usize,
    comps: &[usize],
    cols: usize,
    rows: usize,
    opts: &EncodeOptions,
    initial: i32,
) -> (Vec<u16>, Vec<usize>) {
    let ri = usize::from(opts.restart_interval);
    let w = cols * nc;
    let mut diffs = Vec::with_capacity(cols * rows * comps.len());
    let mut restarts = Vec::new();
    let (mut first_y, mut start_x) = (0, 0);
    let mut left = ri;
    for y in 0..rows {
        for x in 0..cols {
            if ri > 0 {
                if left == 0 {
                    restarts.push(diffs.len());
                    first_y = y;
                    start_x = x;
                    left = ri;
                }
                left -= 1;
            }
            for &c in comps {
                let at = y * w + x * nc + c;
                let p = if y == first_y {
                    if x == start_x {
                        initial
                    } else {
                        i32::from(s[at - nc])
                    }
                } else if x == 0 {
                    i32::from(s[at - w])
                } else {
                    predict_dyn(
                        opts.predictor,
                        i32::from(s[at - nc]),
                        i32::from(s[at - w]),
                        i32::from(s[at - w - nc]),
                    )
                };
                diffs.push((i32::from(s[at]) - p) as u16);
            }
        }
    }
    (diffs, restarts)
}

/// [`scan_differences`] for the usual case (one interleaved scan, no restarts), one line at a
/// time with the predictor fixed at compile time.
fn frame_differences<const P: u8>(s: &[u16], w: usize, nc: usize, initial: i32, diffs: &mut [u16]) {
    for (y, (cur, dst)) in s.chunks_exact(w).zip(diffs.chunks_exact_mut(w)).enumerate() {
        if y == 0 {
            for c in 0..nc {
                dst[c] = (i32::from(cur[c]) - initial) as u16;
            }
            for i in nc..w {
                dst[i] = cur[i].wrapping_sub(cur[i - nc]);
            }
            continue;
        }
        let prev = &s[(y - 1) * w..y * w];
        for c in 0..nc {
            dst[c] = cur[c].wrapping_sub(prev[c]);
        }
        for i in nc..w {
            let p = predict::<P>(
                i32::from(cur[i - nc]),
                i32::from(prev[i]),
                i32::from(prev[i - nc]),
            );
            dst[i] = (i32::from(cur[i]) - p) as u16;
        }
    }
}

/// See [`super::encode_frame_with`]; the stream replaces the contents of `out`.
pub(crate) fn encode_frame_into(
    src: &[u8],
    info: &FrameInfo,
    opts: &EncodeOptions,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    info.validate()?;
    let bad = |reason| Err(CodecError::InvalidFrameInfo { reason });
    if !(1..=7).contains(&opts.predictor) {
        return bad("predictor selection value must be 1-7 (Table H.1)");
    }
    if !matches!(info.bits_allocated, 8 | 16) {
        return bad("JPEG Lossless encodes 8 or 16 bits allocated");
    }
    let precision = u32::from(info.bits_stored);
    if !(2..=16).contains(&precision) {
        return bad("JPEG Lossless needs 2-16 bits stored (B.2.2)");
    }
    let pt = u32::from(opts.point_transform);
    if pt >= precision {
        return bad("point transform must be below the precision");
    }
    let nc = usize::from(info.samples_per_pixel);
    if nc > 4 {
        return bad("a JPEG scan holds at most 4 components (B.2.3)");
    }
    if info.rows > 65535 || info.columns > 65535 {
        return bad("JPEG frames are at most 65535 x 65535");
    }
    let expected = frame_size_bytes(info);
    if src.len() != expected {
        return Err(CodecError::InputSize {
            expected,
            actual: src.len(),
        });
    }
    SCRATCH.with(|cell| {
        let mut scratch = cell.borrow_mut();
        let (samples, diffs) = &mut *scratch;
        let r = encode_with(src, info, opts, samples, diffs, std::mem::take(out));
        for v in [samples, diffs] {
            if v.capacity() > KEEP_SAMPLES {
                *v = Vec::new();
            }
        }
        *out = r?;
        Ok(())
    })
}

thread_local! {
    /// Per-thread sample and difference buffers, reused from frame to frame.
    static SCRATCH: std::cell::RefCell<(Vec<u16>, Vec<u16>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// Larger scratch buffers (in samples) are freed after the frame rather than kept.
const KEEP_SAMPLES: usize = 8 << 20;

fn encode_with(
    src: &[u8],
    info: &FrameInfo,
    opts: &EncodeOptions,
    samples: &mut Vec<u16>,
    diffs_buf: &mut Vec<u16>,
    mut out: Vec<u8>,
) -> Result<Vec<u8>, CodecError> {
    let precision = u32::from(info.bits_stored);
    let pt = u32::from(opts.point_transform);
    let nc = usize::from(info.samples_per_pixel);
    let mask = (u32::MAX >> (32 - precision)) as u16;
    // Only the low `precision` bits are coded: signed data is coded as its two's complement
    // bit pattern, which decoders restore by sign extension from Bits Stored.
    samples.clear();
    if info.bits_allocated == 8 {
        samples.extend(src.iter().map(|&b| (u16::from(b) & mask) >> pt));
    } else {
        samples.extend(
            src.chunks_exact(2)
                .map(|c| (u16::from_le_bytes([c[0], c[1]]) & mask) >> pt),
        );
    }
    let samples = &samples[..];
    let cols = info.columns as usize;
    let rows = info.rows as usize;
    let initial = 1i32 << (precision - pt - 1);
    let scans: Vec<Vec<usize>> = if opts.interleaved {
        vec![(0..nc).collect()]
    } else {
        (0..nc).map(|c| vec![c]).collect()
    };
    let coded: Vec<(Vec<u16>, Vec<usize>)> = if opts.interleaved && opts.restart_interval == 0 {
        let mut diffs = std::mem::take(diffs_buf);
        // `frame_differences` writes every element: only a new length needs filling.
        if diffs.len() != samples.len() {
            diffs.clear();
            diffs.resize(samples.len(), 0);
        }
        let w = cols * nc;
        let f = match opts.predictor {
            1 => frame_differences::<1>,
            2 => frame_differences::<2>,
            3 => frame_differences::<3>,
            4 => frame_differences::<4>,
            5 => frame_differences::<5>,
            6 => frame_differences::<6>,
            _ => frame_differences::<7>,
        };
        f(samples, w, nc, initial, &mut diffs);
        vec![(diffs, Vec::new())]
    } else {
        scans
            .iter()
            .map(|comps| scan_differences(samples, nc, comps, cols, rows, opts, initial))
            .collect()
    };
    let mut freq = vec![[0u32; 17]; nc];
    for (comps, (diffs, _)) in scans.iter().zip(&coded) {
        // Several partial histograms, so that runs of one category do not wait on the
        // previous increment of the same counter.
        if let [c] = comps[..] {
            let mut f = [[0u32; 17]; 4];
            let mut quads = diffs.chunks_exact(4);
            for q in &mut quads {
                f[0][category(q[0])] += 1;
                f[1][category(q[1])] += 1;
                f[2][category(q[2])] += 1;
                f[3][category(q[3])] += 1;
            }
            for &d in quads.remainder() {
                f[0][category(d)] += 1;
            }
            for fc in f {
                for (a, b) in freq[c].iter_mut().zip(fc) {
                    *a += b;
                }
            }
        } else if let [c0, c1, c2] = comps[..] {
            let mut f = [[0u32; 17]; 6];
            let mut pairs = diffs.chunks_exact(6);
            for px in &mut pairs {
                f[0][category(px[0])] += 1;
                f[1][category(px[1])] += 1;
                f[2][category(px[2])] += 1;
                f[3][category(px[3])] += 1;
                f[4][category(px[4])] += 1;
                f[5][category(px[5])] += 1;
            }
            for px in pairs.remainder().chunks_exact(3) {
                f[0][category(px[0])] += 1;
                f[1][category(px[1])] += 1;
                f[2][category(px[2])] += 1;
            }
            for (k, fc) in f.into_iter().enumerate() {
                let c = [c0, c1, c2][k % 3];
                for (a, b) in freq[c].iter_mut().zip(fc) {
                    *a += b;
                }
            }
        } else {
            for px in diffs.chunks_exact(comps.len()) {
                for (&c, &d) in comps.iter().zip(px) {
                    freq[c][category(d)] += 1;
                }
            }
        }
    }
    let tables: Vec<EncTable> = freq.iter().map(optimal_table).collect();

    // Room for data that does not compress (capacity untouched is never faulted in).
    out.clear();
    out.reserve(src.len() + 1024);
    out.extend_from_slice(&[0xFF, markers::SOI]);
    // B.2.2 frame header.
    out.extend_from_slice(&[0xFF, markers::SOF3]);
    out.extend_from_slice(&((8 + 3 * nc) as u16).to_be_bytes());
    out.push(precision as u8);
    out.extend_from_slice(&(info.rows as u16).to_be_bytes());
    out.extend_from_slice(&(info.columns as u16).to_be_bytes());
    out.push(nc as u8);
    for c in 0..nc {
        out.extend_from_slice(&[c as u8 + 1, 0x11, 0]);
    }
    // B.2.4.2 Huffman tables, destinations 0..nc.
    out.extend_from_slice(&[0xFF, markers::DHT]);
    let lh: usize = 2 + tables.iter().map(|t| 17 + t.values.len()).sum::<usize>();
    out.extend_from_slice(&(lh as u16).to_be_bytes());
    for (c, t) in tables.iter().enumerate() {
        out.push(c as u8);
        out.extend_from_slice(&t.bits);
        out.extend_from_slice(&t.values);
    }
    if opts.restart_interval > 0 {
        // B.2.4.4 restart interval definition.
        out.extend_from_slice(&[0xFF, markers::DRI, 0, 4]);
        out.extend_from_slice(&opts.restart_interval.to_be_bytes());
    }
    for (comps, (diffs, restarts)) in scans.iter().zip(&coded) {
        // B.2.3 scan header: Ss = predictor, Se = 0, Ah = 0, Al = Pt.
        let ns = comps.len();
        out.extend_from_slice(&[0xFF, markers::SOS]);
        out.extend_from_slice(&((6 + 2 * ns) as u16).to_be_bytes());
        out.push(ns as u8);
        for &c in comps {
            out.extend_from_slice(&[c as u8 + 1, (c as u8) << 4]);
        }
        out.extend_from_slice(&[opts.predictor, 0, opts.point_transform]);
        let mut bw = BitWriter::new(out);
        if restarts.is_empty() {
            // No restart markers: the per-sample loop without boundary checks, unrolled
            // for the usual component counts.
            match ns {
                1 => {
                    let t = &tables[comps[0]];
                    for &d in diffs {
                        bw.diff(t, d);
                    }
                }
                3 => {
                    let (t0, t1, t2) = (&tables[comps[0]], &tables[comps[1]], &tables[comps[2]]);
                    for px in diffs.chunks_exact(3) {
                        bw.diff(t0, px[0]);
                        bw.diff(t1, px[1]);
                        bw.diff(t2, px[2]);
                    }
                }
                _ => {
                    for px in diffs.chunks_exact(ns) {
                        for (&c, &d) in comps.iter().zip(px) {
                            bw.diff(&tables[c], d);
                        }
                    }
                }
            }
            out = bw.finish();
            continue;
        }
        let mut next = restarts.iter().copied().chain(std::iter::once(usize::MAX));
        let mut boundary = next.next().unwrap_or(usize::MAX);
        let mut count = 0;
        for (i, px) in diffs.chunks_exact(ns).enumerate() {
            if i * ns == boundary {
                bw.restart_marker(count);
                count += 1;
                boundary = next.next().unwrap_or(usize::MAX);
            }
            for (&c, &d) in comps.iter().zip(px) {
                bw.diff(&tables[c], d);
            }
        }
        out = bw.finish();
    }
    out.extend_from_slice(&[0xFF, markers::EOI]);
    if let Some((diffs, _)) = coded.into_iter().next() {
        *diffs_buf = diffs; // keep the buffer for the next frame
    }
    Ok(out)
}
