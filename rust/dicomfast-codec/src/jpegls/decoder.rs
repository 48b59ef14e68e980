//! Our JPEG-LS decoder (pure Rust, T.87): a stream's scans decoded straight into a
//! frame's samples, each component into its place among a pixel's.
//!
//! It takes what clinical JPEG-LS is: one component, or several in a scan each or
//! interleaved by line or by sample; lossless or near-lossless; 2-16 bits; default or
//! preset coding parameters. The rest it declines ([`Declined`]) and CharLS decodes.

use super::bits::Bits;
use super::context::{Coding, Defaults};
use super::header::{self, Declined};
use super::lines::Shape;
use super::scan;
use crate::FrameInfo;

/// Decode `data` into `out` (the frame `info` describes, samples little endian and of
/// `info`'s width, as coded); the codestream's precision, from which the caller makes
/// signed samples signed.
pub(super) fn decode(data: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<u32, Declined> {
    decode_with(data, info, out, Defaults::Standard)
}

/// [`decode`] with the default thresholds of CharLS 1.x, for a stream that T.87's defaults
/// found damaged: only where they differ from T.87's (MAXVAL below 128 and a threshold not
/// preset). Either way every scan must decode to its last bit, no more and no fewer (wrong
/// thresholds read a scan's bits otherwise and end early or late).
pub(super) fn decode_as_charls_1(
    data: &[u8],
    info: &FrameInfo,
    out: &mut [u8],
) -> Result<u32, Declined> {
    decode_with(data, info, out, Defaults::CharLs1)
}

fn decode_with(
    data: &[u8],
    info: &FrameInfo,
    out: &mut [u8],
    defaults: Defaults,
) -> Result<u32, Declined> {
    if !matches!(info.bits_allocated, 8 | 16) || info.float {
        return Err(Declined::Unsupported("bits allocated other than 8 or 16"));
    }
    let stream = header::read(data)?;
    let (w, h) = (info.columns as usize, info.rows as usize);
    let spp = usize::from(info.samples_per_pixel);
    let bytes = info.bytes_per_sample();
    // Anything unlike the data set: CharLS's checks say what differs.
    if stream.width != info.columns
        || stream.height != info.rows
        || stream.components != spp
        || (stream.precision > 8 && bytes == 1)
        || out.len() != w * h * spp * bytes
    {
        return Err(Declined::Unsupported("a frame unlike the data set's"));
    }
    if defaults == Defaults::CharLs1
        && stream.scans.iter().all(|s| {
            let coding = |d| Coding::new(stream.precision, s.near, s.preset, d).ok();
            coding(Defaults::Standard) == coding(Defaults::CharLs1)
        })
    {
        return Err(Declined::Unsupported(
            "CharLS 1.x's defaults are T.87's here",
        ));
    }
    for s in &stream.scans {
        let at = |e: Declined| match e {
            Declined::Corrupt { offset, reason } => Declined::Corrupt {
                offset: s.start + offset,
                reason,
            },
            other => other,
        };
        let coding = Coding::new(stream.precision, s.near, s.preset, defaults).map_err(at)?;
        if coding.maxval != (1 << stream.precision) - 1 {
            // A preset MAXVAL below 2^P - 1: CharLS keeps RANGE, qbpp and LIMIT of
            // 2^P - 1 (where T.87 derives them from MAXVAL) and brings values into range
            // with a mask (T.87's clamp only for 2^n - 1); its reading of the streams it
            // writes so is kept.
            return Err(Declined::Unsupported("a MAXVAL other than 2^P - 1"));
        }
        let mut bits = Bits::new(&data[s.start..s.end]);
        let comps = &s.components;
        let by_sample = s.by_sample;
        let put = |y: usize, k: usize, line: &[i32]| {
            let c = comps[k];
            let row = &mut out[y * w * spp * bytes..(y + 1) * w * spp * bytes];
            // A line of whole pixels when interleaved by sample.
            let step = if by_sample { 1 } else { spp };
            match (bytes, step) {
                (2, 1) => {
                    for (o, &v) in row.chunks_exact_mut(2).zip(line) {
                        o.copy_from_slice(&(v as u16).to_le_bytes());
                    }
                }
                (1, 1) => {
                    for (o, &v) in row.iter_mut().zip(line) {
                        *o = v as u8;
                    }
                }
                (2, _) => {
                    for (o, &v) in row.chunks_exact_mut(2 * spp).zip(line) {
                        o[2 * c..2 * c + 2].copy_from_slice(&(v as u16).to_le_bytes());
                    }
                }
                _ => {
                    for (o, &v) in row.chunks_exact_mut(spp).zip(line) {
                        o[c] = v as u8;
                    }
                }
            }
        };
        if by_sample && (comps.len() != spp || comps.iter().enumerate().any(|(k, &c)| k != c)) {
            return Err(Declined::Unsupported("components interleaved out of order"));
        }
        let shape = Shape {
            w,
            h,
            comps: comps.len(),
            by_sample,
        };
        scan::decode(&coding, &mut bits, shape, put).map_err(at)?;
        if !bits.used_up() {
            // Bits left over: the scan was read otherwise than it was written (wrong
            // thresholds, damage); CharLS refuses such a scan too.
            return Err(Declined::Corrupt {
                offset: s.start,
                reason: "a scan whose last bits are left unread",
            });
        }
    }
    Ok(u32::from(stream.precision))
}
