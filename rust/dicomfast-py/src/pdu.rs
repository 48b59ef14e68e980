//! PS3.8 upper-layer PDUs and PS3.7 DIMSE command sets for `dicomfast.net`:
//! a thin layer over the sans-IO `dicomfast-pdu` crate. PDUs cross the
//! boundary as plain tuples, dicts and bytes; P-DATA-TF values are returned
//! as offsets into the caller's buffer so they can be written on without a
//! copy.

use crate::errors;
use dicomfast_pdu as p;
use dicomfast_pdu::{
    AbortSource, AssociateAc, AssociateRj, AssociateRq, CommandSet, CommandValue, Decoded, Pdu,
    PduRef, PresentationContextAc, PresentationContextResult, PresentationContextRq, RejectResult,
    RejectSource, UserInformation, UserItem,
};
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyMemoryView, PySlice, PyTuple};
use pyo3::IntoPyObjectExt;

/// `dicomfast.errors.PduError` for a crate error.
fn pdu_err(py: Python<'_>, e: &p::PduError, base: usize) -> PyErr {
    errors::make(
        py,
        "PduError",
        e.to_string(),
        e.offset().map(|o| (o + base) as u64),
        None,
    )
}

/// A held, contiguous byte buffer of any Python object (bytes, bytearray,
/// memoryview, mmap).
pub(crate) struct Held {
    buf: PyBuffer<u8>,
}

impl Held {
    pub(crate) fn get(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        let buf: PyBuffer<u8> = PyBuffer::get(obj)?;
        if !buf.is_c_contiguous() {
            return Err(PyValueError::new_err("buffer must be contiguous"));
        }
        Ok(Held { buf })
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `self.buf` keeps the export (and so the memory) alive and in
        // place while `self` lives; the slice does not outlive `self`.
        unsafe { std::slice::from_raw_parts(self.buf.buf_ptr() as *const u8, self.buf.len_bytes()) }
    }
}

// ---------------------------------------------------------------------------
// Reading

fn user_items_to_py<'py>(py: Python<'py>, ui: &UserInformation) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for item in &ui.items {
        let t = item.item_type();
        let v: Bound<'py, PyAny> = match item {
            UserItem::MaxLength(v) => v.into_bound_py_any(py)?,
            UserItem::ImplementationClassUid(s) | UserItem::ImplementationVersionName(s) => {
                s.into_bound_py_any(py)?
            }
            UserItem::AsyncOpsWindow {
                max_invoked,
                max_performed,
            } => (*max_invoked, *max_performed).into_bound_py_any(py)?,
            UserItem::RoleSelection {
                sop_class_uid,
                scu_role,
                scp_role,
            } => (sop_class_uid, *scu_role, *scp_role).into_bound_py_any(py)?,
            UserItem::SopClassExtended {
                sop_class_uid,
                service_class_info,
            } => (sop_class_uid, PyBytes::new(py, service_class_info)).into_bound_py_any(py)?,
            UserItem::SopClassCommonExtended {
                version,
                sop_class_uid,
                service_class_uid,
                related_general_sop_classes,
            } => (
                *version,
                sop_class_uid,
                service_class_uid,
                related_general_sop_classes,
            )
                .into_bound_py_any(py)?,
            UserItem::UserIdentityRq {
                identity_type,
                positive_response_requested,
                primary_field,
                secondary_field,
            } => (
                *identity_type,
                *positive_response_requested,
                PyBytes::new(py, primary_field),
                PyBytes::new(py, secondary_field),
            )
                .into_bound_py_any(py)?,
            UserItem::UserIdentityAc { server_response } => {
                PyBytes::new(py, server_response).into_bound_py_any(py)?
            }
            UserItem::Unknown { reserved, data, .. } => {
                (*reserved, PyBytes::new(py, data)).into_bound_py_any(py)?
            }
        };
        out.append((t, v))?;
    }
    Ok(out)
}

