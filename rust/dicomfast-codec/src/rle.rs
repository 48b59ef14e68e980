//! RLE Lossless, PS3.5 Annex G (transfer syntax 1.2.840.10008.1.2.5).
//!
//! A frame is a 64-byte header (G.5: segment count and up to 15 segment offsets, little-endian
//! u32) followed by the RLE segments. Each segment is one Byte Segment (G.2) compressed with the
//! PackBits-style scheme of G.3. Byte Segments come sample by sample and, within a sample, most
//! significant byte first (G.2). For Bits Allocated 1 the Byte Segment holds the frame's packed
//! bits (PS3.5 8.1.1 order), which the decoder unpacks to one byte per pixel.

use crate::convert::fix_unused_bits;
use crate::native::{pack_bits, unpack_bits};
use crate::{frame_size_bytes, CodecError, FrameInfo};

const HEADER_LEN: usize = 64;

thread_local! {
    /// Per-thread scratch for expanded segments, reused from frame to frame.
    static PLANES: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}
const MAX_SEGMENTS: usize = 15;

/// Number of segments a frame of this layout has (G.2).
fn segment_count(info: &FrameInfo) -> usize {
    usize::from(info.samples_per_pixel) * info.bytes_per_sample()
}

/// Length of one Byte Segment (G.2).
fn byte_segment_len(info: &FrameInfo) -> usize {
    if info.bits_allocated == 1 {
        info.pixels().div_ceil(8)
    } else {
        info.pixels()
    }
}

fn read_u32(src: &[u8], at: usize) -> usize {
    u32::from_le_bytes([src[at], src[at + 1], src[at + 2], src[at + 3]]) as usize
}

