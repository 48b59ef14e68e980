//! The markers before the scan of a sequential Huffman-coded JPEG (T.81 B.2), as the
//! banded encoding and decoding ([`super::stripes`], [`super::restarts`]) and the
//! decoder's look before libjpeg-turbo's ([`super::preflight`]) need them.

/// Where the parts before the entropy-coded data are.
// Without `parallel` only the preflight's fields are read (the band coders are not built).
#[cfg_attr(not(feature = "parallel"), allow(dead_code))]
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
    /// Whether a component has fewer rows than another (a vertical sampling factor
    /// below the largest, as 4:2:0 chroma): its samples are upsampled down, from the
    /// rows of neighbouring MCU rows.
    pub upsampled_down: bool,
    /// The restart interval (DRI), if one was defined.
    pub interval: Option<u16>,
    /// Bit t set: quantization table t defined (DQT), DC and AC Huffman table t defined
    /// (DHT), before the scan.
    pub quant_defined: u8,
    pub dc_defined: u8,
    pub ac_defined: u8,
    /// Bit t set: quantization table t selected by a component of the frame.
    pub quant_selected: u8,
}

/// The header of `jpeg`, when it starts with SOI and one SOF0 or SOF1 frame header comes
/// before its first scan; None for anything else (other processes, a marker without a
/// length, a malformed table segment, data cut short). Fill bytes before a marker
/// (B.1.1.2) are skipped.
pub(super) fn read(jpeg: &[u8]) -> Option<Header<'_>> {
    if jpeg.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let (mut at, mut frame, mut interval) = (2, None, None);
    let (mut quant_defined, mut dc_defined, mut ac_defined, mut quant_selected) = (0, 0, 0, 0);
    loop {
        if *jpeg.get(at)? != 0xFF {
            return None;
        }
        let marker = *jpeg.get(at + 1)?;
        if marker == 0xFF {
            at += 1;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([*jpeg.get(at + 2)?, *jpeg.get(at + 3)?]));
        let seg = jpeg.get(at + 4..at + 2 + len)?;
        match marker {
            // DQT: Pq << 4 | Tq, then 64 values of 8 or 16 bits, repeated.
            0xDB => {
                let mut p = 0;
                while p < seg.len() {
                    let (pq, tq) = (seg[p] >> 4, seg[p] & 15);
                    if pq > 1 || tq > 3 {
                        return None;
                    }
                    quant_defined |= 1u8 << tq;
                    p += 1 + 64 * (usize::from(pq) + 1);
                }
                if p != seg.len() {
                    return None;
                }
            }
            // DHT: Tc << 4 | Th, 16 counts, the values they count, repeated.
            0xC4 => {
                let mut p = 0;
                while p < seg.len() {
                    let (tc, th) = (seg[p] >> 4, seg[p] & 15);
                    if tc > 1 || th > 3 {
                        return None;
                    }
                    let n: usize = seg
                        .get(p + 1..p + 17)?
                        .iter()
                        .map(|&c| usize::from(c))
                        .sum();
                    if tc == 0 {
                        dc_defined |= 1u8 << th;
                    } else {
                        ac_defined |= 1u8 << th;
                    }
                    p += 17 + n;
                }
                if p != seg.len() {
                    return None;
                }
            }
            // SOF0 / SOF1: P, Y, X, Nf, then per component C, H << 4 | V, Tq.
            0xC0 | 0xC1 if frame.is_none() => {
                let lines = usize::from(u16::from_be_bytes([*seg.get(1)?, *seg.get(2)?]));
                let width = usize::from(u16::from_be_bytes([*seg.get(3)?, *seg.get(4)?]));
                let nf = usize::from(*seg.get(5)?);
                let (mut h, mut v, mut v_min) = (1usize, 1usize, usize::MAX);
                for c in 0..nf {
                    let hv = *seg.get(6 + 3 * c + 1)?;
                    h = h.max(usize::from(hv >> 4));
                    v = v.max(usize::from(hv & 0xF));
                    v_min = v_min.min(usize::from(hv & 0xF));
                    let tq = *seg.get(6 + 3 * c + 2)?;
                    if tq > 3 {
                        return None;
                    }
                    quant_selected |= 1u8 << tq;
                }
                frame = Some((at + 5, lines, width, nf, (8 * h, 8 * v), v_min < v));
            }
            0xDD => interval = Some(u16::from_be_bytes([*seg.first()?, *seg.get(1)?])),
            0xDA => {
                let (lines_at, lines, width, components, mcu, upsampled_down) = frame?;
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
                    upsampled_down,
                    interval,
                    quant_defined,
                    dc_defined,
                    ac_defined,
                    quant_selected,
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
