//! `RawFile`: a buffer (bytes, mmap, or the inflated data set) and the element
//! index over it. Python's `Dataset` asks it for nodes and values by index.

use crate::build;
use crate::element::DataElement;
use crate::errors;
use crate::text::{default_repertoire, default_text, CharacterSet};
use dicomfast_core::dictionary;
use dicomfast_core::file::{read_file, ReadOptions};
use dicomfast_core::frames::{frame_fragments, OffsetTable};
use dicomfast_core::index::{flags, Index, Node, NONE};
use dicomfast_core::json;
use dicomfast_core::parse::ParseOptions;
use dicomfast_core::syntax::Encoding;
use dicomfast_core::value;
use dicomfast_core::vr::{self, Vr};
use dicomfast_core::write::{DefaultResolver, Writer};
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyIndexError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use pyo3::IntoPyObjectExt;
use std::borrow::Cow;

/// Inputs at least this long are parsed with the GIL released.
const DETACH_FROM_BYTES: usize = 1 << 20;

/// The parsed index of one buffer. Values are read from the buffer on demand.
#[pyclass(frozen, module = "dicomfast._core")]
pub struct RawFile {
    /// The object whose memory the index points into.
    source: Py<PyAny>,
    buffer: PyBuffer<u8>,
    index: Index,
    meta_nodes: u32,
    transfer_syntax: String,
    encoding: Encoding,
    dataset_offset: u64,
    has_preamble: bool,
    deflated: bool,
    error: Option<(String, u64, Option<u32>)>,
}

impl RawFile {
    fn bytes(&self) -> &[u8] {
        // SAFETY: `buffer` keeps the exporter alive and its memory in place for
        // as long as `self` lives; sources are read-only (bytes, read-only mmap,
        // or bytes the Python layer made from anything writable).
        unsafe {
            std::slice::from_raw_parts(self.buffer.buf_ptr() as *const u8, self.buffer.len_bytes())
        }
    }

    fn node(&self, i: u32) -> PyResult<&Node> {
        self.index
            .nodes
            .get(i as usize)
            .ok_or_else(|| PyIndexError::new_err(format!("no node {i}")))
    }

    pub(crate) fn value_bytes(&self, n: &Node) -> &[u8] {
        &self.bytes()[n.value_offset as usize..n.end_offset as usize]
    }

    pub(crate) fn index(&self) -> &Index {
        &self.index
    }

    /// The object the index points into (see the `source` property).
    pub(crate) fn source_object<'py>(&self, py: Python<'py>) -> &Bound<'py, PyAny> {
        self.source.bind(py)
    }

    /// For the other bindings of this crate: the buffer, its index, the number of file
    /// meta nodes, the data set's encoding, whether a preamble was read and whether the
    /// data set was inflated.
    pub(crate) fn parsed(&self) -> (&[u8], &Index, u32, Encoding, bool, bool) {
        let (meta, enc) = (self.meta_nodes, self.encoding);
        (
            self.bytes(),
            &self.index,
            meta,
            enc,
            self.has_preamble,
            self.deflated,
        )
    }
}

fn parent_arg(parent: i64) -> u32 {
    if parent < 0 {
        NONE
    } else {
        parent as u32
    }
}

macro_rules! numbers {
    ($py:expr, $v:expr, $t:ty, $be:expr) => {{
        const W: usize = std::mem::size_of::<$t>();
        let mut it = $v.chunks_exact(W).map(|c| {
            let b: [u8; W] = c.try_into().expect("chunk size");
            if $be {
                <$t>::from_be_bytes(b)
            } else {
                <$t>::from_le_bytes(b)
            }
        });
        match $v.len() / W {
            0 => Ok($py.None().into_bound($py)),
            1 => it.next().expect("one value").into_bound_py_any($py),
            _ => Ok(PyList::new($py, it)?.into_any()),
        }
    }};
}

