//! Text values: the Specific Character Set (PS3.5 §6.1) and the default repertoire.

use dicomfast_charset::{CharacterSet as Charset, TextKind};
use pyo3::prelude::*;
use std::borrow::Cow;

/// A data set's Specific Character Set, ready to decode and encode text values.
/// Unknown or misspelt terms are tolerated (see `warnings`).
#[pyclass(frozen, module = "dicomfast._core")]
pub struct CharacterSet {
    inner: Charset,
    terms: Vec<String>,
    warnings: Vec<String>,
}

fn kind_of(vr: [u8; 2]) -> TextKind {
    match &vr {
        b"PN" => TextKind::PersonName,
        b"LT" | b"ST" | b"UT" | b"UR" => TextKind::SingleValued,
        _ => TextKind::MultiValued,
    }
}

fn vr_bytes(vr: &str) -> [u8; 2] {
    vr.as_bytes().try_into().unwrap_or(*b"LO")
}

#[pymethods]
impl CharacterSet {
    #[new]
    pub fn from_terms(terms: Vec<String>) -> Self {
        let refs: Vec<&str> = terms.iter().map(|t| t.as_str()).collect();
        let (inner, warnings) = Charset::from_terms_lenient(&refs);
        CharacterSet {
            inner,
            terms,
            warnings: warnings.iter().map(|w| w.to_string()).collect(),
        }
    }

    #[getter]
    fn terms(&self) -> Vec<String> {
        self.terms.clone()
    }

    /// Problems found in the terms (unknown, misspelt), tolerated.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    /// Decode `data` (a value of VR `vr`); never fails (invalid bytes become U+FFFD).
    fn decode(&self, data: &[u8], vr: &str) -> String {
        self.decode_value(data, vr_bytes(vr))
    }

    /// Encode `text` for VR `vr`; raises `CharacterSetError` for characters
    /// the character set cannot represent.
    fn encode(&self, py: Python<'_>, text: &str, vr: &str) -> PyResult<Vec<u8>> {
        self.inner
            .try_encode(text, kind_of(vr_bytes(vr)))
            .map_err(|e| {
                crate::errors::make(
                    py,
                    "CharacterSetError",
                    format!("{text:?}: {e}"),
                    None,
                    None,
                )
            })
    }
}

impl CharacterSet {
    pub fn decode_value(&self, data: &[u8], vr: [u8; 2]) -> String {
        self.inner.decode(data, kind_of(vr))
    }
}

/// Decode text in the default repertoire (ISO-IR 6), leniently as Latin-1.
pub fn default_repertoire(data: &[u8]) -> String {
    default_text(data).into_owned()
}

/// [`default_repertoire`] without a copy of ASCII text.
pub fn default_text(data: &[u8]) -> Cow<'_, str> {
    if data.is_ascii() {
        if let Ok(s) = std::str::from_utf8(data) {
            return Cow::Borrowed(s);
        }
    }
    Cow::Owned(data.iter().map(|&b| b as char).collect())
}
