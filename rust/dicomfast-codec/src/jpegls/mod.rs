//! JPEG-LS (ITU-T T.87 / ISO 14495-1) through CharLS 2.4.5 (crate `charls-sys`, built from
//! its bundled source with cmake, linked statically; feature `jpeg-ls`): Lossless
//! (1.2.840.10008.1.2.4.80) and Near-Lossless (.81), 2-16 bits, 1-4 components, every
//! interleave mode (none: the planes are interleaved here; line and sample come interleaved).
//!
//! The frame header is read and checked against the data set before anything is decoded,
//! so CharLS never writes more than the frame the data set describes.

use std::ffi::CStr;

use charls_sys as ls;

use crate::convert::fix_unused_bits;
use crate::{CodecError, FrameInfo};

const NAME: &str = "JPEG-LS";

struct Decoder(*mut ls::charls_jpegls_decoder);

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: created by charls_jpegls_decoder_create, destroyed once.
        unsafe { ls::charls_jpegls_decoder_destroy(self.0) }
    }
}

fn message(code: ls::charls_jpegls_errc) -> String {
    // SAFETY: CharLS returns a static NUL-terminated string for any code.
    unsafe {
        let p = ls::charls_get_error_message(code);
        if p.is_null() {
            format!("error {code}")
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    }
}

fn stream_error(code: ls::charls_jpegls_errc) -> CodecError {
    CodecError::Codestream {
        codec: NAME,
        offset: 0,
        message: message(code),
    }
}

/// The interleave mode (ILV) of the first scan (T.87 C.2.3), read from its SOS segment.
fn interleave_mode(src: &[u8]) -> Result<u8, CodecError> {
    let mut i = 2;
    while i + 4 <= src.len() {
        if src[i] != 0xFF {
            return Err(CodecError::JpegFormat {
                offset: i,
                reason: "expected a marker before the first scan",
            });
        }
        let marker = src[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([src[i + 2], src[i + 3]]));
        if marker == 0xDA {
            let ns = usize::from(*src.get(i + 4).unwrap_or(&0));
            let at = i + 4 + 1 + 2 * ns + 1;
            return src.get(at).copied().ok_or(CodecError::Truncated {
                offset: src.len(),
                needed: at + 1,
            });
        }
        if len < 2 {
            return Err(CodecError::JpegFormat {
                offset: i + 2,
                reason: "marker segment length below 2",
            });
        }
        i += 2 + len;
    }
    Err(CodecError::Truncated {
        offset: src.len(),
        needed: i + 4,
    })
}

thread_local! {
    static PLANES: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn decode(data: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError> {
    info.check_output(out)?;
    if !matches!(info.bits_allocated, 8 | 16) || info.float {
        return Err(CodecError::InvalidFrameInfo {
            reason: "JPEG-LS frames have 8 or 16 bits allocated",
        });
    }
    if data.len() < 4 || data[0] != 0xFF || data[1] != 0xD8 {
        return Err(CodecError::JpegFormat {
            offset: 0,
            reason: "the frame does not start with an SOI marker",
        });
    }
    // SAFETY: no preconditions; null is checked.
    let d = Decoder(unsafe { ls::charls_jpegls_decoder_create() });
    if d.0.is_null() {
        return Err(CodecError::Encoder {
            codec: NAME,
            message: "CharLS could not be initialised".into(),
        });
    }
    // SAFETY: `data` outlives the decoder's use of it (dropped at the end of this function).
    let rc = unsafe {
        ls::charls_jpegls_decoder_set_source_buffer(d.0, data.as_ptr().cast(), data.len())
    };
    if rc != 0 {
        return Err(stream_error(rc));
    }
    // SAFETY: live decoder with a source buffer.
    let rc = unsafe { ls::charls_jpegls_decoder_read_header(d.0) };
    if rc != 0 {
        return Err(stream_error(rc));
    }
    let mut fi = ls::charls_frame_info {
        width: 0,
        height: 0,
        bits_per_sample: 0,
        component_count: 0,
    };
    // SAFETY: header read; fi is a valid out pointer.
    let rc = unsafe { ls::charls_jpegls_decoder_get_frame_info(d.0, &mut fi) };
    if rc != 0 {
        return Err(stream_error(rc));
    }
    let mismatch = |what, stream: u32, dataset: u32| CodecError::Mismatch {
        offset: 0,
        what,
        stream,
        dataset,
    };
    if fi.width != info.columns {
        return Err(mismatch("the number of columns", fi.width, info.columns));
    }
    if fi.height != info.rows {
        return Err(mismatch("the number of rows", fi.height, info.rows));
    }
    let spp = usize::from(info.samples_per_pixel);
    if fi.component_count as usize != spp {
        return Err(mismatch(
            "the number of components",
            fi.component_count.max(0) as u32,
            u32::from(info.samples_per_pixel),
        ));
    }
    let stream_bytes = if fi.bits_per_sample > 8 { 2 } else { 1 };
    if stream_bytes > info.bytes_per_sample() {
        return Err(mismatch(
            "the sample precision (against bits allocated)",
            fi.bits_per_sample.max(0) as u32,
            u32::from(info.bits_allocated),
        ));
    }
    let planar = spp > 1 && interleave_mode(data)? == 0;
    let n = info.samples();
    let direct = !planar && stream_bytes == info.bytes_per_sample();
    PLANES.with(|cell| -> Result<(), CodecError> {
        let mut scratch = cell.borrow_mut();
        let dst: &mut [u8] = if direct {
            out
        } else {
            scratch.clear();
            scratch.resize(n * stream_bytes, 0);
            &mut scratch[..]
        };
        // SAFETY: dst holds rows * columns * components samples of the stream's width, the
        // size CharLS writes for this (checked) frame with the default stride.
        let rc = unsafe {
            ls::charls_jpegls_decoder_decode_to_buffer(d.0, dst.as_mut_ptr().cast(), dst.len(), 0)
        };
        if rc != 0 {
            return Err(stream_error(rc));
        }
        if !direct {
            let obytes = info.bytes_per_sample();
            let pixels = info.pixels();
            for (k, o) in out.chunks_exact_mut(obytes).enumerate() {
                let (p, c) = (k / spp, k % spp);
                let s = if planar { c * pixels + p } else { k };
                let v = &scratch[s * stream_bytes..(s + 1) * stream_bytes];
                o.fill(0);
                o[..stream_bytes].copy_from_slice(v);
            }
        }
        Ok(())
    })?;
    fix_unused_bits(out, info);
    Ok(())
}

/// JPEG-LS through CharLS.
#[derive(Debug, Clone, Copy)]
pub struct JpegLs;

impl crate::Codec for JpegLs {
    fn name(&self) -> &'static str {
        NAME
    }

    fn decode(&self, data: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError> {
        decode(data, info, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_streams_are_errors() {
        let info = FrameInfo::new(8, 8, 1, 8);
        let mut out = vec![0u8; 64];
        assert!(decode(&[], &info, &mut out).is_err());
        assert!(decode(&[0xFF, 0xD8, 0xFF, 0xF7, 0, 11, 8], &info, &mut out).is_err());
        assert!(decode(&[0xFF, 0xD8, 0xFF, 0xDA], &info, &mut out).is_err());
    }
}
