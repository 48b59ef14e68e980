//! The decoders backed by other projects' libraries (C: libjpeg-turbo, CharLS, OpenJPEG for
//! JPEG 2000 and HTJ2K; Rust: jxl-oxide for JPEG XL), reached as the frame pipeline reaches them: the registry row of the transfer
//! syntax the first byte picks, its codec's `decode` on the rest. One target for all of
//! them keeps CI's fuzzing time bounded.
//!
//! Input: byte 0 the syntax (index into SYNTAXES), bytes 1-2 rows and 3-4 columns (little
//! endian, at most 1024), byte 5 the layout (bit 0: 16 bits allocated; bit 1: three
//! samples; bit 2: signed; bits 3-6: unused high bits), then the frame's bytes.
//! `tools/fuzz_codec_seeds.py` writes seeds in this form.
//!
//! A frame that decodes is decoded again after another frame of its syntax (one the
//! codec's own encoder made, of other size, samples and tables), and must give the same
//! samples: a decoder keeps nothing of one frame that changes the next (libjpeg-turbo kept
//! the tables of the last frame for a stream that lacked its own).
#![no_main]

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use dicomfast_codec::{frame_size_bytes, registry, Codec, EncodeParams, FrameInfo};
use libfuzzer_sys::fuzz_target;

/// Another frame for `codec`, by our encoder: 8-bit RGB 40 x 24, or grey 12-bit (JPEG
/// Extended: optimised Huffman tables) or 8-bit when the encoder takes no RGB; None
/// for a decoder without an encoder.
fn other_frame(index: usize, codec: &dyn Codec) -> Option<(FrameInfo, Vec<u8>)> {
    static OTHERS: OnceLock<Mutex<HashMap<usize, Option<(FrameInfo, Vec<u8>)>>>> = OnceLock::new();
    let mut others = OTHERS.get_or_init(Default::default).lock().ok()?;
    others
        .entry(index)
        .or_insert_with(|| {
            let layouts: &[(u16, u16, u16)] = if SYNTAXES[index].ends_with(".51") {
                &[(1, 16, 12)]
            } else {
                &[(3, 8, 8), (1, 8, 8)]
            };
            layouts.iter().find_map(|&(spp, ba, bs)| {
                let info = FrameInfo {
                    bits_stored: bs,
                    ..FrameInfo::new(40, 24, spp, ba)
                };
                let n = frame_size_bytes(&info);
                let top = (1u32 << bs) - 1;
                let src: Vec<u8> = (0..n / usize::from(ba / 8))
                    .flat_map(|i| {
                        let v = ((i as u32).wrapping_mul(2_654_435_761) >> 7) % (top + 1);
                        v.to_le_bytes()[..usize::from(ba / 8)].to_vec()
                    })
                    .collect();
                let mut out = Vec::new();
                let params = EncodeParams::default().with_quality(30);
                let len = codec.encode_in(&src, &info, &params, &mut out).ok()?;
                out.truncate(len);
                Some((info, out))
            })
        })
        .clone()
}

const SYNTAXES: [&str; 13] = [
    "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.53",
    "1.2.840.10008.1.2.4.55",
    "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.81",
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.4.201",
    "1.2.840.10008.1.2.4.202",
    "1.2.840.10008.1.2.4.203",
    "1.2.840.10008.1.2.4.110",
    "1.2.840.10008.1.2.4.112",
];

fuzz_target!(|data: &[u8]| {
    if data.len() < 6 {
        return;
    }
    let ts =
        registry::by_uid(SYNTAXES[usize::from(data[0]) % SYNTAXES.len()]).expect("a PS3.6 syntax");
    let codec = ts
        .codec
        .expect("the fuzz build enables the C-backed codecs");
    let side = |lo: u8, hi: u8| u32::from(u16::from_le_bytes([lo, hi])).clamp(1, 1024);
    let layout = data[5];
    let ba: u16 = if layout & 1 == 1 { 16 } else { 8 };
    let unused = u16::from(layout >> 3 & 15).min(ba - 1);
    let info = FrameInfo {
        rows: side(data[1], data[2]),
        columns: side(data[3], data[4]),
        samples_per_pixel: if layout & 2 == 2 { 3 } else { 1 },
        bits_allocated: ba,
        bits_stored: ba - unused,
        pixel_representation: u16::from(layout >> 2 & 1),
        ..Default::default()
    };
    let index = usize::from(data[0]) % SYNTAXES.len();
    let mut out = vec![0u8; frame_size_bytes(&info)];
    if codec.decode(&data[6..], &info, &mut out).is_err() {
        return;
    }
    if let Some((other, stream)) = other_frame(index, codec) {
        let mut scratch = vec![0u8; frame_size_bytes(&other)];
        codec
            .decode(&stream, &other, &mut scratch)
            .expect("our encoder's frame decodes");
        let mut again = vec![0u8; out.len()];
        if codec.decode(&data[6..], &info, &mut again).is_ok() {
            assert!(
                again == out,
                "{} {info:?}: decoded again after another frame, other samples",
                SYNTAXES[index]
            );
        }
    }
});
