//! A lone 8-bit frame encoded on several threads: cut into bands of whole MCU rows, each
//! band encoded by libjpeg-turbo as an image of its own on a thread of its own, and the
//! bands' entropy-coded segments joined into one sequential JPEG with restart markers
//! (T.81 B.2.4.4 DRI, E.1.4 and F.1.2.3: at a restart marker the DC predictions start
//! again from 0 and the coder from a byte boundary, padded with 1-bits; which is how
//! each band's own stream begins and ends).
//!
//! Each band's coefficients are those the whole frame would give: the colour conversion
//! is per pixel, libjpeg's downsampling without smoothing stays inside an MCU, the DCT
//! and quantisation inside a block, and only the last band reaches the frame's bottom
//! edge (where the whole frame's last MCU row is padded the same way). So the frame
//! decodes to the same samples as its single-threaded encoding, a few bytes longer (one
//! marker per band, and each band's DC restarting from 0). 12-bit frames keep to one
//! thread: their Huffman tables are made for each image (optimised coding), so the
//! bands' would differ.

use super::{encode, header, on_every_core};
use crate::codec::EncodeParams;
use crate::{CodecError, FrameInfo};

/// The rows of an MCU in what [`encode`] writes: 8 (grey; 4:4:4; and 4:2:2, which halves
/// only the columns). Checked against each band's frame header.
const MCU_ROWS: usize = 8;

/// Where an encoded band's parts are.
struct Parts<'a> {
    /// SOI up to the SOS marker.
    head: &'a [u8],
    /// The SOS segment.
    sos: &'a [u8],
    /// Where the frame header's number of lines is, in `head`.
    lines_at: usize,
    /// An MCU's columns and rows (8 times the largest sampling factors).
    mcu: (usize, usize),
    /// The entropy-coded segment, up to the EOI marker.
    data: &'a [u8],
}

/// The parts of `jpeg`, a baseline or extended sequential stream with one scan, no
/// restart interval and nothing after the scan but EOI (what [`encode`] writes); None for
/// anything else.
fn parts(jpeg: &[u8]) -> Option<Parts<'_>> {
    let h = header::read(jpeg)?;
    if h.interval.is_some() || h.rest.get(h.rest.len().checked_sub(2)?..)? != [0xFF, 0xD9] {
        return None;
    }
    Some(Parts {
        head: h.head,
        sos: h.sos,
        lines_at: h.lines_at,
        mcu: h.mcu,
        data: &h.rest[..h.rest.len() - 2],
    })
}

/// The bands of `rows` rows for `threads` threads: each a whole number of MCU rows but
/// the last, at least two. None when the frame is too short for two.
fn bands(rows: usize, threads: usize) -> Option<Vec<(usize, usize)>> {
    let mcu_rows = rows.div_ceil(MCU_ROWS);
    let n = threads.min(mcu_rows);
    if n < 2 {
        return None;
    }
    let step = mcu_rows.div_ceil(n) * MCU_ROWS;
    Some(
        (0..rows)
            .step_by(step)
            .map(|y| (y, (y + step).min(rows)))
            .collect(),
    )
}

