//! Any bytes, read as the Python reader reads them (partial: keep what parses)
//! and then every value decoded the ways the library decodes values: the JSON
//! model of all text and number attributes (Specific Character Set applied,
//! nested sequences included), trimming, splitting and DS/IS numbers on every
//! element, and the frames of encapsulated pixel data with and without offset
//! tables. Nothing may panic, and every node must lie inside the buffer.
#![no_main]

use dicomfast_core::file::{read_file, ReadOptions};
use dicomfast_core::frames::{frame_fragments, OffsetTable};
use dicomfast_core::index::flags;
use dicomfast_core::json::{text_attributes_json, AttributeOptions};
use dicomfast_core::parse::ParseOptions;
use dicomfast_core::value;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = ReadOptions {
        parse: ParseOptions {
            partial: true,
            max_depth: 64,
            ..Default::default()
        },
        max_inflate_ratio: 64,
    };
    let Ok(file) = read_file(data, &opts) else {
        return;
    };
    let buf = file.inflated.as_deref().unwrap_or(data);
    let index = &file.index;
    let count = index.nodes.len() as u32;
    let top: Vec<u32> = index.siblings(file.meta_nodes, count).collect();
    let all = AttributeOptions {
        max_depth: 64,
        max_text: usize::MAX,
    };
    let json = text_attributes_json(index, buf, &top, None, all);
    assert!(json.starts_with('{') && json.ends_with('}'));
    let inherited = ["ISO 2022 IR 6".to_string(), "ISO 2022 IR 87".to_string()];
    let _ = text_attributes_json(
        index,
        buf,
        &top,
        Some(&inherited),
        AttributeOptions::default(),
    );

    for (i, n) in index.nodes.iter().enumerate() {
        assert!(
            n.header_offset <= n.value_offset
                && n.value_offset <= n.end_offset
                && n.end_offset <= buf.len() as u64,
            "node {i} outside the buffer: {n:?} (buffer {} bytes)",
            buf.len()
        );
        assert!(
            n.next > i as u32 && n.next <= count,
            "node {i}: next {}",
            n.next
        );
        let v = &buf[n.value_offset as usize..n.end_offset as usize];
        for part in value::split(value::trim(n.vr, v)) {
            let _ = value::parse_ds(part);
            let _ = value::parse_is(part);
            let _ = value::strip_spaces(part);
        }
        if n.has(flags::ENCAPSULATED) {
            let fragments = index.children(i as u32).count();
            for frames in [1, 2, fragments.saturating_sub(1), fragments + 1] {
                let _ = frame_fragments(buf, index, i as u32, frames, None);
            }
            // The last 8-byte-aligned stretch before the pixel data as an Extended Offset Table.
            let start = (n.header_offset as usize).saturating_sub(64) & !7;
            let table = &buf[start..n.header_offset as usize & !7];
            for big_endian in [false, true] {
                let extended = OffsetTable {
                    offsets: table,
                    big_endian,
                };
                let _ = frame_fragments(buf, index, i as u32, 2, Some(extended));
            }
        }
    }
});
