//! Single-byte character sets: the upper halves (bytes 0x80..=0xFF) of the
//! ISO 8859 parts and TIS 620 named by PS3.3 Tables C.12-2 / C.12-3, plus the
//! JIS X 0201 Katakana half (ISO-IR 13).
//!
//! The ISO 8859 tables are built once from `encoding_rs`.  `encoding_rs`
//! follows the WHATWG Encoding Standard, which maps some ISO labels to their
//! Windows supersets (8859-1 → windows-1252, 8859-9 → windows-1254, TIS 620 →
//! windows-874); those differ from the ISO sets only in 0x80..=0x9F, which in
//! ISO 2022 terms is the C1 control area, not part of any G1 set.  So the
//! tables take 0xA0..=0xFF from `encoding_rs` and map 0x80..=0x9F to the C1
//! code points U+0080..=U+009F, giving the true ISO mappings.

use std::sync::OnceLock;

/// An ISO 8859 part or TIS 620, as a 96-character G1 set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Sbcs {
    Latin1,
    Latin2,
    Latin3,
    Latin4,
    Cyrillic,
    Arabic,
    Greek,
    Hebrew,
    Latin5,
    Latin9,
    Thai,
}

const COUNT: usize = 11;

type Table = [char; 128];

static TABLES: [OnceLock<Table>; COUNT] = [const { OnceLock::new() }; COUNT];

impl Sbcs {
    fn index(self) -> usize {
        self as usize
    }

    fn encoding(self) -> Option<&'static encoding_rs::Encoding> {
        Some(match self {
            Sbcs::Latin1 => return None,
            Sbcs::Latin2 => encoding_rs::ISO_8859_2,
            Sbcs::Latin3 => encoding_rs::ISO_8859_3,
            Sbcs::Latin4 => encoding_rs::ISO_8859_4,
            Sbcs::Cyrillic => encoding_rs::ISO_8859_5,
            Sbcs::Arabic => encoding_rs::ISO_8859_6,
            Sbcs::Greek => encoding_rs::ISO_8859_7,
            Sbcs::Hebrew => encoding_rs::ISO_8859_8,
            Sbcs::Latin5 => encoding_rs::WINDOWS_1254,
            Sbcs::Latin9 => encoding_rs::ISO_8859_15,
            Sbcs::Thai => encoding_rs::WINDOWS_874,
        })
    }

    fn table(self) -> &'static Table {
        TABLES[self.index()].get_or_init(|| {
            let mut t = ['\u{FFFD}'; 128];
            for (b, slot) in (0x80..=0xFFu8).zip(t.iter_mut()) {
                *slot = match self.encoding() {
                    Some(enc) if b >= 0xA0 => {
                        let one = [b];
                        let (s, _) = enc.decode_without_bom_handling(&one);
                        s.chars().next().unwrap_or('\u{FFFD}')
                    }
                    _ => char::from(b),
                };
            }
            t
        })
    }

    /// Decodes one byte 0x80..=0xFF; unassigned positions give U+FFFD.
    #[inline]
    pub(crate) fn decode_high(self, b: u8) -> char {
        if self == Sbcs::Latin1 {
            return char::from(b);
        }
        self.table()[usize::from(b & 0x7F)]
    }

    /// Decodes a whole buffer in which this set is the upper half.
    pub(crate) fn decode_into(self, bytes: &[u8], out: &mut String) {
        out.reserve(bytes.len());
        for &b in bytes {
            if b < 0x80 {
                out.push(char::from(b));
            } else {
                out.push(self.decode_high(b));
            }
        }
    }

    /// The byte for a non-ASCII character, if the set has it.  Only the
    /// graphic area 0xA0..=0xFF is searched: C1 controls are never written.
    pub(crate) fn encode_high(self, c: char) -> Option<u8> {
        if c == '\u{FFFD}' {
            return None;
        }
        if self == Sbcs::Latin1 {
            let v = u32::from(c);
            return u8::try_from(v).ok().filter(|&b| b >= 0xA0);
        }
        self.table()[0x20..]
            .iter()
            .position(|&t| t == c)
            .and_then(|p| u8::try_from(0xA0 + p).ok())
    }
}

/// JIS X 0201 Katakana (ISO-IR 13, G1): 0xA1..=0xDF ↔ U+FF61..=U+FF9F.
pub(crate) fn katakana_decode(b: u8) -> char {
    match b {
        0xA1..=0xDF => char::from_u32(0xFF61 + u32::from(b - 0xA1)).unwrap_or('\u{FFFD}'),
        _ => '\u{FFFD}',
    }
}

/// Inverse of [`katakana_decode`].
pub(crate) fn katakana_encode(c: char) -> Option<u8> {
    let v = u32::from(c).checked_sub(0xFF61 - 0xA1)?;
    u8::try_from(v).ok().filter(|b| (0xA1..=0xDF).contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_characters() {
        assert_eq!(Sbcs::Latin1.decode_high(0xE9), 'é');
        assert_eq!(Sbcs::Latin1.decode_high(0x80), '\u{80}');
        assert_eq!(Sbcs::Latin2.decode_high(0xA3), 'Ł');
        assert_eq!(Sbcs::Cyrillic.decode_high(0xBB), 'Л');
        assert_eq!(Sbcs::Greek.decode_high(0xC4), 'Δ');
        assert_eq!(Sbcs::Hebrew.decode_high(0xF9), 'ש');
        assert_eq!(Sbcs::Arabic.decode_high(0xE2), 'ق');
        assert_eq!(Sbcs::Latin5.decode_high(0xDD), 'İ');
        // 0x80 is C1 in ISO 8859-9, not the euro sign of windows-1254.
        assert_eq!(Sbcs::Latin5.decode_high(0x80), '\u{80}');
        assert_eq!(Sbcs::Latin9.decode_high(0xA4), '€');
        assert_eq!(Sbcs::Thai.decode_high(0xA1), 'ก');
        assert_eq!(Sbcs::Thai.decode_high(0x80), '\u{80}');
        // Unassigned in ISO 8859-6.
        assert_eq!(Sbcs::Arabic.decode_high(0xA1), '\u{FFFD}');
    }

    #[test]
    fn encode_inverts_decode() {
        for s in [
            Sbcs::Latin1,
            Sbcs::Latin2,
            Sbcs::Latin3,
            Sbcs::Latin4,
            Sbcs::Cyrillic,
            Sbcs::Arabic,
            Sbcs::Greek,
            Sbcs::Hebrew,
            Sbcs::Latin5,
            Sbcs::Latin9,
            Sbcs::Thai,
        ] {
            for b in 0xA0..=0xFFu8 {
                let c = s.decode_high(b);
                if c != '\u{FFFD}' {
                    assert_eq!(s.encode_high(c), Some(b), "{s:?} {b:#x}");
                }
            }
            assert_eq!(s.encode_high('\u{85}'), None);
        }
    }

    #[test]
    fn katakana() {
        assert_eq!(katakana_decode(0xD4), 'ﾔ');
        assert_eq!(katakana_decode(0xE0), '\u{FFFD}');
        assert_eq!(katakana_encode('ﾔ'), Some(0xD4));
        assert_eq!(katakana_encode('ヤ'), None);
    }
}
