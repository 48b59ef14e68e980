//! DICOM upper-layer protocol framing (PS3.8 §9.3 PDUs, Annex E P-DATA
//! fragmentation) and DIMSE command-set encoding (PS3.7 §6.3, Annex E).
//! Sans-IO: bytes in, values out; no sockets, no async, no panics on input.
//!
//! ```
//! use dicomfast_pdu::*;
//! // Send: a C-ECHO-RQ command set, fragmented for a peer accepting 16 KiB PDUs.
//! let cmd = CommandSet::new()
//!     .with(tags::AFFECTED_SOP_CLASS_UID, CommandValue::Uid("1.2.840.10008.1.1".into()))
//!     .with(tags::COMMAND_FIELD, CommandValue::Us(command_field::C_ECHO_RQ))
//!     .with(tags::MESSAGE_ID, CommandValue::Us(1))
//!     .with(tags::COMMAND_DATA_SET_TYPE, CommandValue::Us(dimse::NO_DATA_SET))
//!     .encode()?;
//! let mut wire = Vec::new();
//! fragment_into(1, true, &cmd, 16384, &mut wire)?;
//! Pdu::from(ReleaseRq).encode(&mut wire)?;
//!
//! // Receive: read PDUs from whatever bytes arrived, reassemble messages.
//! let mut asm = Reassembler::new(64 << 20);
//! let mut pos = 0;
//! while let Decoded::Complete(pdu, used) = read_pdu_ref(&wire[pos..], 16384)? {
//!     if let PduRef::PData(p) = &pdu {
//!         for m in asm.push_pdata(p)? {
//!             assert_eq!(CommandSet::decode(&m.bytes)?.command_field(), Some(0x0030));
//!         }
//!     }
//!     pos += used;
//! }
//! assert_eq!(pos, wire.len());
//! # Ok::<(), PduError>(())
//! ```

mod associate;
mod codec;
#[rustfmt::skip]
pub mod command_dict;
pub mod dimse;
mod error;
mod pdata;
mod pdu;
mod reader;
mod release_abort;
mod user_info;
mod writer;

pub use associate::{
    AssociateAc, AssociateRj, AssociateRq, PresentationContextAc, PresentationContextResult,
    PresentationContextRq, RejectResult, RejectSource, ABSTRACT_SYNTAX_ITEM,
    APPLICATION_CONTEXT_ITEM, DICOM_APPLICATION_CONTEXT, PRESENTATION_CONTEXT_AC_ITEM,
    PRESENTATION_CONTEXT_RQ_ITEM, TRANSFER_SYNTAX_ITEM,
};
pub use command_dict::{command_field, tags};
pub use dimse::{CommandSet, CommandValue};
pub use error::{PduError, Result};
pub use pdata::{
    encode_pdv, fragment, fragment_into, fragment_pdus, Fragment, Fragments, MessagePart, PDataTf,
    PDataTfRef, Pdv, PdvIter, PdvRef, Reassembled, Reassembler, MCH_COMMAND, MCH_LAST,
    PDV_PDU_HEADER_LEN,
};
pub use pdu::{
    Pdu, PduHeader, PduRef, A_ABORT, A_ASSOCIATE_AC, A_ASSOCIATE_RJ, A_ASSOCIATE_RQ, A_RELEASE_RP,
    A_RELEASE_RQ, PDU_HEADER_LEN, P_DATA_TF,
};
pub use reader::{peek_header, read_pdu, read_pdu_ref, Decoded};
pub use release_abort::{abort_reason, Abort, AbortSource, ReleaseRp, ReleaseRq};
pub use user_info::{UserInformation, UserItem, USER_INFORMATION_ITEM};
pub use writer::write_pdu;
