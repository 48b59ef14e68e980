//! `DataElement`s built from the index by the core: one element, a whole level of a
//! data set, or (deep) a level with every sequence item under it, in one call. Values
//! are converted, sequences get their items (`dicomfast.dataset.Dataset`s over the
//! index), binary values their numpy arrays (views of the buffer), UN its bytes, an empty
//! binary value None (as pydicom reads it).
//! `Dataset` asks for this instead of converting element by element.

use crate::element::{vr_string, DataElement, VrKind};
use crate::raw::{convert, RawFile};
use crate::text::{default_repertoire, CharacterSet};
use dicomfast_core::index::{flags, UNDEFINED_LENGTH};
use dicomfast_core::tag;
use dicomfast_core::vr::{self, Vr};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyInt, PyList, PyString, PyType, PyWeakrefReference};

/// How deep one call builds sequence items; deeper ones are left to build when
/// reached (the walk asks for them), so nesting never deepens the Rust stack.
pub const DEEP_LEVELS: usize = 32;

/// What decides how the values of one level are read: the Specific Character Set in
/// force there, and Pixel Representation and Bits Allocated (for the VRs that the
/// dictionary gives as "US or SS" or "OB or OW").
#[derive(Clone)]
pub struct Context<'py> {
    pub charset: Option<Bound<'py, CharacterSet>>,
    pub pixel_representation: i64,
    pub bits_allocated: i64,
}

impl<'py> Context<'py> {
    /// The context of the level whose elements are `kids`, `inherited` being its
    /// parent's: the level's own Specific Character Set, Pixel Representation and
    /// Bits Allocated replace the inherited ones. Pixel Representation and Bits
    /// Allocated count when their value is one integer; present with any other
    /// value they are 0 and 16 (as `Dataset._pixel_context` takes them).
    pub fn of_level(raw: &Bound<'py, RawFile>, kids: &[u32], inherited: &Self) -> PyResult<Self> {
        let py = raw.py();
        let this = raw.get();
        let mut ctx = inherited.clone();
        for &i in kids {
            let n = &this.index().nodes[i as usize];
            match n.tag {
                tag::SPECIFIC_CHARACTER_SET => {
                    let terms: Vec<String> = default_repertoire(this.value_bytes(n))
                        .split('\\')
                        .map(|t| t.trim_matches([' ', '\0']).to_string())
                        .collect();
                    ctx.charset = Some(Bound::new(py, CharacterSet::from_terms(terms))?);
                }
                0x0028_0103 | 0x0028_0100 => {
                    let pr = n.tag == 0x0028_0103;
                    let value = convert(
                        py,
                        n.vr,
                        this.value_bytes(n),
                        n.has(flags::BIG_ENDIAN),
                        None,
                    )?;
                    let x = int_or(&value, if pr { 0 } else { 16 });
                    if pr {
                        ctx.pixel_representation = x;
                    } else {
                        ctx.bits_allocated = x;
                    }
                }
                _ => {}
            }
        }
        Ok(ctx)
    }
}

/// `value` when it is an `int` (beyond 64 bits: the largest), else `default`.
pub fn int_or(value: &Bound<'_, PyAny>, default: i64) -> i64 {
    match value.cast::<PyInt>() {
        Ok(i) => i.extract::<i64>().unwrap_or(i64::MAX),
        Err(_) => default,
    }
}

/// Python objects the builder uses, looked up once.
struct Names {
    dataset: Py<PyType>,
    sequence: Py<PyType>,
    item_state: Py<PyDict>,
    object_new: Py<PyAny>,
    list_new: Py<PyAny>,
}

static NAMES: PyOnceLock<Names> = PyOnceLock::new();

