//! The data dictionary (PS3.6, PS3.7 Annex E) and UID registry (PS3.6 Annex A),
//! generated from `standard/` by `tools/gen_dictionary.py`.

#[rustfmt::skip]
mod generated_elements;
#[rustfmt::skip]
mod generated_uids;

use crate::tag;
use crate::vr::Vr;
use std::collections::HashMap;
use std::sync::OnceLock;

pub use generated_elements::{ELEMENTS, MASKED};
pub use generated_uids::{MODALITIES, UIDS};

/// One data element of the dictionary.
#[derive(Debug, Clone, Copy)]
pub struct DictEntry {
    /// The tag; for repeating groups the tag with the `x` digits set to 0.
    pub tag: u32,
    /// The VR used when none is encoded: the first of the standard's alternatives.
    pub vr: Vr,
    /// The VR column as the standard prints it ("US or SS", "OB or OW", …).
    pub vr_text: &'static str,
    pub ambiguous_vr: bool,
    pub vm: &'static str,
    pub keyword: &'static str,
    pub name: &'static str,
    pub retired: bool,
}

/// A repeating-group element: a tag matches when `tag & mask == entry.tag`.
#[derive(Debug, Clone, Copy)]
pub struct MaskedEntry {
    pub mask: u32,
    pub entry: DictEntry,
}

#[derive(Debug, Clone, Copy)]
pub struct UidEntry {
    pub uid: &'static str,
    pub name: &'static str,
    pub keyword: &'static str,
    /// The standard's UID type ("Transfer Syntax", "SOP Class", …).
    pub kind: &'static str,
    pub retired: bool,
    pub info: &'static str,
    /// Listed in PS3.4 Table B.5-1 (Storage SOP classes).
    pub storage: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct ModalityEntry {
    pub code: &'static str,
    pub meaning: &'static str,
    pub acquisition: bool,
}

/// The dictionary entry of a tag, repeating groups included.
pub fn lookup(tag: u32) -> Option<&'static DictEntry> {
    if let Ok(i) = ELEMENTS.binary_search_by_key(&tag, |e| e.tag) {
        return Some(&ELEMENTS[i]);
    }
    // Repeating groups 50xx and 60xx only take even groups (PS3.5 §7.6).
    MASKED
        .iter()
        .find(|m| tag & m.mask == m.entry.tag && (m.mask >> 24 != 0xFF || tag & 0x0001_0000 == 0))
        .map(|m| &m.entry)
}

/// The VR to use for a tag when the encoding does not carry one (implicit VR).
pub fn implicit_vr(t: u32) -> (Vr, bool) {
    if tag::is_group_length(t) {
        return (*b"UL", false);
    }
    if tag::is_private_creator(t) {
        return (*b"LO", false);
    }
    if tag::is_private(t) {
        return (*b"UN", false);
    }
    match lookup(t) {
        Some(e) => (e.vr, e.ambiguous_vr),
        None => (*b"UN", false),
    }
}

fn keyword_map() -> &'static HashMap<&'static str, u32> {
    static MAP: OnceLock<HashMap<&'static str, u32>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut m = HashMap::with_capacity(ELEMENTS.len() + MASKED.len());
        for e in MASKED.iter().map(|m| &m.entry).chain(ELEMENTS.iter()) {
            if !e.keyword.is_empty() {
                m.insert(e.keyword, e.tag);
            }
        }
        m
    })
}

/// The tag of a keyword (repeating groups give their first group, e.g. 6000).
pub fn tag_for_keyword(keyword: &str) -> Option<u32> {
    keyword_map().get(keyword).copied()
}

pub fn uid(uid: &str) -> Option<&'static UidEntry> {
    let uid = uid.trim_end_matches(['\0', ' ']);
    UIDS.binary_search_by(|e| e.uid.cmp(uid))
        .ok()
        .map(|i| &UIDS[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_repeating_lookups() {
        assert_eq!(lookup(0x0010_0010).unwrap().keyword, "PatientName");
        assert_eq!(lookup(0x6002_3000).unwrap().keyword, "OverlayData");
        assert!(
            lookup(0x6001_3000).is_none(),
            "odd groups are private, not overlays"
        );
        assert_eq!(lookup(0x5010_0005).unwrap().keyword, "CurveDimensions");
        assert_eq!(lookup(0x0028_0412).unwrap().keyword, "CoefficientCoding");
        assert_eq!(implicit_vr(0x0009_0010), (*b"LO", false));
        assert_eq!(implicit_vr(0x0009_1001), (*b"UN", false));
        assert_eq!(implicit_vr(0x0028_0106), (*b"US", true));
        assert_eq!(tag_for_keyword("PixelData"), Some(0x7FE0_0010));
        assert_eq!(
            uid("1.2.840.10008.1.2.4.70").unwrap().kind,
            "Transfer Syntax"
        );
        assert!(uid("1.2.840.10008.5.1.4.1.1.2\0").unwrap().storage);
        assert!(ELEMENTS.windows(2).all(|w| w[0].tag < w[1].tag));
    }
}
