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
                    interleave2(p0, rest, out);
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
    let mut out = Vec::new();
    encode_frame_into(src, info, &mut out)?;
    Ok(out)
}

/// [`encode_frame`] into `out` (cleared first), so that a caller can reuse its buffers.
pub fn encode_frame_into(
    src: &[u8],
    info: &FrameInfo,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    let n = encode_frame_in(src, info, out)?;
    out.truncate(n);
    Ok(())
}

/// [`encode_frame`] into the first bytes of `out`; returns how many. `out` is grown as
/// needed but never shrunk: the bytes past the frame are left as they are, so a buffer
/// reused frame after frame is zero-filled only when it grows.
pub fn encode_frame_in(
    src: &[u8],
    info: &FrameInfo,
    out: &mut Vec<u8>,
) -> Result<usize, CodecError> {
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
    let seg_len = byte_segment_len(info);
    let row_len = if info.bits_allocated == 1 {
        cols.div_ceil(8).max(1)
    } else {
        cols
    };
    // Worst case per row: a header byte per 128 literal bytes, plus the slack `pack_row`
    // asks for; one padding byte per segment.
    let rows = seg_len.div_ceil(row_len);
    let bound = HEADER_LEN + nseg * (seg_len + rows * (row_len.div_ceil(128) + 2) + 1);
    // A reused buffer keeps its bytes: everything up to the final length is written below
    // (the header zeroed first, for its unused offsets), so only new room is zero-filled.
    if out.len() < bound {
        out.resize(bound, 0);
    }
    out[..HEADER_LEN].fill(0);
    out[..4].copy_from_slice(&(nseg as u32).to_le_bytes());
    let mut w = HEADER_LEN;
    PLANES.with(|cell| {
        let mut planes = cell.borrow_mut();
        // Byte Segments (G.2) one after another: segment `seg` holds byte
        // (bps - 1 - seg % bps) of sample seg / bps, most significant byte first.
        let planes: &[u8] = if info.bits_allocated == 1 {
            planes.clear();
            pack_bits(src, &mut planes);
            &planes[..]
        } else if stride == 1 {
            src
        } else {
            if planes.len() < seg_len * nseg {
                planes.resize(seg_len * nseg, 0);
            }
            let planes = &mut planes[..seg_len * nseg];
            split_planes(src, stride, bps, seg_len, planes);
            planes
        };
        for (seg, plane) in planes.chunks_exact(seg_len).enumerate() {
            out[4 + 4 * seg..8 + 4 * seg].copy_from_slice(&(w as u32).to_le_bytes());
            let start = w;
            for row in plane.chunks(row_len) {
                w += pack_row(row, &mut out[w..]);
            }
            if (w - start) % 2 == 1 {
                out[w] = 0;
                w += 1;
            }
        }
    });
    Ok(w)
}

/// De-interleave `src` (elements of `stride` bytes, `bps` bytes per sample, little endian)
/// into `stride` Byte Segments of `seg_len` bytes in G.2 order.
fn split_planes(src: &[u8], stride: usize, bps: usize, seg_len: usize, planes: &mut [u8]) {
    match (stride, bps) {
        (2, 2) => {
            let (hi, lo) = planes.split_at_mut(seg_len);
            // SAFETY: SSE2 is part of x86_64; the function checks its own bounds.
            #[cfg(target_arch = "x86_64")]
            let done = unsafe { split2_sse2(src, hi, lo) };
            #[cfg(not(target_arch = "x86_64"))]
            let done = 0;
            for ((e, h), l) in src[2 * done..]
                .chunks_exact(2)
                .zip(hi[done..].iter_mut())
                .zip(lo[done..].iter_mut())
            {
                *h = e[1];
                *l = e[0];
            }
        }
        (3, 1) => {
            let (p0, rest) = planes.split_at_mut(seg_len);
            let (p1, p2) = rest.split_at_mut(seg_len);
            #[allow(unused_mut)]
            let mut done = 0;
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("ssse3") {
                    // SAFETY: SSSE3 is available; the function checks its own bounds.
                    done = unsafe { split3_ssse3(src, p0, p1, p2) };
                }
            }
            for (((e, a), b), c) in src[3 * done..]
                .chunks_exact(3)
                .zip(p0[done..].iter_mut())
                .zip(p1[done..].iter_mut())
                .zip(p2[done..].iter_mut())
            {
                *a = e[0];
                *b = e[1];
                *c = e[2];
            }
        }
        _ => {
            for (seg, plane) in planes.chunks_exact_mut(seg_len).enumerate() {
                let pos = (seg / bps) * bps + (bps - 1 - seg % bps);
                for (p, e) in plane.iter_mut().zip(src.chunks_exact(stride)) {
                    *p = e[pos];
                }
            }
        }
    }
}

