//! Arbitrary bytes as a JPEG Lossless frame; the frame layout comes from the first 4 bytes.
//! Also exercises the header reader and the general plane decoder, and checks the two-frame
//! decoder against the one-frame decoder.
#![no_main]

use dicomfast_codec::{frame_size_bytes, jpeg, FrameInfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let ba = if data[2] & 1 == 1 { 16 } else { 8 };
    let fi = FrameInfo {
        rows: u32::from(data[0] % 64) + 1,
        columns: u32::from(data[1] % 64) + 1,
        samples_per_pixel: [1u16, 3, 2, 4][usize::from(data[2] >> 1 & 3)],
        bits_allocated: ba,
        bits_stored: ba - u16::from(data[3] & 7),
        pixel_representation: u16::from(data[3] >> 3 & 1),
        ..Default::default()
    };
    let src = &data[4..];
    let size = frame_size_bytes(&fi);
    let mut out = vec![0u8; size];
    let single = jpeg::decode_frame(src, &fi, &mut out);
    let (mut a, mut b) = (vec![0u8; size], vec![0u8; size]);
    if jpeg::decode_frame_pair(src, src, &fi, &mut a, &mut b) {
        assert!(
            single.is_ok(),
            "pair decoder accepts what decode_frame refuses: {single:?}"
        );
        assert!(a == out && b == out, "pair and single decoders disagree");
    }
    let _ = jpeg::read_header(src);
    let _ = jpeg::decode_planes(src, 1 << 16);
});
