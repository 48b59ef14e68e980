//! JPEG XL (ISO/IEC 18181) decoding through jxl-oxide (pure Rust, crates.io; feature
//! `jpeg-xl`): JPEG XL Lossless (1.2.840.10008.1.2.4.110), JPEG XL JPEG Recompression
//! (.111) and JPEG XL (.112), added to PS3.6 Table A-1 by Supplement 232. A bare
//! codestream or one in the ISOBMFF container; grey or RGB, 1-16-bit integer samples, one
//! frame (no animation), no extra channels (alpha, black), orientation 1.
//!
//! Samples come out as the decoder renders them: a lossless (modular) image's integers as
//! coded; a lossy one's (VarDCT, XYB, or a recompressed JPEG's YCbCr) converted to RGB or
//! grey in the image's colour encoding and rounded to the nearest integer of the image's
//! bit depth, as libjxl gives them.
//!
//! The image header is read first, from as few bytes as hold it, and checked against the
//! data set (size, grey or RGB, bit depth, no extra channels) before any frame is loaded;
//! jxl-oxide then allocates under a limit proportional to the frame the data set
//! describes, so a stream declaring a huge frame is refused before memory is spent on it.
//! jxl-oxide reports malformed input as errors; it still holds internal assertions
//! (bookkeeping invariants, not input checks), so a decoder bug could panic: nothing here
//! catches an unwind, which then reaches the caller as a panic.
//!
//! Threads: with the `parallel` feature, a lone frame that the frame pipeline decodes
//! with more than one thread allowed is decoded on rayon's global pool by jxl-oxide
//! (512x512 16-bit lossless: ~1.8x on 2 cores); every other frame (frames decoded side by
//! side by the pipeline's workers, one thread asked, a direct [`crate::Codec::decode`])
//! on its own thread alone, so that frames are not split again over threads already busy
//! with other frames.

use jxl_oxide::image::color::ColourSpace;
use jxl_oxide::image::BitDepth;
use jxl_oxide::{AllocTracker, InitializeResult, JxlImage, JxlThreadPool};
use jxl_render::ImageBuffer;

use crate::convert::fix_unused_bits;
use crate::{CodecError, FrameInfo};

const NAME: &str = "JPEG XL";

/// The image header's bytes are read from a first slice of this many bytes, doubled until
/// the header is whole (an embedded ICC profile can make it long).
const FIRST_SLICE: usize = 256;

/// jxl-oxide's allocations for one frame may reach this many times the frame's samples as
/// f32 (the modular channels, the rendered grids, the colour conversion's copies), plus
/// [`ALLOC_SLACK`]; past it decoding fails with an out-of-memory error instead of
/// allocating.
const ALLOC_PER_SAMPLE: usize = 16 * 4;
const ALLOC_SLACK: usize = 16 << 20;

fn stream_error(e: impl std::fmt::Display) -> CodecError {
    CodecError::Codestream {
        codec: NAME,
        offset: 0,
        message: e.to_string(),
    }
}

fn unsupported(message: &str) -> CodecError {
    CodecError::Codestream {
        codec: NAME,
        offset: 0,
        message: message.to_string(),
    }
}

fn mismatch(what: &'static str, stream: u32, dataset: u32) -> CodecError {
    CodecError::Mismatch {
        offset: 0,
        what,
        stream,
        dataset,
    }
}

/// The thread pool jxl-oxide decodes one frame with (see the module docs).
fn thread_pool() -> JxlThreadPool {
    #[cfg(feature = "parallel")]
    if crate::codec::inner_threads_allowed() {
        return JxlThreadPool::rayon_global();
    }
    JxlThreadPool::none()
}

/// The image header (and the first frames' headers) read from the fewest bytes of `data`
/// that hold it; the image and how many bytes of `data` it has taken.
fn read_header(data: &[u8], info: &FrameInfo) -> Result<(JxlImage, usize), CodecError> {
    let limit = info
        .samples()
        .saturating_mul(ALLOC_PER_SAMPLE)
        .saturating_add(ALLOC_SLACK);
    let mut uninit = JxlImage::builder()
        .pool(thread_pool())
        .alloc_tracker(AllocTracker::with_limit(limit))
        .build_uninit();
    let mut fed = 0;
    let mut end = FIRST_SLICE.min(data.len());
    loop {
        fed += uninit.feed_bytes(&data[fed..end]).map_err(stream_error)?;
        match uninit.try_init().map_err(stream_error)? {
            InitializeResult::Initialized(image) => return Ok((image, fed)),
            InitializeResult::NeedMoreData(more) => uninit = more,
        }
        if end == data.len() {
            return Err(CodecError::Truncated {
                offset: data.len(),
                needed: data.len() + 1,
            });
        }
        end = end.saturating_mul(2).min(data.len());
    }
}

