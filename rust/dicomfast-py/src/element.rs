//! `DataElement`: tag, VR and value. A Rust class so that the core can build
//! a whole data set's elements in one call; the pieces that need Python
//! (encoding a changed value, comparing arrays, printing) call back into
//! `dicomfast.element`.

use crate::raw::RawFile;
use dicomfast_core::vr::{self, Vr};
use dicomfast_core::{dictionary, tag};
use pyo3::basic::CompareOp;
use pyo3::ffi;
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyModule, PyString};
use pyo3::PyTraverseError;

/// One data element. `value` is typed by VR: `str` (or `list[str]`) for
/// text, `int`/`float` (or lists) for numbers, numpy arrays for OB/OW/OF/OD/
/// OL/OV, `bytes` for UN, a list of `Dataset` for SQ.
///
/// Takes part in Python's cycle collection (`__traverse__`, `__clear__`): a
/// sequence's items refer to their parent data set, whose table holds this
/// element, so a data set whose sequences were reached is a cycle through it.
#[pyclass(module = "dicomfast", name = "DataElement", weakref)]
pub struct DataElement {
    pub tag: u32,
    /// A `str` (shared between elements of the same VR: see [`vr_string`]).
    pub vr: Py<PyString>,
    /// What `vr` says to the element itself (kept with it).
    pub kind: VrKind,
    /// None only once the cycle collector has cleared the element.
    pub value: Option<Py<PyAny>>,
    /// Index of the unmodified element in the parsed file, else -1.
    #[pyo3(get)]
    pub _node: i64,
    #[pyo3(get)]
    pub _length: Option<u32>,
    /// The RawFile `_node` points into.
    #[pyo3(get)]
    pub _src: Option<Py<PyAny>>,
}

/// `dicomfast.element`, imported once.
static HELPERS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn helper<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    HELPERS
        .get_or_try_init(py, || {
            PyResult::Ok(py.import("dicomfast.element")?.unbind())
        })?
        .bind(py)
        .getattr(name)
}

/// `(dicomfast.valuerep.PersonName, dicomfast.uid.UID)`: what a PN and a UI `str` become.
static STR_CLASSES: PyOnceLock<(Py<PyAny>, Py<PyAny>)> = PyOnceLock::new();

fn str_classes(py: Python<'_>) -> PyResult<&(Py<PyAny>, Py<PyAny>)> {
    STR_CLASSES.get_or_try_init(py, || {
        let pn = py.import("dicomfast.valuerep")?.getattr("PersonName")?;
        let uid = py.import("dicomfast.uid")?.getattr("UID")?;
        PyResult::Ok((pn.unbind(), uid.unbind()))
    })
}

/// One `str` per VR of PS3.5, made once, at `(first letter) * 26 + second letter`:
/// elements share it instead of each holding (and each `.VR` making) its own.
static VR_STRINGS: PyOnceLock<Vec<Option<Py<PyString>>>> = PyOnceLock::new();

fn vr_slot(vr: Vr) -> Option<usize> {
    let (a, b) = (vr[0].wrapping_sub(b'A'), vr[1].wrapping_sub(b'A'));
    (a < 26 && b < 26).then_some(a as usize * 26 + b as usize)
}

/// The VR as a Python `str` (the shared one for the VRs of PS3.5).
pub fn vr_string<'py>(py: Python<'py>, vr: Vr) -> Bound<'py, PyString> {
    let all = VR_STRINGS.get_or_init(py, || {
        let mut all: Vec<Option<Py<PyString>>> = (0..26 * 26).map(|_| None).collect();
        for v in vr::ALL {
            let k = vr_slot(v).expect("VRs are two capitals");
            all[k] = Some(PyString::intern(py, vr::as_str(&v)).unbind());
        }
        all
    });
    match vr_slot(vr).and_then(|k| all[k].as_ref()) {
        Some(s) => s.bind(py).clone(),
        None => PyString::new(py, vr::as_str(&vr)),
    }
}

/// What an element's VR means to the element itself: a sequence (walked into), or
/// text whose `str`s a class of its own wraps when read (PN, UI).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum VrKind {
    Sequence,
    PersonName,
    Uid,
    Other,
}

