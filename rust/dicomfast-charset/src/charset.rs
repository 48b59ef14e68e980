//! [`CharacterSet`]: a parsed Specific Character Set (0008,0005) and how its
//! values combine (PS3.3 C.12.1.1.2, PS3.5 6.1.2).

use crate::error::CharsetError;
use crate::iso2022::{State, G0};
use crate::sbcs::Sbcs;
use crate::terms::{trim_padding, Term};

/// How text bytes are to be read, derived from the terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// Default repertoire, ISO-IR 6 (PS3.5 6.1.2.1).
    Default,
    /// ASCII plus one ISO 8859 part / TIS 620 in the upper half.
    Sbcs(Sbcs),
    /// `ISO_IR 13`: JIS X 0201 Romaji and Katakana.
    JisX0201,
    /// `ISO_IR 192`.
    Utf8,
    /// `GB18030`.
    Gb18030,
    /// `GBK`.
    Gbk,
    /// Code extensions (PS3.5 6.1.2.5), starting in this state.
    Iso2022(State),
}

/// A Specific Character Set: the repertoires in which the text values of a
/// data set (SH, LO, ST, PN, LT, UC, UT) are encoded.
///
/// Build it with [`CharacterSet::from_terms`] (strict) or
/// [`CharacterSet::from_terms_lenient`] (never fails, reports warnings), then
/// [`decode`](CharacterSet::decode) and [`encode`](CharacterSet::encode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharacterSet {
    terms: Vec<Term>,
    scheme: Scheme,
}

impl Default for CharacterSet {
    /// The default repertoire, ISO-IR 6, used when (0008,0005) is absent or
    /// empty.
    fn default() -> Self {
        CharacterSet {
            terms: vec![Term::IsoIr6],
            scheme: Scheme::Default,
        }
    }
}

impl CharacterSet {
    /// Builds the set from the values of (0008,0005), e.g.
    /// `&["", "ISO 2022 IR 87"]`.  An empty slice or a single empty value is
    /// the default repertoire; padding spaces are ignored.
    ///
    /// # Errors
    /// The first problem found: a value that is no Defined Term, `ISO_IR
    /// 192`/`GB18030`/`GBK` with other values, an `ISO_IR nnn` spelling
    /// among several values, or a multi-byte set as value 1.  Use
    /// [`CharacterSet::from_terms_lenient`] to read such data anyway.
    pub fn from_terms(terms: &[&str]) -> Result<CharacterSet, CharsetError> {
        let (set, warnings) = build(terms, true);
        match warnings.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(set),
        }
    }

    /// Like [`from_terms`](CharacterSet::from_terms) but never fails: it
    /// repairs what it can and returns every problem as a warning.
    ///
    /// Repairs: misspelt terms are matched loosely; unknown terms are
    /// skipped, and an unknown value 1 becomes Latin-1 (`ISO_IR 100`, or
    /// `ISO 2022 IR 100` with extensions); `ISO_IR nnn` among several values
    /// is read as `ISO 2022 IR nnn`; values after `ISO_IR 192`, `GB18030` or
    /// `GBK` are dropped; a multi-byte set as value 1 is moved after an
    /// implied `ISO 2022 IR 6`.
    #[must_use]
    pub fn from_terms_lenient(terms: &[&str]) -> (CharacterSet, Vec<CharsetError>) {
        build(terms, false)
    }

    /// [`from_terms`](CharacterSet::from_terms) on the raw bytes of the
    /// (0008,0005) value, whose values are separated by `\`.
    ///
    /// # Errors
    /// As [`from_terms`](CharacterSet::from_terms).
    pub fn from_value(raw: &[u8]) -> Result<CharacterSet, CharsetError> {
        let owned = split_value(raw);
        let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
        CharacterSet::from_terms(&refs)
    }

    /// [`from_terms_lenient`](CharacterSet::from_terms_lenient) on the raw
    /// bytes of the (0008,0005) value.
    #[must_use]
    pub fn from_value_lenient(raw: &[u8]) -> (CharacterSet, Vec<CharsetError>) {
        let owned = split_value(raw);
        let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
        CharacterSet::from_terms_lenient(&refs)
    }

    /// The terms in force, value 1 first.  An empty value 1 appears as
    /// `ISO_IR 6`, or as `ISO 2022 IR 6` when further values follow.
    #[must_use]
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// True if ISO 2022 escape sequences are interpreted (PS3.5 6.1.2.5).
    #[must_use]
    pub fn uses_code_extensions(&self) -> bool {
        matches!(self.scheme, Scheme::Iso2022(_))
    }

    /// True if this is the default repertoire alone.
    #[must_use]
    pub fn is_default(&self) -> bool {
        self.scheme == Scheme::Default
    }

    pub(crate) fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Latin-1 fallback used when value 1 is not understood.
    fn latin1(code_extensions: bool) -> Term {
        if code_extensions {
            Term::Iso2022Ir100
        } else {
            Term::IsoIr100
        }
    }

    fn single(term: Term) -> CharacterSet {
        let scheme = match term {
            Term::IsoIr6 => Scheme::Default,
            Term::IsoIr13 => Scheme::JisX0201,
            Term::IsoIr192 => Scheme::Utf8,
            Term::Gb18030 => Scheme::Gb18030,
            Term::Gbk => Scheme::Gbk,
            t if t.is_code_extension() => return CharacterSet::extended(vec![t]),
            t => t.sbcs().map_or(Scheme::Default, Scheme::Sbcs),
        };
        CharacterSet {
            terms: vec![term],
            scheme,
        }
    }

    fn extended(terms: Vec<Term>) -> CharacterSet {
        let first = terms.first().copied().unwrap_or(Term::Iso2022Ir6);
        let state = State::new(first.g0().unwrap_or(G0::Ascii), first.g1());
        CharacterSet {
            terms,
            scheme: Scheme::Iso2022(state),
        }
    }
}

