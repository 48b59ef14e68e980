//! encode -> decode == input, for RLE and JPEG Lossless, over bit depths, signedness, sample
//! counts, odd sizes, every predictor and the encoder's options.

use dicomfast_codec::jpeg::{self, EncodeOptions};
use dicomfast_codec::{frame_size_bytes, rle, FrameInfo};

/// xorshift64*: deterministic test data without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

const SIZES: [(u32, u32); 6] = [(1, 1), (1, 13), (13, 1), (7, 5), (33, 17), (40, 64)];

#[derive(Clone, Copy, Debug)]
enum Pattern {
    Noise,
    Smooth,
    Extremes,
}

/// A frame in the output layout: values of `bits_stored` bits, sign-extended when signed.
fn make_frame(fi: &FrameInfo, pattern: Pattern, rng: &mut Rng) -> Vec<u8> {
    let bits = u32::from(fi.bits_stored);
    let bps = fi.bytes_per_sample();
    let n = fi.rows as usize * fi.columns as usize * usize::from(fi.samples_per_pixel);
    let cols = fi.columns as usize * usize::from(fi.samples_per_pixel);
    let mut out = Vec::with_capacity(n * bps);
    for i in 0..n {
        let raw: u64 = match pattern {
            Pattern::Noise => rng.next(),
            Pattern::Smooth => ((i % cols) as u64 * 3 + (i / cols) as u64 * 5) + rng.next() % 4,
            Pattern::Extremes => {
                // 0 next to 2^(bits-1) gives the SSSS = 16 difference at 16 bits.
                if (i + i / cols) & 1 == 0 {
                    0
                } else if rng.next() & 1 == 0 {
                    1 << (bits - 1)
                } else {
                    u64::MAX
                }
            }
        };
        let mut v = if bits == 64 {
            raw
        } else {
            raw & ((1u64 << bits) - 1)
        };
        if fi.pixel_representation == 1 && bits < 64 && v >> (bits - 1) == 1 {
            v |= u64::MAX << bits;
        }
        out.extend_from_slice(&v.to_le_bytes()[..bps]);
    }
    out
}

fn info(rows: u32, cols: u32, spp: u16, ba: u16, bs: u16, signed: bool) -> FrameInfo {
    FrameInfo {
        bits_stored: bs,
        pixel_representation: signed as u16,
        ..FrameInfo::new(rows, cols, spp, ba)
    }
}

#[test]
fn rle_round_trip() {
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    let mut cases = 0;
    for (ba, depths) in [
        (1u16, &[1u16][..]),
        (8, &[2, 7, 8][..]),
        (16, &[9, 12, 16][..]),
        (32, &[24, 32][..]),
        (64, &[64][..]),
    ] {
        for &bs in depths {
            for spp in [1u16, 3] {
                if (ba == 1 || ba == 64) && spp == 3 {
                    continue;
                }
                for signed in [false, true] {
                    if ba == 1 && signed {
                        continue;
                    }
                    for (rows, cols) in SIZES {
                        for pattern in [Pattern::Noise, Pattern::Smooth, Pattern::Extremes] {
                            let fi = info(rows, cols, spp, ba, bs, signed);
                            let src = if ba == 1 {
                                (0..rows * cols).map(|_| (rng.next() % 2) as u8).collect()
                            } else {
                                make_frame(&fi, pattern, &mut rng)
                            };
                            let enc = rle::encode_frame(&src, &fi).unwrap();
                            assert_eq!(enc.len() % 2, 0);
                            let mut out = vec![0u8; frame_size_bytes(&fi)];
                            rle::decode_frame(&enc, &fi, &mut out).unwrap();
                            assert_eq!(out, src, "{fi:?} {pattern:?}");
                            cases += 1;
                        }
                    }
                }
            }
        }
    }
    println!("{cases} RLE round trips");
}

