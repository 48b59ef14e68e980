//! Pixel data decoding and encoding for Python: `dicomfast-codec`'s registry and frame
//! pipeline behind buffer-protocol functions. Nothing here names a codec or a transfer
//! syntax: the registry says which codec serves a UID. Decoders write every frame
//! straight into one caller-allocated array (numpy's layout: little-endian elements,
//! samples last), frames in parallel with the GIL released.
//!
//! Errors are `dicomfast.errors.PixelDataError` with the 0-based `frame` and the byte
//! `offset` (in the buffer the caller passed: the file for encapsulated data read from a
//! file).

use dicomfast_codec::ordered::Stopped;
use dicomfast_codec::pipeline::{self, Encapsulated, Failure, Fragments, Frames, Native};
use dicomfast_codec::registry::{self, TransferSyntax};
use dicomfast_codec::{
    self as codec, frame_size_bytes, native_frame_size_bytes, Codec, EncodeParams,
};
use pyo3::buffer::PyUntypedBuffer;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

mod as_read;
mod from_path;
mod image_info;
mod syntaxes;
mod to_file;

use image_info::ImageInfo;

const PIXEL_DATA: u32 = 0x7FE0_0010;

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
    pixel_error(py, f.message, f.offset, f.frame)
}

fn stopped_error(py: Python<'_>, s: Stopped<Failure>) -> PyErr {
    match s {
        Stopped::Job(_, f) => failure_error(py, f),
        Stopped::Io(e) => e.into(),
    }
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

fn threads_of(threads: Option<usize>) -> Option<usize> {
    threads.filter(|&t| t > 0)
}

/// The registry's row for `transfer_syntax`, its trimmed UID, and its codec (an error
/// naming the syntax when there is none).
fn decoder(
    py: Python<'_>,
    transfer_syntax: &str,
    frame: Option<usize>,
) -> PyResult<(TransferSyntax, Option<&'static dyn Codec>)> {
    let uid = transfer_syntax.trim_end_matches(['\0', ' ']);
    let t = registry::lookup(uid);
    if !t.can_decode() {
        return Err(pixel_error(
            py,
            format!("dicomfast cannot decode transfer syntax {uid} ({})", t.name),
            None,
            frame,
        ));
    }
    Ok((t, t.codec))
}

/// What the Python callers may ask of an encoder beyond the predictor (keyword arguments
/// `quality`, `max_error`, `ratio`, `colour_transform`).
#[derive(Clone, Copy)]
struct Lossy {
    quality: u8,
    max_error: u16,
    ratio: u16,
    colour_transform: bool,
}

/// The codec encoding `transfer_syntax`, with the parameters and the frames checked
/// against its rules.
fn encoder(
    py: Python<'_>,
    transfer_syntax: &str,
    frame: &codec::FrameInfo,
    predictor: u8,
    lossy: Lossy,
) -> PyResult<(&'static dyn Codec, EncodeParams)> {
    let uid = transfer_syntax.trim_end_matches(['\0', ' ']).trim();
    let t = registry::lookup(uid);
    let params = EncodeParams::with_predictor(predictor)
        .with_quality(lossy.quality)
        .with_max_error(lossy.max_error)
        .with_ratio(lossy.ratio)
        .with_colour_transform(lossy.colour_transform);
    match t.codec.filter(|_| t.can_encode()) {
        Some(c) => match c
            .check_params(&t, &params)
            .and_then(|()| c.check_frame(&t, frame))
        {
            Ok(()) => Ok((c, params)),
            Err(message) => Err(pixel_error(py, message, None, None)),
        },
        None => Err(pixel_error(
            py,
            format!("dicomfast cannot encode transfer syntax {uid}"),
            None,
            None,
        )),
    }
}

/// Decode encapsulated frames into `out`: `frames[k]` lists the `(offset, length)` of frame
/// k's fragment values in `source`; frame k fills bytes `k * frame_size ..` of `out`.
/// `first_frame` numbers the frames in errors. With `sink_fd` (an open file descriptor,
/// Unix), `out` is also written to it from its current position, the frames in order as
/// they are decoded (`codec::ordered`); an error of the write is an `OSError`.
#[pyfunction]
#[pyo3(signature = (source, frames, out, transfer_syntax, info, threads=None, first_frame=0,
    sink_fd=None))]
#[allow(clippy::too_many_arguments)]
fn decode_frames_into(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    frames: Vec<Vec<(u64, u64)>>,
    out: &Bound<'_, PyAny>,
    transfer_syntax: &str,
    info: &ImageInfo,
    threads: Option<usize>,
    first_frame: usize,
    sink_fd: Option<i32>,
) -> PyResult<()> {
    let (t, codec) = decoder(py, transfer_syntax, None)?;
    let Some(codec) = codec.filter(|_| t.encapsulated) else {
        return Err(pixel_error(
            py,
            format!("transfer syntax {} is not encapsulated", t.uid),
            None,
            None,
        ));
    };
    let info = info.frame();
    let src = Held::get(source, false, "source")?;
    let dst = Held::get(out, true, "output array")?;
    let out_bytes = dst.bytes_mut();
    let input = Fragments {
        source: src.bytes(),
        frames: &frames,
        first_frame,
    };
    let threads = threads_of(threads);
    let result = match sink_fd {
        Some(fd) => {
            let fd = to_file::check_fd(fd, "sink_fd")?;
            py.detach(|| {
                to_file::with_fd(fd, |file| {
                    pipeline::decode_frames(codec, &input, &info, out_bytes, threads, Some(file))
                })
            })
        }
        None => py.detach(|| {
            pipeline::decode_frames::<std::fs::File>(codec, &input, &info, out_bytes, threads, None)
        }),
    };
    result.map_err(|s| stopped_error(py, s))
}

