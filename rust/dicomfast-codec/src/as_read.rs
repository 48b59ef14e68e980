//! A data set as read, planned for decoding from its file's index alone (feature
//! `as-read`): the Image Pixel attributes, the transfer syntax and each encapsulated
//! frame's fragments, with the checks `dicomfast.pixels.info` makes before anything is
//! allocated. The bindings' file-to-array call (`_core.pixel_array_as_read`) is this, an
//! array, and [`crate::pipeline::decode_frames`]; the `file_decode` fuzz target reaches it
//! from file bytes.
//!
//! The Python path stays the one definition: wherever its result is not certain here (a
//! value that is not one plain US or IS, an attribute the codecs reject, data too short
//! for the frames, native pixel data, no codec, fragments that cannot be located)
//! [`plan`] gives None and the caller goes the usual way, which gives the array or raises
//! as it always did.

use std::collections::HashSet;

use dicomfast_core::file::{read_file, ReadOptions};
use dicomfast_core::frames::{frame_fragments, OffsetTable};
use dicomfast_core::index::{flags, Children, Index, Node, NONE};
use dicomfast_core::parse::ParseOptions;
use dicomfast_core::value;

use crate::registry::{self, TransferSyntax};
use crate::{frame_size_bytes, FrameInfo};

/// The size rules of `dicomfast.pixels.info` (the bindings take them from there).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Compressed data expands at most this much (`MAX_RATIO`) ...
    pub max_ratio: u64,
    /// ... or this much (`MAX_RATIO_UNBOUNDED_CODECS`) in these syntaxes ...
    pub unbounded_ratio: u64,
    pub unbounded: HashSet<String>,
    /// ... plus this much per frame (`FRAME_SLACK`).
    pub frame_slack: u64,
    /// Number of Frames above this is refused (`MAX_FRAMES`).
    pub max_frames: u64,
}

/// Where to look: the buffer and index of a parsed file, which node is the data set and
/// which its file meta group.
pub struct Source<'a> {
    pub buf: &'a [u8],
    pub index: &'a Index,
    /// Nodes of the file meta group (the first ones of the index).
    pub meta_nodes: u32,
    /// The data set's node (-1: the top level, without the file meta group).
    pub parent: i64,
    /// Its file meta group's node (-2 for a file's), None when it has none.
    pub meta: Option<i64>,
}

/// Everything of a decode but the decoding.
#[derive(Debug)]
pub struct Plan {
    pub syntax: TransferSyntax,
    pub info: FrameInfo,
    /// Per frame, the `(offset, length)` of its fragments' values in the buffer.
    pub frames: Vec<Vec<(u64, u64)>>,
}

const ROWS: u32 = 0x0028_0010;
const COLUMNS: u32 = 0x0028_0011;
const SAMPLES: u32 = 0x0028_0002;
const BITS_ALLOCATED: u32 = 0x0028_0100;
const BITS_STORED: u32 = 0x0028_0101;
const PIXEL_REPRESENTATION: u32 = 0x0028_0103;
const PLANAR: u32 = 0x0028_0006;
const NUMBER_OF_FRAMES: u32 = 0x0028_0008;
const PIXEL_DATA: u32 = 0x7FE0_0010;
const EXTENDED_OFFSET_TABLE: u32 = 0x7FE0_0001;
const TRANSFER_SYNTAX_UID: u32 = 0x0002_0010;
/// The tags looked for among the data set's children, in this order.
const WANTED: [u32; 10] = [
    ROWS,
    COLUMNS,
    SAMPLES,
    BITS_ALLOCATED,
    BITS_STORED,
    PIXEL_REPRESENTATION,
    PLANAR,
    NUMBER_OF_FRAMES,
    PIXEL_DATA,
    EXTENDED_OFFSET_TABLE,
];
/// Bytes of an item header: every encapsulated frame takes at least this.
const ITEM_HEADER: u64 = 8;

/// Flags of nodes whose value `RawFile.find` does not convert alone.
pub const CONTEXTUAL: u16 = flags::SEQUENCE
    | flags::ITEM
    | flags::ENCAPSULATED
    | flags::FRAGMENT
    | flags::AMBIGUOUS_VR
    | flags::UN_SEQUENCE;

