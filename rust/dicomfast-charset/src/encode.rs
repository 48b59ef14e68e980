//! Encoding `str` to text value bytes (PS3.5 6.1.2.3 – 6.1.2.5).
//!
//! Characters that no set in force can represent are either an error
//! ([`CharacterSet::try_encode`]) or replaced by `?`
//! ([`CharacterSet::encode`], [`CharacterSet::encode_lossy`], which also
//! says whether it replaced anything).  JIS X 0212 (ISO 2022 IR 159) is
//! decoded but never chosen for encoding: `encoding_rs` has no encoder for
//! it, so its characters count as unrepresentable.

use encoding_rs::{EncoderResult, Encoding};

use crate::charset::{CharacterSet, Scheme};
use crate::error::CharsetError;
use crate::iso2022::{Designation, State, G0, G1};
use crate::kind::{is_reset_control, TextKind};
use crate::sbcs::katakana_encode;

/// Bytes of one character in some set (at most 4, for GB18030; 8 for a Hangul make-up
/// sequence).
#[derive(Clone, Copy)]
struct Code {
    /// Up to 4 bytes, or 8 for a Hangul make-up sequence.
    buf: [u8; 8],
    len: usize,
}

impl Code {
    fn one(b: u8) -> Code {
        Code {
            buf: [b, 0, 0, 0, 0, 0, 0, 0],
            len: 1,
        }
    }

