//! Arbitrary bytes as an RLE frame; the frame layout comes from the first 4 bytes.
#![no_main]

use dicomfast_codec::{frame_size_bytes, rle, FrameInfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let ba = [1u16, 8, 16, 32, 64][usize::from(data[2] % 5)];
    let fi = FrameInfo {
        rows: u32::from(data[0] % 64) + 1,
        columns: u32::from(data[1] % 64) + 1,
        samples_per_pixel: if data[3] & 1 == 1 && ba != 1 { 3 } else { 1 },
        bits_allocated: ba,
        bits_stored: ba - u16::from(data[3] >> 5).min(ba - 1),
        pixel_representation: u16::from(data[3] >> 1 & 1),
        ..Default::default()
    };
    let mut out = vec![0u8; frame_size_bytes(&fi)];
    let _ = rle::decode_frame(&data[4..], &fi, &mut out);
});