impl VrKind {
    pub fn of(vr: &[u8]) -> Self {
        match vr {
            b"SQ" => VrKind::Sequence,
            b"PN" => VrKind::PersonName,
            b"UI" => VrKind::Uid,
            _ => VrKind::Other,
        }
    }
}

/// A VR given from Python, as [`vr_string`] keeps it.
fn vr_from_str<'py>(py: Python<'py>, s: &str) -> Bound<'py, PyString> {
    match <[u8; 2]>::try_from(s.as_bytes()) {
        Ok(v) if vr::is_known(v) => vr_string(py, v),
        _ => PyString::new(py, s),
    }
}

/// Whether `obj`'s type takes part in cycle collection.
fn is_gc(obj: &Bound<'_, PyAny>) -> bool {
    // SAFETY: `obj` is a live object; its type too.
    unsafe { ffi::PyType_IS_GC(ffi::Py_TYPE(obj.as_ptr())) != 0 }
}

impl DataElement {
    /// An element can be part of a reference cycle only through a value (or source)
    /// of a type that can: one whose value is a `str`, a number, `bytes` or an array is
    /// left out of cycle collection (as CPython leaves out dicts and tuples of such),
    /// so that the collector neither walks the elements of every data set read nor
    /// has to free them. A `RawFile` source counts as none (it refers to its buffer
    /// only). Called whenever the value changes.
    pub fn update_tracking(slf: &Bound<'_, Self>) {
        let py = slf.py();
        let needed = {
            let e = slf.borrow();
            e.value.as_ref().is_some_and(|v| is_gc(v.bind(py)))
                || e._src.as_ref().is_some_and(|s| {
                    let s = s.bind(py);
                    is_gc(s) && !s.is_instance_of::<RawFile>()
                })
        };
        Self::set_tracked(slf, needed);
    }

    /// [`update_tracking`](Self::update_tracking) for a new element of a `RawFile`,
    /// whose value is `value`.
    pub fn track_for(slf: &Bound<'_, Self>, value: &Bound<'_, PyAny>) {
        if !is_gc(value) {
            // SAFETY: a new object of a GC type, tracked by its allocation.
            unsafe { ffi::PyObject_GC_UnTrack(slf.as_ptr().cast()) };
        }
    }

    fn set_tracked(slf: &Bound<'_, Self>, needed: bool) {
        let p = slf.as_ptr();
        // SAFETY: `p` is a live object of a GC type (pyo3 gives DataElement one, as it
        // has __traverse__); tracking is changed only when it is not already so.
        unsafe {
            let tracked = ffi::PyObject_GC_IsTracked(p) != 0;
            if needed && !tracked {
                ffi::PyObject_GC_Track(p.cast());
            } else if !needed && tracked {
                ffi::PyObject_GC_UnTrack(p.cast());
            }
        }
    }
}

#[pymethods]
impl DataElement {
    #[new]
    #[pyo3(signature = (tag, VR, value, *, _node=-1, _length=None, _src=None))]
    #[allow(non_snake_case)]
    fn new(
        py: Python<'_>,
        tag: u32,
        VR: &str,
        value: Py<PyAny>,
        _node: i64,
        _length: Option<u32>,
        _src: Option<Py<PyAny>>,
    ) -> Self {
        DataElement {
            tag,
            vr: vr_from_str(py, VR).unbind(),
            kind: VrKind::of(VR.as_bytes()),
            value: Some(value),
            _node,
            _length,
            _src,
        }
    }

    /// The tag as a `dicomfast.tag.BaseTag` (an `int` with `.group`, `.element`, ...).
    #[getter]
    fn tag(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(helper(py, "BaseTag")?.call1((self.tag,))?.unbind())
    }

    #[setter]
    fn set_tag(&mut self, tag: u32) {
        self.tag = tag;
    }