/// Refuse an image the data set does not describe, or that is not one grey or RGB frame of
/// integer samples; its bit depth.
fn check_header(image: &JxlImage, info: &FrameInfo) -> Result<u32, CodecError> {
    let header = image.image_header();
    let meta = &header.metadata;
    if header.size.width != info.columns {
        return Err(mismatch(
            "the number of columns",
            header.size.width,
            info.columns,
        ));
    }
    if header.size.height != info.rows {
        return Err(mismatch(
            "the number of rows",
            header.size.height,
            info.rows,
        ));
    }
    let samples: u16 = match meta.colour_encoding.colour_space() {
        ColourSpace::Grey => 1,
        ColourSpace::Rgb => 3,
        _ => return Err(unsupported("the image is neither grey nor RGB")),
    };
    if !meta.ec_info.is_empty() {
        return Err(mismatch(
            "the number of components",
            u32::from(samples) + meta.ec_info.len() as u32,
            u32::from(info.samples_per_pixel),
        ));
    }
    if samples != info.samples_per_pixel {
        return Err(mismatch(
            "the number of components",
            u32::from(samples),
            u32::from(info.samples_per_pixel),
        ));
    }
    let bits = match meta.bit_depth {
        BitDepth::IntegerSample { bits_per_sample } => bits_per_sample,
        BitDepth::FloatSample { .. } => {
            return Err(unsupported("floating-point samples are not supported"))
        }
    };
    if bits == 0 || bits > u32::from(info.bits_allocated) || bits > 16 {
        return Err(mismatch(
            "the sample precision (against bits allocated)",
            bits,
            u32::from(info.bits_allocated),
        ));
    }
    if meta.orientation != 1 {
        return Err(unsupported(
            "an orientation other than 1 (as stored) is not supported",
        ));
    }
    if meta.animation.is_some() {
        return Err(unsupported("animations are not supported"));
    }
    Ok(bits)
}

/// The rendered channels into the caller's buffer: little endian, samples of a pixel
/// together; integer samples as they are (clamped to 0-`max`), float ones (0.0-1.0)
/// scaled to `max` and rounded.
fn interleave(
    channels: &[ImageBuffer],
    info: &FrameInfo,
    max: u32,
    out: &mut [u8],
) -> Result<(), CodecError> {
    let (maxi, maxf) = (max as i32, max as f32);
    let (width, height) = (info.columns as usize, info.rows as usize);
    let spp = channels.len();
    let bps = info.bytes_per_sample();
    for c in channels {
        if c.width() < width || c.height() < height {
            return Err(unsupported("a channel was not rendered at full size"));
        }
    }
    let row_bytes = width * spp * bps;
    for (y, orow) in out.chunks_exact_mut(row_bytes).enumerate() {
        for (c, channel) in channels.iter().enumerate() {
            match channel {
                ImageBuffer::I16(g) => put_row(orow, c, spp, bps, &g.get_row(y)[..width], |v| {
                    i32::from(v).clamp(0, maxi) as u16
                }),
                ImageBuffer::I32(g) => put_row(orow, c, spp, bps, &g.get_row(y)[..width], |v| {
                    v.clamp(0, maxi) as u16
                }),
                ImageBuffer::F32(g) => put_row(orow, c, spp, bps, &g.get_row(y)[..width], |v| {
                    (v * maxf + 0.5).clamp(0.0, maxf) as u16
                }),
            }
        }
    }
    Ok(())
}

/// One channel's row into sample `c` of each pixel of an output row.
fn put_row<T: Copy>(
    orow: &mut [u8],
    c: usize,
    spp: usize,
    bps: usize,
    row: &[T],
    to_u16: impl Fn(T) -> u16,
) {
    let pixels = orow.chunks_exact_mut(spp * bps).zip(row);
    if bps == 1 {
        for (px, &v) in pixels {
            px[c] = to_u16(v) as u8;
        }
    } else {
        for (px, &v) in pixels {
            px[2 * c..2 * c + 2].copy_from_slice(&to_u16(v).to_le_bytes());
        }
    }
}