/// Unpack native (uncompressed) frames from `data` (the whole Pixel Data value) into `out`:
/// frames `first_frame ..` as many as `out` holds; `big_endian`: the data's byte order.
/// `ybr422`: 8-bit YBR_FULL_422 data stored two bytes per pixel, expanded to three samples.
#[pyfunction]
#[pyo3(signature = (data, out, info, big_endian=false, ybr422=false, first_frame=0,
    threads=None))]
#[allow(clippy::too_many_arguments)]
fn decode_native_into(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    out: &Bound<'_, PyAny>,
    info: &ImageInfo,
    big_endian: bool,
    ybr422: bool,
    first_frame: usize,
    threads: Option<usize>,
) -> PyResult<()> {
    let info = codec::FrameInfo {
        big_endian,
        ..info.frame()
    };
    let src = Held::get(data, false, "pixel data")?;
    let dst = Held::get(out, true, "output array")?;
    let out_bytes = dst.bytes_mut();
    let input = Native {
        data: src.bytes(),
        first_frame,
        ybr422,
    };
    let threads = threads_of(threads);
    py.detach(|| pipeline::decode_native_frames(&input, &info, out_bytes, threads))
        .map_err(|f| failure_error(py, f))
}

/// Decode one frame (compressed bytes of an encapsulated syntax, or one native frame) and
/// return it as bytes in numpy's layout (little-endian, samples last).
#[pyfunction]
fn decode_frame<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    info: &ImageInfo,
    transfer_syntax: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let (t, codec) = decoder(py, transfer_syntax, Some(0))?;
    let info = codec::FrameInfo {
        big_endian: t.big_endian,
        ..info.frame()
    };
    let src = Held::get(data, false, "data")?;
    let src_bytes = src.bytes();
    let fsize = frame_size_bytes(&info);
    let native = native_frame_size_bytes(&info);
    if codec.is_none() && src_bytes.len() < native {
        return Err(pixel_error(
            py,
            format!(
                "frame 0: {} bytes of native data, the frame needs {native}",
                src_bytes.len()
            ),
            Some(src_bytes.len() as u64),
            Some(0),
        ));
    }
    // Compressed data cannot expand without bound: refuse absurd sizes before allocating.
    if codec.is_some() && fsize / 1100 > src_bytes.len().saturating_add(1 << 16) {
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
    // Decoded straight into the bytes object returned (no frame-sized buffer and copy).
    let mut failure = None;
    let out = PyBytes::new_with(py, fsize, |out| {
        let decoded = py.detach(|| match codec {
            Some(c) => {
                let frames = [vec![(0, src_bytes.len() as u64)]];
                let input = Fragments {
                    source: src_bytes,
                    frames: &frames,
                    first_frame: 0,
                };
                pipeline::decode_frames::<std::fs::File>(c, &input, &info, out, Some(1), None)
                    .map_err(|s| match s {
                        Stopped::Job(_, f) => f,
                        Stopped::Io(e) => Failure::at_frame(0, e, None),
                    })
            }
            None => codec::decode_native_frame(src_bytes, &info, out)
                .map_err(|e| Failure::at_frame(0, &e, e.offset().map(|o| o as u64))),
        });
        failure = decoded.err();
        Ok(())
    })?;
    match failure {
        None => Ok(out),
        Some(f) => Err(failure_error(py, f)),
    }
}

/// What the frame encoders are given: the codec, and `data` held, which must hold whole
/// frames.
struct EncodeInput {
    codec: &'static dyn Codec,
    params: EncodeParams,
    info: codec::FrameInfo,
    src: Held,
}

impl EncodeInput {
    fn get(
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        info: &ImageInfo,
        transfer_syntax: &str,
        predictor: u8,
        lossy: Lossy,
    ) -> PyResult<Self> {
        let frame = info.frame();
        let (codec, params) = encoder(py, transfer_syntax, &frame, predictor, lossy)?;
        let src = Held::get(data, false, "data")?;
        let input = Self {
            codec,
            params,
            info: frame,
            src,
        };
        input.frames().check().map_err(|f| failure_error(py, f))?;
        Ok(input)
    }

    fn frames(&self) -> Frames<'_> {
        Frames {
            data: self.src.bytes(),
            info: self.info,
            params: self.params,
        }
    }
}

