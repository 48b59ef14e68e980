//! JPEG-LS (ITU-T T.87 / ISO 14495-1): Lossless (1.2.840.10008.1.2.4.80) and Near-Lossless
//! (.81), 2-16 bits, 1-4 components, every interleave mode.
//!
//! Decoding is by our own decoder ([`decoder`]) for what clinical JPEG-LS is (one to four
//! components in a scan each or interleaved by line or by sample; default or preset coding
//! parameters), and through CharLS 2.4.5 (crate `charls-sys`, built from its bundled source
//! with cmake, linked statically; feature `jpeg-ls`) for the rest (mapping tables, restart
//! intervals, colour transforms, a preset MAXVAL below 2^P - 1) and for a stream ours finds
//! damaged, so that CharLS has the last word on those as before. A stream of 2-7 bits that
//! T.87's default thresholds find damaged is first tried with those CharLS 1.x computed
//! ([`context::Defaults::CharLs1`]: DCMTK's `dcmcjpls` up to 3.6.x wrote such streams
//! without saying so), and taken if every scan then decodes to its last bit. For CharLS the
//! frame header is read and checked against the data set before anything is decoded, so it
//! never writes more than the frame the data set describes (planes of the mode without
//! interleaving are interleaved here; line and sample come interleaved).
//!
//! Encoding, by our own encoder ([`encoder`], CharLS's streams byte for byte, but for the
//! thresholds a near-lossless stream of 2-7 bits carries in an LSE marker): both
//! syntaxes, 2-16 bits stored, 1-4 samples (sample-interleaved, no colour transform);
//! samples are coded as their Bits Stored low bits (signed data as its two's complement
//! pattern, as DCMTK and GDCM do), NEAR = [`EncodeParams::max_error`] for Near-Lossless
//! and 0 for Lossless whatever it says.

use std::ffi::CStr;

use charls_sys as ls;

use crate::codec::EncodeParams;
use crate::convert::fix_jls_bits;
use crate::registry::TransferSyntax;
use crate::{CodecError, FrameInfo};

mod bits;
mod context;
mod decoder;
mod encoder;
mod header;
mod lines;
mod scan;

const NAME: &str = "JPEG-LS";
const LOSSLESS: &str = "1.2.840.10008.1.2.4.80";
const NEAR_LOSSLESS: &str = "1.2.840.10008.1.2.4.81";
/// The largest NEAR for `bits` bits: min(255, MAXVAL / 2) (T.87 C.2.4.1.1).
fn max_near(bits: u16) -> u16 {
    (((1u32 << bits) - 1) / 2).min(255) as u16
}

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

/// `data`, ended by an EOI marker: as it is when it has one (or one and a padding byte,
/// 0x00 or 0xFF as writers pad fragments to even length: WG04's near-lossless CT1_JLSN;
/// a copy of such a frame was ~3% of its decode), else a copy with one appended.  CharLS, reading a scan that stops without a marker,
/// can take seconds to give up even on a few bytes (a 56-byte near-lossless stream: 2 s;
/// found by the `c_decode` fuzz target); with the marker it fails at once, and a stream
/// that is only missing its EOI still decodes.
fn terminated(data: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    const EOI: [u8; 2] = [0xFF, 0xD9];
    let padded = data.len() > EOI.len() && data[..data.len() - 1].ends_with(&EOI);
    if data.ends_with(&EOI) || padded {
        return std::borrow::Cow::Borrowed(data);
    }
    let mut owned = Vec::with_capacity(data.len() + 2);
    owned.extend_from_slice(data);
    owned.extend_from_slice(&EOI);
    std::borrow::Cow::Owned(owned)
}

