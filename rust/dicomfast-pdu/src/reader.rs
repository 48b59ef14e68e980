//! Sans-IO PDU reader: give it whatever bytes have arrived; it returns a
//! PDU and the number of bytes it used, or how many bytes it needs, or an
//! error with the offset of the bad field. Layouts per PS3.8 §9.3.

use crate::associate::{AssociateAc, AssociateRj, AssociateRq};
use crate::codec::Cursor;
use crate::error::{PduError, Result};
use crate::pdata::PDataTfRef;
use crate::pdu::*;
use crate::release_abort::{Abort, ReleaseRp, ReleaseRq};

/// Outcome of a read attempt that did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded<T> {
    /// A complete PDU and the number of bytes of the buffer it occupied.
    Complete(T, usize),
    /// The buffer holds an incomplete PDU: at least this many bytes in total
    /// (counted from the start of the buffer) are needed.
    NeedMore(usize),
}

impl<T> Decoded<T> {
    /// `Some((pdu, consumed))` when complete.
    pub fn complete(self) -> Option<(T, usize)> {
        match self {
            Decoded::Complete(t, n) => Some((t, n)),
            Decoded::NeedMore(_) => None,
        }
    }
}

/// Parse and check the 6-byte PDU header. Returns `Ok(None)` with fewer than
/// 6 bytes. Rejects unknown PDU types and lengths above `max_pdu_len`
/// (0 = no limit) before any body byte is needed, so a caller can refuse to
/// buffer an oversized PDU.
pub fn peek_header(buf: &[u8], max_pdu_len: u32) -> Result<Option<PduHeader>> {
    let Some(h) = buf.first_chunk::<PDU_HEADER_LEN>() else {
        // Check the type byte early when we have it.
        if let Some(&t) = buf.first() {
            check_type(t)?;
        }
        return Ok(None);
    };
    check_type(h[0])?;
    let length = u32::from_be_bytes([h[2], h[3], h[4], h[5]]);
    if max_pdu_len != 0 && length > max_pdu_len {
        return Err(PduError::PduTooLong {
            offset: 2,
            declared: length,
            max: max_pdu_len,
        });
    }
    Ok(Some(PduHeader {
        pdu_type: h[0],
        length,
    }))
}

fn check_type(t: u8) -> Result<()> {
    if (A_ASSOCIATE_RQ..=A_ABORT).contains(&t) {
        Ok(())
    } else {
        Err(PduError::UnknownPduType {
            offset: 0,
            pdu_type: t,
        })
    }
}

/// Read one PDU from the start of `buf`, borrowing P-DATA-TF values from it.
///
/// `max_pdu_len` bounds the PDU-length field (0 = no limit); it is checked
/// from the header alone. Error offsets are relative to the start of `buf`.
pub fn read_pdu_ref(buf: &[u8], max_pdu_len: u32) -> Result<Decoded<PduRef<'_>>> {
    let Some(h) = peek_header(buf, max_pdu_len)? else {
        return Ok(Decoded::NeedMore(PDU_HEADER_LEN));
    };
    let total = PDU_HEADER_LEN
        .checked_add(h.length as usize)
        .ok_or(PduError::PduTooLong {
            offset: 2,
            declared: h.length,
            max: max_pdu_len,
        })?;
    if buf.len() < total {
        return Ok(Decoded::NeedMore(total));
    }
    let body = Cursor::new(&buf[PDU_HEADER_LEN..total], PDU_HEADER_LEN);
    let pdu = match h.pdu_type {
        A_ASSOCIATE_RQ => PduRef::Other(Pdu::AssociateRq(AssociateRq::decode_body(0, body)?)),
        A_ASSOCIATE_AC => PduRef::Other(Pdu::AssociateAc(AssociateAc::decode_body(0, body)?)),
        A_ASSOCIATE_RJ => PduRef::Other(Pdu::AssociateRj(AssociateRj::decode_body(0, body)?)),
        P_DATA_TF => PduRef::PData(PDataTfRef::decode_body(0, body)?),
        A_RELEASE_RQ => PduRef::Other(Pdu::ReleaseRq(ReleaseRq::decode_body(0, body)?)),
        A_RELEASE_RP => PduRef::Other(Pdu::ReleaseRp(ReleaseRp::decode_body(0, body)?)),
        A_ABORT => PduRef::Other(Pdu::Abort(Abort::decode_body(0, body)?)),
        t => {
            return Err(PduError::UnknownPduType {
                offset: 0,
                pdu_type: t,
            })
        }
    };
    Ok(Decoded::Complete(pdu, total))
}

/// Read one PDU from the start of `buf` into an owned [`Pdu`].
/// See [`read_pdu_ref`] for the meaning of `max_pdu_len` and the result.
pub fn read_pdu(buf: &[u8], max_pdu_len: u32) -> Result<Decoded<Pdu>> {
    Ok(match read_pdu_ref(buf, max_pdu_len)? {
        Decoded::Complete(p, n) => Decoded::Complete(
            match p {
                PduRef::PData(d) => Pdu::PData(d.to_owned()),
                PduRef::Other(p) => p,
            },
            n,
        ),
        Decoded::NeedMore(n) => Decoded::NeedMore(n),
    })
}
