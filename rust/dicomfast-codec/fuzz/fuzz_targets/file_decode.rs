//! File bytes to pixels as `_core.pixel_array_from_path` (and, after `dicomfast.read`,
//! `_core.pixel_array_as_read`) takes them: the file parsed (partial reads kept, as
//! `force=True` keeps them) and its data set planned from the index
//! (`as_read::plan_file`: attributes, transfer syntax, fragments, size checks), every
//! frame decoded by the frame pipeline into an output of the planned size. Nothing may panic or read out of bounds, whatever the bytes.
//!
//! What decodes on one thread is decoded again on two (frames spread over them; a lone
//! frame's JPEG bands, JPEG 2000 threads or HTJ2K code-blocks over both): the same
//! samples, whichever thread decoded which frame after which.
//!
//! Seeds: the corpus's files (tools/fuzz_ci.sh).
#![no_main]

use std::collections::HashSet;

use dicomfast_codec::as_read::{plan_file, Limits};
use dicomfast_codec::{frame_size_bytes, pipeline};
use dicomfast_core::parse::ParseOptions;
use libfuzzer_sys::fuzz_target;

/// As `dicomfast.pixels.info` has them, but smaller outputs (the fuzzer's memory).
fn limits() -> Limits {
    let unbounded: HashSet<String> = ["80", "81", "90", "91", "92", "93", "201", "202", "203"]
        .iter()
        .map(|n| format!("1.2.840.10008.1.2.4.{n}"))
        .collect();
    Limits {
        max_ratio: 1100,
        unbounded_ratio: 1 << 16,
        unbounded,
        frame_slack: 64 << 10,
        max_frames: (1 << 31) - 1,
    }
}

fuzz_target!(|data: &[u8]| {
    let parse = ParseOptions {
        stop_before_pixels: false,
        partial: true,
        max_depth: 64,
    };
    let Some(fp) = plan_file(data, parse, &limits(), false) else {
        return;
    };
    let p = &fp.plan;
    let Some(size) = frame_size_bytes(&p.info).checked_mul(p.frames.len()) else {
        return;
    };
    if size > 64 << 20 {
        return; // a large but valid plan: the fuzzer's memory, not a finding
    }
    let mut out = vec![0u8; size];
    let input = pipeline::Fragments {
        source: fp.source(data),
        frames: &p.frames,
        first_frame: 0,
    };
    let codec = p.syntax.codec.expect("a plan has a codec");
    let one =
        pipeline::decode_frames::<std::fs::File>(codec, &input, &p.info, &mut out, Some(1), None);
    if one.is_err() {
        return;
    }
    let mut two = vec![0u8; size];
    if pipeline::decode_frames::<std::fs::File>(codec, &input, &p.info, &mut two, Some(2), None)
        .is_ok()
    {
        assert!(
            two == out,
            "{} {:?}, {} frames: two threads decode other samples than one",
            p.syntax.uid,
            p.info,
            p.frames.len()
        );
    }
});
