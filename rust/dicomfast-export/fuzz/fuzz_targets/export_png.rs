//! Any bytes as a file for `dicomfast export` to PNG (the options chosen by the input's
//! length: 8 or 16 bits, the file's window or a user's, the first or second window):
//! the steps `Exporter::export` takes (parse, plan, native unpacking or RLE / JPEG
//! Lossless decoding, the display table, PNG) never panic, hang or over-allocate, and
//! every picture made is a whole PNG.
#![no_main]

use std::collections::HashSet;

use dicomfast_codec::as_read::Limits;
use dicomfast_export::{Exporter, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let k = data.len() % 8;
    let exporter = Exporter::new(Options {
        bits: if k & 1 == 0 { 8 } else { 16 },
        window: (k & 2 != 0).then_some((40.0, 400.0)),
        voi_index: usize::from(k & 4 != 0),
        resume: false,
        durable: false,
        limits: Limits {
            max_ratio: 1100,
            unbounded_ratio: 1 << 16,
            unbounded: HashSet::new(),
            frame_slack: 64 << 10,
            max_frames: (1 << 31) - 1,
        },
        read_whole_below: 1 << 18,
    });
    if let Some(pngs) = exporter.pngs(data) {
        for png in pngs {
            assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
            assert!(png.ends_with(b"IEND\xae\x42\x60\x82"), "a PNG cut short");
        }
    }
});
