//! One file to its copy with native pixels, for `dicomfast convert -t explicit-le`: the
//! file read (or mapped), parsed, its grey frames decoded by the codec registry straight
//! into the new file's bytes, written under a temporary name beside the output and
//! renamed (or left for the caller to flush and rename with its group).
//!
//! The new file is what the Python path (`decompress`, then `encode_file`) writes: the
//! input's preamble, its file meta elements as they are but for a new Transfer Syntax
//! UID (the group length counted again), every data set element as read, and the Pixel
//! Data as `OW` (16 bits) or `OB` (8 bits) of the decoded frames. Only where that is
//! certain does this path take a file: a Part 10 file with a preamble, an explicit VR
//! little-endian meta group in tag order holding (0002,0001), (0002,0002), (0002,0003),
//! (0002,0010) and (0002,0012), an encapsulated syntax a codec decodes, one or three
//! samples of 8 or 16 bits of an even size, Pixel Data at top level with no offset table
//! elements, float or double pixels, group lengths or group 0002 elements beside it. For
//! colour, the Photometric Interpretation and Planar Configuration change as the Python
//! path changes them. Anything else is declined and left to the Python path.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use dicomfast_codec::as_read::{children, plan_with_native, Limits, Source};
use dicomfast_codec::frame_size_bytes;
use dicomfast_core::bytes::FileBytes;
use dicomfast_core::file::DicomFile;
use dicomfast_core::vr::has_long_length;

use crate::job::{parse, write_temp};

/// Explicit VR Little Endian, as the file meta holds it (even length, NUL padded).
const EXPLICIT_LE: &[u8] = b"1.2.840.10008.1.2.1\0";
const PIXEL_DATA: u32 = 0x7FE0_0010;
/// Extended Offset Table and its lengths, Float and Double Float Pixel Data.
const DECLINED_PIXEL_TAGS: [u32; 4] = [0x7FE0_0001, 0x7FE0_0002, 0x7FE0_0008, 0x7FE0_0009];
/// The meta elements the output must carry already (the Python path would add them).
const META_NEEDED: [u32; 5] = [
    0x0002_0001,
    0x0002_0002,
    0x0002_0003,
    0x0002_0010,
    0x0002_0012,
];

/// What a run asks of every file.
#[derive(Debug, Clone)]
pub struct NativeOptions {
    /// A file whose output exists is declined (the Python path checks it and skips it).
    pub resume: bool,
    /// Leave the output under its temporary name for the caller to flush and rename.
    pub durable: bool,
    /// The size rules of `dicomfast.pixels.info`.
    pub limits: Limits,
    /// Files up to this size are read whole, larger ones mapped.
    pub read_whole_below: u64,
}

/// What became of a file.
#[derive(Debug, PartialEq)]
pub enum Converted {
    /// Not taken here: the Python path decides.
    Declined,
    /// Written: the output's size and, in a durable run, the temporary file to flush and
    /// rename to `dst`.
    Done {
        bytes_out: u64,
        staged: Option<PathBuf>,
        seconds: f64,
    },
}

thread_local! {
    static OUT: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::default();
}

/// Output buffers larger than this are not kept for the next file.
const KEEP: usize = 64 << 20;

/// Files to their native copies under one set of [`NativeOptions`].
pub struct Decompressor {
    opts: NativeOptions,
}

impl Decompressor {
    pub fn new(opts: NativeOptions) -> Self {
        Decompressor { opts }
    }

    /// The file at `path` written to `dst` with native pixels, or declined.
    pub fn convert(&self, path: &Path, dst: &Path) -> Converted {
        let t0 = Instant::now();
        if self.opts.resume && fs::symlink_metadata(dst).is_ok() {
            return Converted::Declined;
        }
        let Some(bytes) = FileBytes::open_regular(path, self.opts.read_whole_below) else {
            return Converted::Declined;
        };
        OUT.with(|out| {
            let mut out = out.borrow_mut();
            out.clear();
            let written = self
                .native_into(bytes.bytes(), &mut out)
                .and_then(|()| write_temp(dst, &out).ok());
            let bytes_out = out.len() as u64;
            if out.capacity() > KEEP {
                *out = Vec::new();
            }
            let Some(tmp) = written else {
                return Converted::Declined;
            };
            let staged = if self.opts.durable {
                Some(tmp)
            } else if fs::rename(&tmp, dst).is_ok() {
                None
            } else {
                let _ = fs::remove_file(&tmp);
                return Converted::Declined;
            };
            Converted::Done {
                bytes_out,
                staged,
                seconds: t0.elapsed().as_secs_f64(),
            }
        })
    }

