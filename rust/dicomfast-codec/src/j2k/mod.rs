//! JPEG 2000 (ISO 15444-1) and High-Throughput JPEG 2000 (15444-15) decoding: by our own
//! decoder (`dicomfast-htj2k`, [`decode_ours`]) where it takes the codestream, otherwise
//! through OpenJPEG 2.5.3 (crate `openjpeg-sys`, bundled C source compiled with `cc`,
//! static; feature `j2k`): 1.2.840.10008.1.2.4.90/.91 and HTJ2K .201/.202/.203; any tiling,
//! progression, precincts and layers; the codestream's RCT/ICT undone (samples come out RGB,
//! as pylibjpeg-openjpeg gives them to pydicom); signed components; a JP2 wrapper accepted.
//!
//! A codestream cut short inside its packets decodes as far as it goes, as OpenJPEG and
//! pylibjpeg-openjpeg do (neither EOC nor strict mode can tell: WG04's files have no EOC,
//! and strict mode refuses the tile-part counts of GDCM files that decode correctly); one
//! cut inside a header is an error.
//!
//! The main header is read and checked against the data set (size, components, precision,
//! no sub-sampled component) before any tile is decoded.
//!
//! Encoding (.90 and .91 only): a J2K codestream (no JP2 wrapper), one tile, one quality
//! layer, LRCP, 6 resolution levels at most; .90 reversible 5/3, .91 irreversible 9/7
//! with the rate allocated for [`EncodeParams::ratio`]; three-sample frames with the RCT
//! (.90) or ICT (.91) when [`EncodeParams::colour_transform`] asks; signed samples as
//! signed components; 1-16 bits stored in 8 or 16 bits allocated.

use std::ffi::{c_char, c_void, CStr};

use openjpeg_sys as opj;

use crate::codec::EncodeParams;
use crate::convert::fix_j2k_bits;
use crate::registry::TransferSyntax;
use crate::{CodecError, FrameInfo};

const NAME: &str = "JPEG 2000";
const LOSSLESS: &str = "1.2.840.10008.1.2.4.90";
const LOSSY: &str = "1.2.840.10008.1.2.4.91";

/// The codestream being written.
struct Sink<'a> {
    out: &'a mut Vec<u8>,
    pos: usize,
    len: usize,
}

unsafe extern "C" fn write_fn(buf: *mut c_void, n: usize, user: *mut c_void) -> usize {
    // SAFETY: `user` is the Sink given to opj_stream_set_user_data, alive for the encode;
    // OpenJPEG's buffer holds n bytes.
    let s = unsafe { &mut *(user as *mut Sink) };
    let end = s.pos + n;
    if s.out.len() < end {
        s.out.resize(end, 0);
    }
    unsafe { std::ptr::copy_nonoverlapping(buf as *const u8, s.out.as_mut_ptr().add(s.pos), n) };
    s.pos = end;
    s.len = s.len.max(end);
    n
}

unsafe extern "C" fn write_skip_fn(n: i64, user: *mut c_void) -> i64 {
    // SAFETY: as in write_fn.
    let s = unsafe { &mut *(user as *mut Sink) };
    let target = (s.pos as i64).saturating_add(n).max(0) as usize;
    if s.out.len() < target {
        s.out.resize(target, 0);
    }
    let moved = target as i64 - s.pos as i64;
    s.pos = target;
    s.len = s.len.max(target);
    moved
}

unsafe extern "C" fn write_seek_fn(n: i64, user: *mut c_void) -> i32 {
    // SAFETY: as in write_fn.
    let s = unsafe { &mut *(user as *mut Sink) };
    if n < 0 {
        return 0;
    }
    let target = n as usize;
    if s.out.len() < target {
        s.out.resize(target, 0);
    }
    s.pos = target;
    1
}

/// What the JPEG 2000 family's encoders (OpenJPEG's, and our HTJ2K one) take: 1-16
/// bits stored in 8 or 16 allocated, 1 or 3 samples, `src` one whole frame.
pub(crate) fn check_encodable(src: &[u8], info: &FrameInfo) -> Result<(), CodecError> {
    info.validate()?;
    let expected = crate::frame_size_bytes(info);
    if src.len() != expected {
        return Err(CodecError::InputSize {
            expected,
            actual: src.len(),
        });
    }
    if !matches!(info.bits_allocated, 8 | 16) || info.float || !(1..=16).contains(&info.bits_stored)
    {
        return Err(CodecError::InvalidFrameInfo {
            reason: "JPEG 2000 and HTJ2K encode 1-16-bit samples (Bits Allocated 8 or 16)",
        });
    }
    if !matches!(info.samples_per_pixel, 1 | 3) {
        return Err(CodecError::InvalidFrameInfo {
            reason: "JPEG 2000 and HTJ2K encode 1 or 3 samples per pixel",
        });
    }
    Ok(())
}

