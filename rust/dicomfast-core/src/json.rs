//! The DICOM JSON model (PS3.18 F.2) of a data set's text and number
//! attributes, written straight from the element index: what an archive keeps
//! of each instance to answer queries with. Binary values (O*, UN), private
//! tags, the file meta group and item delimiters are left out; sequences are
//! kept down to a depth. Values are the ones `dicomfast.Dataset` gives (same
//! trimming, splitting and number parsing), so the result equals what the
//! Python JSON model builds from them, at a fraction of the cost.

use crate::index::{flags, Index, Node};
use crate::tag;
use crate::value;
use crate::vr::{self, Vr};
use dicomfast_charset::{CharacterSet, TextKind};

/// What to leave out.
#[derive(Debug, Clone, Copy)]
pub struct AttributeOptions {
    /// Sequences nested deeper than this are left out (0: no sequences).
    pub max_depth: usize,
    /// Single text values longer than this many characters are left out.
    pub max_text: usize,
}

impl Default for AttributeOptions {
    fn default() -> Self {
        AttributeOptions {
            max_depth: 4,
            max_text: 4096,
        }
    }
}

/// The inherited context of a level: its character set and the Pixel
/// Representation / Bits Allocated that decide ambiguous VRs.
#[derive(Clone)]
struct Level<'a> {
    charset: Option<&'a CharacterSet>,
    pixel_representation: i64,
    bits_allocated: i64,
}

/// The JSON object (as text) of the children of `parent` in `index` over `buf`.
/// `charset_terms`: the Specific Character Set inherited from enclosing levels
/// (a level's own (0008,0005) takes over).
pub fn text_attributes_json(
    index: &Index,
    buf: &[u8],
    children: &[u32],
    charset_terms: Option<&[String]>,
    opts: AttributeOptions,
) -> String {
    let inherited = charset_terms.map(|t| {
        let refs: Vec<&str> = t.iter().map(|s| s.as_str()).collect();
        CharacterSet::from_terms_lenient(&refs).0
    });
    let mut out = String::with_capacity(4096);
    let level = Level {
        charset: inherited.as_ref(),
        pixel_representation: 0,
        bits_allocated: 16,
    };
    write_level(&mut out, index, buf, children, &level, 0, &opts);
    out
}

fn value_of<'b>(buf: &'b [u8], n: &Node) -> &'b [u8] {
    let (a, b) = (n.value_offset as usize, n.end_offset as usize);
    buf.get(a..b.min(buf.len())).unwrap_or(&[])
}

fn u16_of(v: &[u8], be: bool) -> Option<i64> {
    let b: [u8; 2] = v.get(..2)?.try_into().ok()?;
    Some(if be {
        u16::from_be_bytes(b)
    } else {
        u16::from_le_bytes(b)
    } as i64)
}

fn write_level(
    out: &mut String,
    index: &Index,
    buf: &[u8],
    children: &[u32],
    inherited: &Level<'_>,
    depth: usize,
    opts: &AttributeOptions,
) {
    // This level's own character set and pixel context come first.
    let mut own_charset: Option<CharacterSet> = None;
    let (mut pr, mut ba) = (inherited.pixel_representation, inherited.bits_allocated);
    for &i in children {
        let n = &index.nodes[i as usize];
        let v = value_of(buf, n);
        let be = n.has(flags::BIG_ENDIAN);
        match n.tag {
            tag::SPECIFIC_CHARACTER_SET => {
                let text = latin1(v);
                let terms: Vec<&str> = text
                    .split('\\')
                    .map(|t| t.trim_matches([' ', '\0']))
                    .collect();
                own_charset = Some(CharacterSet::from_terms_lenient(&terms).0);
            }
            0x0028_0103 => pr = u16_of(v, be).unwrap_or(pr),
            0x0028_0100 => ba = u16_of(v, be).unwrap_or(ba),
            t if t > 0x0028_0103 => break,
            _ => {}
        }
    }
    let level = Level {
        charset: own_charset.as_ref().or(inherited.charset),
        pixel_representation: pr,
        bits_allocated: ba,
    };
    out.push('{');
    let mut first = true;
    for &i in children {
        let n = &index.nodes[i as usize];
        let group = n.tag >> 16;
        if group & 1 == 1 || group == 0x0002 || group == 0xFFFE {
            continue;
        }
        let start = out.len();
        if !first {
            out.push(',');
        }
        push_key(out, n.tag);
        let kept = if n.has(flags::SEQUENCE) || &n.vr == b"SQ" {
            write_sequence(out, index, buf, i, &level, depth, opts)
        } else if n.has(flags::ENCAPSULATED) {
            false
        } else {
            let mut vr = n.vr;
            if n.has(flags::AMBIGUOUS_VR) {
                vr = vr::resolve_ambiguous(n.tag, vr, pr, ba);
            }
            write_element(
                out,
                vr,
                value_of(buf, n),
                n.has(flags::BIG_ENDIAN),
                &level,
                opts,
            )
        };
        if kept {
            first = false;
        } else {
            out.truncate(start);
        }
    }
    out.push('}');
}