    /// The native copy of the file `file`, or None where [`Decompressor::convert`]
    /// declines it (for tests and the fuzz target: the same steps, nothing written).
    pub fn native_file(&self, file: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        self.native_into(file, &mut out)?;
        Some(out)
    }

    fn native_into(&self, file: &[u8], out: &mut Vec<u8>) -> Option<()> {
        let parsed = parse(file)?;
        // damage the reader tolerates: the Python path reports it rather than copy it
        // a data set read otherwise than explicit VR little endian (whatever its syntax
        // says) is encoded anew by the Python path, not copied
        if parsed.error.is_some()
            || !parsed.encoding.explicit_vr
            || parsed.encoding.big_endian
            || parsed.inflated.is_some()
            || !parsed.has_preamble
            || parsed.meta_nodes == 0
        {
            return None;
        }
        let src = Source {
            buf: file,
            index: &parsed.index,
            meta_nodes: parsed.meta_nodes,
            parent: -1,
            meta: Some(-2),
        };
        let p = plan_with_native(&src, &self.opts.limits, || {
            Some(parsed.transfer_syntax.clone())
        })?;
        let codec = p.syntax.codec?; // native input: relabelled by the Python path
        let info = &p.info;
        if !matches!(info.samples_per_pixel, 1 | 3)
            || !matches!(info.bits_allocated, 8 | 16)
            || info.float
        {
            return None;
        }
        let frame_bytes = frame_size_bytes(info);
        let pixel_bytes = frame_bytes.checked_mul(p.frames.len())?;
        if pixel_bytes % 2 != 0 || pixel_bytes > u32::MAX as usize - 1 {
            return None;
        }
        let pixel = top_level_pixel_data(&parsed)?;
        let nodes = &parsed.index.nodes;
        let last_end = children(&parsed.index, parsed.meta_nodes, -1)
            .last()
            .map(|i| nodes[i as usize].end_offset)?;
        let at = |o: u64| usize::try_from(o).ok();
        let (data_start, pixel_start) = (at(parsed.dataset_offset)?, at(pixel.header_offset)?);
        let (pixel_end, data_end) = (at(pixel.end_offset)?, at(last_end)?);
        if !(data_start <= pixel_start && pixel_start < pixel_end && pixel_end <= data_end)
            || data_end > file.len()
        {
            return None;
        }

        out.reserve(data_end - pixel_end + pixel_start + 512 + pixel_bytes);
        out.extend_from_slice(file.get(..128)?);
        out.extend_from_slice(b"DICM");
        meta_group(file, &parsed, out)?;
        let edits = colour_edits(file, &parsed, info.samples_per_pixel, pixel_start)?;
        let mut at_byte = data_start;
        for (start, end, bytes) in &edits {
            out.extend_from_slice(&file[at_byte..*start]);
            out.extend_from_slice(bytes);
            at_byte = *end;
        }
        out.extend_from_slice(&file[at_byte..pixel_start]);
        out.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00]);
        out.extend_from_slice(if info.bits_allocated == 8 {
            b"OB"
        } else {
            b"OW"
        });
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(pixel_bytes as u32).to_le_bytes());
        let start = out.len();
        out.resize(start + pixel_bytes, 0);
        let mut joined = Vec::new();
        for (k, fragments) in p.frames.iter().enumerate() {
            let frame_out = &mut out[start + k * frame_bytes..start + (k + 1) * frame_bytes];
            let data: &[u8] = match fragments.as_slice() {
                [(off, len)] => file.get(at(*off)?..at(off.checked_add(*len)?)?)?,
                many => {
                    joined.clear();
                    for &(off, len) in many {
                        joined.extend_from_slice(file.get(at(off)?..at(off.checked_add(len)?)?)?);
                    }
                    &joined
                }
            };
            codec.decode(data, info, frame_out).ok()?;
        }
        out.extend_from_slice(&file[pixel_end..data_end]);
        Some(())
    }
}

const PHOTOMETRIC: u32 = 0x0028_0004;
const PLANAR: u32 = 0x0028_0006;

