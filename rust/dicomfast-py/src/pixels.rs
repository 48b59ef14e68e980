//! Pixel data decoding and encoding for Python: `dicomfast-codec` behind buffer-protocol
//! functions. Decoders write every frame straight into one caller-allocated array (numpy's
//! layout: little-endian elements, samples last), frames in parallel with the GIL released.
//!
//! Errors are `dicomfast.errors.PixelDataError` with the 0-based `frame` and the byte `offset`
//! (in the buffer the caller passed: the file for encapsulated data read from a file).

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock};

use dicomfast_codec::{
    self as codec, frame_size_bytes, native_frame_size_bytes, CodecError, FrameInfo,
};
use pyo3::buffer::PyUntypedBuffer;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use rayon::prelude::*;

mod to_file;

const PIXEL_DATA: u32 = 0x7FE0_0010;
const RLE: &str = "1.2.840.10008.1.2.5";
const JPEG_LOSSLESS: &str = "1.2.840.10008.1.2.4.57";
const JPEG_LOSSLESS_SV1: &str = "1.2.840.10008.1.2.4.70";
const DEFLATED_IMAGE: &str = "1.2.840.10008.1.2.8.1";
const NATIVE_LE: [&str; 3] = [
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.1.99",
];
const NATIVE_BE: &str = "1.2.840.10008.1.2.2";

/// The codec a transfer syntax's encapsulated frames need.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Codec {
    Rle,
    Jpeg,
    Deflate,
}

fn codec_for(ts: &str) -> Option<Codec> {
    match ts.trim_end_matches('\0').trim() {
        RLE => Some(Codec::Rle),
        JPEG_LOSSLESS | JPEG_LOSSLESS_SV1 => Some(Codec::Jpeg),
        DEFLATED_IMAGE => Some(Codec::Deflate),
        _ => None,
    }
}

/// A failure while decoding one frame: message and byte offset in the caller's buffer.
struct Failure {
    frame: usize,
    message: String,
    offset: Option<u64>,
}

/// `dicomfast.errors.PixelDataError(message, offset=, tag=(7FE0,0010), frame=)`.
fn pixel_error(
    py: Python<'_>,
    message: String,
    offset: Option<u64>,
    frame: Option<usize>,
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = py.import("dicomfast.errors")?.getattr("PixelDataError")?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("offset", offset)?;
        kwargs.set_item("tag", PIXEL_DATA)?;
        kwargs.set_item("frame", frame)?;
        Ok(PyErr::from_value(
            cls.call((message.clone(),), Some(&kwargs))?,
        ))
    };
    build().unwrap_or_else(|e| e)
}

fn failure_error(py: Python<'_>, f: Failure) -> PyErr {
    let mut message = format!("frame {}: {}", f.frame, f.message);
    if let (Some(o), true) = (f.offset, f.message.contains("offset")) {
        // The exception only adds "byte offset N" to messages that do not mention offsets.
        message.push_str(&format!(" (byte offset {o} in the source)"));
    }
    pixel_error(py, message, f.offset, Some(f.frame))
}

/// A buffer held for the duration of a call, with its bytes.
struct Held {
    buf: PyUntypedBuffer,
}

impl Held {
    fn get(obj: &Bound<'_, PyAny>, writable: bool, what: &str) -> PyResult<Self> {
        let py = obj.py();
        let buf = PyUntypedBuffer::get(obj)?;
        if !buf.is_c_contiguous() {
            return Err(pixel_error(
                py,
                format!("{what} must be C-contiguous"),
                None,
                None,
            ));
        }
        if writable && buf.readonly() {
            return Err(pixel_error(
                py,
                format!("{what} must be writable"),
                None,
                None,
            ));
        }
        Ok(Held { buf })
    }

    fn bytes(&self) -> &[u8] {
        let n = self.buf.len_bytes();
        if n == 0 {
            return &[];
        }
        // SAFETY: the buffer is C-contiguous and stays exported (so in place) while `self`
        // lives; dicomfast's sources are immutable (bytes, read-only mmaps, arrays).
        unsafe { std::slice::from_raw_parts(self.buf.buf_ptr() as *const u8, n) }
    }

    #[allow(clippy::mut_from_ref)]
    fn bytes_mut(&self) -> &mut [u8] {
        let n = self.buf.len_bytes();
        if n == 0 {
            return &mut [];
        }
        // SAFETY: checked writable and C-contiguous in `get`; the caller passes a fresh array
        // nothing else writes to during the call, and only one mutable view is ever made.
        unsafe { std::slice::from_raw_parts_mut(self.buf.buf_ptr() as *mut u8, n) }
    }
}

#[allow(clippy::too_many_arguments)]
fn frame_info(
    py: Python<'_>,
    rows: u32,
    columns: u32,
    samples_per_pixel: u16,
    bits_allocated: u16,
    bits_stored: u16,
    pixel_representation: u16,
    planar_configuration: u16,
    big_endian: bool,
    float: bool,
) -> PyResult<FrameInfo> {
    let info = FrameInfo {
        rows,
        columns,
        samples_per_pixel,
        bits_allocated,
        bits_stored,
        pixel_representation,
        planar_configuration,
        big_endian,
        float,
    };
    info.validate()
        .map_err(|e| pixel_error(py, e.to_string(), None, None))?;
    Ok(info)
}

