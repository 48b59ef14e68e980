//! `dicomfast._core`: the one crate that depends on PyO3. It exposes the pure
//! Rust crates to Python and converts their errors to the exception classes
//! that `dicomfast.errors` defines. Every export is listed here.

mod build;
mod deid;
mod digest;
mod element;
mod errors;
mod limits;
mod media;
mod native_copy;
mod pdu;
mod pictures;
mod pixels;
mod raw;
mod text;
mod walk;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<element::DataElement>()?;
    m.add_class::<raw::RawFile>()?;
    m.add_class::<text::CharacterSet>()?;
    m.add_class::<walk::Walk>()?;
    m.add_class::<deid::DeidPass>()?;
    m.add_function(wrap_pyfunction!(raw::dictionary_entries, m)?)?;
    m.add_function(wrap_pyfunction!(raw::uid_entries, m)?)?;
    m.add_function(wrap_pyfunction!(raw::dictionary_lookup, m)?)?;
    m.add_function(wrap_pyfunction!(pictures::encode_png, m)?)?;
    m.add_function(wrap_pyfunction!(pictures::grey_table, m)?)?;
    m.add_class::<pictures::PictureExporter>()?;
    m.add_class::<native_copy::NativeCopier>()?;
    m.add_function(wrap_pyfunction!(media::fileset_index, m)?)?;
    m.add_function(wrap_pyfunction!(media::fileset_create, m)?)?;
    m.add_function(wrap_pyfunction!(media::fileset_sources, m)?)?;
    m.add_class::<digest::Blake3>()?;
    m.add_function(wrap_pyfunction!(digest::blake3_file, m)?)?;
    pdu::register(m)?;
    pixels::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
