//! High-Throughput JPEG 2000 (ISO/IEC 15444-15) encoding by our own encoder (crate
//! `dicomfast-htj2k`, pure Rust; feature `htj2k`), for the three HTJ2K transfer syntaxes of
//! PS3.5 A.4.11, and decoding by its decoder, with OpenJPEG ([`crate::j2k`]) for the
//! codestreams it does not take (more than one tile or layer, refinement passes, ...).
//!
//! Every code-block is HT-coded (the Part 15 Rsiz and CAP marker); one tile, one quality
//! layer, 64x64 code-blocks, a J2K codestream (no JPH wrapper).
//!
//! * .201 HTJ2K Lossless: reversible 5/3 wavelet, 5 decomposition levels, LRCP.
//! * .202 HTJ2K Lossless RPCL (PS3.5 10.18 / A.4.11): reversible, the RPCL progression
//!   order, enough decomposition levels for the lowest resolution to be at most 64 x 64,
//!   and a TLM marker segment in the main header giving the resolution breakpoints (the
//!   encoder writes one tile-part per resolution, all listed in the TLM).
//! * .203 HTJ2K: irreversible 9/7 wavelet, the base quantisation step searched so that
//!   the frame compresses by [`EncodeParams::ratio`] (the encoder has no rate control:
//!   each try is a whole encode, a few per frame; the largest codestream within the ratio
//!   is kept).
//!
//! Three-sample frames are coded with the RCT (lossless) or ICT (.203) when
//! [`EncodeParams::colour_transform`] asks (the data set then says YBR_RCT / YBR_ICT).

use dicomfast_htj2k::{self as ht, Progression};

use crate::codec::EncodeParams;
use crate::registry::TransferSyntax;
use crate::{CodecError, FrameInfo};

const NAME: &str = "HTJ2K";
const LOSSLESS: &str = "1.2.840.10008.1.2.4.201";
const LOSSLESS_RPCL: &str = "1.2.840.10008.1.2.4.202";
const LOSSY: &str = "1.2.840.10008.1.2.4.203";

/// Decomposition levels of .201 and .203 (OpenJPH's and Kakadu's default).
const LEVELS: u32 = 5;
/// PS3.5: the RPCL syntax's lowest resolution is at most this wide and high.
const THUMBNAIL: u32 = 64;
/// Encodes the lossy search may spend on one frame.
const MAX_TRIES: usize = 8;

/// The syntaxes' coding choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Lossless,
    LosslessRpcl,
    Lossy,
}

/// The fewest decomposition levels that bring `columns` x `rows` down to
/// [`THUMBNAIL`] or less in both directions.
fn levels_for_thumbnail(columns: u32, rows: u32) -> u32 {
    let mut levels = 0;
    while levels < 32 && (columns.max(rows) - 1) >> levels >= THUMBNAIL {
        levels += 1;
    }
    levels
}

fn encoder_error(message: String) -> CodecError {
    CodecError::Encoder {
        codec: NAME,
        message,
    }
}

fn encode(
    src: &[u8],
    info: &FrameInfo,
    variant: Variant,
    params: &EncodeParams,
    out: &mut Vec<u8>,
) -> Result<usize, CodecError> {
    crate::j2k::check_encodable(src, info)?;
    let frame = ht::Frame {
        width: info.columns,
        height: info.rows,
        components: u32::from(info.samples_per_pixel),
        bit_depth: u32::from(info.bits_stored),
        signed: info.signed(),
        bytes_per_sample: info.bytes_per_sample() as u32,
        samples: src,
    };
    let mut coding = ht::Coding {
        reversible: variant != Variant::Lossy,
        colour_transform: info.samples_per_pixel == 3 && params.colour_transform,
        decompositions: LEVELS,
        qstep: 0.0,
        progression: Progression::Lrcp,
        tile_part_per_resolution: false,
        #[cfg(feature = "parallel")]
        threads: crate::codec::inner_thread_count(info),
        #[cfg(not(feature = "parallel"))]
        threads: 1,
    };
    out.clear();
    match variant {
        Variant::Lossless => ht::encode(&frame, &coding, out).map_err(encoder_error)?,
        Variant::LosslessRpcl => {
            coding.progression = Progression::Rpcl;
            coding.decompositions = levels_for_thumbnail(info.columns, info.rows).max(LEVELS);
            coding.tile_part_per_resolution = true;
            ht::encode(&frame, &coding, out).map_err(encoder_error)?;
        }
        Variant::Lossy => {
            let target = src.len() / usize::from(params.ratio.max(2));
            encode_to_size(&frame, &mut coding, target.max(1), out)?;
        }
    }
    Ok(out.len())
}