/// The children of `parent` as `RawFile.find` takes them (-1: the top level without the
/// file meta group, -2: the file meta group; a node past the index: none).
pub fn children(index: &Index, meta_nodes: u32, parent: i64) -> Children<'_> {
    let len = index.nodes.len() as u32;
    match parent {
        -2 => index.siblings(0, meta_nodes),
        -1 => index.siblings(meta_nodes, len),
        p if p < 0 => index.children(NONE),
        p => match u32::try_from(p) {
            Ok(p) if p < len => index.children(p),
            _ => index.siblings(0, 0),
        },
    }
}

/// The value bytes of node `n` in `buf` (None when they lie outside it).
pub fn value_of<'a>(buf: &'a [u8], n: &Node) -> Option<&'a [u8]> {
    buf.get(usize::try_from(n.value_offset).ok()?..usize::try_from(n.end_offset).ok()?)
}

/// An attribute as `pixel_info` reads it: `Some(None)` absent, `Some(Some(v))` one plain US
/// value, None for anything else (left to the Python path).
fn us(buf: &[u8], index: &Index, node: Option<u32>) -> Option<Option<u64>> {
    let Some(i) = node else { return Some(None) };
    let n = &index.nodes[i as usize];
    if n.flags & CONTEXTUAL != 0 || &n.vr != b"US" {
        return None;
    }
    let v: [u8; 2] = value_of(buf, n)?.try_into().ok()?;
    let v = if n.has(flags::BIG_ENDIAN) {
        u16::from_be_bytes(v)
    } else {
        u16::from_le_bytes(v)
    };
    Some(Some(u64::from(v)))
}

/// Number of Frames as `pixel_info` reads it (absent, empty or 0: 1), when it is one plain
/// IS value in 1..=`max` (else None: the Python path).
fn number_of_frames(buf: &[u8], index: &Index, node: Option<u32>, max: u64) -> Option<u64> {
    let Some(i) = node else { return Some(1) };
    let n = &index.nodes[i as usize];
    if n.flags & CONTEXTUAL != 0 || &n.vr != b"IS" {
        return None;
    }
    let v = value::trim(*b"IS", value_of(buf, n)?);
    if v.is_empty() {
        return Some(1);
    }
    if v.contains(&b'\\') {
        return None;
    }
    let k = u64::try_from(value::parse_is(v)?).ok()?;
    (k <= max).then_some(k.max(1))
}

/// The data set's transfer syntax as `pixel_info` takes it: the file meta group's (0002,0010)
/// when it has one with a value, else `parsed()` (the one the file was parsed with).
fn transfer_syntax(src: &Source<'_>, parsed: impl FnOnce() -> Option<String>) -> Option<String> {
    let (buf, index) = (src.buf, src.index);
    if let Some(m) = src.meta {
        let found = children(index, src.meta_nodes, m)
            .filter(|&i| index.nodes[i as usize].tag == TRANSFER_SYNTAX_UID)
            .last();
        if let Some(i) = found {
            let n = &index.nodes[i as usize];
            if n.flags & CONTEXTUAL != 0 || &n.vr != b"UI" {
                return None;
            }
            let v = value_of(buf, n)?;
            if !v.is_ascii() || v.contains(&b'\\') {
                return None;
            }
            let s = std::str::from_utf8(v).ok()?.trim_matches([' ', '\0']);
            if !s.is_empty() {
                return Some(s.to_string());
            }
        }
    }
    Some(parsed()?.trim_end_matches(['\0', ' ']).to_string())
}

/// `check_fits` for compressed data: can `available` bytes hold `frames` frames?
fn fits(limits: &Limits, uid: &str, frames: u64, fsize: u64, available: u64) -> bool {
    let ratio = if limits.unbounded.contains(uid) {
        limits.unbounded_ratio
    } else {
        limits.max_ratio
    };
    let need = u128::from(frames) * u128::from(fsize);
    need <= u128::from(ratio) * u128::from(available)
        + u128::from(limits.frame_slack) * u128::from(frames)
}

/// The plan for decoding every frame of `src`'s data set, or None where the Python path
/// decides (see the module's documentation). `parsed`: the transfer syntax the file was
/// parsed with (asked only when the file meta group has none); `as_rgb`: a three-sample
/// frame is left to the Python path (colour conversion).
pub fn plan(
    src: &Source<'_>,
    limits: &Limits,
    parsed: impl FnOnce() -> Option<String>,
    as_rgb: bool,
) -> Option<Plan> {
    let image = image(src, limits, parsed, as_rgb)?;
    if !image.syntax.encapsulated {
        return None;
    }
    encapsulated(src, limits, image)
}