fn common_dict<'py>(
    py: Python<'py>,
    version: u16,
    called: &str,
    calling: &str,
    app: &str,
    ui: &UserInformation,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("protocol_version", version)?;
    d.set_item("called_ae_title", called)?;
    d.set_item("calling_ae_title", calling)?;
    d.set_item("application_context", app)?;
    d.set_item("max_length", ui.max_length())?;
    d.set_item("implementation_class_uid", ui.implementation_class_uid())?;
    d.set_item(
        "implementation_version_name",
        ui.implementation_version_name(),
    )?;
    d.set_item("user_information", user_items_to_py(py, ui)?)?;
    Ok(d)
}

fn rq_to_py<'py>(py: Python<'py>, rq: &AssociateRq) -> PyResult<Bound<'py, PyAny>> {
    let d = common_dict(
        py,
        rq.protocol_version,
        &rq.called_ae_title,
        &rq.calling_ae_title,
        &rq.application_context,
        &rq.user_information,
    )?;
    let pcs = PyList::empty(py);
    for pc in &rq.presentation_contexts {
        pcs.append((pc.id, &pc.abstract_syntax, &pc.transfer_syntaxes))?;
    }
    d.set_item("presentation_contexts", pcs)?;
    Ok(d.into_any())
}

fn ac_to_py<'py>(py: Python<'py>, ac: &AssociateAc) -> PyResult<Bound<'py, PyAny>> {
    let d = common_dict(
        py,
        ac.protocol_version,
        &ac.called_ae_title,
        &ac.calling_ae_title,
        &ac.application_context,
        &ac.user_information,
    )?;
    let pcs = PyList::empty(py);
    for pc in &ac.presentation_contexts {
        pcs.append((pc.id, pc.result.to_u8(), &pc.transfer_syntax))?;
    }
    d.set_item("presentation_contexts", pcs)?;
    Ok(d.into_any())
}

/// Read one PDU from `buf[offset:]`.
///
/// Returns `(0, needed, None)` when the buffer holds an incomplete PDU
/// (`needed` = total bytes from `offset` required), otherwise
/// `(pdu_type, consumed, value)` where value is: a dict for A-ASSOCIATE-RQ/AC,
/// `(result, source, reason)` for A-ASSOCIATE-RJ, `(source, reason)` for
/// A-ABORT, `None` for A-RELEASE-RQ/RP, and for P-DATA-TF a list of
/// `(pc_id, is_command, is_last, start, end)` with `start`/`end` absolute
/// offsets of each PDV value in `buf`. `max_pdu_len` bounds the PDU-length
/// field (0 = no limit), checked from the header alone.
#[pyfunction]
#[pyo3(signature = (buf, offset=0, max_pdu_len=0))]
pub fn pdu_read<'py>(
    py: Python<'py>,
    buf: &Bound<'py, PyAny>,
    offset: usize,
    max_pdu_len: u32,
) -> PyResult<Bound<'py, PyTuple>> {
    let held = Held::get(buf)?;
    let all = held.bytes();
    let data = all
        .get(offset..)
        .ok_or_else(|| PyValueError::new_err("offset beyond the end of the buffer"))?;
    let base = data.as_ptr() as usize - all.as_ptr() as usize;
    let decoded = p::read_pdu_ref(data, max_pdu_len).map_err(|e| pdu_err(py, &e, base))?;
    match decoded {
        Decoded::NeedMore(n) => (0u8, n, py.None()).into_pyobject(py),
        Decoded::Complete(pdu, used) => {
            let (t, v): (u8, Bound<'py, PyAny>) = match pdu {
                PduRef::PData(pd) => {
                    let l = PyList::empty(py);
                    for pdv in pd.pdvs() {
                        let start = pdv.data.as_ptr() as usize - all.as_ptr() as usize;
                        l.append((
                            pdv.pc_id,
                            pdv.is_command,
                            pdv.is_last,
                            start,
                            start + pdv.data.len(),
                        ))?;
                    }
                    (p::P_DATA_TF, l.into_any())
                }
                PduRef::Other(other) => match other {
                    Pdu::AssociateRq(rq) => (p::A_ASSOCIATE_RQ, rq_to_py(py, &rq)?),
                    Pdu::AssociateAc(ac) => (p::A_ASSOCIATE_AC, ac_to_py(py, &ac)?),
                    Pdu::AssociateRj(rj) => (
                        p::A_ASSOCIATE_RJ,
                        (rj.result.to_u8(), rj.source.to_u8(), rj.reason).into_bound_py_any(py)?,
                    ),
                    Pdu::ReleaseRq(_) => (p::A_RELEASE_RQ, py.None().into_bound(py)),
                    Pdu::ReleaseRp(_) => (p::A_RELEASE_RP, py.None().into_bound(py)),
                    Pdu::Abort(a) => (
                        p::A_ABORT,
                        (a.source.to_u8(), a.reason).into_bound_py_any(py)?,
                    ),
                    Pdu::PData(_) => {
                        unreachable!("read_pdu_ref returns P-DATA-TF as PduRef::PData")
                    }
                },
            };
            (t, used, v).into_pyobject(py)
        }
    }
}

