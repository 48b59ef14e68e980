//! The decoders backed by other projects' libraries (C: libjpeg-turbo, CharLS, OpenJPEG for
//! JPEG 2000 and HTJ2K; Rust: jxl-oxide for JPEG XL), reached as the frame pipeline reaches them: the registry row of the transfer
//! syntax the first byte picks, its codec's `decode` on the rest. One target for all of
//! them keeps CI's fuzzing time bounded.
//!
//! Input: byte 0 the syntax (index into SYNTAXES), bytes 1-2 rows and 3-4 columns (little
//! endian, at most 1024), byte 5 the layout (bit 0: 16 bits allocated; bit 1: three
//! samples; bit 2: signed; bits 3-6: unused high bits), then the frame's bytes.
//! `tools/fuzz_codec_seeds.py` writes seeds in this form.
#![no_main]

use dicomfast_codec::{frame_size_bytes, registry, FrameInfo};
use libfuzzer_sys::fuzz_target;

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
    let mut out = vec![0u8; frame_size_bytes(&info)];
    let _ = codec.decode(&data[6..], &info, &mut out);
});
