//! A lone frame whose restart intervals each hold whole MCU rows, decoded on several
//! threads: its intervals dealt out in bands of consecutive rows, each band made a
//! stream of its own (the frame's header with the band's height, the band's intervals
//! with their restart markers numbered from RST0 again, EOI) and decoded into its rows.
//! At a restart marker the decoder starts again from nothing (T.81 E.2.4, F.2.1.3.1:
//! DC predictions 0, the coder at a byte boundary), so each band decodes as it would in
//! the whole frame, unless a component is upsampled down (4:2:0 chroma), which reads
//! across MCU rows: such frames are decoded whole. What [`super::stripes`] writes is such
//! a frame; so are the frames of any encoder whose restart interval is a whole number of
//! MCU rows.
//!
//! Anything else, or a band its decoder finds damaged, gives None: the frame is then
//! decoded whole, and a damaged stream is reported as it always is.

use super::{decode, header, on_every_core};
use crate::{CodecError, FrameInfo};

/// What the bands are cut from.
struct Layout<'a> {
    /// SOI up to the SOS marker (with the DRI).
    head: &'a [u8],
    /// Where the frame header's number of lines is, in `head`.
    lines_at: usize,
    /// The SOS segment.
    sos: &'a [u8],
    /// The rows of pixels in one restart interval.
    interval_rows: usize,
    /// Each interval's entropy-coded bytes (without its restart marker).
    intervals: Vec<&'a [u8]>,
}

/// The layout of `jpeg` (rows `rows` high), when it is one sequential Huffman scan of
/// every component whose restart interval is a whole number of MCU rows, each interval
/// ended by the next restart marker in turn and the last by EOI, and no component is
/// upsampled down (4:2:0 chroma: libjpeg-turbo's upsampling of an MCU row's chroma
/// reads the rows of the MCU rows above and below, which a band decoded as a stream of
/// its own has not; its edge rows would differ from the whole frame's).
fn layout(jpeg: &[u8], rows: usize) -> Option<Layout<'_>> {
    let h = header::read(jpeg)?;
    if h.upsampled_down {
        return None;
    }
    let (x, nf, (mcu_w, mcu_h)) = (h.width, h.components, h.mcu);
    let (head, sos, data) = (h.head, h.sos, h.rest);
    // One scan of every component (a scan of one of several would be followed by others).
    if h.lines != rows || x == 0 || usize::from(*sos.get(4)?) != nf || mcu_h == 0 {
        return None;
    }
    let per_row = x.div_ceil(mcu_w);
    let interval = usize::from(h.interval?);
    if interval == 0 || interval % per_row != 0 {
        return None;
    }
    let interval_rows = interval / per_row * mcu_h;
    let count = rows.div_ceil(interval_rows);
    // The intervals: ended by RST0, RST1, ... in turn, the last by EOI.
    let mut intervals = Vec::with_capacity(count);
    let (mut from, mut i, mut ended) = (0, 0, false);
    while i + 1 < data.len() {
        if data[i] != 0xFF {
            i += 1;
            continue;
        }
        match data[i + 1] {
            0x00 | 0xFF => i += 1, // a stuffed zero, or fill before a marker
            m @ 0xD0..=0xD7 => {
                if usize::from(m - 0xD0) != intervals.len() % 8 {
                    return None;
                }
                intervals.push(&data[from..i]);
                i += 2;
                from = i;
            }
            // EOI; what follows it (a fragment's padding) is not the frame's.
            0xD9 => {
                intervals.push(&data[from..i]);
                ended = true;
                break;
            }
            _ => return None,
        }
    }
    if !ended || intervals.len() != count || count < 2 {
        return None;
    }
    Some(Layout {
        head,
        lines_at: h.lines_at,
        sos,
        interval_rows,
        intervals,
    })
}

