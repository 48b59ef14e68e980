//! JPEG marker segments used by lossless process 14: T.81 Annex B (B.1.1.2 markers and fill
//! bytes, B.2.2 frame header, B.2.3 scan header, B.2.4.2 DHT, B.2.4.4 DRI, B.2.4.5 COM,
//! B.2.4.6 APPn, B.2.5 DNL) and Table B.1 (marker codes).

use super::huffman::HuffTable;
use crate::CodecError;

pub(crate) const SOF3: u8 = 0xC3;
pub(crate) const DHT: u8 = 0xC4;
pub(crate) const DAC: u8 = 0xCC;
pub(crate) const RST0: u8 = 0xD0;
pub(crate) const SOI: u8 = 0xD8;
pub(crate) const EOI: u8 = 0xD9;
pub(crate) const SOS: u8 = 0xDA;
pub(crate) const DRI: u8 = 0xDD;
pub(crate) const DHP: u8 = 0xDE;
pub(crate) const EXP: u8 = 0xDF;
pub(crate) const TEM: u8 = 0x01;

/// Frame component specification (B.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameComponent {
    /// Component identifier Ci.
    pub id: u8,
    /// Horizontal sampling factor Hi (1-4).
    pub h: u8,
    /// Vertical sampling factor Vi (1-4).
    pub v: u8,
}

/// Frame header (B.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    pub sof: u8,
    pub offset: usize,
    pub precision: u8,
    pub lines: u16,
    pub samples_per_line: u16,
    pub components: Vec<FrameComponent>,
}

impl Frame {
    pub fn hmax(&self) -> usize {
        self.components
            .iter()
            .map(|c| usize::from(c.h))
            .max()
            .unwrap_or(1)
    }
    pub fn vmax(&self) -> usize {
        self.components
            .iter()
            .map(|c| usize::from(c.v))
            .max()
            .unwrap_or(1)
    }
    pub fn all_full_size(&self) -> bool {
        self.components.iter().all(|c| c.h == 1 && c.v == 1)
    }
}

/// Scan component: index into the frame's components and its Huffman table (B.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScanComponent {
    pub index: usize,
    pub table: u8,
}

/// Scan header (B.2.3); for lossless Ss is the predictor and Al the point transform (H.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scan {
    pub offset: usize,
    pub components: Vec<ScanComponent>,
    pub predictor: u8,
    pub point_transform: u8,
}

/// Walks the marker segments of a JPEG stream.
pub(crate) struct Parser<'a> {
    pub data: &'a [u8],
    pub pos: usize,
}

fn format(offset: usize, reason: &'static str) -> CodecError {
    CodecError::JpegFormat { offset, reason }
}

impl<'a> Parser<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Parser { data, pos: 0 }
    }

    /// The next marker (code, offset of its 0xFF), skipping fill bytes (B.1.1.2).
    /// `None` at the end of the data.
    pub fn next_marker(&mut self) -> Result<Option<(u8, usize)>, CodecError> {
        let d = self.data;
        if self.pos >= d.len() {
            return Ok(None);
        }
        if d[self.pos] != 0xFF {
            return Err(format(self.pos, "expected a marker"));
        }
        let mut p = self.pos + 1;
        while p < d.len() && d[p] == 0xFF {
            p += 1;
        }
        if p >= d.len() {
            return Ok(None);
        }
        if d[p] == 0 {
            return Err(format(p - 1, "expected a marker, found a stuffed 0xFF00"));
        }
        self.pos = p + 1;
        Ok(Some((d[p], p - 1)))
    }

    /// The payload of a marker segment with a length field (B.1.1.4); advances past it.
    pub fn segment(&mut self) -> Result<(&'a [u8], usize), CodecError> {
        let d = self.data;
        let at = self.pos;
        if at + 2 > d.len() {
            return Err(CodecError::Truncated {
                offset: d.len(),
                needed: at + 2,
            });
        }
        let len = usize::from(u16::from_be_bytes([d[at], d[at + 1]]));
        if len < 2 {
            return Err(format(at, "marker segment length below 2"));
        }
        if at + len > d.len() {
            return Err(CodecError::Truncated {
                offset: d.len(),
                needed: at + len,
            });
        }
        self.pos = at + len;
        Ok((&d[at + 2..at + len], at + 2))
    }
}

/// Frame header (B.2.2, Table B.2).
pub(crate) fn parse_sof(sof: u8, p: &[u8], offset: usize) -> Result<Frame, CodecError> {
    if p.len() < 6 {
        return Err(format(offset, "frame header too short"));
    }
    let nf = usize::from(p[5]);
    if nf == 0 {
        return Err(format(offset + 5, "frame header has no components"));
    }
    if p.len() != 6 + 3 * nf {
        return Err(format(offset, "frame header length does not match Nf"));
    }
    let precision = p[0];
    if sof == SOF3 && !(2..=16).contains(&precision) {
        return Err(format(
            offset,
            "sample precision must be 2-16 bits for lossless (B.2.2)",
        ));
    }
    let lines = u16::from_be_bytes([p[1], p[2]]);
    let samples_per_line = u16::from_be_bytes([p[3], p[4]]);
    if samples_per_line == 0 {
        return Err(format(offset + 3, "samples per line is 0"));
    }
    let mut components: Vec<FrameComponent> = Vec::with_capacity(nf);
    for i in 0..nf {
        let c = &p[6 + 3 * i..9 + 3 * i];
        let (h, v) = (c[1] >> 4, c[1] & 15);
        if !(1..=4).contains(&h) || !(1..=4).contains(&v) {
            return Err(format(offset + 7 + 3 * i, "sampling factor outside 1-4"));
        }
        if components.iter().any(|o| o.id == c[0]) {
            return Err(format(offset + 6 + 3 * i, "duplicate component identifier"));
        }
        components.push(FrameComponent { id: c[0], h, v });
    }
    Ok(Frame {
        sof,
        offset: offset - 4,
        precision,
        lines,
        samples_per_line,
        components,
    })
}