/// Decode one RLE frame `src` (one or more whole fragments, concatenated) into `out`.
///
/// Tolerates trailing padding after the last segment, segments with an odd length, and
/// segments that decode to more bytes than needed (the excess is dropped).
pub fn decode_frame(src: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError> {
    info.check_output(out)?;
    if src.len() < HEADER_LEN {
        return Err(CodecError::Truncated {
            offset: src.len(),
            needed: HEADER_LEN,
        });
    }
    let nseg = read_u32(src, 0);
    let expected = segment_count(info);
    if nseg == 0 || nseg > MAX_SEGMENTS {
        return Err(CodecError::RleHeader {
            offset: 0,
            reason: "number of segments must be between 1 and 15",
        });
    }
    if nseg != expected {
        return Err(CodecError::RleHeader {
            offset: 0,
            reason: "number of segments differs from samples per pixel x bytes per sample",
        });
    }
    let mut offsets = [0usize; MAX_SEGMENTS + 1];
    for i in 0..nseg {
        let o = read_u32(src, 4 + 4 * i);
        if o < HEADER_LEN || o > src.len() {
            return Err(CodecError::RleHeader {
                offset: 4 + 4 * i,
                reason: "segment offset outside the frame data",
            });
        }
        if i > 0 && o < offsets[i - 1] {
            return Err(CodecError::RleHeader {
                offset: 4 + 4 * i,
                reason: "segment offsets are not increasing",
            });
        }
        offsets[i] = o;
    }
    offsets[nseg] = src.len();

    let seg_len = byte_segment_len(info);
    let bps = info.bytes_per_sample();
    let stride = usize::from(info.samples_per_pixel) * bps;
    let direct = info.bits_allocated == 8 && stride == 1;
    let mut scratch = if direct {
        Vec::new()
    } else {
        vec![0u8; seg_len]
    };
    let two_byte_mono = nseg == 2 && bps == 2;
    let three_byte_colour = nseg == 3 && bps == 1;
    if two_byte_mono || three_byte_colour {
        // Common layouts (16-bit mono, 8-bit colour): expand every segment into a per-thread
        // scratch buffer (kept between frames), then interleave them in one pass.
        let fused = two_byte_mono && info.bits_stored >= 9;
        PLANES.with(|cell| -> Result<(), CodecError> {
            let mut planes = cell.borrow_mut();
            if planes.len() < seg_len * nseg {
                planes.resize(seg_len * nseg, 0);
            }
            let planes = &mut planes[..seg_len * nseg];
            for (seg, plane) in planes.chunks_exact_mut(seg_len).enumerate() {
                let (start, end) = (offsets[seg], offsets[seg + 1]);
                unpack_segment(&src[start..end], start, seg, plane)?;
            }
            let (p0, rest) = planes.split_at(seg_len);
            if two_byte_mono {
                // Segment 0 is the most significant byte; Bits Stored >= 9 only changes it.
                let shift = 16 - u32::from(info.bits_stored.min(16));
                let signed = info.signed();
                let fix = |hi: u8| -> u8 {
                    if shift == 0 {
                        hi
                    } else if signed {
                        (((hi << shift) as i8) >> shift) as u8
                    } else {
                        hi & (0xFF >> shift)
                    }
                };
                if fused && shift != 0 {
                    for ((o, &hi), &lo) in out.chunks_exact_mut(2).zip(p0).zip(rest) {
                        o[0] = lo;
                        o[1] = fix(hi);
                    }
                } else {
                    for ((o, &hi), &lo) in out.chunks_exact_mut(2).zip(p0).zip(rest) {
                        o[0] = lo;
                        o[1] = hi;
                    }
                }
            } else {
                let (p1, p2) = rest.split_at(seg_len);
                interleave3(p0, p1, p2, out);
            }
            Ok(())
        })?;
        if !fused {
            fix_unused_bits(out, info);
        }
        return Ok(());
    }
    for seg in 0..nseg {
        let (start, end) = (offsets[seg], offsets[seg + 1]);
        let data = &src[start..end];
        if direct {
            unpack_segment(data, start, seg, out)?;
            continue;
        }
        unpack_segment(data, start, seg, &mut scratch)?;
        if info.bits_allocated == 1 {
            unpack_bits(&scratch, 0, out);
            continue;
        }
        // Segment `seg` holds byte (bps - 1 - seg % bps) of sample seg / bps (G.2: most
        // significant byte first); the output elements are little-endian.
        let pos = (seg / bps) * bps + (bps - 1 - seg % bps);
        for (o, &v) in out[pos..].iter_mut().step_by(stride).zip(&scratch) {
            *o = v;
        }
    }
    fix_unused_bits(out, info);
    Ok(())
}

/// `out[3i..3i+3] = (a[i], b[i], c[i])`: three planes to interleaved samples.
fn interleave3(a: &[u8], b: &[u8], c: &[u8], out: &mut [u8]) {
    let n = a.len().min(b.len()).min(c.len()).min(out.len() / 3);
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("ssse3") {
            // SAFETY: SSSE3 is available; the function checks its own bounds.
            done = unsafe { interleave3_ssse3(&a[..n], &b[..n], &c[..n], &mut out[..3 * n]) };
        }
    }
    for (((o, &x), &y), &z) in out[3 * done..3 * n]
        .chunks_exact_mut(3)
        .zip(&a[done..n])
        .zip(&b[done..n])
        .zip(&c[done..n])
    {
        o[0] = x;
        o[1] = y;
        o[2] = z;
    }
}

/// Shuffle masks: output block `j` (16 bytes) takes from plane `ch` the pixels whose sample
/// `ch` falls in it, zero (0x80) elsewhere.
#[cfg(target_arch = "x86_64")]
const fn shuffle_masks() -> [[[i8; 16]; 3]; 3] {
    let mut m = [[[-128i8; 16]; 3]; 3];
    let mut j = 0;
    while j < 3 {
        let mut k = 0;
        while k < 16 {
            let g = 16 * j + k;
            m[j][g % 3][k] = (g / 3) as i8;
            k += 1;
        }
        j += 1;
    }
    m
}

