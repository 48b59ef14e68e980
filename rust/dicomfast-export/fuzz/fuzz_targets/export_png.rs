//! Any bytes as a file for `dicomfast export` (the options chosen by the input's
//! length: PNG of the display's 8 or 16 bits, with the file's window or a user's, the
//! first or second window; or `.npy` of the display's, the Modality LUT's or the stored
//! values): the steps `Exporter::export` takes (parse, plan, native unpacking or RLE /
//! JPEG Lossless decoding, the display table or the rescale, PNG or NPY) never panic,
//! hang or over-allocate, and every picture made is a whole PNG or NPY file.
#![no_main]

use dicomfast_export::{Exporter, Format, Options, Values};
use libfuzzer_sys::fuzz_target;

#[path = "limits.rs"]
mod limits;
use limits::limits;

fuzz_target!(|data: &[u8]| {
    let k = data.len() % 16;
    let (format, values) = match k >> 3 {
        0 => (Format::Png, Values::Display),
        _ => (Format::Npy, [Values::Display, Values::Modality, Values::Stored][k % 3]),
    };
    let exporter = Exporter::new(Options {
        format,
        values,
        bits: if k & 1 == 0 { 8 } else { 16 },
        window: (k & 2 != 0).then_some((40.0, 400.0)),
        voi_index: usize::from(k & 4 != 0),
        resume: false,
        durable: false,
        limits: limits(),
        read_whole_below: 1 << 18,
    });
    if let Some(files) = exporter.pictures(data) {
        for f in files {
            match format {
                Format::Png => {
                    assert!(f.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
                    assert!(f.ends_with(b"IEND\xae\x42\x60\x82"), "a PNG cut short");
                }
                Format::Npy => {
                    assert!(f.starts_with(b"\x93NUMPY\x01\x00"), "not an NPY file");
                    let header = usize::from(u16::from_le_bytes([f[8], f[9]]));
                    assert_eq!((10 + header) % 64, 0, "an NPY header not aligned");
                }
            }
        }
    }
});
