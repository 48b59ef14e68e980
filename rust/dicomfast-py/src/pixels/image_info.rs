//! `_core.ImageInfo`: the Image Pixel attributes (PS3.3 C.7.6.3) every pixel function
//! takes, checked once when made against the rules every codec relies on.

use dicomfast_codec::FrameInfo;
use pyo3::prelude::*;

use super::pixel_error;

/// One frame's layout: rows, columns, samples per pixel, bits allocated and stored, pixel
/// representation, planar configuration and whether the data is float. Raises
/// `PixelDataError` when the codecs cannot lay it out.
#[pyclass(frozen, module = "dicomfast._core", name = "ImageInfo")]
#[derive(Clone, Copy)]
pub struct ImageInfo {
    info: FrameInfo,
}

impl ImageInfo {
    pub(super) fn frame(&self) -> FrameInfo {
        self.info
    }
}

#[pymethods]
impl ImageInfo {
    #[new]
    #[pyo3(signature = (rows, columns, samples_per_pixel=1, bits_allocated=8, bits_stored=None,
        pixel_representation=0, planar_configuration=0, float=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        rows: u32,
        columns: u32,
        samples_per_pixel: u16,
        bits_allocated: u16,
        bits_stored: Option<u16>,
        pixel_representation: u16,
        planar_configuration: u16,
        float: bool,
    ) -> PyResult<Self> {
        let info = FrameInfo {
            rows,
            columns,
            samples_per_pixel,
            bits_allocated,
            bits_stored: bits_stored.unwrap_or(bits_allocated),
            pixel_representation,
            planar_configuration,
            big_endian: false,
            float,
        };
        info.validate()
            .map_err(|e| pixel_error(py, e.to_string(), None, None))?;
        Ok(Self { info })
    }

    #[getter]
    fn rows(&self) -> u32 {
        self.info.rows
    }
    #[getter]
    fn columns(&self) -> u32 {
        self.info.columns
    }
    #[getter]
    fn samples_per_pixel(&self) -> u16 {
        self.info.samples_per_pixel
    }
    #[getter]
    fn bits_allocated(&self) -> u16 {
        self.info.bits_allocated
    }
    #[getter]
    fn bits_stored(&self) -> u16 {
        self.info.bits_stored
    }
    #[getter]
    fn pixel_representation(&self) -> u16 {
        self.info.pixel_representation
    }
    #[getter]
    fn planar_configuration(&self) -> u16 {
        self.info.planar_configuration
    }
    #[getter]
    fn float(&self) -> bool {
        self.info.float
    }

    /// Bytes of one decoded frame (numpy's layout).
    #[getter]
    fn frame_nbytes(&self) -> usize {
        dicomfast_codec::frame_size_bytes(&self.info)
    }

    fn __repr__(&self) -> String {
        let i = &self.info;
        format!(
            "ImageInfo(rows={}, columns={}, samples_per_pixel={}, bits_allocated={}, \
             bits_stored={}, pixel_representation={}, planar_configuration={}, float={})",
            i.rows,
            i.columns,
            i.samples_per_pixel,
            i.bits_allocated,
            i.bits_stored,
            i.pixel_representation,
            i.planar_configuration,
            if i.float { "True" } else { "False" }
        )
    }
}