/// Encode the 8-bit frame `src` on up to `threads` threads into `out`, as [`encode`]
/// would (the same samples once decoded) with a restart marker between bands. None when
/// it does not apply (a frame too short, 12-bit, a restart interval over 65535 MCUs, or
/// bands whose headers differ beyond their height): the caller encodes the frame whole.
pub(super) fn encode_striped(
    src: &[u8],
    info: &FrameInfo,
    params: &EncodeParams,
    out: &mut Vec<u8>,
    threads: usize,
) -> Option<Result<usize, CodecError>> {
    if info.bits_allocated != 8 || info.rows > 65535 || info.columns > 65535 {
        return None;
    }
    let bands = bands(info.rows as usize, threads)?;
    let row_bytes = info.columns as usize * usize::from(info.samples_per_pixel);
    if src.len() != row_bytes * info.rows as usize {
        return None; // encode() reports it
    }
    let band = |(y0, y1): (usize, usize)| -> Result<Vec<u8>, CodecError> {
        let info = FrameInfo {
            rows: (y1 - y0) as u32,
            ..*info
        };
        let mut buf = Vec::new();
        let n = encode(
            &src[y0 * row_bytes..y1 * row_bytes],
            &info,
            params,
            &mut buf,
        )?;
        buf.truncate(n);
        Ok(buf)
    };
    let coded: Vec<Vec<u8>> = match on_every_core(bands.clone(), band)
        .into_iter()
        .collect::<Result<_, CodecError>>()
    {
        Ok(coded) => coded,
        Err(e) => return Some(Err(e)),
    };
    let parts: Vec<Parts<'_>> = coded.iter().map(|c| parts(c)).collect::<Option<_>>()?;
    let first = &parts[0];
    let (mcu_cols, mcu_rows) = first.mcu;
    let band_rows = bands[0].1 - bands[0].0;
    // The same tables, sampling and width in every band: headers equal but for their
    // number of lines.
    let same = |p: &Parts<'_>| {
        p.mcu == first.mcu
            && p.lines_at == first.lines_at
            && p.sos == first.sos
            && p.head.len() == first.head.len()
            && p.head[..p.lines_at] == first.head[..first.lines_at]
            && p.head[p.lines_at + 2..] == first.head[first.lines_at + 2..]
    };
    if mcu_rows != MCU_ROWS || !parts.iter().all(same) {
        return None;
    }
    let interval = band_rows / mcu_rows * (info.columns as usize).div_ceil(mcu_cols);
    let interval = u16::try_from(interval).ok()?;
    out.clear();
    out.reserve(coded.iter().map(Vec::len).sum::<usize>() + 6 + 2 * parts.len());
    out.extend_from_slice(first.head);
    let lines = (info.rows as u16).to_be_bytes();
    out[first.lines_at..first.lines_at + 2].copy_from_slice(&lines);
    out.extend_from_slice(&[0xFF, 0xDD, 0x00, 0x04]);
    out.extend_from_slice(&interval.to_be_bytes());
    out.extend_from_slice(first.sos);
    for (k, p) in parts.iter().enumerate() {
        if k > 0 {
            out.extend_from_slice(&[0xFF, 0xD0 + ((k - 1) % 8) as u8]);
        }
        out.extend_from_slice(p.data);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    Some(Ok(out.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(rows: u32, cols: u32, spp: u16) -> (Vec<u8>, FrameInfo) {
        let info = FrameInfo::new(rows, cols, spp, 8);
        let n = (rows * cols) as usize * usize::from(spp);
        // Smooth gradients with some texture: every band has DC changes to code.
        let src = (0..n)
            .map(|i| {
                let px = i / usize::from(spp);
                let (y, x) = (px / cols as usize, px % cols as usize);
                ((x * 3 + y * 5 + (i % 3) * 40 + (x * y) % 17) % 256) as u8
            })
            .collect();
        (src, info)
    }

    fn decoded(jpeg: &[u8], info: &FrameInfo) -> Vec<u8> {
        let mut out = vec![0u8; crate::frame_size_bytes(info)];
        super::super::decode(jpeg, info, &mut out).expect("decodes");
        out
    }

    #[test]
    fn striped_frames_decode_to_the_whole_frames_samples() {
        for &(rows, cols, spp, transform) in &[
            (486u32, 756u32, 3u16, false),
            (486, 757, 3, true),
            (512, 512, 1, false),
            (17, 31, 1, false),
            (9, 64, 3, true),
            (1000, 333, 3, false),
        ] {
            let (src, info) = frame(rows, cols, spp);
            let params = EncodeParams::default()
                .with_quality(85)
                .with_colour_transform(transform);
            let mut whole = Vec::new();
            let n = encode(&src, &info, &params, &mut whole).unwrap();
            whole.truncate(n);
            for threads in [2, 3, 8] {
                let mut striped = Vec::new();
                let n = encode_striped(&src, &info, &params, &mut striped, threads)
                    .expect("striped")
                    .unwrap();
                assert_eq!(n, striped.len());
                assert!(striped.windows(2).any(|w| w == [0xFF, 0xDD]), "a DRI");
                assert_eq!(
                    decoded(&striped, &info),
                    decoded(&whole, &info),
                    "{rows}x{cols}x{spp} transform {transform} on {threads} threads"
                );
            }
        }
    }

    #[test]
    fn short_or_deep_frames_are_left_whole() {
        let (src, info) = frame(8, 100, 1);
        let params = EncodeParams::default();
        assert!(encode_striped(&src, &info, &params, &mut Vec::new(), 2).is_none());
        let info12 = FrameInfo {
            bits_allocated: 16,
            bits_stored: 12,
            ..FrameInfo::new(64, 64, 1, 16)
        };
        let src12 = vec![0u8; 64 * 64 * 2];
        assert!(encode_striped(&src12, &info12, &params, &mut Vec::new(), 2).is_none());
    }

    #[test]
    fn bands_are_whole_mcu_rows() {
        assert_eq!(bands(486, 2), Some(vec![(0, 248), (248, 486)]));
        assert_eq!(bands(16, 4), Some(vec![(0, 8), (8, 16)]));
        assert_eq!(bands(8, 2), None);
        assert_eq!(bands(100, 1), None);
    }
}
