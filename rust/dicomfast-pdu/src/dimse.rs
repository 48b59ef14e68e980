//! DIMSE command sets (PS3.7 §6.3 and §9.3/§10.3, elements of Annex E):
//! group 0000 elements, always Implicit VR Little Endian (PS3.5 §7.1.3),
//! with Command Group Length (0000,0000) computed on encode.

use crate::command_dict::{tags, COMMAND_ELEMENTS};
use crate::error::{PduError, Result};

/// Command Data Set Type (0000,0800) value meaning "no data set"
/// (PS3.7 Table E.1-1); any other value means a data set follows.
pub const NO_DATA_SET: u16 = 0x0101;

/// The value of one command element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandValue {
    /// VR US, one value.
    Us(u16),
    /// VR UL, one value.
    Ul(u32),
    /// VR UI: padded with a trailing NUL to even length.
    Uid(String),
    /// VR AE, LO, SH, CS, LT, IS: padded with a trailing space to even length.
    Str(String),
    /// VR AT: tags as (group << 16 | element).
    At(Vec<u32>),
    /// Anything else, written as is (must be of even length).
    Bytes(Vec<u8>),
}

/// A command set: (tag, value) pairs. Encoding writes them in ascending tag
/// order; decoding returns them in wire order without (0000,0000).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandSet {
    pub elements: Vec<(u32, CommandValue)>,
}

/// VR of a command group element, from PS3.7 Annex E.
pub fn vr_of(tag: u32) -> Option<&'static str> {
    COMMAND_ELEMENTS
        .binary_search_by_key(&tag, |e| e.tag)
        .ok()
        .map(|i| COMMAND_ELEMENTS[i].vr)
}

fn vr_accepts(vr: &str, v: &CommandValue) -> bool {
    matches!(
        (vr, v),
        (_, CommandValue::Bytes(_))
            | ("US", CommandValue::Us(_))
            | ("UL", CommandValue::Ul(_))
            | ("UI", CommandValue::Uid(_))
            | ("AT", CommandValue::At(_))
            | (
                "AE" | "LO" | "SH" | "CS" | "LT" | "IS",
                CommandValue::Str(_)
            )
    )
}

fn value_len(v: &CommandValue) -> usize {
    match v {
        CommandValue::Us(_) => 2,
        CommandValue::Ul(_) => 4,
        CommandValue::Uid(s) | CommandValue::Str(s) => s.len() + (s.len() & 1),
        CommandValue::At(t) => t.len() * 4,
        CommandValue::Bytes(b) => b.len(),
    }
}

fn put_value(out: &mut Vec<u8>, v: &CommandValue) {
    match v {
        CommandValue::Us(x) => out.extend_from_slice(&x.to_le_bytes()),
        CommandValue::Ul(x) => out.extend_from_slice(&x.to_le_bytes()),
        CommandValue::Uid(s) => {
            out.extend_from_slice(s.as_bytes());
            if s.len() & 1 == 1 {
                out.push(0);
            }
        }
        CommandValue::Str(s) => {
            out.extend_from_slice(s.as_bytes());
            if s.len() & 1 == 1 {
                out.push(b' ');
            }
        }
        CommandValue::At(t) => {
            for tag in t {
                out.extend_from_slice(&((tag >> 16) as u16).to_le_bytes());
                out.extend_from_slice(&(*tag as u16).to_le_bytes());
            }
        }
        CommandValue::Bytes(b) => out.extend_from_slice(b),
    }
}

fn decode_value(tag: u32, v: &[u8]) -> CommandValue {
    let as_text = |trim: &[u8]| -> Option<String> {
        let end = v
            .iter()
            .rposition(|b| !trim.contains(b))
            .map_or(0, |p| p + 1);
        std::str::from_utf8(&v[..end]).ok().map(str::to_owned)
    };
    let typed = match vr_of(tag) {
        Some("US") if v.len() == 2 => Some(CommandValue::Us(u16::from_le_bytes([v[0], v[1]]))),
        Some("UL") if v.len() == 4 => Some(CommandValue::Ul(u32::from_le_bytes([
            v[0], v[1], v[2], v[3],
        ]))),
        Some("UI") => as_text(b"\0 ").map(CommandValue::Uid),
        Some("AE" | "LO" | "SH" | "CS" | "LT" | "IS") => as_text(b" \0").map(CommandValue::Str),
        Some("AT") if v.len() & 3 == 0 => Some(CommandValue::At(
            v.chunks_exact(4)
                .map(|c| {
                    (u32::from(u16::from_le_bytes([c[0], c[1]])) << 16)
                        | u32::from(u16::from_le_bytes([c[2], c[3]]))
                })
                .collect(),
        )),
        _ => None,
    };
    typed.unwrap_or_else(|| CommandValue::Bytes(v.to_vec()))
}