/// The irreversible encoders' compression ratio ([`EncodeParams::ratio`]): 2 or more.
pub(crate) fn check_ratio(codec: &str, params: &EncodeParams) -> Result<(), String> {
    if params.ratio < 2 {
        return Err(format!(
            "{codec} compression ratio must be at least 2, not {}",
            params.ratio
        ));
    }
    Ok(())
}

fn encode(
    src: &[u8],
    info: &FrameInfo,
    lossless: bool,
    params: &EncodeParams,
    out: &mut Vec<u8>,
) -> Result<usize, CodecError> {
    encode_tuned(src, info, lossless, params, out, &|_| {})
}

/// [`encode`], with `tune` given OpenJPEG's parameters last (the tests make codestreams
/// of every code-block style, progression and layout with it).
fn encode_tuned(
    src: &[u8],
    info: &FrameInfo,
    lossless: bool,
    params: &EncodeParams,
    out: &mut Vec<u8>,
    tune: &dyn Fn(&mut opj::opj_cparameters_t),
) -> Result<usize, CodecError> {
    check_encodable(src, info)?;
    let bits = info.bits_stored;
    let spp = usize::from(info.samples_per_pixel);
    let signed = info.signed();
    let fail = |message: &str, what: &str| CodecError::Encoder {
        codec: NAME,
        message: if message.is_empty() {
            what.to_string()
        } else {
            message.to_string()
        },
    };
    let mut cparms: Vec<opj::opj_image_cmptparm_t> = (0..spp)
        .map(|_| {
            // SAFETY: a plain C struct; all-zero is a valid value, filled below.
            let mut c: opj::opj_image_cmptparm_t = unsafe { std::mem::zeroed() };
            c.dx = 1;
            c.dy = 1;
            c.w = info.columns;
            c.h = info.rows;
            // 1-bit samples coded at precision 2: OpenJPEG 2.5 writes some 1-bit images
            // it cannot give back (about 1 in 30 random ones with the colour transform;
            // `one_bit_images_round_trip`). The samples are the same; decoders keep
            // Bits Stored's bits.
            c.prec = u32::from(bits.max(2));
            c.sgnd = u32::from(signed);
            c
        })
        .collect();
    let space = if spp == 3 {
        opj::COLOR_SPACE::OPJ_CLRSPC_SRGB
    } else {
        opj::COLOR_SPACE::OPJ_CLRSPC_GRAY
    };
    let mut message = String::new();
    let mut sink = Sink {
        out,
        pos: 0,
        len: 0,
    };
    let mut s = Session {
        // SAFETY: no preconditions; null checked below.
        codec: unsafe { opj::opj_create_compress(opj::CODEC_FORMAT::OPJ_CODEC_J2K) },
        stream: std::ptr::null_mut(),
        // SAFETY: cparms holds spp entries.
        image: unsafe { opj::opj_image_create(spp as u32, cparms.as_mut_ptr(), space) },
    };
    if s.codec.is_null() || s.image.is_null() {
        return Err(fail("", "OpenJPEG could not be initialised"));
    }
    // SAFETY: the image was created with spp components of rows * columns samples each.
    unsafe {
        let im = &mut *s.image;
        im.x0 = 0;
        im.y0 = 0;
        im.x1 = info.columns;
        im.y1 = info.rows;
        let comps = std::slice::from_raw_parts_mut(im.comps, spp);
        let pixels = info.pixels();
        let bps = info.bytes_per_sample();
        let shift = 32 - u32::from(bits);
        for (c, comp) in comps.iter_mut().enumerate() {
            if comp.data.is_null() {
                return Err(fail("", "OpenJPEG could not allocate the image"));
            }
            let plane = std::slice::from_raw_parts_mut(comp.data, pixels);
            for (p, v) in plane.iter_mut().enumerate() {
                let k = (p * spp + c) * bps;
                let raw = u32::from(src[k])
                    | if bps == 2 {
                        u32::from(src[k + 1]) << 8
                    } else {
                        0
                    };
                *v = if signed {
                    ((raw << shift) as i32) >> shift
                } else {
                    ((raw << shift) >> shift) as i32
                };
            }
        }
    }
    // SAFETY: the codec and image are live; `message` and `sink` outlive the session
    // (dropped first, declared after them).
    unsafe {
        let user = &mut message as *mut String as *mut c_void;
        opj::opj_set_error_handler(s.codec, Some(error_fn), user);
        opj::opj_set_warning_handler(s.codec, Some(quiet_fn), std::ptr::null_mut());
        opj::opj_set_info_handler(s.codec, Some(quiet_fn), std::ptr::null_mut());
        let mut p: Box<opj::opj_cparameters_t> = Box::new(std::mem::zeroed());
        opj::opj_set_default_encoder_parameters(&mut *p);
        p.tcp_numlayers = 1;
        p.cp_disto_alloc = 1;
        p.tcp_rates[0] = if lossless {
            0.0
        } else {
            f32::from(params.ratio.max(2))
        };
        p.irreversible = i32::from(!lossless);
        p.tcp_mct = i8::from(spp == 3 && params.colour_transform) as _;
        // Each resolution level halves the image; OpenJPEG needs 2^(levels - 1) <= size.
        let smallest = info.columns.min(info.rows).max(1);
        let mut levels = 1;
        while levels < 6 && (1u32 << levels) <= smallest {
            levels += 1;
        }
        p.numresolution = levels;
        tune(&mut p);
        if opj::opj_setup_encoder(s.codec, &mut *p, s.image) == 0 {
            return Err(fail(&message, "encoder set-up failed"));
        }
        s.stream = opj::opj_stream_create(1 << 16, 0);
        if s.stream.is_null() {
            return Err(fail("", "stream allocation failed"));
        }
        opj::opj_stream_set_write_function(s.stream, Some(write_fn));
        opj::opj_stream_set_skip_function(s.stream, Some(write_skip_fn));
        opj::opj_stream_set_seek_function(s.stream, Some(write_seek_fn));
        opj::opj_stream_set_user_data(s.stream, &mut sink as *mut Sink as *mut c_void, None);
        if opj::opj_start_compress(s.codec, s.image, s.stream) == 0 {
            return Err(fail(&message, "encoding failed to start"));
        }
        if opj::opj_encode(s.codec, s.stream) == 0 {
            return Err(fail(&message, "encoding failed"));
        }
        if opj::opj_end_compress(s.codec, s.stream) == 0 {
            return Err(fail(&message, "encoding failed at the end"));
        }
    }
    // The stream flushes its buffer when destroyed.
    drop(s);
    Ok(sink.len)
}

