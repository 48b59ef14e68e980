//! `DeidPass`: the de-identification pass of `dicomfast-deid` for `dicomfast.deid`.
//! Python compiles the profile (from the generated PS3.15 table), the key and the
//! engine's dummy values, text VRs and coded attributes into one `DeidPass` per run; `run` then turns a parsed file into the chunks of its
//! de-identified output.

use crate::raw::RawFile;
use dicomfast_core::dictionary;
use dicomfast_core::syntax::Encoding;
use dicomfast_core::vr::Vr;
use dicomfast_deid::{self as deid, Action, KeyedHash, Part, Patient, Profile, Source, Value};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PySlice, PyString, PyTuple};
use pyo3::IntoPyObjectExt;
use std::collections::HashMap;

fn action(letter: &str) -> PyResult<Action> {
    Action::from_letter(letter)
        .ok_or_else(|| PyValueError::new_err(format!("unknown action {letter:?}")))
}

/// The compiled profile, key and file meta identity of one run.
#[pyclass(frozen, module = "dicomfast._core")]
pub struct DeidPass {
    profile: Profile,
}

#[pymethods]
impl DeidPass {
    #[new]
    #[allow(clippy::too_many_arguments)]
    fn new(
        actions: HashMap<u32, String>,
        masked: Vec<(u32, u32, String)>,
        private: &str,
        overlay: &str,
        key: &[u8],
        method_codes: Vec<(String, String, String)>,
        temporal_state: String,
        implementation: (String, String),
        dummies: HashMap<String, Vec<u8>>,
        text_vrs: Vec<String>,
        code_tags: Vec<u32>,
        min_scrub: usize,
    ) -> PyResult<DeidPass> {
        let as_vr = |s: &str| -> PyResult<Vr> {
            s.as_bytes()
                .try_into()
                .map_err(|_| PyValueError::new_err(format!("bad VR {s:?}")))
        };
        let dummies = dummies
            .into_iter()
            .map(|(vr, v)| Ok((as_vr(&vr)?, v)))
            .collect::<PyResult<_>>()?;
        let text_vrs = text_vrs.iter().map(|v| as_vr(v)).collect::<PyResult<_>>()?;
        let actions = actions
            .into_iter()
            .map(|(t, a)| Ok((t, action(&a)?)))
            .collect::<PyResult<_>>()?;
        let masked = masked
            .into_iter()
            .map(|(m, v, a)| Ok((m, v, action(&a)?)))
            .collect::<PyResult<_>>()?;
        Ok(DeidPass {
            profile: Profile {
                actions,
                masked,
                private: action(private)?,
                overlay: action(overlay)?,
                keyed: KeyedHash::new(key),
                registry: dictionary::UIDS.iter().map(|u| u.uid).collect(),
                method_codes,
                temporal_state,
                implementation,
                dummies,
                text_vrs,
                code_tags: code_tags.into_iter().collect(),
                min_scrub,
            },
        })
    }

    /// The keyed replacement of `uid` (registry and empty UIDs kept).
    fn map_uid(&self, uid: &str) -> String {
        self.profile.map_uid(uid)
    }

    /// The de-identified file of `raw` written in `transfer_syntax` (whose encoding
    /// `explicit_vr`/`big_endian` must be the source's): `(chunks, study, series,
    /// sop_instance)`, the chunks bytes or read-only views of the source, the UIDs None
    /// when absent.  A `str` instead: why the pass cannot do this data set.
    #[allow(clippy::too_many_arguments)]
    fn run<'py>(
        &self,
        raw: &Bound<'py, RawFile>,
        transfer_syntax: &str,
        explicit_vr: bool,
        big_endian: bool,
        patient_id: String,
        patient_name: String,
        offset_days: i64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = raw.py();
        let (buf, index, meta_nodes, encoding, has_preamble, deflated) = raw.get().parsed();
        let src = Source {
            buf,
            index,
            meta_nodes,
            encoding,
            has_preamble,
            deflated,
            transfer_syntax,
            output_encoding: Encoding {
                explicit_vr,
                big_endian,
            },
        };
        let patient = Patient {
            new_id: patient_id,
            new_name: patient_name,
            offset_days,
        };
        let out = match py.detach(|| deid::deidentify(&self.profile, &src, &patient)) {
            Ok(out) => out,
            Err(why) => return Ok(PyString::new(py, &why.0).into_any()),
        };
        let chunks = PyList::empty(py);
        let mut view: Option<Bound<'py, PyAny>> = None;
        for part in out.parts {
            match part {
                Part::Bytes(b) => chunks.append(PyBytes::new(py, &b))?,
                Part::Source(r) => {
                    if view.is_none() {
                        let source = raw.getattr("source")?;
                        let builtins = py.import("builtins")?;
                        let v = builtins.getattr("memoryview")?.call1((source,))?;
                        view = Some(v.call_method1("cast", ("B",))?);
                    }
                    let v = view.as_ref().expect("made above");
                    let slice = PySlice::new(py, r.start as isize, r.end as isize, 1);
                    chunks.append(v.get_item(slice)?)?;
                }
            }
        }
        let text = |v: Value| match v {
            Value::Absent => Ok(py.None().into_bound(py)),
            Value::Text(s) => s.into_bound_py_any(py),
        };
        let items = [
            chunks.into_any(),
            text(out.study_uid)?,
            text(out.series_uid)?,
            text(out.sop_instance_uid)?,
        ];
        Ok(PyTuple::new(py, items)?.into_any())
    }
}
