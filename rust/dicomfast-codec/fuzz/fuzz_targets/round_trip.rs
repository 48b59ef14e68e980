//! encode -> decode must give the input back, for RLE and JPEG Lossless.
#![no_main]

use dicomfast_codec::jpeg::{self, EncodeOptions};
use dicomfast_codec::{frame_size_bytes, rle, FrameInfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 6 {
        return;
    }
    let (head, body) = data.split_at(6);
    let ba = if head[2] & 1 == 1 { 16u16 } else { 8 };
    let bs = (ba - u16::from(head[3]) % (ba - 1)).max(2);
    let spp = if head[2] & 2 == 2 { 3 } else { 1 };
    let fi = FrameInfo {
        rows: u32::from(head[0] % 32) + 1,
        columns: u32::from(head[1] % 32) + 1,
        samples_per_pixel: spp,
        bits_allocated: ba,
        bits_stored: bs,
        pixel_representation: u16::from(head[2] >> 2 & 1),
        ..Default::default()
    };
    let size = frame_size_bytes(&fi);
    // Frame from the fuzz input (cycled), normalised to Bits Stored like a decoder's output.
    let mut src: Vec<u8> = body.iter().copied().cycle().take(size).collect();
    if src.len() < size {
        src.resize(size, 0);
    }
    let mut norm = vec![0u8; size];
    let fi_native = fi;
    dicomfast_codec::decode_native_frame(&src, &fi_native, &mut norm).unwrap();

    let enc = rle::encode_frame(&norm, &fi).unwrap();
    let mut out = vec![0u8; size];
    rle::decode_frame(&enc, &fi, &mut out).unwrap();
    assert_eq!(out, norm, "RLE");

    let opts = EncodeOptions {
        predictor: head[4] % 7 + 1,
        point_transform: 0,
        restart_interval: u16::from(head[5] % 8) * u16::from(head[5] >> 3 & 3),
        interleaved: head[5] & 0x80 == 0,
    };
    let enc = jpeg::encode_frame_with(&norm, &fi, &opts).unwrap();
    let mut out = vec![0u8; size];
    jpeg::decode_frame(&enc, &fi, &mut out).unwrap();
    assert_eq!(out, norm, "JPEG {opts:?}");
});
