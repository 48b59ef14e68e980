//! Turning value bytes into values (PS3.5 §6.2): text trimming and splitting,
//! numbers. Character sets are applied by the caller.

use crate::vr::Vr;

/// Strip the padding PS3.5 §6.2 allows: trailing spaces for text VRs, a
/// trailing NUL for UI (and leniently for others), leading spaces where the VR
/// says they are insignificant (DS, IS, and the date/time VRs per value).
pub fn trim(vr: Vr, v: &[u8]) -> &[u8] {
    let mut end = v.len();
    while end > 0 && (v[end - 1] == b' ' || v[end - 1] == 0) {
        end -= 1;
    }
    let v = &v[..end];
    if matches!(
        &vr,
        b"DS" | b"IS" | b"AE" | b"CS" | b"DA" | b"TM" | b"DT" | b"AS"
    ) {
        let start = v.iter().position(|&c| c != b' ').unwrap_or(v.len());
        &v[start..]
    } else {
        v
    }
}

/// Split a multi-valued text value on backslash (PS3.5 §6.4).
pub fn split(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&c| c == b'\\')
}

/// The values of a multi-valued text (PS3.5 §6.4), once decoded: split on backslash
/// (never part of a multi-byte character in the character sets DICOM allows for these
/// VRs), each trimmed as its VR says: spaces and NULs both ends for AE, AS, CS, DA, DT,
/// TM and UI; trailing spaces for the others, and for PN also the `=` of trailing
/// empty component groups (PS3.5 6.2.1: they may be omitted).
pub fn text_values(vr: Vr, whole: &str) -> impl Iterator<Item = &str> {
    let strip_each = matches!(&vr, b"AE" | b"CS" | b"DA" | b"TM" | b"DT" | b"AS" | b"UI");
    let pn = &vr == b"PN";
    whole.split('\\').map(move |p| {
        if strip_each {
            p.trim_matches([' ', '\0'])
        } else if pn {
            p.trim_end_matches(' ').trim_end_matches('=')
        } else {
            p.trim_end_matches(' ')
        }
    })
}

/// One value with leading and trailing spaces removed.
pub fn strip_spaces(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|&c| c != b' ' && c != 0)
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|&c| c != b' ' && c != 0)
        .map_or(start, |e| e + 1);
    &v[start..end.max(start)]
}

/// A Decimal String value (PS3.5 Table 6.2-1), if it is one.
pub fn parse_ds(v: &[u8]) -> Option<f64> {
    std::str::from_utf8(strip_spaces(v))
        .ok()?
        .parse::<f64>()
        .ok()
}

/// An Integer String value; tolerates a decimal point with zero fraction
/// ("12.0"), which some writers emit.
pub fn parse_is(v: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(strip_spaces(v)).ok()?;
    s.parse::<i64>().ok().or_else(|| {
        let f = s.parse::<f64>().ok()?;
        (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_trimming() {
        assert_eq!(parse_ds(b" 1.5e2 "), Some(150.0));
        assert_eq!(parse_is(b"-12 "), Some(-12));
        assert_eq!(parse_is(b"12.0"), Some(12));
        assert_eq!(parse_is(b"1.5"), None);
        assert_eq!(trim(*b"UI", b"1.2.3\0"), b"1.2.3");
        assert_eq!(trim(*b"LO", b" a b  "), b" a b");
        assert_eq!(trim(*b"CS", b" ORIGINAL "), b"ORIGINAL");
        let parts: Vec<&[u8]> = split(b"A\\B\\").collect();
        assert_eq!(parts, vec![&b"A"[..], b"B", b""]);
        let v: Vec<&str> = text_values(*b"CS", " A \\B\0").collect();
        assert_eq!(v, ["A", "B"]);
        let v: Vec<&str> = text_values(*b"PN", "A^B== \\ C ").collect();
        assert_eq!(v, ["A^B", " C"]);
    }
}