/// What decoding changes in a colour data set, as `set_native_pixels` changes it: the
/// Photometric Interpretation (YBR_FULL_422 -> YBR_FULL; YBR_RCT, YBR_ICT -> RGB: the
/// decoder undid the transform) and, for several samples, Planar Configuration 0 (set
/// or added). Byte ranges of the data set (before `pixel_start`) to replace, in order,
/// with their new bytes (an empty range inserts); None: a colour data set this path
/// does not take (no or several Photometric Interpretations, not CS).
fn colour_edits(
    file: &[u8],
    parsed: &DicomFile,
    samples: u16,
    pixel_start: usize,
) -> Option<Vec<(usize, usize, Vec<u8>)>> {
    let nodes = &parsed.index.nodes;
    let mut photometric = None;
    let mut planar = None;
    let mut after_planar = pixel_start; // where an added Planar Configuration goes
    for i in children(&parsed.index, parsed.meta_nodes, -1) {
        let n = &nodes[i as usize];
        let span = (
            usize::try_from(n.header_offset).ok()?,
            usize::try_from(n.end_offset).ok()?,
        );
        match n.tag {
            PHOTOMETRIC if photometric.is_some() => return None,
            PHOTOMETRIC => photometric = Some((n, span)),
            PLANAR if planar.is_some() => return None,
            PLANAR => planar = Some(span),
            t if t > PLANAR && after_planar == pixel_start => after_planar = span.0,
            _ => {}
        }
    }
    let mut edits = Vec::new();
    if samples == 1 {
        return Some(edits);
    }
    let (n, span) = photometric?;
    if n.vr != *b"CS" {
        return None;
    }
    let value = file.get(usize::try_from(n.value_offset).ok()?..span.1)?;
    let name = std::str::from_utf8(value)
        .ok()?
        .trim_end_matches([' ', '\0']);
    let new_name = match name {
        "YBR_FULL_422" => Some("YBR_FULL"),
        "YBR_RCT" | "YBR_ICT" => Some("RGB "),
        _ => None,
    };
    if let Some(new_name) = new_name {
        let mut e = vec![0x28, 0x00, 0x04, 0x00, b'C', b'S'];
        e.extend_from_slice(&(new_name.len() as u16).to_le_bytes());
        e.extend_from_slice(new_name.as_bytes());
        edits.push((span.0, span.1, e));
    }
    let zero = vec![0x28, 0x00, 0x06, 0x00, b'U', b'S', 0x02, 0x00, 0x00, 0x00];
    match planar {
        Some((start, end)) => edits.push((start, end, zero)),
        None => edits.push((after_planar, after_planar, zero)),
    }
    edits.sort_by_key(|e| e.0);
    Some(edits)
}

/// The top-level Pixel Data node, if the data set holds nothing this path declines.
fn top_level_pixel_data(parsed: &DicomFile) -> Option<&dicomfast_core::index::Node> {
    let nodes = &parsed.index.nodes;
    let mut pixel = None;
    let mut last = None;
    for i in children(&parsed.index, parsed.meta_nodes, -1) {
        let n = &nodes[i as usize];
        if n.tag >> 16 == 0x0002
            || n.tag & 0xFFFF == 0
            || DECLINED_PIXEL_TAGS.contains(&n.tag)
            || last.is_some_and(|t| n.tag <= t)
        {
            return None; // out of order: the Python path writes them sorted
        }
        last = Some(n.tag);
        if n.tag == PIXEL_DATA {
            pixel = Some(n);
        }
    }
    pixel.filter(|n| n.undefined_length())
}

/// The file meta group (after `DICM`) with Explicit VR Little Endian as its syntax.
fn meta_group(file: &[u8], parsed: &DicomFile, out: &mut Vec<u8>) -> Option<()> {
    let nodes = &parsed.index.nodes;
    let mut body = Vec::with_capacity(256);
    let mut last = 0u32;
    let mut needed = 0;
    for i in children(&parsed.index, parsed.meta_nodes, -2) {
        let n = &nodes[i as usize];
        if n.tag >> 16 != 0x0002 || (n.tag <= last && n.tag != 0x0002_0000) {
            return None; // out of order: the Python path sorts them
        }
        last = n.tag;
        let (h, v, e) = (
            usize::try_from(n.header_offset).ok()?,
            usize::try_from(n.value_offset).ok()?,
            usize::try_from(n.end_offset).ok()?,
        );
        // written as read only where it was read as explicit VR little endian
        let long = has_long_length(n.vr);
        if file.get(h + 4..h + 6)? != n.vr || v - h != if long { 12 } else { 8 } || e < v {
            return None;
        }
        needed += usize::from(META_NEEDED.contains(&n.tag));
        match n.tag {
            0x0002_0000 => {}
            0x0002_0010 => {
                body.extend_from_slice(&[0x02, 0x00, 0x10, 0x00, b'U', b'I']);
                body.extend_from_slice(&(EXPLICIT_LE.len() as u16).to_le_bytes());
                body.extend_from_slice(EXPLICIT_LE);
            }
            _ => body.extend_from_slice(file.get(h..e)?),
        }
    }
    if needed != META_NEEDED.len() {
        return None;
    }
    out.extend_from_slice(&[0x02, 0x00, 0x00, 0x00, b'U', b'L', 0x04, 0x00]);
    out.extend_from_slice(&u32::try_from(body.len()).ok()?.to_le_bytes());
    out.extend_from_slice(&body);
    Some(())
}