/// Rayon pools by thread count, built once each.
fn pool(threads: usize) -> Option<Arc<rayon::ThreadPool>> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let mut pools = POOLS.get_or_init(Default::default).lock().ok()?;
    if let Some(p) = pools.get(&threads) {
        return Some(p.clone());
    }
    let p = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .ok()?,
    );
    pools.insert(threads, p.clone());
    Some(p)
}

/// Run `work(k, out_k)` for each frame `k` (`out` split in `fsize` chunks, the last one
/// possibly shorter), sequentially for one thread or one frame, else on rayon. Returns the
/// failure of the lowest frame.
fn for_each_frame<F>(
    out: &mut [u8],
    fsize: usize,
    threads: Option<usize>,
    work: F,
) -> Result<(), Failure>
where
    F: Fn(usize, &mut [u8]) -> Result<(), Failure> + Sync + Send,
{
    let nframes = out.len().div_ceil(fsize.max(1));
    let sequential = nframes <= 1
        || threads == Some(1)
        || rayon::current_num_threads() == 1 && threads.is_none();
    if sequential {
        for (k, o) in out.chunks_mut(fsize.max(1)).enumerate() {
            work(k, o)?;
        }
        return Ok(());
    }
    let mut run = move || {
        out.par_chunks_mut(fsize.max(1))
            .enumerate()
            .filter_map(|(k, o)| work(k, o).err())
            .min_by_key(|f| f.frame)
    };
    let first_failure = match threads.and_then(pool) {
        Some(p) => p.install(run),
        None => run(),
    };
    first_failure.map_or(Ok(()), Err)
}

/// Byte offset in the source of byte `at` of the frame's fragments laid end to end.
fn source_offset(fragments: &[(u64, u64)], at: usize) -> u64 {
    let mut rest = at as u64;
    for &(off, len) in fragments {
        if rest < len {
            return off + rest;
        }
        rest -= len;
    }
    fragments.last().map_or(at as u64, |&(o, l)| o + l)
}

/// Inflate one Deflated Image Frame (PS3.5 8.2.16: raw deflate, RFC 1951; a zlib wrapper is
/// accepted too) into `out`, which it must fill exactly.
fn inflate(data: &[u8], out: &mut [u8]) -> Result<(), CodecError> {
    let fill = |reader: &mut dyn Read, out: &mut [u8]| -> Result<usize, usize> {
        let mut n = 0;
        while n < out.len() {
            match reader.read(&mut out[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(_) => return Err(n),
            }
        }
        Ok(n)
    };
    let raw = fill(&mut flate2::read::DeflateDecoder::new(data), out);
    let got = match raw {
        Ok(n) => n,
        Err(n) => {
            let zlib_header = data.len() >= 2
                && data[0] & 0x0F == 8
                && (u16::from(data[0]) << 8 | u16::from(data[1])) % 31 == 0;
            if zlib_header {
                fill(&mut flate2::read::ZlibDecoder::new(data), out).unwrap_or_else(|n| n)
            } else {
                n
            }
        }
    };
    if got < out.len() {
        return Err(CodecError::Truncated {
            offset: data.len(),
            needed: out.len(),
        });
    }
    Ok(())
}

/// Decode one encapsulated frame made of `fragments` ((offset, length) in `src`) into `out`.
fn decode_encapsulated(
    kind: Codec,
    src: &[u8],
    fragments: &[(u64, u64)],
    info: &FrameInfo,
    frame: usize,
    out: &mut [u8],
) -> Result<(), Failure> {
    let fail = |message: String, offset: Option<u64>| Failure {
        frame,
        message,
        offset,
    };
    if fragments.is_empty() {
        return Err(fail("no fragments".into(), None));
    }
    let mut parts: Vec<&[u8]> = Vec::with_capacity(fragments.len());
    for &(off, len) in fragments {
        let end = off.checked_add(len).filter(|&e| e <= src.len() as u64);
        match end {
            Some(end) => parts.push(&src[off as usize..end as usize]),
            None => {
                return Err(fail(
                    format!("fragment of {len} bytes at byte {off} runs past the end of the data ({} bytes)", src.len()),
                    Some(off),
                ))
            }
        }
    }
    let joined;
    let data: &[u8] = if parts.len() == 1 {
        parts[0]
    } else {
        joined = parts.concat();
        &joined
    };
    let result = match kind {
        Codec::Rle => codec::rle::decode_frame(data, info, out),
        Codec::Jpeg => codec::jpeg::decode_frame(data, info, out),
        Codec::Deflate => {
            let mut native = vec![0u8; native_frame_size_bytes(info)];
            inflate(data, &mut native).and_then(|()| codec::decode_native_frame(&native, info, out))
        }
    };
    result.map_err(|e| {
        let offset = e.offset().map(|o| source_offset(fragments, o));
        fail(e.to_string(), offset.or(Some(fragments[0].0)))
    })
}

#[allow(clippy::manual_is_multiple_of)] // MSRV 1.85
fn check_out(py: Python<'_>, out: &[u8], fsize: usize, nframes: Option<usize>) -> PyResult<usize> {
    let ok = match nframes {
        Some(n) => Some(out.len()) == n.checked_mul(fsize),
        None => out.len() % fsize == 0,
    };
    if !ok || out.is_empty() {
        return Err(pixel_error(
            py,
            format!(
                "output array has {} bytes, not a whole number ({}) of {fsize}-byte frames",
                out.len(),
                nframes.map_or("any".into(), |n| n.to_string())
            ),
            None,
            None,
        ));
    }
    Ok(out.len() / fsize)
}

/// Decode encapsulated frames into `out`: `frames[k]` lists the `(offset, length)` of frame
/// k's fragment values in `source`; frame k fills bytes `k * frame_size ..` of `out`.
/// `first_frame` numbers the frames in errors. With `sink_fd` (an open file descriptor,
/// Unix), `out` is also written to it from its current position, the frames in order as
/// they are decoded (`codec::ordered`); an error of the write is an `OSError`.
#[pyfunction]
#[pyo3(signature = (source, frames, out, transfer_syntax, rows, columns, samples_per_pixel,
    bits_allocated, bits_stored, pixel_representation, threads=None, first_frame=0, sink_fd=None))]
