//! Pictures for `dicomfast export` by the crate `dicomfast-export`: `encode_png` of a
//! display-ready array, `PictureExporter` (a file to its PNG pictures in one call, the
//! GIL released throughout), and `grey_table` (the display table it uses, for the test
//! that holds it to the Python pipeline's).

use std::path::PathBuf;

use dicomfast_export::display::{Grey, Table, Window};
use dicomfast_export::picture;
use dicomfast_export::{Exporter, Format, Options, Outcome, Values};
use pyo3::buffer::PyUntypedBuffer;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::limits::CoreLimits;

/// A PNG of `rows` x `columns` pixels of `samples` (1: grey, 3: RGB) samples of `bits`
/// (8 or 16) from `data`, a C-contiguous buffer holding them in that order (16-bit
/// samples little-endian, as numpy holds them on every platform dicomfast runs on).
#[pyfunction]
#[pyo3(signature = (data, rows, columns, samples, bits))]
pub fn encode_png<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    rows: u32,
    columns: u32,
    samples: u8,
    bits: u8,
) -> PyResult<Bound<'py, PyBytes>> {
    let buf = PyUntypedBuffer::get(data)?;
    if !buf.is_c_contiguous() {
        return Err(PyValueError::new_err("the array must be C-contiguous"));
    }
    // SAFETY: a C-contiguous buffer of len_bytes() bytes, held (with the GIL's
    // guarantee that its exporter keeps it alive and unmoved) until `buf` is dropped.
    let src = unsafe { std::slice::from_raw_parts(buf.buf_ptr() as *const u8, buf.len_bytes()) };
    let encoded = py.detach(|| -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(src.len() / 2 + 1024);
        if bits == 16 {
            // PNG samples are big-endian.
            let swapped: Vec<u8> = src.chunks_exact(2).flat_map(|b| [b[1], b[0]]).collect();
            picture::encode_png(&swapped, rows, columns, samples, bits, &mut out)?;
        } else {
            picture::encode_png(src, rows, columns, samples, bits, &mut out)?;
        }
        Ok(out)
    });
    encoded
        .map(|v| PyBytes::new(py, &v))
        .map_err(PyValueError::new_err)
}

/// What `PictureExporter.export` gives for a file it took: `(status, dst, bytes_out,
/// frames, staged, seconds)`; paths as Python's `os` functions give them (bytes that
/// are no UTF-8 as surrogates).
type Taken = (
    &'static str,
    PathBuf,
    u64,
    u64,
    Vec<(PathBuf, PathBuf)>,
    f64,
);

/// Files to PNG or `.npy` pictures under one set of options (`batch.export.ExportOptions`
/// restricted to what `batch.export_core` lets through), shared by a run's threads.
#[pyclass(frozen, module = "dicomfast._core")]
pub struct PictureExporter {
    inner: Exporter,
}

#[pymethods]
impl PictureExporter {
    #[new]
    #[pyo3(signature = (format, values, bits, window, voi_index, resume, durable, limits, read_whole_below))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        format: &str,
        values: &str,
        bits: u8,
        window: Option<(f64, f64)>,
        voi_index: usize,
        resume: bool,
        durable: bool,
        limits: CoreLimits,
        read_whole_below: u64,
    ) -> PyResult<Self> {
        if !matches!(bits, 8 | 16) {
            return Err(PyValueError::new_err("bits: 8 or 16"));
        }
        let format = match format {
            "png" => Format::Png,
            "npy" => Format::Npy,
            _ => return Err(PyValueError::new_err("format: png or npy")),
        };
        let values = match values {
            "display" => Values::Display,
            "modality" => Values::Modality,
            "stored" => Values::Stored,
            _ => return Err(PyValueError::new_err("values: display, modality or stored")),
        };
        Ok(PictureExporter {
            inner: Exporter::new(Options {
                format,
                values,
                bits,
                window,
                voi_index,
                resume,
                durable,
                limits: limits.into(),
                read_whole_below,
            }),
        })
    }

    /// The pictures of the file at `path`, named `base.png` (or `base_0000.png` ...;
    /// `.npy` for that format):
    /// `(status, dst, bytes_out, frames, staged, seconds)` with status "converted" or
    /// "skipped" (every picture there already), `staged` the `(temporary, final)` names
    /// a durable run leaves to be flushed and renamed; None: left to the Python path.
    fn export(&self, py: Python<'_>, path: PathBuf, base: PathBuf) -> Option<Taken> {
        let outcome = py.detach(|| self.inner.export(&path, &base));
        match outcome {
            Outcome::Declined => None,
            Outcome::Skipped { dst, bytes_out } => {
                Some(("skipped", dst, bytes_out, 0, vec![], 0.0))
            }
            Outcome::Done {
                dst,
                bytes_out,
                frames,
                staged,
                seconds,
            } => Some(("converted", dst, bytes_out, frames, staged, seconds)),
        }
    }
}

/// The grey display table `PictureExporter` makes for these attributes: the output of
/// every stored value (indexed by its bits; native-endian 16-bit entries for `bits` 16),
/// or None where it makes none (the Python pipeline raises).
#[pyfunction]
#[pyo3(signature = (bytes, signed, bits_stored, rescale, center, width, exact, user_window, monochrome1, bits))]
#[allow(clippy::too_many_arguments)]
pub fn grey_table<'py>(
    py: Python<'py>,
    bytes: u8,
    signed: bool,
    bits_stored: u16,
    rescale: Option<(f64, f64)>,
    center: f64,
    width: f64,
    exact: bool,
    user_window: bool,
    monochrome1: bool,
    bits: u8,
) -> Option<Bound<'py, PyBytes>> {
    let grey = Grey {
        bytes,
        signed,
        bits_stored,
        rescale,
        window: Window {
            center,
            width,
            exact,
        },
        user_window,
        monochrome1,
        bits,
    };
    match grey.table().ok()? {
        Table::U8(t) => Some(PyBytes::new(py, &t)),
        Table::U16(t) => {
            let b: Vec<u8> = t.iter().flat_map(|v| v.to_ne_bytes()).collect();
            Some(PyBytes::new(py, &b))
        }
    }
}