impl CommandSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builder form of [`CommandSet::set`].
    pub fn with(mut self, tag: u32, value: CommandValue) -> Self {
        self.set(tag, value);
        self
    }

    /// Replace the value of `tag`, or append it.
    pub fn set(&mut self, tag: u32, value: CommandValue) {
        match self.elements.iter_mut().find(|(t, _)| *t == tag) {
            Some(e) => e.1 = value,
            None => self.elements.push((tag, value)),
        }
    }

    pub fn get(&self, tag: u32) -> Option<&CommandValue> {
        self.elements
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, v)| v)
    }

    pub fn get_us(&self, tag: u32) -> Option<u16> {
        match self.get(tag)? {
            CommandValue::Us(v) => Some(*v),
            _ => None,
        }
    }

    pub fn get_ul(&self, tag: u32) -> Option<u32> {
        match self.get(tag)? {
            CommandValue::Ul(v) => Some(*v),
            _ => None,
        }
    }

    /// A UI or text value.
    pub fn get_str(&self, tag: u32) -> Option<&str> {
        match self.get(tag)? {
            CommandValue::Uid(s) | CommandValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Command Field (0000,0100).
    pub fn command_field(&self) -> Option<u16> {
        self.get_us(tags::COMMAND_FIELD)
    }

    /// Whether Command Data Set Type (0000,0800) announces a data set.
    pub fn has_data_set(&self) -> Option<bool> {
        self.get_us(tags::COMMAND_DATA_SET_TYPE)
            .map(|v| v != NO_DATA_SET)
    }

    /// Encode into a new buffer (see [`CommandSet::encode_into`]).
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut v = Vec::new();
        self.encode_into(&mut v)?;
        Ok(v)
    }

    /// Append the Implicit VR Little Endian encoding: (0000,0000) first with
    /// the computed group length, then the elements in ascending tag order.
    /// Any (0000,0000) in `elements` is ignored. Errors on tags outside group
    /// 0000, duplicate tags, values whose variant does not fit the tag's VR,
    /// odd-length raw bytes, and lengths beyond 32 bits.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<()> {
        let mut order: Vec<&(u32, CommandValue)> = self
            .elements
            .iter()
            .filter(|(t, _)| *t != tags::COMMAND_GROUP_LENGTH)
            .collect();
        order.sort_by_key(|(t, _)| *t);
        let mut total: u64 = 0;
        let mut prev = None;
        for (tag, v) in &order {
            if tag >> 16 != 0 {
                return Err(PduError::InvalidField {
                    what: "command element tag",
                    reason: "not in group 0000",
                });
            }
            if prev == Some(*tag) {
                return Err(PduError::InvalidField {
                    what: "command set",
                    reason: "duplicate tag",
                });
            }
            prev = Some(*tag);
            if let Some(vr) = vr_of(*tag) {
                if !vr_accepts(vr, v) {
                    return Err(PduError::VrMismatch {
                        tag: *tag,
                        expected: vr,
                    });
                }
            }
            if let CommandValue::Bytes(b) = v {
                if b.len() & 1 == 1 {
                    return Err(PduError::InvalidField {
                        what: "command element value",
                        reason: "odd length",
                    });
                }
            }
            let len = value_len(v);
            if len > u32::MAX as usize {
                return Err(PduError::FieldTooLong {
                    what: "command element value",
                    len,
                    max: u32::MAX as usize,
                });
            }
            total += 8 + len as u64;
        }
        let total = u32::try_from(total).map_err(|_| PduError::FieldTooLong {
            what: "command set",
            len: usize::try_from(total).unwrap_or(usize::MAX),
            max: u32::MAX as usize,
        })?;
        out.reserve(12 + total as usize);
        out.extend_from_slice(&[0, 0, 0, 0, 4, 0, 0, 0]);
        out.extend_from_slice(&total.to_le_bytes());
        for (tag, v) in order {
            out.extend_from_slice(&((*tag >> 16) as u16).to_le_bytes());
            out.extend_from_slice(&(*tag as u16).to_le_bytes());
            out.extend_from_slice(&(value_len(v) as u32).to_le_bytes());
            put_value(out, v);
        }
        Ok(())
    }

    /// Decode a command set. Requires group 0000 tags in strictly ascending
    /// order with lengths inside the buffer; if (0000,0000) is present it
    /// must equal the number of bytes that follow it. Values are typed by
    /// the VR of PS3.7 Annex E when their length fits, else kept as bytes.
    pub fn decode(buf: &[u8]) -> Result<Self> {
        let mut elements = Vec::new();
        let mut pos = 0usize;
        let mut prev: Option<u32> = None;
        while pos < buf.len() {
            let (tag, len, vpos) = element_header(buf, pos)?;
            if let Some(p) = prev {
                if tag <= p {
                    return Err(PduError::UnorderedElement { offset: pos, tag });
                }
            }
            prev = Some(tag);
            let value = &buf[vpos..vpos + len];
            if tag == tags::COMMAND_GROUP_LENGTH {
                if len != 4 {
                    return Err(PduError::BadFixedLength {
                        offset: pos,
                        what: "command group length",
                        expected: 4,
                        found: len,
                    });
                }
                let declared = u32::from_le_bytes([value[0], value[1], value[2], value[3]]);
                let actual = (buf.len() - vpos - 4) as u64;
                if u64::from(declared) != actual {
                    return Err(PduError::GroupLengthMismatch {
                        offset: vpos,
                        declared,
                        actual: u32::try_from(actual).unwrap_or(u32::MAX),
                    });
                }
            } else {
                elements.push((tag, decode_value(tag, value)));
            }
            pos = vpos + len;
        }
        Ok(CommandSet { elements })
    }
}