/// Decode `data` (a lone frame of `info`) on up to `threads` threads into `out`, when its
/// restart intervals allow; None otherwise, or when a band fails to decode (the caller
/// then decodes the frame whole).
pub(super) fn decode_in_bands(
    data: &[u8],
    info: &FrameInfo,
    out: &mut [u8],
    threads: usize,
) -> Option<Result<(), CodecError>> {
    info.check_output(out).ok()?;
    let rows = info.rows as usize;
    let layout = layout(data, rows)?;
    let n = threads.min(layout.intervals.len());
    if n < 2 {
        return None;
    }
    let per_band = layout.intervals.len().div_ceil(n);
    let row_bytes = out.len() / rows;
    // Each band: its stream, its rows, and the part of `out` it fills.
    let mut bands = Vec::with_capacity(n);
    let mut rest = out;
    for (k, group) in layout.intervals.chunks(per_band).enumerate() {
        let y0 = k * per_band * layout.interval_rows;
        let y1 = (y0 + group.len() * layout.interval_rows).min(rows);
        let mut stream = Vec::with_capacity(
            layout.head.len()
                + layout.sos.len()
                + group.iter().map(|g| g.len() + 2).sum::<usize>()
                + 2,
        );
        stream.extend_from_slice(layout.head);
        stream[layout.lines_at..layout.lines_at + 2]
            .copy_from_slice(&((y1 - y0) as u16).to_be_bytes());
        stream.extend_from_slice(layout.sos);
        for (j, part) in group.iter().enumerate() {
            if j > 0 {
                stream.extend_from_slice(&[0xFF, 0xD0 + ((j - 1) % 8) as u8]);
            }
            stream.extend_from_slice(part);
        }
        stream.extend_from_slice(&[0xFF, 0xD9]);
        let (mine, after) = std::mem::take(&mut rest).split_at_mut((y1 - y0) * row_bytes);
        rest = after;
        let band = FrameInfo {
            rows: (y1 - y0) as u32,
            ..*info
        };
        bands.push((stream, band, mine));
    }
    let ok = on_every_core(bands, |(stream, band, mine)| {
        decode(&stream, &band, mine).is_ok()
    });
    ok.iter().all(|&b| b).then_some(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::super::{encode, stripes::encode_striped};
    use super::*;
    use crate::codec::EncodeParams;

    fn striped(rows: u32, cols: u32, spp: u16) -> (Vec<u8>, Vec<u8>, FrameInfo) {
        let info = FrameInfo::new(rows, cols, spp, 8);
        let n = (rows * cols) as usize * usize::from(spp);
        let src: Vec<u8> = (0..n).map(|i| ((i * 7 + i / 997) % 251) as u8).collect();
        let params = EncodeParams::default().with_quality(80);
        let mut whole = Vec::new();
        let len = encode(&src, &info, &params, &mut whole).unwrap();
        whole.truncate(len);
        let mut bands = Vec::new();
        encode_striped(&src, &info, &params, &mut bands, 4)
            .expect("striped")
            .unwrap();
        (whole, bands, info)
    }

    #[test]
    fn frames_in_bands_decode_as_whole() {
        for &(rows, cols, spp) in &[(486u32, 757u32, 3u16), (512, 512, 1), (100, 40, 1)] {
            let (whole, bands, info) = striped(rows, cols, spp);
            let size = crate::frame_size_bytes(&info);
            let mut expected = vec![0u8; size];
            decode(&whole, &info, &mut expected).unwrap();
            for threads in [2, 3, 4, 16] {
                let mut out = vec![0u8; size];
                decode_in_bands(&bands, &info, &mut out, threads)
                    .unwrap_or_else(|| panic!("{rows}x{cols}x{spp} on {threads}: not in bands"))
                    .unwrap();
                assert_eq!(out, expected, "{rows}x{cols}x{spp} on {threads}");
            }
            // No restart interval: whole.
            assert!(decode_in_bands(&whole, &info, &mut vec![0u8; size], 2).is_none());
        }
    }

    #[test]
    fn damaged_frames_fall_back_or_fail_without_panics() {
        let (_, bands, info) = striped(64, 96, 3);
        let size = crate::frame_size_bytes(&info);
        let mut out = vec![0u8; size];
        for cut in (0..bands.len()).step_by(7) {
            let _ = decode_in_bands(&bands[..cut], &info, &mut out, 2);
        }
        let mut seed = 1u32;
        for _ in 0..300 {
            let mut damaged = bands.clone();
            for _ in 0..3 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let at = seed as usize % damaged.len();
                damaged[at] = (seed >> 16) as u8;
            }
            let _ = decode_in_bands(&damaged, &info, &mut out, 3);
        }
        // A frame of other dimensions than the header's is not cut.
        let other = FrameInfo::new(32, 96, 3, 8);
        let mut small = vec![0u8; crate::frame_size_bytes(&other)];
        assert!(decode_in_bands(&bands, &other, &mut small, 2).is_none());
    }
}
