//! Our HTJ2K encoder (lossless 4.201, through the codec registry) -> our HTJ2K decoder (the
//! codec's) and OpenJPEG's (the JPEG 2000 codec's) must both give the frame back: any size up to 96 x 96, 1-16 bits, signed or not, grey or
//! RGB (with or without the RCT), samples from the fuzz input.
#![no_main]

use dicomfast_codec::registry::by_uid;
use dicomfast_codec::{frame_size_bytes, EncodeParams, FrameInfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 {
        return;
    }
    let (head, body) = data.split_at(5);
    let bits = u16::from(head[2] % 16) + 1;
    let ba = if bits > 8 { 16 } else { 8 };
    let spp = if head[3] & 1 == 1 { 3 } else { 1 };
    let fi = FrameInfo {
        rows: u32::from(head[0] % 96) + 1,
        columns: u32::from(head[1] % 96) + 1,
        samples_per_pixel: spp,
        bits_allocated: ba,
        bits_stored: bits,
        pixel_representation: u16::from(head[3] >> 1 & 1),
        ..Default::default()
    };
    let size = frame_size_bytes(&fi);
    let src: Vec<u8> = if body.is_empty() {
        vec![0; size]
    } else {
        body.iter().copied().cycle().take(size).collect()
    };
    // The frame as a decoder gives it: Bits Stored wide, sign-extended.
    let mut norm = vec![0u8; size];
    dicomfast_codec::decode_native_frame(&src, &fi, &mut norm).unwrap();
    let ts = by_uid(if head[4] & 1 == 1 {
        "1.2.840.10008.1.2.4.202"
    } else {
        "1.2.840.10008.1.2.4.201"
    })
    .unwrap();
    let codec = ts.codec.unwrap();
    let params = EncodeParams::default().with_colour_transform(head[4] & 2 == 2);
    let mut enc = Vec::new();
    let n = codec.encode_in(&norm, &fi, &params, &mut enc).unwrap();
    let mut out = vec![0u8; size];
    codec.decode(&enc[..n], &fi, &mut out).unwrap();
    assert!(out == norm, "{fi:?} {:?}", &head);
    let openjpeg = by_uid("1.2.840.10008.1.2.4.90").unwrap().codec.unwrap();
    openjpeg.decode(&enc[..n], &fi, &mut out).unwrap();
    assert!(out == norm, "OpenJPEG: {fi:?} {:?}", &head);
});
