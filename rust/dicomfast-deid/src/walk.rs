//! The walk: every element in tag order at every level (group lengths dropped, a
//! repeated tag written once, its last occurrence), its action applied, kept elements
//! copied as read; a sequence with nothing changed inside is copied whole, else written
//! anew with the items' lengths in the sequence's own style (defined or undefined).

use crate::dates::py_strip;
use crate::{Action, Output, Part, Patient, Profile, Unsupported, Value};
use dicomfast_core::index::{flags, Index, Node, UNDEFINED_LENGTH};
use dicomfast_core::syntax::Encoding;
use dicomfast_core::tag;
use dicomfast_core::value;
use dicomfast_core::vr::{self, Vr};
use dicomfast_core::write::write_header;

/// The parsed input.
pub struct Source<'a> {
    pub buf: &'a [u8],
    pub index: &'a Index,
    /// Nodes `[0, meta_nodes)` are the file meta group.
    pub meta_nodes: u32,
    pub encoding: Encoding,
    pub has_preamble: bool,
    pub deflated: bool,
    /// The Transfer Syntax UID written in the output's file meta.
    pub transfer_syntax: &'a str,
    /// The encoding that syntax asks for (it must be the source's).
    pub output_encoding: Encoding,
}

const PATIENT_NAME: u32 = 0x0010_0010;
const PATIENT_ID: u32 = 0x0010_0020;
const SOP_CLASS_UID: u32 = 0x0008_0016;
const SOP_INSTANCE_UID: u32 = 0x0008_0018;
const STUDY_UID: u32 = 0x0020_000D;
const SERIES_UID: u32 = 0x0020_000E;
/// Patient Identity Removed, De-identification Method (and its Code Sequence),
/// Longitudinal Temporal Information Modified: written by the pass (PS3.15 E.1.1).
const RECORD: [u32; 4] = [0x0012_0062, 0x0012_0063, 0x0012_0064, 0x0028_0303];
/// Top-level values taken unchanged from the source by reference from this size up.
const MIN_REFERENCE: usize = 65536;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    /// Inside a sequence whose action is D: free text replaced by dummies.
    Dummy,
    /// Inside a sequence whose action is C: free text cleaned.
    Clean,
}

fn is_date(vr: Vr) -> bool {
    matches!(&vr, b"DA" | b"DT")
}

