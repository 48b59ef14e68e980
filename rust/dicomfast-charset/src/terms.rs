//! Defined Terms of Specific Character Set (0008,0005).
//!
//! PS3.3 C.12.1.1.2 lists them in four tables: single-byte sets without code
//! extensions (Table C.12-2), single-byte sets with code extensions (Table
//! C.12-3), multi-byte sets with code extensions (Table C.12-4) and multi-byte
//! sets without code extensions (Table C.12-5).  For every term with code
//! extensions this module also records which ISO 2022 code elements it
//! designates (G0 and/or G1), see [`crate::iso2022`].

use crate::iso2022::{G0, G1};
use crate::sbcs::Sbcs;

/// One Defined Term of Specific Character Set (0008,0005).
///
/// `IsoIrNnn` variants are the `ISO_IR nnn` spellings (no code extensions);
/// `Iso2022IrNnn` variants are the `ISO 2022 IR nnn` spellings (PS3.5
/// 6.1.2.5, code extensions allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Term {
    /// `ISO_IR 6`, or an empty / absent value: the default repertoire (ASCII).
    IsoIr6,
    /// `ISO_IR 100`, Latin alphabet No. 1 (ISO 8859-1).
    IsoIr100,
    /// `ISO_IR 101`, Latin alphabet No. 2 (ISO 8859-2).
    IsoIr101,
    /// `ISO_IR 109`, Latin alphabet No. 3 (ISO 8859-3).
    IsoIr109,
    /// `ISO_IR 110`, Latin alphabet No. 4 (ISO 8859-4).
    IsoIr110,
    /// `ISO_IR 144`, Cyrillic (ISO 8859-5).
    IsoIr144,
    /// `ISO_IR 127`, Arabic (ISO 8859-6).
    IsoIr127,
    /// `ISO_IR 126`, Greek (ISO 8859-7).
    IsoIr126,
    /// `ISO_IR 138`, Hebrew (ISO 8859-8).
    IsoIr138,
    /// `ISO_IR 148`, Latin alphabet No. 5 (ISO 8859-9).
    IsoIr148,
    /// `ISO_IR 203`, Latin alphabet No. 9 (ISO 8859-15).
    IsoIr203,
    /// `ISO_IR 13`, Japanese JIS X 0201 (Romaji + half-width Katakana).
    IsoIr13,
    /// `ISO_IR 166`, Thai TIS 620-2533.
    IsoIr166,
    /// `ISO_IR 192`, Unicode in UTF-8 (PS3.3 Table C.12-5).
    IsoIr192,
    /// `GB18030` (PS3.3 Table C.12-5).
    Gb18030,
    /// `GBK` (PS3.3 Table C.12-5).
    Gbk,
    /// `ISO 2022 IR 6`.
    Iso2022Ir6,
    /// `ISO 2022 IR 100`.
    Iso2022Ir100,
    /// `ISO 2022 IR 101`.
    Iso2022Ir101,
    /// `ISO 2022 IR 109`.
    Iso2022Ir109,
    /// `ISO 2022 IR 110`.
    Iso2022Ir110,
    /// `ISO 2022 IR 144`.
    Iso2022Ir144,
    /// `ISO 2022 IR 127`.
    Iso2022Ir127,
    /// `ISO 2022 IR 126`.
    Iso2022Ir126,
    /// `ISO 2022 IR 138`.
    Iso2022Ir138,
    /// `ISO 2022 IR 148`.
    Iso2022Ir148,
    /// `ISO 2022 IR 203`.
    Iso2022Ir203,
    /// `ISO 2022 IR 13`.
    Iso2022Ir13,
    /// `ISO 2022 IR 166`.
    Iso2022Ir166,
    /// `ISO 2022 IR 87`, JIS X 0208 Kanji (multi-byte, G0).
    Iso2022Ir87,
    /// `ISO 2022 IR 159`, JIS X 0212 supplementary Kanji (multi-byte, G0).
    Iso2022Ir159,
    /// `ISO 2022 IR 149`, KS X 1001 Hangul and Hanja (multi-byte, G1).
    Iso2022Ir149,
    /// `ISO 2022 IR 58`, GB 2312 simplified Chinese (multi-byte, G1).
    Iso2022Ir58,
}

