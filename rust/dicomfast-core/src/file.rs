//! Part 10 files (PS3.10 §7.1: preamble, `DICM`, file meta group) and raw data
//! sets without them, whose encoding is detected from their first bytes.

use crate::error::{ErrorKind, ParseError};
use crate::index::{Index, NONE};
use crate::parse::{looks_explicit, parse_dataset, ParseOptions};
use crate::syntax::{Encoding, TransferSyntax};
use crate::tag;
use crate::vr;
use std::io::Read;

#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub parse: ParseOptions,
    /// A deflated data set may inflate to at most this many bytes per byte of
    /// input (plus 256 MiB): deflate bombs get an error, not all the memory.
    pub max_inflate_ratio: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            parse: ParseOptions::default(),
            max_inflate_ratio: 200,
        }
    }
}

/// A parsed file: the index over the buffer and where its parts are.
#[derive(Debug, Clone)]
pub struct DicomFile {
    pub index: Index,
    /// For deflated data sets: the buffer the index points into (the file's
    /// bytes up to the data set, then the inflated data set). `None`: the input.
    pub inflated: Option<Vec<u8>>,
    pub has_preamble: bool,
    /// Nodes `[0, meta_nodes)` at top level are the file meta group.
    pub meta_nodes: u32,
    /// Offset of the first byte of the data set (after the meta group).
    pub dataset_offset: u64,
    /// Transfer Syntax UID from the meta group, or the one detected.
    pub transfer_syntax: String,
    /// The encoding the data set was actually read with.
    pub encoding: Encoding,
    /// In partial mode: the error that ended parsing early.
    pub error: Option<ParseError>,
}

fn u16_le(buf: &[u8], pos: usize) -> u16 {
    u16::from_le_bytes([buf[pos], buf[pos + 1]])
}

fn u32_le(buf: &[u8], pos: usize) -> u32 {
    u32::from_le_bytes([buf[pos], buf[pos + 1], buf[pos + 2], buf[pos + 3]])
}

/// Find where the group 0002 elements starting at `pos` end. The meta group is
/// explicit VR little endian (PS3.10 §7.1); some writers used implicit VR, so
/// each header is read the way its bytes say.
///
/// The group ends where File Meta Information Group Length (0002,0000) says when
/// an element ends there (as DCMTK reads it), else at the first element that is
/// not group 0002 or does not follow the one before in tag order: a stray group
/// 0002 element in the data set (a flipped byte, a writer that copied one there)
/// belongs to the data set, and never overrides the meta group's values.
fn meta_end(buf: &[u8], mut pos: usize) -> Result<(usize, bool), ParseError> {
    let explicit = looks_explicit(buf, pos);
    let mut last_tag: Option<u32> = None;
    let mut group_end: Option<usize> = None;
    while pos + 8 <= buf.len() && u16_le(buf, pos) == 0x0002 && group_end != Some(pos) {
        let t = ((u16_le(buf, pos) as u32) << 16) | u16_le(buf, pos + 2) as u32;
        if last_tag.is_some_and(|l| t <= l) {
            break;
        }
        last_tag = Some(t);
        let (len, header) = if explicit {
            let v = [buf[pos + 4], buf[pos + 5]];
            if vr::has_long_length(v) {
                if pos + 12 > buf.len() {
                    break;
                }
                (u32_le(buf, pos + 8) as usize, 12)
            } else {
                (u16_le(buf, pos + 6) as usize, 8)
            }
        } else {
            (u32_le(buf, pos + 4) as usize, 8)
        };
        let end = pos.checked_add(header).and_then(|p| p.checked_add(len));
        match end {
            Some(e) if e <= buf.len() => {
                if t == tag::FILE_META_GROUP_LENGTH && len == 4 {
                    let value = u32_le(buf, pos + header) as usize;
                    group_end = e.checked_add(value);
                }
                pos = e
            }
            _ => {
                return Err(ParseError::new(
                    ErrorKind::Overrun {
                        length: len as u64,
                        limit: (buf.len() - pos - header.min(buf.len() - pos)) as u64,
                    },
                    pos as u64,
                    Some(t),
                ))
            }
        }
    }
    Ok((pos, explicit))
}

/// Guess the encoding of a raw data set from its first element, as DCMTK does:
/// the byte order that gives a small group number, explicit if a VR follows.
fn detect_encoding(buf: &[u8], pos: usize) -> Encoding {
    if buf.len() < pos + 6 {
        return Encoding::IMPLICIT_LE;
    }
    let le = u16_le(buf, pos);
    let be = u16::from_be_bytes([buf[pos], buf[pos + 1]]);
    let big_endian = be < le && be != 0 && le > 0x00FF;
    Encoding {
        explicit_vr: looks_explicit(buf, pos),
        big_endian,
    }
}