/// Parse an implicit VR LE element header at `pos`: (tag, value length,
/// value offset), checking the group and that the value fits.
fn element_header(buf: &[u8], pos: usize) -> Result<(u32, usize, usize)> {
    let Some(h) = buf
        .get(pos..pos.saturating_add(8))
        .and_then(|s| s.first_chunk::<8>())
    else {
        return Err(PduError::Overrun {
            offset: pos,
            what: "command element header",
            needed: 8,
            available: buf.len().saturating_sub(pos),
        });
    };
    let group = u16::from_le_bytes([h[0], h[1]]);
    let elem = u16::from_le_bytes([h[2], h[3]]);
    let tag = (u32::from(group) << 16) | u32::from(elem);
    if group != 0 {
        return Err(PduError::NotCommandGroup { offset: pos, tag });
    }
    let len = u32::from_le_bytes([h[4], h[5], h[6], h[7]]) as usize;
    let vpos = pos + 8;
    if len > buf.len() - vpos {
        return Err(PduError::Overrun {
            offset: pos + 4,
            what: "command element value",
            needed: len,
            available: buf.len() - vpos,
        });
    }
    Ok((tag, len, vpos))
}

/// Quick scan of an encoded command set for Command Data Set Type
/// (0000,0800): `Some(true)` if it announces a data set, `Some(false)` if
/// not, `None` if the element is missing or the buffer is malformed.
/// Does not allocate.
pub fn command_has_data_set(buf: &[u8]) -> Option<bool> {
    let mut pos = 0usize;
    while pos < buf.len() {
        let (tag, len, vpos) = element_header(buf, pos).ok()?;
        if tag == tags::COMMAND_DATA_SET_TYPE {
            return match buf[vpos..vpos + len] {
                [a, b] => Some(u16::from_le_bytes([a, b]) != NO_DATA_SET),
                _ => None,
            };
        }
        pos = vpos + len;
    }
    None
}
