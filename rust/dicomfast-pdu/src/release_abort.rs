//! A-RELEASE-RQ (PS3.8 §9.3.6, Table 9-24), A-RELEASE-RP (§9.3.7,
//! Table 9-25) and A-ABORT (§9.3.8, Table 9-26). All three have a fixed
//! 4-byte variable field.

use crate::codec::Cursor;
use crate::error::{PduError, Result};

fn check_four(at: usize, what: &'static str, c: &Cursor<'_>) -> Result<()> {
    if c.remaining() != 4 {
        return Err(PduError::BadFixedLength {
            offset: at,
            what,
            expected: 4,
            found: c.remaining(),
        });
    }
    Ok(())
}

/// A-RELEASE-RQ PDU: four reserved bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReleaseRq;

/// A-RELEASE-RP PDU: four reserved bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReleaseRp;

impl ReleaseRq {
    pub(crate) fn decode_body(at: usize, c: Cursor<'_>) -> Result<Self> {
        check_four(at, "A-RELEASE-RQ", &c).map(|_| ReleaseRq)
    }
}

impl ReleaseRp {
    pub(crate) fn decode_body(at: usize, c: Cursor<'_>) -> Result<Self> {
        check_four(at, "A-RELEASE-RP", &c).map(|_| ReleaseRp)
    }
}

/// A-ABORT Source field (Table 9-26).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AbortSource {
    /// 0: DICOM UL service-user (initiated abort).
    ServiceUser,
    /// 2: DICOM UL service-provider (initiated abort).
    ServiceProvider,
    /// 1 (reserved) or anything else.
    Other(u8),
}

impl AbortSource {
    pub fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::ServiceUser,
            2 => Self::ServiceProvider,
            x => Self::Other(x),
        }
    }
    pub fn to_u8(self) -> u8 {
        match self {
            Self::ServiceUser => 0,
            Self::ServiceProvider => 2,
            Self::Other(x) => x,
        }
    }
}

/// A-ABORT reason/diagnostic values (Table 9-26), meaningful when the
/// source is the service-provider.
pub mod abort_reason {
    pub const NOT_SPECIFIED: u8 = 0;
    pub const UNRECOGNIZED_PDU: u8 = 1;
    pub const UNEXPECTED_PDU: u8 = 2;
    pub const UNRECOGNIZED_PDU_PARAMETER: u8 = 4;
    pub const UNEXPECTED_PDU_PARAMETER: u8 = 5;
    pub const INVALID_PDU_PARAMETER_VALUE: u8 = 6;
}

/// A-ABORT PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abort {
    pub source: AbortSource,
    /// See [`abort_reason`]; not significant when the source is the user.
    pub reason: u8,
}

impl Abort {
    pub(crate) fn decode_body(at: usize, mut c: Cursor<'_>) -> Result<Self> {
        check_four(at, "A-ABORT", &c)?;
        c.skip(2, "reserved")?;
        Ok(Abort {
            source: AbortSource::from_u8(c.u8("abort source")?),
            reason: c.u8("abort reason")?,
        })
    }

    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) -> Result<()> {
        out.extend_from_slice(&[0, 0, self.source.to_u8(), self.reason]);
        Ok(())
    }
}
