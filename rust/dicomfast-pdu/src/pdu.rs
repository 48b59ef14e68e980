//! The PDU enum and the PDU-type codes of PS3.8 §9.3.1 (Table 9-1 lists the
//! seven PDU types; every PDU starts with type, reserved byte and a 4-byte
//! big-endian PDU length counting the bytes after those six).

use crate::associate::{AssociateAc, AssociateRj, AssociateRq};
use crate::pdata::{PDataTf, PDataTfRef};
use crate::release_abort::{Abort, ReleaseRp, ReleaseRq};

pub const A_ASSOCIATE_RQ: u8 = 0x01;
pub const A_ASSOCIATE_AC: u8 = 0x02;
pub const A_ASSOCIATE_RJ: u8 = 0x03;
pub const P_DATA_TF: u8 = 0x04;
pub const A_RELEASE_RQ: u8 = 0x05;
pub const A_RELEASE_RP: u8 = 0x06;
pub const A_ABORT: u8 = 0x07;

/// Length of the common PDU header (type, reserved, PDU length).
pub const PDU_HEADER_LEN: usize = 6;

/// Any upper-layer PDU, owning its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pdu {
    AssociateRq(AssociateRq),
    AssociateAc(AssociateAc),
    AssociateRj(AssociateRj),
    PData(PDataTf),
    ReleaseRq(ReleaseRq),
    ReleaseRp(ReleaseRp),
    Abort(Abort),
}

impl Pdu {
    /// The PDU-type byte.
    pub fn pdu_type(&self) -> u8 {
        match self {
            Pdu::AssociateRq(_) => A_ASSOCIATE_RQ,
            Pdu::AssociateAc(_) => A_ASSOCIATE_AC,
            Pdu::AssociateRj(_) => A_ASSOCIATE_RJ,
            Pdu::PData(_) => P_DATA_TF,
            Pdu::ReleaseRq(_) => A_RELEASE_RQ,
            Pdu::ReleaseRp(_) => A_RELEASE_RP,
            Pdu::Abort(_) => A_ABORT,
        }
    }
}

macro_rules! from_variant {
    ($($t:ty => $v:ident),*) => {$(
        impl From<$t> for Pdu {
            fn from(p: $t) -> Self {
                Pdu::$v(p)
            }
        }
    )*};
}

from_variant!(
    AssociateRq => AssociateRq,
    AssociateAc => AssociateAc,
    AssociateRj => AssociateRj,
    PDataTf => PData,
    ReleaseRq => ReleaseRq,
    ReleaseRp => ReleaseRp,
    Abort => Abort
);

/// A PDU whose P-DATA-TF values borrow from the input (the other PDUs are
/// small and decoded to owned values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PduRef<'a> {
    PData(PDataTfRef<'a>),
    Other(Pdu),
}

impl PduRef<'_> {
    pub fn to_owned(&self) -> Pdu {
        match self {
            PduRef::PData(p) => Pdu::PData(p.to_owned()),
            PduRef::Other(p) => p.clone(),
        }
    }
}

/// The 6-byte header common to all PDUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PduHeader {
    pub pdu_type: u8,
    /// Value of the PDU-length field: bytes following the header.
    pub length: u32,
}

impl PduHeader {
    /// Total bytes of the PDU including the header.
    pub fn total_len(&self) -> usize {
        PDU_HEADER_LEN + self.length as usize
    }
}
