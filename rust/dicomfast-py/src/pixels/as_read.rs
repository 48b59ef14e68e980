//! File to array in one call: for a data set as read (nothing looked at or changed), the
//! Image Pixel attributes, the transfer syntax and the encapsulated frames' fragments are
//! found in the file's index, the array allocated (`numpy.empty`, final shape) and every
//! frame decoded into it with the GIL released: what `dicomfast.pixels.info.pixel_info`,
//! `frames.encapsulated_data` and `decode.decode_frames` do in Python, without building
//! their Python objects.
//!
//! The Python path stays the one definition: wherever its result is not certain here (a
//! value that is not one plain US or IS, an attribute the codecs reject, data too short
//! for the frames, native pixel data, no codec, fragments that cannot be located) this
//! gives None and the caller goes the usual way, which gives the array or raises as it
//! always did. Only the decoding itself fails here, as `decode_frames_into` fails.

use std::collections::HashSet;

use dicomfast_codec::pipeline::{self, Fragments};
use dicomfast_codec::registry;
use dicomfast_codec::{frame_size_bytes, FrameInfo};
use dicomfast_core::frames::{frame_fragments, OffsetTable};
use dicomfast_core::index::{flags, Children, Index, Node, NONE};
use dicomfast_core::value;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyTuple;

use super::{stopped_error, threads_of, Held};
use crate::raw::RawFile;

/// What the Python side decides about sizes (`dicomfast.pixels.info`), handed over once
/// by `configure_pixel_array_as_read`: the one definition stays there.
struct Limits {
    max_ratio: u64,
    unbounded_ratio: u64,
    unbounded: HashSet<String>,
    frame_slack: u64,
    max_frames: u64,
    /// `numpy.empty`, and the dtypes `<u1 <i1 <u2 <i2 <u4 <i4 <u8 <i8` in that order.
    empty: Py<PyAny>,
    dtypes: Vec<Py<PyAny>>,
}

static LIMITS: PyOnceLock<Limits> = PyOnceLock::new();

/// Hand over `dicomfast.pixels.info`'s limits and numpy's allocator (once; later calls
/// change nothing). Until then `pixel_array_as_read` gives None.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub(super) fn configure_pixel_array_as_read(
    py: Python<'_>,
    max_ratio: u64,
    unbounded_ratio: u64,
    unbounded: HashSet<String>,
    frame_slack: u64,
    max_frames: u64,
    empty: Py<PyAny>,
    dtypes: Vec<Py<PyAny>>,
) -> PyResult<()> {
    if dtypes.len() != 8 {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "dtypes: u1 i1 u2 i2 u4 i4 u8 i8",
        ));
    }
    let _ = LIMITS.get_or_init(py, || Limits {
        max_ratio,
        unbounded_ratio,
        unbounded,
        frame_slack,
        max_frames,
        empty,
        dtypes,
    });
    Ok(())
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
const CONTEXTUAL: u16 = flags::SEQUENCE
    | flags::ITEM
    | flags::ENCAPSULATED
    | flags::FRAGMENT
    | flags::AMBIGUOUS_VR
    | flags::UN_SEQUENCE;

/// The children of `parent` as `RawFile.find` takes them (-1: the top level without the
/// file meta group, -2: the file meta group; a node past the index: none).
fn children(index: &Index, meta_nodes: u32, parent: i64) -> Children<'_> {
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

