//! The one conversion from Rust errors to Python exceptions. The classes live
//! in `dicomfast.errors`; Rust looks them up by name.

use dicomfast_core::{ErrorKind, ParseError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Instantiate `dicomfast.errors.<class_name>(message, **context)`.
pub fn make(
    py: Python<'_>,
    class_name: &str,
    message: String,
    offset: Option<u64>,
    tag: Option<u32>,
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = py.import("dicomfast.errors")?.getattr(class_name)?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("offset", offset)?;
        kwargs.set_item("tag", tag)?;
        let exc = cls.call((message.clone(),), Some(&kwargs))?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|e| e)
}

/// The Python exception for a parser or writer error.
pub fn parse_error(py: Python<'_>, e: &ParseError) -> PyErr {
    let class = match e.kind {
        ErrorKind::Truncated { .. } | ErrorKind::MissingDelimiter => "TruncatedDataError",
        ErrorKind::Unwritable(_) => "WriteError",
        ErrorKind::Frames(_) => "PixelDataError",
        _ => "InvalidDicomError",
    };
    make(py, class, e.to_string(), Some(e.offset), e.tag)
}