fn names(py: Python<'_>) -> PyResult<&Names> {
    NAMES.get_or_try_init(py, || {
        let m = py.import("dicomfast.dataset")?;
        PyResult::Ok(Names {
            dataset: m.getattr("Dataset")?.cast_into::<PyType>()?.unbind(),
            sequence: m.getattr("Sequence")?.cast_into::<PyType>()?.unbind(),
            item_state: m.getattr("_ITEM_STATE")?.cast_into::<PyDict>()?.unbind(),
            object_new: py
                .import("builtins")?
                .getattr("object")?
                .getattr("__new__")?
                .unbind(),
            list_new: py
                .import("builtins")?
                .getattr("list")?
                .getattr("__new__")?
                .unbind(),
        })
    })
}

/// `dicomfast.dataset.Dataset`.
pub fn dataset_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    Ok(names(py)?.dataset.bind(py))
}

/// numpy's `frombuffer`, `uint8` and, per VR of `dicomfast.element.ARRAY_VRS` and byte
/// order, the dtype of its values.
struct Arrays {
    frombuffer: Py<PyAny>,
    uint8: Py<PyAny>,
    dtypes: Vec<(Vr, bool, Py<PyAny>, usize)>,
}

static ARRAYS: PyOnceLock<Arrays> = PyOnceLock::new();

fn arrays(py: Python<'_>) -> PyResult<&Arrays> {
    ARRAYS.get_or_try_init(py, || {
        let np = py.import("numpy")?;
        let dtype = np.getattr("dtype")?;
        let table = py.import("dicomfast.element")?.getattr("ARRAY_VRS")?;
        let mut dtypes = Vec::new();
        for (k, code) in table.cast_into::<PyDict>()?.iter() {
            let name: String = k.extract()?;
            let Ok(v) = <[u8; 2]>::try_from(name.as_bytes()) else {
                continue;
            };
            let dt = dtype.call1((code,))?;
            let size: usize = dt.getattr("itemsize")?.extract()?;
            for be in [false, true] {
                let t = dt.call_method1("newbyteorder", (if be { ">" } else { "<" },))?;
                dtypes.push((v, be, t.unbind(), size));
            }
        }
        PyResult::Ok(Arrays {
            frombuffer: np.getattr("frombuffer")?.unbind(),
            uint8: dtype.call1((np.getattr("uint8")?,))?.unbind(),
            dtypes,
        })
    })
}

/// Is `vr` one that `dicomfast.element.ARRAY_VRS` gives as an array?
fn is_array_vr(vr: Vr) -> bool {
    matches!(&vr, b"OB" | b"OW" | b"OF" | b"OD" | b"OL" | b"OV")
}

/// The weak reference to a data set that the items of its sequences keep as `_parent`.
///
/// A weak reference, so that a data set and its items are no reference cycle: freed
/// when the last reference goes, not left to the cycle collector (which, for every
/// file read, would have the whole tree to walk and free). An item kept after its
/// parent went rebuilds that parent as read (`Dataset._parent_ds`).
fn weak<'py>(dataset: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    Ok(PyWeakrefReference::new(dataset)?.into_any())
}

/// One level of a data set being built: the elements of data set `owner`, read in
/// context `ctx`; `deep` more levels of sequence items are built under it.
pub struct Level<'a, 'py> {
    pub raw: &'a Bound<'py, RawFile>,
    pub ctx: Context<'py>,
    pub owner: &'a Bound<'py, PyAny>,
    pub deep: usize,
    /// See [`Level::item_template`], made when the first item needs it.
    item_template: Option<Bound<'py, PyDict>>,
}

impl<'a, 'py> Level<'a, 'py> {
    pub fn new(
        raw: &'a Bound<'py, RawFile>,
        ctx: Context<'py>,
        owner: &'a Bound<'py, PyAny>,
        deep: usize,
    ) -> Self {
        Level {
            raw,
            ctx,
            owner,
            deep,
            item_template: None,
        }
    }

