//! File to array in one call from a path: the file read whole (small) or mapped (large),
//! parsed, planned (`dicomfast_codec::as_read`) and decoded into a new array, the GIL
//! released for all but the allocation: `dicomfast.read(path).pixel_array_as(...)`
//! without the data set. None wherever that call would do anything else (the file cannot
//! be read or parsed, or the plan leaves the decision to the Python path): the caller
//! then takes that path, which raises or decodes as it always does.

use std::fs::File;
use std::io::Read;

use dicomfast_codec::as_read::plan_file;
use dicomfast_core::parse::ParseOptions;
use pyo3::prelude::*;

use super::as_read::{allocate, decode_into, CONFIGURED};

/// A file's bytes: read into memory, or mapped read-only.
enum Bytes {
    Read(Vec<u8>),
    #[cfg(unix)]
    Mapped(*mut libc::c_void, usize),
}

// SAFETY: a private read-only mapping, unmapped once on drop; nothing writes through it.
unsafe impl Send for Bytes {}
unsafe impl Sync for Bytes {}

impl Bytes {
    fn open(path: &str, read_whole_below: u64) -> Option<Bytes> {
        let mut f = File::open(path).ok()?;
        let len = f.metadata().ok().filter(|m| m.is_file())?.len();
        if len == 0 {
            return None;
        }
        #[cfg(unix)]
        if len > read_whole_below {
            use std::os::fd::AsRawFd;
            let n = usize::try_from(len).ok()?;
            // SAFETY: a fresh read-only private mapping of an open file, checked for failure;
            // unmapped in Drop.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    n,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE,
                    f.as_raw_fd(),
                    0,
                )
            };
            return (p != libc::MAP_FAILED).then_some(Bytes::Mapped(p, n));
        }
        #[cfg(not(unix))]
        let _ = read_whole_below; // read whole: no mapping here
        let mut v = Vec::with_capacity(usize::try_from(len).ok()?);
        f.read_to_end(&mut v).ok()?;
        (!v.is_empty()).then_some(Bytes::Read(v))
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Bytes::Read(v) => v,
            // SAFETY: the mapping lives as long as self and is n bytes long.
            #[cfg(unix)]
            Bytes::Mapped(p, n) => unsafe { std::slice::from_raw_parts(*p as *const u8, *n) },
        }
    }
}

impl Drop for Bytes {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Bytes::Mapped(p, n) = *self {
            // SAFETY: mapped in `open`, unmapped once.
            unsafe { libc::munmap(p, n) };
        }
    }
}

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
        let bytes = Bytes::open(path, conf.read_whole_below)?;
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
