//! The element index: one flat vector of [`Node`]s in document order.
//! A node records where an element (or item, or pixel fragment) lies in the
//! buffer; values stay in the buffer until somebody asks for them.

use crate::syntax::Encoding;
use crate::vr::Vr;

/// Declared length meaning "undefined" (PS3.5 §7.1.1).
pub const UNDEFINED_LENGTH: u32 = 0xFFFF_FFFF;
/// Index value meaning "no node" (the parent of top-level elements).
pub const NONE: u32 = u32::MAX;

pub mod flags {
    /// The element was encoded with implicit VR (its VR comes from the dictionary).
    pub const IMPLICIT: u16 = 1 << 0;
    /// The element was encoded big endian.
    pub const BIG_ENDIAN: u16 = 1 << 1;
    /// A sequence: its children are items.
    pub const SEQUENCE: u16 = 1 << 2;
    /// An item of a sequence: its children are elements.
    pub const ITEM: u16 = 1 << 3;
    /// Encapsulated pixel data: its children are fragments (the first is the Basic Offset Table).
    pub const ENCAPSULATED: u16 = 1 << 4;
    /// A fragment of encapsulated pixel data.
    pub const FRAGMENT: u16 = 1 << 5;
    /// The dictionary gives more than one VR for this tag (implicit VR only).
    pub const AMBIGUOUS_VR: u16 = 1 << 6;
    /// UN of undefined length, read as an implicit VR little endian sequence (PS3.5 §6.2.2).
    pub const UN_SEQUENCE: u16 = 1 << 7;
    /// Encoded as UN, but the dictionary knows the tag: `vr` is the dictionary's.
    pub const UN_RESOLVED: u16 = 1 << 8;
}

/// One element, item or fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Node {
    pub tag: u32,
    pub vr: Vr,
    pub flags: u16,
    /// Declared value length ([`UNDEFINED_LENGTH`] for undefined).
    pub length: u32,
    /// Offset of the first byte of the element's tag.
    pub header_offset: u64,
    /// Offset of the first byte of the value.
    pub value_offset: u64,
    /// Offset just past the value, including any delimiter item.
    pub end_offset: u64,
    /// Index of the next sibling; `self + 1` for nodes without children.
    pub next: u32,
    /// Index of the enclosing sequence, item or pixel data element ([`NONE`] at top level).
    pub parent: u32,
}

impl Node {
    #[inline]
    pub fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }

    #[inline]
    pub fn undefined_length(&self) -> bool {
        self.length == UNDEFINED_LENGTH
    }

    /// The encoding this node was read with.
    #[inline]
    pub fn encoding(&self) -> Encoding {
        Encoding {
            explicit_vr: !self.has(flags::IMPLICIT),
            big_endian: self.has(flags::BIG_ENDIAN),
        }
    }

    /// Length of the value in the buffer (for defined lengths, the declared one).
    #[inline]
    pub fn value_len(&self) -> u64 {
        if self.undefined_length() {
            self.end_offset - self.value_offset
        } else {
            self.length as u64
        }
    }
}

/// All nodes of one buffer.
#[derive(Debug, Default, Clone)]
pub struct Index {
    pub nodes: Vec<Node>,
}

impl Index {
    /// Indices of the children of `parent` ([`NONE`] for top level, within `[start, end)`).
    pub fn children(&self, parent: u32) -> Children<'_> {
        let (start, end) = if parent == NONE {
            (0, self.nodes.len() as u32)
        } else {
            let p = &self.nodes[parent as usize];
            (parent + 1, p.next)
        };
        Children {
            index: self,
            at: start,
            end,
        }
    }

    /// Top-level children between two positions (used to split file meta and data set).
    pub fn siblings(&self, start: u32, end: u32) -> Children<'_> {
        Children {
            index: self,
            at: start,
            end,
        }
    }
}

/// Iterator over the direct children of a node.
pub struct Children<'a> {
    index: &'a Index,
    at: u32,
    end: u32,
}

impl Iterator for Children<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        if self.at >= self.end {
            return None;
        }
        let i = self.at;
        // `next` always moves forward (the parser guarantees it), so this ends.
        self.at = self.index.nodes[i as usize].next.max(i + 1);
        Some(i)
    }
}
