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
pub mod threads;
pub mod tree;
pub mod walk;

pub use dicomdir::Front;
pub use facts::{Facts, FileError};
pub use tables::{Key, Kind, Tables};
pub use tree::{build, Naming, Problem, Tree};

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

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
    let facts = facts::read_all(&paths, tables, threads, None);
    let files = ids
        .iter()
        .cloned()
        .zip(facts)
        .map(|(id, f)| (Some(id), f.map(|(f, _)| f)))
        .collect();
    let (tree, _, failed) = tree::build(files, tables, &Naming::default());
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

/// What [`create`] made.
#[derive(Debug)]
pub struct Created {
    /// The DICOMDIR's bytes, for the caller to write (when there was no problem).
    pub dicomdir: Vec<u8>,
    /// The files written into the file-set, in order.
    pub files: Vec<PathBuf>,
    /// The first source that could not be taken (its position) and why; nothing is
    /// left written then.
    pub problem: Option<(usize, Problem)>,
}

/// At most this many bytes of small sources are kept in memory between reading their
/// headers and writing them into the file-set; the others are read again.
const KEEP_BYTES: u64 = 1 << 28;

/// A new file-set in the empty folder `out` (which exists) of the instances `sources`,
/// in order, each copied under a File ID made by `naming` (its folders PATIENT /
/// STUDY / SERIES, then the file); headers read and files written on `threads`
/// threads. What `FileSet.add` of each, then `write(out)`, makes.
pub fn create(
    sources: &[PathBuf],
    out: &Path,
    tables: &Tables,
    naming: &Naming,
    front: &Front,
    threads: usize,
) -> Created {
    let failed = |k, p| Created {
        dicomdir: Vec::new(),
        files: Vec::new(),
        problem: Some((k, p)),
    };
    let budget = AtomicU64::new(KEEP_BYTES);
    let mut kept = Vec::with_capacity(sources.len());
    let mut files = Vec::with_capacity(sources.len());
    for f in facts::read_all(sources, tables, threads, Some(&budget)) {
        match f {
            Ok((f, bytes)) => {
                kept.push(bytes);
                files.push((None, Ok(f)));
            }
            Err(e) => {
                kept.push(None);
                files.push((None, Err(e)));
            }
        }
    }
    let (tree, ids, problems) = tree::build(files, tables, naming);
    if let Some(first) = problems.into_iter().next() {
        return failed(first.0, first.1);
    }
    // Folders first (a record's parent comes before it), then the files on threads.
    let mut made: Vec<PathBuf> = Vec::new();
    for r in tree.records.iter().filter(|r| !r.folder.is_empty()) {
        let dir = r.folder.iter().fold(out.to_path_buf(), |p, c| p.join(c));
        if let Err(e) = std::fs::create_dir(&dir) {
            undo(&[], &made);
            return failed(0, Problem::Write(dir, e));
        }
        made.push(dir);
    }
    let jobs: Vec<(usize, PathBuf)> = ids
        .iter()
        .enumerate()
        .map(|(k, id)| {
            let id = id.as_ref().expect("every source taken");
            (k, id.iter().fold(out.to_path_buf(), |p, c| p.join(c)))
        })
        .collect();
    let written = threads::map_in_order(&jobs, threads, |(k, dest), _: &mut ()| {
        place(&sources[*k], kept[*k].as_deref(), dest)
    });
    let dests: Vec<PathBuf> = jobs.into_iter().map(|(_, d)| d).collect();
    if let Some(k) = written.iter().position(Result::is_err) {
        let done: Vec<PathBuf> = dests
            .iter()
            .zip(&written)
            .filter(|(_, w)| w.is_ok())
            .map(|(d, _)| d.clone())
            .collect();
        undo(&done, &made);
        let e = written.into_iter().nth(k).expect("found").unwrap_err();
        return failed(k, Problem::Write(dests[k].clone(), e));
    }
    Created {
        dicomdir: dicomdir::encode(&tree, front),
        files: dests,
        problem: None,
    }
}

/// Write `bytes` (else a copy of `src`) to the new file `dest`, never over a file.
fn place(src: &Path, bytes: Option<&[u8]>, dest: &Path) -> std::io::Result<()> {
    let mut out = File::create_new(dest)?;
    let done = match bytes {
        Some(b) => out.write_all(b),
        None => File::open(src).and_then(|mut f| std::io::copy(&mut f, &mut out).map(|_| ())),
    };
    if done.is_err() {
        drop(out);
        let _ = std::fs::remove_file(dest);
    }
    done
}

/// Take out what a failed [`create`] wrote: its files, then its folders, deepest first.
fn undo(files: &[PathBuf], folders: &[PathBuf]) {
    for f in files {
        let _ = std::fs::remove_file(f);
    }
    for d in folders.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
}

#[cfg(test)]
mod tests;