fn split_value(raw: &[u8]) -> Vec<String> {
    raw.split(|&b| b == b'\\')
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

/// Reads one value; `None` if unknown (a warning is recorded).
fn read_term(value: &str, strict: bool, warnings: &mut Vec<CharsetError>) -> Option<Term> {
    if let Some(t) = Term::parse(value) {
        return Some(t);
    }
    let term = trim_padding(value).to_owned();
    if !strict {
        if let Some(t) = Term::parse_loose(value) {
            warnings.push(CharsetError::NonStandardTerm { term, read_as: t });
            return Some(t);
        }
    }
    warnings.push(CharsetError::UnknownTerm { term });
    None
}

/// Shared by the strict and lenient constructors: the strict one keeps only
/// the first warning, as its error.
fn build(values: &[&str], strict: bool) -> (CharacterSet, Vec<CharsetError>) {
    let mut warnings = Vec::new();
    let Some((&v1, rest)) = values.split_first() else {
        return (CharacterSet::default(), warnings);
    };
    // Empty values after the first carry nothing (e.g. a trailing `\`).
    let rest: Vec<&str> = rest
        .iter()
        .copied()
        .filter(|v| !trim_padding(v).is_empty())
        .collect();
    let extended = !rest.is_empty();

    let first = read_term(v1, strict, &mut warnings).unwrap_or(CharacterSet::latin1(extended));
    let mut others: Vec<(String, Term)> = Vec::new();
    for v in &rest {
        if let Some(t) = read_term(v, strict, &mut warnings) {
            others.push((trim_padding(v).to_owned(), t));
        }
    }
    // Lenient: `\ISO_IR 192` and the like mean UTF-8 (or GB), which
    // includes the default repertoire of an empty value 1 anyway.
    if !strict && matches!(first, Term::IsoIr6 | Term::Iso2022Ir6) {
        if let Some(&(_, u)) = others.iter().find(|(_, t)| t.is_unicode_or_gb()) {
            warnings.push(CharsetError::NoCodeExtensions { term: u });
            return (CharacterSet::single(u), warnings);
        }
    }
    if first.is_unicode_or_gb() {
        // Unknown values after it were reported by `read_term` already.
        if !others.is_empty() {
            warnings.push(CharsetError::NoCodeExtensions { term: first });
        }
        return (CharacterSet::single(first), warnings);
    }

    if !extended {
        if first.is_multi_byte_extension() {
            warnings.push(CharsetError::MultiByteFirst { term: first });
            return (
                CharacterSet::extended(vec![Term::Iso2022Ir6, first]),
                warnings,
            );
        }
        return (CharacterSet::single(first), warnings);
    }

    let mut terms = Vec::with_capacity(others.len() + 1);
    if first.is_multi_byte_extension() {
        warnings.push(CharsetError::MultiByteFirst { term: first });
        terms.push(Term::Iso2022Ir6);
        terms.push(first);
    } else {
        terms.push(as_extension(v1, first, &mut warnings));
    }
    for (v, t) in others {
        if t.is_unicode_or_gb() {
            warnings.push(CharsetError::NoCodeExtensions { term: t });
            continue;
        }
        terms.push(as_extension(&v, t, &mut warnings));
    }
    (CharacterSet::extended(terms), warnings)
}

/// The `ISO 2022` form of a term met among several values.
fn as_extension(value: &str, t: Term, warnings: &mut Vec<CharsetError>) -> Term {
    // An empty value 1 is the default repertoire, ISO 2022 IR 6 here.
    if t == Term::IsoIr6 && trim_padding(value).is_empty() {
        return Term::Iso2022Ir6;
    }
    let ext = t.with_code_extensions().unwrap_or(Term::Iso2022Ir6);
    if ext != t {
        warnings.push(CharsetError::NonStandardTerm {
            term: trim_padding(value).to_owned(),
            read_as: ext,
        });
    }
    ext
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_forms() {
        for v in [&[][..], &[""][..], &["ISO_IR 6"][..], &["  "][..]] {
            let cs = CharacterSet::from_terms(v).unwrap();
            assert!(cs.is_default());
            assert_eq!(cs.terms(), &[Term::IsoIr6]);
        }
        assert_eq!(CharacterSet::default().scheme(), Scheme::Default);
    }

    #[test]
    fn single_values() {
        let cs = CharacterSet::from_terms(&["ISO_IR 100"]).unwrap();
        assert_eq!(cs.scheme(), Scheme::Sbcs(Sbcs::Latin1));
        assert!(!cs.uses_code_extensions());
        let cs = CharacterSet::from_terms(&["ISO_IR 192"]).unwrap();
        assert_eq!(cs.scheme(), Scheme::Utf8);
        let cs = CharacterSet::from_terms(&["ISO 2022 IR 100"]).unwrap();
        assert!(cs.uses_code_extensions());
    }

    #[test]
    fn extensions() {
        let cs = CharacterSet::from_terms(&["", "ISO 2022 IR 87"]).unwrap();
        assert_eq!(cs.terms(), &[Term::Iso2022Ir6, Term::Iso2022Ir87]);
        assert!(cs.uses_code_extensions());
        let cs = CharacterSet::from_value(b"ISO 2022 IR 13\\ISO 2022 IR 87 ").unwrap();
        assert_eq!(cs.terms(), &[Term::Iso2022Ir13, Term::Iso2022Ir87]);
        // A trailing empty value is harmless.
        let cs = CharacterSet::from_value(b"ISO 2022 IR 100\\").unwrap();
        assert_eq!(cs.terms(), &[Term::Iso2022Ir100]);
    }

    #[test]
    fn strict_errors() {
        assert_eq!(
            CharacterSet::from_terms(&["KOI8-R"]),
            Err(CharsetError::UnknownTerm {
                term: "KOI8-R".into()
            })
        );
        assert_eq!(
            CharacterSet::from_terms(&["ISO_IR 192", "ISO 2022 IR 87"]),
            Err(CharsetError::NoCodeExtensions {
                term: Term::IsoIr192
            })
        );
        assert_eq!(
            CharacterSet::from_terms(&["ISO 2022 IR 149"]),
            Err(CharsetError::MultiByteFirst {
                term: Term::Iso2022Ir149
            })
        );
        assert!(matches!(
            CharacterSet::from_terms(&["ISO_IR 13", "ISO 2022 IR 87"]),
            Err(CharsetError::NonStandardTerm { .. })
        ));
        assert!(CharacterSet::from_terms(&["iso_ir 100"]).is_err());
    }

    #[test]
    fn lenient_repairs() {
        let (cs, w) = CharacterSet::from_terms_lenient(&["KOI8-R"]);
        assert_eq!(cs.terms(), &[Term::IsoIr100]);
        assert_eq!(w.len(), 1);

        let (cs, w) = CharacterSet::from_terms_lenient(&["ISO_IR 13", "ISO 2022 IR 87"]);
        assert_eq!(cs.terms(), &[Term::Iso2022Ir13, Term::Iso2022Ir87]);
        assert!(matches!(
            w[..],
            [CharsetError::NonStandardTerm {
                read_as: Term::Iso2022Ir13,
                ..
            }]
        ));

        let (cs, w) = CharacterSet::from_terms_lenient(&["ISO_IR 192", "ISO 2022 IR 87"]);
        assert_eq!(cs.scheme(), Scheme::Utf8);
        assert_eq!(w.len(), 1);

        let (cs, w) = CharacterSet::from_terms_lenient(&["ISO 2022 IR 149"]);
        assert_eq!(cs.terms(), &[Term::Iso2022Ir6, Term::Iso2022Ir149]);
        assert_eq!(w.len(), 1);

        let (cs, w) = CharacterSet::from_terms_lenient(&["iso_ir 144"]);
        assert_eq!(cs.scheme(), Scheme::Sbcs(Sbcs::Cyrillic));
        assert_eq!(w.len(), 1);

        let (cs, w) = CharacterSet::from_terms_lenient(&["", "ISO 2022 IR 87", "BOGUS"]);
        assert_eq!(cs.terms(), &[Term::Iso2022Ir6, Term::Iso2022Ir87]);
        assert_eq!(w.len(), 1);

        let (cs, w) = CharacterSet::from_terms_lenient(&["BOGUS", "ALSO BOGUS"]);
        assert_eq!(cs.terms(), &[Term::Iso2022Ir100]);
        assert_eq!(w.len(), 2);

        let (cs, w) = CharacterSet::from_terms_lenient(&["", "ISO_IR 192"]);
        assert_eq!(cs.scheme(), Scheme::Utf8);
        assert_eq!(w.len(), 1);
        assert!(CharacterSet::from_terms(&["", "ISO_IR 192"]).is_err());

        let (cs, w) = CharacterSet::from_value_lenient(b"ISO_IR 100");
        assert_eq!(cs.scheme(), Scheme::Sbcs(Sbcs::Latin1));
        assert!(w.is_empty());
    }
}
