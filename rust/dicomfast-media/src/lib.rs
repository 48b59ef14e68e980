//! dicomfast-media: the DICOMDIR of a folder of instances (PS3.10 §8, PS3.3 Annex F),
//! made in one call: the files found ([`walk`]), their headers read on every core and
//! their record keys taken from the element index ([`facts`]), the patient / study /
//! series / instance tree ([`tree`]) and its bytes with their offsets ([`dicomdir`]).
//!
//! The rules (record type per SOP class, keys per record type) are data the caller
//! gives ([`tables::Tables`]): Python's generated `media/_tables.py`, so both sides
//! read one table. Python's `FileSet` makes the same bytes from the same files (a
//! test compares them).

pub mod dicomdir;
pub mod facts;
pub mod tables;
pub mod tree;
pub mod walk;

pub use dicomdir::Front;
pub use facts::{Facts, FileError};
pub use tables::{Key, Kind, Tables};
pub use tree::{build, Problem, Tree};

use std::path::{Path, PathBuf};

/// What [`index`] made of a folder.
#[derive(Debug)]
pub struct Indexed {
    /// The DICOMDIR's bytes (when there was no problem).
    pub dicomdir: Vec<u8>,
    /// The files indexed, in order.
    pub files: Vec<PathBuf>,
    /// Each file that could not be indexed (its File ID as found) and why; invalid
    /// File IDs first, then the others in order.
    pub problems: Vec<(walk::FileId, Option<Problem>)>,
}

/// The DICOMDIR of the instances already under `root`, each under its path as File
/// ID (what DCMTK's `dcmmkdir` does); headers read on `threads` threads. A problem
/// `None` is a path that is not a valid File ID.
pub fn index(root: &Path, tables: &Tables, front: &Front, threads: usize) -> Indexed {
    let skip = front.descriptor.as_ref().map(|(id, _)| id.as_slice());
    let found = walk::files(root, skip);
    let (good, bad): (Vec<_>, Vec<_>) = found.into_iter().partition(|(_, id)| walk::is_valid(id));
    let mut problems: Vec<(walk::FileId, Option<Problem>)> =
        bad.into_iter().map(|(_, id)| (id, None)).collect();
    let (paths, ids): (Vec<PathBuf>, Vec<walk::FileId>) = good.into_iter().unzip();
    let facts = facts::read_all(&paths, tables, threads);
    let (tree, failed) = tree::build(ids.iter().cloned().zip(facts).collect(), tables);
    for (k, p) in failed {
        problems.push((ids[k].clone(), Some(p)));
    }
    let dicomdir = if problems.is_empty() {
        dicomdir::encode(&tree, front)
    } else {
        Vec::new()
    };
    Indexed {
        dicomdir,
        files: paths,
        problems,
    }
}

#[cfg(test)]
mod tests;
