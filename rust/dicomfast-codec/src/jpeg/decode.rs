//! Lossless decoding (T.81 Annex H, H.2): marker walk, scan decoding and reconstruction.
//!
//! Two scan decoders share the prediction rules of H.1.2.1:
//! * a row decoder for frames whose components all have sampling factors 1x1 and whose
//!   restart interval is a whole number of rows (every DICOM stream seen in practice), with one
//!   specialised loop per predictor and component count, writing each finished row straight
//!   into the output;
//! * a general MCU decoder (A.2.3 MCU order, any sampling factors, any restart interval)
//!   writing into component planes.

use super::bits::BitReader;
use super::huffman::HuffTable;
use super::markers::{self, Frame, Parser, Scan};
use super::prefix;
use super::JpegHeader;
use crate::convert::fix_unused_bits;
use crate::{CodecError, FrameInfo};

/// Walks the marker segments, collecting tables, until each scan.
pub(crate) struct Stream<'a> {
    pub p: Parser<'a>,
    pub tables: [Option<HuffTable>; 4],
    pub restart_interval: u16,
    pub frame: Option<Frame>,
    /// Parse any SOFn instead of rejecting non-lossless ones (header inspection only).
    any_sof: bool,
}

impl<'a> Stream<'a> {
    pub fn start(src: &'a [u8], any_sof: bool) -> Result<Self, CodecError> {
        let mut p = Parser::new(src);
        match p.next_marker()? {
            Some((markers::SOI, 0)) => {}
            _ => {
                return Err(CodecError::JpegFormat {
                    offset: 0,
                    reason: "missing SOI marker at the start of the stream",
                })
            }
        }
        Ok(Stream {
            p,
            tables: Default::default(),
            restart_interval: 0,
            frame: None,
            any_sof,
        })
    }

    /// Process markers up to the next SOS; `None` at EOI or the end of the data. On `Some`
    /// the parser stands at the first byte of the entropy-coded segment.
    pub fn next_scan(&mut self) -> Result<Option<Scan>, CodecError> {
        loop {
            let Some((m, off)) = self.p.next_marker()? else {
                return Ok(None);
            };
            match m {
                markers::SOF3 => self.read_sof(m, off)?,
                m if markers::is_sof(m) => {
                    if !self.any_sof {
                        return Err(CodecError::JpegUnsupported {
                            offset: off,
                            marker: m,
                            reason: markers::sof_reason(m),
                        });
                    }
                    self.read_sof(m, off)?;
                }
                markers::DHT => {
                    let (pl, po) = self.p.segment()?;
                    markers::parse_dht(pl, po, &mut self.tables)?;
                }
                markers::DAC => {
                    return Err(CodecError::JpegUnsupported {
                        offset: off,
                        marker: m,
                        reason: "arithmetic coding is not supported",
                    })
                }
                markers::DRI => {
                    let (pl, po) = self.p.segment()?;
                    self.restart_interval = markers::parse_dri(pl, po)?;
                }
                markers::SOS => {
                    let Some(frame) = &self.frame else {
                        return Err(CodecError::JpegFormat {
                            offset: off,
                            reason: "scan before the frame header",
                        });
                    };
                    let (pl, po) = self.p.segment()?;
                    if frame.sof != markers::SOF3 {
                        return Ok(Some(Scan {
                            offset: off,
                            components: Vec::new(),
                            predictor: 0,
                            point_transform: 0,
                        }));
                    }
                    return markers::parse_sos(pl, po, frame).map(Some);
                }
                markers::EOI => return Ok(None),
                markers::SOI => {
                    return Err(CodecError::JpegFormat {
                        offset: off,
                        reason: "unexpected SOI marker",
                    })
                }
                markers::DHP | markers::EXP => {
                    return Err(CodecError::JpegUnsupported {
                        offset: off,
                        marker: m,
                        reason: "hierarchical coding is not supported",
                    })
                }
                // RSTn outside a scan and TEM carry no length (B.1.1.3): ignore.
                0xD0..=0xD7 | markers::TEM => {}
                // APPn, COM, DQT, DNL, JPGn and reserved markers: skip their segment.
                _ => {
                    self.p.segment()?;
                }
            }
        }
    }