/// The codestream being read and how far.
struct Source<'a> {
    data: &'a [u8],
    pos: usize,
}

unsafe extern "C" fn read_fn(buf: *mut c_void, n: usize, user: *mut c_void) -> usize {
    // SAFETY: `user` is the Source given to opj_stream_set_user_data, alive for the decode.
    let s = unsafe { &mut *(user as *mut Source) };
    let left = s.data.len() - s.pos;
    if left == 0 {
        return usize::MAX; // (OPJ_SIZE_T)-1: end of stream
    }
    let k = n.min(left);
    // SAFETY: OpenJPEG's buffer holds n >= k bytes.
    unsafe { std::ptr::copy_nonoverlapping(s.data.as_ptr().add(s.pos), buf as *mut u8, k) };
    s.pos += k;
    k
}

unsafe extern "C" fn skip_fn(n: i64, user: *mut c_void) -> i64 {
    // SAFETY: as in read_fn.
    let s = unsafe { &mut *(user as *mut Source) };
    let target = (s.pos as i64)
        .saturating_add(n)
        .clamp(0, s.data.len() as i64);
    let moved = target - s.pos as i64;
    s.pos = target as usize;
    moved
}

unsafe extern "C" fn seek_fn(n: i64, user: *mut c_void) -> i32 {
    // SAFETY: as in read_fn.
    let s = unsafe { &mut *(user as *mut Source) };
    if n < 0 || n as u64 > s.data.len() as u64 {
        return 0;
    }
    s.pos = n as usize;
    1
}

