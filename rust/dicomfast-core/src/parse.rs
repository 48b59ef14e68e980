//! One pass over a data set that builds the [`Index`]: PS3.5 §7.1 (element
//! encoding), §7.5 (sequences and items), A.4 (encapsulated pixel data).
//!
//! The parser keeps an explicit stack instead of recursing, so nesting depth is
//! bounded by [`ParseOptions::max_depth`] and never by the thread's stack.

use crate::dictionary;
use crate::error::{ErrorKind, ParseError};
use crate::index::{flags, Index, Node, NONE, UNDEFINED_LENGTH};
use crate::syntax::Encoding;
use crate::tag;
use crate::vr::{self, Vr};

#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// Stop at the first top-level element at or past (7FE0,0010).
    pub stop_before_pixels: bool,
    /// On bad input keep the elements read so far and report the error instead of failing.
    pub partial: bool,
    pub max_depth: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            stop_before_pixels: false,
            partial: false,
            max_depth: 256,
        }
    }
}

/// What [`parse_dataset`] read: where it stopped and, in partial mode, why.
#[derive(Debug, Clone)]
pub struct ParseOutcome {
    pub end: u64,
    pub error: Option<ParseError>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dataset,
    Sequence,
    Fragments,
}

#[derive(Clone, Copy)]
struct Ctx {
    kind: Kind,
    owner: u32,
    /// Offset where a defined-length container ends; `u64::MAX` when undefined.
    end: u64,
    enc: Encoding,
}

#[inline]
fn u16_at(buf: &[u8], pos: usize, be: bool) -> u16 {
    let b = [buf[pos], buf[pos + 1]];
    if be {
        u16::from_be_bytes(b)
    } else {
        u16::from_le_bytes(b)
    }
}

#[inline]
fn u32_at(buf: &[u8], pos: usize, be: bool) -> u32 {
    let b = [buf[pos], buf[pos + 1], buf[pos + 2], buf[pos + 3]];
    if be {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    }
}

/// Does `buf[pos..]` start with an explicit-VR element header? Used to detect
/// data sets whose encoding disagrees with their transfer syntax.
pub fn looks_explicit(buf: &[u8], pos: usize) -> bool {
    buf.len() >= pos + 6 && vr::is_known([buf[pos + 4], buf[pos + 5]])
}

/// Parse the data set in `buf[start..end]` with encoding `enc`, appending nodes
/// to `index`. Top-level nodes get parent [`NONE`].
pub fn parse_dataset(
    buf: &[u8],
    start: u64,
    end: u64,
    enc: Encoding,
    opts: &ParseOptions,
    index: &mut Index,
) -> Result<ParseOutcome, ParseError> {
    let mut p = Parser {
        buf,
        pos: start,
        nodes: &mut index.nodes,
        stack: Vec::with_capacity(8),
        soft: None,
    };
    p.stack.push(Ctx {
        kind: Kind::Dataset,
        owner: NONE,
        end: end.min(buf.len() as u64),
        enc,
    });
    match p.run(opts) {
        Ok(()) => Ok(ParseOutcome {
            end: p.pos,
            error: p.soft,
        }),
        Err(e) if opts.partial => {
            p.recover();
            Ok(ParseOutcome {
                end: p.pos,
                error: Some(e),
            })
        }
        Err(e) => Err(e),
    }
}

struct Parser<'a> {
    buf: &'a [u8],
    pos: u64,
    nodes: &'a mut Vec<Node>,
    stack: Vec<Ctx>,
    /// Damage tolerated the way DCMTK and pydicom tolerate it (reported, not fatal).
    soft: Option<ParseError>,
}

