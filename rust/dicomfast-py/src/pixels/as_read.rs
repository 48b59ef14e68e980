//! File to array in one call: for a data set as read (nothing looked at or changed), the
//! plan of `dicomfast_codec::as_read` (Image Pixel attributes, transfer syntax and each
//! frame's fragments, from the file's index), the array allocated (`numpy.empty`, final
//! shape) and every frame decoded into it with the GIL released: what
//! `dicomfast.pixels.info.pixel_info`, `frames.encapsulated_data` and
//! `decode.decode_frames` do in Python, without building their Python objects.
//!
//! None wherever the plan leaves the decision to the Python path; only the decoding itself
//! fails here, as `decode_frames_into` fails.

use dicomfast_codec::as_read::{plan, Limits, Plan, Source};
use dicomfast_codec::pipeline;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyTuple;

use super::{stopped_error, threads_of, Held};
use crate::limits::CoreLimits;
use crate::raw::RawFile;

/// The size rules of `dicomfast.pixels.info`, `numpy.empty`, and the dtypes
/// `<u1 <i1 <u2 <i2 <u4 <i4 <u8 <i8` in that order.
pub(super) struct Configured {
    pub(super) limits: Limits,
    /// Files up to this size are read whole, larger ones mapped (`READ_WHOLE_BELOW`).
    pub(super) read_whole_below: u64,
    empty: Py<PyAny>,
    dtypes: Vec<Py<PyAny>>,
}

pub(super) static CONFIGURED: PyOnceLock<Configured> = PyOnceLock::new();

/// Hand over `dicomfast.pixels.info`'s size rules (the one definition of them), the size
/// below which `dicomfast.read` reads a file whole, and numpy's allocator, once (later calls change nothing). Until then `pixel_array_as_read` gives
/// None.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub(super) fn configure_pixel_array_as_read(
    py: Python<'_>,
    limits: CoreLimits,
    read_whole_below: u64,
    empty: Py<PyAny>,
    dtypes: Vec<Py<PyAny>>,
) -> PyResult<()> {
    if dtypes.len() != 8 {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "dtypes: u1 i1 u2 i2 u4 i4 u8 i8",
        ));
    }
    let limits: Limits = limits.into();
    let _ = CONFIGURED.get_or_init(py, || Configured {
        limits,
        read_whole_below,
        empty,
        dtypes,
    });
    Ok(())
}

/// Every frame of a data set as read, decoded into a new array shaped as pydicom's
/// `pixel_array` (no frame axis for one frame), or None where the Python path decides.
/// `parent`: the data set's node (-1: top level); `meta`: its file meta group's node,
/// None when it has none; `as_rgb`: a three-sample frame is left to the Python path.
#[pyfunction]
#[pyo3(signature = (raw, parent=-1, meta=None, threads=None, as_rgb=false))]
pub(super) fn pixel_array_as_read<'py>(
    py: Python<'py>,
    raw: &Bound<'py, RawFile>,
    parent: i64,
    meta: Option<i64>,
    threads: Option<usize>,
    as_rgb: bool,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let Some(conf) = CONFIGURED.get(py) else {
        return Ok(None);
    };
    let file = raw.get();
    let (buf, index, meta_nodes, ..) = file.parsed();
    let src = Source {
        buf,
        index,
        meta_nodes,
        parent,
        meta,
    };
    let parsed = || {
        raw.getattr("transfer_syntax")
            .ok()?
            .extract::<String>()
            .ok()
    };
    let Some(p) = plan(&src, &conf.limits, parsed, as_rgb) else {
        return Ok(None);
    };
    let out = allocate(py, conf, &p)?;
    decode_into(py, &out, buf, &p, threads)?;
    Ok(Some(out))
}

/// A new array for `p`'s frames, shaped as pydicom's `pixel_array` (no frame axis for
/// one frame): `numpy.empty`, nothing written.
pub(super) fn allocate<'py>(
    py: Python<'py>,
    conf: &Configured,
    p: &Plan,
) -> PyResult<Bound<'py, PyAny>> {
    let info = &p.info;
    let mut shape: Vec<usize> = Vec::with_capacity(4);
    if p.frames.len() > 1 {
        shape.push(p.frames.len());
    }
    shape.extend([info.rows as usize, info.columns as usize]);
    if info.samples_per_pixel > 1 {
        shape.push(usize::from(info.samples_per_pixel));
    }
    let size = info.bytes_per_sample().trailing_zeros() as usize; // 1 2 4 8 -> 0 1 2 3
    let dtype = &conf.dtypes[2 * size + usize::from(info.pixel_representation)];
    conf.empty
        .bind(py)
        .call1((PyTuple::new(py, shape)?, dtype.bind(py)))
}

/// Decode `p`'s frames from `buf` into `out` (from [`allocate`]), the GIL released.
pub(super) fn decode_into(
    py: Python<'_>,
    out: &Bound<'_, PyAny>,
    buf: &[u8],
    p: &Plan,
    threads: Option<usize>,
) -> PyResult<()> {
    let codec = p.syntax.codec.expect("a plan has a codec");
    let dst = Held::get(out, true, "output array")?;
    let out_bytes = dst.bytes_mut();
    let input = pipeline::Fragments {
        source: buf,
        frames: &p.frames,
        first_frame: 0,
    };
    let threads = threads_of(threads);
    py.detach(|| {
        pipeline::decode_frames::<std::fs::File>(codec, &input, &p.info, out_bytes, threads, None)
    })
    .map_err(|s| stopped_error(py, s))
}