fn put32(out: &mut [u8], at: usize, v: u32) {
    out[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn ascii(v: &[u8], what: &str) -> Result<String, Unsupported> {
    if v.is_ascii() {
        Ok(String::from_utf8(v.to_vec()).expect("ASCII"))
    } else {
        Err(Unsupported(format!("non-ASCII bytes in {what}")))
    }
}

/// The values of a UI, DA or DT element as the Python layer reads them: split on
/// backslash, each stripped of spaces and NULs.
fn parts(vr: Vr, v: &[u8]) -> Result<Vec<String>, Unsupported> {
    let text = ascii(value::trim(vr, v), "a UID or date")?;
    Ok(text
        .split('\\')
        .map(|p| p.trim_matches([' ', '\0']).to_string())
        .collect())
}

struct Pass<'a> {
    profile: &'a Profile,
    patient: &'a Patient,
    src: &'a Source<'a>,
    out: Vec<u8>,
    parts: Vec<Part>,
    /// Final values of the four top-level UIDs the caller asks for.
    uids: [Value; 4],
    /// The data set's identifying words, longest first (made when first needed).
    words: Option<Vec<String>>,
}

impl<'a> Pass<'a> {
    fn node(&self, i: u32) -> Node {
        self.src.index.nodes[i as usize]
    }

    fn raw(&self, n: &Node) -> &'a [u8] {
        let buf: &'a [u8] = self.src.buf;
        &buf[n.header_offset as usize..n.end_offset as usize]
    }

    fn value(&self, n: &Node) -> &'a [u8] {
        let buf: &'a [u8] = self.src.buf;
        &buf[n.value_offset as usize..n.end_offset as usize]
    }

    /// Append an element with a new value (padded to even length: NUL for UI, binary
    /// VRs already even, space for text).
    fn put(&mut self, t: u32, vr: Vr, value: &[u8]) -> Result<(), Unsupported> {
        let pad = value.len() % 2;
        let len =
            u32::try_from(value.len() + pad).map_err(|_| Unsupported("value too long".into()))?;
        write_header(&mut self.out, t, vr, len, self.src.encoding);
        self.out.extend_from_slice(value);
        if pad == 1 {
            self.out.push(if &vr == b"UI" { 0 } else { b' ' });
        }
        Ok(())
    }

    /// Append a text value that the character set of the data set must encode (only
    /// ASCII, which every DICOM character set writes as itself).
    fn put_text(&mut self, t: u32, vr: Vr, text: &str) -> Result<(), Unsupported> {
        if !text.is_ascii() {
            return Err(Unsupported(format!(
                "a non-ASCII replacement for {}",
                tag::format(t)
            )));
        }
        self.put(t, vr, text.as_bytes())
    }

    fn is_text(&self, vr: Vr) -> bool {
        self.profile.text_vrs.contains(&vr)
    }

    /// The dummy value of `vr` (even length: `put` adds no padding).
    fn dummy(&self, vr: Vr) -> Result<&'a [u8], Unsupported> {
        let p: &'a Profile = self.profile;
        p.dummies
            .get(&vr)
            .map(|v| v.as_slice())
            .ok_or_else(|| Unsupported(format!("no dummy value for VR {}", vr::as_str(&vr))))
    }

    fn put_dummy(&mut self, t: u32, vr: Vr) -> Result<(), Unsupported> {
        let value = self.dummy(vr)?;
        self.put(t, vr, value)
    }

    /// The sorted children of `parent` without repeats (the last one of a tag wins),
    /// and whether a repeat was dropped.
    fn sorted(&self, kids: impl Iterator<Item = u32>) -> (Vec<(u32, u32)>, bool) {
        let mut v: Vec<(u32, u32)> = kids.map(|i| (self.node(i).tag, i)).collect();
        v.sort_by_key(|e| e.0); // stable: repeats stay in file order
        let n = v.len();
        let mut out: Vec<(u32, u32)> = Vec::with_capacity(n);
        for e in v {
            match out.last_mut() {
                Some(last) if last.0 == e.0 => *last = e,
                _ => out.push(e),
            }
        }
        let repeated = out.len() != n;
        (out, repeated)
    }

    /// Write element `i` (tag `t`); true when the output differs from the input.
    fn element(&mut self, t: u32, i: u32, mode: Mode, top: bool) -> Result<bool, Unsupported> {
        if t & 0xFFFF == 0 {
            return Ok(true); // group lengths: stale once anything changes
        }
        let n = self.node(i);
        let a = self.profile.action(t);
        if a == Some(Action::Remove) {
            return Ok(true);
        }
        if n.encoding() != self.src.encoding {
            // Copying it would mix encodings; the Python writer re-encodes it.
            return Err(Unsupported(format!(
                "{} is encoded otherwise than its data set",
                tag::format(t)
            )));
        }
        let vr = n.vr;
        if n.has(flags::UN_SEQUENCE) {
            return Err(Unsupported(format!(
                "sequence {} encoded as UN",
                tag::format(t)
            )));
        }
        // An empty sequence may have no sequence flag: it is written as one.
        let is_sq = n.has(flags::SEQUENCE) || &vr == b"SQ";
        let offset = self.patient.offset_days;
        match a {
            Some(Action::Remove) => unreachable!("returned above"),
            None | Some(Action::Keep) => {
                if is_sq {
                    return self.sequence(i, mode);
                }
                if offset != 0 && is_date(vr) && a.is_none() {
                    self.shifted(t, &n)?;
                    return Ok(true);
                }
                if mode != Mode::Plain
                    && self.is_text(vr)
                    && !self.profile.code_tags.contains(&t)
                    && a.is_none()
                    && has_value(vr, value::trim(vr, self.value(&n)))
                {
                    if mode == Mode::Dummy {
                        self.put_dummy(t, vr)?;
                    } else {
                        self.cleaned(t, &n)?;
                    }
                    return Ok(true);
                }
            }
            Some(_) if t == PATIENT_ID || t == PATIENT_NAME => {
                let p = self.patient;
                let text = if t == PATIENT_ID {
                    &p.new_id
                } else {
                    &p.new_name
                };
                self.put_text(t, vr, text)?;
                if top {
                    self.note(t, Value::Text(text.clone()));
                }
                return Ok(true);
            }
            Some(a) if is_sq => {
                return match a {
                    Action::Zero => {
                        write_header(
                            &mut self.out,
                            t,
                            *b"SQ",
                            UNDEFINED_LENGTH,
                            self.src.encoding,
                        );
                        self.delimiter(tag::SEQUENCE_DELIMITER);
                        Ok(true)
                    }
                    Action::Dummy => self.sequence(i, Mode::Dummy),
                    Action::Clean => self.sequence(i, Mode::Clean),
                    _ => self.sequence(i, mode),
                };
            }
            Some(Action::Zero) => {
                self.put(t, vr, b"")?;
                if top {
                    self.note(t, Value::Text(String::new()));
                }
                return Ok(true);
            }
            Some(Action::Dummy) => {
                self.put_dummy(t, vr)?;
                if top && &vr == b"UI" {
                    let uid = String::from_utf8_lossy(self.dummy(vr)?);
                    self.note(t, Value::Text(uid.trim_end_matches('\0').to_string()));
                }
                return Ok(true);
            }
            Some(Action::Uid | Action::UidSequence) => {
                if &vr != b"UI" {
                    self.put_dummy(t, vr)?;
                    return Ok(true);
                }
                let old = parts(vr, self.value(&n))?;
                if old.len() > 1 || !old[0].is_empty() {
                    let new: Vec<String> = old.iter().map(|u| self.profile.map_uid(u)).collect();
                    let text = new.join("\\");
                    self.put(t, vr, text.as_bytes())?;
                    if top {
                        self.note(t, Value::Text(text));
                    }
                    return Ok(true);
                }
            }
            Some(Action::Clean) => {
                if is_date(vr) {
                    if offset != 0 {
                        self.shifted(t, &n)?;
                        return Ok(true);
                    }
                } else if self.is_text(vr) {
                    self.cleaned(t, &n)?;
                    return Ok(true);
                }
            }
        }
        // Kept as read.
        if top {
            if matches!(t, SOP_CLASS_UID | SOP_INSTANCE_UID | STUDY_UID | SERIES_UID) {
                let text = parts(vr, self.value(&n))?.join("\\");
                self.note(t, Value::Text(text));
            }
            let r = n.header_offset as usize..n.end_offset as usize;
            if r.len() >= MIN_REFERENCE {
                self.parts.push(Part::Bytes(std::mem::take(&mut self.out)));
                self.parts.push(Part::Source(r));
                return Ok(false);
            }
        }
        let bytes = self.raw(&n);
        self.out.extend_from_slice(bytes);
        Ok(false)
    }

    fn note(&mut self, t: u32, v: Value) {
        let slot = match t {
            SOP_CLASS_UID => 0,
            SOP_INSTANCE_UID => 1,
            STUDY_UID => 2,
            SERIES_UID => 3,
            _ => return,
        };
        self.uids[slot] = v;
    }

    /// A DA or DT element with every value moved by the patient's offset (a value that
    /// is no whole date becomes the VR's dummy).
    fn shifted(&mut self, t: u32, n: &Node) -> Result<(), Unsupported> {
        let vr = n.vr;
        let days = self.patient.offset_days;
        let dummy = String::from_utf8_lossy(self.dummy(vr)?)
            .trim_end()
            .to_string();
        let new: Vec<String> = parts(vr, self.value(n))?
            .iter()
            .map(|v| {
                let moved = if &vr == b"DA" {
                    crate::shift_da(v, days)
                } else {
                    crate::shift_dt(v, days)
                };
                moved.unwrap_or_else(|| dummy.clone())
            })
            .collect();
        self.put(t, vr, new.join("\\").as_bytes())
    }

    /// A text element with every occurrence of the data set's identifying words
    /// deleted (each value; `dicomfast.deid.engine`'s clean of text).
    fn cleaned(&mut self, t: u32, n: &Node) -> Result<(), Unsupported> {
        if self.words.is_none() {
            self.words = Some(self.identifying_words()?);
        }
        let vr = n.vr;
        let text = plain_text(value::trim(vr, self.value(n)), "a text to clean")?;
        let values = read_values(vr, &text);
        let words = self.words.as_deref().unwrap_or_default();
        let clean: Vec<String> = values.iter().map(|v| scrub(v, words)).collect();
        self.put(t, vr, clean.join("\\").as_bytes())
    }

    /// The words the cleaning deletes: the values (3 characters or more, stripped) of
    /// the top-level text, date and date-time attributes the profile removes, empties,
    /// replaces or dummies (not private ones), and the components of person names.
    /// Only where every character set of the data set writes ASCII as ASCII, and the
    /// words are ASCII (Python's case folding of other text is not mirrored).
    fn identifying_words(&self) -> Result<Vec<String>, Unsupported> {
        for node in &self.src.index.nodes {
            if node.tag == tag::SPECIFIC_CHARACTER_SET {
                let v = value::trim(*b"CS", self.value(node));
                if !ascii_charset(v) {
                    return Err(Unsupported(format!(
                        "clean of text in character set {}",
                        String::from_utf8_lossy(v)
                    )));
                }
            }
        }
        let src = self.src;
        let top = src
            .index
            .siblings(src.meta_nodes, src.index.nodes.len() as u32);
        let (kids, _) = self.sorted(top);
        let mut found: Vec<String> = Vec::new();
        for (t, i) in kids {
            let n = self.node(i);
            let a = self.profile.action(t);
            let identifying = matches!(
                a,
                Some(Action::Remove | Action::Zero | Action::Dummy | Action::Uid)
            );
            if !identifying || t >> 16 & 1 == 1 || !(self.is_text(n.vr) || is_date(n.vr)) {
                continue;
            }
            let text = plain_text(value::trim(n.vr, self.value(&n)), "an identifying value")?;
            let values = read_values(n.vr, &text);
            for v in values {
                let v = py_strip(v);
                found.push(v.to_string());
                if &n.vr == b"PN" {
                    found.extend(v.split(['^', '=']).map(|c| py_strip(c).to_string()));
                }
            }
        }
        found.retain(|w| w.len() >= self.profile.min_scrub);
        found.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        found.dedup();
        Ok(found)
    }

    fn delimiter(&mut self, t: u32) {
        self.out.extend_from_slice(&tag::group(t).to_le_bytes());
        self.out.extend_from_slice(&tag::element(t).to_le_bytes());
        self.out.extend_from_slice(&[0; 4]);
    }

    fn finish(&mut self, len_at: usize, start: usize) -> Result<(), Unsupported> {
        let len = u32::try_from(self.out.len() - start)
            .ok()
            .filter(|&l| l != UNDEFINED_LENGTH)
            .ok_or_else(|| Unsupported("a sequence too long for its length".into()))?;
        put32(&mut self.out, len_at, len);
        Ok(())
    }

    /// Write sequence `i` with its items de-identified; copied as read when nothing
    /// inside changed.
    fn sequence(&mut self, i: u32, mode: Mode) -> Result<bool, Unsupported> {
        let n = self.node(i);
        let start = self.out.len();
        let undefined = n.undefined_length();
        let len_at = write_header(&mut self.out, n.tag, *b"SQ", n.length, self.src.encoding);
        let body = self.out.len();
        let mut changed = false;
        for item in self.src.index.children(i) {
            let it = self.node(item);
            if !it.has(flags::ITEM) {
                return Err(Unsupported(format!(
                    "a non-item in sequence {}",
                    tag::format(n.tag)
                )));
            }
            self.out.extend_from_slice(&0xFFFEu16.to_le_bytes());
            self.out.extend_from_slice(&0xE000u16.to_le_bytes());
            let item_len_at = self.out.len();
            self.out.extend_from_slice(&UNDEFINED_LENGTH.to_le_bytes());
            let item_start = self.out.len();
            let (kids, repeated) = self.sorted(self.src.index.children(item));
            changed |= repeated;
            for (t, k) in kids {
                changed |= self.element(t, k, mode, false)?;
            }
            if undefined {
                self.delimiter(tag::ITEM_DELIMITER);
            } else {
                self.finish(item_len_at, item_start)?;
            }
        }
        if undefined {
            self.delimiter(tag::SEQUENCE_DELIMITER);
        } else {
            self.finish(len_at, body)?;
        }
        if !changed {
            self.out.truncate(start);
            let bytes = self.raw(&n);
            self.out.extend_from_slice(bytes);
        }
        Ok(changed)
    }

    /// The record of what was done (PS3.15 E.1.1) at its place in the data set.
    fn record(&mut self, t: u32) -> Result<(), Unsupported> {
        let p = self.profile;
        match t {
            0x0012_0062 => self.put(t, *b"CS", b"YES"),
            0x0012_0063 => {
                let meanings: Vec<&str> = p.method_codes.iter().map(|c| c.2.as_str()).collect();
                self.put_text(t, *b"LO", &meanings.join("\\"))
            }
            0x0012_0064 => {
                let len_at = write_header(&mut self.out, t, *b"SQ", 0, self.src.encoding);
                let body = self.out.len();
                for (code, scheme, meaning) in &p.method_codes {
                    self.out.extend_from_slice(&0xFFFEu16.to_le_bytes());
                    self.out.extend_from_slice(&0xE000u16.to_le_bytes());
                    let item_len_at = self.out.len();
                    self.out.extend_from_slice(&[0; 4]);
                    let item = self.out.len();
                    self.put_text(0x0008_0100, *b"SH", code)?;
                    self.put_text(0x0008_0102, *b"SH", scheme)?;
                    self.put_text(0x0008_0104, *b"LO", meaning)?;
                    self.finish(item_len_at, item)?;
                }
                self.finish(len_at, body)
            }
            _ => self.put_text(t, *b"CS", &p.temporal_state),
        }
    }
}