/// Every term with its exact spelling in the standard.
const TABLE: &[(&str, Term)] = &[
    ("ISO_IR 6", Term::IsoIr6),
    ("ISO_IR 100", Term::IsoIr100),
    ("ISO_IR 101", Term::IsoIr101),
    ("ISO_IR 109", Term::IsoIr109),
    ("ISO_IR 110", Term::IsoIr110),
    ("ISO_IR 144", Term::IsoIr144),
    ("ISO_IR 127", Term::IsoIr127),
    ("ISO_IR 126", Term::IsoIr126),
    ("ISO_IR 138", Term::IsoIr138),
    ("ISO_IR 148", Term::IsoIr148),
    ("ISO_IR 203", Term::IsoIr203),
    ("ISO_IR 13", Term::IsoIr13),
    ("ISO_IR 166", Term::IsoIr166),
    ("ISO_IR 192", Term::IsoIr192),
    ("GB18030", Term::Gb18030),
    ("GBK", Term::Gbk),
    ("ISO 2022 IR 6", Term::Iso2022Ir6),
    ("ISO 2022 IR 100", Term::Iso2022Ir100),
    ("ISO 2022 IR 101", Term::Iso2022Ir101),
    ("ISO 2022 IR 109", Term::Iso2022Ir109),
    ("ISO 2022 IR 110", Term::Iso2022Ir110),
    ("ISO 2022 IR 144", Term::Iso2022Ir144),
    ("ISO 2022 IR 127", Term::Iso2022Ir127),
    ("ISO 2022 IR 126", Term::Iso2022Ir126),
    ("ISO 2022 IR 138", Term::Iso2022Ir138),
    ("ISO 2022 IR 148", Term::Iso2022Ir148),
    ("ISO 2022 IR 203", Term::Iso2022Ir203),
    ("ISO 2022 IR 13", Term::Iso2022Ir13),
    ("ISO 2022 IR 166", Term::Iso2022Ir166),
    ("ISO 2022 IR 87", Term::Iso2022Ir87),
    ("ISO 2022 IR 159", Term::Iso2022Ir159),
    ("ISO 2022 IR 149", Term::Iso2022Ir149),
    ("ISO 2022 IR 58", Term::Iso2022Ir58),
];

/// Spellings seen in the wild that are not Defined Terms; accepted only by
/// the lenient constructors, always with a warning.
const ALIASES: &[(&str, Term)] = &[
    ("UTF8", Term::IsoIr192),
    ("UTF-8", Term::IsoIr192),
    ("GB2312", Term::Gbk),
    ("LATIN1", Term::IsoIr100),
    ("ISO-8859-1", Term::IsoIr100),
];

impl Term {
    /// Parses one value of Specific Character Set exactly as the standard
    /// spells it.  Leading/trailing spaces and NULs (value padding, PS3.5
    /// 6.2) are ignored; the empty string is the default repertoire.
    #[must_use]
    pub fn parse(value: &str) -> Option<Term> {
        let v = trim_padding(value);
        if v.is_empty() {
            return Some(Term::IsoIr6);
        }
        TABLE.iter().find(|(name, _)| *name == v).map(|&(_, t)| t)
    }

    /// Parses a possibly misspelt value: case, `_`/`-`/space differences and
    /// a few common aliases (`UTF-8`, `GB2312`, …) are tolerated.
    pub(crate) fn parse_loose(value: &str) -> Option<Term> {
        let v = trim_padding(value).to_ascii_uppercase();
        if let Some(t) = ALIASES.iter().find(|(n, _)| *n == v).map(|&(_, t)| t) {
            return Some(t);
        }
        let squash = |s: &str| -> String {
            s.chars()
                .filter(|c| !matches!(c, ' ' | '_' | '-'))
                .collect()
        };
        let key = squash(&v);
        TABLE
            .iter()
            .find(|(name, _)| squash(name) == key)
            .map(|&(_, t)| t)
    }

