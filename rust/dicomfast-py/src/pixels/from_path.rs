//! File to array in one call from a path: the file read whole (small) or mapped (large),
//! parsed, planned (`dicomfast_codec::as_read`) and decoded into a new array, the GIL
//! released for all but the allocation: `dicomfast.read(path).pixel_array_as(...)`
//! without the data set. None wherever that call would do anything else (the file cannot
//! be read or parsed, or the plan leaves the decision to the Python path): the caller
//! then takes that path, which raises or decodes as it always does.

use dicomfast_core::bytes::FileBytes;

use dicomfast_codec::as_read::plan_file;
use dicomfast_core::parse::ParseOptions;
use pyo3::prelude::*;

use super::as_read::{allocate, decode_into, CONFIGURED};

/// Every frame of the file at `path`, decoded into a new array shaped as pydicom's
/// `pixel_array`, or None where `dicomfast.read(path).pixel_array_as(...)` is to decide.
#[pyfunction]
#[pyo3(signature = (path, threads=None, as_rgb=false))]
pub(super) fn pixel_array_from_path<'py>(
    py: Python<'py>,
    path: &str,
    threads: Option<usize>,
    as_rgb: bool,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let Some(conf) = CONFIGURED.get(py) else {
        return Ok(None);
    };
    let parse = ParseOptions {
        stop_before_pixels: false,
        partial: false,
        max_depth: 256,
    };
    let found = py.detach(|| {
        let bytes = FileBytes::open_regular(std::path::Path::new(path), conf.read_whole_below)?;
        let p = plan_file(bytes.bytes(), parse, &conf.limits, as_rgb)?;
        Some((bytes, p))
    });
    let Some((bytes, p)) = found else {
        return Ok(None);
    };
    let out = allocate(py, conf, &p.plan)?;
    decode_into(py, &out, p.source(bytes.bytes()), &p.plan, threads)?;
    Ok(Some(out))
}