fn write_sequence(
    out: &mut String,
    index: &Index,
    buf: &[u8],
    node: u32,
    level: &Level<'_>,
    depth: usize,
    opts: &AttributeOptions,
) -> bool {
    if depth >= opts.max_depth {
        return false;
    }
    let items: Vec<u32> = index.children(node).collect();
    if items.is_empty() {
        out.push_str("{\"vr\":\"SQ\"}");
        return true;
    }
    out.push_str("{\"vr\":\"SQ\",\"Value\":[");
    for (k, &item) in items.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        let kids: Vec<u32> = index.children(item).collect();
        write_level(out, index, buf, &kids, level, depth + 1, opts);
    }
    out.push_str("]}");
    true
}

fn push_key(out: &mut String, tag: u32) {
    use std::fmt::Write;
    let _ = write!(out, "\"{tag:08X}\":");
}

fn latin1(v: &[u8]) -> String {
    if v.is_ascii() {
        String::from_utf8_lossy(v).into_owned()
    } else {
        v.iter().map(|&b| b as char).collect()
    }
}

fn kind_of(vr: Vr) -> TextKind {
    match &vr {
        b"PN" => TextKind::PersonName,
        b"LT" | b"ST" | b"UT" | b"UR" => TextKind::SingleValued,
        _ => TextKind::MultiValued,
    }
}

fn decode(v: &[u8], vr: Vr, level: &Level<'_>) -> String {
    match level.charset {
        Some(cs) if vr::uses_character_set(vr) => cs.decode(v, kind_of(vr)),
        _ => latin1(v),
    }
}

fn open(out: &mut String, vr: Vr) {
    out.push_str("{\"vr\":\"");
    out.push_str(vr::as_str(&vr));
    out.push('"');
}

/// One element's `{"vr": .., "Value": [..]}`; false when it is left out.
fn write_element(
    out: &mut String,
    vr: Vr,
    v: &[u8],
    be: bool,
    level: &Level<'_>,
    opts: &AttributeOptions,
) -> bool {
    macro_rules! binary_numbers {
        ($t:ty, $float:expr) => {{
            const W: usize = std::mem::size_of::<$t>();
            open(out, vr);
            if v.len() >= W {
                out.push_str(",\"Value\":[");
                for (k, c) in v.chunks_exact(W).enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    let b: [u8; W] = c.try_into().expect("chunk size");
                    let x = if be {
                        <$t>::from_be_bytes(b)
                    } else {
                        <$t>::from_le_bytes(b)
                    };
                    if $float {
                        push_float(out, x as f64);
                    } else {
                        push_display(out, x);
                    }
                }
                out.push(']');
            }
            out.push('}');
            true
        }};
    }
    match &vr {
        b"US" => binary_numbers!(u16, false),
        b"SS" => binary_numbers!(i16, false),
        b"UL" => binary_numbers!(u32, false),
        b"SL" => binary_numbers!(i32, false),
        b"UV" => binary_numbers!(u64, false),
        b"SV" => binary_numbers!(i64, false),
        b"FL" => binary_numbers!(f32, true),
        b"FD" => binary_numbers!(f64, true),
        b"AT" => {
            open(out, vr);
            if v.len() >= 4 {
                out.push_str(",\"Value\":[");
                for (k, c) in v.chunks_exact(4).enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    let (g, e) = if be {
                        (
                            u16::from_be_bytes([c[0], c[1]]),
                            u16::from_be_bytes([c[2], c[3]]),
                        )
                    } else {
                        (
                            u16::from_le_bytes([c[0], c[1]]),
                            u16::from_le_bytes([c[2], c[3]]),
                        )
                    };
                    use std::fmt::Write;
                    let _ = write!(out, "\"{g:04X}{e:04X}\"");
                }
                out.push(']');
            }
            out.push('}');
            true
        }
        b"DS" | b"IS" => {
            open(out, vr);
            let t = value::trim(*b"DS", v);
            if !t.is_empty() {
                out.push_str(",\"Value\":[");
                for (k, part) in value::split(t).enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    let number = if &vr == b"DS" {
                        value::parse_ds(part)
                            .filter(|x| x.is_finite())
                            .map(Number::F)
                    } else {
                        value::parse_is(part).map(Number::I)
                    };
                    match number {
                        Some(Number::F(x)) => push_float(out, x),
                        Some(Number::I(x)) => push_display(out, x),
                        None => {
                            let s = latin1(value::strip_spaces(part));
                            if s.is_empty() {
                                out.push_str("null");
                            } else {
                                push_string(out, &s);
                            }
                        }
                    }
                }
                out.push(']');
            }
            out.push('}');
            true
        }
        b"LT" | b"ST" | b"UT" | b"UR" => {
            let s = decode(value::trim(vr, v), vr, level);
            if s.chars().count() > opts.max_text {
                return false;
            }
            open(out, vr);
            if !s.is_empty() {
                out.push_str(",\"Value\":[");
                push_string(out, &s);
                out.push(']');
            }
            out.push('}');
            true
        }
        _ if vr::is_multi_valued_text(vr) => {
            let whole = decode(value::trim(vr, v), vr, level);
            let parts: Vec<&str> = value::text_values(vr, &whole).collect();
            if parts.len() == 1 && parts[0].chars().count() > opts.max_text {
                return false;
            }
            open(out, vr);
            if !(parts.len() == 1 && parts[0].is_empty()) {
                out.push_str(",\"Value\":[");
                for (k, p) in parts.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    if p.is_empty() {
                        out.push_str("null");
                    } else if &vr == b"PN" {
                        push_person_name(out, p);
                    } else {
                        push_string(out, p);
                    }
                }
                out.push(']');
            }
            out.push('}');
            true
        }
        _ => false, // binary (O*, UN) and unknown VRs
    }
}