    fn read_sof(&mut self, m: u8, off: usize) -> Result<(), CodecError> {
        if self.frame.is_some() {
            return Err(CodecError::JpegFormat {
                offset: off,
                reason: "more than one frame header",
            });
        }
        let (pl, po) = self.p.segment()?;
        self.frame = Some(markers::parse_sof(m, pl, po)?);
        Ok(())
    }

    /// The Huffman table of each scan component.
    fn scan_tables(&self, scan: &Scan) -> Result<Vec<&HuffTable>, CodecError> {
        scan.components
            .iter()
            .map(|c| {
                self.tables[usize::from(c.table)]
                    .as_ref()
                    .ok_or(CodecError::JpegFormat {
                        offset: scan.offset,
                        reason: "scan uses a Huffman table that was not defined",
                    })
            })
            .collect()
    }

    pub fn header(&self, scan: &Scan) -> JpegHeader {
        let f = self.frame.as_ref().expect("header() after a frame header");
        JpegHeader {
            sof: f.sof,
            precision: f.precision,
            rows: f.lines,
            columns: f.samples_per_line,
            components: f.components.len() as u8,
            component_ids: f.components.iter().map(|c| c.id).collect(),
            sampling: f.components.iter().map(|c| (c.h, c.v)).collect(),
            predictor: scan.predictor,
            point_transform: scan.point_transform,
            restart_interval: self.restart_interval,
            interleaved: scan.components.len() == f.components.len(),
        }
    }
}

/// Component planes for the general decoder; `stride` x `rows` covers the MCU-padded size.
pub(crate) struct Plane {
    pub stride: usize,
    pub rows: usize,
    pub data: Vec<u16>,
}

/// Predictors of Table H.1, computed in i32 (H.1.2.1: no overflow; the result is used modulo
/// 2^16 by the caller, H.2.1).
#[inline(always)]
pub(crate) fn predict<const P: u8>(ra: i32, rb: i32, rc: i32) -> i32 {
    match P {
        1 => ra,
        2 => rb,
        3 => rc,
        4 => ra + rb - rc,
        5 => ra + ((rb - rc) >> 1),
        6 => rb + ((ra - rc) >> 1),
        _ => (ra + rb) >> 1,
    }
}

pub(crate) fn predict_dyn(p: u8, ra: i32, rb: i32, rc: i32) -> i32 {
    match p {
        1 => predict::<1>(ra, rb, rc),
        2 => predict::<2>(ra, rb, rc),
        3 => predict::<3>(ra, rb, rc),
        4 => predict::<4>(ra, rb, rc),
        5 => predict::<5>(ra, rb, rc),
        6 => predict::<6>(ra, rb, rc),
        _ => predict::<7>(ra, rb, rc),
    }
}

/// Where the reconstruction loops take each difference from: straight from the bit reader
/// (each component with its own table), or from a line decoded ahead of them.
trait Diffs {
    fn next(&mut self, component: usize) -> Result<i32, CodecError>;
}

/// Decodes each difference when asked. A local copy of the reader, stored back by the
/// caller, so that it stays in registers.
struct Live<'r, 'a, const NC: usize> {
    br: BitReader<'a>,
    t: [&'r HuffTable; NC],
}

impl<const NC: usize> Diffs for Live<'_, '_, NC> {
    #[inline(always)]
    fn next(&mut self, component: usize) -> Result<i32, CodecError> {
        self.br.diff(self.t[component])
    }
}

/// A line of differences decoded ahead ([`BitReader::diffs`]).
struct Ahead<'d>(std::slice::Iter<'d, i16>);

impl Diffs for Ahead<'_> {
    #[inline(always)]
    fn next(&mut self, _component: usize) -> Result<i32, CodecError> {
        // Modulo 2^16, as reconstruction is: 32768 (SSSS 16) is stored as -32768.
        Ok(i32::from(self.0.next().copied().unwrap_or(0)))
    }
}

/// First line of a scan or restart interval (H.1.2.1): the first sample of each component is
/// predicted by 2^(P-Pt-1), the others by Ra. Reconstruction is modulo 2^16 (H.2.1).
#[inline(always)]
fn first_row<const NC: usize>(
    src: &mut impl Diffs,
    cur: &mut [u16],
    initial: i32,
) -> Result<(), CodecError> {
    let (head, rest) = cur.split_at_mut(NC);
    let mut ra = [0i32; NC];
    for (c, (v, a)) in head.iter_mut().zip(ra.iter_mut()).enumerate() {
        *v = (initial + src.next(c)?) as u16;
        *a = i32::from(*v);
    }
    for px in rest.chunks_exact_mut(NC) {
        for (c, (v, a)) in px.iter_mut().zip(ra.iter_mut()).enumerate() {
            *v = (*a + src.next(c)?) as u16;
            *a = i32::from(*v);
        }
    }
    Ok(())
}