/// 16 pixels at a time with PSHUFB; returns how many pixels it interleaved.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "ssse3")]
unsafe fn interleave3_ssse3(a: &[u8], b: &[u8], c: &[u8], out: &mut [u8]) -> usize {
    use std::arch::x86_64::*;
    const M: [[[i8; 16]; 3]; 3] = shuffle_masks();
    let blocks = a.len().min(b.len()).min(c.len()).min(out.len() / 3) / 16;
    let mut masks = [[_mm_setzero_si128(); 3]; 3];
    for j in 0..3 {
        for ch in 0..3 {
            masks[j][ch] = _mm_loadu_si128(M[j][ch].as_ptr() as *const __m128i);
        }
    }
    for blk in 0..blocks {
        let va = _mm_loadu_si128(a.as_ptr().add(16 * blk) as *const __m128i);
        let vb = _mm_loadu_si128(b.as_ptr().add(16 * blk) as *const __m128i);
        let vc = _mm_loadu_si128(c.as_ptr().add(16 * blk) as *const __m128i);
        for (j, m) in masks.iter().enumerate() {
            let v = _mm_or_si128(
                _mm_or_si128(_mm_shuffle_epi8(va, m[0]), _mm_shuffle_epi8(vb, m[1])),
                _mm_shuffle_epi8(vc, m[2]),
            );
            _mm_storeu_si128(out.as_mut_ptr().add(48 * blk + 16 * j) as *mut __m128i, v);
        }
    }
    blocks * 16
}

/// [`decode_frame`] for a frame split over several fragments: they are concatenated first
/// (one copy of the compressed frame), unless there is just one.
pub fn decode_fragments(
    fragments: &[&[u8]],
    info: &FrameInfo,
    out: &mut [u8],
) -> Result<(), CodecError> {
    match fragments {
        [one] => decode_frame(one, info, out),
        many => decode_frame(&many.concat(), info, out),
    }
}

/// Expand one RLE Segment (G.3) into `out`, which it must fill exactly; input left over
/// (padding) and output overflow from the last run are ignored.
fn unpack_segment(
    seg: &[u8],
    base: usize,
    segment: usize,
    out: &mut [u8],
) -> Result<(), CodecError> {
    let n = out.len();
    let mut i = 0usize;
    let mut o = 0usize;
    // Each pass consumes at least one input byte, so the loop ends.
    while o < n {
        let Some(&h) = seg.get(i) else {
            return Err(CodecError::RleSegment {
                segment,
                offset: base + i,
                reason: "segment decodes to fewer bytes than the frame needs",
            });
        };
        i += 1;
        // Fast paths: with 128 bytes of room on both sides, copy or fill a fixed-size block
        // (inlined vector moves) and advance by the run's length; later runs overwrite the
        // excess.
        if o + 128 <= n {
            if h < 128 && i + 128 <= seg.len() {
                let len = usize::from(h) + 1;
                out[o..o + 128].copy_from_slice(&seg[i..i + 128]);
                o += len;
                i += len;
                continue;
            }
            if h > 128 && i < seg.len() {
                let len = 257 - usize::from(h);
                out[o..o + 128].fill(seg[i]);
                o += len;
                i += 1;
                continue;
            }
        }
        if h < 128 {
            // Literal run of h + 1 bytes.
            let len = usize::from(h) + 1;
            let take = len.min(seg.len() - i).min(n - o);
            out[o..o + take].copy_from_slice(&seg[i..i + take]);
            o += take;
            i = (i + len).min(seg.len());
        } else if h > 128 {
            // Replicate run: the next byte 257 - h times.
            let len = 257 - usize::from(h);
            let Some(&v) = seg.get(i) else {
                return Err(CodecError::RleSegment {
                    segment,
                    offset: base + i,
                    reason: "replicate run without its byte at the end of the segment",
                });
            };
            i += 1;
            let take = len.min(n - o);
            out[o..o + take].fill(v);
            o += take;
        }
        // h == 128 (-128): no operation.
    }
    Ok(())
}

