//! Any bytes as a file for `dicomfast convert -t explicit-le`: the steps
//! `Decompressor::convert` takes (parse, plan, decode each frame into the output, copy
//! the rest) never panic, hang or over-allocate, and every copy made is a Part 10 file
//! in Explicit VR Little Endian that parses again, its Pixel Data the planned size.
#![no_main]

use dicomfast_core::file::{read_file, ReadOptions};
use dicomfast_export::{Decompressor, NativeOptions};
use libfuzzer_sys::fuzz_target;

#[path = "limits.rs"]
mod limits;
use limits::limits;

fuzz_target!(|data: &[u8]| {
    let copier = Decompressor::new(NativeOptions {
        resume: false,
        durable: false,
        limits: limits(),
        read_whole_below: 1 << 18,
    });
    if let Some(out) = copier.native_file(data) {
        assert_eq!(&out[128..132], b"DICM", "no DICM prefix");
        let parsed = read_file(&out, &ReadOptions::default()).expect("the copy parses");
        assert_eq!(parsed.transfer_syntax, "1.2.840.10008.1.2.1");
        assert!(parsed.error.is_none(), "the copy is damaged");
    }
});