/// Any later line (H.1.2.1): Rb for the first sample, predictor `P` for the rest. The left
/// (Ra) and upper-left (Rc) neighbours are carried in registers.
#[inline(always)]
fn row<const P: u8, const NC: usize>(
    src: &mut impl Diffs,
    cur: &mut [u16],
    prev: &[u16],
) -> Result<(), CodecError> {
    let n = cur.len().min(prev.len());
    let (head, rest) = cur[..n].split_at_mut(NC);
    let (phead, prest) = prev[..n].split_at(NC);
    let mut ra = [0i32; NC];
    let mut rc = [0i32; NC];
    for c in 0..NC {
        let rb = i32::from(phead[c]);
        let v = (rb + src.next(c)?) as u16;
        head[c] = v;
        ra[c] = i32::from(v);
        rc[c] = rb;
    }
    for (px, up) in rest.chunks_exact_mut(NC).zip(prest.chunks_exact(NC)) {
        for c in 0..NC {
            let rb = i32::from(up[c]);
            let v = (predict::<P>(ra[c], rb, rc[c]) + src.next(c)?) as u16;
            px[c] = v;
            ra[c] = i32::from(v);
            rc[c] = rb;
        }
    }
    Ok(())
}

fn reconstruct<const NC: usize>(
    src: &mut impl Diffs,
    pred: u8,
    first: bool,
    cur: &mut [u16],
    prev: &[u16],
    initial: i32,
) -> Result<(), CodecError> {
    if first {
        return first_row::<NC>(src, cur, initial);
    }
    match pred {
        1 => row::<1, NC>(src, cur, prev),
        2 => row::<2, NC>(src, cur, prev),
        3 => row::<3, NC>(src, cur, prev),
        4 => row::<4, NC>(src, cur, prev),
        5 => row::<5, NC>(src, cur, prev),
        6 => row::<6, NC>(src, cur, prev),
        _ => row::<7, NC>(src, cur, prev),
    }
}

/// A line predicted from the left alone (H.1.2.1: every first line, and predictor 1, which
/// is Transfer Syntax 1.2.840.10008.1.2.4.70's): a running sum per component, modulo 2^16,
/// from `start` (2^(P-Pt-1) on a first line, the sample above otherwise).
#[inline(always)]
fn running_sum<const NC: usize>(diffs: &[i16], cur: &mut [u16], start: [u16; NC]) {
    let mut ra = start;
    for (px, d) in cur.chunks_exact_mut(NC).zip(diffs.chunks_exact(NC)) {
        for c in 0..NC {
            ra[c] = ra[c].wrapping_add(d[c] as u16);
            px[c] = ra[c];
        }
    }
}

/// Reconstruct a line from its differences decoded ahead.
#[inline(always)]
fn reconstruct_ahead<const NC: usize>(
    ahead: &[i16],
    pred: u8,
    first: bool,
    cur: &mut [u16],
    prev: &[u16],
    initial: i32,
) -> Result<(), CodecError> {
    if first || pred == 1 {
        let start = if first {
            [initial as u16; NC]
        } else {
            std::array::from_fn(|c| prev[c])
        };
        running_sum::<NC>(ahead, cur, start);
        return Ok(());
    }
    reconstruct::<NC>(&mut Ahead(ahead.iter()), pred, first, cur, prev, initial)
}

/// One line. With one Huffman table for every component (the usual case) the line's
/// differences are decoded ahead, two per lookup where they fit, then reconstructed; with
/// several tables, difference by difference.
#[allow(clippy::too_many_arguments)]
fn any_row<const NC: usize>(
    br: &mut BitReader,
    t: &[&HuffTable],
    ahead: &mut [i16],
    pred: u8,
    first: bool,
    cur: &mut [u16],
    prev: &[u16],
    initial: i32,
) -> Result<(), CodecError> {
    if t.iter().all(|x| std::ptr::eq(*x, t[0])) {
        br.diffs(t[0], ahead)?;
        return reconstruct_ahead::<NC>(ahead, pred, first, cur, prev, initial);
    }
    let mut live = Live::<NC> {
        br: *br,
        t: std::array::from_fn(|i| t[i]),
    };
    reconstruct::<NC>(&mut live, pred, first, cur, prev, initial)?;
    *br = live.br;
    Ok(())
}

