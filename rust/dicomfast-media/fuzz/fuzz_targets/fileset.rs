//! Any bytes, cut into up to 8 instances at each "\xFE\xFE\xFE\xFE": reading their
//! facts, making the tree (under given File IDs and under generated ones) and its
//! DICOMDIR never panics, hangs or over-allocates, and the DICOMDIR parses back with
//! one item per record in its Directory Record Sequence.
#![no_main]

use dicomfast_core::file::{read_file, ReadOptions};
use dicomfast_core::index::{flags, NONE};
use dicomfast_media::facts::from_bytes;
use dicomfast_media::tables::{Key, Kind, Tables};
use dicomfast_media::tree::{build, Naming};
use dicomfast_media::{dicomdir, Front};
use libfuzzer_sys::fuzz_target;

fn tables() -> Tables {
    let key = |tag, kind| Key { tag, keyword: format!("{tag:08X}"), kind };
    let keys = [
        ("PATIENT", vec![key(0x0008_0005, Kind::Optional), key(0x0010_0010, Kind::Empty), key(0x0010_0020, Kind::Required)]),
        ("STUDY", vec![key(0x0008_0020, Kind::Required), key(0x0020_000D, Kind::Optional), key(0x0008_1030, Kind::Empty)]),
        ("SERIES", vec![key(0x0008_0060, Kind::Required), key(0x0020_000E, Kind::Required), key(0x0088_0200, Kind::Optional)]),
        ("IMAGE", vec![key(0x0020_0013, Kind::Required), key(0x0028_0010, Kind::Optional)]),
        ("SR DOCUMENT", vec![key(0x0040_A730, Kind::Optional), key(0x0040_A043, Kind::Empty)]),
    ];
    Tables {
        keys: keys.into_iter().map(|(t, k)| (t.to_string(), k)).collect(),
        type_of_class: [("1.2.840.10008.5.1.4.1.1.88.11", "SR DOCUMENT"), ("1.2.3", "PATIENT")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        root_types: ["PATIENT".to_string()].into_iter().collect(),
        levels: [("PATIENT".into(), 0x0010_0020), ("STUDY".into(), 0x0020_000D), ("SERIES".into(), 0x0020_000E)],
    }
}

fuzz_target!(|data: &[u8]| {
    let tables = tables();
    let mut parts = Vec::new();
    let mut rest = data;
    while parts.len() < 7 {
        match rest.windows(4).position(|w| w == [0xFE; 4]) {
            Some(at) => {
                parts.push(&rest[..at]);
                rest = &rest[at + 4..];
            }
            None => break,
        }
    }
    parts.push(rest);
    for generated in [false, true] {
        let sources = parts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let id = (!generated).then(|| vec![format!("F{i}")]);
                (id, from_bytes(p, &tables))
            })
            .collect();
        let (tree, ids, _) = build(sources, &tables, &Naming::default());
        for id in ids.iter().flatten() {
            assert!(!id.is_empty() && id.len() <= 4);
        }
        let bytes = dicomdir::encode(&tree, &Front { fileset_uid: "1.2".into(), ..Default::default() });
        let file = read_file(&bytes, &ReadOptions::default()).expect("our DICOMDIR parses");
        let nodes = &file.index.nodes;
        let seq = nodes.iter().position(|n| n.tag == 0x0004_1220 && n.parent == NONE).expect("records");
        let items = nodes.iter().filter(|n| n.has(flags::ITEM) && n.parent == seq as u32).count();
        assert_eq!(items, tree.records.len());
    }
});