/// Encode one frame given in the output layout (see the crate docs) as an RLE frame:
/// header, then one even-length segment per Byte Segment, each image row compressed on its
/// own (G.3).
pub fn encode_frame(src: &[u8], info: &FrameInfo) -> Result<Vec<u8>, CodecError> {
    info.validate()?;
    let expected = frame_size_bytes(info);
    if src.len() != expected {
        return Err(CodecError::InputSize {
            expected,
            actual: src.len(),
        });
    }
    let nseg = segment_count(info);
    if nseg > MAX_SEGMENTS {
        return Err(CodecError::InvalidFrameInfo {
            reason: "RLE allows at most 15 segments (samples per pixel x bytes per sample)",
        });
    }
    let bps = info.bytes_per_sample();
    let stride = usize::from(info.samples_per_pixel) * bps;
    let cols = info.columns as usize;
    let mut out = Vec::with_capacity(HEADER_LEN + src.len() + src.len() / 64 + 16 * nseg);
    out.resize(HEADER_LEN, 0);
    out[..4].copy_from_slice(&(nseg as u32).to_le_bytes());
    let mut plane = Vec::with_capacity(byte_segment_len(info));
    for seg in 0..nseg {
        let start = out.len();
        out[4 + 4 * seg..8 + 4 * seg].copy_from_slice(&(start as u32).to_le_bytes());
        plane.clear();
        if info.bits_allocated == 1 {
            pack_bits(src, &mut plane);
            for chunk in plane.chunks(cols.div_ceil(8).max(1)) {
                pack_row(chunk, &mut out);
            }
        } else {
            let pos = (seg / bps) * bps + (bps - 1 - seg % bps);
            if stride == 1 {
                plane.extend_from_slice(src);
            } else {
                plane.extend(src.chunks_exact(stride).map(|e| e[pos]));
            }
            for row in plane.chunks(cols) {
                pack_row(row, &mut out);
            }
        }
        if (out.len() - start) % 2 == 1 {
            out.push(0);
        }
    }
    Ok(out)
}

/// PackBits-compress one row (G.3): runs of two or more equal bytes at the start of a run
/// become replicate runs; literal runs extend until three equal bytes follow (so two-byte
/// runs inside literal data stay literal) or 128 bytes.
fn pack_row(row: &[u8], out: &mut Vec<u8>) {
    let n = row.len();
    let base = out.len();
    // Worst case: every literal run costs one header byte per 128 bytes, and each literal
    // shorter than 128 is followed by a replicate run saving at least one byte.
    out.resize(base + n + n.div_ceil(128) + 2, 0);
    let buf = &mut out[base..];
    let mut w = 0;
    let mut i = 0;
    while i < n {
        let v = row[i];
        let max = (n - i).min(128);
        let mut run = 1;
        while run < max && row[i + run] == v {
            run += 1;
        }
        if run >= 2 {
            buf[w] = (257 - run) as u8;
            buf[w + 1] = v;
            w += 2;
            i += run;
            continue;
        }
        let start = i;
        let lim = (start + 128).min(n);
        i += 1;
        // Eight positions at a time: stop at the first i with row[i] == row[i+1] == row[i+2].
        while i + 8 <= lim && i + 10 <= n {
            let x = load_u64(row, i);
            let y = load_u64(row, i + 1);
            let z = load_u64(row, i + 2);
            if has_zero_byte((x ^ y) | (y ^ z)) {
                break;
            }
            i += 8;
        }
        while i < lim {
            if i + 2 < n && row[i] == row[i + 1] && row[i] == row[i + 2] {
                break;
            }
            i += 1;
        }
        let len = i - start;
        buf[w] = (len - 1) as u8;
        buf[w + 1..w + 1 + len].copy_from_slice(&row[start..i]);
        w += 1 + len;
    }
    out.truncate(base + w);
}