fn value_of<'a>(buf: &'a [u8], n: &Node) -> Option<&'a [u8]> {
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
/// when `meta` is its node and the value is there, else the one the file was parsed with.
fn transfer_syntax(
    raw: &Bound<'_, RawFile>,
    buf: &[u8],
    index: &Index,
    meta_nodes: u32,
    meta: Option<i64>,
) -> PyResult<Option<String>> {
    if let Some(m) = meta {
        let found = children(index, meta_nodes, m)
            .filter(|&i| index.nodes[i as usize].tag == TRANSFER_SYNTAX_UID)
            .last();
        if let Some(i) = found {
            let n = &index.nodes[i as usize];
            if n.flags & CONTEXTUAL != 0 || &n.vr != b"UI" {
                return Ok(None);
            }
            let Some(v) = value_of(buf, n) else {
                return Ok(None);
            };
            if !v.is_ascii() || v.contains(&b'\\') {
                return Ok(None);
            }
            let s = std::str::from_utf8(v)
                .unwrap_or("")
                .trim_matches([' ', '\0']);
            if !s.is_empty() {
                return Ok(Some(s.to_string()));
            }
        }
    }
    let ts: String = raw.getattr("transfer_syntax")?.extract()?;
    Ok(Some(ts.trim_end_matches(['\0', ' ']).to_string()))
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

/// Everything of a decode but the decoding, found in the index.
struct Plan {
    uid: String,
    info: FrameInfo,
    frames: Vec<Vec<(u64, u64)>>,
}

fn plan(
    raw: &Bound<'_, RawFile>,
    limits: &Limits,
    parent: i64,
    meta: Option<i64>,
    as_rgb: bool,
) -> PyResult<Option<Plan>> {
    let file = raw.get();
    let (buf, index, meta_nodes, ..) = file.parsed();
    let mut at: [Option<u32>; WANTED.len()] = [None; WANTED.len()];
    for i in children(index, meta_nodes, parent) {
        let tag = index.nodes[i as usize].tag;
        if let Some(k) = WANTED.iter().position(|&t| t == tag) {
            at[k] = Some(i);
        }
    }
    let [rows, columns, samples, bits_allocated, bits_stored, pr, planar, nframes, pixels, eot] =
        at;
    let Some(pixels) = pixels else {
        return Ok(None);
    };
    let values = (
        us(buf, index, rows),
        us(buf, index, columns),
        us(buf, index, samples),
        us(buf, index, bits_allocated),
        us(buf, index, bits_stored),
        us(buf, index, pr),
        us(buf, index, planar),
    );
    let (
        Some(Some(rows)),
        Some(Some(columns)),
        Some(samples),
        Some(Some(bits_allocated)),
        Some(bits_stored),
        Some(pr),
        Some(planar),
    ) = values
    else {
        return Ok(None);
    };
    let Some(nframes) = number_of_frames(buf, index, nframes, limits.max_frames) else {
        return Ok(None);
    };
    let samples = samples.filter(|&s| s != 0).unwrap_or(1);
    if as_rgb && samples == 3 {
        return Ok(None); // colour conversion: the Python path
    }
    let Some(uid) = transfer_syntax(raw, buf, index, meta_nodes, meta)? else {
        return Ok(None);
    };
    let t = registry::lookup(&uid);
    if !t.encapsulated || !t.can_decode() || t.codec.is_none() {
        return Ok(None);
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
    if info.validate().is_err() {
        return Ok(None);
    }
    let node = &index.nodes[pixels as usize];
    let available = node.end_offset.saturating_sub(node.value_offset);
    let fsize = frame_size_bytes(&info) as u64;
    if nframes > available / ITEM_HEADER || !fits(limits, &uid, nframes, fsize, available) {
        return Ok(None);
    }
    let eot = eot.map(|e| {
        let n = &index.nodes[e as usize];
        OffsetTable {
            offsets: value_of(buf, n).unwrap_or(&[]),
            big_endian: n.has(flags::BIG_ENDIAN),
        }
    });
    let Ok(found) = frame_fragments(buf, index, pixels, nframes as usize, eot) else {
        return Ok(None);
    };
    if (found.len() as u64) < nframes {
        return Ok(None);
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
        return Ok(None);
    }
    Ok(Some(Plan { uid, info, frames }))
}

/// Every frame of a data set as read, decoded into a new array shaped as pydicom's
/// `pixel_array` (no frame axis for one frame), or None where the Python path decides
/// (see the module's documentation). `parent`: the data set's node (-1: top level);
/// `meta`: its file meta group's node, None when it has none; `as_rgb`: a three-sample
/// frame is left to the Python path (colour conversion).
#[pyfunction]
#[pyo3(signature = (raw, parent=-1, meta=None, threads=None, as_rgb=false))]
pub(super) fn pixel_array_as_read<'py>(
    py: Python<'py>,
    raw: &Bound<'py, RawFile>,
    parent: i64,
    meta: Option<i64>,
    threads: Option<usize>,
    as_rgb: bool,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let Some(limits) = LIMITS.get(py) else {
        return Ok(None);
    };
    let Some(plan) = plan(raw, limits, parent, meta, as_rgb)? else {
        return Ok(None);
    };
    let Plan { uid, info, frames } = plan;
    let codec = registry::lookup(&uid)
        .codec
        .expect("plan() checked there is a codec");
    let mut shape: Vec<usize> = Vec::with_capacity(4);
    if frames.len() > 1 {
        shape.push(frames.len());
    }
    shape.extend([info.rows as usize, info.columns as usize]);
    if info.samples_per_pixel > 1 {
        shape.push(usize::from(info.samples_per_pixel));
    }
    let size = info.bytes_per_sample().trailing_zeros() as usize; // 1 2 4 8 -> 0 1 2 3
    let dtype = &limits.dtypes[2 * size + usize::from(info.pixel_representation)];
    let out = limits
        .empty
        .bind(py)
        .call1((PyTuple::new(py, shape)?, dtype.bind(py)))?;
    let dst = Held::get(&out, true, "output array")?;
    let out_bytes = dst.bytes_mut();
    let file = raw.get();
    let (source, ..) = file.parsed();
    let input = Fragments {
        source,
        frames: &frames,
        first_frame: 0,
    };
    let threads = threads_of(threads);
    py.detach(|| {
        pipeline::decode_frames::<std::fs::File>(codec, &input, &info, out_bytes, threads, None)
    })
    .map_err(|s| stopped_error(py, s))?;
    drop(dst);
    Ok(Some(out))
}
