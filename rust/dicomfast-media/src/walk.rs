//! The files under a folder with their File IDs (PS3.10 §8.2: up to 8 components of
//! 1-8 characters A-Z, 0-9 and `_`), in the order `os.walk` gives them sorted: a
//! folder's files by name, then its folders by name. Symbolic links to folders are
//! not followed.

use std::path::{Path, PathBuf};

/// A File ID as found: the components of the path below the root.
pub type FileId = Vec<String>;

pub fn is_valid(file_id: &[String]) -> bool {
    (1..=8).contains(&file_id.len())
        && file_id.iter().all(|c| {
            (1..=8).contains(&c.len())
                && c.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        })
}

/// Every file under `root` but a DICOMDIR at its top (any case) and `skip`.
pub fn files(root: &Path, skip: Option<&[String]>) -> Vec<(PathBuf, FileId)> {
    let mut out = Vec::new();
    visit(root, &mut Vec::new(), &mut out, &|_| true);
    out.retain(|(_, id)| {
        !id[0].eq_ignore_ascii_case("DICOMDIR") && skip.is_none_or(|s| s != id.as_slice())
    });
    out
}

/// The files `dicomfast media create PATH...` takes, in order: a path that is not a
/// folder as it is; of a folder, its files in the order above, but those named
/// DICOMDIR (any case) and those whose name starts with a dot.
pub fn sources(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            let take = |name: &std::ffi::OsStr| {
                let b = name.as_encoded_bytes();
                !b.starts_with(b".") && !b.eq_ignore_ascii_case(b"DICOMDIR")
            };
            visit(p, &mut Vec::new(), &mut found, &take);
            out.extend(found.into_iter().map(|(path, _)| path));
        } else {
            out.push(p.clone());
        }
    }
    out
}

fn visit(
    folder: &Path,
    id: &mut Vec<String>,
    out: &mut Vec<(PathBuf, FileId)>,
    take: &dyn Fn(&std::ffi::OsStr) -> bool,
) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return; // as os.walk: a folder that cannot be listed is passed over
    };
    let mut names: Vec<(std::ffi::OsString, bool)> = Vec::new();
    for e in entries.flatten() {
        let Ok(kind) = e.file_type() else { continue };
        let is_dir = if kind.is_symlink() {
            match std::fs::metadata(e.path()) {
                Ok(m) if m.is_dir() => continue, // a link to a folder: not followed
                _ => false,
            }
        } else {
            kind.is_dir()
        };
        names.push((e.file_name(), is_dir));
    }
    names.sort_by(|a, b| a.0.as_encoded_bytes().cmp(b.0.as_encoded_bytes()));
    for (name, _) in names.iter().filter(|(n, d)| !d && take(n)) {
        let mut fid = id.clone();
        fid.push(name.to_string_lossy().into_owned());
        out.push((folder.join(name), fid));
    }
    for (name, _) in names.iter().filter(|(_, d)| *d) {
        id.push(name.to_string_lossy().into_owned());
        visit(&folder.join(name), id, out, take);
        id.pop();
    }
}
