//! dicomfast-core: reads DICOM data sets into an index of elements over the
//! caller's buffer, and writes them back in any uncompressed transfer syntax.
//!
//! Data flows one way: bytes → [`file::read_file`] / [`parse::parse_dataset`]
//! → [`index::Index`] (offsets only, nothing copied) → values decoded on
//! demand by [`value`] → [`write`].

pub mod bytes;
pub mod dictionary;
pub mod error;
pub mod file;
pub mod frames;
pub mod index;
pub mod json;
pub mod parse;
pub mod syntax;
pub mod tag;
pub mod value;
pub mod vr;
pub mod write;

pub use error::{ErrorKind, ParseError};
pub use file::{read_file, DicomFile, ReadOptions};
pub use index::{Index, Node};
pub use syntax::{Encoding, TransferSyntax};