enum Number {
    F(f64),
    I(i64),
}

fn push_display(out: &mut String, x: impl std::fmt::Display) {
    use std::fmt::Write;
    let _ = write!(out, "{x}");
}

/// A float as JSON: the shortest text that reads back to the same value;
/// NaN and infinities (not JSON numbers) as null.
fn push_float(out: &mut String, x: f64) {
    if x.is_finite() {
        use std::fmt::Write;
        let _ = write!(out, "{x:?}");
    } else {
        out.push_str("null");
    }
}

fn push_person_name(out: &mut String, p: &str) {
    const GROUPS: [&str; 3] = ["Alphabetic", "Ideographic", "Phonetic"];
    out.push('{');
    let mut first = true;
    for (g, part) in GROUPS.iter().zip(p.split('=')) {
        if part.is_empty() {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        out.push('"');
        out.push_str(g);
        out.push_str("\":");
        push_string(out, part);
    }
    out.push('}');
}

fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                use std::fmt::Write;
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse_dataset, ParseOptions};
    use crate::syntax::Encoding;

    fn el(tag: u32, vr: &[u8; 2], v: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&((tag >> 16) as u16).to_le_bytes());
        b.extend_from_slice(&(tag as u16).to_le_bytes());
        b.extend_from_slice(vr);
        b.extend_from_slice(&(v.len() as u16).to_le_bytes());
        b.extend_from_slice(v);
        b
    }

    fn json_of(data: &[u8]) -> String {
        let enc = Encoding {
            explicit_vr: true,
            big_endian: false,
        };
        let mut index = Index::default();
        parse_dataset(
            data,
            0,
            data.len() as u64,
            enc,
            &ParseOptions::default(),
            &mut index,
        )
        .expect("parses");
        let top: Vec<u32> = index.children(crate::index::NONE).collect();
        text_attributes_json(&index, data, &top, None, AttributeOptions::default())
    }

    #[test]
    fn values_as_the_dataset_gives_them() {
        let mut d = Vec::new();
        d.extend(el(0x0008_0060, b"CS", b"CT"));
        d.extend(el(0x0009_0010, b"LO", b"PRIVATE "));
        d.extend(el(0x0010_0010, b"PN", b"Doe^Jane=\\X "));
        d.extend(el(0x0018_0050, b"DS", b" 1.5\\abc "));
        d.extend(el(0x0020_0013, b"IS", b"12"));
        d.extend(el(0x0028_0010, b"US", &512u16.to_le_bytes()));
        d.extend(el(0x0028_1050, b"DS", b""));
        d.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0, 2, 0, 0, 0, 0, 0]);
        assert_eq!(
            json_of(&d),
            concat!(
                r#"{"00080060":{"vr":"CS","Value":["CT"]},"#,
                r#""00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^Jane"},{"Alphabetic":"X"}]},"#,
                r#""00180050":{"vr":"DS","Value":[1.5,"abc"]},"#,
                r#""00200013":{"vr":"IS","Value":[12]},"#,
                r#""00280010":{"vr":"US","Value":[512]},"#,
                r#""00281050":{"vr":"DS"}}"#
            )
        );
    }

    #[test]
    fn text_is_escaped_and_long_text_left_out() {
        let mut d = Vec::new();
        d.extend(el(0x0008_1030, b"LO", b"a \"b\"\\c"));
        d.extend(el(0x0010_4000, b"LT", &[b'x'; 5000]));
        assert_eq!(
            json_of(&d),
            r#"{"00081030":{"vr":"LO","Value":["a \"b\"","c"]}}"#
        );
    }
}
