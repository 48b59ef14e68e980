//! What kind of text a value is, which decides the delimiters at which ISO
//! 2022 designations return to their initial state (PS3.5 6.1.2.5.3).

/// The kind of text value being decoded or encoded.
///
/// PS3.5 6.1.2.5.3 requires the character set of value 1 of Specific
/// Character Set to be active again before CR, LF, FF and any other control
/// character (TAB), before the backslash separating multiple values, and, in
/// Person Names, before the `^` and `=` delimiters.  A decoder therefore
/// resets its G0/G1 designations at those bytes, and an encoder switches back
/// before them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TextKind {
    /// Person Name (PN, PS3.5 6.2.1): `^` separates components, `=`
    /// component groups, `\` values.
    PersonName,
    /// Other texts that may hold several values separated by `\` (SH, LO,
    /// CS, UC, and the like).
    MultiValued,
    /// Texts with a single value, in which `\` is an ordinary character and
    /// only control characters end a line (LT, ST, UT).
    SingleValued,
}

impl TextKind {
    /// True if `b`, met while G0 holds a single-byte set, is a delimiter
    /// before which the initial designations are restored.
    #[inline]
    pub(crate) fn is_delimiter(self, b: u8) -> bool {
        match self {
            TextKind::PersonName => matches!(b, b'^' | b'=' | b'\\'),
            TextKind::MultiValued => b == b'\\',
            TextKind::SingleValued => false,
        }
    }
}

/// Control characters that end a line or page, or tabulate (PS3.5 6.1.3,
/// 6.1.2.5.3): the designations are reset at each of them in every kind of
/// text.
#[inline]
pub(crate) fn is_reset_control(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0C | b'\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters() {
        assert!(TextKind::PersonName.is_delimiter(b'^'));
        assert!(TextKind::PersonName.is_delimiter(b'='));
        assert!(TextKind::PersonName.is_delimiter(b'\\'));
        assert!(TextKind::MultiValued.is_delimiter(b'\\'));
        assert!(!TextKind::MultiValued.is_delimiter(b'^'));
        assert!(!TextKind::SingleValued.is_delimiter(b'\\'));
        assert!(is_reset_control(b'\r') && is_reset_control(0x0C));
        assert!(!is_reset_control(0x1B));
    }
}