    /// The term as spelt in the standard, e.g. `"ISO 2022 IR 87"`.
    #[must_use]
    pub fn name(self) -> &'static str {
        TABLE
            .iter()
            .find(|&&(_, t)| t == self)
            .map_or("", |&(n, _)| n)
    }

    /// True for the `ISO 2022 IR nnn` spellings (code extensions allowed).
    #[must_use]
    pub fn is_code_extension(self) -> bool {
        self.name().starts_with("ISO 2022")
    }

    /// True for the multi-byte ISO 2022 sets of PS3.3 Table C.12-4, which
    /// may not be value 1.
    #[must_use]
    pub fn is_multi_byte_extension(self) -> bool {
        matches!(
            self,
            Term::Iso2022Ir87 | Term::Iso2022Ir159 | Term::Iso2022Ir149 | Term::Iso2022Ir58
        )
    }

    /// True for the sets of PS3.3 Table C.12-5 (and `ISO_IR 192`), which
    /// replace the whole repertoire and admit no code extensions.
    #[must_use]
    pub fn is_unicode_or_gb(self) -> bool {
        matches!(self, Term::IsoIr192 | Term::Gb18030 | Term::Gbk)
    }

    /// The `ISO 2022 IR nnn` twin of an `ISO_IR nnn` single-byte term.
    pub(crate) fn with_code_extensions(self) -> Option<Term> {
        Some(match self {
            Term::IsoIr6 => Term::Iso2022Ir6,
            Term::IsoIr100 => Term::Iso2022Ir100,
            Term::IsoIr101 => Term::Iso2022Ir101,
            Term::IsoIr109 => Term::Iso2022Ir109,
            Term::IsoIr110 => Term::Iso2022Ir110,
            Term::IsoIr144 => Term::Iso2022Ir144,
            Term::IsoIr127 => Term::Iso2022Ir127,
            Term::IsoIr126 => Term::Iso2022Ir126,
            Term::IsoIr138 => Term::Iso2022Ir138,
            Term::IsoIr148 => Term::Iso2022Ir148,
            Term::IsoIr203 => Term::Iso2022Ir203,
            Term::IsoIr13 => Term::Iso2022Ir13,
            Term::IsoIr166 => Term::Iso2022Ir166,
            t if t.is_code_extension() => t,
            _ => return None,
        })
    }

    /// The single-byte upper-half set of this term, if any (PS3.3 Tables
    /// C.12-2 and C.12-3, "ISO registration number" of the G1 element).
    pub(crate) fn sbcs(self) -> Option<Sbcs> {
        Some(match self {
            Term::IsoIr100 | Term::Iso2022Ir100 => Sbcs::Latin1,
            Term::IsoIr101 | Term::Iso2022Ir101 => Sbcs::Latin2,
            Term::IsoIr109 | Term::Iso2022Ir109 => Sbcs::Latin3,
            Term::IsoIr110 | Term::Iso2022Ir110 => Sbcs::Latin4,
            Term::IsoIr144 | Term::Iso2022Ir144 => Sbcs::Cyrillic,
            Term::IsoIr127 | Term::Iso2022Ir127 => Sbcs::Arabic,
            Term::IsoIr126 | Term::Iso2022Ir126 => Sbcs::Greek,
            Term::IsoIr138 | Term::Iso2022Ir138 => Sbcs::Hebrew,
            Term::IsoIr148 | Term::Iso2022Ir148 => Sbcs::Latin5,
            Term::IsoIr203 | Term::Iso2022Ir203 => Sbcs::Latin9,
            Term::IsoIr166 | Term::Iso2022Ir166 => Sbcs::Thai,
            _ => return None,
        })
    }

    /// The G0 code element this term designates (PS3.3 Tables C.12-3 and
    /// C.12-4), if it designates one.
    pub(crate) fn g0(self) -> Option<G0> {
        match self {
            Term::Iso2022Ir13 | Term::IsoIr13 => Some(G0::JisRoman),
            Term::Iso2022Ir87 => Some(G0::JisX0208),
            Term::Iso2022Ir159 => Some(G0::JisX0212),
            Term::Iso2022Ir149 | Term::Iso2022Ir58 => None,
            t if t.sbcs().is_some() || matches!(t, Term::IsoIr6 | Term::Iso2022Ir6) => {
                Some(G0::Ascii)
            }
            _ => None,
        }
    }

    /// The G1 code element this term designates, if it designates one.
    pub(crate) fn g1(self) -> Option<G1> {
        match self {
            Term::Iso2022Ir13 | Term::IsoIr13 => Some(G1::JisKatakana),
            Term::Iso2022Ir149 => Some(G1::KsX1001),
            Term::Iso2022Ir58 => Some(G1::Gb2312),
            t => t.sbcs().map(G1::Sbcs),
        }
    }
}

impl std::fmt::Display for Term {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Strips the padding a CS value may carry (trailing SPACE, PS3.5 6.2; NUL
/// from sloppy writers) and leading spaces, which CS allows.
pub(crate) fn trim_padding(s: &str) -> &str {
    s.trim_matches(|c| c == ' ' || c == '\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_term_round_trips_its_name() {
        for &(name, term) in TABLE {
            assert_eq!(Term::parse(name), Some(term));
            assert_eq!(term.name(), name);
            assert_eq!(term.to_string(), name);
        }
    }

    #[test]
    fn padding_and_empty() {
        assert_eq!(Term::parse(" ISO_IR 100 "), Some(Term::IsoIr100));
        assert_eq!(Term::parse("ISO_IR 192\0"), Some(Term::IsoIr192));
        assert_eq!(Term::parse(""), Some(Term::IsoIr6));
        assert_eq!(Term::parse("ISO_IR100"), None);
        assert_eq!(Term::parse("iso_ir 100"), None);
    }

    #[test]
    fn loose_spellings() {
        assert_eq!(Term::parse_loose("iso_ir 100"), Some(Term::IsoIr100));
        assert_eq!(Term::parse_loose("ISO-IR 144"), Some(Term::IsoIr144));
        assert_eq!(Term::parse_loose("ISO_IR100"), Some(Term::IsoIr100));
        assert_eq!(Term::parse_loose("ISO2022IR87"), Some(Term::Iso2022Ir87));
        assert_eq!(Term::parse_loose("utf-8"), Some(Term::IsoIr192));
        assert_eq!(Term::parse_loose("KOI8-R"), None);
    }

    #[test]
    fn classification() {
        assert!(Term::Iso2022Ir6.is_code_extension());
        assert!(!Term::IsoIr6.is_code_extension());
        assert!(Term::Iso2022Ir149.is_multi_byte_extension());
        assert!(Term::Gbk.is_unicode_or_gb());
        assert_eq!(
            Term::IsoIr13.with_code_extensions(),
            Some(Term::Iso2022Ir13)
        );
        assert_eq!(Term::IsoIr192.with_code_extensions(), None);
        assert_eq!(Term::Iso2022Ir149.g0(), None);
        assert_eq!(Term::Iso2022Ir149.g1(), Some(G1::KsX1001));
        assert_eq!(Term::Iso2022Ir13.g0(), Some(G0::JisRoman));
        assert_eq!(Term::Gb18030.g0(), None);
    }
}
