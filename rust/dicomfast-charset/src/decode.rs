//! Decoding text values to `String` (PS3.5 6.1.2.3 – 6.1.2.5).
//!
//! Decoding is lossy and never fails: bytes that the sets in force do not
//! map give U+FFFD.  Two tolerances, both as pydicom does when Specific
//! Character Set is absent: in the default repertoire, and in GR when G1
//! holds nothing, bytes 0x80..=0xFF are read as Latin-1 rather than
//! rejected, since undeclared Latin-1 is common in real files.

use encoding_rs::Encoding;

use crate::charset::{CharacterSet, Scheme};
use crate::iso2022::{parse_escape, Escape, State, G0, G1};
use crate::kind::{is_reset_control, TextKind};
use crate::sbcs::katakana_decode;

const REPLACEMENT: char = '\u{FFFD}';

impl CharacterSet {
    /// Decodes the bytes of one text element value (all of its values, with
    /// their `\` separators, for multi-valued elements).
    ///
    /// `kind` says where ISO 2022 designations return to those of value 1
    /// (PS3.5 6.1.2.5.3); it does not matter for sets without code
    /// extensions.  Padding is kept: trimming trailing spaces is the caller's
    /// business, as it depends on the VR.
    #[must_use]
    pub fn decode(&self, bytes: &[u8], kind: TextKind) -> String {
        let mut out = String::new();
        self.decode_into(bytes, kind, &mut out);
        out
    }

    /// [`decode`](CharacterSet::decode), appending to `out` (which lets a
    /// caller reuse one buffer).
    pub fn decode_into(&self, bytes: &[u8], kind: TextKind, out: &mut String) {
        let scheme = self.scheme();
        // Fast path: every scheme reads ASCII in G0 as ASCII, and without an
        // ESC no ISO 2022 designation can change.
        if bytes.is_ascii() && !(matches!(scheme, Scheme::Iso2022(_)) && bytes.contains(&0x1B)) {
            out.push_str(&String::from_utf8_lossy(bytes));
            return;
        }
        match scheme {
            Scheme::Default => out.extend(bytes.iter().map(|&b| char::from(b))),
            Scheme::Sbcs(s) => s.decode_into(bytes, out),
            Scheme::JisX0201 => out.extend(bytes.iter().map(|&b| match b {
                0x00..=0x7F => char::from(b),
                _ => katakana_decode(b),
            })),
            Scheme::Utf8 => out.push_str(&String::from_utf8_lossy(bytes)),
            // GB18030 and GBK trail bytes include 0x5C, so these values are
            // decoded whole, never split at `\` first.
            Scheme::Gb18030 => {
                out.push_str(&encoding_rs::GB18030.decode_without_bom_handling(bytes).0);
            }
            Scheme::Gbk => out.push_str(&encoding_rs::GBK.decode_without_bom_handling(bytes).0),
            Scheme::Iso2022(state) => decode_iso2022(bytes, state, kind, out),
        }
    }
}

/// Collects runs of multi-byte characters so that each run goes through
/// `encoding_rs` in one call.
struct Sink<'a> {
    out: &'a mut String,
    pending: Vec<u8>,
    encoding: Option<&'static Encoding>,
}

impl Sink<'_> {
    #[inline]
    fn push(&mut self, c: char) {
        self.flush();
        self.out.push(c);
    }

    #[inline]
    fn push_multi(&mut self, encoding: &'static Encoding, bytes: &[u8]) {
        if self.encoding != Some(encoding) {
            self.flush();
            self.encoding = Some(encoding);
        }
        self.pending.extend_from_slice(bytes);
    }

    fn flush(&mut self) {
        if let Some(enc) = self.encoding.take() {
            if !self.pending.is_empty() {
                self.out
                    .push_str(&enc.decode_without_bom_handling(&self.pending).0);
                self.pending.clear();
            }
        }
    }
}

/// The ISO 2022 state machine (PS3.5 6.1.2.5): G0 in GL, G1 in GR, switched
/// by escape sequences, reset at delimiters and line-ending controls.
///
/// The 94×94 sets are read through the EUC form of the same table: JIS X
/// 0208 in G0 is EUC-JP with 0x80 set in both bytes, JIS X 0212 is EUC-JP
/// after an SS3 (0x8F), KS X 1001 in G1 is EUC-KR and GB 2312 in G1 is GBK,
/// byte for byte.
fn decode_iso2022(bytes: &[u8], initial: State, kind: TextKind, out: &mut String) {
    out.reserve(bytes.len());
    let mut sink = Sink {
        out,
        pending: Vec::new(),
        encoding: None,
    };
    let mut st = initial;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        match b {
            0x1B => match parse_escape(&bytes[i..]) {
                Escape::Known(d, len) => {
                    st.designate(d);
                    i += len;
                }
                Escape::Unknown(len) => {
                    sink.push(REPLACEMENT);
                    i += len;
                }
            },
            0x00..=0x1F | 0x7F => {
                sink.push(char::from(b));
                if is_reset_control(b) {
                    st.reset();
                }
            }
            // SPACE is SPACE whatever G0 holds (ISO/IEC 2022 94-sets omit it).
            0x20 => sink.push(' '),
            0x21..=0x7E if st.g0.is_multi_byte() => match bytes.get(i) {
                Some(&t) if (0x21..=0x7E).contains(&t) => {
                    i += 1;
                    if st.g0 == G0::JisX0208 {
                        sink.push_multi(encoding_rs::EUC_JP, &[b | 0x80, t | 0x80]);
                    } else {
                        sink.push_multi(encoding_rs::EUC_JP, &[0x8F, b | 0x80, t | 0x80]);
                    }
                }
                _ => sink.push(REPLACEMENT),
            },
            0x21..=0x7E => {
                // A delimiter is only one while G0 holds a single-byte set:
                // inside a JIS X 0208 run 0x5E is half of a character.
                sink.push(char::from(b));
                if kind.is_delimiter(b) {
                    st.reset();
                }
            }
            // C1 control area: belongs to no G1 set.
            0x80..=0x9F => sink.push(char::from(b)),
            _ => match st.g1 {
                None => sink.push(char::from(b)),
                Some(G1::Sbcs(s)) => sink.push(s.decode_high(b)),
                Some(G1::JisKatakana) => sink.push(katakana_decode(b)),
                Some(g @ (G1::KsX1001 | G1::Gb2312)) => {
                    let enc = if g == G1::KsX1001 {
                        encoding_rs::EUC_KR
                    } else {
                        encoding_rs::GBK
                    };
                    // A Hangul syllable KS X 1001 lacks, made up of its letters.
                    let made_up = match g {
                        G1::KsX1001 => crate::hangul::decode(&bytes[i - 1..]),
                        _ => None,
                    };
                    if let Some(c) = made_up {
                        i += 7;
                        sink.push(c);
                        continue;
                    }
                    match bytes.get(i) {
                        Some(&t) if (0xA1..=0xFE).contains(&b) && (0xA1..=0xFE).contains(&t) => {
                            i += 1;
                            sink.push_multi(enc, &[b, t]);
                        }
                        _ => sink.push(REPLACEMENT),
                    }
                }
            },
        }
    }
    sink.flush();
}