impl Parser<'_> {
    fn err(&self, kind: ErrorKind, offset: u64, tag: Option<u32>) -> ParseError {
        ParseError::new(kind, offset, tag)
    }

    /// Require `n` bytes at the current position within `limit`.
    #[inline]
    fn need(&self, n: u64, limit: u64, tag: Option<u32>) -> Result<(), ParseError> {
        let available = limit.min(self.buf.len() as u64).saturating_sub(self.pos);
        if available < n {
            return Err(self.err(
                ErrorKind::Truncated {
                    needed: n,
                    available,
                },
                self.pos,
                tag,
            ));
        }
        Ok(())
    }

    fn close_top(&mut self) {
        if let Some(ctx) = self.stack.pop() {
            if ctx.owner != NONE {
                let next = self.nodes.len() as u32;
                let n = &mut self.nodes[ctx.owner as usize];
                n.next = next;
                n.end_offset = self.pos;
            }
        }
    }

    /// After an error in partial mode: drop the node being read and close every
    /// open container at the last good position.
    fn recover(&mut self) {
        while self.stack.len() > 1 {
            self.close_top();
        }
    }

    fn push(&mut self, ctx: Ctx, opts: &ParseOptions) -> Result<(), ParseError> {
        if self.stack.len() >= opts.max_depth {
            return Err(self.err(
                ErrorKind::TooDeep {
                    depth: opts.max_depth,
                },
                self.pos,
                None,
            ));
        }
        self.stack.push(ctx);
        Ok(())
    }

    fn run(&mut self, opts: &ParseOptions) -> Result<(), ParseError> {
        let buf_len = self.buf.len() as u64;
        loop {
            let ctx = *self.stack.last().expect("root context");
            if ctx.end != u64::MAX && self.pos >= ctx.end {
                if self.stack.len() == 1 {
                    return Ok(());
                }
                self.close_top();
                continue;
            }
            if self.pos >= buf_len {
                // Undefined-length container still open at the end of the data.
                let tag = (ctx.owner != NONE).then(|| self.nodes[ctx.owner as usize].tag);
                let e = self.err(ErrorKind::MissingDelimiter, self.pos, tag);
                if ctx.kind == Kind::Fragments {
                    // Pixel data whose last fragment is complete but whose
                    // sequence delimiter is missing: readers decode it anyway.
                    self.soft = Some(e);
                    self.recover();
                    return Ok(());
                }
                return Err(e);
            }
            match ctx.kind {
                Kind::Dataset => {
                    if self.element(ctx, opts)? {
                        return Ok(());
                    }
                }
                Kind::Sequence | Kind::Fragments => self.item(ctx, opts)?,
            }
        }
    }

    /// Read one item, fragment or sequence delimiter inside a sequence or pixel data.
    fn item(&mut self, ctx: Ctx, opts: &ParseOptions) -> Result<(), ParseError> {
        let be = ctx.enc.big_endian;
        self.need(8, ctx.end, None)?;
        let at = self.pos as usize;
        let t = ((u16_at(self.buf, at, be) as u32) << 16) | u16_at(self.buf, at + 2, be) as u32;
        let len = u32_at(self.buf, at + 4, be);
        match t {
            tag::SEQUENCE_DELIMITER => {
                self.pos += 8;
                self.close_top();
                Ok(())
            }
            tag::ITEM => {
                let me = self.nodes.len() as u32;
                let value_offset = self.pos + 8;
                let mut fl = if be { flags::BIG_ENDIAN } else { 0 };
                if !ctx.enc.explicit_vr {
                    fl |= flags::IMPLICIT;
                }
                let fragment = ctx.kind == Kind::Fragments;
                fl |= if fragment {
                    flags::FRAGMENT
                } else {
                    flags::ITEM
                };
                let end_offset = if len == UNDEFINED_LENGTH {
                    if fragment {
                        return Err(self.err(
                            ErrorKind::Overrun {
                                length: len as u64,
                                limit: 0,
                            },
                            self.pos,
                            Some(t),
                        ));
                    }
                    value_offset
                } else {
                    let limit = ctx.end.min(buf_len(self.buf));
                    if !fragment
                        && value_offset + len as u64 > limit
                        && limit == buf_len(self.buf)
                        && value_offset <= limit
                    {
                        // An item declared longer than the data left: read what
                        // is there (pydicom and DCMTK do) and report it.
                        self.soft = Some(self.err(
                            ErrorKind::Overrun {
                                length: len as u64,
                                limit: limit - value_offset,
                            },
                            self.pos,
                            Some(t),
                        ));
                        limit
                    } else if value_offset + len as u64 > limit {
                        return Err(self.err(
                            ErrorKind::Overrun {
                                length: len as u64,
                                limit: limit.saturating_sub(value_offset),
                            },
                            self.pos,
                            Some(t),
                        ));
                    } else {
                        value_offset + len as u64
                    }
                };
                self.nodes.push(Node {
                    tag: t,
                    vr: *b"  ",
                    flags: fl,
                    length: len,
                    header_offset: self.pos,
                    value_offset,
                    end_offset,
                    next: me + 1,
                    parent: ctx.owner,
                });
                if fragment {
                    self.pos = end_offset;
                } else {
                    self.pos = value_offset;
                    let end = if len == UNDEFINED_LENGTH {
                        u64::MAX
                    } else {
                        end_offset
                    };
                    self.push(
                        Ctx {
                            kind: Kind::Dataset,
                            owner: me,
                            end,
                            enc: ctx.enc,
                        },
                        opts,
                    )?;
                }
                Ok(())
            }
            found => Err(self.err(ErrorKind::ExpectedItem { found }, self.pos, None)),
        }
    }

    /// Read one element of a data set. Returns `true` to stop (stop_before_pixels).
    fn element(&mut self, ctx: Ctx, opts: &ParseOptions) -> Result<bool, ParseError> {
        let enc = ctx.enc;
        let be = enc.big_endian;
        self.need(8, ctx.end, None)?;
        let at = self.pos as usize;
        let t = ((u16_at(self.buf, at, be) as u32) << 16) | u16_at(self.buf, at + 2, be) as u32;

        if t == tag::ITEM_DELIMITER || t == tag::SEQUENCE_DELIMITER {
            // An item delimiter ends an undefined-length item. Anywhere else,
            // and for stray sequence delimiters, tolerate and skip it as DCMTK does.
            self.pos += 8;
            if t == tag::ITEM_DELIMITER && ctx.owner != NONE && ctx.end == u64::MAX {
                self.close_top();
            }
            return Ok(false);
        }
        if t == tag::ITEM && ctx.owner == NONE {
            // An item outside any sequence (e.g. after a sequence whose length
            // was written too short): the data set cannot go on from here.
            self.soft = Some(self.err(ErrorKind::ExpectedItem { found: t }, self.pos, Some(t)));
            self.pos = ctx.end;
            return Ok(true);
        }
        if opts.stop_before_pixels && ctx.owner == NONE && t >= tag::PIXEL_DATA {
            return Ok(true);
        }

        let mut fl = if be { flags::BIG_ENDIAN } else { 0 };
        let explicit = enc.explicit_vr && vr::is_known([self.buf[at + 4], self.buf[at + 5]]);
        let (mut vr, len, header): (Vr, u32, u64) = if explicit {
            let v = [self.buf[at + 4], self.buf[at + 5]];
            if vr::has_long_length(v) {
                self.need(12, ctx.end, Some(t))?;
                (v, u32_at(self.buf, at + 8, be), 12)
            } else {
                (v, u16_at(self.buf, at + 6, be) as u32, 8)
            }
        } else {
            // Implicit VR, or explicit VR whose VR field is not a VR (read as
            // implicit, as DCMTK does): the dictionary supplies the VR.
            fl |= flags::IMPLICIT;
            let (v, ambiguous) = dictionary::implicit_vr(t);
            if ambiguous {
                fl |= flags::AMBIGUOUS_VR;
            }
            (v, u32_at(self.buf, at + 4, be), 8)
        };
        if explicit && &vr == b"UN" && !tag::is_private(t) {
            // UN for a tag the dictionary knows: use the dictionary's VR for the
            // value, as pydicom does (PS3.5 §6.2.2: UN values are the bytes the
            // element would have in implicit VR little endian).
            if let Some(e) = dictionary::lookup(t).filter(|e| &e.vr != b"UN") {
                vr = e.vr;
                fl |= flags::UN_RESOLVED;
                if e.ambiguous_vr {
                    fl |= flags::AMBIGUOUS_VR;
                }
            }
        } else if explicit && &vr == b"UN" && tag::is_private_creator(t) {
            // A Private Creator is LO whatever group it reserves (PS3.5 §7.8.1), as
            // pydicom and implicit VR read it.
            vr = *b"LO";
            fl |= flags::UN_RESOLVED;
        }
        let me = self.nodes.len() as u32;
        let value_offset = self.pos + header;
        let mut node = Node {
            tag: t,
            vr,
            flags: fl,
            length: len,
            header_offset: self.pos,
            value_offset,
            end_offset: value_offset,
            next: me + 1,
            parent: ctx.owner,
        };

        if len == UNDEFINED_LENGTH {
            let kind = if &vr == b"SQ" {
                Kind::Sequence
            } else if t == tag::PIXEL_DATA && (&vr == b"OB" || &vr == b"OW" || !explicit) {
                // Encapsulated pixel data, even where the data set is implicit VR.
                node.vr = *b"OB";
                node.flags &= !flags::AMBIGUOUS_VR;
                Kind::Fragments
            } else if !enc.explicit_vr || !explicit {
                // Implicit VR: only sequences may have undefined length.
                vr = *b"SQ";
                node.vr = vr;
                node.flags &= !flags::AMBIGUOUS_VR;
                Kind::Sequence
            } else if &vr == b"UN" || node.has(flags::UN_RESOLVED) {
                node.vr = *b"SQ";
                node.flags |= flags::UN_SEQUENCE;
                Kind::Sequence
            } else if matches!(&vr, b"OB" | b"OW") {
                Kind::Fragments
            } else {
                return Err(self.err(
                    ErrorKind::Overrun {
                        length: len as u64,
                        limit: 0,
                    },
                    self.pos,
                    Some(t),
                ));
            };
            node.flags |= if kind == Kind::Sequence {
                flags::SEQUENCE
            } else {
                flags::ENCAPSULATED
            };
            let child_enc = if node.has(flags::UN_SEQUENCE) {
                Encoding::IMPLICIT_LE
            } else {
                enc
            };
            self.nodes.push(node);
            self.pos = value_offset;
            self.push(
                Ctx {
                    kind,
                    owner: me,
                    end: u64::MAX,
                    enc: child_enc,
                },
                opts,
            )?;
            return Ok(false);
        }

        let limit = ctx.end.min(buf_len(self.buf));
        let value_end = value_offset + len as u64;
        if value_end > limit {
            let available = limit.saturating_sub(value_offset);
            let kind = if ctx.end >= buf_len(self.buf) {
                // The data ends inside the value: a truncated file.
                ErrorKind::Truncated {
                    needed: len as u64,
                    available,
                }
            } else {
                ErrorKind::Overrun {
                    length: len as u64,
                    limit: available,
                }
            };
            return Err(self.err(kind, self.pos, Some(t)));
        }
        node.end_offset = value_end;
        if !explicit
            && &vr == b"UN"
            && len >= 8
            && u16_at(self.buf, value_offset as usize, be) == 0xFFFE
            && u16_at(self.buf, value_offset as usize + 2, be) == 0xE000
        {
            // An unknown (e.g. private) tag read with implicit VR whose value
            // starts with an item: a sequence of defined length.
            vr = *b"SQ";
            node.vr = vr;
        }
        self.nodes.push(node);
        if &vr == b"SQ" {
            node.flags |= flags::SEQUENCE;
            let child_enc = if node.has(flags::UN_RESOLVED) {
                node.flags |= flags::UN_SEQUENCE;
                Encoding::IMPLICIT_LE
            } else {
                enc
            };
            self.nodes[me as usize].flags = node.flags;
            self.pos = value_offset;
            self.push(
                Ctx {
                    kind: Kind::Sequence,
                    owner: me,
                    end: value_end,
                    enc: child_enc,
                },
                opts,
            )?;
        } else {
            self.pos = value_end;
        }
        Ok(false)
    }
}