/// Search the irreversible quantisation step for the largest codestream of at most
/// `target` bytes (secant steps on log size against log step, bisection once bracketed),
/// in at most [`MAX_TRIES`] codings of one wavelet transform; the smallest one made if
/// none fits.
fn encode_to_size(
    frame: &ht::Frame<'_>,
    coding: &mut ht::Coding,
    target: usize,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    // A step of a few sample levels: 2^-bits is one level of the unit range coded.
    let mut lq = (3.0 - f64::from(frame.bit_depth)).min(f64::from(ht::MAX_QSTEP).log2());
    let lt = (target as f64).log2();
    let mut fits: Option<(f64, f64)> = None; // (log step, log size): size <= target
    let mut over: Option<(f64, f64)> = None; // size > target
    let mut best_fit: Option<usize> = None;
    let mut tries = 0;
    out.clear();
    coding.qstep = lq.exp2() as f32;
    ht::encode_trials(frame, coding, |trial| {
        tries += 1;
        let size = trial.len();
        let ls = (size as f64).log2();
        if size <= target {
            if best_fit.is_none_or(|b| size > b) {
                best_fit = Some(size);
                out.clear();
                out.extend_from_slice(trial);
            }
            fits = Some((lq, ls));
            if size as f64 >= 0.92 * target as f64 {
                return None;
            }
        } else {
            if best_fit.is_none() && (out.is_empty() || size < out.len()) {
                out.clear();
                out.extend_from_slice(trial);
            }
            over = Some((lq, ls));
        }
        if tries >= MAX_TRIES {
            return None;
        }
        let next = match (fits, over) {
            (Some((qa, sa)), Some((qb, sb))) => {
                // Secant, kept strictly inside the bracket.
                let next = if (sa - sb).abs() > 1e-9 {
                    qa + (lt - sa) * (qb - qa) / (sb - sa)
                } else {
                    (qa + qb) / 2.0
                };
                let (lo, hi) = (qa.min(qb), qa.max(qb));
                let margin = (hi - lo) * 0.1;
                next.clamp(lo + margin, hi - margin)
            }
            // One side only: a coefficient's bits fall about one per halving of the
            // step; move by the missing bits per sample, at least one octave.
            (Some(_), None) | (None, Some(_)) => {
                let shift = (ls - lt).abs().max(1.0);
                if size > target {
                    lq + shift
                } else {
                    lq - shift
                }
            }
            (None, None) => lq, // not reached: this trial was one or the other
        }
        .clamp(
            f64::from(ht::MIN_QSTEP).log2(),
            f64::from(ht::MAX_QSTEP).log2(),
        );
        if next == lq {
            return None; // at a limit of the step: another try would make the same codestream
        }
        lq = next;
        Some(lq.exp2() as f32)
    })
    .map_err(encoder_error)
}

/// One HTJ2K transfer syntax's codec: our HT decoder (OpenJPEG for what it does not take),
/// `dicomfast-htj2k` encodes as the syntax asks. Three registrations, so that a lossless syntax's encoder never loses information.
#[derive(Debug)]
pub struct Htj2k {
    uid: &'static str,
    variant: Variant,
}