fn numbers_from_text<'py, T: IntoPyObjectExt<'py> + Copy>(
    py: Python<'py>,
    text: &[u8],
    parse: impl Fn(&[u8]) -> Option<T>,
) -> PyResult<Bound<'py, PyAny>> {
    let v = value::trim(*b"DS", text);
    if v.is_empty() {
        // An empty DS or IS has no number: None, as pydicom gives (and as the
        // binary numeric VRs give here), not an empty string.
        return Ok(py.None().into_bound(py));
    }
    let mut out = Vec::new();
    for part in value::split(v) {
        match parse(part) {
            Some(x) => out.push(x.into_bound_py_any(py)?),
            // Not a number: keep the text, as pydicom does outside strict mode.
            None => out
                .push(PyString::new(py, &default_repertoire(value::strip_spaces(part))).into_any()),
        }
    }
    if out.len() == 1 {
        Ok(out.pop().expect("one value"))
    } else {
        Ok(PyList::new(py, out)?.into_any())
    }
}

/// What `RawFile.level` gives: the elements by tag, their tags sorted, the character set.
type LevelOut<'py> = (
    Bound<'py, PyDict>,
    Bound<'py, PyList>,
    Option<Bound<'py, CharacterSet>>,
);

/// What `RawFile.find` gives for an element present: `(node, plain, value)`.
type Found<'py> = (u32, bool, Bound<'py, PyAny>);

/// Convert the value of a leaf element to Python (text, numbers, tags).
/// Binary VRs (O*, UN) and sequences are handled by the Python layer.
pub(crate) fn convert<'py>(
    py: Python<'py>,
    vr: Vr,
    v: &[u8],
    be: bool,
    cs: Option<&CharacterSet>,
) -> PyResult<Bound<'py, PyAny>> {
    match &vr {
        b"US" => numbers!(py, v, u16, be),
        b"SS" => numbers!(py, v, i16, be),
        b"UL" => numbers!(py, v, u32, be),
        b"SL" => numbers!(py, v, i32, be),
        b"UV" => numbers!(py, v, u64, be),
        b"SV" => numbers!(py, v, i64, be),
        b"FL" => numbers!(py, v, f32, be),
        b"FD" => numbers!(py, v, f64, be),
        b"AT" => {
            let tags = v.chunks_exact(4).map(|c| {
                let g = if be {
                    u16::from_be_bytes([c[0], c[1]])
                } else {
                    u16::from_le_bytes([c[0], c[1]])
                };
                let e = if be {
                    u16::from_be_bytes([c[2], c[3]])
                } else {
                    u16::from_le_bytes([c[2], c[3]])
                };
                ((g as u32) << 16) | e as u32
            });
            let tags: Vec<u32> = tags.collect();
            match tags.len() {
                0 => Ok(py.None().into_bound(py)),
                1 => tags[0].into_bound_py_any(py),
                _ => Ok(PyList::new(py, tags)?.into_any()),
            }
        }
        b"DS" => numbers_from_text(py, v, value::parse_ds),
        b"IS" => numbers_from_text(py, v, value::parse_is),
        b"LT" | b"ST" | b"UT" | b"UR" => {
            let t = value::trim(vr, v);
            let s = match cs {
                Some(cs) if vr::uses_character_set(vr) => Cow::Owned(cs.decode_value(t, vr)),
                _ => default_text(t),
            };
            Ok(PyString::new(py, &s).into_any())
        }
        _ if vr::is_multi_valued_text(vr) => {
            let t = value::trim(vr, v);
            let whole = match cs {
                Some(cs) if vr::uses_character_set(vr) => Cow::Owned(cs.decode_value(t, vr)),
                _ => default_text(t),
            };
            let mut parts = value::text_values(vr, &whole);
            let first = parts.next().unwrap_or_default();
            match parts.next() {
                None => Ok(PyString::new(py, first).into_any()),
                Some(second) => {
                    Ok(PyList::new(py, [first, second].into_iter().chain(parts))?.into_any())
                }
            }
        }
        _ => Ok(PyBytes::new(py, v).into_any()),
    }
}