fn syntax_for(enc: Encoding) -> &'static str {
    match (enc.explicit_vr, enc.big_endian) {
        (false, _) => crate::syntax::IMPLICIT_VR_LITTLE_ENDIAN,
        (true, false) => crate::syntax::EXPLICIT_VR_LITTLE_ENDIAN,
        (true, true) => crate::syntax::EXPLICIT_VR_BIG_ENDIAN,
    }
}

/// Inflate `data` onto the end of `out` (the deflate stream read straight from the
/// slice, no buffer between; nothing copied again afterwards).
fn inflate_into(out: &mut Vec<u8>, data: &[u8], limit: u64, offset: u64) -> Result<(), ParseError> {
    let start = out.len();
    out.reserve(data.len().saturating_mul(3).min(limit as usize));
    let mut dec = flate2::bufread::DeflateDecoder::new(data).take(limit + 1);
    dec.read_to_end(out)
        .map_err(|e| ParseError::new(ErrorKind::Deflate(e.to_string()), offset, None))?;
    if (out.len() - start) as u64 > limit {
        return Err(ParseError::new(
            ErrorKind::Deflate(format!("inflates beyond the {limit}-byte limit")),
            offset,
            None,
        ));
    }
    Ok(())
}

/// Index a Part 10 file or a raw data set held in `buf`.
pub fn read_file(buf: &[u8], opts: &ReadOptions) -> Result<DicomFile, ParseError> {
    let (mut pos, has_preamble) = if buf.len() >= 132 && &buf[128..132] == b"DICM" {
        (132, true)
    } else if buf.len() >= 4 && &buf[0..4] == b"DICM" {
        (4, false)
    } else {
        (0, false)
    };
    if buf.len() < pos + 8 {
        return Err(ParseError::new(
            ErrorKind::NotDicom("too short to hold a data element"),
            pos as u64,
            None,
        ));
    }

    let mut index = Index::default();
    let mut meta_nodes = 0;
    let mut ts_uid: Option<String> = None;
    if u16_le(buf, pos) == 0x0002 {
        let (end, explicit) = meta_end(buf, pos)?;
        let enc = if explicit {
            Encoding::EXPLICIT_LE
        } else {
            Encoding::IMPLICIT_LE
        };
        parse_dataset(
            buf,
            pos as u64,
            end as u64,
            enc,
            &ParseOptions::default(),
            &mut index,
        )?;
        meta_nodes = index.nodes.len() as u32;
        ts_uid = index
            .children(NONE)
            .map(|i| &index.nodes[i as usize])
            .find(|n| n.tag == tag::TRANSFER_SYNTAX_UID)
            .map(|n| {
                let v = &buf[n.value_offset as usize..n.end_offset as usize];
                String::from_utf8_lossy(v)
                    .trim_end_matches(['\0', ' '])
                    .to_string()
            });
        pos = end;
    } else if pos == 0 && !looks_plausible_raw(buf) {
        return Err(ParseError::new(
            ErrorKind::NotDicom("no preamble, no DICM prefix and no plausible first element"),
            0,
            None,
        ));
    }

    let syntax = ts_uid.as_deref().map(TransferSyntax::from_uid);
    let mut inflated = None;
    if syntax.is_some_and(|s| s.deflated) {
        let limit = (buf.len() as u64).saturating_mul(opts.max_inflate_ratio) + (256 << 20);
        let mut whole = buf[..pos].to_vec();
        inflate_into(&mut whole, &buf[pos..], limit, pos as u64)?;
        inflated = Some(whole);
    }
    let data: &[u8] = inflated.as_deref().unwrap_or(buf);

    // The transfer syntax says how the data set is encoded, but files in the
    // wild disagree with it; trust the bytes for implicit versus explicit VR.
    let mut encoding = match syntax {
        Some(s) => s.encoding,
        None => detect_encoding(data, pos),
    };
    if data.len() >= pos + 6 {
        encoding.explicit_vr = looks_explicit(data, pos);
    }
    let transfer_syntax = ts_uid.unwrap_or_else(|| syntax_for(encoding).to_string());
    let outcome = parse_dataset(
        data,
        pos as u64,
        data.len() as u64,
        encoding,
        &opts.parse,
        &mut index,
    )?;
    index.nodes.shrink_to_fit();
    Ok(DicomFile {
        index,
        inflated,
        has_preamble,
        meta_nodes,
        dataset_offset: pos as u64,
        transfer_syntax,
        encoding,
        error: outcome.error,
    })
}

/// A raw data set starts with a group no larger than 0x7FE0 and element 0000
/// to 00FF-ish; refuse obvious non-DICOM bytes instead of indexing garbage.
fn looks_plausible_raw(buf: &[u8]) -> bool {
    let le = u16_le(buf, 0);
    let be = u16::from_be_bytes([buf[0], buf[1]]);
    let group_ok = |g: u16| (0x0002..=0x7FE0).contains(&g) || g == 0xFFFE;
    group_ok(le) || group_ok(be)
}