/// Encode one frame given in numpy's layout (little-endian elements, samples interleaved;
/// 1-bit data one byte per pixel) for an encapsulated transfer syntax; returns the frame's
/// compressed bytes (not padded to even length).
#[pyfunction]
#[pyo3(signature = (data, info, transfer_syntax, predictor=1, *, quality=90, max_error=0, ratio=10, colour_transform=false))]
#[allow(clippy::too_many_arguments)]
fn encode_frame<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    info: &ImageInfo,
    transfer_syntax: &str,
    predictor: u8,
    quality: u8,
    max_error: u16,
    ratio: u16,
    colour_transform: bool,
) -> PyResult<Bound<'py, PyBytes>> {
    encode_frames(
        py,
        data,
        info,
        transfer_syntax,
        predictor,
        Some(1),
        quality,
        max_error,
        ratio,
        colour_transform,
    )?
    .into_iter()
    .next()
    .ok_or_else(|| pixel_error(py, "no frame to encode".into(), None, None))
}

/// Encode every frame of `data` (frames back to back in numpy's layout), in parallel with
/// the GIL released; returns one bytes object per frame.
#[pyfunction]
#[pyo3(signature = (data, info, transfer_syntax, predictor=1, threads=None, *, quality=90, max_error=0, ratio=10, colour_transform=false))]
#[allow(clippy::too_many_arguments)]
fn encode_frames<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    info: &ImageInfo,
    transfer_syntax: &str,
    predictor: u8,
    threads: Option<usize>,
    quality: u8,
    max_error: u16,
    ratio: u16,
    colour_transform: bool,
) -> PyResult<Vec<Bound<'py, PyBytes>>> {
    let lossy = Lossy {
        quality,
        max_error,
        ratio,
        colour_transform,
    };
    let input = EncodeInput::get(py, data, info, transfer_syntax, predictor, lossy)?;
    let (codec, frames, threads) = (input.codec, input.frames(), threads_of(threads));
    let encoded = py
        .detach(|| pipeline::encode_frames(codec, &frames, threads))
        .map_err(|f| failure_error(py, f))?;
    let out = encoded.iter().map(|v| PyBytes::new(py, v)).collect();
    pipeline::keep_frame_buffers(encoded);
    Ok(out)
}

/// Encode every frame of `data` (frames back to back in numpy's layout), in parallel with
/// the GIL released, as one encapsulated Pixel Data value (PS3.5 A.4): a Basic Offset Table
/// item, one item per frame (padded to even length) and the sequence delimiter.
/// `allocate(n)` is called once with the value's length and must return a writable
/// C-contiguous buffer of exactly `n` bytes; it is filled and returned (so the caller
/// chooses where the value lives: a new array, or a buffer it reuses).
#[pyfunction]
#[pyo3(signature = (data, info, transfer_syntax, allocate, predictor=1, threads=None, *, quality=90, max_error=0, ratio=10, colour_transform=false))]
#[allow(clippy::too_many_arguments)]
fn encode_frames_encapsulated<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    info: &ImageInfo,
    transfer_syntax: &str,
    allocate: &Bound<'py, PyAny>,
    predictor: u8,
    threads: Option<usize>,
    quality: u8,
    max_error: u16,
    ratio: u16,
    colour_transform: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let lossy = Lossy {
        quality,
        max_error,
        ratio,
        colour_transform,
    };
    let input = EncodeInput::get(py, data, info, transfer_syntax, predictor, lossy)?;
    let (codec, frames, threads) = (input.codec, input.frames(), threads_of(threads));
    let encoded = py
        .detach(|| Encapsulated::encode(codec, &frames, threads))
        .map_err(|f| failure_error(py, f))?;
    let obj = allocate.call1((encoded.len(),))?;
    let dst = Held::get(&obj, true, "allocated buffer")?;
    let out = dst.bytes_mut();
    py.detach(|| encoded.write(out, threads))
        .map_err(|f| failure_error(py, f))?;
    drop(dst);
    Ok(obj)
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
    m.add_class::<ImageInfo>()?;
    m.add_function(wrap_pyfunction!(decode_frames_into, m)?)?;
    m.add_function(wrap_pyfunction!(decode_native_into, m)?)?;
    m.add_function(wrap_pyfunction!(as_read::pixel_array_as_read, m)?)?;
    m.add_function(wrap_pyfunction!(as_read::configure_pixel_array_as_read, m)?)?;
    m.add_function(wrap_pyfunction!(from_path::pixel_array_from_path, m)?)?;
    m.add_function(wrap_pyfunction!(decode_frame, m)?)?;
    m.add_function(wrap_pyfunction!(encode_frame, m)?)?;
    m.add_function(wrap_pyfunction!(encode_frames, m)?)?;
    m.add_function(wrap_pyfunction!(encode_frames_encapsulated, m)?)?;
    #[cfg(unix)]
    m.add_function(wrap_pyfunction!(to_file::encode_frames_to_fd, m)?)?;
    m.add_function(wrap_pyfunction!(syntaxes::transfer_syntaxes, m)?)?;
    m.add_function(wrap_pyfunction!(syntaxes::transfer_syntax, m)?)?;
    m.add_function(wrap_pyfunction!(jpeg_header, m)?)?;
    Ok(())
}