#[allow(clippy::too_many_arguments)]
fn decode_frames_into(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    frames: Vec<Vec<(u64, u64)>>,
    out: &Bound<'_, PyAny>,
    transfer_syntax: &str,
    rows: u32,
    columns: u32,
    samples_per_pixel: u16,
    bits_allocated: u16,
    bits_stored: u16,
    pixel_representation: u16,
    threads: Option<usize>,
    first_frame: usize,
    sink_fd: Option<i32>,
) -> PyResult<()> {
    let Some(kind) = codec_for(transfer_syntax) else {
        return Err(pixel_error(
            py,
            format!("dicomfast cannot decode transfer syntax {transfer_syntax}"),
            None,
            None,
        ));
    };
    let info = frame_info(
        py,
        rows,
        columns,
        samples_per_pixel,
        bits_allocated,
        bits_stored,
        pixel_representation,
        0,
        false,
        false,
    )?;
    let src = Held::get(source, false, "source")?;
    let dst = Held::get(out, true, "output array")?;
    let fsize = frame_size_bytes(&info);
    let out_bytes = dst.bytes_mut();
    check_out(py, out_bytes, fsize, Some(frames.len()))?;
    let src_bytes = src.bytes();
    let threads = threads.filter(|&t| t > 0);
    // JPEG Lossless frames two at a time (the two bit readers' lookups overlap) where every
    // thread still gets a pair. Measured on 2 cores, 20 colour frames: 16-24 ms by pairs,
    // 19-24 ms by single frames (the VM's speed varies; pairs were never slower by more
    // than 2%).
    let workers = threads.unwrap_or_else(rayon::current_num_threads).max(1);
    let pairs = kind == Codec::Jpeg && frames.len() >= 2 * workers;
    if let Some(fd) = sink_fd {
        if fd < 0 {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "sink_fd must be an open file descriptor, not {fd}"
            )));
        }
        let job = if pairs { 2 * fsize } else { fsize };
        let result = py.detach(|| {
            to_file::decode_and_write(out_bytes, job, workers, fd, |j, o| {
                if pairs {
                    decode_jpeg_pair(src_bytes, &frames, &info, first_frame, 2 * j, o)
                } else {
                    decode_encapsulated(kind, src_bytes, &frames[j], &info, first_frame + j, o)
                }
            })
        });
        return match result {
            Ok(()) => Ok(()),
            Err(codec::ordered::Stopped::Job(_, f)) => Err(failure_error(py, f)),
            Err(codec::ordered::Stopped::Io(e)) => Err(e.into()),
        };
    }
    let result = py.detach(|| {
        if pairs {
            for_each_frame(out_bytes, 2 * fsize, threads, |p, o| {
                decode_jpeg_pair(src_bytes, &frames, &info, first_frame, 2 * p, o)
            })
        } else {
            for_each_frame(out_bytes, fsize, threads, |k, o| {
                decode_encapsulated(kind, src_bytes, &frames[k], &info, first_frame + k, o)
            })
        }
    });
    result.map_err(|f| failure_error(py, f))
}

/// The frame's data when it is one fragment within the source.
fn one_fragment<'s>(src: &'s [u8], fragments: &[(u64, u64)]) -> Option<&'s [u8]> {
    match fragments {
        [(off, len)] => src.get(usize::try_from(*off).ok()?..usize::try_from(off + len).ok()?),
        _ => None,
    }
}

