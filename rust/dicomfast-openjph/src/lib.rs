//! HTJ2K (ISO/IEC 15444-15) encoding through the system OpenJPH library (Debian
//! `libopenjph-dev`), whose API is C++: `src/shim.cpp` is our C ABI over it, and
//! [`encode`] the safe call. One frame, one tile, one quality layer, 64x64 code-blocks,
//! every code-block HT-coded (OpenJPH writes the CAP marker and the Part 15 Rsiz).
//!
//! Errors never unwind across the boundary: OpenJPH's are caught in the shim and come
//! back as the message of [`encode`]'s `Err`.

use std::ffi::{c_char, c_int, c_void, CStr, CString};

#[repr(C)]
struct RawImage {
    width: u32,
    height: u32,
    components: u32,
    bit_depth: u32,
    is_signed: i32,
    bytes_per_sample: u32,
    samples: *const u8,
}

#[repr(C)]
struct RawCoding {
    reversible: i32,
    colour_transform: i32,
    decompositions: u32,
    qstep: f32,
    progression: *const c_char,
}

type WriteFn = unsafe extern "C" fn(user: *mut c_void, data: *const u8, len: usize) -> usize;

#[cfg(have_openjph)]
extern "C" {
    fn dfojph_encode(
        image: *const RawImage,
        coding: *const RawCoding,
        write: WriteFn,
        user: *mut c_void,
        err: *mut c_char,
        err_len: usize,
    ) -> c_int;
}

/// JPEG 2000 progression orders (T.800 Table A.16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progression {
    Lrcp,
    Rlcp,
    Rpcl,
    Pcrl,
    Cprl,
}

impl Progression {
    fn name(self) -> &'static CStr {
        match self {
            Progression::Lrcp => c"LRCP",
            Progression::Rlcp => c"RLCP",
            Progression::Rpcl => c"RPCL",
            Progression::Pcrl => c"PCRL",
            Progression::Cprl => c"CPRL",
        }
    }
}

/// One frame to encode: `samples` holds `height * width * components` samples of
/// `bytes_per_sample` bytes each (little endian, the samples of a pixel together); the low
/// `bit_depth` bits of each are the value (two's complement when `signed`).
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub width: u32,
    pub height: u32,
    pub components: u32,
    pub bit_depth: u32,
    pub signed: bool,
    pub bytes_per_sample: u32,
    pub samples: &'a [u8],
}

/// How to code it.
#[derive(Debug, Clone, Copy)]
pub struct Coding {
    /// Reversible 5/3 wavelet (lossless; with the RCT for colour) or irreversible 9/7
    /// (with the ICT).
    pub reversible: bool,
    /// Code three components with the colour transform.
    pub colour_transform: bool,
    /// Wavelet decomposition levels (0-32).
    pub decompositions: u32,
    /// Irreversible coding: the base quantisation step, of a unit sample range.
    pub qstep: f32,
    pub progression: Progression,
}

unsafe extern "C" fn append(user: *mut c_void, data: *const u8, len: usize) -> usize {
    // SAFETY: `user` is the Vec given to dfojph_encode, alive and exclusively ours for the
    // call; OpenJPH's buffer holds `len` bytes.
    let out = unsafe { &mut *(user as *mut Vec<u8>) };
    if len > 0 {
        out.extend_from_slice(unsafe { std::slice::from_raw_parts(data, len) });
    }
    len
}

/// The largest irreversible base step [`encode`] takes: every sub-band's step (the base
/// divided by its energy gains, all at least 1) then needs two or more doublings to reach
/// 1, which OpenJPH requires.
pub const MAX_QSTEP: f32 = 0.25;

/// Whether this build has OpenJPH (its headers were found at build time); without it
/// [`encode`] always fails.
pub const AVAILABLE: bool = cfg!(have_openjph);

/// Stands in for the shim in a build without OpenJPH: fails with a message.
#[cfg(not(have_openjph))]
unsafe fn dfojph_encode(
    _image: *const RawImage,
    _coding: *const RawCoding,
    _write: WriteFn,
    _user: *mut c_void,
    err: *mut c_char,
    err_len: usize,
) -> c_int {
    let msg = b"HTJ2K encoding is not in this build (OpenJPH, Debian libopenjph-dev, was not found when it was built)";
    let n = msg.len().min(err_len.saturating_sub(1));
    // SAFETY: `err` points at `err_len` writable bytes (the caller's buffer).
    unsafe {
        std::ptr::copy_nonoverlapping(msg.as_ptr(), err as *mut u8, n);
        *err.add(n) = 0;
    }
    -1
}

/// OpenJPH 0.9 makes its block coder's tables on the first encode of the process, without
/// a lock (`initialize_block_encoder_tables` clears them, then fills them, then sets a
/// plain flag): two frames encoded at once as a process's first could read half-made
/// tables. One small encode, once, before any other, makes them while nothing else
/// encodes; the `Once` also orders every later encode after it. (Separately, OpenJPH
/// 0.9's bytes for an odd-sized block vary from run to run, each decoding exactly: it
/// codes samples past the block's edge from memory it did not clear.)
fn make_tables_once() {
    static TABLES: std::sync::Once = std::sync::Once::new();
    TABLES.call_once(|| {
        let samples = [0u8; 64 * 64];
        let frame = Frame {
            width: 64,
            height: 64,
            components: 1,
            bit_depth: 8,
            signed: false,
            bytes_per_sample: 1,
            samples: &samples,
        };
        let coding = Coding {
            reversible: true,
            colour_transform: false,
            decompositions: 1,
            qstep: 0.0,
            progression: Progression::Rpcl,
        };
        let _ = encode_now(&frame, &coding, &mut Vec::new());
    });
}