/// [`plan`], and for native Pixel Data in a little-endian syntax (explicit, implicit or
/// deflated) too: each frame then one `(offset, length)` slice of the value, every frame
/// within it (else None: the Python path names the shortfall), and `syntax.codec` None.
pub fn plan_with_native(
    src: &Source<'_>,
    limits: &Limits,
    parsed: impl FnOnce() -> Option<String>,
) -> Option<Plan> {
    let image = image(src, limits, parsed, false)?;
    if image.syntax.encapsulated {
        return encapsulated(src, limits, image);
    }
    let node = &src.index.nodes[image.pixels as usize];
    // Implicit VR leaves Pixel Data's VR to the Python layer (OB or OW): in little
    // endian the bytes are the same either way.
    let ambiguous = node.has(flags::AMBIGUOUS_VR);
    if image.syntax.big_endian
        || node.flags & CONTEXTUAL & !flags::AMBIGUOUS_VR != 0
        || node.has(flags::BIG_ENDIAN)
        || !(ambiguous || matches!(&node.vr, b"OB" | b"OW"))
        || !matches!(image.info.bits_allocated, 8 | 16)
    {
        return None;
    }
    let available = node.end_offset.checked_sub(node.value_offset)?;
    let fsize = crate::native_frame_size_bytes(&image.info) as u64;
    if fsize == 0 || image.nframes.checked_mul(fsize)? > available {
        return None;
    }
    let frames = (0..image.nframes)
        .map(|k| vec![(node.value_offset + k * fsize, fsize)])
        .collect();
    Some(Plan {
        syntax: image.syntax,
        info: image.info,
        frames,
    })
}

/// The image attributes of a data set, checked as `pixel_info` checks them.
struct Image {
    uid: String,
    syntax: TransferSyntax,
    info: FrameInfo,
    nframes: u64,
    pixels: u32,
    eot: Option<u32>,
}

fn image(
    src: &Source<'_>,
    limits: &Limits,
    parsed: impl FnOnce() -> Option<String>,
    as_rgb: bool,
) -> Option<Image> {
    let (buf, index) = (src.buf, src.index);
    let mut at: [Option<u32>; WANTED.len()] = [None; WANTED.len()];
    for i in children(index, src.meta_nodes, src.parent) {
        let tag = index.nodes[i as usize].tag;
        if let Some(k) = WANTED.iter().position(|&t| t == tag) {
            at[k] = Some(i);
        }
    }
    let [rows, columns, samples, bits_allocated, bits_stored, pr, planar, nframes, pixels, eot] =
        at;
    let pixels = pixels?;
    let rows = us(buf, index, rows)??;
    let columns = us(buf, index, columns)??;
    let samples = us(buf, index, samples)?;
    let bits_allocated = us(buf, index, bits_allocated)??;
    let bits_stored = us(buf, index, bits_stored)?;
    let pr = us(buf, index, pr)?;
    let planar = us(buf, index, planar)?;
    let nframes = number_of_frames(buf, index, nframes, limits.max_frames)?;
    let samples = samples.filter(|&s| s != 0).unwrap_or(1);
    if as_rgb && samples == 3 {
        return None;
    }
    let uid = transfer_syntax(src, parsed)?;
    let syntax = registry::lookup(&uid);
    if syntax.encapsulated && (!syntax.can_decode() || syntax.codec.is_none()) {
        return None;
    }
    let info = FrameInfo {
        rows: rows as u32,
        columns: columns as u32,
        samples_per_pixel: samples as u16,
        bits_allocated: bits_allocated as u16,
        bits_stored: bits_stored.filter(|&b| b != 0).unwrap_or(bits_allocated) as u16,
        pixel_representation: u16::from(pr == Some(1)),
        planar_configuration: u16::from(planar == Some(1) && samples > 1),
        big_endian: false,
        float: false,
    };
    info.validate().ok()?;
    Some(Image {
        uid,
        syntax,
        info,
        nframes,
        pixels,
        eot,
    })
}