/// JPEG Lossless frames `k` and `k + 1` into `out` (two frames long, or one for the last of
/// an odd count): decoded together when both are of the common simple form
/// (`codec::jpeg::decode_frame_pair`), else one by one, which reports any error.
fn decode_jpeg_pair(
    src: &[u8],
    frames: &[Vec<(u64, u64)>],
    info: &FrameInfo,
    first_frame: usize,
    k: usize,
    out: &mut [u8],
) -> Result<(), Failure> {
    let fsize = frame_size_bytes(info);
    if out.len() < 2 * fsize || k + 1 >= frames.len() {
        return decode_encapsulated(Codec::Jpeg, src, &frames[k], info, first_frame + k, out);
    }
    let (out_a, out_b) = out.split_at_mut(fsize);
    if let (Some(a), Some(b)) = (
        one_fragment(src, &frames[k]),
        one_fragment(src, &frames[k + 1]),
    ) {
        if codec::jpeg::decode_frame_pair(a, b, info, out_a, out_b) {
            return Ok(());
        }
    }
    decode_encapsulated(Codec::Jpeg, src, &frames[k], info, first_frame + k, out_a)?;
    decode_encapsulated(
        Codec::Jpeg,
        src,
        &frames[k + 1],
        info,
        first_frame + k + 1,
        out_b,
    )
}

/// Unpack native (uncompressed) frames from `data` (the whole Pixel Data value) into `out`:
/// frames `first_frame ..` as many as `out` holds. `ybr422`: 8-bit YBR_FULL_422 data stored
/// two bytes per pixel, expanded to three samples.
#[pyfunction]
#[pyo3(signature = (data, out, rows, columns, samples_per_pixel, bits_allocated, bits_stored,
    pixel_representation, planar_configuration=0, big_endian=false, float=false, ybr422=false,
    first_frame=0, threads=None))]
#[allow(clippy::too_many_arguments)]
fn decode_native_into(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    out: &Bound<'_, PyAny>,
    rows: u32,
    columns: u32,
    samples_per_pixel: u16,
    bits_allocated: u16,
    bits_stored: u16,
    pixel_representation: u16,
    planar_configuration: u16,
    big_endian: bool,
    float: bool,
    ybr422: bool,
    first_frame: usize,
    threads: Option<usize>,
) -> PyResult<()> {
    let info = frame_info(
        py,
        rows,
        columns,
        samples_per_pixel,
        bits_allocated,
        bits_stored,
        pixel_representation,
        planar_configuration,
        big_endian,
        float,
    )?;
    let src = Held::get(data, false, "pixel data")?;
    let dst = Held::get(out, true, "output array")?;
    let fsize = frame_size_bytes(&info);
    let out_bytes = dst.bytes_mut();
    let nframes = check_out(py, out_bytes, fsize, None)?;
    let src_bytes = src.bytes();
    // Bits per stored frame.
    let frame_bits = if bits_allocated == 1 {
        (info.rows as u64) * (info.columns as u64)
    } else if ybr422 {
        (info.rows as u64) * (info.columns as u64) * 2 * 8
    } else {
        native_frame_size_bytes(&info) as u64 * 8
    };
    let needed_bits = frame_bits.saturating_mul((first_frame + nframes) as u64);
    let have = src_bytes.len() as u64;
    if needed_bits.div_ceil(8) > have {
        let last = (have * 8 / frame_bits.max(1)) as usize;
        return Err(pixel_error(
            py,
            format!(
                "native pixel data has {have} bytes, {} frames of {rows}x{columns}x{samples_per_pixel} \
                 at {bits_allocated} bits need {}",
                first_frame + nframes,
                needed_bits.div_ceil(8)
            ),
            Some(have),
            Some(last.max(first_frame)),
        ));
    }
    let threads = threads.filter(|&t| t > 0);
    let result = py.detach(|| {
        for_each_frame(out_bytes, fsize, threads, |k, o| {
            let frame = first_frame + k;
            let bit = frame_bits as usize * frame;
            let r = if ybr422 {
                let start = bit / 8;
                codec::expand_ybr_full_422(&src_bytes[start..], &info, o)
            } else {
                codec::decode_native_frame_at_bit(src_bytes, bit, &info, o)
            };
            r.map_err(|e| Failure {
                frame,
                message: e.to_string(),
                offset: e.offset().map(|o| o as u64),
            })
        })
    });
    result.map_err(|f| failure_error(py, f))
}

/// Decode one frame (compressed bytes of an encapsulated syntax, or one native frame) and
/// return it as bytes in numpy's layout (little-endian, samples last).
#[pyfunction]
#[pyo3(signature = (data, rows, columns, samples_per_pixel, bits_allocated, bits_stored,
    pixel_representation, planar_configuration, transfer_syntax))]
