//! Writes indexed elements in a chosen encoding: copies their bytes when the
//! encoding is unchanged, re-encodes headers, lengths and byte order when it is
//! not (PS3.5 §7.1 headers, §7.3 byte order, §7.5 sequences).

use crate::error::{ErrorKind, ParseError};
use crate::index::{flags, Index, Node, UNDEFINED_LENGTH};
use crate::syntax::Encoding;
use crate::tag;
use crate::vr::{self, Vr};
use std::ops::Range;

/// Chooses the VR to write for an element read with implicit VR whose
/// dictionary VR is ambiguous ("US or SS", "OB or OW", …).
pub trait VrResolver {
    fn resolve(&self, node: &Node) -> Vr;
}

/// The resolution DCMTK applies: signed when Pixel Representation is 1, OW for
/// pixel-like data read with implicit VR.
pub struct DefaultResolver {
    pub pixel_representation: u16,
}

impl VrResolver for DefaultResolver {
    fn resolve(&self, node: &Node) -> Vr {
        match &node.vr {
            b"US" if self.pixel_representation == 1 && !is_lut_descriptor(node.tag) => *b"SS",
            b"OB" => *b"OW",
            v => *v,
        }
    }
}

fn is_lut_descriptor(t: u32) -> bool {
    matches!(t, 0x0028_1101..=0x0028_1103 | 0x0028_3002)
}

pub struct Writer<'a, R: VrResolver> {
    pub buf: &'a [u8],
    pub index: &'a Index,
    pub dst: Encoding,
    pub resolver: R,
}

#[inline]
fn put16(out: &mut Vec<u8>, v: u16, be: bool) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

#[inline]
fn put32(out: &mut Vec<u8>, v: u32, be: bool) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