#[inline]
fn buf_len(buf: &[u8]) -> u64 {
    buf.len() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn nested_undefined_length_sequence() {
        let mut buf = explicit_le(0x0008_0060, b"CS", b"CT");
        // (0008,1140) SQ undefined length, one undefined-length item with one element.
        buf.extend_from_slice(&[
            0x08, 0, 0x40, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        buf.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        buf.extend(explicit_le(0x0008_1150, b"UI", b"1.2\0"));
        buf.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
        buf.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        buf.extend(explicit_le(0x0010_0010, b"PN", b"DOE^J "));
        let mut idx = Index::default();
        let out = parse_dataset(
            &buf,
            0,
            buf.len() as u64,
            Encoding::EXPLICIT_LE,
            &ParseOptions::default(),
            &mut idx,
        )
        .unwrap();
        assert_eq!(out.end, buf.len() as u64);
        let top: Vec<u32> = idx
            .children(NONE)
            .map(|i| idx.nodes[i as usize].tag)
            .collect();
        assert_eq!(top, vec![0x0008_0060, 0x0008_1140, 0x0010_0010]);
        let sq = 1;
        let items: Vec<u32> = idx.children(sq).collect();
        assert_eq!(items.len(), 1);
        let inner: Vec<u32> = idx
            .children(items[0])
            .map(|i| idx.nodes[i as usize].tag)
            .collect();
        assert_eq!(inner, vec![0x0008_1150]);
        assert_eq!(idx.nodes[sq as usize].end_offset, buf.len() as u64 - 14);
    }

    #[test]
    fn truncated_value_reports_tag_and_offset() {
        let mut buf = explicit_le(0x0008_0060, b"CS", b"CT");
        buf.extend_from_slice(&[0x10, 0, 0x10, 0, b'P', b'N', 20, 0, b'A']);
        let mut idx = Index::default();
        let e = parse_dataset(
            &buf,
            0,
            buf.len() as u64,
            Encoding::EXPLICIT_LE,
            &ParseOptions::default(),
            &mut idx,
        )
        .unwrap_err();
        assert_eq!(e.tag, Some(0x0010_0010));
        assert_eq!(e.offset, 10);
        let mut idx = Index::default();
        let opts = ParseOptions {
            partial: true,
            ..Default::default()
        };
        let out = parse_dataset(
            &buf,
            0,
            buf.len() as u64,
            Encoding::EXPLICIT_LE,
            &opts,
            &mut idx,
        )
        .unwrap();
        assert!(out.error.is_some());
        assert_eq!(idx.nodes.len(), 1);
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut buf = Vec::new();
        for _ in 0..1000 {
            buf.extend_from_slice(&[
                0x08, 0, 0x40, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
            ]);
            buf.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        }
        let mut idx = Index::default();
        let e = parse_dataset(
            &buf,
            0,
            buf.len() as u64,
            Encoding::EXPLICIT_LE,
            &ParseOptions::default(),
            &mut idx,
        )
        .unwrap_err();
        assert!(matches!(e.kind, ErrorKind::TooDeep { .. }));
    }
}
