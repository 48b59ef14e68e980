//! ISO 2022 code elements, escape sequences and designation state (PS3.5
//! 6.1.2.4 and 6.1.2.5).
//!
//! DICOM uses only the 8-bit ISO 2022 form with G0 invoked into GL (bytes
//! 0x21..=0x7E) and G1 invoked into GR (0xA1..=0xFE); locking shifts (SI, SO)
//! and single shifts are not used (PS3.5 6.1.2.5.2).  A text switches sets
//! only with designation escape sequences, listed with each Defined Term in
//! PS3.3 Tables C.12-3 and C.12-4.

use crate::sbcs::Sbcs;

/// A code element designated into G0 (used for bytes 0x21..=0x7E).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum G0 {
    /// ISO-IR 6, ASCII: `ESC ( B`.
    Ascii,
    /// ISO-IR 14, JIS X 0201 Romaji: `ESC ( J`.  Decoded as ASCII: it
    /// differs only at 0x5C (YEN SIGN) and 0x7E (OVERLINE), and 0x5C stays
    /// DICOM's value delimiter whichever set is active (PS3.5 6.1.2.5.3).
    JisRoman,
    /// ISO-IR 87, JIS X 0208 (94×94): `ESC $ B`.
    JisX0208,
    /// ISO-IR 159, JIS X 0212 (94×94): `ESC $ ( D`.
    JisX0212,
}

impl G0 {
    /// True for the two-byte sets.
    #[inline]
    pub(crate) fn is_multi_byte(self) -> bool {
        matches!(self, G0::JisX0208 | G0::JisX0212)
    }

    /// The escape sequence that designates this set into G0.
    pub(crate) fn escape(self) -> &'static [u8] {
        match self {
            G0::Ascii => b"\x1b(B",
            G0::JisRoman => b"\x1b(J",
            G0::JisX0208 => b"\x1b$B",
            G0::JisX0212 => b"\x1b$(D",
        }
    }
}

/// A code element designated into G1 (used for bytes 0xA0..=0xFF).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum G1 {
    /// A 96-character ISO 8859 part or TIS 620: `ESC - F`.
    Sbcs(Sbcs),
    /// ISO-IR 13, JIS X 0201 Katakana: `ESC ) I`.
    JisKatakana,
    /// ISO-IR 149, KS X 1001 (94×94): `ESC $ ) C`.
    KsX1001,
    /// ISO-IR 58, GB 2312 (94×94): `ESC $ ) A`.
    Gb2312,
}

impl G1 {
    /// The escape sequence that designates this set into G1.
    pub(crate) fn escape(self) -> &'static [u8] {
        match self {
            G1::JisKatakana => b"\x1b)I",
            G1::KsX1001 => b"\x1b$)C",
            G1::Gb2312 => b"\x1b$)A",
            G1::Sbcs(s) => match s {
                Sbcs::Latin1 => b"\x1b-A",
                Sbcs::Latin2 => b"\x1b-B",
                Sbcs::Latin3 => b"\x1b-C",
                Sbcs::Latin4 => b"\x1b-D",
                Sbcs::Cyrillic => b"\x1b-L",
                Sbcs::Arabic => b"\x1b-G",
                Sbcs::Greek => b"\x1b-F",
                Sbcs::Hebrew => b"\x1b-H",
                Sbcs::Latin5 => b"\x1b-M",
                Sbcs::Latin9 => b"\x1b-b",
                Sbcs::Thai => b"\x1b-T",
            },
        }
    }
}

/// What one escape sequence designates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Designation {
    G0(G0),
    G1(G1),
}

/// Result of reading an escape sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escape {
    /// A designation this crate knows; `len` bytes follow the ESC.
    Known(Designation, usize),
    /// A well-formed or truncated sequence it does not know; `len` bytes
    /// after the ESC belong to it and are skipped.
    Unknown(usize),
}

/// Reads the escape sequence whose ESC byte precedes `rest`.
///
/// ISO 2022 syntax: ESC, any number of intermediate bytes 0x20..=0x2F, one
/// final byte 0x30..=0x7E.  The known sequences are those of PS3.3 Tables
/// C.12-3 and C.12-4, plus `ESC $ @` (JIS C 6226-1978, the predecessor of
/// JIS X 0208, which old Japanese systems still emit; read as JIS X 0208).
pub(crate) fn parse_escape(rest: &[u8]) -> Escape {
    let n_inter = rest
        .iter()
        .take_while(|b| (0x20..=0x2F).contains(*b))
        .count();
    let len = match rest.get(n_inter) {
        Some(f) if (0x30..=0x7E).contains(f) => n_inter + 1,
        _ => return Escape::Unknown(n_inter),
    };
    let d = match &rest[..len] {
        b"(B" => Designation::G0(G0::Ascii),
        b"(J" => Designation::G0(G0::JisRoman),
        b"$B" | b"$@" => Designation::G0(G0::JisX0208),
        b"$(D" => Designation::G0(G0::JisX0212),
        b")I" => Designation::G1(G1::JisKatakana),
        b"$)C" => Designation::G1(G1::KsX1001),
        b"$)A" => Designation::G1(G1::Gb2312),
        b"-A" => Designation::G1(G1::Sbcs(Sbcs::Latin1)),
        b"-B" => Designation::G1(G1::Sbcs(Sbcs::Latin2)),
        b"-C" => Designation::G1(G1::Sbcs(Sbcs::Latin3)),
        b"-D" => Designation::G1(G1::Sbcs(Sbcs::Latin4)),
        b"-L" => Designation::G1(G1::Sbcs(Sbcs::Cyrillic)),
        b"-G" => Designation::G1(G1::Sbcs(Sbcs::Arabic)),
        b"-F" => Designation::G1(G1::Sbcs(Sbcs::Greek)),
        b"-H" => Designation::G1(G1::Sbcs(Sbcs::Hebrew)),
        b"-M" => Designation::G1(G1::Sbcs(Sbcs::Latin5)),
        b"-b" => Designation::G1(G1::Sbcs(Sbcs::Latin9)),
        b"-T" => Designation::G1(G1::Sbcs(Sbcs::Thai)),
        _ => return Escape::Unknown(len),
    };
    Escape::Known(d, len)
}

