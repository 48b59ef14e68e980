//! PNG pictures of display-ready arrays, for `dicomfast export`: the `png` crate with
//! fdeflate's fast compression. A 512x512 8-bit slice takes ~0.3 ms and ~10% more bytes
//! than zlib level 6, which takes ~15 ms through Pillow (level 1: ~6 ms and larger).

use pyo3::buffer::PyUntypedBuffer;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

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
    let color = match samples {
        1 => png::ColorType::Grayscale,
        3 => png::ColorType::Rgb,
        _ => {
            return Err(PyValueError::new_err(
                "a PNG here holds 1 or 3 samples a pixel",
            ))
        }
    };
    let depth = match bits {
        8 => png::BitDepth::Eight,
        16 => png::BitDepth::Sixteen,
        _ => {
            return Err(PyValueError::new_err(
                "a PNG here holds 8 or 16 bits a sample",
            ))
        }
    };
    let buf = PyUntypedBuffer::get(data)?;
    if !buf.is_c_contiguous() {
        return Err(PyValueError::new_err("the array must be C-contiguous"));
    }
    let expected = u64::from(rows) * u64::from(columns) * u64::from(samples) * u64::from(bits / 8);
    if buf.len_bytes() as u64 != expected || rows == 0 || columns == 0 {
        return Err(PyValueError::new_err(format!(
            "{} bytes do not hold {rows} x {columns} pixels of {samples} x {bits} bits",
            buf.len_bytes()
        )));
    }
    // SAFETY: a C-contiguous buffer of len_bytes() bytes, held (with the GIL's
    // guarantee that its exporter keeps it alive and unmoved) until `buf` is dropped.
    let src = unsafe { std::slice::from_raw_parts(buf.buf_ptr() as *const u8, buf.len_bytes()) };
    let encoded = py.detach(|| -> Result<Vec<u8>, png::EncodingError> {
        let mut out = Vec::with_capacity(src.len() / 2 + 1024);
        let mut enc = png::Encoder::new(&mut out, columns, rows);
        enc.set_color(color);
        enc.set_depth(depth);
        enc.set_compression(png::Compression::Fast);
        let mut writer = enc.write_header()?;
        if bits == 16 {
            // PNG samples are big-endian.
            let swapped: Vec<u8> = src.chunks_exact(2).flat_map(|b| [b[1], b[0]]).collect();
            writer.write_image_data(&swapped)?;
        } else {
            writer.write_image_data(src)?;
        }
        writer.finish()?;
        Ok(out)
    });
    match encoded {
        Ok(v) => Ok(PyBytes::new(py, &v)),
        Err(e) => Err(PyValueError::new_err(format!("PNG encoding failed: {e}"))),
    }
}
