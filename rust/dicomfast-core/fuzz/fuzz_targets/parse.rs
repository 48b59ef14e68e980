//! Any bytes: parsing never panics, hangs or over-allocates; what parses
//! writes back (same encoding) to bytes that parse to the same index shape;
//! converted to another encoding, it still parses.
#![no_main]

use dicomfast_core::file::{read_file, ReadOptions};
use dicomfast_core::index::NONE;
use dicomfast_core::parse::ParseOptions;
use dicomfast_core::syntax::Encoding;
use dicomfast_core::write::{DefaultResolver, Writer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let partial = data.first().is_some_and(|b| b & 1 == 1);
    let opts = ReadOptions {
        parse: ParseOptions { partial, max_depth: 64, ..Default::default() },
        max_inflate_ratio: 64,
    };
    let Ok(file) = read_file(data, &opts) else { return };
    let buf = file.inflated.as_deref().unwrap_or(data);
    let top: Vec<u32> = file.index.siblings(file.meta_nodes, file.index.nodes.len() as u32).collect();
    for dst in [file.encoding, Encoding::IMPLICIT_LE, Encoding::EXPLICIT_BE] {
        let writer = Writer {
            buf,
            index: &file.index,
            dst,
            resolver: DefaultResolver { pixel_representation: 0 },
        };
        let mut out = Vec::new();
        if writer.write_all(top.iter().copied(), &mut out).is_err() {
            continue;
        }
        let mut again = dicomfast_core::Index::default();
        let parsed = dicomfast_core::parse::parse_dataset(
            &out,
            0,
            out.len() as u64,
            dst,
            &ParseOptions { max_depth: 64, ..Default::default() },
            &mut again,
        );
        if dst == file.encoding && file.error.is_none() {
            let parsed = parsed.expect("what was read must read again");
            assert!(parsed.error.is_none());
            assert_eq!(again.children(NONE).count(), top.len());
        }
    }
});