/// Little-endian 16-bit elements to their high bytes and low bytes, 16 elements at a time;
/// returns how many elements it split.
#[cfg(target_arch = "x86_64")]
unsafe fn split2_sse2(src: &[u8], hi: &mut [u8], lo: &mut [u8]) -> usize {
    use std::arch::x86_64::*;
    let blocks = hi.len().min(lo.len()).min(src.len() / 2) / 16;
    let low_byte = _mm_set1_epi16(0x00FF);
    for b in 0..blocks {
        let x = _mm_loadu_si128(src.as_ptr().add(32 * b) as *const __m128i);
        let y = _mm_loadu_si128(src.as_ptr().add(32 * b + 16) as *const __m128i);
        let l = _mm_packus_epi16(_mm_and_si128(x, low_byte), _mm_and_si128(y, low_byte));
        let h = _mm_packus_epi16(_mm_srli_epi16(x, 8), _mm_srli_epi16(y, 8));
        _mm_storeu_si128(lo.as_mut_ptr().add(16 * b) as *mut __m128i, l);
        _mm_storeu_si128(hi.as_mut_ptr().add(16 * b) as *mut __m128i, h);
    }
    blocks * 16
}

/// Shuffle masks for [`split3_ssse3`]: `m[j][ch][k]` is the byte of input block `j` (16
/// bytes) holding sample `ch` of pixel `k`, or 0x80 (zero) if another block holds it.
#[cfg(target_arch = "x86_64")]
const fn split_masks() -> [[[i8; 16]; 3]; 3] {
    let mut m = [[[-128i8; 16]; 3]; 3];
    let mut k = 0;
    while k < 16 {
        let mut ch = 0;
        while ch < 3 {
            let g = 3 * k + ch;
            m[g / 16][ch][k] = (g % 16) as i8;
            ch += 1;
        }
        k += 1;
    }
    m
}

/// Interleaved three-sample pixels to three planes, 16 pixels at a time with PSHUFB;
/// returns how many pixels it split.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "ssse3")]
unsafe fn split3_ssse3(src: &[u8], a: &mut [u8], b: &mut [u8], c: &mut [u8]) -> usize {
    use std::arch::x86_64::*;
    const M: [[[i8; 16]; 3]; 3] = split_masks();
    let blocks = a.len().min(b.len()).min(c.len()).min(src.len() / 3) / 16;
    let mut masks = [[_mm_setzero_si128(); 3]; 3];
    for j in 0..3 {
        for ch in 0..3 {
            masks[j][ch] = _mm_loadu_si128(M[j][ch].as_ptr() as *const __m128i);
        }
    }
    let outs = [a.as_mut_ptr(), b.as_mut_ptr(), c.as_mut_ptr()];
    for blk in 0..blocks {
        let v = [
            _mm_loadu_si128(src.as_ptr().add(48 * blk) as *const __m128i),
            _mm_loadu_si128(src.as_ptr().add(48 * blk + 16) as *const __m128i),
            _mm_loadu_si128(src.as_ptr().add(48 * blk + 32) as *const __m128i),
        ];
        for (ch, out) in outs.iter().enumerate() {
            let r = _mm_or_si128(
                _mm_or_si128(
                    _mm_shuffle_epi8(v[0], masks[0][ch]),
                    _mm_shuffle_epi8(v[1], masks[1][ch]),
                ),
                _mm_shuffle_epi8(v[2], masks[2][ch]),
            );
            _mm_storeu_si128(out.add(16 * blk) as *mut __m128i, r);
        }
    }
    blocks * 16
}

/// `out[2i] = lo[i], out[2i+1] = hi[i]`: two planes to little-endian 16-bit elements.
fn interleave2(hi: &[u8], lo: &[u8], out: &mut [u8]) {
    let n = hi.len().min(lo.len()).min(out.len() / 2);
    // SAFETY: SSE2 is part of x86_64; the function checks its own bounds.
    #[cfg(target_arch = "x86_64")]
    let done = unsafe { interleave2_sse2(&hi[..n], &lo[..n], &mut out[..2 * n]) };
    #[cfg(not(target_arch = "x86_64"))]
    let done = 0;
    for ((o, &h), &l) in out[2 * done..2 * n]
        .chunks_exact_mut(2)
        .zip(&hi[done..n])
        .zip(&lo[done..n])
    {
        o[0] = l;
        o[1] = h;
    }
}

#[cfg(target_arch = "x86_64")]
unsafe fn interleave2_sse2(hi: &[u8], lo: &[u8], out: &mut [u8]) -> usize {
    use std::arch::x86_64::*;
    let blocks = hi.len().min(lo.len()).min(out.len() / 2) / 16;
    for b in 0..blocks {
        let h = _mm_loadu_si128(hi.as_ptr().add(16 * b) as *const __m128i);
        let l = _mm_loadu_si128(lo.as_ptr().add(16 * b) as *const __m128i);
        let o = out.as_mut_ptr().add(32 * b);
        _mm_storeu_si128(o as *mut __m128i, _mm_unpacklo_epi8(l, h));
        _mm_storeu_si128(o.add(16) as *mut __m128i, _mm_unpackhi_epi8(l, h));
    }
    blocks * 16
}