    /// A PN value is given as a `PersonName` and a UI value as a `UID` (both `str`
    /// subclasses), converted the first time it is read; the element stays unmodified
    /// (its bytes are still written as read).
    #[getter]
    fn value(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let (v, convert) = {
            let e = slf.borrow();
            let Some(v) = &e.value else {
                return Ok(py.None());
            };
            let convert = match e.kind {
                VrKind::PersonName => "_person_name",
                VrKind::Uid => "_uid",
                _ => "",
            };
            (v.clone_ref(py), convert)
        };
        if !convert.is_empty() {
            let b = v.bind(py);
            let nv = if b.is_exact_instance_of::<PyString>() {
                // What the helper does with a str, without calling it.
                let (person_name, uid) = str_classes(py)?;
                let cls = if convert == "_uid" { uid } else { person_name };
                cls.bind(py).call1((b,))?.unbind()
            } else if b.is_exact_instance_of::<PyList>() {
                helper(py, convert)?.call1((b,))?.unbind()
            } else {
                return Ok(v);
            };
            slf.borrow_mut().value = Some(nv.clone_ref(py));
            Self::update_tracking(slf);
            return Ok(nv);
        }
        Ok(v)
    }

    /// Value Multiplicity, as pydicom counts it.
    #[getter(VM)]
    fn vm(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        Ok(helper(slf.py(), "_vm")?.call1((slf,))?.unbind())
    }

    /// Setting the value makes the element "modified": it is encoded anew on writing.
    #[setter]
    fn set_value(slf: &Bound<'_, Self>, value: Py<PyAny>) {
        {
            let mut e = slf.borrow_mut();
            e.value = Some(value);
            e._node = -1;
            e._length = None;
        }
        Self::update_tracking(slf);
    }

    #[getter(VR)]
    fn get_vr(&self, py: Python<'_>) -> Py<PyString> {
        self.vr.clone_ref(py)
    }

    #[setter(VR)]
    fn set_vr(&mut self, py: Python<'_>, vr: &str) {
        self.vr = vr_from_str(py, vr).unbind();
        self.kind = VrKind::of(vr.as_bytes());
    }

    #[getter]
    fn vr(&self, py: Python<'_>) -> Py<PyString> {
        self.vr.clone_ref(py)
    }

    #[getter]
    fn keyword(&self) -> &'static str {
        if tag::is_private(self.tag) {
            return "";
        }
        dictionary::lookup(self.tag)
            .map(|e| e.keyword)
            .unwrap_or("")
    }

    #[getter]
    fn name(&self) -> &'static str {
        if tag::is_private_creator(self.tag) {
            return "Private Creator";
        }
        if tag::is_private(self.tag) {
            return "Private tag data";
        }
        dictionary::lookup(self.tag)
            .map(|e| e.name)
            .unwrap_or("Unknown")
    }

    /// True while the element is exactly as it was read.
    #[getter]
    fn is_raw(&self) -> bool {
        self._node >= 0
    }

    /// The value length as read (0xFFFFFFFF for undefined), or as it would be written.
    #[getter]
    fn length(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        if let Some(l) = slf.borrow()._length {
            return Ok(l.into_pyobject(py)?.into_any().unbind());
        }
        Ok(helper(py, "_encoded_length")?.call1((slf,))?.unbind())
    }

    fn repval(slf: &Bound<'_, Self>) -> PyResult<String> {
        helper(slf.py(), "_repval")?.call1((slf,))?.extract()
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        helper(slf.py(), "_repr")?.call1((slf,))?.extract()
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.value)?;
        visit.call(&self._src)
    }

    fn __clear__(&mut self) {
        self.value = None;
        self._src = None;
    }

    fn __richcmp__(
        slf: &Bound<'_, Self>,
        other: &Bound<'_, PyAny>,
        op: CompareOp,
    ) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let eq = match op {
            CompareOp::Eq => true,
            CompareOp::Ne => false,
            _ => return Ok(py.NotImplemented()),
        };
        let same = helper(py, "_equal")?.call1((slf, other))?;
        if same.is(py.NotImplemented()) {
            return Ok(same.unbind());
        }
        let b: bool = same.extract()?;
        Ok((b == eq).into_pyobject(py)?.to_owned().into_any().unbind())
    }
}
