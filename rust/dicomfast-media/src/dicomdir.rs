//! A file-set's tree -> the bytes of its DICOMDIR (PS3.10 §8, PS3.3 F.3): preamble,
//! file meta, the directory's own elements, then the records as defined-length
//! items in depth-first order, each with its next-sibling and lower-level offsets
//! (bytes from the first byte of the file, preamble included: F.3.2.1).

use crate::tree::{put_text, Tree};
use dicomfast_core::write::write_header;
use dicomfast_core::Encoding;

const MEDIA_STORAGE_DIRECTORY: &[u8] = b"1.2.840.10008.1.3.10";
const EXPLICIT_VR_LITTLE_ENDIAN: &[u8] = b"1.2.840.10008.1.2.1";

/// What the DICOMDIR says of itself.
#[derive(Debug, Clone, Default)]
pub struct Front {
    pub fileset_uid: String,
    pub fileset_id: String,
    /// File ID of the File-set Descriptor File and its character set.
    pub descriptor: Option<(Vec<String>, Option<String>)>,
    pub implementation_class_uid: String,
    pub implementation_version_name: String,
}

fn put_ul(out: &mut Vec<u8>, tag: u32, v: u32) {
    write_header(out, tag, *b"UL", 4, Encoding::EXPLICIT_LE);
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_us(out: &mut Vec<u8>, tag: u32, v: u16) {
    write_header(out, tag, *b"US", 2, Encoding::EXPLICIT_LE);
    out.extend_from_slice(&v.to_le_bytes());
}

/// Where the values of the three offsets sit in an encoded record (after its item header).
const AT_NEXT: usize = 8 + 8;
const AT_LOWER: usize = 8 + 12 + 10 + 8;

/// The DICOMDIR of `tree`.
pub fn encode(tree: &Tree, front: &Front) -> Vec<u8> {
    let mut meta = Vec::new();
    write_header(&mut meta, 0x0002_0001, *b"OB", 2, Encoding::EXPLICIT_LE);
    meta.extend_from_slice(&[0, 1]);
    put_text(&mut meta, 0x0002_0002, *b"UI", MEDIA_STORAGE_DIRECTORY);
    put_text(&mut meta, 0x0002_0003, *b"UI", front.fileset_uid.as_bytes());
    put_text(&mut meta, 0x0002_0010, *b"UI", EXPLICIT_VR_LITTLE_ENDIAN);
    put_text(
        &mut meta,
        0x0002_0012,
        *b"UI",
        front.implementation_class_uid.as_bytes(),
    );
    put_text(
        &mut meta,
        0x0002_0013,
        *b"SH",
        front.implementation_version_name.as_bytes(),
    );
    let mut out = vec![0u8; 128];
    out.extend_from_slice(b"DICM");
    put_ul(&mut out, 0x0002_0000, meta.len() as u32);
    out.extend_from_slice(&meta);
    put_text(&mut out, 0x0004_1130, *b"CS", front.fileset_id.as_bytes());
    if let Some((file_id, charset)) = &front.descriptor {
        if !file_id.is_empty() {
            put_text(&mut out, 0x0004_1141, *b"CS", file_id.join("\\").as_bytes());
            if let Some(cs) = charset.as_deref().filter(|c| !c.is_empty()) {
                put_text(&mut out, 0x0004_1142, *b"CS", cs.as_bytes());
            }
        }
    }
    let at_first = out.len() + 8;
    put_ul(&mut out, 0x0004_1200, 0);
    let at_last = out.len() + 8;
    put_ul(&mut out, 0x0004_1202, 0);
    put_us(&mut out, 0x0004_1212, 0);

    // Depth-first order, and where each record will start.
    let mut order = Vec::with_capacity(tree.records.len());
    let mut stack: Vec<usize> = tree.roots.iter().rev().copied().collect();
    while let Some(r) = stack.pop() {
        order.push(r);
        stack.extend(tree.records[r].children.iter().rev());
    }
    let item_len = |r: usize| 8 + 12 + 10 + 12 + tree.records[r].elements.len();
    let seq_len: usize = order.iter().map(|&r| item_len(r)).sum();
    let mut offset = vec![0u32; tree.records.len()];
    let mut pos = out.len() + 12;
    for &r in &order {
        offset[r] = pos as u32;
        pos += item_len(r);
    }
    let mut next = vec![0u32; tree.records.len()];
    for siblings in std::iter::once(&tree.roots).chain(tree.records.iter().map(|r| &r.children)) {
        for w in siblings.windows(2) {
            next[w[0]] = offset[w[1]];
        }
    }
    if let (Some(&first), Some(&last)) = (tree.roots.first(), tree.roots.last()) {
        out[at_first..at_first + 4].copy_from_slice(&offset[first].to_le_bytes());
        out[at_last..at_last + 4].copy_from_slice(&offset[last].to_le_bytes());
    }
    out.reserve(12 + seq_len);
    write_header(
        &mut out,
        0x0004_1220,
        *b"SQ",
        seq_len as u32,
        Encoding::EXPLICIT_LE,
    );
    for &r in &order {
        let record = &tree.records[r];
        let start = out.len();
        out.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0]);
        out.extend_from_slice(&((item_len(r) - 8) as u32).to_le_bytes());
        put_ul(&mut out, 0x0004_1400, next[r]);
        put_us(&mut out, 0x0004_1410, 0xFFFF);
        let lower = record.children.first().map_or(0, |&c| offset[c]);
        put_ul(&mut out, 0x0004_1420, lower);
        debug_assert_eq!(out.len() - start, AT_LOWER + 4);
        debug_assert_eq!(
            &out[start + AT_NEXT - 8..start + AT_NEXT - 4],
            &[4, 0, 0, 0x14]
        );
        out.extend_from_slice(&record.elements);
    }
    out
}
