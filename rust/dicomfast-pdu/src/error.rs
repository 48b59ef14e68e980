//! The single error type of the crate.
//!
//! Decoding errors carry the absolute byte offset (into the buffer handed to
//! the reader) of the field that was wrong. Encoding and reassembly errors
//! carry the offending value instead.

use std::fmt;

/// Everything that can go wrong while decoding, encoding, fragmenting or
/// reassembling upper-layer PDUs and DIMSE command sets.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PduError {
    /// The PDU-type byte (first byte of every PDU, PS3.8 §9.3.1) is not one
    /// of 0x01..=0x07.
    UnknownPduType { offset: usize, pdu_type: u8 },
    /// The declared PDU length exceeds the maximum the reader accepts.
    /// Detected from the 6-byte header alone, before buffering the body.
    PduTooLong {
        offset: usize,
        declared: u32,
        max: u32,
    },
    /// A length field (of an item, sub-item, PDV or field) claims more bytes
    /// than its enclosing structure holds.
    Overrun {
        offset: usize,
        what: &'static str,
        needed: usize,
        available: usize,
    },
    /// A fixed-size structure has the wrong length (e.g. an A-RELEASE-RQ
    /// whose PDU length is not 4).
    BadFixedLength {
        offset: usize,
        what: &'static str,
        expected: usize,
        found: usize,
    },
    /// A length is below the minimum the layout requires.
    TooShort {
        offset: usize,
        what: &'static str,
        min: usize,
        found: usize,
    },
    /// An item of this type is not allowed where it was found.
    UnexpectedItem {
        offset: usize,
        item_type: u8,
        context: &'static str,
    },
    /// A mandatory item is missing.
    MissingItem { offset: usize, what: &'static str },
    /// An item that may occur once occurs more than once.
    DuplicateItem { offset: usize, item_type: u8 },
    /// Two presentation context items of one A-ASSOCIATE PDU share an ID.
    DuplicateContextId { offset: usize, id: u8 },
    /// An AE title is not 1-16 characters of the default repertoire without
    /// backslash or control characters (PS3.5 §6.2, VR AE).
    InvalidAeTitle { offset: usize, reason: &'static str },
    /// A text field (UID, implementation version name, ...) holds bytes
    /// outside printable ASCII.
    InvalidText { offset: usize, what: &'static str },
    /// A field holds a value the layout forbids.
    InvalidValue {
        offset: usize,
        what: &'static str,
        value: u32,
    },
    /// Encoding: a value does not fit its length field.
    FieldTooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
    /// Encoding: a value is not valid for its field.
    InvalidField {
        what: &'static str,
        reason: &'static str,
    },
    /// Fragmentation: the peer's maximum PDU length is too small to carry
    /// any PDV data.
    MaxLengthTooSmall { max_pdu_len: u32 },
    /// Reassembly: a data-set fragment arrived while no command set that
    /// announces a data set preceded it.
    DataBeforeCommand { pc_id: u8 },
    /// Reassembly: a fragment for another presentation context arrived in the
    /// middle of a message.
    ContextChanged { expected: u8, found: u8 },
    /// Reassembly: a command fragment arrived while a data set was still
    /// being received.
    CommandDuringData { pc_id: u8 },
    /// Reassembly: a command was announced with a data set but a new command
    /// started first.
    MissingDataSet { pc_id: u8 },
    /// Reassembly: the message exceeds the configured size limit.
    MessageTooLarge { pc_id: u8, limit: usize },
    /// DIMSE: an element outside group 0000 in a command set.
    NotCommandGroup { offset: usize, tag: u32 },
    /// DIMSE: elements are not in strictly ascending tag order.
    UnorderedElement { offset: usize, tag: u32 },
    /// DIMSE: Command Group Length (0000,0000) disagrees with the data.
    GroupLengthMismatch {
        offset: usize,
        declared: u32,
        actual: u32,
    },
    /// DIMSE: the value given for a known tag has the wrong VR.
    VrMismatch { tag: u32, expected: &'static str },
}

impl PduError {
    /// Byte offset in the decoded input, for decoding errors.
    pub fn offset(&self) -> Option<usize> {
        use PduError::*;
        match *self {
            UnknownPduType { offset, .. }
            | PduTooLong { offset, .. }
            | Overrun { offset, .. }
            | BadFixedLength { offset, .. }
            | TooShort { offset, .. }
            | UnexpectedItem { offset, .. }
            | MissingItem { offset, .. }
            | DuplicateItem { offset, .. }
            | DuplicateContextId { offset, .. }
            | InvalidAeTitle { offset, .. }
            | InvalidText { offset, .. }
            | InvalidValue { offset, .. }
            | NotCommandGroup { offset, .. }
            | UnorderedElement { offset, .. }
            | GroupLengthMismatch { offset, .. } => Some(offset),
            _ => None,
        }
    }
}

impl fmt::Display for PduError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use PduError::*;
        match self {
            UnknownPduType { offset, pdu_type } => {
                write!(f, "unknown PDU type 0x{pdu_type:02X} at offset {offset}")
            }
            PduTooLong { offset, declared, max } => write!(
                f,
                "PDU at offset {offset} declares length {declared}, above the accepted maximum {max}"
            ),
            Overrun { offset, what, needed, available } => write!(
                f,
                "{what} at offset {offset} needs {needed} bytes but its parent has only {available}"
            ),
            BadFixedLength { offset, what, expected, found } => write!(
                f,
                "{what} at offset {offset} has length {found}, expected {expected}"
            ),
            TooShort { offset, what, min, found } => write!(
                f,
                "{what} at offset {offset} has length {found}, minimum is {min}"
            ),
            UnexpectedItem { offset, item_type, context } => write!(
                f,
                "unexpected item type 0x{item_type:02X} in {context} at offset {offset}"
            ),
            MissingItem { offset, what } => write!(f, "missing {what} (structure at offset {offset})"),
            DuplicateItem { offset, item_type } => {
                write!(f, "duplicate item type 0x{item_type:02X} at offset {offset}")
            }
            DuplicateContextId { offset, id } => write!(
                f,
                "presentation context ID {id} at offset {offset} is used by an earlier context"
            ),
            InvalidAeTitle { offset, reason } => {
                write!(f, "invalid AE title at offset {offset}: {reason}")
            }
            InvalidText { offset, what } => {
                write!(f, "{what} at offset {offset} is not printable ASCII")
            }
            InvalidValue { offset, what, value } => {
                write!(f, "invalid {what} {value:#X} at offset {offset}")
            }
            FieldTooLong { what, len, max } => {
                write!(f, "{what} is {len} bytes long, its length field allows {max}")
            }
            InvalidField { what, reason } => write!(f, "invalid {what}: {reason}"),
            MaxLengthTooSmall { max_pdu_len } => write!(
                f,
                "maximum PDU length {max_pdu_len} cannot carry a PDV with data (minimum 7)"
            ),
            DataBeforeCommand { pc_id } => write!(
                f,
                "data set fragment on presentation context {pc_id} without a preceding command set announcing one"
            ),
            ContextChanged { expected, found } => write!(
                f,
                "fragment for presentation context {found} in the middle of a message on context {expected}"
            ),
            CommandDuringData { pc_id } => write!(
                f,
                "command fragment on presentation context {pc_id} while a data set is incomplete"
            ),
            MissingDataSet { pc_id } => write!(
                f,
                "new command set started, but the previous command on context {pc_id} announced a data set"
            ),
            MessageTooLarge { pc_id, limit } => write!(
                f,
                "message on presentation context {pc_id} exceeds the limit of {limit} bytes"
            ),
            NotCommandGroup { offset, tag } => {
                write!(f, "element {tag:08X} at offset {offset} is not in group 0000")
            }
            UnorderedElement { offset, tag } => write!(
                f,
                "element {tag:08X} at offset {offset} is not in ascending tag order"
            ),
            GroupLengthMismatch { offset, declared, actual } => write!(
                f,
                "command group length at offset {offset} is {declared}, but the group holds {actual} bytes"
            ),
            VrMismatch { tag, expected } => {
                write!(f, "value for element {tag:08X} must have VR {expected}")
            }
        }
    }
}

impl std::error::Error for PduError {}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, PduError>;