/// Check a 6-byte PDU header: `(pdu_type, pdu_length)` or `None` if `buf` is
/// shorter than 6 bytes. Raises `PduError` for an unknown type or a length
/// above `max_pdu_len` (0 = no limit).
#[pyfunction]
#[pyo3(signature = (buf, max_pdu_len=0))]
pub fn pdu_peek(
    py: Python<'_>,
    buf: &Bound<'_, PyAny>,
    max_pdu_len: u32,
) -> PyResult<Option<(u8, u32)>> {
    let held = Held::get(buf)?;
    let h = p::peek_header(held.bytes(), max_pdu_len).map_err(|e| pdu_err(py, &e, 0))?;
    Ok(h.map(|h| (h.pdu_type, h.length)))
}

// ---------------------------------------------------------------------------
// Encoding association PDUs

fn py_user_item(t: u8, v: &Bound<'_, PyAny>) -> PyResult<UserItem> {
    Ok(match t {
        0x51 => UserItem::MaxLength(v.extract()?),
        0x52 => UserItem::ImplementationClassUid(v.extract()?),
        0x53 => {
            let (max_invoked, max_performed): (u16, u16) = v.extract()?;
            UserItem::AsyncOpsWindow {
                max_invoked,
                max_performed,
            }
        }
        0x54 => {
            let (sop_class_uid, scu_role, scp_role): (String, bool, bool) = v.extract()?;
            UserItem::RoleSelection {
                sop_class_uid,
                scu_role,
                scp_role,
            }
        }
        0x55 => UserItem::ImplementationVersionName(v.extract()?),
        0x56 => {
            let (sop_class_uid, info): (String, Vec<u8>) = v.extract()?;
            UserItem::SopClassExtended {
                sop_class_uid,
                service_class_info: info,
            }
        }
        0x57 => {
            let (version, sop_class_uid, service_class_uid, related): (
                u8,
                String,
                String,
                Vec<String>,
            ) = v.extract()?;
            UserItem::SopClassCommonExtended {
                version,
                sop_class_uid,
                service_class_uid,
                related_general_sop_classes: related,
            }
        }
        0x58 => {
            let (identity_type, positive, primary, secondary): (u8, bool, Vec<u8>, Vec<u8>) =
                v.extract()?;
            UserItem::UserIdentityRq {
                identity_type,
                positive_response_requested: positive,
                primary_field: primary,
                secondary_field: secondary,
            }
        }
        0x59 => UserItem::UserIdentityAc {
            server_response: v.extract()?,
        },
        _ => {
            let (reserved, data): (u8, Vec<u8>) = v.extract()?;
            UserItem::Unknown {
                item_type: t,
                reserved,
                data,
            }
        }
    })
}

fn py_user_info(items: Vec<(u8, Bound<'_, PyAny>)>) -> PyResult<UserInformation> {
    let items = items
        .iter()
        .map(|(t, v)| py_user_item(*t, v))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(UserInformation { items })
}

fn encode_pdu(py: Python<'_>, pdu: Pdu) -> PyResult<Bound<'_, PyBytes>> {
    let b = pdu.to_bytes().map_err(|e| pdu_err(py, &e, 0))?;
    Ok(PyBytes::new(py, &b))
}

/// Encode an A-ASSOCIATE-RQ. `presentation_contexts` is a list of
/// `(id, abstract_syntax, [transfer_syntax, ...])`; `user_information` a list
/// of `(sub_item_type, value)` as `pdu_read` returns them.
#[pyfunction]
#[pyo3(signature = (called_ae_title, calling_ae_title, presentation_contexts, user_information,
                    application_context=p::DICOM_APPLICATION_CONTEXT, protocol_version=1))]