#[allow(clippy::too_many_arguments)]
fn decode_frame<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    rows: u32,
    columns: u32,
    samples_per_pixel: u16,
    bits_allocated: u16,
    bits_stored: u16,
    pixel_representation: u16,
    planar_configuration: u16,
    transfer_syntax: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let ts = transfer_syntax.trim_end_matches('\0').trim();
    let native = NATIVE_LE.contains(&ts) || ts == NATIVE_BE || ts == "1.2.840.10008.1.2.1.99";
    let kind = codec_for(ts);
    if !native && kind.is_none() {
        return Err(pixel_error(
            py,
            format!("dicomfast cannot decode transfer syntax {ts}"),
            None,
            Some(0),
        ));
    }
    let info = frame_info(
        py,
        rows,
        columns,
        samples_per_pixel,
        bits_allocated,
        bits_stored,
        pixel_representation,
        planar_configuration,
        ts == NATIVE_BE,
        false,
    )?;
    let src = Held::get(data, false, "data")?;
    let src_bytes = src.bytes();
    let fsize = frame_size_bytes(&info);
    if native && src_bytes.len() < native_frame_size_bytes(&info) {
        return Err(pixel_error(
            py,
            format!(
                "frame 0: {} bytes of native data, the frame needs {}",
                src_bytes.len(),
                native_frame_size_bytes(&info)
            ),
            Some(src_bytes.len() as u64),
            Some(0),
        ));
    }
    // Compressed data cannot expand without bound: refuse absurd sizes before allocating.
    if !native && fsize / 1100 > src_bytes.len().saturating_add(1 << 16) {
        return Err(pixel_error(
            py,
            format!(
                "frame 0: {} compressed bytes cannot hold a {fsize}-byte frame",
                src_bytes.len()
            ),
            Some(0),
            Some(0),
        ));
    }
    let out = py.detach(|| {
        let mut out = vec![0u8; fsize];
        let r = match kind {
            Some(k) => decode_encapsulated(
                k,
                src_bytes,
                &[(0, src_bytes.len() as u64)],
                &info,
                0,
                &mut out,
            ),
            None => codec::decode_native_frame(src_bytes, &info, &mut out).map_err(|e| Failure {
                frame: 0,
                message: e.to_string(),
                offset: e.offset().map(|o| o as u64),
            }),
        };
        r.map(|()| out)
    });
    match out {
        Ok(v) => Ok(PyBytes::new(py, &v)),
        Err(f) => Err(failure_error(py, f)),
    }
}

fn encode_one(
    kind: Codec,
    src: &[u8],
    info: &FrameInfo,
    predictor: u8,
) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    encode_one_into(kind, src, info, predictor, &mut out)?;
    Ok(out)
}

/// Encode one frame into `out` (its contents replaced, its capacity reused).
fn encode_one_into(
    kind: Codec,
    src: &[u8],
    info: &FrameInfo,
    predictor: u8,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    match kind {
        Codec::Rle => codec::rle::encode_frame_into(src, info, out),
        Codec::Jpeg => codec::jpeg::encode_frame_into(src, info, predictor, out),
        Codec::Deflate => {
            let mut native = vec![0u8; native_frame_size_bytes(info)];
            if info.bits_allocated == 1 {
                codec_pack_bits(src, &mut native);
            } else {
                native.copy_from_slice(src);
            }
            out.clear();
            let mut e = flate2::write::DeflateEncoder::new(
                std::mem::take(out),
                flate2::Compression::default(),
            );
            std::io::Write::write_all(&mut e, &native).expect("writing to a Vec");
            *out = e.finish().expect("writing to a Vec");
            Ok(())
        }
    }
}

/// [`encode_one_into`] into the first bytes of `out` (returns how many), which is never
/// shrunk: a reused buffer is not zero-filled again where an RLE frame is encoded.
fn encode_one_in(
    kind: Codec,
    src: &[u8],
    info: &FrameInfo,
    predictor: u8,
    out: &mut Vec<u8>,
) -> Result<usize, CodecError> {
    match kind {
        Codec::Rle => codec::rle::encode_frame_in(src, info, out),
        _ => encode_one_into(kind, src, info, predictor, out).map(|()| out.len()),
    }
}

/// Buffers that encoded frames were written into, kept between calls: each frame is
/// encoded into one and copied out, so that encoding file after file reuses memory the
/// process has rather than faulting fresh pages in for every frame.
static FRAME_BUFFERS: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// At most this many bytes of capacity are kept in [`FRAME_BUFFERS`].
const KEEP_FRAME_BUFFERS: usize = 64 << 20;

/// `n` buffers for encoded frames, from the kept ones first.
fn take_frame_buffers(n: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(n);
    if let Ok(mut kept) = FRAME_BUFFERS.lock() {
        while out.len() < n {
            match kept.pop() {
                Some(b) => out.push(b),
                None => break,
            }
        }
    }
    out.resize_with(n, Vec::new);
    out
}

/// Keep `bufs` for later calls, up to [`KEEP_FRAME_BUFFERS`] bytes in all.
fn keep_frame_buffers(bufs: Vec<Vec<u8>>) {
    if let Ok(mut kept) = FRAME_BUFFERS.lock() {
        let mut total: usize = kept.iter().map(Vec::capacity).sum();
        for b in bufs {
            if total + b.capacity() > KEEP_FRAME_BUFFERS {
                break;
            }
            total += b.capacity();
            kept.push(b);
        }
    }
}