/// Encode `frame` as a J2K codestream appended to `out`.
pub fn encode(frame: &Frame<'_>, coding: &Coding, out: &mut Vec<u8>) -> Result<(), String> {
    make_tables_once();
    encode_now(frame, coding, out)
}

fn encode_now(frame: &Frame<'_>, coding: &Coding, out: &mut Vec<u8>) -> Result<(), String> {
    let pixels = u64::from(frame.width) * u64::from(frame.height) * u64::from(frame.components);
    if frame.width == 0
        || frame.height == 0
        || !matches!(frame.components, 1 | 3)
        || !(1..=16).contains(&frame.bit_depth)
        || !matches!(frame.bytes_per_sample, 1 | 2)
        || frame.bit_depth > 8 * frame.bytes_per_sample
        || coding.decompositions > 32
        // Steps above a quarter of the range leave a band without magnitude bits (OpenJPH
        // asserts on K_max < 2, aborting the process).
        || !(coding.reversible || (coding.qstep > 0.0 && coding.qstep <= MAX_QSTEP))
        || (frame.samples.len() as u64) != pixels * u64::from(frame.bytes_per_sample)
    {
        return Err("frame layout OpenJPH cannot take".into());
    }
    let image = RawImage {
        width: frame.width,
        height: frame.height,
        components: frame.components,
        bit_depth: frame.bit_depth,
        is_signed: i32::from(frame.signed),
        bytes_per_sample: frame.bytes_per_sample,
        samples: frame.samples.as_ptr(),
    };
    let progression: CString = coding.progression.name().into();
    let raw = RawCoding {
        reversible: i32::from(coding.reversible),
        colour_transform: i32::from(coding.colour_transform),
        decompositions: coding.decompositions,
        qstep: coding.qstep,
        progression: progression.as_ptr(),
    };
    let mut err = [0 as c_char; 512];
    // SAFETY: image and coding point at live values whose sample buffer was checked to
    // hold every sample; `out` outlives the call and `append` is its only writer.
    let rc = unsafe {
        dfojph_encode(
            &image,
            &raw,
            append,
            out as *mut Vec<u8> as *mut c_void,
            err.as_mut_ptr(),
            err.len(),
        )
    };
    if rc == 0 {
        return Ok(());
    }
    // SAFETY: the shim NUL-terminates the message within the buffer.
    let msg = unsafe { CStr::from_ptr(err.as_ptr()) }.to_string_lossy();
    Err(msg.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(not(have_openjph))]
    #[test]
    fn says_it_is_not_in_the_build() {
        let frame = Frame {
            width: 1,
            height: 1,
            components: 1,
            bit_depth: 8,
            signed: false,
            bytes_per_sample: 1,
            samples: &[7],
        };
        let coding = Coding {
            reversible: true,
            colour_transform: false,
            decompositions: 0,
            qstep: 0.0,
            progression: Progression::Lrcp,
        };
        let err = encode(&frame, &coding, &mut Vec::new()).unwrap_err();
        assert!(!AVAILABLE && err.contains("not in this build"), "{err}");
    }

    #[cfg(have_openjph)]
    #[test]
    fn encodes_and_refuses() {
        let samples: Vec<u8> = (0..64u32 * 48 * 2).map(|i| (i * 7 % 251) as u8).collect();
        let frame = Frame {
            width: 64,
            height: 48,
            components: 1,
            bit_depth: 12,
            signed: false,
            bytes_per_sample: 2,
            samples: &samples,
        };
        let coding = Coding {
            reversible: true,
            colour_transform: false,
            decompositions: 5,
            qstep: 0.0,
            progression: Progression::Rpcl,
        };
        let mut out = Vec::new();
        encode(&frame, &coding, &mut out).unwrap();
        assert!(out.starts_with(&[0xFF, 0x4F, 0xFF, 0x51]) && out.ends_with(&[0xFF, 0xD9]));
        let bad = Frame {
            samples: &samples[1..],
            ..frame
        };
        assert!(encode(&bad, &coding, &mut out).is_err());
        // Steps OpenJPH would abort on are refused; the largest it takes works.
        for (qstep, ok) in [(-1.0, false), (0.0, false), (0.5, false), (MAX_QSTEP, true)] {
            let lossy = Coding {
                reversible: false,
                qstep,
                ..coding
            };
            let tiny = Frame {
                width: 1,
                height: 1,
                bit_depth: 1,
                bytes_per_sample: 1,
                samples: &[1],
                ..frame
            };
            assert_eq!(
                encode(&tiny, &lossy, &mut Vec::new()).is_ok(),
                ok,
                "{qstep}"
            );
        }
    }
}