fn decode(data: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError> {
    info.check_output(out)?;
    if !matches!(info.bits_allocated, 8 | 16) || info.float {
        return Err(CodecError::InvalidFrameInfo {
            reason: "JPEG XL frames have 8 or 16 bits allocated",
        });
    }
    if !matches!(info.samples_per_pixel, 1 | 3) {
        return Err(CodecError::InvalidFrameInfo {
            reason: "JPEG XL frames have 1 or 3 samples per pixel",
        });
    }
    let (mut image, mut fed) = read_header(data, info)?;
    let bits = check_header(&image, info)?;
    while fed < data.len() {
        let n = image.feed_bytes(&data[fed..]).map_err(stream_error)?;
        if n == 0 {
            break;
        }
        fed += n;
    }
    image.finalize().map_err(stream_error)?;
    if image.num_loaded_keyframes() == 0 || !image.is_loading_done() {
        return Err(CodecError::Truncated {
            offset: data.len(),
            needed: data.len() + 1,
        });
    }
    if image.num_loaded_keyframes() > 1 {
        return Err(unsupported("more than one frame (animation or pages)"));
    }
    let frame = image
        .frame_header(0)
        .ok_or_else(|| unsupported("no frame"))?;
    if frame.x0 != 0 || frame.y0 != 0 {
        return Err(unsupported("a frame offset from the image's origin"));
    }
    let render = image.render_frame(0).map_err(stream_error)?;
    let channels = render.color_channels();
    if channels.len() != usize::from(info.samples_per_pixel) {
        return Err(mismatch(
            "the number of rendered components",
            channels.len() as u32,
            u32::from(info.samples_per_pixel),
        ));
    }
    interleave(channels, info, (1u32 << bits) - 1, out)?;
    fix_unused_bits(out, info);
    Ok(())
}

/// JPEG XL decoding through jxl-oxide.
#[derive(Debug, Clone, Copy)]
pub struct JpegXl;

impl crate::Codec for JpegXl {
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

    fn bytes(hex: &str) -> Vec<u8> {
        (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    /// libjxl 0.11 (through imagecodecs), lossless, bare codestream: 5 x 7 grey 8-bit,
    /// sample k = k * 37 % 251.
    const GREY8: &str = "ff0a2040101437020804010094004b188b15c2094c1c43e5b1869494949494147fbc\
                         736e30190f407fc6a9275c4c9402fd6703";
    /// The same, 4 x 6 RGB coded with 12 bits: sample k = k * 397 % 4096.
    const RGB12: &str = "ff0a18401850b40808040100dc014b18938e83839922c5b4add29d9501aa34473da2\
                         b911f3852f6e049359e5028101140441a1d065fdc65ed6ef260441a110140a41d02e\
                         2c681716df060441a1d0e43c9c93f3204310140a41a11004b5516d541b1004854\
                         2d546b501415028048542103439ffdbc9f9870aa51ff4bd60a898573c2d745ac0";

    #[test]
    fn lossless_streams_decode_exactly() {
        let info = FrameInfo::new(5, 7, 1, 8);
        let mut out = vec![0u8; 35];
        decode(&bytes(GREY8), &info, &mut out).unwrap();
        assert!(out
            .iter()
            .enumerate()
            .all(|(k, &v)| v == (k * 37 % 251) as u8));

        let mut info = FrameInfo::new(4, 6, 3, 16);
        info.bits_stored = 12;
        let mut out = vec![0u8; 4 * 6 * 3 * 2];
        decode(&bytes(RGB12), &info, &mut out).unwrap();
        for (k, v) in out.chunks_exact(2).enumerate() {
            assert_eq!(
                u16::from_le_bytes([v[0], v[1]]),
                (k * 397 % 4096) as u16,
                "{k}"
            );
        }
        // 8 bits allocated cannot hold the 12-bit samples.
        let mut out = vec![0u8; 4 * 6 * 3];
        let e = decode(&bytes(RGB12), &FrameInfo::new(4, 6, 3, 8), &mut out).unwrap_err();
        assert!(matches!(e, CodecError::Mismatch { stream: 12, .. }), "{e}");
    }

    #[test]
    fn the_stream_must_match_the_frame() {
        let stream = bytes(GREY8);
        for (info, what) in [
            (FrameInfo::new(7, 5, 1, 8), "the number of columns"),
            (FrameInfo::new(6, 7, 1, 8), "the number of rows"),
            (FrameInfo::new(5, 7, 3, 8), "the number of components"),
        ] {
            let mut out = vec![0u8; crate::frame_size_bytes(&info)];
            match decode(&stream, &info, &mut out) {
                Err(CodecError::Mismatch { what: w, .. }) => assert_eq!(w, what),
                other => panic!("{what}: {other:?}"),
            }
        }
    }

    #[test]
    fn every_prefix_and_damage_is_an_error_not_a_panic() {
        let info = FrameInfo::new(5, 7, 1, 8);
        let mut out = vec![0u8; 35];
        let stream = bytes(GREY8);
        for cut in 0..stream.len() {
            assert!(decode(&stream[..cut], &info, &mut out).is_err(), "{cut}");
        }
        // Every byte flipped in turn: an error or some image, never a panic.
        for at in 0..stream.len() {
            let mut bad = stream.clone();
            bad[at] ^= 0x5A;
            let _ = decode(&bad, &info, &mut out);
        }
        assert!(decode(&[0u8; 300], &info, &mut out).is_err());
    }
}