fn jpeg_case(fi: &FrameInfo, src: &[u8], opts: &EncodeOptions) {
    let enc = jpeg::encode_frame_with(src, fi, opts).unwrap();
    let h = jpeg::read_header(&enc).unwrap();
    assert_eq!(h.precision as u16, fi.bits_stored);
    assert_eq!(h.predictor, opts.predictor);
    let mut out = vec![0u8; frame_size_bytes(fi)];
    jpeg::decode_frame(&enc, fi, &mut out).unwrap_or_else(|e| panic!("{fi:?} {opts:?}: {e}"));
    assert_eq!(out, src, "{fi:?} {opts:?}");
    // Two frames at once: done for the simple form, each output the frame.
    let (mut a, mut b) = (vec![0u8; out.len()], vec![0u8; out.len()]);
    let paired = jpeg::decode_frame_pair(&enc, &enc, fi, &mut a, &mut b);
    if paired {
        assert!(a == src && b == src, "{fi:?} {opts:?} pair");
    }
    let simple = opts.restart_interval == 0 && (opts.interleaved || fi.samples_per_pixel == 1);
    if fi.samples_per_pixel == 1 {
        assert_eq!(paired, simple, "{fi:?} {opts:?}");
    } else {
        assert!(simple || !paired, "{fi:?} {opts:?}");
    }
    // The general (MCU) decoder agrees with the row decoder.
    let planes = jpeg::decode_planes(&enc, 1 << 24).unwrap();
    let spp = usize::from(fi.samples_per_pixel);
    let mask = (1u32 << fi.bits_stored) - 1;
    for (c, plane) in planes.planes.iter().enumerate() {
        for (i, &v) in plane.iter().enumerate() {
            let k = i * spp + c;
            let want = if fi.bits_allocated == 8 {
                u32::from(src[k])
            } else {
                u32::from(u16::from_le_bytes([src[2 * k], src[2 * k + 1]]))
            };
            assert_eq!(u32::from(v), want & mask, "{fi:?} {opts:?} planes");
        }
    }
}

