//! Which fragments of encapsulated pixel data make up which frame
//! (PS3.5 A.4: Basic Offset Table, Extended Offset Table, fragments).

use crate::error::{ErrorKind, ParseError};
use crate::index::{flags, Index};

/// Offsets from the Extended Offset Table (7FE0,0001), if the data set has one.
pub struct OffsetTable<'a> {
    pub offsets: &'a [u8],
    pub big_endian: bool,
}

fn frames_err(msg: String, offset: u64) -> ParseError {
    ParseError::new(ErrorKind::Frames(msg), offset, Some(crate::tag::PIXEL_DATA))
}

/// Split the fragments of `pixel_node` into frames: a list of fragment node
/// indices per frame. The first fragment (the Basic Offset Table) is never part
/// of a frame.
pub fn frame_fragments(
    buf: &[u8],
    index: &Index,
    pixel_node: u32,
    number_of_frames: usize,
    extended: Option<OffsetTable<'_>>,
) -> Result<Vec<Vec<u32>>, ParseError> {
    let node = &index.nodes[pixel_node as usize];
    if !node.has(flags::ENCAPSULATED) {
        return Err(frames_err(
            "pixel data is not encapsulated".into(),
            node.header_offset,
        ));
    }
    let all: Vec<u32> = index.children(pixel_node).collect();
    let Some((&bot, fragments)) = all.split_first() else {
        return Err(frames_err(
            "no Basic Offset Table item".into(),
            node.value_offset,
        ));
    };
    let nframes = number_of_frames.max(1);
    if fragments.is_empty() {
        return Err(frames_err("no fragments".into(), node.value_offset));
    }
    // Offsets of each fragment's item tag, relative to the first fragment's.
    let base = index.nodes[fragments[0] as usize].header_offset;
    let rel: Vec<u64> = fragments
        .iter()
        .map(|&f| index.nodes[f as usize].header_offset - base)
        .collect();

    let by_offsets = |offsets: Vec<u64>| -> Result<Vec<Vec<u32>>, ParseError> {
        let mut frames = Vec::with_capacity(offsets.len());
        for (k, &start) in offsets.iter().enumerate() {
            let end = offsets.get(k + 1).copied().unwrap_or(u64::MAX);
            if end < start {
                return Err(frames_err(
                    format!("offset table not ascending at frame {k}"),
                    0,
                ));
            }
            let first = rel.iter().position(|&r| r == start).ok_or_else(|| {
                frames_err(
                    format!("frame {k} offset {start} is not at a fragment"),
                    base + start,
                )
            })?;
            let members: Vec<u32> = fragments[first..]
                .iter()
                .zip(&rel[first..])
                .take_while(|(_, &r)| r < end)
                .map(|(&f, _)| f)
                .collect();
            frames.push(members);
        }
        Ok(frames)
    };

    if let Some(table) = extended {
        if !table.offsets.len().is_multiple_of(8) {
            return Err(frames_err(
                "Extended Offset Table length not a multiple of 8".into(),
                0,
            ));
        }
        let offsets = table
            .offsets
            .chunks_exact(8)
            .map(|c| {
                let b: [u8; 8] = c.try_into().unwrap_or([0; 8]);
                if table.big_endian {
                    u64::from_be_bytes(b)
                } else {
                    u64::from_le_bytes(b)
                }
            })
            .collect();
        return by_offsets(offsets);
    }
    let bot_node = &index.nodes[bot as usize];
    let bot_bytes = &buf[bot_node.value_offset as usize..bot_node.end_offset as usize];
    if !bot_bytes.is_empty() {
        if !bot_bytes.len().is_multiple_of(4) {
            return Err(frames_err(
                "Basic Offset Table length not a multiple of 4".into(),
                bot_node.value_offset,
            ));
        }
        let be = bot_node.has(flags::BIG_ENDIAN);
        let offsets: Vec<u64> = bot_bytes
            .chunks_exact(4)
            .map(|c| {
                let b = [c[0], c[1], c[2], c[3]];
                (if be {
                    u32::from_be_bytes(b)
                } else {
                    u32::from_le_bytes(b)
                }) as u64
            })
            .collect();
        if offsets.len() == nframes {
            return by_offsets(offsets);
        }
        // A table that disagrees with Number of Frames: fall through to scanning.
    }
    if nframes == 1 {
        return Ok(vec![fragments.to_vec()]);
    }
    if fragments.len() == nframes {
        return Ok(fragments.iter().map(|&f| vec![f]).collect());
    }
    // No usable table: a frame starts at each fragment beginning with a JPEG
    // SOI (FFD8) or JPEG 2000 SOC (FF4F) marker.
    let mut frames: Vec<Vec<u32>> = Vec::new();
    for &f in fragments {
        let n = &index.nodes[f as usize];
        let v = &buf[n.value_offset as usize..n.end_offset as usize];
        let starts = v.len() >= 2 && v[0] == 0xFF && (v[1] == 0xD8 || v[1] == 0x4F);
        match frames.last_mut() {
            Some(last) if !starts => last.push(f),
            _ => frames.push(vec![f]),
        }
    }
    if frames.len() != nframes {
        return Err(frames_err(
            format!(
                "{} fragments cannot be split into {nframes} frames (found {} frame starts)",
                fragments.len(),
                frames.len()
            ),
            node.value_offset,
        ));
    }
    Ok(frames)
}
