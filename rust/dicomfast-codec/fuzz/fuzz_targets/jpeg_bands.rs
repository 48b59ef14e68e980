//! Arbitrary bytes as a lone JPEG DCT frame decoded in bands on several threads (the
//! `restarts` path a frame pipeline takes for a lone frame whose restart intervals hold
//! whole MCU rows), and checked against the frame decoded whole: where both succeed they
//! give the same samples. An unsigned 12-bit grey frame decoded whole (libjpeg-turbo with
//! our IDCT, `grey12`) is also checked against TurboJPEG alone (its own IDCT): where both
//! succeed, the same samples. An 8-bit frame that our entropy decoder takes (`huffman8`,
//! with libjpeg-turbo's IDCT; grey, or colour whose planes we upsample) must be one
//! libjpeg-turbo alone decodes without a warning, to the same samples.
//!
//! Input: byte 0 the threads (2 + byte % 3), byte 1 rows - 1, byte 2 columns - 1, byte 3
//! the layout (bit 0: three samples; bit 1: 16 bits allocated, a 12-bit stream; bit 2:
//! signed), then the stream. Seeds: frames our encoder wrote in bands
//! (rust/dicomfast-codec/tests/fuzz_seeds.rs).
#![no_main]

use dicomfast_codec::{frame_size_bytes, jpeg_dct, registry, FrameInfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let threads = 2 + usize::from(data[0] % 3);
    let wide = data[3] & 2 == 2;
    let ba: u16 = if wide { 16 } else { 8 };
    let info = FrameInfo {
        rows: u32::from(data[1]) + 1,
        columns: u32::from(data[2]) + 1,
        samples_per_pixel: if data[3] & 1 == 1 { 3 } else { 1 },
        bits_allocated: ba,
        bits_stored: if wide { 12 } else { 8 },
        pixel_representation: u16::from(data[3] >> 2 & 1),
        ..Default::default()
    };
    let stream = &data[4..];
    let size = frame_size_bytes(&info);
    let mut banded = vec![0u8; size];
    let banded_ok = jpeg_dct::bands::decode(stream, &info, &mut banded, threads);
    let uid = if wide {
        "1.2.840.10008.1.2.4.51"
    } else {
        "1.2.840.10008.1.2.4.50"
    };
    let codec = registry::by_uid(uid)
        .and_then(|ts| ts.codec)
        .expect("the fuzz build has libjpeg-turbo");
    let mut whole = vec![0u8; size];
    // This thread starts no inner threads: the codec decodes the frame whole.
    let whole_ok = codec.decode(stream, &info, &mut whole).is_ok();
    if whole_ok && matches!(banded_ok, Some(Ok(()))) {
        assert!(
            banded == whole,
            "{info:?} on {threads} threads: the bands decode to other samples than the whole frame"
        );
    }
    if !wide && info.samples_per_pixel == 1 {
        let (rows, cols) = (info.rows as usize, info.columns as usize);
        if let Some(ours) = jpeg_dct::turbojpeg_alone::grey8(stream, rows, cols) {
            match jpeg_dct::turbojpeg_alone::decode8(stream, rows, cols) {
                Ok(alone) => assert!(
                    ours == alone,
                    "{info:?}: our 8-bit entropy decoder gives other samples than libjpeg-turbo"
                ),
                Err(e) => {
                    panic!("{info:?}: taken by our 8-bit decoder, refused by libjpeg-turbo: {e}")
                }
            }
        }
    }
    if !wide && info.samples_per_pixel == 3 && info.pixel_representation == 0 {
        if let Some((ours, alone)) = jpeg_dct::turbojpeg_alone::colour(stream, &info) {
            match alone {
                Ok(alone) => assert!(
                    ours == alone,
                    "{info:?}: our 8-bit entropy decoder gives other samples than libjpeg-turbo"
                ),
                Err(e) => panic!("{info:?}: taken by our 8-bit decoder, refused by libjpeg-turbo: {e}"),
            }
        }
    }
    if whole_ok && wide && info.samples_per_pixel == 1 && info.pixel_representation == 0 {
        let (rows, cols) = (info.rows as usize, info.columns as usize);
        if let Ok(alone) = jpeg_dct::turbojpeg_alone::decode12(stream, rows, cols) {
            let alone: Vec<u8> = alone.iter().flat_map(|v| v.to_le_bytes()).collect();
            assert!(
                whole == alone,
                "{info:?}: our 12-bit IDCT gives other samples than libjpeg-turbo's"
            );
        }
    }
});