/// ISO 8859 character sets (PS3.3 C.12.1.1.2), named `ISO_IR n` or, with code
/// extensions, `ISO 2022 IR n`: ASCII bytes are ASCII text in each.
const SINGLE_BYTE: [&str; 12] = [
    "6", "100", "101", "109", "110", "144", "127", "126", "138", "148", "166", "203",
];

/// Does a data set with Specific Character Set `v` read ASCII bytes without escape
/// sequences (refused elsewhere) as ASCII text?  Its first term decides: the default,
/// ISO 8859, UTF-8 or GB18030/GBK do; JIS X 0201 (IR 13: `\\` and `~` are other
/// characters) and anything unknown do not.
fn ascii_charset(v: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(v) else {
        return false;
    };
    let first = text.split('\\').next().unwrap_or("").trim_matches(' ');
    matches!(first, "" | "ISO_IR 192" | "GB18030" | "GBK")
        || ["ISO_IR ", "ISO 2022 IR "].iter().any(|p| {
            first
                .strip_prefix(p)
                .is_some_and(|n| SINGLE_BYTE.contains(&n))
        })
}

/// Printable-ASCII text (no escape sequences): the same in every allowed character set.
fn plain_text(v: &[u8], what: &str) -> Result<String, Unsupported> {
    if v.contains(&0x1B) {
        return Err(Unsupported(format!("escape sequences in {what}")));
    }
    ascii(v, what)
}