/// The G0/G1 designations in force, and the initial ones they return to.
///
/// PS3.5 6.1.2.5.1: at the start of every value the sets of value 1 of
/// Specific Character Set are designated (ASCII in G0 and nothing in G1 when
/// value 1 is empty).  PS3.5 6.1.2.5.3: they are active again after each
/// delimiter and control character (see [`crate::TextKind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct State {
    pub(crate) g0: G0,
    pub(crate) g1: Option<G1>,
    initial_g0: G0,
    initial_g1: Option<G1>,
}

impl State {
    pub(crate) fn new(initial_g0: G0, initial_g1: Option<G1>) -> State {
        State {
            g0: initial_g0,
            g1: initial_g1,
            initial_g0,
            initial_g1,
        }
    }

    pub(crate) fn initial_g0(self) -> G0 {
        self.initial_g0
    }

    /// Back to the designations of value 1 (PS3.5 6.1.2.5.3).
    ///
    /// One tolerance: when value 1 designates nothing into G1, a G1
    /// designation outlives the reset.  Conformant data re-designates G1
    /// after every delimiter anyway (Annex I), so this changes nothing for
    /// it, while text that designated KS X 1001 only once at the start of
    /// the value (as pydicom 3.0 writes LT) still decodes.
    #[inline]
    pub(crate) fn reset(&mut self) {
        self.g0 = self.initial_g0;
        if self.initial_g1.is_some() {
            self.g1 = self.initial_g1;
        }
    }

    /// [`reset`](State::reset) without the tolerance: what an encoder must
    /// assume a strict reader does.
    #[inline]
    pub(crate) fn reset_strict(&mut self) {
        self.g0 = self.initial_g0;
        self.g1 = self.initial_g1;
    }

    #[inline]
    pub(crate) fn designate(&mut self, d: Designation) {
        match d {
            Designation::G0(g) => self.g0 = g,
            Designation::G1(g) => self.g1 = Some(g),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_parse_back() {
        let all = [
            Designation::G0(G0::Ascii),
            Designation::G0(G0::JisRoman),
            Designation::G0(G0::JisX0208),
            Designation::G0(G0::JisX0212),
            Designation::G1(G1::JisKatakana),
            Designation::G1(G1::KsX1001),
            Designation::G1(G1::Gb2312),
            Designation::G1(G1::Sbcs(Sbcs::Latin9)),
            Designation::G1(G1::Sbcs(Sbcs::Thai)),
        ];
        for d in all {
            let esc = match d {
                Designation::G0(g) => g.escape(),
                Designation::G1(g) => g.escape(),
            };
            assert_eq!(esc[0], 0x1b);
            assert_eq!(parse_escape(&esc[1..]), Escape::Known(d, esc.len() - 1));
        }
    }

    #[test]
    fn unknown_and_truncated() {
        assert_eq!(parse_escape(b"%Gabc"), Escape::Unknown(2));
        assert_eq!(parse_escape(b"$)"), Escape::Unknown(2));
        assert_eq!(parse_escape(b""), Escape::Unknown(0));
        assert_eq!(parse_escape(b"\x80"), Escape::Unknown(0));
    }

    #[test]
    fn state_resets() {
        let mut s = State::new(G0::JisRoman, Some(G1::JisKatakana));
        s.designate(Designation::G0(G0::JisX0208));
        s.designate(Designation::G1(G1::KsX1001));
        assert_eq!(s.g0, G0::JisX0208);
        s.reset();
        assert_eq!((s.g0, s.g1), (G0::JisRoman, Some(G1::JisKatakana)));
        assert_eq!(s.initial_g0(), G0::JisRoman);

        // No G1 in value 1: a G1 designation survives a lenient reset only.
        let mut s = State::new(G0::Ascii, None);
        s.designate(Designation::G1(G1::KsX1001));
        s.reset();
        assert_eq!(s.g1, Some(G1::KsX1001));
        s.reset_strict();
        assert_eq!(s.g1, None);
    }
}