pub fn encode_associate_rq<'py>(
    py: Python<'py>,
    called_ae_title: String,
    calling_ae_title: String,
    presentation_contexts: Vec<(u8, String, Vec<String>)>,
    user_information: Vec<(u8, Bound<'py, PyAny>)>,
    application_context: &str,
    protocol_version: u16,
) -> PyResult<Bound<'py, PyBytes>> {
    let rq = AssociateRq {
        protocol_version,
        called_ae_title,
        calling_ae_title,
        application_context: application_context.to_owned(),
        presentation_contexts: presentation_contexts
            .into_iter()
            .map(
                |(id, abstract_syntax, transfer_syntaxes)| PresentationContextRq {
                    id,
                    abstract_syntax,
                    transfer_syntaxes,
                },
            )
            .collect(),
        user_information: py_user_info(user_information)?,
    };
    encode_pdu(py, Pdu::AssociateRq(rq))
}

/// Encode an A-ASSOCIATE-AC. `presentation_contexts` is a list of
/// `(id, result, transfer_syntax or None)`.
#[pyfunction]
#[pyo3(signature = (called_ae_title, calling_ae_title, presentation_contexts, user_information,
                    application_context=p::DICOM_APPLICATION_CONTEXT, protocol_version=1))]
pub fn encode_associate_ac<'py>(
    py: Python<'py>,
    called_ae_title: String,
    calling_ae_title: String,
    presentation_contexts: Vec<(u8, u8, Option<String>)>,
    user_information: Vec<(u8, Bound<'py, PyAny>)>,
    application_context: &str,
    protocol_version: u16,
) -> PyResult<Bound<'py, PyBytes>> {
    let ac = AssociateAc {
        protocol_version,
        called_ae_title,
        calling_ae_title,
        application_context: application_context.to_owned(),
        presentation_contexts: presentation_contexts
            .into_iter()
            .map(|(id, result, transfer_syntax)| PresentationContextAc {
                id,
                result: PresentationContextResult::from_u8(result),
                transfer_syntax,
            })
            .collect(),
        user_information: py_user_info(user_information)?,
    };
    encode_pdu(py, Pdu::AssociateAc(ac))
}

/// Encode an A-ASSOCIATE-RJ (PS3.8 Table 9-21).
#[pyfunction]
pub fn encode_associate_rj(
    py: Python<'_>,
    result: u8,
    source: u8,
    reason: u8,
) -> PyResult<Bound<'_, PyBytes>> {
    encode_pdu(
        py,
        Pdu::AssociateRj(AssociateRj {
            result: RejectResult::from_u8(result),
            source: RejectSource::from_u8(source),
            reason,
        }),
    )
}

