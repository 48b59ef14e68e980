//! Native (uncompressed) Pixel Data, PS3.5 8.1 and PS3.3 C.7.6.3.1.3 (Planar Configuration).

use crate::convert::fix_unused_bits;
use crate::{native_frame_size_bytes, CodecError, FrameInfo};

/// Unpack one native frame `src` into `out` (output layout, see the crate docs).
///
/// `src` must hold at least [`native_frame_size_bytes`] bytes; extra bytes are ignored.
pub fn decode_native_frame(src: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError> {
    decode_native_frame_at_bit(src, 0, info, out)
}

/// Like [`decode_native_frame`], for a frame that starts `bit_offset` bits into `src`.
///
/// * 1-bit data: frames of multi-frame data are packed back to back (PS3.5 8.1.1), so frame
///   `n` starts at bit `n * rows * columns`, possibly inside a byte.
/// * data with `big_endian` set: the value is OW in Explicit VR Big Endian, i.e. 16-bit
///   words with their bytes swapped (PS3.5 7.3 and A.3), 32-bit cells included (or OF/OD
///   when `float`, whose samples are swapped whole). For 8-bit data pass the whole value and
///   `bit_offset = 8 * n * frame_bytes` so frames starting inside a word are unswapped right.
///   (8-bit OB data needs no swapping: leave `big_endian` false.)
/// * otherwise `bit_offset` must be a multiple of 8; it just skips bytes.
pub fn decode_native_frame_at_bit(
    src: &[u8],
    bit_offset: usize,
    info: &FrameInfo,
    out: &mut [u8],
) -> Result<(), CodecError> {
    info.check_output(out)?;
    if info.bits_allocated == 1 {
        let n = info.pixels();
        let needed = bit_offset
            .checked_add(n)
            .map(|b| b.div_ceil(8))
            .unwrap_or(usize::MAX);
        if src.len() < needed {
            return Err(CodecError::Truncated {
                offset: src.len(),
                needed,
            });
        }
        unpack_bits(&src[bit_offset / 8..needed], bit_offset % 8, out);
        return Ok(());
    }
    if bit_offset & 7 != 0 {
        return Err(CodecError::InvalidFrameInfo {
            reason: "frames of data other than 1-bit start on a byte boundary",
        });
    }
    let start = bit_offset / 8;
    let len = native_frame_size_bytes(info);
    let swapped_bytes = info.big_endian && info.bits_allocated == 8;
    let needed = start.saturating_add(len);
    let needed = if swapped_bytes {
        needed.saturating_add(needed % 2)
    } else {
        needed
    };
    if src.len() < needed {
        return Err(CodecError::Truncated {
            offset: src.len(),
            needed,
        });
    }
    if swapped_bytes {
        // Byte g of the OW value is stored at g ^ 1.
        for (j, o) in out.iter_mut().enumerate() {
            *o = src[(start + j) ^ 1];
        }
        if info.planar_configuration == 1 && info.samples_per_pixel > 1 {
            let planar = out.to_vec();
            interleave(&planar, info, out);
        }
        fix_unused_bits(out, info);
        return Ok(());
    }
    let src = &src[start..needed];
    let bps = info.bytes_per_sample();
    let spp = usize::from(info.samples_per_pixel);
    // The value's own units are reversed (PS3.5 Table 6.2-1, 7.3): an OW value's 16-bit
    // words, whatever Bits Allocated says (a 32-bit cell is two words, the low one first,
    // as DCMTK and GDCM read and write it); Float and Double Float Pixel Data's (OF, OD)
    // whole samples.
    let unit = if info.float { bps } else { bps.min(2) };
    let swap = info.big_endian && unit > 1;
    if info.planar_configuration == 1 && spp > 1 {
        interleave(src, info, out);
        if swap {
            out.chunks_exact_mut(unit).for_each(|e| e.reverse());
        }
    } else if swap {
        for (d, e) in out.chunks_exact_mut(unit).zip(src.chunks_exact(unit)) {
            d.copy_from_slice(e);
            d.reverse();
        }
    } else {
        out.copy_from_slice(src);
    }
    fix_unused_bits(out, info);
    Ok(())
}

/// PS3.3 C.7.6.3.1.3, Planar Configuration 1: planes of each sample one after another;
/// interleave them.
fn interleave(src: &[u8], info: &FrameInfo, out: &mut [u8]) {
    let bps = info.bytes_per_sample();
    let spp = usize::from(info.samples_per_pixel);
    let plane = info.pixels() * bps;
    for (s, src_plane) in src.chunks_exact(plane).enumerate() {
        for (dst, e) in out
            .chunks_exact_mut(spp * bps)
            .zip(src_plane.chunks_exact(bps))
        {
            dst[s * bps..(s + 1) * bps].copy_from_slice(e);
        }
    }
}

/// Native YBR_FULL_422 data (PS3.3 C.7.6.3.1.2): each pair of pixels is stored as
/// Y1 Y2 Cb Cr, `rows * columns * 2` bytes per frame for 8-bit data. Expands it to three
/// samples per pixel (Y1 Cb Cr Y2 Cb Cr), still in YBR. `info` describes the output (3 samples
/// per pixel, 8 bits allocated, even columns).
pub fn expand_ybr_full_422(src: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError> {
    info.check_output(out)?;
    if info.samples_per_pixel != 3 || info.bits_allocated != 8 || info.columns & 1 != 0 {
        return Err(CodecError::InvalidFrameInfo {
            reason: "YBR_FULL_422 needs 3 samples, 8 bits allocated and even columns",
        });
    }
    let needed = info.pixels() * 2;
    if src.len() < needed {
        return Err(CodecError::Truncated {
            offset: src.len(),
            needed,
        });
    }
    for (o, s) in out.chunks_exact_mut(6).zip(src.chunks_exact(4)) {
        o.copy_from_slice(&[s[0], s[2], s[3], s[1], s[2], s[3]]);
    }
    Ok(())
}

/// Byte `b` spread to eight bytes of 0/1, least significant bit first (PS3.5 8.1.1).
const SPREAD: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut b = 0;
    while b < 256 {
        let mut v = 0u64;
        let mut k = 0;
        while k < 8 {
            v |= (((b >> k) & 1) as u64) << (8 * k);
            k += 1;
        }
        t[b] = v;
        b += 1;
    }
    t
};

/// Unpack `out.len()` bits starting at bit `shift` (0..8) of `src` to one byte per bit.
/// The caller guarantees `src` holds `ceil((shift + out.len()) / 8)` bytes.
pub(crate) fn unpack_bits(src: &[u8], shift: usize, out: &mut [u8]) {
    if shift == 0 {
        let full = out.len() / 8;
        let mut chunks = out.chunks_exact_mut(8);
        for (d, &b) in (&mut chunks).zip(src) {
            d.copy_from_slice(&SPREAD[usize::from(b)].to_le_bytes());
        }
        let rem = chunks.into_remainder();
        if let Some(&b) = src.get(full) {
            for (k, d) in rem.iter_mut().enumerate() {
                *d = (b >> k) & 1;
            }
        }
    } else {
        for (i, d) in out.iter_mut().enumerate() {
            let bit = i + shift;
            *d = src.get(bit / 8).map_or(0, |&b| (b >> (bit % 8)) & 1);
        }
    }
}

/// Pack one-byte-per-pixel values (only bit 0 used) to bits, least significant bit first.
pub(crate) fn pack_bits(src: &[u8], out: &mut Vec<u8>) {
    for chunk in src.chunks(8) {
        let mut b = 0u8;
        for (k, &v) in chunk.iter().enumerate() {
            b |= (v & 1) << k;
        }
        out.push(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bit_lsb_first_with_offset() {
        let fi = FrameInfo::new(1, 10, 1, 1);
        let mut out = [0u8; 10];
        decode_native_frame(&[0b1000_0101, 0b10], &fi, &mut out).unwrap();
        assert_eq!(out, [1, 0, 1, 0, 0, 0, 0, 1, 0, 1]);
        let mut out = [0u8; 10];
        decode_native_frame_at_bit(&[0b1000_0101, 0b10, 0], 3, &fi, &mut out).unwrap();
        assert_eq!(out, [0, 0, 0, 0, 1, 0, 1, 0, 0, 0]);
        assert!(matches!(
            decode_native_frame_at_bit(&[0, 0], 7, &fi, &mut out),
            Err(CodecError::Truncated { needed: 3, .. })
        ));
        let mut packed = Vec::new();
        pack_bits(&[1, 0, 1, 0, 0, 0, 0, 1, 0, 1], &mut packed);
        assert_eq!(packed, [0b1000_0101, 0b10]);
    }

    #[test]
    fn planar_big_endian_signed() {
        let mut fi = FrameInfo::new(1, 2, 3, 16);
        fi.planar_configuration = 1;
        fi.big_endian = true;
        fi.bits_stored = 12;
        fi.pixel_representation = 1;
        // planes R, G, B of two pixels, big endian
        let src = [
            0x0F, 0xFF, 0x00, 0x01, 0x00, 0x02, 0x00, 0x03, 0x08, 0x00, 0x07, 0xFF,
        ];
        let mut out = [0u8; 12];
        decode_native_frame(&src, &fi, &mut out).unwrap();
        let v: Vec<i16> = out
            .chunks(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(v, [-1, 2, -2048, 1, 3, 2047]);
    }

    #[test]
    fn errors() {
        let fi = FrameInfo::new(2, 2, 1, 16);
        let mut out = [0u8; 8];
        assert!(matches!(
            decode_native_frame(&[0; 7], &fi, &mut out),
            Err(CodecError::Truncated {
                offset: 7,
                needed: 8
            })
        ));
        let mut small = [0u8; 7];
        assert!(matches!(
            decode_native_frame(&[0; 8], &fi, &mut small),
            Err(CodecError::OutputSize { .. })
        ));
        assert!(decode_native_frame_at_bit(&[0; 8], 1, &fi, &mut out).is_err());
    }
}