    /// The value of node `i` of VR `vr` (already resolved): see the module comment.
    fn value(&mut self, i: u32, vr: Vr) -> PyResult<Bound<'py, PyAny>> {
        let py = self.raw.py();
        let this = self.raw.get();
        let n = &this.index().nodes[i as usize];
        if n.has(flags::SEQUENCE) {
            return self.sequence(i);
        }
        let (start, end) = (n.value_offset, n.end_offset);
        if end == start && !n.has(flags::ENCAPSULATED) && (is_array_vr(vr) || &vr == b"UN") {
            // An empty binary value is None, as pydicom reads it (not an empty array).
            return Ok(py.None().into_bound(py));
        }
        if n.has(flags::ENCAPSULATED) || is_array_vr(vr) {
            let a = arrays(py)?;
            let len = (end - start) as usize;
            let (dtype, count) = match a
                .dtypes
                .iter()
                .find(|d| d.0 == vr && d.1 == n.has(flags::BIG_ENDIAN))
            {
                Some((_, _, dt, size))
                    if !n.has(flags::ENCAPSULATED) && len.is_multiple_of(*size) =>
                {
                    (dt, len / size)
                }
                _ => (&a.uint8, len),
            };
            return a
                .frombuffer
                .bind(py)
                .call1((this.source_object(py), dtype, count, start));
        }
        if &vr == b"UN" {
            return Ok(PyBytes::new(py, this.value_bytes(n)).into_any());
        }
        let cs = self.ctx.charset.as_ref().map(|c| c.get());
        convert(py, vr, this.value_bytes(n), n.has(flags::BIG_ENDIAN), cs)
    }

    /// The `Sequence` of sequence node `i`: its items are data sets over the index
    /// whose parent is `owner`; with `deep` left, each item's elements are built too.
    fn sequence(&mut self, i: u32) -> PyResult<Bound<'py, PyAny>> {
        let raw = self.raw;
        let py = raw.py();
        let this = raw.get();
        let nm = names(py)?;
        // What `Sequence(items, undefined_length=...)` makes, without running its
        // `__init__` (no Python code runs while a level is built: see `build_level`).
        let seq = nm.list_new.bind(py).call1((nm.sequence.bind(py),))?;
        let items = seq.cast::<PyList>()?;
        for item in this.index().children(i) {
            let d = self.item_template()?.copy()?;
            d.set_item(pyo3::intern!(py, "_node"), item)?;
            let ds = nm.object_new.bind(py).call1((nm.dataset.bind(py),))?;
            // SAFETY: `ds` is a new instance of a class with a `__dict__`, `d` a dict.
            if unsafe {
                ffi::PyObject_GenericSetDict(ds.as_ptr(), d.as_ptr(), std::ptr::null_mut())
            } != 0
            {
                return Err(PyErr::fetch(py));
            }
            if self.deep > 0 {
                let kids: Vec<u32> = this.index().children(item).collect();
                let ctx = Context::of_level(raw, &kids, &self.ctx)?;
                let mut inner = Level::new(raw, ctx, &ds, self.deep - 1);
                let (map, tags) = inner.build(&kids)?;
                d.set_item(pyo3::intern!(py, "_map"), map)?;
                d.set_item(pyo3::intern!(py, "_sorted"), tags)?;
                d.set_item(pyo3::intern!(py, "_charset"), inner.ctx.charset)?;
            }
            items.append(ds)?;
        }
        let undefined = this.index().nodes[i as usize].length == UNDEFINED_LENGTH;
        seq.setattr(pyo3::intern!(py, "_undefined_length"), undefined)?;
        Ok(seq)
    }

    /// The `__dict__` of this level's items but their node (and, deep, their table, tags
    /// and character set): `_ITEM_STATE`, the buffer, the owner (weakly: see [`weak`])
    /// and, deep, `_all_done`. Each item's is a copy, made at its final size.
    fn item_template(&mut self) -> PyResult<&Bound<'py, PyDict>> {
        if self.item_template.is_none() {
            let py = self.raw.py();
            let t = names(py)?.item_state.bind(py).copy()?;
            t.set_item(pyo3::intern!(py, "_raw"), self.raw)?;
            t.set_item(pyo3::intern!(py, "_node"), py.None())?;
            t.set_item(pyo3::intern!(py, "_parent"), weak(self.owner)?)?;
            if self.deep > 0 {
                t.set_item(pyo3::intern!(py, "_all_done"), true)?;
            }
            self.item_template = Some(t);
        }
        Ok(self.item_template.as_ref().expect("just made"))
    }

    /// The `DataElement` of node `i`.
    pub fn element(&mut self, i: u32) -> PyResult<Bound<'py, DataElement>> {
        let py = self.raw.py();
        let n = self.raw.get().index().nodes[i as usize];
        let mut vr = n.vr;
        if n.has(flags::AMBIGUOUS_VR) {
            let ctx = &self.ctx;
            vr = vr::resolve_ambiguous(n.tag, vr, ctx.pixel_representation, ctx.bits_allocated);
        }
        if n.has(flags::SEQUENCE) {
            vr = *b"SQ";
        }
        let value = self.value(i, vr)?;
        let e = Bound::new(
            py,
            DataElement {
                tag: n.tag,
                vr: vr_string(py, vr).unbind(),
                kind: VrKind::of(&vr),
                value: Some(value.clone().unbind()),
                _node: i as i64,
                _length: Some(n.length),
                _src: Some(self.raw.clone().into_any().unbind()),
            },
        )?;
        DataElement::track_for(&e, &value);
        Ok(e)
    }

    /// Every element of the level (nodes `kids`): `{tag: DataElement}` (the last of a
    /// repeated tag, as `RawFile.child_map`) and its tags sorted.
    pub fn build(&mut self, kids: &[u32]) -> PyResult<(Bound<'py, PyDict>, Bound<'py, PyList>)> {
        let py = self.raw.py();
        let out = PyDict::new(py);
        // Each tag's int made once, for the table and the list.
        let mut tags = Vec::with_capacity(kids.len());
        for &i in kids {
            let t = self.raw.get().index().nodes[i as usize].tag;
            let key = t.into_pyobject(py)?;
            out.set_item(&key, self.element(i)?)?;
            tags.push((t, key));
        }
        tags.sort_by_key(|k| k.0);
        tags.dedup_by_key(|k| k.0);
        Ok((out, PyList::new(py, tags.into_iter().map(|k| k.1))?))
    }
}

