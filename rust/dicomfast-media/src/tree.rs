//! The records of a file-set made from the facts of its instances: one PATIENT per
//! Patient ID, one STUDY per Study Instance UID under it, one SERIES per Series
//! Instance UID under that, and the instance's own record (PS3.3 F.4), in the order
//! the instances come.

use crate::facts::{Facts, FileError, Missing};
use crate::tables::Tables;
use crate::walk::FileId;
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
    /// No name of the form PREFIX000000 is left in this folder.
    NoName(Vec<String>),
    /// Its file (or a folder for it) could not be written into the file-set there.
    Write(std::path::PathBuf, std::io::Error),
}

/// One directory record: its elements after the three offsets, its lower level, and
/// (for a PATIENT, STUDY or SERIES record made with generated File IDs) its folder.
#[derive(Debug, Default, Clone)]
pub struct Record {
    pub elements: Vec<u8>,
    pub children: Vec<usize>,
    pub folder: Vec<String>,
}

#[derive(Debug, Default, Clone)]
pub struct Tree {
    pub records: Vec<Record>,
    pub roots: Vec<usize>,
}

/// How generated File IDs are named (PS3.11 general purpose profiles: no
/// information from the instance): a prefix per record type and a counter per folder.
#[derive(Debug, Clone, Default)]
pub struct Naming {
    /// PATIENT, STUDY, SERIES -> the prefix of their folders ("DR" if not listed).
    pub dir_prefix: HashMap<String, String>,
    /// Instance record type -> the prefix of its files ("OB" if not listed).
    pub file_prefix: HashMap<String, String>,
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
        ..Default::default()
    }
}

/// An instance to take: its File ID (None: one to make) and its facts.
pub type Source = (Option<FileId>, Result<Facts, FileError>);
/// The tree, the File ID of each instance taken (by position), and the problem of
/// each one that was not.
pub type Built = (Tree, Vec<Option<FileId>>, Vec<(usize, Problem)>);

/// The tree of the instances `files` taken in order, each under its File ID, or under
/// one made by `naming` (None), and the problem of each instance that could not be
/// taken (with its position). The File ID of each instance taken, by position.
pub fn build(files: Vec<Source>, tables: &Tables, naming: &Naming) -> Built {
    let mut b = Builder {
        tables,
        naming,
        tree: Tree::default(),
        child: HashMap::new(),
        counters: HashMap::new(),
    };
    let mut problems = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut placed = Vec::with_capacity(files.len());
    for (k, (file_id, facts)) in files.into_iter().enumerate() {
        let taken = facts.map_err(Problem::Read).and_then(|f| {
            let (Some(class), Some(uid)) = (&f.sop_class, &f.sop_uid) else {
                return Err(Problem::NotComposite);
            };
            if seen.contains(uid) {
                return Err(Problem::Duplicate(uid.clone()));
            }
            if tables.root_types.contains(&f.record_type) {
                return Err(Problem::RootType(f.record_type.clone()));
            }
            let id = b.take(&f, class, uid, file_id)?;
            seen.insert(uid.clone());
            Ok(id)
        });
        match taken {
            Ok(id) => placed.push(Some(id)),
            Err(p) => {
                placed.push(None);
                problems.push((k, p));
            }
        }
    }
    (b.tree, placed, problems)
}

/// Above the root, and below a record made for the instance being taken.
const ROOT: usize = usize::MAX;

struct Builder<'a> {
    tables: &'a Tables,
    naming: &'a Naming,
    tree: Tree,
    /// (parent record or ROOT, level, identifier) -> record
    child: HashMap<(usize, usize, Option<Vec<u8>>), usize>,
    /// (folder's record or ROOT, prefix) -> the number of the next name
    counters: HashMap<(usize, String), u64>,
}

impl Builder<'_> {
    /// Add one instance: every record it needs is made before any is attached, so a
    /// missing key leaves the tree as it was. Its File ID.
    fn take(
        &mut self,
        f: &Facts,
        class: &str,
        uid: &str,
        file_id: Option<Vec<String>>,
    ) -> Result<Vec<String>, Problem> {
        let missing = |record_type: &str, key: &Missing| Problem::Missing {
            record_type: record_type.to_string(),
            key: key.clone(),
        };
        // The existing records of the path down (`above`, the deepest), then the new
        // ones below it with their keys.
        let mut above = ROOT;
        let mut new: Vec<(usize, Record)> = Vec::new();
        for (level, (name, _)) in self.tables.levels.iter().enumerate() {
            if new.is_empty() {
                if let Some(&at) = self.child.get(&(above, level, f.ident[level].clone())) {
                    above = at;
                    continue;
                }
            }
            let keys = f.keys[level].as_ref().map_err(|m| missing(name, m))?;
            new.push((level, level_record(name, keys)));
        }
        let keys = f.keys[3].as_ref().map_err(|m| missing(&f.record_type, m))?;
        // The one name that can run out is the first, in an existing folder.
        let prefix = |table: &HashMap<String, String>, t: &str, or: &str| {
            table.get(t).cloned().unwrap_or_else(|| or.to_string())
        };
        let file_prefix = prefix(&self.naming.file_prefix, &f.record_type, "OB");
        if file_id.is_none() {
            let first = match new.first() {
                Some((level, _)) => {
                    prefix(&self.naming.dir_prefix, &self.tables.levels[*level].0, "DR")
                }
                None => file_prefix.clone(),
            };
            if self.peek(above, &first).is_none() {
                return Err(Problem::NoName(self.folder(above)));
            }
        }
        for (level, mut record) in new {
            if file_id.is_none() {
                let p = prefix(&self.naming.dir_prefix, &self.tables.levels[level].0, "DR");
                let name = self.name(above, &p).expect("checked");
                record.folder = self.folder(above);
                record.folder.push(name);
            }
            let at = self.tree.records.len();
            self.tree.records.push(record);
            self.attach(above, at);
            self.child
                .insert((above, level, f.ident[level].clone()), at);
            above = at;
        }
        let file_id = match file_id {
            Some(id) => id,
            None => {
                let mut id = self.folder(above);
                id.push(self.name(above, &file_prefix).expect("checked"));
                id
            }
        };
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
        let at = self.tree.records.len();
        self.tree.records.push(Record {
            elements,
            ..Default::default()
        });
        self.attach(above, at);
        Ok(file_id)
    }

    fn folder(&self, record: usize) -> Vec<String> {
        if record == ROOT {
            Vec::new()
        } else {
            self.tree.records[record].folder.clone()
        }
    }

    /// The next name `prefix` + a number of 8 characters in all, in the folder of
    /// `record` (None when none is left).
    fn peek(&self, record: usize, prefix: &str) -> Option<String> {
        let width = 8usize.checked_sub(prefix.len()).filter(|w| *w > 0)?;
        let n = self
            .counters
            .get(&(record, prefix.to_string()))
            .copied()
            .unwrap_or(0);
        (n < 10u64.pow(width as u32)).then(|| format!("{prefix}{n:0width$}"))
    }

    fn name(&mut self, record: usize, prefix: &str) -> Option<String> {
        let name = self.peek(record, prefix)?;
        *self
            .counters
            .entry((record, prefix.to_string()))
            .or_insert(0) += 1;
        Some(name)
    }

    fn attach(&mut self, parent: usize, at: usize) {
        if parent == ROOT {
            self.tree.roots.push(at);
        } else {
            self.tree.records[parent].children.push(at);
        }
    }
}
