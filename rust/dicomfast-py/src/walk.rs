//! `Walk`: the iterator of `Dataset.iterall()` (and `walk()` without a callback).
//! Every element in tag order, depth first: after a sequence element, the elements
//! of each of its items. A data set not built yet is asked for its elements with
//! `_level(True)`, which builds it and everything under it in one call; one already
//! built (the items such a call made) is read from its table directly.

use crate::build::{dataset_type, is_sequence};
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyIterator, PyList};

enum Frame {
    /// A data set's elements: its table and its tags (sorted), from `at` on.
    Level {
        map: Py<PyDict>,
        tags: Py<PyList>,
        at: usize,
    },
    /// The items of a sequence still to walk.
    Items(Py<PyIterator>),
    /// The elements of a data set of another kind, as its own `iter()` gives them.
    Other(Py<PyIterator>),
}

#[pyclass(module = "dicomfast._core")]
pub struct Walk {
    /// The data set walked, kept while the walk is (as a generator over it keeps it).
    root: Py<PyAny>,
    /// Whether its elements were asked for yet.
    started: bool,
    stack: Vec<Frame>,
    /// The sequence element given last: its items come next (read from its value
    /// only then, as the caller may have changed it meanwhile).
    pending: Option<Py<PyAny>>,
}

/// The frame that walks the elements of data set `ds`.
fn enter(ds: &Bound<'_, PyAny>) -> PyResult<Frame> {
    let py = ds.py();
    let plain = ds.get_type().is(dataset_type(py)?);
    if plain {
        let d = ds
            .getattr(pyo3::intern!(py, "__dict__"))?
            .cast_into::<PyDict>()?;
        let done = d
            .get_item(pyo3::intern!(py, "_all_done"))?
            .is_some_and(|v| v.is_truthy().unwrap_or(false));
        let sorted = d.get_item(pyo3::intern!(py, "_sorted"))?;
        let map = d.get_item(pyo3::intern!(py, "_map"))?;
        if let (true, Some(tags), Some(map)) = (done, sorted, map) {
            if let (Ok(tags), Ok(map)) = (tags.cast_into::<PyList>(), map.cast_into::<PyDict>()) {
                return Ok(Frame::Level {
                    map: map.unbind(),
                    tags: tags.unbind(),
                    at: 0,
                });
            }
        }
        let (map, tags): (Bound<'_, PyDict>, Bound<'_, PyList>) = ds
            .call_method1(pyo3::intern!(py, "_level"), (true,))?
            .extract()?;
        return Ok(Frame::Level {
            map: map.unbind(),
            tags: tags.unbind(),
            at: 0,
        });
    }
    Ok(Frame::Other(ds.try_iter()?.unbind()))
}

#[pymethods]
impl Walk {
    #[new]
    fn new(dataset: Py<PyAny>) -> Self {
        Walk {
            root: dataset,
            started: false,
            stack: Vec::new(),
            pending: None,
        }
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let next = self.advance(py);
        if next.is_err() {
            // As a generator that raised: finished.
            self.stack.clear();
            self.pending = None;
        }
        next
    }
}

impl Walk {
    fn advance(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        if !self.started {
            self.started = true;
            self.stack.push(enter(self.root.bind(py))?);
        }
        if let Some(elem) = self.pending.take() {
            let items = elem.bind(py).getattr(pyo3::intern!(py, "value"))?;
            self.stack.push(Frame::Items(items.try_iter()?.unbind()));
        }
        loop {
            let next = match self.stack.last_mut() {
                None => return Ok(None),
                Some(Frame::Level { map, tags, at }) => {
                    let tags = tags.bind(py);
                    if *at < tags.len() {
                        let tag = tags.get_item(*at)?;
                        *at += 1;
                        match map.bind(py).get_item(&tag)? {
                            Some(elem) => Some(elem),
                            None => return Err(PyKeyError::new_err(tag.unbind())),
                        }
                    } else {
                        None
                    }
                }
                Some(Frame::Other(it)) => it.bind(py).clone().next().transpose()?,
                Some(Frame::Items(it)) => {
                    match it.bind(py).clone().next().transpose()? {
                        Some(item) => {
                            let frame = enter(&item)?;
                            self.stack.push(frame);
                        }
                        None => {
                            self.stack.pop();
                        }
                    }
                    continue;
                }
            };
            match next {
                Some(elem) => {
                    if is_sequence(&elem)? {
                        self.pending = Some(elem.clone().unbind());
                    }
                    return Ok(Some(elem.unbind()));
                }
                None => {
                    self.stack.pop();
                }
            }
        }
    }
}