fn patch32(out: &mut [u8], at: usize, v: u32, be: bool) {
    out[at..at + 4].copy_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

/// Write an element header; returns the offset of its length field.
pub fn write_header(out: &mut Vec<u8>, t: u32, vr: Vr, len: u32, enc: Encoding) -> usize {
    let be = enc.big_endian;
    put16(out, tag::group(t), be);
    put16(out, tag::element(t), be);
    if enc.explicit_vr {
        out.extend_from_slice(&vr);
        if vr::has_long_length(vr) {
            out.extend_from_slice(&[0, 0]);
        } else {
            let at = out.len();
            put16(out, len as u16, be);
            return at;
        }
    }
    let at = out.len();
    put32(out, len, be);
    at
}

/// Append `value` swapping each `unit`-byte group (PS3.5 §7.3).
pub fn put_swapped(out: &mut Vec<u8>, value: &[u8], unit: usize) {
    if unit <= 1 {
        out.extend_from_slice(value);
        return;
    }
    let whole = value.len() - value.len() % unit;
    out.reserve(value.len());
    for chunk in value[..whole].chunks_exact(unit) {
        out.extend(chunk.iter().rev());
    }
    out.extend_from_slice(&value[whole..]);
}

impl<R: VrResolver> Writer<'_, R> {
    fn node(&self, i: u32) -> &Node {
        &self.index.nodes[i as usize]
    }

    fn err(&self, n: &Node, why: String) -> ParseError {
        ParseError::new(ErrorKind::Unwritable(why), n.header_offset, Some(n.tag))
    }

    /// Write the elements `nodes` (siblings) to `out`.
    pub fn write_all(
        &self,
        nodes: impl IntoIterator<Item = u32>,
        out: &mut Vec<u8>,
    ) -> Result<(), ParseError> {
        for i in nodes {
            self.element(i, out)?;
        }
        Ok(())
    }

    /// Write one element (and everything nested in it).
    pub fn element(&self, i: u32, out: &mut Vec<u8>) -> Result<(), ParseError> {
        if let Some(r) = self.element_by_reference(i, out)? {
            out.extend_from_slice(&self.buf[r]);
        }
        Ok(())
    }

    /// [`Writer::element`], except that bytes the element takes from the source
    /// unchanged (the whole element when the encoding is unchanged, else a value
    /// in the same byte order) are not copied: what precedes them is written to
    /// `out` and their range in the source is returned, for the caller to append
    /// (by reference, say, for a large Pixel Data value). `None`: all written.
    pub fn element_by_reference(
        &self,
        i: u32,
        out: &mut Vec<u8>,
    ) -> Result<Option<Range<usize>>, ParseError> {
        let n = *self.node(i);
        let src = n.encoding();
        let resolve = src.explicit_vr != self.dst.explicit_vr && n.has(flags::AMBIGUOUS_VR);
        if src == self.dst && !resolve {
            return Ok(Some(n.header_offset as usize..n.end_offset as usize));
        }
        let be = self.dst.big_endian;
        let mut vr = if n.has(flags::UN_RESOLVED) && self.dst.explicit_vr {
            *b"UN"
        } else if n.has(flags::AMBIGUOUS_VR) {
            self.resolver.resolve(&n)
        } else {
            n.vr
        };
        let value_range = n.value_offset as usize..n.end_offset as usize;
        let value = &self.buf[value_range.clone()];
        if n.has(flags::UN_SEQUENCE) {
            // The value is an implicit VR little endian sequence with its
            // delimiter (PS3.5 §6.2.2): it stays so in every encoding.
            write_header(out, n.tag, *b"UN", n.length, self.dst);
            return Ok(Some(value_range));
        }
        if n.has(flags::ENCAPSULATED) {
            if self.dst != Encoding::EXPLICIT_LE {
                return Err(self.err(
                    &n,
                    "encapsulated pixel data can only be written explicit VR little endian".into(),
                ));
            }
            write_header(out, n.tag, vr, UNDEFINED_LENGTH, self.dst);
            for f in self.index.children(i) {
                let fr = *self.node(f);
                put16(out, 0xFFFE, false);
                put16(out, 0xE000, false);
                put32(out, fr.length, false);
                out.extend_from_slice(&self.buf[fr.value_offset as usize..fr.end_offset as usize]);
            }
            self.delimiter(out, tag::SEQUENCE_DELIMITER);
            return Ok(None);
        }
        if n.has(flags::SEQUENCE) {
            let len_at = write_header(out, n.tag, *b"SQ", n.length, self.dst);
            let start = out.len();
            for item in self.index.children(i) {
                self.item(item, out)?;
            }
            if n.undefined_length() {
                self.delimiter(out, tag::SEQUENCE_DELIMITER);
            } else {
                let len = self.fit32(&n, out.len() - start)?;
                patch32(out, len_at, len, be);
            }
            return Ok(None);
        }
        if self.dst.explicit_vr && !vr::has_long_length(vr) && value.len() > 0xFFFF {
            vr = *b"UN"; // a value too long for a 2-byte length, as DCMTK writes it
        }
        let len = self.fit32(&n, value.len())?;
        write_header(out, n.tag, vr, len, self.dst);
        if src.big_endian != be && vr::swap_unit(vr) > 1 {
            put_swapped(out, value, vr::swap_unit(vr));
            return Ok(None);
        }
        Ok(Some(value_range))
    }

    fn item(&self, i: u32, out: &mut Vec<u8>) -> Result<(), ParseError> {
        let n = *self.node(i);
        let be = self.dst.big_endian;
        put16(out, 0xFFFE, be);
        put16(out, 0xE000, be);
        let len_at = out.len();
        put32(out, n.length, be);
        let start = out.len();
        for c in self.index.children(i) {
            self.element(c, out)?;
        }
        if n.undefined_length() {
            self.delimiter(out, tag::ITEM_DELIMITER);
        } else {
            let len = self.fit32(&n, out.len() - start)?;
            patch32(out, len_at, len, be);
        }
        Ok(())
    }

    fn delimiter(&self, out: &mut Vec<u8>, t: u32) {
        let be = self.dst.big_endian;
        put16(out, tag::group(t), be);
        put16(out, tag::element(t), be);
        put32(out, 0, be);
    }

    fn fit32(&self, n: &Node, len: usize) -> Result<u32, ParseError> {
        u32::try_from(len)
            .ok()
            .filter(|&l| l != UNDEFINED_LENGTH)
            .ok_or_else(|| {
                self.err(
                    n,
                    format!("value of {len} bytes does not fit a 32-bit length"),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::NONE;
    use crate::parse::{parse_dataset, ParseOptions};

    fn explicit_le(tag: u32, vr: &[u8; 2], value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((tag >> 16) as u16).to_le_bytes());
        v.extend_from_slice(&(tag as u16).to_le_bytes());
        v.extend_from_slice(vr);
        if vr::has_long_length(*vr) {
            v.extend_from_slice(&[0, 0]);
            v.extend_from_slice(&(value.len() as u32).to_le_bytes());
        } else {
            v.extend_from_slice(&(value.len() as u16).to_le_bytes());
        }
        v.extend_from_slice(value);
        v
    }

    /// `element` and `element_by_reference` + the referenced bytes write the same, and
    /// the references are the element (unchanged encoding) or its value (same byte
    /// order, or a value without byte order).
    #[test]
    fn by_reference_writes_what_element_writes() {
        let words: Vec<u8> = (0..64u8).collect();
        let mut buf = explicit_le(0x0008_0060, b"CS", b"CT");
        buf.extend_from_slice(&[
            0x08, 0, 0x40, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        buf.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        buf.extend(explicit_le(0x0008_1150, b"UI", b"1.2\0"));
        buf.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
        buf.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        buf.extend(explicit_le(0x0010_0010, b"PN", b"DOE^J "));
        buf.extend(explicit_le(0x7FE0_0010, b"OW", &words));
        let mut index = Index::default();
        parse_dataset(
            &buf,
            0,
            buf.len() as u64,
            Encoding::EXPLICIT_LE,
            &ParseOptions::default(),
            &mut index,
        )
        .unwrap();
        let top: Vec<u32> = index.children(NONE).collect();
        let big = Encoding::EXPLICIT_BE;
        for dst in [Encoding::EXPLICIT_LE, Encoding::IMPLICIT_LE, big] {
            let w = Writer {
                buf: &buf,
                index: &index,
                dst,
                resolver: DefaultResolver {
                    pixel_representation: 0,
                },
            };
            for &i in &top {
                let n = index.nodes[i as usize];
                let mut whole = Vec::new();
                w.element(i, &mut whole).unwrap();
                let mut head = Vec::new();
                let r = w.element_by_reference(i, &mut head).unwrap();
                if let Some(r) = r.clone() {
                    head.extend_from_slice(&buf[r]);
                }
                assert_eq!(head, whole, "{:08X} {dst:?}", n.tag);
                let element = n.header_offset as usize..n.end_offset as usize;
                let value = n.value_offset as usize..n.end_offset as usize;
                let want = match (dst == Encoding::EXPLICIT_LE, n.tag) {
                    (true, _) => Some(element),
                    (false, 0x0008_1140) => None, // sequence: re-encoded item by item
                    (false, 0x7FE0_0010) if dst == big => None, // OW words swapped
                    (false, _) => Some(value),
                };
                assert_eq!(r, want, "{:08X} {dst:?}", n.tag);
            }
        }
    }
}