/// Number of leading bytes of `s` (non-empty) equal to `s[0]`.
#[inline(always)]
fn run_length(s: &[u8]) -> usize {
    let v = s[0];
    let pattern = u64::from_ne_bytes([v; 8]);
    let mut k = 1;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of x86_64; every load reads s[k..k + 16] with k + 16 <= len.
        unsafe {
            let broadcast = _mm_set1_epi8(v as i8);
            while k + 16 <= s.len() {
                let x = _mm_loadu_si128(s.as_ptr().add(k) as *const __m128i);
                let equal = _mm_movemask_epi8(_mm_cmpeq_epi8(x, broadcast)) as u32;
                if equal != 0xFFFF {
                    return k + (!equal).trailing_zeros() as usize;
                }
                k += 16;
            }
        }
    }
    while k + 8 <= s.len() {
        let x = load_u64(s, k) ^ pattern;
        if x != 0 {
            // Little-endian load: the lowest set byte is the first that differs.
            return k + (x.trailing_zeros() / 8) as usize;
        }
        k += 8;
    }
    while k < s.len() && s[k] == v {
        k += 1;
    }
    k
}

/// PackBits-compress one row (G.3) into `buf` (room for `row.len() + row.len() / 128 + 3`
/// bytes); returns the bytes written. Runs of two or more equal bytes at the start of a run
/// become replicate runs; literal runs extend until three equal bytes follow (so two-byte
/// runs inside literal data stay literal) or 128 bytes.
fn pack_row(row: &[u8], buf: &mut [u8]) -> usize {
    let n = row.len();
    let mut w = 0;
    let mut i = 0;
    while i < n {
        let v = row[i];
        let max = (n - i).min(128);
        if max >= 2 && row[i + 1] == v {
            let run = run_length(&row[i..i + max]);
            buf[w] = (257 - run) as u8;
            buf[w + 1] = v;
            w += 2;
            i += run;
            continue;
        }
        let start = i;
        let lim = (start + 128).min(n);
        i += 1;
        // Sixteen, then eight positions at a time: stop at the first i with
        // row[i] == row[i+1] == row[i+2].
        #[cfg(target_arch = "x86_64")]
        {
            i = triple_scan_sse2(row, i, lim);
        }
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
    w
}

/// From `i`, sixteen positions at a time while they end by `lim`: the first position p
/// with row[p] == row[p+1] == row[p+2], or where the blocks stopped (checked up to there).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn triple_scan_sse2(row: &[u8], mut i: usize, lim: usize) -> usize {
    use std::arch::x86_64::*;
    while i + 16 <= lim && i + 18 <= row.len() {
        // SAFETY: SSE2 is part of x86_64; the loads read row[i..i + 18], in bounds.
        let triples = unsafe {
            let p = row.as_ptr().add(i);
            let a = _mm_loadu_si128(p as *const __m128i);
            let b = _mm_loadu_si128(p.add(1) as *const __m128i);
            let c = _mm_loadu_si128(p.add(2) as *const __m128i);
            _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, b), _mm_cmpeq_epi8(b, c))) as u32
        };
        if triples != 0 {
            return i + triples.trailing_zeros() as usize;
        }
        i += 16;
    }
    i
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

/// RLE Lossless (1.2.840.10008.1.2.5) as a registry [`crate::Codec`].
#[derive(Debug, Clone, Copy)]
pub struct Rle;

impl crate::Codec for Rle {
    fn name(&self) -> &'static str {
        "RLE Lossless"
    }

    fn decode(&self, data: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError> {
        decode_frame(data, info, out)
    }

    fn can_encode(&self, _ts: &crate::TransferSyntax) -> bool {
        true
    }

    fn encode_in(
        &self,
        src: &[u8],
        info: &FrameInfo,
        _params: &crate::EncodeParams,
        out: &mut Vec<u8>,
    ) -> Result<usize, CodecError> {
        encode_frame_in(src, info, out)
    }
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
        let mut buf = [0u8; 16];
        let n = pack_row(&[1, 1, 1, 2, 3, 3, 4, 5, 5, 5, 5], &mut buf);
        let out = &buf[..n];
        assert_eq!(out, [254, 1, 3, 2, 3, 3, 4, 253, 5]);
        let mut dec = [0u8; 11];
        unpack_segment(out, 0, 0, &mut dec).unwrap();
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

    #[test]
    fn a_reused_buffer_gives_the_same_frame() {
        // A noisy frame leaves a long buffer full of bytes; a flat frame encoded into it
        // next must come out as if encoded into a new one.
        let fi = FrameInfo::new(16, 20, 3, 8);
        let noisy: Vec<u8> = (0..960u32).map(|i| (i * 97 % 251) as u8).collect();
        let flat = vec![7u8; 960];
        let mut buf = Vec::new();
        let n = encode_frame_in(&noisy, &fi, &mut buf).unwrap();
        assert_eq!(&buf[..n], &encode_frame(&noisy, &fi).unwrap()[..]);
        let long = buf.len();
        let n = encode_frame_in(&flat, &fi, &mut buf).unwrap();
        assert_eq!(&buf[..n], &encode_frame(&flat, &fi).unwrap()[..]);
        assert!(n < 200 && buf.len() == long, "{n} {}", buf.len());
        let mut out = vec![0u8; 960];
        decode_frame(&buf[..n], &fi, &mut out).unwrap();
        assert_eq!(out, flat);
    }
}