unsafe extern "C" fn error_fn(msg: *const c_char, user: *mut c_void) {
    if msg.is_null() || user.is_null() {
        return;
    }
    // SAFETY: `user` is the String given to opj_set_error_handler; msg is NUL-terminated.
    let out = unsafe { &mut *(user as *mut String) };
    if out.is_empty() {
        let m = unsafe { CStr::from_ptr(msg) }.to_string_lossy();
        out.push_str(m.trim_end());
    }
}

unsafe extern "C" fn quiet_fn(_msg: *const c_char, _user: *mut c_void) {}

/// Everything OpenJPEG allocated for one frame, freed in order.
struct Session {
    codec: *mut opj::opj_codec_t,
    stream: *mut opj::opj_stream_t,
    image: *mut opj::opj_image_t,
}

impl Drop for Session {
    fn drop(&mut self) {
        // SAFETY: each pointer was returned by OpenJPEG (or is null) and is freed once.
        unsafe {
            if !self.image.is_null() {
                opj::opj_image_destroy(self.image);
            }
            if !self.stream.is_null() {
                opj::opj_stream_destroy(self.stream);
            }
            if !self.codec.is_null() {
                opj::opj_destroy_codec(self.codec);
            }
        }
    }
}

pub(crate) fn decode(data: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError> {
    info.check_output(out)?;
    if !matches!(info.bits_allocated, 8 | 16 | 32) || info.float {
        return Err(CodecError::InvalidFrameInfo {
            reason: "JPEG 2000 frames have 8, 16 or 32 bits allocated",
        });
    }
    let format = if data.starts_with(&[0xFF, 0x4F, 0xFF, 0x51]) {
        opj::CODEC_FORMAT::OPJ_CODEC_J2K
    } else if data.len() >= 12 && &data[4..8] == b"jP  " {
        opj::CODEC_FORMAT::OPJ_CODEC_JP2
    } else {
        return Err(CodecError::JpegFormat {
            offset: 0,
            reason: "not a JPEG 2000 codestream (no SOC and SIZ markers) nor a JP2 file",
        });
    };
    let mut message = String::new();
    let mut source = Source { data, pos: 0 };
    let mut s = Session {
        // SAFETY: no preconditions; null checked below.
        codec: unsafe { opj::opj_create_decompress(format) },
        stream: std::ptr::null_mut(),
        image: std::ptr::null_mut(),
    };
    let fail = |message: &str, what: &str| CodecError::Codestream {
        codec: NAME,
        offset: 0,
        message: if message.is_empty() {
            what.to_string()
        } else {
            message.to_string()
        },
    };
    if s.codec.is_null() {
        return Err(fail("", "OpenJPEG could not be initialised"));
    }
    // SAFETY: the codec is live; `message` and `source` outlive the session (dropped first,
    // declared after them).
    unsafe {
        let user = &mut message as *mut String as *mut c_void;
        opj::opj_set_error_handler(s.codec, Some(error_fn), user);
        opj::opj_set_warning_handler(s.codec, Some(quiet_fn), std::ptr::null_mut());
        opj::opj_set_info_handler(s.codec, Some(quiet_fn), std::ptr::null_mut());
        let mut params: opj::opj_dparameters_t = std::mem::zeroed();
        opj::opj_set_default_decoder_parameters(&mut params);
        if opj::opj_setup_decoder(s.codec, &mut params) == 0 {
            return Err(fail(&message, "decoder set-up failed"));
        }
        // A lone frame large enough (`codec::inner_thread_count`): its code-blocks and
        // wavelet over OpenJPEG's own threads.
        #[cfg(feature = "parallel")]
        {
            let n = crate::codec::inner_thread_count(info).min(64);
            if n > 1 {
                opj::opj_codec_set_threads(s.codec, n as i32);
            }
        }
        s.stream = opj::opj_stream_create(1 << 16, 1);
        if s.stream.is_null() {
            return Err(fail("", "stream allocation failed"));
        }
        opj::opj_stream_set_read_function(s.stream, Some(read_fn));
        opj::opj_stream_set_skip_function(s.stream, Some(skip_fn));
        opj::opj_stream_set_seek_function(s.stream, Some(seek_fn));
        opj::opj_stream_set_user_data(s.stream, &mut source as *mut Source as *mut c_void, None);
        opj::opj_stream_set_user_data_length(s.stream, data.len() as u64);
        if opj::opj_read_header(s.stream, s.codec, &mut s.image) == 0 || s.image.is_null() {
            return Err(fail(&message, "bad main header"));
        }
    }
    // SAFETY: opj_read_header filled the image header: numcomps entries in comps.
    let (width, height, comps) = unsafe {
        let im = &*s.image;
        (
            im.x1.saturating_sub(im.x0),
            im.y1.saturating_sub(im.y0),
            std::slice::from_raw_parts(im.comps, im.numcomps as usize).to_vec(),
        )
    };
    let mismatch = |what, stream: u32, dataset: u32| CodecError::Mismatch {
        offset: 0,
        what,
        stream,
        dataset,
    };
    if width != info.columns {
        return Err(mismatch("the number of columns", width, info.columns));
    }
    if height != info.rows {
        return Err(mismatch("the number of rows", height, info.rows));
    }
    let spp = usize::from(info.samples_per_pixel);
    if comps.len() != spp {
        return Err(mismatch(
            "the number of components",
            comps.len() as u32,
            u32::from(info.samples_per_pixel),
        ));
    }
    for c in &comps {
        if c.dx != 1 || c.dy != 1 {
            return Err(CodecError::Codestream {
                codec: NAME,
                offset: 0,
                message: "sub-sampled components are not supported".into(),
            });
        }
        if c.prec == 0 || c.prec > u32::from(info.bits_allocated) {
            return Err(mismatch(
                "the component precision (against bits allocated)",
                c.prec,
                u32::from(info.bits_allocated),
            ));
        }
    }
    // SAFETY: header read and checked; the stream and codec are live.
    unsafe {
        if opj::opj_decode(s.codec, s.stream, s.image) == 0 {
            return Err(fail(&message, "decoding failed"));
        }
        if opj::opj_end_decompress(s.codec, s.stream) == 0 {
            return Err(fail(
                &message,
                "decoding failed at the end of the codestream",
            ));
        }
    }
    // SAFETY: decoded: each component has w * h samples at `data` (checked non-null).
    let planes: Vec<&[i32]> = unsafe {
        let im = &*s.image;
        let comps = std::slice::from_raw_parts(im.comps, im.numcomps as usize);
        let mut planes = Vec::with_capacity(comps.len());
        for c in comps {
            if c.data.is_null() || c.w != info.columns || c.h != info.rows {
                return Err(fail("", "a component was not decoded at full size"));
            }
            planes.push(std::slice::from_raw_parts(c.data, info.pixels()));
        }
        planes
    };
    interleave(&planes, info.bytes_per_sample(), out);
    drop(s);
    fix_j2k_bits(out, info, (comps[0].prec, comps[0].sgnd != 0));
    Ok(())
}

/// OpenJPEG's component planes (one i32 per sample) into the caller's buffer:
/// little endian, samples of a pixel together.  The common layouts (grey or RGB, 8
/// or 16 bits) have loops of their own, free of a division and a branch per sample.
fn interleave(planes: &[&[i32]], bps: usize, out: &mut [u8]) {
    match (planes, bps) {
        ([grey], 1) => {
            for (o, &v) in out.iter_mut().zip(grey.iter()) {
                *o = v as u8;
            }
        }
        ([grey], 2) => {
            for (o, &v) in out.chunks_exact_mut(2).zip(grey.iter()) {
                o.copy_from_slice(&(v as u16).to_le_bytes());
            }
        }
        ([r, g, b], 1) => {
            for (o, ((&r, &g), &b)) in out
                .chunks_exact_mut(3)
                .zip(r.iter().zip(g.iter()).zip(b.iter()))
            {
                o[0] = r as u8;
                o[1] = g as u8;
                o[2] = b as u8;
            }
        }
        _ => {
            let spp = planes.len();
            for (k, o) in out.chunks_exact_mut(bps).enumerate() {
                let v = planes[k % spp][k / spp];
                match bps {
                    1 => o[0] = v as u8,
                    2 => o.copy_from_slice(&(v as u16).to_le_bytes()),
                    _ => o.copy_from_slice(&(v as u32).to_le_bytes()),
                }
            }
        }
    }
}

/// Decode with our decoder (`dicomfast-htj2k`: one tile, one layer, HT or Part 1
/// code-blocks) when the codestream is one it takes and fits `info`; `None` leaves the
/// frame to OpenJPEG, which also has the last word on a damaged one.
pub(crate) fn decode_ours(data: &[u8], info: &FrameInfo, out: &mut [u8]) -> Option<()> {
    let cs = dicomfast_htj2k::decode::parse(data).ok()?;
    let bps = info.bytes_per_sample();
    let fits = cs.width() == info.columns
        && cs.height() == info.rows
        && cs.components() == u32::from(info.samples_per_pixel)
        && matches!(info.bits_allocated, 8 | 16)
        && !info.float
        && (0..cs.components() as usize).all(|c| cs.depth(c).0 <= u32::from(info.bits_allocated));
    if !fits {
        return None;
    }
    #[cfg(feature = "parallel")]
    let threads = crate::codec::inner_thread_count(info);
    #[cfg(not(feature = "parallel"))]
    let threads = 1;
    cs.decode(threads, bps, out).ok()?;
    fix_j2k_bits(out, info, cs.depth(0));
    Some(())
}

/// JPEG 2000 and HTJ2K through OpenJPEG.
#[derive(Debug, Clone, Copy)]
pub struct Jpeg2000;

impl crate::Codec for Jpeg2000 {
    fn name(&self) -> &'static str {
        NAME
    }

    fn decode(&self, data: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError> {
        info.check_output(out)?;
        if decode_ours(data, info, out).is_some() {
            return Ok(());
        }
        decode(data, info, out)
    }

    fn can_encode(&self, ts: &TransferSyntax) -> bool {
        ts.uid == LOSSLESS
    }

    fn encode_in(
        &self,
        src: &[u8],
        info: &FrameInfo,
        params: &EncodeParams,
        out: &mut Vec<u8>,
    ) -> Result<usize, CodecError> {
        encode(src, info, true, params, out)
    }
}

/// JPEG 2000 (.91) through OpenJPEG: [`Jpeg2000`]'s decoder, and the irreversible encoder
/// (a codec of its own so that the lossless syntax's never loses information).
#[derive(Debug, Clone, Copy)]
pub struct Jpeg2000Lossy;

impl crate::Codec for Jpeg2000Lossy {
    fn name(&self) -> &'static str {
        NAME
    }

    fn decode(&self, data: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError> {
        info.check_output(out)?;
        if decode_ours(data, info, out).is_some() {
            return Ok(());
        }
        decode(data, info, out)
    }

    fn can_encode(&self, ts: &TransferSyntax) -> bool {
        ts.uid == LOSSY
    }

    fn check_params(&self, _ts: &TransferSyntax, params: &EncodeParams) -> Result<(), String> {
        check_ratio(NAME, params)
    }

    fn encode_in(
        &self,
        src: &[u8],
        info: &FrameInfo,
        params: &EncodeParams,
        out: &mut Vec<u8>,
    ) -> Result<usize, CodecError> {
        encode(src, info, false, params, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::fix_unused_bits;

    #[test]
    fn damaged_streams_are_errors() {
        let info = FrameInfo::new(8, 8, 1, 8);
        let mut out = vec![0u8; 64];
        assert!(decode(&[], &info, &mut out).is_err());
        assert!(decode(&[0xFF, 0x4F, 0xFF, 0x51, 0, 47, 0], &info, &mut out).is_err());
    }

    #[test]
    fn one_bit_images_round_trip() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for trial in 0..240u32 {
            let (spp, mct) = [(1, false), (3, false), (3, true)][trial as usize % 3];
            let mut info = FrameInfo::new(1 + trial % 37, 1 + trial * 7 % 39, spp, 8);
            info.bits_stored = 1;
            let n = crate::frame_size_bytes(&info);
            let src: Vec<u8> = (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 33) as u8 & 1
                })
                .collect();
            let params = EncodeParams::default().with_colour_transform(mct);
            let mut enc = Vec::new();
            let k = encode(&src, &info, true, &params, &mut enc).unwrap();
            let mut out = vec![0u8; n];
            decode(&enc[..k], &info, &mut out).unwrap();
            assert!(out == src, "trial {trial}: {spp} samples, transform {mct}");
        }
    }

    #[test]
    fn round_trips() {
        for (ba, bs, spp, signed, mct) in [
            (8, 8, 1, false, false),
            (8, 8, 3, false, true),
            (8, 8, 3, false, false),
            (16, 12, 1, true, false),
            (16, 16, 1, false, false),
            (16, 16, 1, true, false),
            (8, 1, 1, false, false),
        ] {
            let mut info = FrameInfo::new(13, 70, spp, ba);
            info.bits_stored = bs;
            info.pixel_representation = u16::from(signed);
            let n = crate::frame_size_bytes(&info);
            let mut src: Vec<u8> = (0..n).map(|i| (i * 37 % 251) as u8).collect();
            fix_unused_bits(&mut src, &info);
            let params = EncodeParams::default().with_colour_transform(mct);
            let mut enc = Vec::new();
            let k = encode(&src, &info, true, &params, &mut enc).unwrap();
            let mut out = vec![0u8; n];
            decode(&enc[..k], &info, &mut out).unwrap();
            assert_eq!(out, src, "{ba} {bs} {spp} {signed}");
            let k = encode(&src, &info, false, &params, &mut enc).unwrap();
            assert!(k < n, "{ba} {bs} {spp}: {k} of {n}");
            decode(&enc[..k], &info, &mut out).unwrap();
        }
    }

    /// Codestreams OpenJPEG makes with every code-block style (and their mixtures),
    /// each progression order, small code-blocks, precincts, SOP and EPH markers, both
    /// wavelets: our decoder takes each, and gives OpenJPEG's samples (exactly when
    /// reversible; within a level or three when not: the two float 9/7 wavelets round
    /// apart). What it
    /// does not take (more than one layer) is still decoded, by OpenJPEG.
    #[test]
    fn our_decoder_gives_openjpegs_samples() {
        type Tune = Box<dyn Fn(&mut opj::opj_cparameters_t)>;
        let configs: Vec<(&str, Tune)> = vec![
            ("default", Box::new(|_| {})),
            ("bypass", Box::new(|p| p.mode = 1)),
            ("reset", Box::new(|p| p.mode = 2)),
            ("termall", Box::new(|p| p.mode = 4)),
            ("vcausal", Box::new(|p| p.mode = 8)),
            ("pterm", Box::new(|p| p.mode = 16)),
            ("segsym", Box::new(|p| p.mode = 32)),
            ("bypass+termall", Box::new(|p| p.mode = 5)),
            ("every style", Box::new(|p| p.mode = 63)),
            (
                "16x8 blocks, RPCL",
                Box::new(|p| {
                    p.cblockw_init = 16;
                    p.cblockh_init = 8;
                    p.prog_order = opj::PROG_ORDER::OPJ_RPCL;
                }),
            ),
            (
                "precincts, PCRL, SOP, EPH",
                Box::new(|p| {
                    p.csty |= 0x01 | 0x02 | 0x04;
                    p.res_spec = 2;
                    p.prcw_init[0] = 32;
                    p.prch_init[0] = 32;
                    p.prcw_init[1] = 16;
                    p.prch_init[1] = 16;
                    p.cblockw_init = 16;
                    p.cblockh_init = 16;
                    p.prog_order = opj::PROG_ORDER::OPJ_PCRL;
                }),
            ),
            (
                "CPRL, vcausal+bypass",
                Box::new(|p| {
                    p.mode = 9;
                    p.prog_order = opj::PROG_ORDER::OPJ_CPRL;
                }),
            ),
            ("3 layers", Box::new(|p| layers(p, 3))),
            (
                "4 layers, RLCP, bypass+termall",
                Box::new(|p| {
                    layers(p, 4);
                    p.mode = 5;
                    p.prog_order = opj::PROG_ORDER::OPJ_RLCP;
                }),
            ),
            (
                "2 layers, RPCL, 16x16 blocks, bypass",
                Box::new(|p| {
                    layers(p, 2);
                    p.mode = 1;
                    p.cblockw_init = 16;
                    p.cblockh_init = 16;
                    p.prog_order = opj::PROG_ORDER::OPJ_RPCL;
                }),
            ),
        ];
        let mut cases = Vec::new();
        for (ba, bs, spp, signed) in [(16, 16, 1, true), (16, 12, 1, false), (8, 8, 3, false)] {
            let mut info = FrameInfo::new(70, 45, spp, ba);
            info.bits_stored = bs;
            info.pixel_representation = u16::from(signed);
            let n = crate::frame_size_bytes(&info);
            // Smooth with noise: many bit-planes, runs and refinements.
            let mut seed = 0x2545F491u32;
            let mut src: Vec<u8> = (0..n)
                .map(|i| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    let smooth = ((i / 7) % 97) as u32 * 2;
                    (smooth + (seed & 7)) as u8
                })
                .collect();
            fix_unused_bits(&mut src, &info);
            cases.push((info, src));
        }
        for (name, tune) in &configs {
            for (info, src) in &cases {
                for lossless in [true, false] {
                    let params = EncodeParams::default()
                        .with_colour_transform(info.samples_per_pixel == 3)
                        .with_ratio(4);
                    let mut enc = Vec::new();
                    let k = encode_tuned(src, info, lossless, &params, &mut enc, tune.as_ref())
                        .unwrap_or_else(|e| panic!("{name}: {e}"));
                    let cs = &enc[..k];
                    let mut theirs = vec![0u8; src.len()];
                    decode(cs, info, &mut theirs).unwrap();
                    let mut ours = vec![0u8; src.len()];
                    assert!(
                        decode_ours(cs, info, &mut ours).is_some(),
                        "{name}, lossless {lossless}: not taken"
                    );
                    let what = format!("{name}, {info:?}, lossless {lossless}");
                    if lossless {
                        assert_eq!(&ours, src, "{what}");
                        assert_eq!(&theirs, src, "{what}");
                    } else {
                        let bps = info.bytes_per_sample();
                        let worst = ours
                            .chunks_exact(bps)
                            .zip(theirs.chunks_exact(bps))
                            .map(|(a, b)| {
                                let v = |x: &[u8]| {
                                    if bps == 2 {
                                        i64::from(u16::from_le_bytes([x[0], x[1]]))
                                    } else {
                                        i64::from(x[0])
                                    }
                                };
                                (v(a) - v(b)).abs()
                            })
                            .max()
                            .unwrap();
                        // float32 wavelets: a level for 8 bits, a few for 16.
                        let tolerance = if info.bits_stored > 8 { 3 } else { 1 };
                        assert!(worst <= tolerance, "{what}: {worst} apart");
                    }
                }
            }
        }
        // A COC restating COD (as OpenJPEG 2.0, GDCM's, writes them): ours. One coding a
        // component apart (here, one level fewer): not ours; the codec's decode still
        // answers, through OpenJPEG.
        let (info, src) = &cases[2];
        let mut enc = Vec::new();
        let coc = |p: &mut opj::opj_cparameters_t| p.numresolution = 3;
        let k = encode_tuned(src, info, true, &EncodeParams::default(), &mut enc, &coc).unwrap();
        let mut out = vec![0u8; src.len()];
        assert!(decode_ours(&with_coc(&enc[..k], 0), info, &mut out).is_some());
        assert_eq!(&out, src);
        let apart = with_coc(&enc[..k], 1);
        assert!(decode_ours(&apart, info, &mut out).is_none());
        let _ = crate::Codec::decode(&Jpeg2000, &apart, info, &mut out);
    }

    /// `n` quality layers at decreasing ratios, the last one every pass.
    fn layers(p: &mut opj::opj_cparameters_t, n: usize) {
        p.tcp_numlayers = n as i32;
        for (k, rate) in p.tcp_rates[..n].iter_mut().enumerate() {
            *rate = (2 << (n - k)) as f32;
        }
        p.tcp_rates[n - 1] = 0.0;
    }

    /// `cs` with a COC marker segment for component 1 after its COD: COD's coding with
    /// `fewer` decomposition levels fewer.
    fn with_coc(cs: &[u8], fewer: u8) -> Vec<u8> {
        let at = cs.windows(2).position(|w| w == [0xFF, 0x52]).unwrap();
        let len = usize::from(u16::from_be_bytes([cs[at + 2], cs[at + 3]]));
        let cod = &cs[at + 4..at + 2 + len];
        // COC: Ccoc (1 byte, < 257 components), Scoc (precincts bit), then SPcod's
        // decomposition part (COD's body from its 6th byte).
        let mut coc = vec![0xFF, 0x53];
        let mut body = [&[1u8, cod[0] & 1][..], &cod[5..]].concat();
        body[2] -= fewer;
        coc.extend_from_slice(&(body.len() as u16 + 2).to_be_bytes());
        coc.extend_from_slice(&body);
        [&cs[..at + 2 + len], &coc[..], &cs[at + 2 + len..]].concat()
    }
}