    fn two(a: u8, b: u8) -> Code {
        Code {
            buf: [a, b, 0, 0, 0, 0, 0, 0],
            len: 2,
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// What to do with a character no set can represent.
struct Unmappable {
    strict: bool,
    replaced: bool,
}

impl Unmappable {
    /// Errors in strict mode; otherwise notes the replacement, and the caller
    /// writes `?`.
    fn hit(&mut self, ch: char, offset: usize) -> Result<(), CharsetError> {
        if self.strict {
            return Err(CharsetError::Unrepresentable { ch, offset });
        }
        self.replaced = true;
        Ok(())
    }
}

impl CharacterSet {
    /// Encodes `s`, writing `?` for characters the set cannot represent.
    /// See [`encode_lossy`](CharacterSet::encode_lossy) to learn whether it
    /// did, or [`try_encode`](CharacterSet::try_encode) to get an error.
    ///
    /// `kind` places the ISO 2022 returns to the initial designation (PS3.5
    /// 6.1.2.5.3).  No padding is added.
    #[must_use]
    pub fn encode(&self, s: &str, kind: TextKind) -> Vec<u8> {
        self.encode_lossy(s, kind).0
    }

    /// Encodes `s`; the flag is true if any character was replaced by `?`.
    #[must_use]
    pub fn encode_lossy(&self, s: &str, kind: TextKind) -> (Vec<u8>, bool) {
        let mut policy = Unmappable {
            strict: false,
            replaced: false,
        };
        match self.encode_with(s, kind, &mut policy) {
            Ok(v) => (v, policy.replaced),
            // Not reachable with a lenient policy; keep the no-panic promise.
            Err(_) => (Vec::new(), true),
        }
    }

    /// Encodes `s`.
    ///
    /// # Errors
    /// [`CharsetError::Unrepresentable`] for the first character that no set
    /// of this Specific Character Set can encode.
    pub fn try_encode(&self, s: &str, kind: TextKind) -> Result<Vec<u8>, CharsetError> {
        let mut policy = Unmappable {
            strict: true,
            replaced: false,
        };
        self.encode_with(s, kind, &mut policy)
    }

    fn encode_with(
        &self,
        s: &str,
        kind: TextKind,
        policy: &mut Unmappable,
    ) -> Result<Vec<u8>, CharsetError> {
        // Fast path: ASCII is G0 of every set, initially designated.
        if s.is_ascii() {
            return Ok(s.as_bytes().to_vec());
        }
        let scheme = self.scheme();
        let encode_one = |c: char| -> Option<Code> {
            match scheme {
                Scheme::Sbcs(set) => set.encode_high(c).map(Code::one),
                Scheme::JisX0201 => katakana_encode(c).map(Code::one),
                Scheme::Gb18030 => encode_char(encoding_rs::GB18030, c),
                Scheme::Gbk => encode_char(encoding_rs::GBK, c),
                // Default repertoire: ASCII only (PS3.5 6.1.2.1).
                Scheme::Default | Scheme::Utf8 | Scheme::Iso2022(_) => None,
            }
        };
        match scheme {
            Scheme::Utf8 => return Ok(s.as_bytes().to_vec()),
            Scheme::Iso2022(state) => return self.encode_iso2022(s, kind, state, policy),
            _ => {}
        }
        let mut out = Vec::with_capacity(s.len() * 2);
        for (offset, c) in s.char_indices() {
            let code = if c.is_ascii() {
                Some(Code::one(c as u8))
            } else {
                encode_one(c)
            };
            match code {
                Some(code) => out.extend_from_slice(code.bytes()),
                None => {
                    policy.hit(c, offset)?;
                    out.push(b'?');
                }
            }
        }
        Ok(out)
    }

    /// ISO 2022 encoder (PS3.5 6.1.2.5 and the examples of Annexes H, I, K):
    /// keeps the current designations while they fit, otherwise designates
    /// the first declared set that has the character, in the order of the
    /// values of Specific Character Set.  Before every delimiter and control
    /// character, and at the end of the value, G0 is switched back to the
    /// set of value 1 (PS3.5 6.1.2.5.3); after them the decoder assumes the
    /// initial G1 again, so G1 is re-designated when next needed.
    fn encode_iso2022(
        &self,
        s: &str,
        kind: TextKind,
        initial: State,
        policy: &mut Unmappable,
    ) -> Result<Vec<u8>, CharsetError> {
        let designations: Vec<Designation> = self
            .terms()
            .iter()
            .flat_map(|t| {
                let g0 = t.g0().filter(|g| g.is_multi_byte()).map(Designation::G0);
                let g1 = t.g1().map(Designation::G1);
                g0.into_iter().chain(g1)
            })
            .collect();
        let mut out = Vec::with_capacity(s.len() * 2);
        let mut st = initial;
        let back_to_single_byte = |st: &mut State, out: &mut Vec<u8>| {
            if st.g0.is_multi_byte() {
                out.extend_from_slice(st.initial_g0().escape());
                st.g0 = st.initial_g0();
            }
        };
        for (offset, c) in s.char_indices() {
            if c.is_ascii() {
                // SPACE and controls too are written with a single-byte G0,
                // which keeps strict ISO 2022 readers happy.
                back_to_single_byte(&mut st, &mut out);
                let b = c as u8;
                out.push(b);
                if is_reset_control(b) || kind.is_delimiter(b) {
                    st.reset_strict();
                }
                continue;
            }
            if let Some(code) = st.g1.and_then(|g| encode_g1(g, c)) {
                out.extend_from_slice(code.bytes());
                break_make_up(&mut out, &st, c, &s[offset + c.len_utf8()..]);
                continue;
            }
            if let Some(code) = encode_g0(st.g0, c) {
                out.extend_from_slice(code.bytes());
                continue;
            }
            let found = designations.iter().find_map(|&d| match d {
                Designation::G0(g) => encode_g0(g, c).map(|code| (d, code)),
                Designation::G1(g) => encode_g1(g, c).map(|code| (d, code)),
            });
            match found {
                Some((d, code)) => {
                    match d {
                        Designation::G0(g) => out.extend_from_slice(g.escape()),
                        Designation::G1(g) => out.extend_from_slice(g.escape()),
                    }
                    st.designate(d);
                    out.extend_from_slice(code.bytes());
                    break_make_up(&mut out, &st, c, &s[offset + c.len_utf8()..]);
                }
                None => {
                    policy.hit(c, offset)?;
                    back_to_single_byte(&mut st, &mut out);
                    out.push(b'?');
                }
            }
        }
        back_to_single_byte(&mut st, &mut out);
        Ok(out)
    }
}

/// After a Hangul filler written in KS X 1001 as a letter: when the codes of the
/// characters after it (`rest`) would make up a syllable with it ([`crate::hangul`]), G1
/// is designated again, so that a decoder reads the filler and what follows as written.
fn break_make_up(out: &mut Vec<u8>, st: &State, c: char, rest: &str) {
    if c != '\u{3164}' || st.g1 != Some(G1::KsX1001) {
        return;
    }
    let mut next = [[0u8; 2]; 3];
    let mut chars = rest.chars();
    for slot in &mut next {
        match chars.next().and_then(|n| encode_g1(G1::KsX1001, n)) {
            Some(code) => *slot = [code.buf[0], code.buf[1]],
            None => return, // not in G1: the run ends before a sequence could
        }
    }
    if crate::hangul::would_make_up(next) {
        out.extend_from_slice(G1::KsX1001.escape());
    }
}

/// One character in `encoding`, if it has it (no HTML-style replacement).
fn encode_char(encoding: &'static Encoding, c: char) -> Option<Code> {
    let mut utf8 = [0u8; 4];
    let mut code = Code {
        buf: [0; 8],
        len: 0,
    };
    let mut encoder = encoding.new_encoder();
    let (res, _, written) =
        encoder.encode_from_utf8_without_replacement(c.encode_utf8(&mut utf8), &mut code.buf, true);
    match res {
        EncoderResult::InputEmpty if written > 0 => {
            code.len = written;
            Some(code)
        }
        _ => None,
    }
}

/// A 94×94 character through its EUC form: both bytes must be in
/// 0xA1..=0xFE, which excludes the EUC-KR (UHC) and GBK extensions and the
/// EUC-JP single-byte and SS2/SS3 forms.
fn encode_94x94(encoding: &'static Encoding, c: char) -> Option<(u8, u8)> {
    // Cheap refusals first: the CJK encoders of `encoding_rs` search their
    // tables, and no 94x94 set has C0/C1 controls or U+FFFD.
    if u32::from(c) < 0xA0 || c == '\u{FFFD}' {
        return None;
    }
    let code = encode_char(encoding, c)?;
    match code.bytes() {
        &[a, b] if (0xA1..=0xFE).contains(&a) && (0xA1..=0xFE).contains(&b) => Some((a, b)),
        _ => None,
    }
}

/// A non-ASCII character in a multi-byte G0 set (GL bytes).
fn encode_g0(g: G0, c: char) -> Option<Code> {
    match g {
        G0::JisX0208 => {
            encode_94x94(encoding_rs::EUC_JP, c).map(|(a, b)| Code::two(a & 0x7F, b & 0x7F))
        }
        G0::Ascii | G0::JisRoman | G0::JisX0212 => None,
    }
}

/// A non-ASCII character in a G1 set (GR bytes).
fn encode_g1(g: G1, c: char) -> Option<Code> {
    match g {
        G1::Sbcs(s) => s.encode_high(c).map(Code::one),
        G1::JisKatakana => katakana_encode(c).map(Code::one),
        G1::KsX1001 => encode_94x94(encoding_rs::EUC_KR, c)
            .map(|(a, b)| Code::two(a, b))
            // a syllable the set lacks, made up of its letters (KS X 1001:1998 Annex 3)
            .or_else(|| crate::hangul::encode(c).map(|buf| Code { buf, len: 8 })),
        G1::Gb2312 => encode_94x94(encoding_rs::GBK, c).map(|(a, b)| Code::two(a, b)),
    }
}
