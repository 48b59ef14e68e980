//! File-sets: `fileset_index`, the DICOMDIR of a folder of instances made by
//! `dicomfast-media` (headers read on threads, the GIL released).

use crate::errors;
use dicomfast_media::facts::FileError;
use dicomfast_media::{Front, Key, Kind, Naming, Problem, Tables};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

type RecordKeys = HashMap<String, Vec<(u32, String, String)>>;
/// `dicomfast.media`'s tables: RECORD_KEYS, RECORD_TYPE_OF_CLASS, ROOT_TYPES, and
/// IDENTIFIER of the levels PATIENT, STUDY, SERIES.
type PyTables = (
    RecordKeys,
    HashMap<String, String>,
    Vec<String>,
    [(String, u32); 3],
);

fn tables((keys, type_of_class, root_types, levels): PyTables) -> Tables {
    Tables {
        keys: keys
            .into_iter()
            .map(|(t, ks)| {
                let ks = ks
                    .into_iter()
                    .map(|(tag, keyword, kind)| Key {
                        tag,
                        keyword,
                        kind: Kind::of(&kind),
                    })
                    .collect();
                (t, ks)
            })
            .collect(),
        type_of_class,
        root_types: root_types.into_iter().collect(),
        levels,
    }
}

/// `OSError(errno, strerror, path)`, as Python's own calls raise it (the subclass
/// chosen by errno: FileNotFoundError...).
fn os_error(py: Python<'_>, e: std::io::Error, path: &Path) -> PyErr {
    let Some(code) = e.raw_os_error() else {
        return e.into();
    };
    let made = || -> PyResult<PyErr> {
        let text = py.import("os")?.getattr("strerror")?.call1((code,))?;
        let exc =
            py.import("builtins")?
                .getattr("OSError")?
                .call1((code, text, path.as_os_str()))?;
        Ok(PyErr::from_value(exc))
    };
    made().unwrap_or_else(|e| e)
}

fn problem(py: Python<'_>, p: Problem, path: &Path) -> PyErr {
    let dicom =
        |message: String, tag: Option<u32>| errors::make(py, "DicomError", message, None, tag);
    match p {
        Problem::Read(FileError::Io(e)) => os_error(py, e, path),
        Problem::Read(FileError::Parse(e)) => errors::parse_error(py, &e),
        Problem::Read(FileError::NotAFile) => dicom("not a regular file".into(), None),
        Problem::NotComposite => dicom(
            "not a composite instance: no SOP Class / SOP Instance UID".into(),
            None,
        ),
        Problem::Duplicate(uid) => dicom(
            format!("SOP Instance {uid} is already in the file-set"),
            None,
        ),
        Problem::RootType(t) => dicom(
            format!("{t} records (outside the patient hierarchy) are not supported yet"),
            None,
        ),
        Problem::NoName(folder) => dicom(
            format!(
                "no free name left in {}",
                if folder.is_empty() {
                    "the root folder".to_string()
                } else {
                    folder.join("/")
                }
            ),
            None,
        ),
        Problem::Write(at, e) => os_error(py, e, &at),
        Problem::Missing { record_type, key } => dicom(
            format!(
                "{} is needed for the {record_type} record (PS3.3 F.5) but missing or empty",
                key.keyword
            ),
            Some(key.tag),
        ),
    }
}

/// What the DICOMDIR says of itself: File-set UID, File-set ID, Implementation
/// Class UID and Version Name.
type PyFront = (String, String, String, String);

fn front((fileset_uid, fileset_id, class_uid, version): PyFront) -> Front {
    Front {
        fileset_uid,
        fileset_id,
        descriptor: None,
        implementation_class_uid: class_uid,
        implementation_version_name: version,
    }
}

type Indexed<'py> = (
    Bound<'py, PyBytes>,
    Vec<OsString>,
    Vec<(Vec<String>, Option<Py<PyAny>>)>,
);

/// The DICOMDIR of the instances under `root`, each under its path as File ID:
/// `(bytes, files indexed, problems)`, a problem being `(File ID, exception)`, the
/// exception None for a path that is not a valid File ID. The bytes are empty when
/// there is a problem. `tables`: see [`PyTables`].
#[pyfunction]
pub fn fileset_index<'py>(
    py: Python<'py>,
    root: PathBuf,
    tables: PyTables,
    front: PyFront,
    threads: usize,
) -> PyResult<Indexed<'py>> {
    let tables = self::tables(tables);
    let front = self::front(front);
    let done = py.detach(|| dicomfast_media::index(&root, &tables, &front, threads));
    let problems = done
        .problems
        .into_iter()
        .map(|(id, p)| {
            let path = id.iter().fold(root.clone(), |p, c| p.join(c));
            let error = p.map(|p| problem(py, p, &path).into_value(py).into_any());
            (id, error)
        })
        .collect();
    let files = as_str(done.files);
    Ok((PyBytes::new(py, &done.dicomdir), files, problems))
}

type Created<'py> = (
    Bound<'py, PyBytes>,
    Vec<OsString>,
    Option<(usize, Py<PyAny>)>,
);

/// A new file-set in the empty folder `out` of the instances `sources` (copied under
/// File IDs named with `naming`: the prefixes of folders and files by record type):
/// `(DICOMDIR bytes, files written, None)`, or `(b"", [], (position of the source
/// that could not be taken, exception))` with nothing left written.
#[pyfunction]
pub fn fileset_create<'py>(
    py: Python<'py>,
    sources: Vec<PathBuf>,
    out: PathBuf,
    tables: PyTables,
    naming: (HashMap<String, String>, HashMap<String, String>),
    front: PyFront,
    threads: usize,
) -> PyResult<Created<'py>> {
    let tables = self::tables(tables);
    let front = self::front(front);
    let naming = Naming {
        dir_prefix: naming.0,
        file_prefix: naming.1,
    };
    let done =
        py.detach(|| dicomfast_media::create(&sources, &out, &tables, &naming, &front, threads));
    let problem = done.problem.map(|(k, p)| {
        let error = problem(py, p, &sources[k]);
        (k, error.into_value(py).into_any())
    });
    let files = as_str(done.files);
    Ok((PyBytes::new(py, &done.dicomdir), files, problem))
}

/// The files `dicomfast media create PATH...` takes from `paths` (files as given,
/// folders walked as `os.walk` sorted walks them, DICOMDIRs and dot files left out).
#[pyfunction]
pub fn fileset_sources(py: Python<'_>, paths: Vec<PathBuf>) -> Vec<OsString> {
    as_str(py.detach(|| dicomfast_media::walk::sources(&paths)))
}

/// Paths for Python as `str`, not `pathlib.Path` (whose import alone costs a short
/// command ~6 ms).
fn as_str(paths: Vec<PathBuf>) -> Vec<OsString> {
    paths.into_iter().map(PathBuf::into_os_string).collect()
}