/// The plan of an encapsulated image: each frame's fragments located and the sizes
/// checked.
fn encapsulated(src: &Source<'_>, limits: &Limits, image: Image) -> Option<Plan> {
    let (buf, index) = (src.buf, src.index);
    let Image {
        uid,
        syntax,
        info,
        nframes,
        pixels,
        eot,
    } = image;
    let node = &index.nodes[pixels as usize];
    let available = node.end_offset.saturating_sub(node.value_offset);
    let fsize = frame_size_bytes(&info) as u64;
    if nframes > available / ITEM_HEADER || !fits(limits, &uid, nframes, fsize, available) {
        return None;
    }
    let eot = eot.map(|e| {
        let n = &index.nodes[e as usize];
        OffsetTable {
            offsets: value_of(buf, n).unwrap_or(&[]),
            big_endian: n.has(flags::BIG_ENDIAN),
        }
    });
    let found = frame_fragments(buf, index, pixels, nframes as usize, eot).ok()?;
    if (found.len() as u64) < nframes {
        return None;
    }
    let frames: Vec<Vec<(u64, u64)>> = found
        .into_iter()
        .take(nframes as usize)
        .map(|f| {
            f.into_iter()
                .map(|j| {
                    let n = &index.nodes[j as usize];
                    (n.value_offset, n.end_offset - n.value_offset)
                })
                .collect()
        })
        .collect();
    let compressed: u64 = frames.iter().flatten().map(|&(_, n)| n).sum();
    if !fits(limits, &uid, nframes, fsize, compressed) {
        return None;
    }
    Some(Plan {
        syntax,
        info,
        frames,
    })
}

/// A whole file's plan: the file parsed with `parse`, its top-level data set planned as
/// `dicomfast.read` gives it (its file meta group, if any, at node -2).
#[derive(Debug)]
pub struct FilePlan {
    /// The data set inflated, for a deflated transfer syntax: what the plan's offsets
    /// point into then (else the file's bytes).
    pub inflated: Option<Vec<u8>>,
    pub plan: Plan,
}

impl FilePlan {
    /// The bytes the plan's fragment offsets point into, given the file's.
    pub fn source<'a>(&'a self, file: &'a [u8]) -> &'a [u8] {
        self.inflated.as_deref().unwrap_or(file)
    }
}