/// One byte per pixel (bit 0) to packed bits, least significant bit first (PS3.5 8.1.1).
fn codec_pack_bits(src: &[u8], out: &mut [u8]) {
    for (o, chunk) in out.iter_mut().zip(src.chunks(8)) {
        *o = chunk
            .iter()
            .enumerate()
            .fold(0u8, |acc, (i, &b)| acc | ((b & 1) << i));
    }
}

fn encoder_setup(py: Python<'_>, transfer_syntax: &str, predictor: u8) -> PyResult<Codec> {
    let ts = transfer_syntax.trim_end_matches('\0').trim();
    let kind = codec_for(ts).ok_or_else(|| {
        pixel_error(
            py,
            format!("dicomfast cannot encode transfer syntax {ts}"),
            None,
            None,
        )
    })?;
    if ts == JPEG_LOSSLESS_SV1 && predictor != 1 {
        return Err(pixel_error(
            py,
            format!(
                "transfer syntax {ts} (JPEG Lossless SV1) requires predictor 1, not {predictor}"
            ),
            None,
            None,
        ));
    }
    Ok(kind)
}

/// Encode one frame given in numpy's layout (little-endian elements, samples interleaved;
/// 1-bit data one byte per pixel) for an encapsulated transfer syntax; returns the frame's
/// compressed bytes (not padded to even length).
#[pyfunction]
#[pyo3(signature = (data, rows, columns, samples_per_pixel, bits_allocated, bits_stored,
    pixel_representation, transfer_syntax, predictor=1))]
#[allow(clippy::too_many_arguments)]
fn encode_frame<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    rows: u32,
    columns: u32,
    samples_per_pixel: u16,
    bits_allocated: u16,
    bits_stored: u16,
    pixel_representation: u16,
    transfer_syntax: &str,
    predictor: u8,
) -> PyResult<Bound<'py, PyBytes>> {
    let input = EncodeInput::get(
        py,
        data,
        rows,
        columns,
        samples_per_pixel,
        bits_allocated,
        bits_stored,
        pixel_representation,
        transfer_syntax,
        predictor,
    )?;
    let (kind, info, src_bytes) = (input.kind, input.info, input.src.bytes());
    let r = py.detach(|| encode_one(kind, src_bytes, &info, predictor));
    match r {
        Ok(v) => Ok(PyBytes::new(py, &v)),
        Err(e) => Err(pixel_error(py, format!("frame 0: {e}"), None, Some(0))),
    }
}

/// Check that `src` holds whole frames of `fsize` bytes; the frame count.
#[allow(clippy::manual_is_multiple_of)] // MSRV 1.85
fn whole_frames(py: Python<'_>, src: &[u8], fsize: usize) -> PyResult<usize> {
    if src.is_empty() || src.len() % fsize != 0 {
        return Err(pixel_error(
            py,
            format!(
                "{} bytes of pixels are not a whole number of {fsize}-byte frames",
                src.len()
            ),
            None,
            None,
        ));
    }
    Ok(src.len() / fsize)
}

/// Encode the `fsize`-byte frames of `src`, in parallel unless `threads` is 1 (call with the
/// GIL released).
fn encode_all(
    kind: Codec,
    src: &[u8],
    fsize: usize,
    info: &FrameInfo,
    predictor: u8,
    threads: Option<usize>,
) -> Vec<Result<Vec<u8>, CodecError>> {
    let nframes = src.len() / fsize;
    let bufs = take_frame_buffers(nframes);
    let one = |(f, mut b): (&[u8], Vec<u8>)| {
        encode_one_into(kind, f, info, predictor, &mut b).map(|()| b)
    };
    if nframes <= 1 || threads == Some(1) {
        return src.chunks_exact(fsize).zip(bufs).map(one).collect();
    }
    let run = || src.par_chunks_exact(fsize).zip(bufs).map(one).collect();
    match threads.and_then(pool) {
        Some(p) => p.install(run),
        None => run(),
    }
}

/// Encode every frame of `data` (frames back to back in numpy's layout), in parallel with
/// the GIL released; returns one bytes object per frame.
#[pyfunction]
#[pyo3(signature = (data, rows, columns, samples_per_pixel, bits_allocated, bits_stored,
    pixel_representation, transfer_syntax, predictor=1, threads=None))]
#[allow(clippy::too_many_arguments)]
fn encode_frames<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    rows: u32,
    columns: u32,
    samples_per_pixel: u16,
    bits_allocated: u16,
    bits_stored: u16,
    pixel_representation: u16,
    transfer_syntax: &str,
    predictor: u8,
    threads: Option<usize>,
) -> PyResult<Vec<Bound<'py, PyBytes>>> {
    let frames = encode_checked(
        py,
        data,
        rows,
        columns,
        samples_per_pixel,
        bits_allocated,
        bits_stored,
        pixel_representation,
        transfer_syntax,
        predictor,
        threads,
    )?;
    let out = frames.iter().map(|v| PyBytes::new(py, v)).collect();
    keep_frame_buffers(frames);
    Ok(out)
}

