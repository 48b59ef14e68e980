//! Value Representations, PS3.5 §6.2 (Table 6.2-1).

pub type Vr = [u8; 2];

/// Every VR defined by PS3.5 Table 6.2-1.
pub const ALL: [Vr; 34] = [
    *b"AE", *b"AS", *b"AT", *b"CS", *b"DA", *b"DS", *b"DT", *b"FD", *b"FL", *b"IS", *b"LO", *b"LT",
    *b"OB", *b"OD", *b"OF", *b"OL", *b"OV", *b"OW", *b"PN", *b"SH", *b"SL", *b"SQ", *b"SS", *b"ST",
    *b"SV", *b"TM", *b"UC", *b"UI", *b"UL", *b"UN", *b"UR", *b"US", *b"UT", *b"UV",
];

#[inline]
pub fn is_known(vr: Vr) -> bool {
    // Fast reject, then the exact list.
    vr[0].is_ascii_uppercase() && vr[1].is_ascii_uppercase() && ALL.contains(&vr)
}

/// PS3.5 §7.1.2: OB, OD, OF, OL, OV, OW, SQ, SV, UC, UN, UR, UT, UV have two
/// reserved bytes and a 4-byte length in explicit VR; all others a 2-byte length.
#[inline]
pub fn has_long_length(vr: Vr) -> bool {
    matches!(
        &vr,
        b"OB"
            | b"OD"
            | b"OF"
            | b"OL"
            | b"OV"
            | b"OW"
            | b"SQ"
            | b"SV"
            | b"UC"
            | b"UN"
            | b"UR"
            | b"UT"
            | b"UV"
    )
}

/// Size of the unit whose bytes are swapped between little and big endian
/// (PS3.5 §7.3); 1 for VRs that are byte strings.
#[inline]
pub fn swap_unit(vr: Vr) -> usize {
    match &vr {
        b"US" | b"SS" | b"OW" | b"AT" => 2,
        b"UL" | b"SL" | b"FL" | b"OF" | b"OL" => 4,
        b"FD" | b"OD" | b"SV" | b"UV" | b"OV" => 8,
        _ => 1,
    }
}

/// Text VRs whose values are split on backslash (PS3.5 §6.4: VM > 1 allowed).
#[inline]
pub fn is_multi_valued_text(vr: Vr) -> bool {
    matches!(
        &vr,
        b"AE"
            | b"AS"
            | b"CS"
            | b"DA"
            | b"DS"
            | b"DT"
            | b"IS"
            | b"LO"
            | b"PN"
            | b"SH"
            | b"TM"
            | b"UC"
            | b"UI"
    )
}

/// Text VRs of any kind (the ones a character set applies to are a subset).
#[inline]
pub fn is_text(vr: Vr) -> bool {
    is_multi_valued_text(vr) || matches!(&vr, b"LT" | b"ST" | b"UT" | b"UR")
}

/// VRs whose text is decoded with the Specific Character Set (PS3.5 §6.1.2.3);
/// the others use the default repertoire.
#[inline]
pub fn uses_character_set(vr: Vr) -> bool {
    matches!(&vr, b"SH" | b"LO" | b"UC" | b"ST" | b"LT" | b"UT" | b"PN")
}

pub fn as_str(vr: &Vr) -> &str {
    std::str::from_utf8(vr).unwrap_or("??")
}

/// Which VR an element of the dictionary's "US or SS" / "OB or OW" kind has
/// at a level (PS3.5 A.1 c; as `dicomfast.Dataset` resolves it).
pub fn resolve_ambiguous(tag: u32, vr: Vr, pixel_representation: i64, bits_allocated: i64) -> Vr {
    let text = crate::dictionary::lookup(tag)
        .map(|e| e.vr_text)
        .unwrap_or("");
    let lut_descriptor = matches!(tag, 0x0028_1101..=0x0028_1103 | 0x0028_3002);
    if text.contains("SS") && !lut_descriptor {
        return if pixel_representation == 1 {
            *b"SS"
        } else {
            *b"US"
        };
    }
    if text == "OB or OW" {
        return if bits_allocated <= 8 { *b"OB" } else { *b"OW" };
    }
    if text.contains("OW") {
        return *b"OW";
    }
    vr
}
