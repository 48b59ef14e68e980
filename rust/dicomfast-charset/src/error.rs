//! Errors and warnings of this crate.

use std::fmt;

use crate::Term;

/// Something wrong with a Specific Character Set or with text to encode.
///
/// The strict constructors return the first one as an error; the lenient
/// ones return them all as warnings next to a usable [`crate::CharacterSet`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CharsetError {
    /// A value of Specific Character Set that is no Defined Term (PS3.3
    /// C.12.1.1.2).  Lenient construction skips it; if it was value 1, the
    /// repertoire falls back to Latin-1 (`ISO_IR 100`).
    UnknownTerm {
        /// The value as found, padding removed.
        term: String,
    },
    /// Not a Defined Term as spelt, but understood (lenient construction
    /// only): wrong case, `_`/`-`/space variants, `UTF-8`, or an `ISO_IR nnn`
    /// term used where code extensions require `ISO 2022 IR nnn`.
    NonStandardTerm {
        /// The value as found, padding removed.
        term: String,
        /// How it was read.
        read_as: Term,
    },
    /// `ISO_IR 192`, `GB18030` or `GBK` with other values: these admit no
    /// code extensions (PS3.3 C.12.1.1.2).
    NoCodeExtensions {
        /// The offending term.
        term: Term,
    },
    /// A multi-byte ISO 2022 set as value 1; PS3.3 Table C.12-4 allows them
    /// only from value 2 on.
    MultiByteFirst {
        /// The offending term.
        term: Term,
    },
    /// A character that no set of the Specific Character Set can encode.
    Unrepresentable {
        /// The character.
        ch: char,
        /// Its byte offset in the input string.
        offset: usize,
    },
}

impl fmt::Display for CharsetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CharsetError::UnknownTerm { term } => {
                write!(f, "unknown Specific Character Set term {term:?}")
            }
            CharsetError::NonStandardTerm { term, read_as } => write!(
                f,
                "non-standard Specific Character Set term {term:?} read as {read_as:?}",
                read_as = read_as.name()
            ),
            CharsetError::NoCodeExtensions { term } => write!(
                f,
                "{} admits no code extensions but Specific Character Set has several values",
                term.name()
            ),
            CharsetError::MultiByteFirst { term } => write!(
                f,
                "{} may not be value 1 of Specific Character Set",
                term.name()
            ),
            CharsetError::Unrepresentable { ch, offset } => write!(
                f,
                "character {ch:?} (U+{:04X}) at byte {offset} cannot be encoded in this character set",
                u32::from(*ch)
            ),
        }
    }
}

impl std::error::Error for CharsetError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let e = CharsetError::UnknownTerm {
            term: "KOI8".into(),
        };
        assert_eq!(
            e.to_string(),
            "unknown Specific Character Set term \"KOI8\""
        );
        let e = CharsetError::Unrepresentable {
            ch: 'й', offset: 3
        };
        assert!(e.to_string().contains("U+0439"));
        let e = CharsetError::NoCodeExtensions {
            term: Term::IsoIr192,
        };
        assert!(e.to_string().starts_with("ISO_IR 192"));
        let boxed: Box<dyn std::error::Error> = Box::new(e);
        assert!(!boxed.to_string().is_empty());
    }
}