#[pymethods]
impl RawFile {
    /// Index `source` (any object with a contiguous read-only byte buffer).
    /// The GIL is released while parsing.
    #[staticmethod]
    #[pyo3(signature = (source, stop_before_pixels=false, partial=false, max_depth=256))]
    fn parse(
        py: Python<'_>,
        source: Bound<'_, PyAny>,
        stop_before_pixels: bool,
        partial: bool,
        max_depth: usize,
    ) -> PyResult<RawFile> {
        let buffer: PyBuffer<u8> = PyBuffer::get(&source)?;
        if !buffer.is_c_contiguous() {
            return Err(PyValueError::new_err("source buffer must be contiguous"));
        }
        let opts = ReadOptions {
            parse: ParseOptions {
                stop_before_pixels,
                partial,
                max_depth,
            },
            ..Default::default()
        };
        let ptr = buffer.buf_ptr() as usize;
        let len = buffer.len_bytes();
        let parse = move || {
            // SAFETY: the buffer is held by `buffer` for the whole call.
            let bytes = unsafe { std::slice::from_raw_parts(ptr as *const u8, len) };
            read_file(bytes, &opts)
        };
        // A small input parses in microseconds: keeping the GIL spares the caller the
        // wait to take it back from another thread (the Storage SCP's event loop
        // checking each received header lost ~0.4 ms a time so, behind its threads).
        let result = if len < DETACH_FROM_BYTES {
            parse()
        } else {
            py.detach(parse)
        };
        let mut file = result.map_err(|e| errors::parse_error(py, &e))?;
        let (source, buffer, deflated) = match file.inflated.take() {
            Some(data) => {
                let b = PyBytes::new(py, &data);
                let buf = PyBuffer::get(b.as_any())?;
                (b.into_any().unbind(), buf, true)
            }
            None => (source.unbind(), buffer, false),
        };
        Ok(RawFile {
            source,
            buffer,
            meta_nodes: file.meta_nodes,
            transfer_syntax: file.transfer_syntax,
            encoding: file.encoding,
            dataset_offset: file.dataset_offset,
            has_preamble: file.has_preamble,
            deflated,
            error: file.error.map(|e| (e.to_string(), e.offset, e.tag)),
            index: file.index,
        })
    }

    /// The object the index points into (the input, or the inflated data set).
    #[getter]
    fn source(&self, py: Python<'_>) -> Py<PyAny> {
        self.source.clone_ref(py)
    }

    #[getter]
    fn transfer_syntax(&self) -> &str {
        &self.transfer_syntax
    }

    #[getter]
    fn explicit_vr(&self) -> bool {
        self.encoding.explicit_vr
    }

    #[getter]
    fn big_endian(&self) -> bool {
        self.encoding.big_endian
    }

    #[getter]
    fn deflated(&self) -> bool {
        self.deflated
    }

    #[getter]
    fn has_preamble(&self) -> bool {
        self.has_preamble
    }

    #[getter]
    fn dataset_offset(&self) -> u64 {
        self.dataset_offset
    }

    #[getter]
    fn meta_nodes(&self) -> u32 {
        self.meta_nodes
    }

    /// `(message, offset, tag)` of the error that ended a partial parse, else None.
    #[getter]
    fn error(&self) -> Option<(String, u64, Option<u32>)> {
        self.error.clone()
    }

    fn __len__(&self) -> usize {
        self.index.nodes.len()
    }

    /// Bytes this index holds beyond the buffer (for memory measurements).
    fn index_nbytes(&self) -> usize {
        self.index.nodes.capacity() * std::mem::size_of::<Node>()
    }

