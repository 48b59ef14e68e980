//! The markers before the scan of a sequential Huffman-coded JPEG (T.81 B.2), as the
//! banded encoding and decoding ([`super::stripes`], [`super::restarts`]) need them.

/// Where the parts before the entropy-coded data are.
pub(super) struct Header<'a> {
    /// SOI up to the SOS marker.
    pub head: &'a [u8],
    /// The SOS segment.
    pub sos: &'a [u8],
    /// Everything after the SOS segment.
    pub rest: &'a [u8],
    /// Where the frame header's number of lines is, in `head`.
    pub lines_at: usize,
    /// The frame header's lines and samples per line, and components.
    pub lines: usize,
    pub width: usize,
    pub components: usize,
    /// An MCU's columns and rows (8 times the largest sampling factors).
    pub mcu: (usize, usize),
    /// The restart interval (DRI), if one was defined.
    pub interval: Option<u16>,
}

/// The header of `jpeg`, when it starts with SOI and one SOF0 or SOF1 frame header comes
/// before its first scan; None for anything else (other processes, a marker without a
/// length, data cut short).
pub(super) fn read(jpeg: &[u8]) -> Option<Header<'_>> {
    if jpeg.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let (mut at, mut frame, mut interval) = (2, None, None);
    loop {
        if *jpeg.get(at)? != 0xFF {
            return None;
        }
        let marker = *jpeg.get(at + 1)?;
        let len = usize::from(u16::from_be_bytes([*jpeg.get(at + 2)?, *jpeg.get(at + 3)?]));
        let seg = jpeg.get(at + 4..at + 2 + len)?;
        match marker {
            // SOF0 / SOF1: P, Y, X, Nf, then per component C, H << 4 | V, Tq.
            0xC0 | 0xC1 if frame.is_none() => {
                let lines = usize::from(u16::from_be_bytes([*seg.get(1)?, *seg.get(2)?]));
                let width = usize::from(u16::from_be_bytes([*seg.get(3)?, *seg.get(4)?]));
                let nf = usize::from(*seg.get(5)?);
                let (mut h, mut v) = (1usize, 1usize);
                for c in 0..nf {
                    let hv = *seg.get(6 + 3 * c + 1)?;
                    h = h.max(usize::from(hv >> 4));
                    v = v.max(usize::from(hv & 0xF));
                }
                frame = Some((at + 5, lines, width, nf, (8 * h, 8 * v)));
            }
            0xDD => interval = Some(u16::from_be_bytes([*seg.first()?, *seg.get(1)?])),
            0xDA => {
                let (lines_at, lines, width, components, mcu) = frame?;
                let end = at + 2 + len;
                return Some(Header {
                    head: &jpeg[..at],
                    sos: &jpeg[at..end],
                    rest: &jpeg[end..],
                    lines_at,
                    lines,
                    width,
                    components,
                    mcu,
                    interval,
                });
            }
            // Other processes (progressive, lossless, arithmetic coding; 0xC4 is DHT), a
            // second frame header, or a marker without a length.
            0xC0..=0xC3 | 0xC5..=0xCF | 0xD0..=0xD9 | 0x01 => return None,
            _ => {}
        }
        at += 2 + len;
    }
}