/// [`Level::build`] with the cycle collector held off meanwhile: a level (a whole tree with
/// `deep`) makes thousands of objects that all live on, and the collector would
/// otherwise run every 700 of them, each run promoting them a generation (and so
/// bringing on full collections sooner); it runs once afterwards instead. Nothing
/// of Python runs while building (no `__init__`, no `__del__` of a new object), so
/// no other thread sees the collector held off.
pub fn build_level<'py>(
    level: &mut Level<'_, 'py>,
    kids: &[u32],
) -> PyResult<(Bound<'py, PyDict>, Bound<'py, PyList>)> {
    // SAFETY: plain calls of the C API, made holding the GIL.
    let was_enabled = unsafe { ffi::PyGC_Disable() } != 0;
    let out = level.build(kids);
    if was_enabled {
        // SAFETY: as above.
        unsafe { ffi::PyGC_Enable() };
    }
    out
}

/// `elem.VR == "SQ"` for a `DataElement` (without making the `str`), else asked.
pub fn is_sequence(elem: &Bound<'_, PyAny>) -> PyResult<bool> {
    if let Ok(e) = elem.cast::<DataElement>() {
        return Ok(e.borrow().kind == VrKind::Sequence);
    }
    let vr = elem.getattr(pyo3::intern!(elem.py(), "VR"))?;
    vr.eq(PyString::new(elem.py(), "SQ"))
}