/// Row decoder: all components 1x1 and restarts at row starts. `emit(y, row)` receives each
/// finished line, samples of the scan's components interleaved.
#[allow(clippy::too_many_arguments)]
fn decode_scan_rows(
    br: &mut BitReader,
    tables: &[&HuffTable],
    cols: usize,
    lines: usize,
    pred: u8,
    initial: i32,
    restart_interval: usize,
    mut emit: impl FnMut(usize, &[u16]),
) -> Result<(), CodecError> {
    let nc = tables.len();
    let mut cur = vec![0u16; cols * nc];
    let mut prev = vec![0u16; cols * nc];
    let mut ahead = vec![0i16; cols * nc];
    let rows_per_interval = if restart_interval == 0 {
        usize::MAX
    } else {
        restart_interval / cols
    };
    let mut restarts = 0;
    for y in 0..lines {
        let first = if y == 0 {
            true
        } else if y % rows_per_interval == 0 {
            br.restart(restarts)?;
            restarts += 1;
            true
        } else {
            false
        };
        let a = &mut ahead;
        match nc {
            1 => any_row::<1>(br, tables, a, pred, first, &mut cur, &prev, initial)?,
            2 => any_row::<2>(br, tables, a, pred, first, &mut cur, &prev, initial)?,
            3 => any_row::<3>(br, tables, a, pred, first, &mut cur, &prev, initial)?,
            _ => any_row::<4>(br, tables, a, pred, first, &mut cur, &prev, initial)?,
        }
        emit(y, &cur);
        std::mem::swap(&mut cur, &mut prev);
    }
    Ok(())
}