/// `text` with every occurrence of `words` (longest first; ASCII case ignored) deleted,
/// scanning left to right as a regular expression alternation of them does.
fn scrub(text: &str, words: &[String]) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    'scan: while i < b.len() {
        for w in words {
            let w = w.as_bytes();
            if b.len() - i >= w.len() && b[i..i + w.len()].eq_ignore_ascii_case(w) {
                i += w.len();
                continue 'scan;
            }
        }
        out.push(b[i] as char);
        i += 1;
    }
    out
}

/// The values of a text, date or date-time element as the Python layer reads them
/// (`RawFile.value`): LT, ST and UT are one value; the others are split on backslash,
/// each losing its trailing spaces (a PN then its trailing `=`, dates their NULs and
/// leading spaces too).
fn read_values(vr: Vr, text: &str) -> Vec<&str> {
    if matches!(&vr, b"LT" | b"ST" | b"UT") {
        return vec![text];
    }
    text.split('\\')
        .map(|p| match &vr {
            b"PN" => p.trim_end_matches(' ').trim_end_matches('='),
            b"DA" | b"DT" => p.trim_matches([' ', '\0']),
            _ => p.trim_end_matches(' '),
        })
        .collect()
}

/// Is there a value after trimming, as the Python layer reads it?  (A single PN loses
/// its trailing spaces, then its trailing `=`: PS3.5 6.2.1.)
fn has_value(vr: Vr, trimmed: &[u8]) -> bool {
    if &vr == b"PN" && !trimmed.contains(&b'\\') {
        let mut end = trimmed.len();
        while end > 0 && trimmed[end - 1] == b' ' {
            end -= 1;
        }
        while end > 0 && trimmed[end - 1] == b'=' {
            end -= 1;
        }
        return end > 0;
    }
    !trimmed.is_empty()
}

