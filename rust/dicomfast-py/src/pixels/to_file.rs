//! Pixel data coded while it is written to a file: frames decoded, or encoded, on the codec
//! threads and written to the caller's open file descriptor in order as they complete
//! (`dicomfast_codec::ordered`), so that the copy into the page cache runs beside the coding.

use dicomfast_codec::ordered::{self, Stopped};

use super::*;

/// [`ordered::decode_and_write`] to the open file descriptor `fd` (borrowed: left open).
#[cfg(unix)]
pub(super) fn decode_and_write<F>(
    out: &mut [u8],
    job: usize,
    threads: usize,
    fd: i32,
    work: F,
) -> Result<(), Stopped<Failure>>
where
    F: Fn(usize, &mut [u8]) -> Result<(), Failure> + Sync,
{
    use std::os::fd::FromRawFd;
    // SAFETY: the caller's descriptor stays open for the call; ManuallyDrop never closes it.
    let mut file = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
    ordered::decode_and_write(out, job, threads, &mut *file, work)
}

#[cfg(not(unix))]
pub(super) fn decode_and_write<F>(
    _out: &mut [u8],
    _job: usize,
    _threads: usize,
    _fd: i32,
    _work: F,
) -> Result<(), Stopped<Failure>>
where
    F: Fn(usize, &mut [u8]) -> Result<(), Failure> + Sync,
{
    Err(Stopped::Io(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "writing pixels to a file descriptor needs Unix",
    )))
}

/// An encoded frame: the first `.1` bytes of the buffer `.0`.
#[cfg(unix)]
type Encoded = (Vec<u8>, usize);

/// Why [`encode_frames_to_fd`] stopped.
#[cfg(unix)]
enum EncodeStop {
    Frame(usize, CodecError),
    Io(std::io::Error),
    TooLong,
}

#[cfg(unix)]
impl From<std::io::Error> for EncodeStop {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
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
#[pyo3(signature = (data, rows, columns, samples_per_pixel, bits_allocated, bits_stored,
    pixel_representation, transfer_syntax, fd, predictor=1, threads=None))]
#[allow(clippy::too_many_arguments)]
pub(super) fn encode_frames_to_fd(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    rows: u32,
    columns: u32,
    samples_per_pixel: u16,
    bits_allocated: u16,
    bits_stored: u16,
    pixel_representation: u16,
    transfer_syntax: &str,
    fd: i32,
    predictor: u8,
    threads: Option<usize>,
) -> PyResult<u64> {
    use std::io::{Seek, Write};
    use std::os::fd::FromRawFd;
    use std::os::unix::fs::FileExt;

    let input = EncodeInput::get(
        py,
        data,
        rows,
        columns,
        samples_per_pixel,
        bits_allocated,
        bits_stored,
        pixel_representation,
        transfer_syntax,
        predictor,
    )?;
    let (kind, info, fsize, nframes) = (input.kind, input.info, input.fsize, input.nframes);
    let src_bytes = input.src.bytes();
    if fd < 0 {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "fd must be an open file descriptor, not {fd}"
        )));
    }
    let workers = threads
        .filter(|&t| t > 0)
        .unwrap_or_else(rayon::current_num_threads)
        .max(1);
    let bufs: Vec<Mutex<Vec<u8>>> = take_frame_buffers(nframes)
        .into_iter()
        .map(Mutex::new)
        .collect();
    let result = py.detach(|| -> Result<(Vec<Encoded>, u64), EncodeStop> {
        // SAFETY: the caller's descriptor stays open for the call; ManuallyDrop never
        // closes it.
        let mut file = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
        let start = file.stream_position()?;
        let bot_len = 4 * nframes;
        let mut head = Vec::with_capacity(8 + bot_len);
        head.extend_from_slice(&ITEM_TAG);
        head.extend_from_slice(&(bot_len as u32).to_le_bytes());
        head.resize(8 + bot_len, 0);
        file.write_all(&head)?;
        let frames = ordered::run_in_order(
            nframes,
            workers,
            &mut *file,
            |j| {
                let mut b = bufs[j]
                    .lock()
                    .map(|mut g| std::mem::take(&mut *g))
                    .unwrap_or_default();
                let f = &src_bytes[j * fsize..(j + 1) * fsize];
                encode_one_in(kind, f, &info, predictor, &mut b).map(|n| (b, n))
            },
            |file, _, (b, n): &Encoded| {
                let b = &b[..*n];
                let padded = b.len() + (b.len() & 1);
                let len = u32::try_from(padded)
                    .map_err(|_| std::io::Error::other("an encoded frame exceeds 4 GiB"))?;
                let mut item = [0u8; 8];
                item[..4].copy_from_slice(&ITEM_TAG);
                item[4..].copy_from_slice(&len.to_le_bytes());
                file.write_all(&item)?;
                file.write_all(b)?;
                if padded > b.len() {
                    file.write_all(&[0])?;
                }
                Ok(())
            },
        )
        .map_err(|s| match s {
            Stopped::Job(j, e) => EncodeStop::Frame(j, e),
            Stopped::Io(e) => EncodeStop::Io(e),
        })?;
        let mut tail = [0u8; 8];
        tail[..4].copy_from_slice(&SEQUENCE_DELIMITER);
        file.write_all(&tail)?;
        let (offsets, total) = encapsulated_layout(frames.iter().map(|(_, n)| *n));
        if total - 16 - bot_len as u64 > u64::from(u32::MAX) {
            return Err(EncodeStop::TooLong);
        }
        let bot: Vec<u8> = offsets
            .iter()
            .flat_map(|&o| (o as u32).to_le_bytes())
            .collect();
        file.write_all_at(&bot, start + 8)?;
        Ok((frames, total))
    });
    match result {
        Ok((frames, total)) => {
            keep_frame_buffers(frames.into_iter().map(|(b, _)| b).collect());
            Ok(total)
        }
        Err(EncodeStop::Frame(k, e)) => {
            Err(pixel_error(py, format!("frame {k}: {e}"), None, Some(k)))
        }
        Err(EncodeStop::Io(e)) => Err(e.into()),
        Err(EncodeStop::TooLong) => Err(pixel_error(
            py,
            "encapsulated frames exceed 4 GiB: the Basic Offset Table cannot address them".into(),
            None,
            None,
        )),
    }
}
