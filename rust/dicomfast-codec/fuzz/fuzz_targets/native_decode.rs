//! Arbitrary bytes as native (uncompressed) pixel data: every Bits Allocated, sign, planar
//! configuration, big endian, float and a start bit inside the data come from the first 5
//! bytes. Also YBR_FULL_422 expansion. Decoding never panics, and a frame that decodes from
//! bit 0 decodes the same from bit 8 of the data shifted by one byte.
#![no_main]

use dicomfast_codec::{
    decode_native_frame_at_bit, expand_ybr_full_422, frame_size_bytes, FrameInfo,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 {
        return;
    }
    let (h, src) = data.split_at(5);
    let ba = [1u16, 8, 16, 32, 64][usize::from(h[2] % 5)];
    let fi = FrameInfo {
        rows: u32::from(h[0] % 64) + 1,
        columns: u32::from(h[1] % 64) + 1,
        samples_per_pixel: [1u16, 3, 2, 4][usize::from(h[2] >> 3 & 3)],
        bits_allocated: ba,
        bits_stored: ba - u16::from(h[3] & 63).min(ba - 1),
        pixel_representation: u16::from(h[3] >> 6 & 1),
        planar_configuration: u16::from(h[3] >> 7),
        big_endian: h[4] & 1 == 1,
        float: h[4] & 2 == 2,
    };
    let bit = usize::from(h[4] >> 2);
    let size = frame_size_bytes(&fi);
    let mut out = vec![0u8; size];
    let first = decode_native_frame_at_bit(src, bit, &fi, &mut out);
    if first.is_ok() && bit % 8 == 0 && !(fi.big_endian && ba == 8) {
        let shifted = [&[0u8][..], src].concat();
        let mut again = vec![0u8; size];
        decode_native_frame_at_bit(&shifted, bit + 8, &fi, &mut again)
            .expect("one more leading byte must decode too");
        assert!(again == out, "a byte of offset changes the frame");
    }
    let ybr = FrameInfo {
        samples_per_pixel: 3,
        bits_allocated: 8,
        bits_stored: 8,
        ..fi
    };
    let mut out = vec![0u8; frame_size_bytes(&ybr)];
    let _ = expand_ybr_full_422(src, &ybr, &mut out);
});