#[pyfunction]
pub fn encode_release_rq(py: Python<'_>) -> PyResult<Bound<'_, PyBytes>> {
    encode_pdu(py, Pdu::ReleaseRq(p::ReleaseRq))
}

#[pyfunction]
pub fn encode_release_rp(py: Python<'_>) -> PyResult<Bound<'_, PyBytes>> {
    encode_pdu(py, Pdu::ReleaseRp(p::ReleaseRp))
}

/// Encode an A-ABORT (source 0 = service user, 2 = service provider).
#[pyfunction]
#[pyo3(signature = (source=0, reason=0))]
pub fn encode_abort(py: Python<'_>, source: u8, reason: u8) -> PyResult<Bound<'_, PyBytes>> {
    encode_pdu(
        py,
        Pdu::Abort(p::Abort {
            source: AbortSource::from_u8(source),
            reason,
        }),
    )
}

// ---------------------------------------------------------------------------
// P-DATA-TF

/// Fragment `body` (any buffer) into P-DATA-TF PDUs of one PDV each whose PDU
/// length stays within `max_pdu_len` (the peer's maximum; 0 = unlimited).
///
/// `last=False` leaves the last-fragment bit clear on every PDV, for sending
/// a large body in pieces. Returns one `bytes` with every PDU, or with
/// `as_list=True` a list alternating 12-byte headers and memoryview slices of
/// `body` (no copy of the body), for `writelines`/`sendmsg`.
#[pyfunction]
#[pyo3(signature = (pc_id, is_command, body, max_pdu_len, last=true, as_list=false))]
pub fn encode_pdata<'py>(
    py: Python<'py>,
    pc_id: u8,
    is_command: bool,
    body: &Bound<'py, PyAny>,
    max_pdu_len: u32,
    last: bool,
    as_list: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let held = Held::get(body)?;
    let data = held.bytes();
    let frags =
        p::fragment(pc_id, is_command, data, max_pdu_len).map_err(|e| pdu_err(py, &e, 0))?;
    let fix = |mut h: [u8; p::PDV_PDU_HEADER_LEN]| {
        if !last {
            h[11] &= !p::MCH_LAST;
        }
        h
    };
    if as_list {
        let view = PyMemoryView::from(body)?;
        let out = PyList::empty(py);
        let base = data.as_ptr() as usize;
        for f in frags {
            out.append(PyBytes::new(py, &fix(f.header)))?;
            if !f.data.is_empty() {
                let start = (f.data.as_ptr() as usize - base) as isize;
                let slice = PySlice::new(py, start, start + f.data.len() as isize, 1);
                out.append(view.get_item(slice)?)?;
            }
        }
        return Ok(out.into_any());
    }
    let n = frags.size_hint().0;
    let total = data.len() + n * p::PDV_PDU_HEADER_LEN;
    let bytes = PyBytes::new_with(py, total, |dst: &mut [u8]| {
        let mut pos = 0;
        for f in frags {
            dst[pos..pos + p::PDV_PDU_HEADER_LEN].copy_from_slice(&fix(f.header));
            pos += p::PDV_PDU_HEADER_LEN;
            dst[pos..pos + f.data.len()].copy_from_slice(f.data);
            pos += f.data.len();
        }
        Ok(())
    })?;
    Ok(bytes.into_any())
}

/// Encode one P-DATA-TF carrying the given PDVs
/// (`[(pc_id, is_command, is_last, data), ...]`).
#[pyfunction]
pub fn encode_pdvs<'py>(
    py: Python<'py>,
    pdvs: Vec<(u8, bool, bool, Vec<u8>)>,
) -> PyResult<Bound<'py, PyBytes>> {
    let pd = p::PDataTf {
        pdvs: pdvs
            .into_iter()
            .map(|(pc_id, is_command, is_last, data)| p::Pdv {
                pc_id,
                is_command,
                is_last,
                data,
            })
            .collect(),
    };
    encode_pdu(py, Pdu::PData(pd))
}

/// Reassembles PDVs into command sets and data sets, checking their order
/// (PS3.8 Annex E, PS3.7 §9.3.1).
#[pyclass(module = "dicomfast._core")]
pub struct Reassembler {
    inner: p::Reassembler,
}

#[pymethods]
impl Reassembler {
    #[new]
    #[pyo3(signature = (max_message_len=usize::MAX))]
    fn new(max_message_len: usize) -> Self {
        Reassembler {
            inner: p::Reassembler::new(max_message_len),
        }
    }

    /// Feed one PDV; returns `(pc_id, is_command, bytes)` when it completes a
    /// command set or data set, else `None`.
    fn push<'py>(
        &mut self,
        py: Python<'py>,
        pc_id: u8,
        is_command: bool,
        is_last: bool,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Option<(u8, bool, Bound<'py, PyBytes>)>> {
        let held = Held::get(data)?;
        let pdv = p::PdvRef {
            pc_id,
            is_command,
            is_last,
            data: held.bytes(),
        };
        let r = self.inner.push(pdv).map_err(|e| pdu_err(py, &e, 0))?;
        Ok(r.map(|m| {
            (
                m.pc_id,
                m.part == p::MessagePart::Command,
                PyBytes::new(py, &m.bytes),
            )
        }))
    }

