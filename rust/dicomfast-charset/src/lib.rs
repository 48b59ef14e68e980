//! Text decoding and encoding for DICOM's Specific Character Set
//! (0008,0005): PS3.3 C.12.1.1.2 (Defined Terms) and PS3.5 6.1 (character
//! repertoires, ISO 2022 code extensions), in pure Rust on top of
//! `encoding_rs`.
//!
//! ```
//! use dicomfast_charset::{CharacterSet, TextKind};
//!
//! let cs = CharacterSet::from_terms(&["", "ISO 2022 IR 149"]).unwrap();
//! let raw = b"Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7";
//! assert_eq!(cs.decode(raw, TextKind::PersonName), "Hong^Gildong=洪^吉洞");
//! assert_eq!(cs.encode("Hong^Gildong=洪^吉洞", TextKind::PersonName), raw);
//! ```

mod charset;
mod decode;
mod encode;
mod error;
mod hangul;
mod iso2022;
mod kind;
mod sbcs;
mod terms;

pub use charset::CharacterSet;
pub use error::CharsetError;
pub use kind::TextKind;
pub use terms::Term;
