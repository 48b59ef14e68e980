//! The encapsulated Pixel Data value (PS3.5 A.4): a Basic Offset Table item, one item per
//! frame (padded with a zero byte to even length), the sequence delimiter. Item offsets
//! count from the first byte of the first frame's item tag.

/// Item tag (FFFE,E000), little endian.
pub const ITEM_TAG: [u8; 4] = [0xFE, 0xFF, 0x00, 0xE0];
/// Sequence Delimitation Item tag (FFFE,E0DD), little endian.
pub const SEQUENCE_DELIMITER: [u8; 4] = [0xFE, 0xFF, 0xDD, 0xE0];

/// An item's tag and (even) length for `len` bytes of value.
pub fn item_header(len: u32) -> [u8; 8] {
    let mut h = [0u8; 8];
    h[..4].copy_from_slice(&ITEM_TAG);
    h[4..].copy_from_slice(&len.to_le_bytes());
    h
}

/// The sequence delimiter item.
pub fn delimiter() -> [u8; 8] {
    let mut d = [0u8; 8];
    d[..4].copy_from_slice(&SEQUENCE_DELIMITER);
    d
}

/// Where each frame's item starts (Basic Offset Table values) and the whole value's
/// length, for frames of `lengths` bytes (before padding).
pub fn layout(lengths: impl ExactSizeIterator<Item = usize>) -> (Vec<u64>, u64) {
    let mut offsets = Vec::with_capacity(lengths.len());
    let mut pos = 0u64;
    for n in lengths {
        offsets.push(pos);
        pos += 8 + n as u64 + (n as u64 & 1);
    }
    let total = 8 + 4 * offsets.len() as u64 + pos + 8;
    (offsets, total)
}

/// Whether a Basic Offset Table (32-bit offsets) can address every item of a value of
/// `total` bytes holding `nframes` frames.
pub fn addressable(total: u64, nframes: usize) -> bool {
    total - 16 - 4 * nframes as u64 <= u64::from(u32::MAX)
}

/// The Basic Offset Table item for `offsets`.
pub fn offset_table(offsets: &[u64]) -> Vec<u8> {
    let mut t = Vec::with_capacity(8 + 4 * offsets.len());
    t.extend_from_slice(&item_header(4 * offsets.len() as u32));
    t.extend(offsets.iter().flat_map(|&o| (o as u32).to_le_bytes()));
    t
}

/// Write the value into `out` (exactly [`layout`]'s length): the offset table and the
/// delimiter here, the frames' items by `fill` (given each item's bytes and its frame, to
/// copy in sequence or in parallel) with [`fill_item`].
pub fn write_value<'a, F>(frames: &'a [Vec<u8>], offsets: &[u64], out: &'a mut [u8], fill: F)
where
    F: FnOnce(Vec<(&'a mut [u8], &'a [u8])>),
{
    let table = offset_table(offsets);
    out[..table.len()].copy_from_slice(&table);
    let mut rest = &mut out[table.len()..];
    let mut items = Vec::with_capacity(frames.len());
    for f in frames {
        let (item, tail) = rest.split_at_mut(8 + f.len() + (f.len() & 1));
        items.push((item, f.as_slice()));
        rest = tail;
    }
    rest[..8].copy_from_slice(&delimiter());
    fill(items);
}

/// One frame's item: header, the frame, the pad byte.
pub fn fill_item((item, frame): (&mut [u8], &[u8])) {
    let header = item_header((item.len() - 8) as u32);
    item[..8].copy_from_slice(&header);
    item[8..8 + frame.len()].copy_from_slice(frame);
    item[8 + frame.len()..].fill(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_layout() {
        let frames = vec![vec![1u8, 2, 3], vec![4u8, 5]];
        let (offsets, total) = layout(frames.iter().map(Vec::len));
        assert_eq!(offsets, [0, 12]);
        assert_eq!(total, 8 + 8 + 12 + 10 + 8);
        let mut out = vec![9u8; total as usize];
        write_value(&frames, &offsets, &mut out, |items| {
            items.into_iter().for_each(fill_item)
        });
        assert_eq!(&out[..8], &[0xFE, 0xFF, 0x00, 0xE0, 8, 0, 0, 0]);
        assert_eq!(
            &out[16..28],
            &[0xFE, 0xFF, 0x00, 0xE0, 4, 0, 0, 0, 1, 2, 3, 0]
        );
        assert_eq!(&out[out.len() - 8..], &delimiter());
        assert!(addressable(total, 2));
    }
}