/// What the frame encoders are given: the codec, the frames' layout and `data` held, which
/// holds whole frames.
struct EncodeInput {
    kind: Codec,
    info: FrameInfo,
    src: Held,
    fsize: usize,
    nframes: usize,
}

impl EncodeInput {
    #[allow(clippy::too_many_arguments)]
    fn get(
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        rows: u32,
        columns: u32,
        samples_per_pixel: u16,
        bits_allocated: u16,
        bits_stored: u16,
        pixel_representation: u16,
        transfer_syntax: &str,
        predictor: u8,
    ) -> PyResult<Self> {
        let kind = encoder_setup(py, transfer_syntax, predictor)?;
        let info = frame_info(
            py,
            rows,
            columns,
            samples_per_pixel,
            bits_allocated,
            bits_stored,
            pixel_representation,
            0,
            false,
            false,
        )?;
        let src = Held::get(data, false, "data")?;
        let fsize = frame_size_bytes(&info);
        let nframes = whole_frames(py, src.bytes(), fsize)?;
        Ok(Self {
            kind,
            info,
            src,
            fsize,
            nframes,
        })
    }
}

/// Encode every frame of `data` (frames back to back in numpy's layout) in parallel with the
/// GIL released: one buffer per frame, from the reused ones (hand them back with
/// `keep_frame_buffers`). The first failing frame is the error.
#[allow(clippy::too_many_arguments)]
fn encode_checked(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    rows: u32,
    columns: u32,
    samples_per_pixel: u16,
    bits_allocated: u16,
    bits_stored: u16,
    pixel_representation: u16,
    transfer_syntax: &str,
    predictor: u8,
    threads: Option<usize>,
) -> PyResult<Vec<Vec<u8>>> {
    let input = EncodeInput::get(
        py,
        data,
        rows,
        columns,
        samples_per_pixel,
        bits_allocated,
        bits_stored,
        pixel_representation,
        transfer_syntax,
        predictor,
    )?;
    let (kind, info, fsize, src_bytes) = (input.kind, input.info, input.fsize, input.src.bytes());
    let threads = threads.filter(|&t| t > 0);
    let results = py.detach(|| encode_all(kind, src_bytes, fsize, &info, predictor, threads));
    let mut frames = Vec::with_capacity(results.len());
    for (k, r) in results.into_iter().enumerate() {
        match r {
            Ok(v) => frames.push(v),
            Err(e) => return Err(pixel_error(py, format!("frame {k}: {e}"), None, Some(k))),
        }
    }
    Ok(frames)
}

/// Item tag (FFFE,E000) and sequence delimiter (FFFE,E0DD), little endian (PS3.5 7.5, A.4).
const ITEM_TAG: [u8; 4] = [0xFE, 0xFF, 0x00, 0xE0];
const SEQUENCE_DELIMITER: [u8; 4] = [0xFE, 0xFF, 0xDD, 0xE0];

/// Byte offset of each frame's item after the Basic Offset Table item (PS3.5 A.4: from the
/// first byte of the first fragment's item tag), and the length of the whole value.
fn encapsulated_layout(lengths: impl ExactSizeIterator<Item = usize>) -> (Vec<u64>, u64) {
    let mut offsets = Vec::with_capacity(lengths.len());
    let mut pos = 0u64;
    for n in lengths {
        offsets.push(pos);
        pos += 8 + n as u64 + (n as u64 & 1);
    }
    let total = 8 + 4 * offsets.len() as u64 + pos + 8;
    (offsets, total)
}

/// Write the encapsulated value into `out` (exactly the layout's length): the Basic Offset
/// Table item, one item per frame padded with a zero byte to even length, the delimiter.
fn write_encapsulated(frames: &[Vec<u8>], offsets: &[u64], out: &mut [u8], parallel: bool) {
    let bot_len = 4 * frames.len();
    out[..4].copy_from_slice(&ITEM_TAG);
    out[4..8].copy_from_slice(&(bot_len as u32).to_le_bytes());
    for (slot, &o) in out[8..8 + bot_len].chunks_exact_mut(4).zip(offsets) {
        slot.copy_from_slice(&(o as u32).to_le_bytes());
    }
    let mut rest = &mut out[8 + bot_len..];
    let mut items: Vec<(&mut [u8], &[u8])> = Vec::with_capacity(frames.len());
    for f in frames {
        let (item, tail) = rest.split_at_mut(8 + f.len() + (f.len() & 1));
        items.push((item, f));
        rest = tail;
    }
    rest[..4].copy_from_slice(&SEQUENCE_DELIMITER);
    rest[4..8].fill(0);
    let put = |(item, f): (&mut [u8], &[u8])| {
        item[..4].copy_from_slice(&ITEM_TAG);
        let len = (item.len() - 8) as u32;
        item[4..8].copy_from_slice(&len.to_le_bytes());
        item[8..8 + f.len()].copy_from_slice(f);
        item[8 + f.len()..].fill(0);
    };
    if parallel {
        items.into_par_iter().for_each(put);
    } else {
        items.into_iter().for_each(put);
    }
}

