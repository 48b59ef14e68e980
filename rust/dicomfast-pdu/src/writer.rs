//! PDU encoding (PS3.8 §9.3): header (type, reserved, 4-byte big-endian
//! length) followed by the PDU-specific variable field.

use crate::codec::len_u32;
use crate::error::Result;
use crate::pdu::Pdu;

impl Pdu {
    /// Append the encoded PDU to `out`. On error, `out` is restored to its
    /// previous length.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        let r = self.encode_inner(out);
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    fn encode_inner(&self, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        out.extend_from_slice(&[self.pdu_type(), 0, 0, 0, 0, 0]);
        match self {
            Pdu::AssociateRq(p) => p.encode_body(out)?,
            Pdu::AssociateAc(p) => p.encode_body(out)?,
            Pdu::AssociateRj(p) => p.encode_body(out)?,
            Pdu::PData(p) => p.encode_body(out)?,
            Pdu::ReleaseRq(_) | Pdu::ReleaseRp(_) => out.extend_from_slice(&[0; 4]),
            Pdu::Abort(p) => p.encode_body(out)?,
        }
        let len = len_u32("PDU", out.len() - start - 6)?;
        out[start + 2..start + 6].copy_from_slice(&len.to_be_bytes());
        Ok(())
    }

    /// Encode into a new buffer.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut v = Vec::new();
        self.encode(&mut v)?;
        Ok(v)
    }
}

/// Append `pdu` to `out` (same as [`Pdu::encode`]).
pub fn write_pdu(out: &mut Vec<u8>, pdu: &Pdu) -> Result<()> {
    pdu.encode(out)
}