    /// `{tag: node}` for the children of `parent` (-1: top level, without the
    /// file meta group; -2: the file meta group).
    fn child_map<'py>(&self, py: Python<'py>, parent: i64) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for i in self.children_of(parent) {
            d.set_item(self.index.nodes[i as usize].tag, i)?;
        }
        Ok(d)
    }

    /// Some children of `parent` in one call, for readers that need a few elements of a
    /// data set as read (the pixel decoders): for each of `tags`, `None` when absent,
    /// else `(node, value)` (the last such child, as in `child_map`). `value` is what
    /// `value(node)` gives for elements whose value needs no context (no sequence,
    /// binary or UN VR, no ambiguous VR, no text in the Specific Character Set), else
    /// `None` with `plain` false: `(node, plain, value)`.
    fn find<'py>(
        &self,
        py: Python<'py>,
        parent: i64,
        tags: Vec<u32>,
    ) -> PyResult<Vec<Option<Found<'py>>>> {
        let mut at: Vec<Option<u32>> = vec![None; tags.len()];
        for i in self.children_of(parent) {
            let tag = self.index.nodes[i as usize].tag;
            for (k, t) in tags.iter().enumerate() {
                if *t == tag {
                    at[k] = Some(i);
                }
            }
        }
        let contextual = flags::SEQUENCE
            | flags::ITEM
            | flags::ENCAPSULATED
            | flags::FRAGMENT
            | flags::AMBIGUOUS_VR
            | flags::UN_SEQUENCE;
        at.into_iter()
            .map(|found| {
                let Some(i) = found else { return Ok(None) };
                let n = &self.index.nodes[i as usize];
                let plain = n.flags & contextual == 0
                    && !matches!(&n.vr, b"OB" | b"OW" | b"OF" | b"OD" | b"OL" | b"OV" | b"UN")
                    && !vr::uses_character_set(n.vr);
                let value = if plain {
                    convert(
                        py,
                        n.vr,
                        self.value_bytes(n),
                        n.has(flags::BIG_ENDIAN),
                        None,
                    )?
                } else {
                    py.None().into_bound(py)
                };
                Ok(Some((i, plain, value)))
            })
            .collect()
    }

    /// Node indices of the children of `parent` (see `child_map`).
    fn children(&self, parent: i64) -> Vec<u32> {
        self.children_of(parent)
    }

    /// `(tag, vr, length, flags, header_offset, value_offset, end_offset)`.
    fn node_info(&self, i: u32) -> PyResult<(u32, String, u32, u16, u64, u64, u64)> {
        let n = self.node(i)?;
        Ok((
            n.tag,
            vr::as_str(&n.vr).to_string(),
            n.length,
            n.flags,
            n.header_offset,
            n.value_offset,
            n.end_offset,
        ))
    }

    /// The data set that holds the sequence of item `i`: its node, or -1 for the
    /// top level (-2 within the file meta group).
    fn enclosing(&self, i: u32) -> PyResult<i64> {
        let n = self.node(i)?;
        if !n.has(flags::ITEM) {
            return Err(PyValueError::new_err(format!("node {i} is no item")));
        }
        let level = self.node(n.parent)?.parent;
        Ok(match level {
            NONE if i < self.meta_nodes => -2,
            NONE => -1,
            l => l as i64,
        })
    }

    fn tag(&self, i: u32) -> PyResult<u32> {
        Ok(self.node(i)?.tag)
    }

    fn vr(&self, i: u32) -> PyResult<String> {
        Ok(vr::as_str(&self.node(i)?.vr).to_string())
    }

    /// The value of leaf element `i` as Python objects; `vr` overrides the
    /// indexed VR (after ambiguity resolution).
    #[pyo3(signature = (i, charset=None, vr=None))]
    fn value<'py>(
        &self,
        py: Python<'py>,
        i: u32,
        charset: Option<&CharacterSet>,
        vr: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let n = self.node(i)?;
        let v = match vr {
            Some(s) => s
                .as_bytes()
                .try_into()
                .map_err(|_| PyValueError::new_err("bad VR"))?,
            None => n.vr,
        };
        convert(
            py,
            v,
            self.value_bytes(n),
            n.has(flags::BIG_ENDIAN),
            charset,
        )
    }

    /// Every child of `parent` (see `child_map`) as a `DataElement`, in one call:
    /// `({tag: DataElement}, sorted tags, charset)`. `owner` is the data set they
    /// belong to (the parent of sequence items); `charset`, `pixel_representation` and
    /// `bits_allocated` are what its parent has in force, which the level's own
    /// replace (they decide text decoding and ambiguous VRs); the character set used
    /// is returned for the caller to cache. With `deep`, the items of sequences are
    /// built too (elements, their sequences' items, ...), each marked done.
    #[pyo3(signature = (parent, owner, charset=None, pixel_representation=0, bits_allocated=16,
        deep=false))]
    #[allow(clippy::too_many_arguments)]
    fn level<'py>(
        slf: &Bound<'py, Self>,
        parent: i64,
        owner: &Bound<'py, PyAny>,
        charset: Option<Bound<'py, CharacterSet>>,
        pixel_representation: i64,
        bits_allocated: i64,
        deep: bool,
    ) -> PyResult<LevelOut<'py>> {
        let kids = slf.get().children_of(parent);
        let inherited = build::Context {
            charset,
            pixel_representation,
            bits_allocated,
        };
        let ctx = build::Context::of_level(slf, &kids, &inherited)?;
        let depth = if deep { build::DEEP_LEVELS } else { 0 };
        let mut level = build::Level::new(slf, ctx, owner, depth);
        let (map, tags) = build::build_level(&mut level, &kids)?;
        Ok((map, tags, level.ctx.charset))
    }

    /// The `DataElement` of node `i`, a child of data set `owner`: what `level`
    /// builds for it, the context asked of `owner` when the value needs it
    /// (`_get_charset()` for text in the Specific Character Set, `_inherited()` of
    /// Pixel Representation and Bits Allocated for an ambiguous VR).
    fn element<'py>(
        slf: &Bound<'py, Self>,
        i: u32,
        owner: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, DataElement>> {
        let n = *slf.get().node(i)?;
        let mut ctx = build::Context {
            charset: None,
            pixel_representation: 0,
            bits_allocated: 16,
        };
        if n.has(flags::AMBIGUOUS_VR) {
            let inherited = |tag: u32, default: i64| -> PyResult<i64> {
                let v = owner.call_method1(pyo3::intern!(owner.py(), "_inherited"), (tag,))?;
                Ok(build::int_or(&v, default))
            };
            ctx.pixel_representation = inherited(0x0028_0103, 0)?;
            ctx.bits_allocated = inherited(0x0028_0100, 16)?;
        } else if vr::uses_character_set(n.vr) && !n.has(flags::SEQUENCE) {
            ctx.charset = owner
                .call_method0(pyo3::intern!(owner.py(), "_get_charset"))?
                .extract()?;
        }
        build::Level::new(slf, ctx, owner, 0).element(i)
    }

    /// The DICOM JSON model (as text) of the text and number attributes of
    /// `parent`'s children (`-1`: the data set): what the archive indexes.
    /// Private tags, binary values, sequences deeper than `max_depth` and
    /// single texts longer than `max_text` characters are left out.
    #[pyo3(signature = (parent=-1, charset_terms=None, max_depth=4, max_text=4096))]
    fn text_attributes_json(
        &self,
        py: Python<'_>,
        parent: i64,
        charset_terms: Option<Vec<String>>,
        max_depth: usize,
        max_text: usize,
    ) -> String {
        let kids = self.children_of(parent);
        let opts = json::AttributeOptions {
            max_depth,
            max_text,
        };
        let (index, buf) = (&self.index, self.bytes());
        py.detach(|| json::text_attributes_json(index, buf, &kids, charset_terms.as_deref(), opts))
    }

    /// Values of several leaf elements at once: one call instead of many.
    #[pyo3(signature = (nodes, charset=None))]
    fn values<'py>(
        &self,
        py: Python<'py>,
        nodes: Vec<u32>,
        charset: Option<&CharacterSet>,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut out = Vec::with_capacity(nodes.len());
        for i in nodes {
            let n = self.node(i)?;
            out.push(convert(
                py,
                n.vr,
                self.value_bytes(n),
                n.has(flags::BIG_ENDIAN),
                charset,
            )?);
        }
        PyList::new(py, out)
    }

    /// The raw value bytes of node `i` (a copy; use `source` with offsets for views).
    fn value_bytes_of<'py>(&self, py: Python<'py>, i: u32) -> PyResult<Bound<'py, PyBytes>> {
        let n = self.node(i)?;
        Ok(PyBytes::new(py, self.value_bytes(n)))
    }

    /// Encode the elements `nodes` (siblings, with everything nested in them)
    /// in the given encoding. Unchanged encodings copy the original bytes.
    #[pyo3(signature = (nodes, explicit_vr, big_endian, pixel_representation=0))]
    fn encode<'py>(
        &self,
        py: Python<'py>,
        nodes: Vec<u32>,
        explicit_vr: bool,
        big_endian: bool,
        pixel_representation: u16,
    ) -> PyResult<Bound<'py, PyBytes>> {
        for &i in &nodes {
            self.node(i)?;
        }
        let writer = Writer {
            buf: self.bytes(),
            index: &self.index,
            dst: Encoding {
                explicit_vr,
                big_endian,
            },
            resolver: DefaultResolver {
                pixel_representation,
            },
        };
        let mut out = Vec::new();
        py.detach(|| writer.write_all(nodes.iter().copied(), &mut out))
            .map_err(|e| errors::parse_error(py, &e))?;
        Ok(PyBytes::new(py, &out))
    }

    /// [`encode`](RawFile::encode) as a list of chunks to write one after the other:
    /// bytes, and read-only memoryviews of `source` for the runs of at least
    /// `min_reference` bytes that are taken from it unchanged (a Pixel Data value, say),
    /// so that these are never copied.
    #[pyo3(signature = (nodes, explicit_vr, big_endian, pixel_representation=0,
        min_reference=65536))]
    fn encode_parts<'py>(
        &self,
        py: Python<'py>,
        nodes: Vec<u32>,
        explicit_vr: bool,
        big_endian: bool,
        pixel_representation: u16,
        min_reference: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        for &i in &nodes {
            self.node(i)?;
        }
        let writer = Writer {
            buf: self.bytes(),
            index: &self.index,
            dst: Encoding {
                explicit_vr,
                big_endian,
            },
            resolver: DefaultResolver {
                pixel_representation,
            },
        };
        // Written bytes and source ranges, in order; ranges shorter than `min_reference`
        // are copied into the written bytes.
        let mut parts: Vec<(Vec<u8>, Option<std::ops::Range<usize>>)> = Vec::new();
        py.detach(|| -> Result<(), dicomfast_core::error::ParseError> {
            let mut cur = Vec::new();
            for i in nodes {
                match writer.element_by_reference(i, &mut cur)? {
                    Some(r) if r.len() >= min_reference.max(1) => {
                        parts.push((std::mem::take(&mut cur), Some(r)));
                    }
                    Some(r) => cur.extend_from_slice(&writer.buf[r]),
                    None => {}
                }
            }
            parts.push((cur, None));
            Ok(())
        })
        .map_err(|e| errors::parse_error(py, &e))?;
        let out = PyList::empty(py);
        let mut view: Option<Bound<'py, PyAny>> = None;
        for (bytes, range) in parts {
            if !bytes.is_empty() {
                out.append(PyBytes::new(py, &bytes))?;
            }
            if let Some(r) = range {
                let v = match &view {
                    Some(v) => v.clone(),
                    None => {
                        let v = py
                            .import("builtins")?
                            .getattr("memoryview")?
                            .call1((self.source.bind(py),))?
                            .call_method1("cast", ("B",))?;
                        view = Some(v.clone());
                        v
                    }
                };
                out.append(v.get_item(pyo3::types::PySlice::new(
                    py,
                    r.start as isize,
                    r.end as isize,
                    1,
                ))?)?;
            }
        }
        Ok(out)
    }

    /// For encapsulated pixel data node `i`: per frame, the `(offset, length)`
    /// of each fragment's value in `source`.
    #[pyo3(signature = (i, number_of_frames, extended_offsets=None))]
    fn frame_fragments(
        &self,
        py: Python<'_>,
        i: u32,
        number_of_frames: usize,
        extended_offsets: Option<u32>,
    ) -> PyResult<Vec<Vec<(u64, u64)>>> {
        self.node(i)?;
        let eot = match extended_offsets {
            Some(e) => {
                let n = self.node(e)?;
                Some(OffsetTable {
                    offsets: self.value_bytes(n),
                    big_endian: n.has(flags::BIG_ENDIAN),
                })
            }
            None => None,
        };
        let frames = frame_fragments(self.bytes(), &self.index, i, number_of_frames, eot)
            .map_err(|e| errors::parse_error(py, &e))?;
        Ok(frames
            .into_iter()
            .map(|f| {
                f.into_iter()
                    .map(|j| {
                        let n = &self.index.nodes[j as usize];
                        (n.value_offset, n.end_offset - n.value_offset)
                    })
                    .collect()
            })
            .collect())
    }
}

