//! A file's bytes for the parser: read into memory when small, mapped read-only when
//! large (on Unix), so that parsing a header touches only the pages it reads.

use std::fs::File;
use std::io::{self, Read};

/// A file's bytes: read, or mapped read-only.
pub struct FileBytes(Inner);

enum Inner {
    Read(Vec<u8>),
    #[cfg(unix)]
    Mapped(*mut std::ffi::c_void, usize),
}

// SAFETY: a private read-only mapping, unmapped once on drop; nothing writes through it.
unsafe impl Send for FileBytes {}
unsafe impl Sync for FileBytes {}

impl FileBytes {
    /// The file at `path` when it is a non-empty regular file (else None), read whole
    /// or mapped as [`FileBytes::of`] says.
    pub fn open_regular(path: &std::path::Path, read_whole_below: u64) -> Option<FileBytes> {
        let mut f = File::open(path).ok()?;
        let len = f.metadata().ok().filter(|m| m.is_file())?.len();
        if len == 0 {
            return None;
        }
        let bytes = FileBytes::of(&mut f, len, read_whole_below).ok()?;
        (!bytes.bytes().is_empty()).then_some(bytes)
    }

    /// The bytes of the open file `f`, `len` long (its size): mapped when longer than
    /// `read_whole_below` (on Unix) and not empty, else read whole.
    pub fn of(f: &mut File, len: u64, read_whole_below: u64) -> io::Result<FileBytes> {
        #[cfg(unix)]
        if len > read_whole_below {
            use std::os::fd::AsRawFd;
            let n = usize::try_from(len).map_err(|_| io::Error::other("file too large"))?;
            // SAFETY: a fresh read-only private mapping of an open file, checked for
            // failure; unmapped in Drop.
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
            if p == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            return Ok(FileBytes(Inner::Mapped(p, n)));
        }
        #[cfg(not(unix))]
        let _ = read_whole_below; // read whole: no mapping here
        let mut v = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        f.read_to_end(&mut v)?;
        Ok(FileBytes(Inner::Read(v)))
    }

    pub fn bytes(&self) -> &[u8] {
        match &self.0 {
            Inner::Read(v) => v,
            // SAFETY: the mapping lives as long as self and is n bytes long.
            #[cfg(unix)]
            Inner::Mapped(p, n) => unsafe { std::slice::from_raw_parts(*p as *const u8, *n) },
        }
    }
}

impl Drop for FileBytes {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Inner::Mapped(p, n) = self.0 {
            // SAFETY: mapped in `of`, unmapped once.
            unsafe { libc::munmap(p, n) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FileBytes;
    use std::io::Write;

    #[test]
    fn read_and_mapped_bytes_are_the_files() {
        let path = std::env::temp_dir().join(format!("dicomfast-bytes-{}", std::process::id()));
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::File::create(&path)
            .unwrap()
            .write_all(&data)
            .unwrap();
        for below in [0, 1 << 20] {
            // mapped (0: every non-empty file), then read whole
            let mut f = std::fs::File::open(&path).unwrap();
            let b = FileBytes::of(&mut f, data.len() as u64, below).unwrap();
            assert_eq!(b.bytes(), &data[..]);
        }
        std::fs::remove_file(&path).unwrap();
    }
}