/// HTJ2K Lossless (.201).
pub static HTJ2K_LOSSLESS: Htj2k = Htj2k {
    uid: LOSSLESS,
    variant: Variant::Lossless,
};
/// HTJ2K Lossless RPCL (.202).
pub static HTJ2K_LOSSLESS_RPCL: Htj2k = Htj2k {
    uid: LOSSLESS_RPCL,
    variant: Variant::LosslessRpcl,
};
/// HTJ2K (.203), irreversible at the asked compression ratio.
pub static HTJ2K_LOSSY: Htj2k = Htj2k {
    uid: LOSSY,
    variant: Variant::Lossy,
};

impl crate::Codec for Htj2k {
    fn name(&self) -> &'static str {
        NAME
    }

    fn decode(&self, data: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError> {
        info.check_output(out)?;
        if crate::j2k::decode_ours(data, info, out).is_some() {
            return Ok(());
        }
        // Not a codestream ours takes (or damaged): OpenJPEG decides, and says what is wrong.
        crate::j2k::decode(data, info, out)
    }

    fn can_encode(&self, ts: &TransferSyntax) -> bool {
        ht::AVAILABLE && ts.uid == self.uid
    }

    fn check_params(&self, _ts: &TransferSyntax, params: &EncodeParams) -> Result<(), String> {
        if self.variant == Variant::Lossy {
            return crate::j2k::check_ratio(NAME, params);
        }
        Ok(())
    }

    fn encode_in(
        &self,
        src: &[u8],
        info: &FrameInfo,
        params: &EncodeParams,
        out: &mut Vec<u8>,
    ) -> Result<usize, CodecError> {
        encode(src, info, self.variant, params, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::fix_unused_bits;

    /// The offset of the first SOT marker (the end of the main header).
    fn main_header_end(cs: &[u8]) -> Option<usize> {
        let mut at = 2;
        while at + 4 <= cs.len() {
            if cs[at + 1] == 0x90 {
                return Some(at);
            }
            at += 2 + usize::from(u16::from_be_bytes([cs[at + 2], cs[at + 3]]));
        }
        None
    }

    /// The COD marker segment's progression order (T.800 A.6.1: SGcod's first byte).
    fn progression(cs: &[u8]) -> u8 {
        let mut at = 2;
        loop {
            let len = usize::from(u16::from_be_bytes([cs[at + 2], cs[at + 3]]));
            if cs[at + 1] == 0x52 {
                return cs[at + 5];
            }
            at += 2 + len;
        }
    }

    #[test]
    fn thumbnail_levels() {
        assert_eq!(levels_for_thumbnail(64, 64), 0);
        assert_eq!(levels_for_thumbnail(65, 10), 1);
        assert_eq!(levels_for_thumbnail(512, 512), 3);
        assert_eq!(levels_for_thumbnail(3064, 2396), 6);
        assert_eq!(levels_for_thumbnail(u32::MAX, 1), 26);
    }

    #[test]
    fn round_trips_and_markers() {
        for (rows, cols, ba, bs, spp, signed, mct) in [
            (1, 1, 8, 8, 1, false, false),
            (2, 1, 16, 16, 3, true, true),
            (13, 170, 8, 8, 1, false, false),
            (13, 170, 8, 8, 3, false, true),
            (13, 170, 8, 8, 3, false, false),
            (13, 170, 16, 12, 1, true, false),
            (13, 170, 16, 16, 1, false, false),
            (70, 13, 16, 16, 1, true, false),
            (13, 170, 8, 1, 1, false, false),
        ] {
            let mut info = FrameInfo::new(rows, cols, spp, ba);
            info.bits_stored = bs;
            info.pixel_representation = u16::from(signed);
            let n = crate::frame_size_bytes(&info);
            let mut src: Vec<u8> = (0..n).map(|i| (i * 37 % 251) as u8).collect();
            fix_unused_bits(&mut src, &info);
            let params = EncodeParams::default().with_colour_transform(mct);
            let mut out = vec![0u8; n];
            for variant in [Variant::Lossless, Variant::LosslessRpcl] {
                let mut enc = Vec::new();
                let k = encode(&src, &info, variant, &params, &mut enc).unwrap();
                crate::j2k::decode(&enc[..k], &info, &mut out).unwrap();
                assert_eq!(out, src, "{ba} {bs} {spp} {signed} {variant:?}");
                let end = main_header_end(&enc).unwrap();
                let tlm = enc[..end].windows(2).position(|w| w == [0xFF, 0x55]);
                assert_eq!(tlm.is_some(), variant == Variant::LosslessRpcl);
                if let Some(at) = tlm {
                    // One tile-part per resolution (Stlm 0x50: 8-bit Ttlm, 32-bit Ptlm).
                    let levels = levels_for_thumbnail(cols, rows).max(LEVELS) as usize;
                    assert_eq!(enc[at + 5], 0x50, "{rows}x{cols}: not split");
                    let ltlm = usize::from(u16::from_be_bytes([enc[at + 2], enc[at + 3]]));
                    assert_eq!(ltlm, 4 + 5 * (levels + 1));
                }
                let order = progression(&enc);
                assert_eq!(order, if tlm.is_some() { 2 } else { 0 }); // RPCL, LRCP
            }
            let mut enc = Vec::new();
            let k = encode(&src, &info, Variant::Lossy, &params, &mut enc).unwrap();
            crate::j2k::decode(&enc[..k], &info, &mut out).unwrap();
        }
    }

    #[test]
    fn lossy_meets_the_ratio() {
        let info = FrameInfo {
            bits_stored: 12,
            ..FrameInfo::new(128, 160, 1, 16)
        };
        let src: Vec<u8> = (0..128 * 160)
            .flat_map(|i: u32| {
                let (y, x) = ((i / 160) as f64, (i % 160) as f64);
                let v = 2000.0 + 900.0 * (x / 11.0).sin() + 700.0 * (y / 17.0).cos();
                ((v as u16) + (i * 7919 % 13) as u16).to_le_bytes()
            })
            .collect();
        for ratio in [5u16, 20, 60] {
            let params = EncodeParams::default().with_ratio(ratio);
            let mut enc = Vec::new();
            let k = encode(&src, &info, Variant::Lossy, &params, &mut enc).unwrap();
            let achieved = src.len() as f64 / k as f64;
            assert!(achieved >= f64::from(ratio), "{ratio}: {achieved}");
            assert!(achieved < f64::from(ratio) * 1.5, "{ratio}: {achieved}");
        }
    }
}

#[cfg(test)]
mod encoder_tests {
    use super::*;

    /// Whether a pseudo-random 12-bit `rows` x `cols` frame coded losslessly this way
    /// decodes (OpenJPEG) to itself.
    fn round_trips(
        rows: u32,
        cols: u32,
        levels: u32,
        progression: Progression,
        parts: bool,
    ) -> bool {
        let info = FrameInfo {
            bits_stored: 12,
            ..FrameInfo::new(rows, cols, 1, 16)
        };
        let n = crate::frame_size_bytes(&info);
        let src: Vec<u8> = (0..n / 2)
            .flat_map(|i| (((i * 2654435761usize) >> 7) as u16 & 0xFFF).to_le_bytes())
            .collect();
        let frame = ht::Frame {
            width: cols,
            height: rows,
            components: 1,
            bit_depth: 12,
            signed: false,
            bytes_per_sample: 2,
            samples: &src,
        };
        let coding = ht::Coding {
            reversible: true,
            colour_transform: false,
            decompositions: levels,
            qstep: 0.0,
            progression,
            tile_part_per_resolution: parts,
            threads: 1,
        };
        let mut enc = Vec::new();
        ht::encode(&frame, &coding, &mut enc).unwrap();
        let mut out = vec![0u8; n];
        crate::j2k::decode(&enc, &info, &mut out).is_ok() && out == src
    }

    /// Every size up to 9 x 9, at 0 and 1 levels (1: as tile-parts by resolution).
    #[test]
    fn every_small_size_round_trips() {
        let mut fails = Vec::new();
        for rows in 1u32..10 {
            for cols in 1u32..10 {
                for levels in [0u32, 1] {
                    if !round_trips(rows, cols, levels, Progression::Lrcp, levels == 1) {
                        fails.push((rows, cols, levels));
                    }
                }
            }
        }
        assert!(fails.is_empty(), "{fails:?}");
    }

    /// Frames wider or higher than a precinct (2^15): several precincts in the upper
    /// resolutions, in both resolution-first orders (RPCL as tile-parts).
    #[test]
    fn frames_beyond_one_precinct() {
        assert!(round_trips(2, 40_000, 5, Progression::Lrcp, false));
        assert!(round_trips(3, 65_535, 2, Progression::Rpcl, true));
        assert!(round_trips(33_000, 5, 5, Progression::Rpcl, true));
    }

    /// Larger odd and even sizes, up to 5 levels, both progression families.
    #[test]
    fn lossless_over_levels_and_sizes() {
        for (rows, cols) in [
            (1, 1),
            (2, 3),
            (7, 5),
            (13, 170),
            (64, 64),
            (65, 129),
            (150, 97),
        ] {
            for levels in [0u32, 1, 2, 5] {
                for progression in [Progression::Lrcp, Progression::Cprl] {
                    assert!(
                        round_trips(rows, cols, levels, progression, false),
                        "{rows}x{cols} levels {levels} {progression:?}"
                    );
                }
            }
        }
    }

    /// Random frames (sizes, depths 1-16, signed or not, grey or RGB with the RCT, levels
    /// 0-6, noise or extremes that stress the bit stuffing) decode to themselves.
    #[test]
    fn random_frames_round_trip() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for case in 0..80 {
            let rows = 1 + (next() % 150) as u32;
            let cols = 1 + (next() % 150) as u32;
            let bits = 1 + (next() % 16) as u16;
            let signed = next() % 2 == 1;
            let spp = if next() % 3 == 0 { 3 } else { 1 };
            let levels = (next() % 7) as u32;
            let ba = if bits > 8 { 16 } else { 8 };
            let mut info = FrameInfo::new(rows, cols, spp, ba);
            info.bits_stored = bits;
            info.pixel_representation = u16::from(signed);
            let n = crate::frame_size_bytes(&info);
            let style = next() % 3;
            let mut src: Vec<u8> = (0..n)
                .map(|i| match style {
                    0 => next() as u8,
                    1 => 0xFF, // the largest values
                    _ => {
                        if (i / 2) % 2 == 0 {
                            0xFF
                        } else {
                            0
                        }
                    } // extremes side by side
                })
                .collect();
            crate::convert::fix_unused_bits(&mut src, &info);
            let frame = ht::Frame {
                width: cols,
                height: rows,
                components: u32::from(spp),
                bit_depth: u32::from(bits),
                signed,
                bytes_per_sample: u32::from(ba / 8),
                samples: &src,
            };
            let coding = ht::Coding {
                reversible: true,
                colour_transform: spp == 3 && next() % 2 == 0,
                decompositions: levels,
                qstep: 0.0,
                progression: if next() % 2 == 0 {
                    Progression::Rpcl
                } else {
                    Progression::Pcrl
                },
                tile_part_per_resolution: false,
                threads: 1,
            };
            let mut enc = Vec::new();
            ht::encode(&frame, &coding, &mut enc).unwrap();
            let mut out = vec![0u8; n];
            crate::j2k::decode(&enc, &info, &mut out).unwrap();
            assert!(
                out == src,
                "case {case}: {rows}x{cols} {bits} bits {signed} {spp} {levels} {style}"
            );
        }
    }
}
