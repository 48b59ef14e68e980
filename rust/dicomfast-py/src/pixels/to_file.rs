//! Pixel data coded while it is written to a file: the caller's open file descriptor
//! lent to `dicomfast_codec::pipeline`, which writes frames in order as they complete.

use dicomfast_codec::pipeline::{self, EncodeStop};

use super::*;

/// `fd` if it can be an open file descriptor, else a `ValueError` naming `what`.
pub(super) fn check_fd(fd: i32, what: &str) -> PyResult<i32> {
    if fd < 0 {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "{what} must be an open file descriptor, not {fd}"
        )));
    }
    Ok(fd)
}

/// `work` given the open file descriptor `fd` as a `File` (borrowed: left open).
#[cfg(unix)]
pub(super) fn with_fd<R>(
    fd: i32,
    work: impl FnOnce(&mut std::fs::File) -> Result<R, Stopped<Failure>>,
) -> Result<R, Stopped<Failure>> {
    use std::os::fd::FromRawFd;
    // SAFETY: the caller's descriptor stays open for the call; ManuallyDrop never closes it.
    let mut file = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
    work(&mut file)
}

#[cfg(not(unix))]
pub(super) fn with_fd<R>(
    _fd: i32,
    _work: impl FnOnce(&mut std::fs::File) -> Result<R, Stopped<Failure>>,
) -> Result<R, Stopped<Failure>> {
    Err(Stopped::Io(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "writing pixels to a file descriptor needs Unix",
    )))
}

/// Encode every frame of `data` (frames back to back in numpy's layout) on the codec
/// threads and write the encapsulated Pixel Data value `encode_frames_encapsulated` makes
/// (PS3.5 A.4) to the open file descriptor `fd` from its current position: the Basic
/// Offset Table item (written as zeros first, filled in at the end: `fd` must be a regular
/// file), each frame's item as soon as it and those before it are encoded, the sequence
/// delimiter. The position ends after the value; returns its length. Errors: a
/// `PixelDataError` naming the first frame that failed, or an `OSError` from the write.
#[cfg(unix)]
#[pyfunction]
#[pyo3(signature = (data, info, transfer_syntax, fd, predictor=1, threads=None, *, quality=90, max_error=0, ratio=10, colour_transform=false))]
#[allow(clippy::too_many_arguments)]
pub(super) fn encode_frames_to_fd(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    info: &ImageInfo,
    transfer_syntax: &str,
    fd: i32,
    predictor: u8,
    threads: Option<usize>,
    quality: u8,
    max_error: u16,
    ratio: u16,
    colour_transform: bool,
) -> PyResult<u64> {
    let lossy = Lossy {
        quality,
        max_error,
        ratio,
        colour_transform,
    };
    let input = EncodeInput::get(py, data, info, transfer_syntax, predictor, lossy)?;
    let fd = check_fd(fd, "fd")?;
    let (codec, frames, threads) = (input.codec, input.frames(), threads_of(threads));
    let result = py.detach(|| {
        with_fd(fd, |file| {
            pipeline::encode_to_file(codec, &frames, threads, file).map_err(|s| match s {
                EncodeStop::Failed(f) => Stopped::Job(0, f),
                EncodeStop::Io(e) => Stopped::Io(e),
            })
        })
    });
    result.map_err(|s| stopped_error(py, s))
}