fn decode(data: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError> {
    info.check_output(out)?;
    let ours = match decoder::decode(data, info, out) {
        // A stream of 2-7 bits that T.87's default thresholds find damaged may be one
        // that CharLS 1.x wrote with its own (DCMTK's dcmcjpls among others, which
        // DCMTK's dcmdjpls reads alike): taken if they decode it to its last bit.
        Err(header::Declined::Corrupt { .. }) => decoder::decode_as_charls_1(data, info, out),
        r => r,
    };
    if let Ok(precision) = ours {
        fix_jls_bits(out, info, precision);
        return Ok(());
    }
    decode_charls(data, info, out)
}

/// Test hook: `data` decoded by our decoder alone (an error where it declines).
#[doc(hidden)]
pub fn decode_ours(data: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), String> {
    info.check_output(out).map_err(|e| e.to_string())?;
    let precision = decoder::decode(data, info, out).map_err(|e| format!("{e:?}"))?;
    fix_jls_bits(out, info, precision);
    Ok(())
}

/// Test hook: `data` decoded by CharLS alone.
#[doc(hidden)]
pub fn decode_by_charls(data: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError> {
    info.check_output(out)?;
    decode_charls(data, info, out)
}

/// [`decode`] through CharLS.
fn decode_charls(data: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError> {
    let data = &*terminated(data);
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
    fix_jls_bits(out, info, fi.bits_per_sample.max(0) as u32);
    Ok(())
}

fn encode(src: &[u8], info: &FrameInfo, near: u16, out: &mut Vec<u8>) -> Result<usize, CodecError> {
    info.validate()?;
    let expected = crate::frame_size_bytes(info);
    if src.len() != expected {
        return Err(CodecError::InputSize {
            expected,
            actual: src.len(),
        });
    }
    let bits = info.bits_stored;
    if !matches!(info.bits_allocated, 8 | 16) || info.float || !(2..=16).contains(&bits) {
        return Err(CodecError::InvalidFrameInfo {
            reason: "JPEG-LS encodes 2-16-bit samples (Bits Allocated 8 or 16)",
        });
    }
    let spp = info.samples_per_pixel;
    if !(1..=4).contains(&spp) {
        return Err(CodecError::InvalidFrameInfo {
            reason: "JPEG-LS encodes 1 to 4 samples per pixel",
        });
    }
    if near > max_near(bits) {
        return Err(CodecError::Encoder {
            codec: NAME,
            message: format!(
                "NEAR {near} is above {} for {bits}-bit samples",
                max_near(bits)
            ),
        });
    }
    // Signed samples are coded as their two's complement pattern, so the ends of the signed
    // range meet in the middle of the coded one: an error of up to NEAR there would turn
    // the most positive values into the most negative. Such frames are refused.
    if near > 0 && info.signed() {
        let half = 1i32 << (bits - 1);
        let near = i32::from(near);
        let ext = |s: &[u8]| -> i32 {
            let v = u32::from(s[0]) | s.get(1).map_or(0, |&h| u32::from(h) << 8);
            ((v << (32 - bits)) as i32) >> (32 - bits)
        };
        if src
            .chunks_exact(info.bytes_per_sample())
            .any(|s| !(-half + near..half - near).contains(&ext(s)))
        {
            return Err(CodecError::Encoder {
                codec: NAME,
                message: format!(
                    "signed samples within max_error {near} of the ends of the {bits}-bit range \
                     cannot be coded near-lossless"
                ),
            });
        }
    }
    // Lossless: 8 bits or fewer are coded with the precision Bits Allocated, as DCMTK
    // does (its CharLS misreads lower precisions and wants the sample width to match);
    // near-lossless keeps the precision, so that no error leaves the Bits Stored range.
    let precision = if near == 0 && bits <= 8 {
        info.bits_allocated
    } else {
        bits
    };
    // The samples as CharLS reads them: the stream's width, the Bits Stored low bits; for
    // signed samples coded at a wider precision, their two's complement at that precision
    // (sign-extended), so that a decoder that takes the codestream's precision as the
    // samples' (pydicom 3, and ours: JPEG-LS codes no sign) reads them back negative.
    let stream_bytes = if precision > 8 { 2 } else { 1 };
    let mask = ((1u32 << bits) - 1) as u16;
    let widen = info.signed() && precision > bits;
    let code = |x: u16| -> u16 {
        if widen {
            let v = (i32::from(x) << (32 - u32::from(bits))) >> (32 - u32::from(bits));
            (v as u32 & ((1u32 << precision) - 1)) as u16
        } else {
            x & mask
        }
    };
    let ibytes = info.bytes_per_sample();
    // Already so when the widths match and no sample has a bit above Bits Stored: then the
    // frame is read where it is (a 512x512 16-bit copy cost ~0.3 ms of a ~3.7 ms encode).
    let clean = stream_bytes == ibytes
        && !widen
        && (u32::from(bits) == 8 * ibytes as u32
            || if ibytes == 1 {
                src.iter().fold(0u8, |a, &b| a | b) & !(mask as u8) == 0
            } else {
                src.chunks_exact(2)
                    .fold(0u16, |a, b| a | u16::from_le_bytes([b[0], b[1]]))
                    & !mask
                    == 0
            });
    let copied: Vec<u8>;
    let samples: &[u8] = if clean {
        src
    } else {
        let mut v = vec![0u8; info.samples() * stream_bytes];
        match (ibytes, stream_bytes) {
            (2, 2) => {
                for (d, s) in v.chunks_exact_mut(2).zip(src.chunks_exact(2)) {
                    let x = code(u16::from_le_bytes([s[0], s[1]]));
                    d.copy_from_slice(&x.to_le_bytes());
                }
            }
            (2, 1) => {
                for (d, s) in v.iter_mut().zip(src.chunks_exact(2)) {
                    *d = code(u16::from_le_bytes([s[0], s[1]])) as u8;
                }
            }
            _ => {
                for (d, &s) in v.iter_mut().zip(src) {
                    *d = code(u16::from(s)) as u8;
                }
            }
        }
        copied = v;
        &copied
    };
    let image = encoder::Image {
        w: info.columns as usize,
        h: info.rows as usize,
        comps: usize::from(spp),
        precision: precision as u8,
        near: near as u8,
    };
    out.clear();
    out.reserve(samples.len() + samples.len() / 2 + 64);
    encoder::encode(samples, image, out).map_err(|e| CodecError::Encoder {
        codec: NAME,
        message: format!("{e:?}"),
    })?;
    Ok(out.len())
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

    fn can_encode(&self, ts: &TransferSyntax) -> bool {
        ts.uid == LOSSLESS
    }

    fn encode_in(
        &self,
        src: &[u8],
        info: &FrameInfo,
        _params: &EncodeParams,
        out: &mut Vec<u8>,
    ) -> Result<usize, CodecError> {
        encode(src, info, 0, out)
    }
}

/// JPEG-LS Near-Lossless (.81) through CharLS: [`JpegLs`]'s decoder, and the encoder with
/// NEAR = [`EncodeParams::max_error`] (a codec of its own so that the lossless syntax's
/// encoder never loses information).
#[derive(Debug, Clone, Copy)]
pub struct JpegLsNear;

impl crate::Codec for JpegLsNear {
    fn name(&self) -> &'static str {
        NAME
    }

    fn decode(&self, data: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError> {
        decode(data, info, out)
    }

    fn can_encode(&self, ts: &TransferSyntax) -> bool {
        ts.uid == NEAR_LOSSLESS
    }

    fn check_params(&self, _ts: &TransferSyntax, params: &EncodeParams) -> Result<(), String> {
        if params.max_error > 255 {
            return Err(format!(
                "JPEG-LS near-lossless max_error (NEAR) must be 0 to 255, not {}",
                params.max_error
            ));
        }
        Ok(())
    }

    fn encode_in(
        &self,
        src: &[u8],
        info: &FrameInfo,
        params: &EncodeParams,
        out: &mut Vec<u8>,
    ) -> Result<usize, CodecError> {
        encode(src, info, params.max_error, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::fix_unused_bits;

    struct Encoder(*mut ls::charls_jpegls_encoder);

    impl Drop for Encoder {
        fn drop(&mut self) {
            // SAFETY: created by charls_jpegls_encoder_create, destroyed once.
            unsafe { ls::charls_jpegls_encoder_destroy(self.0) }
        }
    }

    /// `samples` (`comps` interleaved, of `info`'s width) coded by CharLS with interleave
    /// mode `ilv`, NEAR `near` and preset coding parameters `preset` (MAXVAL, T1-T3, RESET).
    fn charls_encode(
        samples: &[u8],
        info: &FrameInfo,
        ilv: u32,
        near: i32,
        preset: Option<[i32; 5]>,
    ) -> Vec<u8> {
        let e = Encoder(unsafe { ls::charls_jpegls_encoder_create() });
        let fi = ls::charls_frame_info {
            width: info.columns,
            height: info.rows,
            bits_per_sample: i32::from(info.bits_stored),
            component_count: i32::from(info.samples_per_pixel),
        };
        let mut out = vec![0u8; samples.len() * 2 + 4096];
        let mut written = 0;
        // SAFETY: a live encoder; valid pointers and sizes for each call.
        let rc = unsafe {
            let mut rc = ls::charls_jpegls_encoder_set_frame_info(e.0, &fi);
            rc = rc.max(ls::charls_jpegls_encoder_set_near_lossless(e.0, near));
            rc = rc.max(ls::charls_jpegls_encoder_set_interleave_mode(e.0, ilv as _));
            if let Some([maxval, t1, t2, t3, reset]) = preset {
                let pc = ls::charls_jpegls_pc_parameters {
                    maximum_sample_value: maxval,
                    threshold1: t1,
                    threshold2: t2,
                    threshold3: t3,
                    reset_value: reset,
                };
                rc = rc.max(ls::charls_jpegls_encoder_set_preset_coding_parameters(
                    e.0, &pc,
                ));
            }
            rc = rc.max(ls::charls_jpegls_encoder_set_destination_buffer(
                e.0,
                out.as_mut_ptr().cast(),
                out.len(),
            ));
            rc = rc.max(ls::charls_jpegls_encoder_encode_from_buffer(
                e.0,
                samples.as_ptr().cast(),
                samples.len(),
                0,
            ));
            rc.max(ls::charls_jpegls_encoder_get_bytes_written(
                e.0,
                &mut written,
            ))
        };
        assert_eq!(rc, 0, "{}", message(rc));
        out.truncate(written);
        out
    }

    /// A test image: noise of `noise` bits over smooth ramps, with flat stretches (runs),
    /// each sample below `max`.
    fn image(n: usize, bytes: usize, max: u32, noise: u32, seed: u64) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut out = Vec::with_capacity(n * bytes);
        for i in 0..n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let flat = (i / 37) % 3 == 0;
            let base = ((i as u64 * 7919 / (n as u64 + 1)) as u32) % (max + 1);
            let v = if flat {
                base / 2
            } else {
                (base + (x as u32 & ((1 << noise) - 1))).min(max)
            };
            out.extend_from_slice(&v.to_le_bytes()[..bytes]);
        }
        out
    }

    #[test]
    fn our_decoder_gives_charls_samples() {
        let mut cases = 0;
        for (k, &(w, h, bits, comps, ilv, near, preset)) in [
            (1, 1, 8, 1, 0, 0, None),
            (1, 17, 8, 1, 0, 0, None),
            (23, 1, 16, 1, 0, 0, None),
            (64, 48, 16, 1, 0, 0, None),
            (64, 48, 12, 1, 0, 0, None),
            (37, 29, 8, 1, 0, 0, None),
            (37, 29, 2, 1, 0, 0, None),
            (37, 29, 5, 1, 0, 1, None),
            (37, 29, 7, 1, 0, 3, None),
            (64, 48, 16, 1, 0, 2, None),
            (64, 48, 12, 1, 0, 7, None),
            (40, 30, 8, 3, 0, 0, None),
            (40, 30, 8, 3, 1, 0, None),
            (40, 30, 12, 3, 1, 2, None),
            (40, 30, 16, 3, 0, 1, None),
            (33, 21, 8, 4, 1, 0, None),
            (40, 30, 8, 3, 2, 0, None),
            (40, 30, 12, 3, 2, 2, None),
            (33, 21, 8, 4, 2, 1, None),
            (50, 40, 12, 1, 0, 0, Some([4095, 9, 30, 200, 100])),
            (50, 40, 16, 1, 0, 0, Some([0, 20, 80, 300, 32])),
            (50, 40, 8, 1, 0, 2, Some([255, 6, 12, 40, 64])),
            (50, 40, 8, 3, 1, 0, Some([255, 3, 7, 21, 255])),
        ]
        .iter()
        .enumerate()
        {
            for noise in [0, 1, 3, bits.min(9)] {
                let mut info = FrameInfo::new(h, w, comps, if bits > 8 { 16 } else { 8 });
                info.bits_stored = bits;
                let max = match preset {
                    Some([m, ..]) if m > 0 => m as u32,
                    _ => (1u32 << bits) - 1,
                };
                let src = image(
                    (w * h) as usize * usize::from(comps),
                    info.bytes_per_sample(),
                    max,
                    u32::from(noise),
                    k as u64 * 31 + u64::from(noise),
                );
                let coded = charls_encode(&src, &info, ilv, near, preset);
                let mut theirs = vec![0u8; src.len()];
                decode_charls(&coded, &info, &mut theirs).unwrap();
                let mut ours = vec![0u8; src.len()];
                let r = decoder::decode(&coded, &info, &mut ours);
                assert!(r.is_ok(), "case {k} noise {noise}: {r:?}");
                fix_unused_bits(&mut ours, &info);
                assert!(ours == theirs, "case {k} noise {noise}: samples differ");
                cases += 1;
            }
        }
        assert_eq!(cases, 92);
    }

    /// What a test codes: `comps` samples of `bits` bits, `w` x `h`, NEAR `near`.
    fn coded(w: u32, h: u32, comps: u16, bits: u16, near: u8) -> encoder::Image {
        encoder::Image {
            w: w as usize,
            h: h as usize,
            comps: usize::from(comps),
            precision: bits as u8,
            near,
        }
    }

    /// `stream` without its first LSE marker segment (before the first SOS).
    fn without_lse(stream: &[u8]) -> Vec<u8> {
        let at = stream
            .windows(2)
            .position(|m| m == [0xFF, 0xF8])
            .expect("an LSE marker");
        let len = usize::from(u16::from_be_bytes([stream[at + 2], stream[at + 3]]));
        [&stream[..at], &stream[at + 2 + len..]].concat()
    }

    #[test]
    fn streams_of_charls_1x_default_thresholds_decode() {
        // CharLS 1.x (DCMTK's dcmcjpls up to 3.6.x) computed the default thresholds of
        // MAXVAL below 128 with the formula T.87 gives for 128 and above, and wrote no
        // LSE marker: T.87's defaults find such a stream damaged, CharLS 2 refuses it.
        // Ours takes CharLS 1.x's defaults then, when they decode it to its last bit.
        // (At NEAR 0 the two differ from 6 bits up, with NEAR from 3 bits.)
        for (k, &(w, h, bits, comps, near)) in [
            (37, 29, 7, 1, 0),
            (64, 48, 6, 1, 0),
            (64, 48, 7, 1, 2),
            (40, 30, 6, 3, 1),
            (33, 21, 5, 1, 1),
            (50, 40, 3, 1, 1),
        ]
        .iter()
        .enumerate()
        {
            let mut info = FrameInfo::new(h, w, comps, 8);
            info.bits_stored = bits;
            let n = (w * h) as usize * usize::from(comps);
            let src = image(n, 1, (1u32 << bits) - 1, 3, k as u64);
            let image = coded(w, h, comps, bits, near);
            let mut legacy = Vec::new();
            encoder::encode_as(&src, image, &mut legacy, context::Defaults::CharLs1).unwrap();
            assert!(
                !legacy.windows(2).any(|m| m == [0xFF, 0xF8]),
                "case {k}: no LSE"
            );
            let mut out = vec![0u8; n];
            assert!(
                decoder::decode(&legacy, &info, &mut out).is_err(),
                "case {k}: T.87's defaults take it"
            );
            let mut charls = vec![0u8; n];
            assert!(decode_by_charls(&legacy, &info, &mut charls).is_err());
            decode(&legacy, &info, &mut out).unwrap();
            let within = |a: &[u8]| a.iter().zip(&src).all(|(x, y)| x.abs_diff(*y) <= near);
            assert!(within(&out), "case {k}: samples");
            // Cut short: an error, not what CharLS 1.x's thresholds make of the rest.
            let mid = legacy.len() / 2;
            let cut = [&legacy[..mid], &[0xFF, 0xD9][..]].concat();
            assert!(
                decode(&cut, &info, &mut out).is_err(),
                "case {k}: cut short"
            );
            // Our own streams of those depths carry their thresholds: both readings agree.
            let mut ours = Vec::new();
            encoder::encode(&src, image, &mut ours).unwrap();
            decoder::decode(&ours, &info, &mut out).unwrap();
            assert!(within(&out), "case {k}: our stream");
            decode_by_charls(&ours, &info, &mut charls).unwrap();
            assert!(charls == out, "case {k}: CharLS reads ours alike");
        }
    }

    #[test]
    fn our_encoder_writes_charls_bytes() {
        let mut cases = 0;
        for (k, &(w, h, bits, comps, near)) in [
            (1, 1, 8, 1, 0),
            (1, 19, 8, 1, 0),
            (23, 1, 16, 1, 0),
            (64, 48, 16, 1, 0),
            (64, 48, 12, 1, 0),
            (37, 29, 8, 1, 0),
            (37, 29, 2, 1, 0),
            (37, 29, 5, 1, 1),
            (37, 29, 7, 1, 3),
            (64, 48, 16, 1, 2),
            (64, 48, 12, 1, 7),
            (40, 30, 8, 3, 0),
            (40, 30, 12, 3, 2),
            (33, 21, 8, 4, 1),
            (33, 21, 16, 3, 0),
        ]
        .iter()
        .enumerate()
        {
            for noise in [0, 1, 3, bits.min(9)] {
                let mut info = FrameInfo::new(h, w, comps, if bits > 8 { 16 } else { 8 });
                info.bits_stored = bits;
                let src = image(
                    (w * h) as usize * usize::from(comps),
                    info.bytes_per_sample(),
                    (1u32 << bits) - 1,
                    u32::from(noise),
                    k as u64 * 7 + u64::from(noise),
                );
                let ilv = if comps > 1 { 2 } else { 0 };
                let theirs = charls_encode(&src, &info, ilv, near, None);
                let mut ours = Vec::new();
                let image = coded(w, h, comps, bits, near as u8);
                encoder::encode(&src, image, &mut ours).unwrap();
                if bits < 8 {
                    // Ours carries the default thresholds in an LSE marker below 8 bits
                    // (for CharLS 1.x's readers); CharLS 2 writes none: the rest alike.
                    ours = without_lse(&ours);
                }
                assert!(
                    ours == theirs,
                    "case {k} noise {noise}: streams differ\n{:02x?}\n{:02x?}",
                    &ours[..ours.len().min(60)],
                    &theirs[..theirs.len().min(60)]
                );
                cases += 1;
            }
        }
        assert_eq!(cases, 60);
    }

    #[test]
    fn our_decoder_declines_what_charls_takes() {
        // A MAXVAL that is not 2^n - 1: CharLS brings predictions and samples into range
        // with a mask (exact only for 2^n - 1) where T.87 clamps; its reading is kept.
        let mut info = FrameInfo::new(40, 50, 1, 8);
        info.bits_stored = 8;
        let src = image(40 * 50, 1, 200, 3, 5);
        let coded = charls_encode(&src, &info, 0, 2, Some([200, 6, 12, 40, 64]));
        let mut out = vec![0u8; src.len()];
        assert!(matches!(
            decoder::decode(&coded, &info, &mut out),
            Err(header::Declined::Unsupported(_))
        ));
        decode(&coded, &info, &mut out).unwrap();
        assert!(out.iter().zip(&src).all(|(a, b)| a.abs_diff(*b) <= 2));

        // A MAXVAL of 2^n - 1 below 2^P - 1: CharLS codes it with 2^P - 1's RANGE,
        // qbpp and LIMIT, so it is left to CharLS too.
        for (max, near) in [(4095u32, 0i32), (1023, 3)] {
            let mut info = FrameInfo::new(40, 50, 1, 16);
            info.bits_stored = 16;
            let src = image(40 * 50, 2, max, 9, 7);
            let coded = charls_encode(&src, &info, 0, near, Some([max as i32, 0, 0, 0, 0]));
            let mut out = vec![0u8; src.len()];
            assert!(matches!(
                decoder::decode(&coded, &info, &mut out),
                Err(header::Declined::Unsupported(_))
            ));
            decode(&coded, &info, &mut out).unwrap();
            let v = |c: &[u8]| u16::from_le_bytes([c[0], c[1]]);
            assert!(out
                .chunks(2)
                .zip(src.chunks(2))
                .all(|(a, b)| v(a).abs_diff(v(b)) <= near as u16));
        }

        // Sample interleaving: ours.
        let mut info = FrameInfo::new(20, 30, 3, 8);
        info.bits_stored = 8;
        let src = image(20 * 30 * 3, 1, 255, 4, 9);
        let coded = charls_encode(&src, &info, 2, 0, None);
        let mut out = vec![0u8; src.len()];
        decoder::decode(&coded, &info, &mut out).unwrap();
        assert_eq!(out, src);
    }

    #[test]
    fn our_decoder_finds_damage_and_truncation() {
        let mut info = FrameInfo::new(48, 64, 1, 16);
        info.bits_stored = 12;
        let src = image(48 * 64, 2, 4095, 6, 3);
        let coded = charls_encode(&src, &info, 0, 0, None);
        let mut out = vec![0u8; src.len()];
        for cut in [coded.len() / 2, coded.len() - 40, 30] {
            let r = decoder::decode(&coded[..cut], &info, &mut out);
            assert!(
                matches!(r, Err(header::Declined::Corrupt { .. })),
                "{cut}: {r:?}"
            );
        }
        // Every byte of the scan flipped in turn: an error or some samples, never a
        // panic, and the codec entry point gives an error or the frame.
        for k in 20..coded.len() - 2 {
            let mut bad = coded.clone();
            bad[k] ^= 0x5A;
            let _ = decoder::decode(&bad, &info, &mut out);
            let _ = decode(&bad, &info, &mut out);
        }
    }

    #[test]
    fn a_scan_without_its_marker_fails_at_once() {
        // c_decode fuzz find: CharLS took ~2 s (9 s under ASan) to reject these 56 bytes.
        let hex = "ffd8fff7000b08002d000a01011100ffda000801010002000057fdff7f00000071ff7fe0b7ff7c0cff7f052ffbe097ff7fc117fdff400126";
        let stream: Vec<u8> = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        let info = FrameInfo::new(45, 10, 1, 8);
        let mut out = vec![0u8; 450];
        let started = std::time::Instant::now();
        assert!(decode(&stream, &info, &mut out).is_err());
        assert!(started.elapsed() < std::time::Duration::from_millis(200));
        assert!(matches!(terminated(&stream), std::borrow::Cow::Owned(_)));
        let mut padded = stream.clone();
        padded.extend_from_slice(&[0xFF, 0xD9, 0]);
        assert!(matches!(terminated(&padded), std::borrow::Cow::Borrowed(_)));
        *padded.last_mut().unwrap() = 0xFF;
        assert!(matches!(terminated(&padded), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn a_run_of_zeros_to_the_last_held_bit_is_no_panic() {
        // c_decode fuzz find (2026-12-06 CI): a near-lossless 16-bit scan whose Golomb
        // code had its only 1 bit at the end of a full 64-bit window; counting the zeros
        // before it shifted the window by 64 (a panic with overflow checks, no shift at
        // all without them).
        let b64 = "/9j/9wALEAAyAAoBAREA//gADQH//wAYAE0BIgBA/9oACAEBAAIAAEAgEBAQIECCCCAf/3AAAAAAAAAAASCCEIQhCA/wZloQhCEIREB+BMyiIiIiIgfBTKiIiIiIgfDmaUTKIiIiSQPghKgEBAQIECCCCAfBAlAICAgQIEEEEA+CAKAQEBAgQIIIIB8EAEEEEIQhCEB8/9k=";
        let stream = from_base64(b64);
        let info = FrameInfo::new(50, 10, 1, 16);
        let mut out = vec![0u8; 50 * 10 * 2];
        let _ = decode(&stream, &info, &mut out);
        let _ = decode_ours(&stream, &info, &mut out);
    }

    /// Standard base64 (the fuzzer's reproducers are printed so).
    fn from_base64(text: &str) -> Vec<u8> {
        let value = |c: u8| match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            _ => 63,
        };
        let digits: Vec<u8> = text.bytes().filter(|&c| c != b'=').map(value).collect();
        let mut out = Vec::new();
        for chunk in digits.chunks(4) {
            let n =
                chunk.iter().fold(0u32, |n, &d| n << 6 | u32::from(d)) << (6 * (4 - chunk.len()));
            out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
        }
        out
    }

    #[test]
    fn damaged_streams_are_errors() {
        let info = FrameInfo::new(8, 8, 1, 8);
        let mut out = vec![0u8; 64];
        assert!(decode(&[], &info, &mut out).is_err());
        assert!(decode(&[0xFF, 0xD8, 0xFF, 0xF7, 0, 11, 8], &info, &mut out).is_err());
        assert!(decode(&[0xFF, 0xD8, 0xFF, 0xDA], &info, &mut out).is_err());
    }

    #[test]
    fn round_trips() {
        for (ba, bs, spp, signed, near) in [
            (8, 8, 1, false, 0),
            (8, 8, 3, false, 0),
            (16, 12, 1, true, 0),
            (16, 16, 1, false, 0),
            (16, 6, 1, false, 0),
            (8, 5, 1, false, 3),
            (8, 3, 3, false, 1),
            (16, 12, 1, false, 3),
            (16, 12, 1, true, 1),
            (8, 8, 3, false, 2),
        ] {
            let mut info = FrameInfo::new(13, 21, spp, ba);
            info.bits_stored = bs;
            info.pixel_representation = u16::from(signed);
            let n = crate::frame_size_bytes(&info);
            let mut src: Vec<u8> = (0..n).map(|i| (i * 37 % 251) as u8).collect();
            fix_unused_bits(&mut src, &info);
            let mut enc = Vec::new();
            let k = encode(&src, &info, near, &mut enc).unwrap();
            let mut out = vec![0u8; n];
            decode(&enc[..k], &info, &mut out).unwrap();
            let step = usize::from(ba / 8);
            let v = |c: &[u8]| i32::from(c[0]) | c.get(1).map_or(0, |&h| i32::from(h) << 8);
            let max = src
                .chunks(step)
                .zip(out.chunks(step))
                .map(|(a, b)| (v(a) - v(b)).abs())
                .max()
                .unwrap();
            assert!(max <= i32::from(near), "{ba} {bs} {spp} {near}: {max}");
        }
    }
}
