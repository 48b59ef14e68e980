//! The one error type of the parser and writer: what went wrong, where
//! (byte offset in the buffer that was parsed) and, where known, which tag.

use std::fmt;

/// What went wrong.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The buffer ended inside an element header or value.
    Truncated { needed: u64, available: u64 },
    /// A value or item runs past the end of its enclosing item or sequence.
    Overrun { length: u64, limit: u64 },
    /// Something other than an item tag where an item was required.
    ExpectedItem { found: u32 },
    /// An undefined-length sequence, item or pixel data ended without its delimiter.
    MissingDelimiter,
    /// Nesting deeper than the configured maximum.
    TooDeep { depth: usize },
    /// Not a DICOM file or data set at all.
    NotDicom(&'static str),
    /// The deflated data set could not be inflated, or inflated beyond the limit.
    Deflate(String),
    /// Encapsulated pixel data that cannot be split into the declared frames.
    Frames(String),
    /// A value cannot be written in the requested encoding.
    Unwritable(String),
}

/// An error with its position: byte offset and, where known, the element's tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub kind: ErrorKind,
    pub offset: u64,
    pub tag: Option<u32>,
}

impl ParseError {
    pub fn new(kind: ErrorKind, offset: u64, tag: Option<u32>) -> Self {
        ParseError { kind, offset, tag }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Truncated { needed, available } => {
                write!(
                    f,
                    "data ends early: {needed} bytes needed, {available} available"
                )
            }
            ErrorKind::Overrun { length, limit } => {
                write!(
                    f,
                    "length {length} runs past the end of its container ({limit} bytes left)"
                )
            }
            ErrorKind::ExpectedItem { found } => write!(
                f,
                "expected an item tag (FFFE,E000), found ({:04X},{:04X})",
                found >> 16,
                found & 0xFFFF
            ),
            ErrorKind::MissingDelimiter => write!(f, "undefined length without a delimiter"),
            ErrorKind::TooDeep { depth } => write!(f, "nesting deeper than {depth} levels"),
            ErrorKind::NotDicom(why) => write!(f, "not DICOM: {why}"),
            ErrorKind::Deflate(why) => write!(f, "deflated data set: {why}"),
            ErrorKind::Frames(why) => write!(f, "encapsulated frames: {why}"),
            ErrorKind::Unwritable(why) => write!(f, "cannot write: {why}"),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(tag) = self.tag {
            write!(f, " in element ({:04X},{:04X})", tag >> 16, tag & 0xFFFF)?;
        }
        write!(f, " at byte offset {}", self.offset)
    }
}

impl std::error::Error for ParseError {}
