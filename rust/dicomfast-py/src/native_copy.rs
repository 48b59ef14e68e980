//! `dicomfast convert -t explicit-le` of a file by the core (crate `dicomfast-export`'s
//! [`Decompressor`]): read, grey frames decoded to native Pixel Data, written; the GIL
//! released for the whole file.

use std::path::PathBuf;

use dicomfast_export::{Converted, Decompressor, NativeOptions};
use pyo3::buffer::PyUntypedBuffer;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::limits::CoreLimits;

#[pyclass(frozen, module = "dicomfast._core")]
pub struct NativeCopier {
    inner: Decompressor,
}

#[pymethods]
impl NativeCopier {
    #[new]
    fn new(resume: bool, durable: bool, limits: CoreLimits, read_whole_below: u64) -> Self {
        NativeCopier {
            inner: Decompressor::new(NativeOptions {
                resume,
                durable,
                limits: limits.into(),
                read_whole_below,
            }),
        }
    }

    /// `(bytes_out, staged temporary file or None, seconds)`, or None: declined.
    fn convert(
        &self,
        py: Python<'_>,
        path: PathBuf,
        dst: PathBuf,
    ) -> Option<(u64, Option<PathBuf>, f64)> {
        match py.detach(|| self.inner.convert(&path, &dst)) {
            Converted::Declined => None,
            Converted::Done {
                bytes_out,
                staged,
                seconds,
            } => Some((bytes_out, staged, seconds)),
        }
    }

    /// The native copy of the Part 10 bytes `data` (nothing written), or None: declined.
    fn native_file<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let buf = PyUntypedBuffer::get(data)?;
        let src =
            unsafe { std::slice::from_raw_parts(buf.buf_ptr() as *const u8, buf.len_bytes()) };
        let out = py.detach(|| self.inner.native_file(src));
        Ok(out.map(|v| PyBytes::new(py, &v)))
    }
}