#[test]
fn jpeg_round_trip_all_depths_and_predictors() {
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
    let mut cases = 0;
    for bs in 2u16..=16 {
        for ba in [8u16, 16] {
            if bs > ba {
                continue;
            }
            for spp in [1u16, 3] {
                for signed in [false, true] {
                    for (rows, cols) in SIZES {
                        let fi = info(rows, cols, spp, ba, bs, signed);
                        for pattern in [Pattern::Noise, Pattern::Smooth, Pattern::Extremes] {
                            let src = make_frame(&fi, pattern, &mut rng);
                            for predictor in 1..=7 {
                                let opts = EncodeOptions {
                                    predictor,
                                    ..Default::default()
                                };
                                jpeg_case(&fi, &src, &opts);
                                cases += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    println!("{cases} JPEG round trips");
}

#[test]
fn jpeg_round_trip_options() {
    let mut rng = Rng(42);
    for (bs, ba) in [(8u16, 8u16), (12, 16), (16, 16)] {
        for spp in [1u16, 3] {
            for (rows, cols) in [(7u32, 5u32), (33, 17), (1, 13)] {
                let fi = info(rows, cols, spp, ba, bs, false);
                let src = make_frame(&fi, Pattern::Noise, &mut rng);
                for predictor in 1..=7 {
                    for restart_interval in [0u16, 1, 7, cols as u16, 2 * cols as u16] {
                        for interleaved in [true, false] {
                            let opts = EncodeOptions {
                                predictor,
                                point_transform: 0,
                                restart_interval,
                                interleaved,
                            };
                            jpeg_case(&fi, &src, &opts);
                        }
                    }
                }
                // Point transform: lossless when the dropped bits are zero.
                let pt = 3u8;
                let mut shifted = src.clone();
                if ba == 8 {
                    shifted.iter_mut().for_each(|v| *v &= 0xFF << pt);
                } else {
                    for c in shifted.chunks_exact_mut(2) {
                        let v = u16::from_le_bytes([c[0], c[1]]) & (0xFFFF << pt);
                        c.copy_from_slice(&v.to_le_bytes());
                    }
                }
                let opts = EncodeOptions {
                    predictor: 4,
                    point_transform: pt,
                    restart_interval: cols as u16,
                    interleaved: true,
                };
                jpeg_case(&fi, &shifted, &opts);
            }
        }
    }
}

#[test]
fn encoder_rejects_bad_input() {
    let fi = FrameInfo::new(2, 2, 1, 16);
    assert!(jpeg::encode_frame(&[0; 7], &fi, 1).is_err());
    assert!(jpeg::encode_frame(&[0; 8], &fi, 0).is_err());
    assert!(jpeg::encode_frame(&[0; 8], &fi, 8).is_err());
    let fi1 = FrameInfo::new(2, 2, 1, 1);
    assert!(jpeg::encode_frame(&[0; 4], &fi1, 1).is_err());
    let fi64 = FrameInfo::new(1, 1, 3, 64);
    assert!(rle::encode_frame(&[0; 24], &fi64).is_err());
    assert!(rle::encode_frame(&[0; 3], &FrameInfo::new(1, 1, 3, 16)).is_err());
}

/// Large frames: the JPEG bit writer grows its buffer several times (byte stuffing at the
/// boundaries included) and the SIMD plane splitting and joining of RLE runs over whole
/// blocks and a remainder; encoding into a reused buffer that held a bigger frame gives the
/// same bytes as a fresh one.
#[test]
fn large_frames_and_reused_buffers() {
    let mut rng = Rng(0x5EED);
    let mut jpeg_buf = vec![0xEE; 3 << 20];
    let mut rle_buf = vec![0xEE; 3 << 20];
    for (rows, cols, spp, ba, bs) in [
        (512u32, 509u32, 1u16, 16u16, 16u16),
        (301, 403, 3, 8, 8),
        (257, 255, 3, 16, 12),
        (200, 333, 1, 8, 8),
    ] {
        let fi = info(rows, cols, spp, ba, bs, false);
        for pattern in [Pattern::Noise, Pattern::Smooth] {
            let src = make_frame(&fi, pattern, &mut rng);
            let mut out = vec![0u8; frame_size_bytes(&fi)];
            let enc = jpeg::encode_frame(&src, &fi, 1).unwrap();
            jpeg::encode_frame_into(&src, &fi, 1, &mut jpeg_buf).unwrap();
            assert_eq!(jpeg_buf, enc, "jpeg {rows}x{cols}x{spp} {pattern:?}");
            jpeg::decode_frame(&enc, &fi, &mut out).unwrap();
            assert!(out == src, "jpeg {rows}x{cols}x{spp} {pattern:?}");
            let enc = rle::encode_frame(&src, &fi).unwrap();
            rle::encode_frame_into(&src, &fi, &mut rle_buf).unwrap();
            assert_eq!(rle_buf, enc, "rle {rows}x{cols}x{spp} {pattern:?}");
            out.fill(0);
            rle::decode_frame(&enc, &fi, &mut out).unwrap();
            assert!(out == src, "rle {rows}x{cols}x{spp} {pattern:?}");
        }
    }
}

/// Differences on both sides of the encoder's one-lookup range (|d| <= 511) and of the
/// decoder's lookahead, in both directions.
#[test]
fn jpeg_differences_around_the_lookup_limits() {
    let fi = info(2, 24, 1, 16, 16, false);
    let mut v = vec![1000u16];
    for d in [
        511i32, -511, 512, -512, 1023, -1024, 255, 256, -255, -256, 1, -1,
    ] {
        let last = i32::from(*v.last().unwrap());
        v.push((last + d) as u16);
        v.push((last + d) as u16);
    }
    v.resize(48, 7);
    let src: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    let enc = jpeg::encode_frame(&src, &fi, 1).unwrap();
    let mut out = vec![0u8; src.len()];
    jpeg::decode_frame(&enc, &fi, &mut out).unwrap();
    assert_eq!(out, src);
}

/// Two different frames decoded together give what each gives alone; a pair with a damaged
/// frame is declined (the caller then decodes each alone and reports the error).
#[test]
fn jpeg_frame_pairs() {
    let mut rng = Rng(7);
    for (ba, bs, spp) in [(8u16, 8u16, 3u16), (16, 16, 1), (16, 12, 1), (8, 8, 1)] {
        let fi = info(37, 29, spp, ba, bs, false);
        let src_a = make_frame(&fi, Pattern::Smooth, &mut rng);
        let src_b = make_frame(&fi, Pattern::Noise, &mut rng);
        let enc_a = jpeg::encode_frame(&src_a, &fi, 1).unwrap();
        let enc_b = jpeg::encode_frame(&src_b, &fi, 1).unwrap();
        let n = frame_size_bytes(&fi);
        let (mut a, mut b) = (vec![0u8; n], vec![0u8; n]);
        // Our encoder writes one table per component: colour frames are declined (the
        // corpus test covers one table for three components).
        let single = spp == 1;
        assert_eq!(
            jpeg::decode_frame_pair(&enc_a, &enc_b, &fi, &mut a, &mut b),
            single
        );
        assert!(!single || (a == src_a && b == src_b), "{fi:?}");
        assert_eq!(
            jpeg::decode_frame_pair(&enc_b, &enc_a, &fi, &mut b, &mut a),
            single
        );
        assert!(!single || (a == src_a && b == src_b), "{fi:?} swapped");
        let cut = &enc_b[..enc_b.len() / 2];
        assert!(!jpeg::decode_frame_pair(&enc_a, cut, &fi, &mut a, &mut b));
        assert!(jpeg::decode_frame(cut, &fi, &mut b).is_err());
        let mut wrong = fi;
        wrong.rows += 1;
        let mut big = vec![0u8; frame_size_bytes(&wrong)];
        let mut big2 = big.clone();
        assert!(!jpeg::decode_frame_pair(
            &enc_a, &enc_b, &wrong, &mut big, &mut big2
        ));
    }
}