/// Encode every frame of `data` (frames back to back in numpy's layout), in parallel with
/// the GIL released, as one encapsulated Pixel Data value (PS3.5 A.4): a Basic Offset Table
/// item, one item per frame (padded to even length) and the sequence delimiter.
/// `allocate(n)` is called once with the value's length and must return a writable
/// C-contiguous buffer of exactly `n` bytes; it is filled and returned (so the caller
/// chooses where the value lives: a new array, or a buffer it reuses).
#[pyfunction]
#[pyo3(signature = (data, rows, columns, samples_per_pixel, bits_allocated, bits_stored,
    pixel_representation, transfer_syntax, allocate, predictor=1, threads=None))]
#[allow(clippy::too_many_arguments)]
fn encode_frames_encapsulated<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    rows: u32,
    columns: u32,
    samples_per_pixel: u16,
    bits_allocated: u16,
    bits_stored: u16,
    pixel_representation: u16,
    transfer_syntax: &str,
    allocate: &Bound<'py, PyAny>,
    predictor: u8,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let frames = encode_checked(
        py,
        data,
        rows,
        columns,
        samples_per_pixel,
        bits_allocated,
        bits_stored,
        pixel_representation,
        transfer_syntax,
        predictor,
        threads,
    )?;
    let threads = threads.filter(|&t| t > 0);
    let (offsets, total) = encapsulated_layout(frames.iter().map(Vec::len));
    let items_len = total - 16 - 4 * frames.len() as u64;
    if items_len > u64::from(u32::MAX) {
        return Err(pixel_error(
            py,
            "encapsulated frames exceed 4 GiB: the Basic Offset Table cannot address them".into(),
            None,
            None,
        ));
    }
    let obj = allocate.call1((total,))?;
    let dst = Held::get(&obj, true, "allocated buffer")?;
    let out = dst.bytes_mut();
    if out.len() as u64 != total {
        return Err(pixel_error(
            py,
            format!("allocate({total}) returned a buffer of {} bytes", out.len()),
            None,
            None,
        ));
    }
    let parallel = frames.len() > 1 && threads != Some(1);
    py.detach(|| match threads.filter(|_| parallel).and_then(pool) {
        Some(p) => p.install(|| write_encapsulated(&frames, &offsets, out, parallel)),
        None => write_encapsulated(&frames, &offsets, out, parallel),
    });
    drop(dst);
    keep_frame_buffers(frames);
    Ok(obj)
}

/// Check an image's frame description (rows, columns, samples, bits, sign, planar
/// configuration) against the rules every codec relies on; raises `PixelDataError`.
#[pyfunction]
#[pyo3(signature = (rows, columns, samples_per_pixel, bits_allocated, bits_stored,
    pixel_representation, planar_configuration, float))]
#[allow(clippy::too_many_arguments)]
fn check_frame_info(
    py: Python<'_>,
    rows: u32,
    columns: u32,
    samples_per_pixel: u16,
    bits_allocated: u16,
    bits_stored: u16,
    pixel_representation: u16,
    planar_configuration: u16,
    float: bool,
) -> PyResult<()> {
    frame_info(
        py,
        rows,
        columns,
        samples_per_pixel,
        bits_allocated,
        bits_stored,
        pixel_representation,
        planar_configuration,
        false,
        float,
    )
    .map(|_| ())
}

/// Transfer syntaxes whose encapsulated frames `decode_frames_into` decodes.
#[pyfunction]
fn supported_transfer_syntaxes() -> Vec<&'static str> {
    vec![RLE, JPEG_LOSSLESS, JPEG_LOSSLESS_SV1, DEFLATED_IMAGE]
}

/// Frame header of a JPEG stream: `(sof_marker, precision, rows, columns, components,
/// predictor, point_transform)`.
#[pyfunction]
fn jpeg_header(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
) -> PyResult<(u8, u8, u16, u16, u8, u8, u8)> {
    let src = Held::get(data, false, "data")?;
    let h = codec::jpeg::read_header(src.bytes())
        .map_err(|e| pixel_error(py, e.to_string(), e.offset().map(|o| o as u64), None))?;
    Ok((
        h.sof,
        h.precision,
        h.rows,
        h.columns,
        h.components,
        h.predictor,
        h.point_transform,
    ))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(decode_frames_into, m)?)?;
    m.add_function(wrap_pyfunction!(decode_native_into, m)?)?;
    m.add_function(wrap_pyfunction!(decode_frame, m)?)?;
    m.add_function(wrap_pyfunction!(encode_frame, m)?)?;
    m.add_function(wrap_pyfunction!(encode_frames, m)?)?;
    m.add_function(wrap_pyfunction!(encode_frames_encapsulated, m)?)?;
    #[cfg(unix)]
    m.add_function(wrap_pyfunction!(to_file::encode_frames_to_fd, m)?)?;
    m.add_function(wrap_pyfunction!(supported_transfer_syntaxes, m)?)?;
    m.add_function(wrap_pyfunction!(check_frame_info, m)?)?;
    m.add_function(wrap_pyfunction!(jpeg_header, m)?)?;
    Ok(())
}