/// Huffman table specification (B.2.4.2); only class 0 (DC/lossless) tables are kept.
pub(crate) fn parse_dht(
    p: &[u8],
    offset: usize,
    tables: &mut [Option<HuffTable>; 4],
) -> Result<(), CodecError> {
    let mut i = 0;
    while i < p.len() {
        let (tc, th) = (p[i] >> 4, usize::from(p[i] & 15));
        if tc > 1 || th > 3 {
            return Err(format(offset + i, "bad Huffman table class or destination"));
        }
        if i + 17 > p.len() {
            return Err(format(offset + i, "Huffman table truncated"));
        }
        let mut bits = [0u8; 16];
        bits.copy_from_slice(&p[i + 1..i + 17]);
        let count: usize = bits.iter().map(|&b| usize::from(b)).sum();
        if count > 256 || i + 17 + count > p.len() {
            return Err(format(offset + i, "Huffman table values truncated"));
        }
        let values = &p[i + 17..i + 17 + count];
        if tc == 0 {
            tables[th] = Some(
                HuffTable::new(&bits, values)
                    .ok_or_else(|| format(offset + i, "Huffman code lengths overflow (C.2)"))?,
            );
        }
        i += 17 + count;
    }
    Ok(())
}

/// Restart interval definition (B.2.4.4).
pub(crate) fn parse_dri(p: &[u8], offset: usize) -> Result<u16, CodecError> {
    if p.len() != 2 {
        return Err(format(offset, "DRI length must be 4"));
    }
    Ok(u16::from_be_bytes([p[0], p[1]]))
}

/// Scan header (B.2.3, Table B.3) with the lossless meaning of Ss/Se/Ah/Al (H.1.2, Table H.1).
pub(crate) fn parse_sos(p: &[u8], offset: usize, frame: &Frame) -> Result<Scan, CodecError> {
    if p.is_empty() {
        return Err(format(offset, "scan header too short"));
    }
    let ns = usize::from(p[0]);
    if !(1..=4).contains(&ns) {
        return Err(format(offset, "scan must have 1-4 components"));
    }
    if p.len() != 4 + 2 * ns {
        return Err(format(offset, "scan header length does not match Ns"));
    }
    let mut components: Vec<ScanComponent> = Vec::with_capacity(ns);
    for i in 0..ns {
        let (cs, t) = (p[1 + 2 * i], p[2 + 2 * i]);
        let index = frame
            .components
            .iter()
            .position(|c| c.id == cs)
            .ok_or_else(|| format(offset + 1 + 2 * i, "scan component not in the frame"))?;
        if components.iter().any(|c| c.index == index) {
            return Err(format(offset + 1 + 2 * i, "component twice in one scan"));
        }
        let table = t >> 4;
        if table > 3 {
            return Err(format(offset + 2 + 2 * i, "Huffman table selector above 3"));
        }
        components.push(ScanComponent { index, table });
    }
    let ss = p[1 + 2 * ns];
    let al = p[3 + 2 * ns] & 15;
    if !(1..=7).contains(&ss) {
        return Err(format(
            offset + 1 + 2 * ns,
            "lossless predictor selection value must be 1-7 (Table H.1)",
        ));
    }
    if al >= frame.precision {
        return Err(format(
            offset + 3 + 2 * ns,
            "point transform must be below the precision",
        ));
    }
    Ok(Scan {
        offset: offset - 4,
        components,
        predictor: ss,
        point_transform: al,
    })
}

/// Whether `m` starts a frame (SOFn, Table B.1): C0-CF except DHT (C4), JPG (C8), DAC (CC).
pub(crate) fn is_sof(m: u8) -> bool {
    (0xC0..=0xCF).contains(&m) && m != DHT && m != 0xC8 && m != DAC
}

/// Name of a SOF marker's process, for errors.
pub(crate) fn sof_reason(m: u8) -> &'static str {
    match m {
        0xC0 => "baseline DCT (SOF0) is not lossless process 14",
        0xC1 => "extended sequential DCT (SOF1) is not lossless process 14",
        0xC2 => "progressive DCT (SOF2) is not lossless process 14",
        0xC5..=0xC7 => "hierarchical (differential) coding is not supported",
        0xC9..=0xCB => "arithmetic coding is not supported",
        _ => "hierarchical arithmetic coding is not supported",
    }
}