/// The VR of an implicit-VR element whose dictionary VR is ambiguous: signed
/// when Pixel Representation is 1 (LUT descriptors stay US), OB for 8-bit
/// data and OW for wider (PS3.5 A.1).
impl RawFile {
    fn children_of(&self, parent: i64) -> Vec<u32> {
        match parent {
            -2 => self.index.siblings(0, self.meta_nodes).collect(),
            -1 => self
                .index
                .siblings(self.meta_nodes, self.index.nodes.len() as u32)
                .collect(),
            p => self.index.children(parent_arg(p)).collect(),
        }
    }
}

/// Every dictionary entry: `(tag, vr_text, vm, keyword, name, retired, mask)`;
/// mask is 0xFFFFFFFF for plain tags.
#[pyfunction]
pub fn dictionary_entries<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
    let plain = dictionary::ELEMENTS.iter().map(|e| (e, 0xFFFF_FFFFu32));
    let masked = dictionary::MASKED.iter().map(|m| (&m.entry, m.mask));
    let rows: PyResult<Vec<Bound<'py, PyTuple>>> = plain
        .chain(masked)
        .map(|(e, mask)| {
            PyTuple::new(
                py,
                [
                    e.tag.into_bound_py_any(py)?,
                    e.vr_text.into_bound_py_any(py)?,
                    e.vm.into_bound_py_any(py)?,
                    e.keyword.into_bound_py_any(py)?,
                    e.name.into_bound_py_any(py)?,
                    e.retired.into_bound_py_any(py)?,
                    mask.into_bound_py_any(py)?,
                ],
            )
        })
        .collect();
    PyList::new(py, rows?)
}

/// `(tag, vr, vr_text, vm, keyword, name, retired)` of a tag, repeating groups
/// included; None when the dictionary does not know it.
#[pyfunction]
pub fn dictionary_lookup(
    tag: u32,
) -> Option<(
    u32,
    String,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
)> {
    dictionary::lookup(tag).map(|e| {
        (
            e.tag,
            vr::as_str(&e.vr).to_string(),
            e.vr_text,
            e.vm,
            e.keyword,
            e.name,
            e.retired,
        )
    })
}

/// Every UID of PS3.6 Annex A: `(uid, name, keyword, type, retired, info, storage)`.
#[pyfunction]
pub fn uid_entries() -> Vec<(
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
    &'static str,
    bool,
)> {
    dictionary::UIDS
        .iter()
        .map(|u| {
            (
                u.uid, u.name, u.keyword, u.kind, u.retired, u.info, u.storage,
            )
        })
        .collect()
}