/// The file meta group (PS3.10 7.1) with its group length.
fn file_meta(profile: &Profile, src: &Source, uids: &[Value; 4]) -> Result<Vec<u8>, Unsupported> {
    let enc = Encoding::EXPLICIT_LE;
    if !src.transfer_syntax.is_ascii() {
        return Err(Unsupported("a non-ASCII transfer syntax UID".into()));
    }
    let mut body = Vec::new();
    write_header(&mut body, 0x0002_0001, *b"OB", 2, enc);
    body.extend_from_slice(&[0, 1]);
    let mut put = |t: u32, vr: Vr, text: &str| {
        let pad = text.len() % 2;
        write_header(&mut body, t, vr, (text.len() + pad) as u32, enc);
        body.extend_from_slice(text.as_bytes());
        if pad == 1 {
            body.push(if &vr == b"UI" { 0 } else { b' ' });
        }
    };
    for (t, v) in [(0x0002_0002, &uids[0]), (0x0002_0003, &uids[1])] {
        if let Value::Text(text) = v {
            put(t, *b"UI", text);
        }
    }
    if !src.transfer_syntax.is_empty() {
        put(0x0002_0010, *b"UI", src.transfer_syntax);
    }
    let (class_uid, version) = &profile.implementation;
    put(0x0002_0012, *b"UI", class_uid);
    if !version.is_ascii() {
        return Err(Unsupported(
            "a non-ASCII implementation version name".into(),
        ));
    }
    put(0x0002_0013, *b"SH", version);
    let mut out = Vec::with_capacity(body.len() + 12);
    write_header(&mut out, 0x0002_0000, *b"UL", 4, enc);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// De-identify the data set of `src` and write the whole output file.
pub fn deidentify(
    profile: &Profile,
    src: &Source,
    patient: &Patient,
) -> Result<Output, Unsupported> {
    if src.deflated || src.encoding.big_endian {
        return Err(Unsupported("a deflated or big endian data set".into()));
    }
    if src.encoding != src.output_encoding {
        return Err(Unsupported(
            "an output encoding other than the input's".into(),
        ));
    }
    let mut pass = Pass {
        profile,
        patient,
        src,
        out: Vec::with_capacity(16384),
        parts: Vec::new(),
        uids: [Value::Absent, Value::Absent, Value::Absent, Value::Absent],
        words: None,
    };
    let top = src
        .index
        .siblings(src.meta_nodes, src.index.nodes.len() as u32);
    // The data set of a file has no group 0002 (PS3.10 7.1); the record replaces any
    // elements of its tags.
    let top = top.filter(|&i| {
        let t = src.index.nodes[i as usize].tag;
        t >> 16 != 2 && !RECORD.contains(&t)
    });
    let (kids, _) = pass.sorted(top);
    let mut entries: Vec<(u32, Option<u32>)> =
        kids.into_iter().map(|(t, i)| (t, Some(i))).collect();
    entries.extend(RECORD.iter().map(|&t| (t, None)));
    entries.sort_by_key(|e| e.0);
    for (t, i) in entries {
        match i {
            Some(i) => {
                pass.element(t, i, Mode::Plain, true)?;
            }
            None => pass.record(t)?,
        }
    }
    let mut head = Vec::with_capacity(512);
    if src.has_preamble {
        head.extend_from_slice(&src.buf[..128]);
    } else {
        head.extend_from_slice(&[0; 128]);
    }
    head.extend_from_slice(b"DICM");
    head.extend(file_meta(profile, src, &pass.uids)?);
    let mut parts = vec![Part::Bytes(head)];
    parts.extend(
        pass.parts
            .drain(..)
            .filter(|p| p != &Part::Bytes(Vec::new())),
    );
    if !pass.out.is_empty() {
        parts.push(Part::Bytes(pass.out));
    }
    let [_, sop, study, series] = pass.uids;
    Ok(Output {
        parts,
        study_uid: study,
        series_uid: series,
        sop_instance_uid: sop,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_deletes_the_longest_word_at_each_place_ignoring_case() {
        let words = vec!["DOE^JOHN".to_string(), "JOHN".into(), "DOE".into()];
        assert_eq!(
            scrub("Seen by doe^john and John Doe.", &words),
            "Seen by  and  ."
        );
        assert_eq!(scrub("nothing here", &words), "nothing here");
        assert_eq!(scrub("DOEDOE", &words), "");
        assert_eq!(scrub("x", &[]), "x");
    }

    #[test]
    fn values_as_the_python_layer_reads_them() {
        assert!(!has_value(*b"PN", b"=="));
        assert!(has_value(*b"PN", b" =="));
        assert!(has_value(*b"PN", b"\\"));
        assert!(has_value(*b"LO", b"A"));
        assert!(!has_value(*b"LO", b""));
        assert_eq!(parts(*b"UI", b" 1.2\\3.4 \0").unwrap(), vec!["1.2", "3.4"]);
        assert!(parts(*b"UI", "1.2\u{e9}".as_bytes()).is_err());
        assert!(ascii_charset(b"") && ascii_charset(b"ISO_IR 100") && ascii_charset(b"GBK"));
        assert!(ascii_charset(b"ISO 2022 IR 6\\ISO 2022 IR 87"));
        assert!(!ascii_charset(b"ISO 2022 IR 13\\ISO 2022 IR 87"));
        assert!(!ascii_charset(b"ISO_IR 13") && !ascii_charset(b"KOI8"));
        assert_eq!(read_values(*b"PN", "==="), vec![""]); // no identifying word
        assert_eq!(read_values(*b"PN", "A^B==\\C "), vec!["A^B", "C"]);
        assert_eq!(read_values(*b"LT", " a\\b"), vec![" a\\b"]);
        assert_eq!(read_values(*b"DA", " 2020\0\\1999"), vec!["2020", "1999"]);
    }
}
