//! Internal helpers shared by the decoders and encoders: a bounds-checked
//! big-endian cursor that knows its absolute offset, item-header parsing, and
//! the text rules for AE titles and UIDs.

use crate::error::{PduError, Result};

/// A read cursor over a slice whose first byte sits at absolute offset
/// `base` of the caller's buffer. Every read is bounds-checked; nothing here
/// can panic.
#[derive(Clone, Copy)]
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8], base: usize) -> Self {
        Cursor { buf, pos: 0, base }
    }

    /// Absolute offset of the next unread byte.
    pub(crate) fn offset(&self) -> usize {
        self.base + self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The unread bytes (without consuming them).
    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(PduError::Overrun {
                offset: self.offset(),
                what,
                needed: n,
                available: self.remaining(),
            });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub(crate) fn skip(&mut self, n: usize, what: &'static str) -> Result<()> {
        self.take(n, what).map(|_| ())
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }

    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Split off the next `n` bytes as a child cursor.
    pub(crate) fn sub(&mut self, n: usize, what: &'static str) -> Result<Cursor<'a>> {
        let start = self.offset();
        let s = self.take(n, what)?;
        Ok(Cursor::new(s, start))
    }

    /// Read a 2-byte length followed by that many bytes.
    pub(crate) fn u16_prefixed(&mut self, what: &'static str) -> Result<(usize, &'a [u8])> {
        let len = self.u16(what)? as usize;
        let at = self.offset();
        Ok((at, self.take(len, what)?))
    }

    /// Read the 4-byte header shared by every item and sub-item of
    /// PS3.8 §9.3.2-§9.3.3 and Annex D (type, reserved, 2-byte length) and
    /// return (absolute offset of the item, type, reserved byte, body).
    pub(crate) fn item(&mut self) -> Result<(usize, u8, u8, Cursor<'a>)> {
        let at = self.offset();
        let item_type = self.u8("item type")?;
        let reserved = self.u8("item header")?;
        let len = self.u16("item length")? as usize;
        let body = self.sub(len, "item")?;
        Ok((at, item_type, reserved, body))
    }
}

/// Append helpers (big endian, as every PDU field is).
pub(crate) fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub(crate) fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub(crate) fn len_u16(what: &'static str, len: usize) -> Result<u16> {
    u16::try_from(len).map_err(|_| PduError::FieldTooLong {
        what,
        len,
        max: u16::MAX as usize,
    })
}

pub(crate) fn len_u32(what: &'static str, len: usize) -> Result<u32> {
    u32::try_from(len).map_err(|_| PduError::FieldTooLong {
        what,
        len,
        max: u32::MAX as usize,
    })
}

/// Write an item with a 2-byte length: `f` appends the body, the length is
/// back-patched afterwards.
pub(crate) fn put_item(
    out: &mut Vec<u8>,
    item_type: u8,
    reserved: u8,
    what: &'static str,
    f: impl FnOnce(&mut Vec<u8>) -> Result<()>,
) -> Result<()> {
    out.push(item_type);
    out.push(reserved);
    let len_at = out.len();
    out.extend_from_slice(&[0, 0]);
    f(out)?;
    let len = len_u16(what, out.len() - len_at - 2)?;
    out[len_at..len_at + 2].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

/// Write a 2-byte length followed by the bytes.
pub(crate) fn put_u16_prefixed(out: &mut Vec<u8>, what: &'static str, v: &[u8]) -> Result<()> {
    put_u16(out, len_u16(what, v.len())?);
    out.extend_from_slice(v);
    Ok(())
}

/// Decode a UID-like or short text field: printable ASCII, trailing NUL and
/// space padding removed (tolerated on read, never written).
pub(crate) fn text(bytes: &[u8], offset: usize, what: &'static str) -> Result<String> {
    let end = bytes
        .iter()
        .rposition(|&b| b != 0 && b != b' ')
        .map_or(0, |p| p + 1);
    let t = &bytes[..end];
    if let Some(p) = t.iter().position(|&b| !(0x20..=0x7E).contains(&b)) {
        return Err(PduError::InvalidText {
            offset: offset + p,
            what,
        });
    }
    // All bytes are ASCII, so this is valid UTF-8.
    Ok(t.iter().map(|&b| b as char).collect())
}

/// Validate a text field for encoding (printable ASCII only).
pub(crate) fn check_text(v: &str, what: &'static str) -> Result<()> {
    if v.bytes().all(|b| (0x20..=0x7E).contains(&b)) {
        Ok(())
    } else {
        Err(PduError::InvalidField {
            what,
            reason: "not printable ASCII",
        })
    }
}

/// Decode a 16-byte AE title field (PS3.8 Table 9-11; VR AE of PS3.5):
/// trailing spaces (and, tolerated, NULs) are padding; leading spaces are
/// kept; control characters and backslash are rejected. An all-space title
/// decodes to the empty string (left to the association layer to judge).
pub(crate) fn ae_title(bytes: &[u8], offset: usize) -> Result<String> {
    let end = bytes
        .iter()
        .rposition(|&b| b != 0 && b != b' ')
        .map_or(0, |p| p + 1);
    for (i, &b) in bytes[..end].iter().enumerate() {
        if b == b'\\' {
            return Err(PduError::InvalidAeTitle {
                offset: offset + i,
                reason: "contains a backslash",
            });
        }
        if !(0x20..=0x7E).contains(&b) {
            return Err(PduError::InvalidAeTitle {
                offset: offset + i,
                reason: "contains a control or non-ASCII character",
            });
        }
    }
    Ok(bytes[..end].iter().map(|&b| b as char).collect())
}

/// Encode an AE title into its 16-byte space-padded field.
pub(crate) fn put_ae_title(out: &mut Vec<u8>, ae: &str) -> Result<()> {
    let b = ae.as_bytes();
    if b.len() > 16 {
        return Err(PduError::FieldTooLong {
            what: "AE title",
            len: b.len(),
            max: 16,
        });
    }
    if b.iter().any(|&c| c == b'\\' || !(0x20..=0x7E).contains(&c)) {
        return Err(PduError::InvalidField {
            what: "AE title",
            reason: "must be printable ASCII without backslash",
        });
    }
    out.extend_from_slice(b);
    out.extend(std::iter::repeat_n(b' ', 16 - b.len()));
    Ok(())
}
