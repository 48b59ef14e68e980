//! The tree and its bytes, from facts made here (the Python tests compare whole
//! folders with `FileSet`'s bytes).

use crate::facts::{Facts, Missing};
use crate::tables::{Key, Kind, Tables};
use crate::tree::{build, put_text, Naming, Problem};
use crate::{dicomdir, Front};
use dicomfast_core::index::flags;
use dicomfast_core::{read_file, ReadOptions};

fn tables() -> Tables {
    let key = |tag, keyword: &str, kind| Key {
        tag,
        keyword: keyword.into(),
        kind,
    };
    Tables {
        keys: [
            (
                "PATIENT".into(),
                vec![key(0x0010_0020, "PatientID", Kind::Required)],
            ),
            (
                "STUDY".into(),
                vec![key(0x0020_000D, "StudyInstanceUID", Kind::Optional)],
            ),
            (
                "SERIES".into(),
                vec![key(0x0008_0060, "Modality", Kind::Required)],
            ),
            (
                "IMAGE".into(),
                vec![key(0x0020_0013, "InstanceNumber", Kind::Empty)],
            ),
        ]
        .into_iter()
        .collect(),
        type_of_class: Default::default(),
        root_types: ["PATIENT".to_string()].into_iter().collect(),
        levels: [
            ("PATIENT".into(), 0x0010_0020),
            ("STUDY".into(), 0x0020_000D),
            ("SERIES".into(), 0x0020_000E),
        ],
    }
}

fn facts(patient: &str, study: &str, series: &str, uid: &str) -> Facts {
    let text = |tag, vr: &[u8; 2], v: &str| {
        let mut out = Vec::new();
        put_text(&mut out, tag, *vr, v.as_bytes());
        out
    };
    Facts {
        sop_class: Some("1.2.840.10008.5.1.4.1.1.7".into()),
        sop_uid: Some(uid.into()),
        transfer_syntax: String::new(),
        record_type: "IMAGE".into(),
        ident: [patient, study, series].map(|s| Some(s.as_bytes().to_vec())),
        keys: [
            Ok(text(0x0010_0020, b"LO", patient)),
            Ok(text(0x0020_000D, b"UI", study)),
            if series == "NOMOD" {
                Err(Missing {
                    keyword: "Modality".into(),
                    tag: 0x0008_0060,
                })
            } else {
                Ok(text(0x0008_0060, b"CS", "OT"))
            },
            Ok(text(0x0020_0013, b"IS", "")),
        ],
    }
}