    #[getter]
    fn is_idle(&self) -> bool {
        self.inner.is_idle()
    }

    fn reset(&mut self) {
        self.inner.reset()
    }
}

// ---------------------------------------------------------------------------
// DIMSE command sets

fn to_command_value(tag: u32, v: &Bound<'_, PyAny>) -> PyResult<CommandValue> {
    if let Ok(b) = v.cast::<PyBytes>() {
        return Ok(CommandValue::Bytes(b.as_bytes().to_vec()));
    }
    let vr = p::dimse::vr_of(tag);
    Ok(match vr {
        Some("US") => CommandValue::Us(v.extract()?),
        Some("UL") => CommandValue::Ul(v.extract()?),
        Some("UI") => CommandValue::Uid(v.extract()?),
        Some("AE" | "LO" | "SH" | "CS" | "LT" | "IS") => CommandValue::Str(v.extract()?),
        Some("AT") => match v.extract::<u32>() {
            Ok(t) => CommandValue::At(vec![t]),
            Err(_) => CommandValue::At(v.extract()?),
        },
        _ => {
            return Err(PyTypeError::new_err(format!(
                "command element {tag:08X}: give its value as bytes"
            )))
        }
    })
}

/// Encode a command set (Implicit VR Little Endian, group length computed)
/// from a dict or a list of `(tag, value)`: int for US/UL, str for UI and
/// text VRs, list of int for AT, bytes for anything else.
#[pyfunction]
pub fn dimse_encode<'py>(
    py: Python<'py>,
    elements: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let pairs: Vec<(u32, Bound<'py, PyAny>)> = if let Ok(d) = elements.cast::<PyDict>() {
        d.iter()
            .map(|(k, v)| Ok((k.extract::<u32>()?, v)))
            .collect::<PyResult<_>>()?
    } else {
        elements.extract()?
    };
    let mut cs = CommandSet::new();
    for (tag, v) in pairs {
        cs.elements.push((tag, to_command_value(tag, &v)?));
    }
    let b = cs.encode().map_err(|e| pdu_err(py, &e, 0))?;
    Ok(PyBytes::new(py, &b))
}

/// Decode a command set into a dict `{tag: value}` (without the group length).
#[pyfunction]
pub fn dimse_decode<'py>(py: Python<'py>, buf: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
    let held = Held::get(buf)?;
    let cs = CommandSet::decode(held.bytes()).map_err(|e| pdu_err(py, &e, 0))?;
    let d = PyDict::new(py);
    for (tag, v) in &cs.elements {
        match v {
            CommandValue::Us(x) => d.set_item(tag, x)?,
            CommandValue::Ul(x) => d.set_item(tag, x)?,
            CommandValue::Uid(s) | CommandValue::Str(s) => d.set_item(tag, s)?,
            CommandValue::At(t) => d.set_item(tag, t)?,
            CommandValue::Bytes(b) => d.set_item(tag, PyBytes::new(py, b))?,
        }
    }
    Ok(d)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Reassembler>()?;
    m.add_function(wrap_pyfunction!(pdu_read, m)?)?;
    m.add_function(wrap_pyfunction!(pdu_peek, m)?)?;
    m.add_function(wrap_pyfunction!(encode_associate_rq, m)?)?;
    m.add_function(wrap_pyfunction!(encode_associate_ac, m)?)?;
    m.add_function(wrap_pyfunction!(encode_associate_rj, m)?)?;
    m.add_function(wrap_pyfunction!(encode_release_rq, m)?)?;
    m.add_function(wrap_pyfunction!(encode_release_rp, m)?)?;
    m.add_function(wrap_pyfunction!(encode_abort, m)?)?;
    m.add_function(wrap_pyfunction!(encode_pdata, m)?)?;
    m.add_function(wrap_pyfunction!(encode_pdvs, m)?)?;
    m.add_function(wrap_pyfunction!(dimse_encode, m)?)?;
    m.add_function(wrap_pyfunction!(dimse_decode, m)?)?;
    Ok(())
}
