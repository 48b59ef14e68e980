//! `DataElement`: tag, VR and value. A Rust class so that the core can build
//! a whole data set's elements in one call; the pieces that need Python
//! (encoding a changed value, comparing arrays, printing) call back into
//! `dicomfast.element`.

use dicomfast_core::{dictionary, tag};
use pyo3::basic::CompareOp;
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};
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
    #[pyo3(get, set, name = "VR")]
    pub vr: String,
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

fn helper<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("dicomfast.element")?.getattr(name)
}

#[pymethods]
impl DataElement {
    #[new]
    #[pyo3(signature = (tag, VR, value, *, _node=-1, _length=None, _src=None))]
    #[allow(non_snake_case)]
    fn new(
        tag: u32,
        VR: String,
        value: Py<PyAny>,
        _node: i64,
        _length: Option<u32>,
        _src: Option<Py<PyAny>>,
    ) -> Self {
        DataElement {
            tag,
            vr: VR,
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
    fn value(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let v = match &self.value {
            Some(v) => v.clone_ref(py),
            None => return Ok(py.None()),
        };
        let convert = match self.vr.as_str() {
            "PN" => "_person_name",
            "UI" => "_uid",
            _ => "",
        };
        if !convert.is_empty() {
            let b = v.bind(py);
            if b.is_exact_instance_of::<PyString>() || b.is_exact_instance_of::<PyList>() {
                let nv = helper(py, convert)?.call1((b,))?.unbind();
                self.value = Some(nv.clone_ref(py));
                return Ok(nv);
            }
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
    fn set_value(&mut self, value: Py<PyAny>) {
        self.value = Some(value);
        self._node = -1;
        self._length = None;
    }

    #[getter]
    fn vr(&self) -> &str {
        &self.vr
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
