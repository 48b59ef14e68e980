//! BLAKE3 digests of stored instances (the archive's checksums, `dicomfast.digest`):
//! the `blake3` crate, with the GIL released while a buffer or a file is hashed.
//! About four times less CPU than SHA-256 for the same bytes on this project's VM
//! (5.9 GB/s against 1.4 GB/s with the processor's SHA extensions), on the thread that
//! hashes each received instance beside the Storage SCP.

use crate::pdu::Held;
use pyo3::prelude::*;

/// A running BLAKE3 digest (256 bits), fed in pieces.
#[pyclass(module = "dicomfast._core")]
pub struct Blake3 {
    inner: blake3::Hasher,
}

#[pymethods]
impl Blake3 {
    #[new]
    fn new() -> Self {
        Blake3 {
            inner: blake3::Hasher::new(),
        }
    }

    /// Add the bytes of `data` (any contiguous buffer).
    fn update(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let held = Held::get(data)?;
        let (bytes, inner) = (held.bytes(), &mut self.inner);
        if bytes.len() < 4096 {
            inner.update(bytes);
        } else {
            py.detach(|| {
                inner.update(bytes);
            });
        }
        Ok(())
    }

    /// The digest of everything added so far, 64 hexadecimal digits.
    fn hexdigest(&self) -> String {
        self.inner.finalize().to_hex().to_string()
    }
}

/// The BLAKE3 digest of the file at `path`, 64 hexadecimal digits (OSError if it cannot
/// be read).
#[pyfunction]
pub fn blake3_file(py: Python<'_>, path: std::path::PathBuf) -> PyResult<String> {
    let hex = py.detach(|| -> std::io::Result<String> {
        let mut h = blake3::Hasher::new();
        h.update_reader(std::fs::File::open(&path)?)?;
        Ok(h.finalize().to_hex().to_string())
    })?;
    Ok(hex)
}