fn load_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Whether any byte of `v` is zero.
fn has_zero_byte(v: u64) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    v.wrapping_sub(LO) & !v & HI != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(offsets: &[u32]) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(&(offsets.len() as u32).to_le_bytes());
        for (i, o) in offsets.iter().enumerate() {
            h[4 + 4 * i..8 + 4 * i].copy_from_slice(&o.to_le_bytes());
        }
        h
    }

    #[test]
    fn packbits_runs() {
        let mut out = Vec::new();
        pack_row(&[1, 1, 1, 2, 3, 3, 4, 5, 5, 5, 5], &mut out);
        assert_eq!(out, [254, 1, 3, 2, 3, 3, 4, 253, 5]);
        let mut dec = [0u8; 11];
        unpack_segment(&out, 0, 0, &mut dec).unwrap();
        assert_eq!(dec, [1, 1, 1, 2, 3, 3, 4, 5, 5, 5, 5]);
    }

    #[test]
    fn sixteen_bit_msb_first_and_noop() {
        let fi = FrameInfo::new(1, 2, 1, 16);
        let mut src = header(&[64, 68]);
        src.extend_from_slice(&[128, 1, 0x12, 0x34]); // -128 no-op, literal 2 (high bytes)
        src.extend_from_slice(&[0xFF, 0x56, 0, 0]); // replicate 2 (low bytes) + padding
        let mut out = [0u8; 4];
        decode_frame(&src, &fi, &mut out).unwrap();
        assert_eq!(out, [0x56, 0x12, 0x56, 0x34]);
    }

    #[test]
    fn tolerates_overlong_and_odd_segments() {
        let fi = FrameInfo::new(1, 3, 1, 8);
        let mut src = header(&[64]);
        src.extend_from_slice(&[0xFC, 7]); // replicate 5 > 3 needed
        let mut out = [0u8; 3];
        decode_frame(&src, &fi, &mut out).unwrap();
        assert_eq!(out, [7, 7, 7]);
        let mut src = header(&[64]);
        src.extend_from_slice(&[4, 1, 2, 3]); // literal 5, data cut after 3
        decode_frame(&src, &fi, &mut out).unwrap();
        assert_eq!(out, [1, 2, 3]);
    }

    #[test]
    fn errors() {
        let fi = FrameInfo::new(2, 2, 1, 16);
        let mut out = [0u8; 8];
        assert!(matches!(
            decode_frame(&[0; 10], &fi, &mut out),
            Err(CodecError::Truncated { .. })
        ));
        assert!(matches!(
            decode_frame(&header(&[64]), &fi, &mut out),
            Err(CodecError::RleHeader { offset: 0, .. })
        ));
        assert!(matches!(
            decode_frame(&header(&[64, 1000]), &fi, &mut out),
            Err(CodecError::RleHeader { offset: 8, .. })
        ));
        let mut s = header(&[64, 66]);
        s.extend_from_slice(&[0xFD, 1, 0xFD]);
        assert_eq!(
            decode_frame(&s, &fi, &mut out),
            Err(CodecError::RleSegment {
                segment: 1,
                offset: 67,
                reason: "replicate run without its byte at the end of the segment"
            })
        );
        let mut s = header(&[64, 66]);
        s.extend_from_slice(&[0xFE, 1, 0xFE, 2]);
        assert!(matches!(
            decode_frame(&s, &fi, &mut out),
            Err(CodecError::RleSegment { segment: 0, .. })
        ));
    }

    #[test]
    fn round_trip_small() {
        let mut fi = FrameInfo::new(3, 5, 3, 16);
        fi.bits_stored = 12;
        let src: Vec<u8> = (0..90u32)
            .map(|i| {
                if i % 2 == 1 {
                    (i % 16) as u8
                } else {
                    (i * 37 % 251) as u8
                }
            })
            .collect();
        let enc = encode_frame(&src, &fi).unwrap();
        let mut out = vec![0u8; 90];
        decode_frame(&enc, &fi, &mut out).unwrap();
        assert_eq!(out, src);
        let fi1 = FrameInfo::new(3, 5, 1, 1);
        let bits: Vec<u8> = (0..15u8).map(|i| (i * 7 % 3 == 0) as u8).collect();
        let enc = encode_frame(&bits, &fi1).unwrap();
        let mut out = vec![0u8; 15];
        decode_frame(&enc, &fi1, &mut out).unwrap();
        assert_eq!(out, bits);
    }
}