#[test]
fn records_nest_and_their_offsets_point_at_their_items() {
    let t = tables();
    let files = vec![
        (
            Some(vec!["A".to_string()]),
            Ok(facts("P1", "1.1", "1.1.1", "9.1")),
        ),
        (
            Some(vec!["B".to_string()]),
            Ok(facts("P2", "2.1", "2.1.1", "9.2")),
        ),
        (
            Some(vec!["C".to_string()]),
            Ok(facts("P1", "1.1", "1.1.2", "9.3")),
        ),
        (
            Some(vec!["D".to_string()]),
            Ok(facts("P1", "1.2", "NOMOD", "9.4")),
        ),
        (
            Some(vec!["E".to_string()]),
            Ok(facts("P1", "1.1", "1.1.1", "9.1")),
        ),
        (
            Some(vec!["F".to_string()]),
            Ok(facts("P1", "1.1", "1.1.1", "9.5")),
        ),
    ];
    let (tree, _, problems) = build(files, &t, &Naming::default());
    assert!(matches!(problems[0], (3, Problem::Missing { .. })));
    assert!(matches!(&problems[1], (4, Problem::Duplicate(u)) if u == "9.1"));
    assert_eq!(problems.len(), 2);
    // P1 (study 1.1: series 1.1.1 with A and F, 1.1.2 with C), P2: 11 records; the
    // refused D left no study 1.2 behind
    assert_eq!(tree.roots.len(), 2);
    assert_eq!(tree.records.len(), 11);
    let bytes = dicomdir::encode(
        &tree,
        &Front {
            fileset_uid: "1.2.3".into(),
            fileset_id: "ID".into(),
            ..Default::default()
        },
    );
    let file = read_file(&bytes, &ReadOptions::default()).unwrap();
    let nodes = &file.index.nodes;
    let items: Vec<u64> = nodes
        .iter()
        .filter(|n| n.has(flags::ITEM))
        .map(|n| n.header_offset)
        .collect();
    assert_eq!(items.len(), 11);
    let ul = |tag: u32, from: u64, to: u64| {
        let n = nodes
            .iter()
            .find(|n| n.tag == tag && n.header_offset >= from && n.header_offset < to)
            .unwrap();
        let v = &bytes[n.value_offset as usize..n.end_offset as usize];
        u32::from_le_bytes(v.try_into().unwrap()) as u64
    };
    assert_eq!(ul(0x0004_1200, 0, items[0]), items[0]);
    let last_root = items[7]; // P1 and its 6 records come first
    assert_eq!(ul(0x0004_1202, 0, items[0]), last_root);
    let end = bytes.len() as u64;
    let next_of = |i: usize| {
        ul(
            0x0004_1400,
            items[i],
            items.get(i + 1).copied().unwrap_or(end),
        )
    };
    let lower_of = |i: usize| {
        ul(
            0x0004_1420,
            items[i],
            items.get(i + 1).copied().unwrap_or(end),
        )
    };
    assert_eq!((next_of(0), lower_of(0)), (last_root, items[1])); // P1 -> P2, P1 -> study
    assert_eq!((next_of(1), lower_of(1)), (0, items[2])); // study -> series 1.1.1
    assert_eq!((next_of(2), lower_of(2)), (items[5], items[3])); // series -> 1.1.2, -> A
    assert_eq!((next_of(3), lower_of(3)), (items[4], 0)); // A -> F
    assert_eq!((next_of(5), lower_of(5)), (0, items[6])); // 1.1.2 -> C
    assert_eq!((next_of(7), lower_of(7)), (0, items[8])); // P2
}

#[test]
fn file_ids_are_up_to_8_components_of_8_characters() {
    let ok =
        |c: &[&str]| crate::walk::is_valid(&c.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert!(ok(&["A", "B_1", "12345678"]));
    assert!(ok(&["A"; 8]));
    assert!(!ok(&["A"; 9]));
    assert!(!ok(&[]));
    assert!(!ok(&["a"]));
    assert!(!ok(&["123456789"]));
    assert!(!ok(&["A.DCM"]));
    assert!(!ok(&[""]));
}

#[test]
fn generated_file_ids_count_per_folder_and_prefix() {
    let t = tables();
    let naming = Naming {
        dir_prefix: [("PATIENT", "PT"), ("STUDY", "ST"), ("SERIES", "SE")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .into_iter()
            .collect(),
        file_prefix: [("IMAGE".to_string(), "IM".to_string())]
            .into_iter()
            .collect(),
    };
    let files = vec![
        (None, Ok(facts("P1", "1.1", "1.1.1", "9.1"))),
        (None, Ok(facts("P2", "2.1", "2.1.1", "9.2"))),
        (None, Ok(facts("P1", "1.1", "1.1.2", "9.3"))),
        (None, Ok(facts("P1", "1.1", "NOMOD", "9.4"))),
        (None, Ok(facts("P1", "1.1", "1.1.1", "9.5"))),
    ];
    let (_, ids, problems) = build(files, &t, &naming);
    assert_eq!(problems.len(), 1);
    let ids: Vec<String> = ids
        .into_iter()
        .map(|i| i.map(|i| i.join("/")).unwrap_or_default())
        .collect();
    assert_eq!(
        ids,
        [
            "PT000000/ST000000/SE000000/IM000000",
            "PT000001/ST000000/SE000000/IM000000",
            "PT000000/ST000000/SE000001/IM000000",
            "", // refused: its series took no name
            "PT000000/ST000000/SE000000/IM000001",
        ]
    );
}
