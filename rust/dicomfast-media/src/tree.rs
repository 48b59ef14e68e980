//! The records of a file-set made from the facts of its instances: one PATIENT per
//! Patient ID, one STUDY per Study Instance UID under it, one SERIES per Series
//! Instance UID under that, and the instance's own record (PS3.3 F.4), in the order
//! the instances come.

use crate::facts::{Facts, FileError, Missing};
use crate::tables::Tables;
use dicomfast_core::write::write_header;
use dicomfast_core::Encoding;
use std::collections::{HashMap, HashSet};

const EXPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2.1";

/// Why an instance could not be taken into the file-set.
#[derive(Debug)]
pub enum Problem {
    Read(FileError),
    /// No SOP Class or SOP Instance UID.
    NotComposite,
    /// Its SOP Instance UID is an earlier instance's.
    Duplicate(String),
    /// Its record type sits outside the patient hierarchy.
    RootType(String),
    /// A record it needs lacks a type 1 key.
    Missing {
        record_type: String,
        key: Missing,
    },
}

/// One directory record: its elements after the three offsets, and its lower level.
#[derive(Debug, Default, Clone)]
pub struct Record {
    pub elements: Vec<u8>,
    pub children: Vec<usize>,
}

#[derive(Debug, Default, Clone)]
pub struct Tree {
    pub records: Vec<Record>,
    pub roots: Vec<usize>,
}

/// Append a text element (explicit VR little endian), padded to even length as
/// PS3.5 6.2 says (a UID with NUL, other text with a space).
pub fn put_text(out: &mut Vec<u8>, tag: u32, vr: [u8; 2], value: &[u8]) {
    let pad = value.len() & 1;
    write_header(
        out,
        tag,
        vr,
        (value.len() + pad) as u32,
        Encoding::EXPLICIT_LE,
    );
    out.extend_from_slice(value);
    if pad == 1 {
        out.push(if &vr == b"UI" { 0 } else { b' ' });
    }
}

fn level_record(level: &str, keys: &[u8]) -> Record {
    let mut elements = Vec::with_capacity(16 + keys.len());
    put_text(&mut elements, 0x0004_1430, *b"CS", level.as_bytes());
    elements.extend_from_slice(keys);
    Record {
        elements,
        children: Vec::new(),
    }
}

/// The tree of the instances `files` (File ID components, facts) taken in order, and
/// the problem of each instance that could not be taken (with its position).
pub fn build(
    files: Vec<(Vec<String>, Result<Facts, FileError>)>,
    tables: &Tables,
) -> (Tree, Vec<(usize, Problem)>) {
    let mut tree = Tree::default();
    let mut problems = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    // (parent record or usize::MAX for the root, level, identifier) -> record
    let mut child: HashMap<(usize, usize, Option<Vec<u8>>), usize> = HashMap::new();
    for (k, (file_id, facts)) in files.into_iter().enumerate() {
        let f = match facts {
            Ok(f) => f,
            Err(e) => {
                problems.push((k, Problem::Read(e)));
                continue;
            }
        };
        let (Some(class), Some(uid)) = (&f.sop_class, &f.sop_uid) else {
            problems.push((k, Problem::NotComposite));
            continue;
        };
        if seen.contains(uid) {
            problems.push((k, Problem::Duplicate(uid.clone())));
            continue;
        }
        if tables.root_types.contains(&f.record_type) {
            problems.push((k, Problem::RootType(f.record_type.clone())));
            continue;
        }
        match take(&mut tree, &mut child, tables, &f, class, uid, &file_id) {
            Ok(()) => {
                seen.insert(uid.clone());
            }
            Err(p) => problems.push((k, p)),
        }
    }
    (tree, problems)
}

/// Add one instance: every record it needs is made before any is attached, so a
/// missing key leaves the tree as it was.
fn take(
    tree: &mut Tree,
    child: &mut HashMap<(usize, usize, Option<Vec<u8>>), usize>,
    tables: &Tables,
    f: &Facts,
    class: &str,
    uid: &str,
    file_id: &[String],
) -> Result<(), Problem> {
    let missing = |record_type: &str, key: &Missing| Problem::Missing {
        record_type: record_type.to_string(),
        key: key.clone(),
    };
    // The existing records of the path down (`above`, the deepest), then the new
    // ones below it with their keys.
    let mut above = usize::MAX;
    let mut new: Vec<(usize, Record)> = Vec::new();
    for (level, (name, _)) in tables.levels.iter().enumerate() {
        if new.is_empty() {
            if let Some(&at) = child.get(&(above, level, f.ident[level].clone())) {
                above = at;
                continue;
            }
        }
        let keys = f.keys[level].as_ref().map_err(|m| missing(name, m))?;
        new.push((level, level_record(name, keys)));
    }
    let keys = f.keys[3].as_ref().map_err(|m| missing(&f.record_type, m))?;
    let mut elements = Vec::with_capacity(160 + keys.len());
    put_text(&mut elements, 0x0004_1430, *b"CS", f.record_type.as_bytes());
    put_text(
        &mut elements,
        0x0004_1500,
        *b"CS",
        file_id.join("\\").as_bytes(),
    );
    put_text(&mut elements, 0x0004_1510, *b"UI", class.as_bytes());
    put_text(&mut elements, 0x0004_1511, *b"UI", uid.as_bytes());
    let ts = if f.transfer_syntax.is_empty() {
        EXPLICIT_VR_LITTLE_ENDIAN
    } else {
        f.transfer_syntax.as_str()
    };
    put_text(&mut elements, 0x0004_1512, *b"UI", ts.as_bytes());
    elements.extend_from_slice(keys);
    for (level, record) in new {
        let at = tree.records.len();
        tree.records.push(record);
        attach(tree, above, at);
        child.insert((above, level, f.ident[level].clone()), at);
        above = at;
    }
    let at = tree.records.len();
    tree.records.push(Record {
        elements,
        children: Vec::new(),
    });
    attach(tree, above, at);
    Ok(())
}

fn attach(tree: &mut Tree, parent: usize, at: usize) {
    if parent == usize::MAX {
        tree.roots.push(at);
    } else {
        tree.records[parent].children.push(at);
    }
}