/// [`plan`] for the file `bytes` (None also when it does not parse).
pub fn plan_file(
    bytes: &[u8],
    parse: ParseOptions,
    limits: &Limits,
    as_rgb: bool,
) -> Option<FilePlan> {
    let opts = ReadOptions {
        parse,
        ..Default::default()
    };
    let mut file = read_file(bytes, &opts).ok()?;
    let inflated = file.inflated.take();
    let src = Source {
        buf: inflated.as_deref().unwrap_or(bytes),
        index: &file.index,
        meta_nodes: file.meta_nodes,
        parent: -1,
        meta: (file.meta_nodes > 0).then_some(-2),
    };
    let plan = plan(&src, limits, || Some(file.transfer_syntax.clone()), as_rgb)?;
    Some(FilePlan { inflated, plan })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(out: &mut Vec<u8>, tag: u32, vr: &[u8; 2], value: &[u8]) {
        out.extend_from_slice(&((tag >> 16) as u16).to_le_bytes());
        out.extend_from_slice(&(tag as u16).to_le_bytes());
        out.extend_from_slice(vr);
        out.extend_from_slice(&(value.len() as u16).to_le_bytes());
        out.extend_from_slice(value);
    }

    /// A Part 10 file: 2x2 8-bit monochrome, one RLE Lossless frame (one literal segment),
    /// `extra` elements (tag, VR, value) in place of the defaults where tags match.
    fn file(syntax: &str, extra: &[(u32, &[u8; 2], &[u8])]) -> Vec<u8> {
        let mut f = vec![0u8; 128];
        f.extend_from_slice(b"DICM");
        let mut ts = syntax.as_bytes().to_vec();
        if ts.len() % 2 == 1 {
            ts.push(0);
        }
        let mut meta = Vec::new();
        element(&mut meta, 0x0002_0010, b"UI", &ts);
        element(
            &mut f,
            0x0002_0000,
            b"UL",
            &(meta.len() as u32).to_le_bytes(),
        );
        f.extend_from_slice(&meta);
        let mut attrs: Vec<(u32, &[u8; 2], Vec<u8>)> = vec![
            (0x0028_0002, b"US", 1u16.to_le_bytes().to_vec()),
            (0x0028_0010, b"US", 2u16.to_le_bytes().to_vec()),
            (0x0028_0011, b"US", 2u16.to_le_bytes().to_vec()),
            (0x0028_0100, b"US", 8u16.to_le_bytes().to_vec()),
            (0x0028_0101, b"US", 8u16.to_le_bytes().to_vec()),
            (0x0028_0103, b"US", 0u16.to_le_bytes().to_vec()),
        ];
        for &(tag, vr, value) in extra {
            attrs.retain(|a| a.0 != tag);
            attrs.push((tag, vr, value.to_vec()));
        }
        attrs.sort_by_key(|a| a.0);
        for (tag, vr, value) in &attrs {
            element(&mut f, *tag, vr, value);
        }
        // RLE frame: header (1 segment at 64), then "copy 4 literal bytes" 1 2 3 4.
        let mut frame = vec![0u8; 64];
        frame[0] = 1;
        frame[4] = 64;
        frame.extend_from_slice(&[3, 1, 2, 3, 4, 0]);
        f.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0]);
        f.extend_from_slice(&u32::MAX.to_le_bytes());
        for item in [&[][..], &frame[..]] {
            f.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0]);
            f.extend_from_slice(&(item.len() as u32).to_le_bytes());
            f.extend_from_slice(item);
        }
        f.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        f
    }

    fn limits() -> Limits {
        Limits {
            max_ratio: 1100,
            unbounded_ratio: 1 << 16,
            unbounded: HashSet::new(),
            frame_slack: 64 << 10,
            max_frames: (1 << 31) - 1,
        }
    }

    fn planned(bytes: &[u8]) -> Option<FilePlan> {
        plan_file(bytes, ParseOptions::default(), &limits(), false)
    }

    const RLE: &str = "1.2.840.10008.1.2.5";

    #[test]
    fn a_plain_file_is_planned_and_decodes() {
        let bytes = file(RLE, &[]);
        let p = planned(&bytes).expect("planned").plan;
        assert_eq!(p.syntax.uid, RLE);
        assert_eq!(
            (p.info.rows, p.info.columns, p.info.bits_allocated),
            (2, 2, 8)
        );
        assert_eq!(p.frames.len(), 1);
        let (off, len) = p.frames[0][0];
        assert_eq!(len, 70);
        let mut out = [0u8; 4];
        let codec = p.syntax.codec.expect("RLE codec");
        let frame = &bytes[off as usize..(off + len) as usize];
        codec.decode(frame, &p.info, &mut out).expect("decodes");
        assert_eq!(out, [1, 2, 3, 4]);
        // Number of Frames "1 " and an explicit Planar Configuration change nothing.
        let same = file(
            RLE,
            &[(0x0028_0008, b"IS", b"1 "), (0x0028_0006, b"US", &[0, 0])],
        );
        assert_eq!(planned(&same).expect("planned").plan.frames.len(), 1);
    }

    #[test]
    fn anything_unusual_is_left_to_the_python_path() {
        let two_values = [2u8, 0, 2, 0];
        for extra in [
            (0x0028_0010, b"US", &two_values[..]), // Rows with two values
            (0x0028_0010, b"SS", &[2u8, 0][..]),   // Rows not US
            (0x0028_0008, b"IS", &b"x "[..]),      // Number of Frames not a number
            (0x0028_0008, b"IS", &b"-1"[..]),      // negative
            (0x0028_0008, b"IS", &b"1\\2 "[..]),   // two values
            (0x0028_0100, b"US", &12u16.to_le_bytes()[..]), // bits the codecs refuse
        ] {
            assert!(planned(&file(RLE, &[extra])).is_none(), "{extra:?}");
        }
        // Native, unknown and codec-less syntaxes.
        for ts in ["1.2.840.10008.1.2.1", "1.2.3.4", "1.2.840.10008.1.2.4.100"] {
            assert!(planned(&file(ts, &[])).is_none(), "{ts}");
        }
        // More frames than the value can hold.
        assert!(planned(&file(RLE, &[(0x0028_0008, b"IS", b"99")])).is_none());
    }
}