/// General decoder: MCUs in A.2.3 order, each component predicted within its own plane.
/// Restart intervals may start anywhere: the first sample after a restart is predicted by
/// 2^(P-Pt-1) and the rest of that line by Ra (H.1.2.1).
#[allow(clippy::too_many_arguments)]
fn decode_scan_mcus(
    br: &mut BitReader,
    tables: &[&HuffTable],
    frame: &Frame,
    scan: &Scan,
    lines: usize,
    initial: i32,
    restart_interval: usize,
    planes: &mut [Plane],
) -> Result<(), CodecError> {
    let x = usize::from(frame.samples_per_line);
    let (hmax, vmax) = (frame.hmax(), frame.vmax());
    let ns = scan.components.len();
    // Per scan component: samples per MCU horizontally and vertically.
    let mut bh = [1usize; 4];
    let mut bv = [1usize; 4];
    let (mcux, mcuy) = if ns == 1 {
        // Non-interleaved (A.2.2): one sample per MCU over the component's own size (A.1.1).
        let c = frame.components[scan.components[0].index];
        (
            (x * usize::from(c.h)).div_ceil(hmax),
            (lines * usize::from(c.v)).div_ceil(vmax),
        )
    } else {
        for (k, sc) in scan.components.iter().enumerate() {
            let c = frame.components[sc.index];
            bh[k] = usize::from(c.h);
            bv[k] = usize::from(c.v);
        }
        (x.div_ceil(hmax), lines.div_ceil(vmax))
    };
    let pred = scan.predictor;
    let mut first_y = [0usize; 4];
    let mut start_x = [0usize; 4];
    let mut left = restart_interval;
    let mut restarts = 0;
    for my in 0..mcuy {
        for mx in 0..mcux {
            if restart_interval > 0 {
                if left == 0 {
                    br.restart(restarts)?;
                    restarts += 1;
                    left = restart_interval;
                    for k in 0..ns {
                        first_y[k] = my * bv[k];
                        start_x[k] = mx * bh[k];
                    }
                }
                left -= 1;
            }
            for k in 0..ns {
                let plane = &mut planes[scan.components[k].index];
                let s = plane.stride;
                let d = &mut plane.data;
                for v in 0..bv[k] {
                    let yy = my * bv[k] + v;
                    for h in 0..bh[k] {
                        let xx = mx * bh[k] + h;
                        let at = yy * s + xx;
                        let p = if yy == first_y[k] {
                            if xx == start_x[k] {
                                initial
                            } else {
                                i32::from(d[at - 1])
                            }
                        } else if xx == 0 {
                            i32::from(d[at - s])
                        } else {
                            predict_dyn(
                                pred,
                                i32::from(d[at - 1]),
                                i32::from(d[at - s]),
                                i32::from(d[at - s - 1]),
                            )
                        };
                        d[at] = (p + br.diff(tables[k])?) as u16;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Check the frame header against the data set.
fn check_frame(f: &Frame, info: &FrameInfo) -> Result<(), CodecError> {
    let mismatch = |what, stream: u32, dataset: u32| {
        Err(CodecError::Mismatch {
            offset: f.offset,
            what,
            stream,
            dataset,
        })
    };
    if u32::from(f.samples_per_line) != info.columns {
        return mismatch("columns", f.samples_per_line.into(), info.columns);
    }
    if f.lines != 0 && u32::from(f.lines) != info.rows {
        return mismatch("rows", f.lines.into(), info.rows);
    }
    if f.components.len() != usize::from(info.samples_per_pixel) {
        return mismatch(
            "samples per pixel",
            f.components.len() as u32,
            info.samples_per_pixel.into(),
        );
    }
    if f.precision > 8 && info.bits_allocated == 8 {
        return mismatch("sample precision", f.precision.into(), 8);
    }
    if !f.all_full_size() {
        return Err(CodecError::JpegUnsupported {
            offset: f.offset,
            marker: f.sof,
            reason: "sampling factors other than 1x1 cannot be laid out as a DICOM frame",
        });
    }
    Ok(())
}

fn premature_end(br: &BitReader) -> CodecError {
    CodecError::JpegData {
        offset: br.finish(),
        reason: "entropy-coded data ends before the scan is complete",
    }
}

/// Write one decoded line into the output layout at the scan's component positions.
#[allow(clippy::too_many_arguments)]
fn put_row(
    out: &mut [u8],
    wide: bool,
    spp: usize,
    cols: usize,
    y: usize,
    comps: &[usize],
    row: &[u16],
    pt: u32,
) {
    let nc = comps.len();
    let bps = if wide { 2 } else { 1 };
    let line = &mut out[y * cols * spp * bps..(y + 1) * cols * spp * bps];
    let in_order = nc == spp && comps.iter().enumerate().all(|(k, &c)| k == c);
    match (wide, in_order) {
        (true, true) => {
            for (o, &v) in line.chunks_exact_mut(2).zip(row) {
                o.copy_from_slice(&(v << pt).to_le_bytes());
            }
        }
        (false, true) => {
            for (o, &v) in line.iter_mut().zip(row) {
                *o = (v << pt) as u8;
            }
        }
        _ => {
            for (k, &c) in comps.iter().enumerate() {
                for (x, &v) in row.iter().skip(k).step_by(nc).enumerate() {
                    let v = v << pt;
                    let at = (x * spp + c) * bps;
                    if wide {
                        line[at..at + 2].copy_from_slice(&v.to_le_bytes());
                    } else {
                        line[at] = v as u8;
                    }
                }
            }
        }
    }
}

/// Decode a whole frame into the output layout (see [`super::decode_frame`]).
pub(crate) fn decode_frame(src: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError> {
    info.check_output(out)?;
    if !matches!(info.bits_allocated, 8 | 16) {
        return Err(CodecError::InvalidFrameInfo {
            reason: "JPEG Lossless decodes to 8 or 16 bits allocated",
        });
    }
    if decode_frame_simple(src, info, out) {
        return Ok(());
    }
    let wide = info.bits_allocated == 16;
    let spp = usize::from(info.samples_per_pixel);
    let cols = info.columns as usize;
    let lines = info.rows as usize;
    let mut s = Stream::start(src, false)?;
    let mut done = vec![false; spp];
    let mut checked = false;
    while let Some(scan) = s.next_scan()? {
        let frame = s
            .frame
            .as_ref()
            .expect("next_scan returns a scan only after SOF");
        if !checked {
            check_frame(frame, info)?;
            checked = true;
        }
        let tables = s.scan_tables(&scan)?;
        let comps: Vec<usize> = scan.components.iter().map(|c| c.index).collect();
        let pt = u32::from(scan.point_transform);
        let initial = 1i32 << (u32::from(frame.precision) - pt - 1);
        let ri = usize::from(s.restart_interval);
        let mut br = BitReader::new(src, s.p.pos);
        if ri % cols == 0 {
            decode_scan_rows(
                &mut br,
                &tables,
                cols,
                lines,
                scan.predictor,
                initial,
                ri,
                |y, row| put_row(out, wide, spp, cols, y, &comps, row, pt),
            )?;
        } else {
            let mut planes: Vec<Plane> = (0..spp)
                .map(|i| {
                    let n = if comps.contains(&i) { cols * lines } else { 0 };
                    Plane {
                        stride: cols,
                        rows: lines,
                        data: vec![0; n],
                    }
                })
                .collect();
            decode_scan_mcus(
                &mut br,
                &tables,
                frame,
                &scan,
                lines,
                initial,
                ri,
                &mut planes,
            )?;
            let nc = comps.len();
            let mut row = vec![0u16; cols * nc];
            for y in 0..lines {
                for (k, &c) in comps.iter().enumerate() {
                    let src_row = &planes[c].data[y * cols..(y + 1) * cols];
                    for (d, &v) in row.iter_mut().skip(k).step_by(nc).zip(src_row) {
                        *d = v;
                    }
                }
                put_row(out, wide, spp, cols, y, &comps, &row, pt);
            }
        }
        if br.overrun() {
            return Err(premature_end(&br));
        }
        s.p.pos = br.finish();
        for c in comps {
            done[c] = true;
        }
    }
    if s.frame.is_none() {
        return Err(CodecError::JpegFormat {
            offset: s.p.pos,
            reason: "no SOF3 frame header",
        });
    }
    if !done.iter().all(|&d| d) {
        return Err(CodecError::JpegData {
            offset: s.p.pos,
            reason: "stream ends before every component was decoded",
        });
    }
    fix_unused_bits(out, info);
    Ok(())
}

/// One frame's only scan, ready for [`decode_frame_pair`]: all components interleaved in
/// order, one Huffman table, no restart interval, lines as the data set says.
struct SimpleScan<'a> {
    stream: Stream<'a>,
    reader: BitReader<'a>,
    predictor: u8,
    initial: i32,
    point_transform: u32,
    table: usize,
}

fn simple_scan<'a>(src: &'a [u8], info: &FrameInfo) -> Option<SimpleScan<'a>> {
    let mut s = Stream::start(src, false).ok()?;
    let scan = s.next_scan().ok()??;
    let f = s.frame.as_ref()?;
    check_frame(f, info).ok()?;
    let spp = usize::from(info.samples_per_pixel);
    let table = scan.components.first()?.table;
    let simple = s.restart_interval == 0
        && f.lines != 0
        && scan.components.len() == spp
        && scan
            .components
            .iter()
            .enumerate()
            .all(|(k, c)| c.index == k && c.table == table)
        && s.tables[usize::from(table)].is_some();
    if !simple {
        return None;
    }
    let pt = u32::from(scan.point_transform);
    Some(SimpleScan {
        initial: 1i32 << (u32::from(f.precision) - pt - 1),
        reader: BitReader::new(src, s.p.pos),
        predictor: scan.predictor,
        point_transform: pt,
        table: usize::from(table),
        stream: s,
    })
}

/// Decode two frames of the same layout at once, line by line in lockstep, so that the
/// processor overlaps the two bit readers' chains of dependent table lookups (a Huffman
/// decoder is bound by their latency, not by the work). Only for the common case: each
/// frame one scan of all components with one table and no restart interval. Returns false,
/// with the outputs in an unspecified state, for anything else and on any error: the caller
/// then decodes each frame alone, which reports the error.
pub(crate) fn decode_frame_pair(
    a: &[u8],
    b: &[u8],
    info: &FrameInfo,
    out_a: &mut [u8],
    out_b: &mut [u8],
) -> bool {
    if info.check_output(out_a).is_err()
        || info.check_output(out_b).is_err()
        || !matches!(info.bits_allocated, 8 | 16)
    {
        return false;
    }
    let (Some(mut sa), Some(mut sb)) = (simple_scan(a, info), simple_scan(b, info)) else {
        return false;
    };
    let ok = match info.samples_per_pixel {
        1 => pair_lines::<1>(&mut sa, &mut sb, info, out_a, out_b),
        3 => pair_lines::<3>(&mut sa, &mut sb, info, out_a, out_b),
        _ => false,
    };
    ok && scan_ends(&mut sa, out_a, info) && scan_ends(&mut sb, out_b, info)
}

/// One simple scan's lines, reconstructed into the output as they are decoded.
struct Lines<const NC: usize> {
    /// The line's differences, decoded ahead (modulo 2^16).
    ahead: Vec<i16>,
    /// Predictor 1 without point transform (the SV1 syntax): each line is a running sum
    /// written straight into the output, with no line buffers (see [`prefix::sum_into`]).
    direct: bool,
    cur: Vec<u16>,
    prev: Vec<u16>,
    predictor: u8,
    initial: i32,
    point_transform: u32,
}

impl<const NC: usize> Lines<NC> {
    fn new(s: &SimpleScan, cols: usize) -> Self {
        let n = cols * NC;
        let direct = s.predictor == 1 && s.point_transform == 0;
        let line = if direct { 0 } else { n };
        Lines {
            ahead: vec![0; n],
            direct,
            cur: vec![0; line],
            prev: vec![0; line],
            predictor: s.predictor,
            initial: s.initial,
            point_transform: s.point_transform,
        }
    }

    /// Line `y` of `out` from the differences in `ahead`.
    fn put(&mut self, out: &mut [u8], wide: bool, y: usize) -> bool {
        let n = self.ahead.len();
        let bytes = if wide { 2 * n } else { n };
        let (done, rest) = out.split_at_mut(y * bytes);
        let line = &mut rest[..bytes];
        if self.direct {
            let above = (y > 0).then(|| &done[(y - 1) * bytes..]);
            if wide {
                let start = std::array::from_fn(|c| match above {
                    Some(a) => u16::from_le_bytes([a[2 * c], a[2 * c + 1]]),
                    None => self.initial as u16,
                });
                prefix::sum_into::<NC, 2>(&self.ahead, line, start);
            } else {
                let start = std::array::from_fn(|c| match above {
                    Some(a) => u16::from(a[c]),
                    None => self.initial as u16,
                });
                prefix::sum_into::<NC, 1>(&self.ahead, line, start);
            }
            return true;
        }
        let first = y == 0;
        let (pred, initial) = (self.predictor, self.initial);
        if reconstruct_ahead::<NC>(&self.ahead, pred, first, &mut self.cur, &self.prev, initial)
            .is_err()
        {
            return false;
        }
        let comps: [usize; NC] = std::array::from_fn(|k| k);
        put_row(
            out,
            wide,
            NC,
            n / NC,
            y,
            &comps,
            &self.cur,
            self.point_transform,
        );
        std::mem::swap(&mut self.cur, &mut self.prev);
        true
    }
}

fn pair_lines<'s, const NC: usize>(
    sa: &mut SimpleScan<'s>,
    sb: &mut SimpleScan<'s>,
    info: &FrameInfo,
    out_a: &mut [u8],
    out_b: &mut [u8],
) -> bool {
    let (Some(ta), Some(tb)) = (
        sa.stream.tables[sa.table].as_ref(),
        sb.stream.tables[sb.table].as_ref(),
    ) else {
        return false;
    };
    let wide = info.bits_allocated == 16;
    let cols = info.columns as usize;
    let (mut la, mut lb) = (Lines::<NC>::new(sa, cols), Lines::<NC>::new(sb, cols));
    for y in 0..info.rows as usize {
        let r = BitReader::diffs2(
            &mut sa.reader,
            ta,
            &mut la.ahead,
            &mut sb.reader,
            tb,
            &mut lb.ahead,
        );
        if r.is_err() || !la.put(out_a, wide, y) || !lb.put(out_b, wide, y) {
            return false;
        }
    }
    true
}

fn single_lines<const NC: usize>(s: &mut SimpleScan, info: &FrameInfo, out: &mut [u8]) -> bool {
    let Some(t) = s.stream.tables[s.table].as_ref() else {
        return false;
    };
    let wide = info.bits_allocated == 16;
    let mut l = Lines::<NC>::new(s, info.columns as usize);
    for y in 0..info.rows as usize {
        if s.reader.diffs(t, &mut l.ahead).is_err() || !l.put(out, wide, y) {
            return false;
        }
    }
    true
}

/// [`decode_frame_pair`] for one frame: the common case without the general path's
/// bookkeeping; false, with `out` in an unspecified state, for anything else.
fn decode_frame_simple(src: &[u8], info: &FrameInfo, out: &mut [u8]) -> bool {
    let Some(mut s) = simple_scan(src, info) else {
        return false;
    };
    let ok = match info.samples_per_pixel {
        1 => single_lines::<1>(&mut s, info, out),
        3 => single_lines::<3>(&mut s, info, out),
        _ => false,
    };
    ok && scan_ends(&mut s, out, info)
}

/// After a simple scan's lines: the data held them all and nothing but the end follows
/// (another scan goes to the general path); the unused bits fixed.
fn scan_ends(s: &mut SimpleScan, out: &mut [u8], info: &FrameInfo) -> bool {
    if s.reader.overrun() {
        return false;
    }
    s.stream.p.pos = s.reader.finish();
    if !matches!(s.stream.next_scan(), Ok(None)) {
        return false;
    }
    fix_unused_bits(out, info);
    true
}

/// Decode every component into its own plane (any sampling factors); see
/// [`super::decode_planes`].
pub(crate) fn decode_planes(
    src: &[u8],
    max_samples: usize,
) -> Result<super::DecodedPlanes, CodecError> {
    let mut s = Stream::start(src, false)?;
    let mut planes: Vec<Plane> = Vec::new();
    let mut header = None;
    let mut done = Vec::new();
    while let Some(scan) = s.next_scan()? {
        let frame = s
            .frame
            .as_ref()
            .expect("next_scan returns a scan only after SOF");
        let x = usize::from(frame.samples_per_line);
        let lines = usize::from(frame.lines);
        if lines == 0 {
            return Err(CodecError::JpegUnsupported {
                offset: frame.offset,
                marker: frame.sof,
                reason: "number of lines defined by DNL is not supported here",
            });
        }
        if header.is_none() {
            header = Some(s.header(&scan));
            let (hmax, vmax) = (frame.hmax(), frame.vmax());
            let mut total = 0usize;
            for c in &frame.components {
                let stride = x.div_ceil(hmax) * usize::from(c.h);
                let rows = lines.div_ceil(vmax) * usize::from(c.v);
                total = total.saturating_add(stride.saturating_mul(rows));
                if total > max_samples {
                    return Err(CodecError::InvalidFrameInfo {
                        reason: "image larger than the allowed number of samples",
                    });
                }
                planes.push(Plane {
                    stride,
                    rows,
                    data: vec![0; stride * rows],
                });
            }
            done = vec![false; planes.len()];
        }
        let tables = s.scan_tables(&scan)?;
        let pt = u32::from(scan.point_transform);
        let initial = 1i32 << (u32::from(frame.precision) - pt - 1);
        let ri = usize::from(s.restart_interval);
        let mut br = BitReader::new(src, s.p.pos);
        decode_scan_mcus(
            &mut br,
            &tables,
            frame,
            &scan,
            lines,
            initial,
            ri,
            &mut planes,
        )?;
        if br.overrun() {
            return Err(premature_end(&br));
        }
        s.p.pos = br.finish();
        for c in &scan.components {
            done[c.index] = true;
            if pt > 0 {
                for v in planes[c.index].data.iter_mut() {
                    *v <<= pt;
                }
            }
        }
    }
    let Some(header) = header else {
        return Err(CodecError::JpegFormat {
            offset: s.p.pos,
            reason: "no scan in the stream",
        });
    };
    if !done.iter().all(|&d| d) {
        return Err(CodecError::JpegData {
            offset: s.p.pos,
            reason: "stream ends before every component was decoded",
        });
    }
    let frame = s.frame.as_ref().expect("header implies a frame");
    let (hmax, vmax) = (frame.hmax(), frame.vmax());
    let x = usize::from(frame.samples_per_line);
    let y = usize::from(frame.lines);
    let mut out = Vec::new();
    let mut widths = Vec::new();
    let mut heights = Vec::new();
    for (c, p) in frame.components.iter().zip(&planes) {
        // A.1.1: component size.
        let w = (x * usize::from(c.h)).div_ceil(hmax);
        let h = (y * usize::from(c.v)).div_ceil(vmax);
        let mut v = Vec::with_capacity(w * h);
        for r in 0..h.min(p.rows) {
            v.extend_from_slice(&p.data[r * p.stride..r * p.stride + w]);
        }
        out.push(v);
        widths.push(w);
        heights.push(h);
    }
    Ok(super::DecodedPlanes {
        header,
        planes: out,
        widths,
        heights,
    })
}
