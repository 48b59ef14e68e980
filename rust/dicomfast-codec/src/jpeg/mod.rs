//! JPEG Lossless, Non-Hierarchical, process 14 (ITU-T T.81 Annex H with Huffman coding;
//! DICOM transfer syntaxes 1.2.840.10008.1.2.4.57 and .70, PS3.5 A.4.1).
//!
//! Decoding accepts SOF3 streams with precision 2-16, any predictor 1-7, point transform,
//! interleaved and non-interleaved scans, restart intervals and fill bytes; reconstruction is
//! modulo 2^16 (H.2.1), never clamped. Other processes are rejected with
//! [`CodecError::JpegUnsupported`].

mod bits;
mod codec;
mod decode;
mod encode;
mod huffman;
mod markers;
mod prefix;

pub use codec::JpegLossless;
pub use encode::EncodeOptions;

use crate::{CodecError, FrameInfo};

/// What a stream's frame header and first scan header say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JpegHeader {
    /// SOFn marker code (0xC3 for lossless process 14).
    pub sof: u8,
    /// Sample precision P in bits.
    pub precision: u8,
    /// Number of lines Y (0 if a DNL marker defines it).
    pub rows: u16,
    /// Samples per line X.
    pub columns: u16,
    /// Number of components Nf.
    pub components: u8,
    pub component_ids: Vec<u8>,
    /// (H, V) sampling factors per component.
    pub sampling: Vec<(u8, u8)>,
    /// Predictor selection value of the first scan (Ss, Table H.1).
    pub predictor: u8,
    /// Point transform of the first scan (Al).
    pub point_transform: u8,
    /// Restart interval in force at the first scan (0: none).
    pub restart_interval: u16,
    /// Whether the first scan holds every component.
    pub interleaved: bool,
}

/// Every component of a stream, decoded, at its own size (A.1.1); see [`decode_planes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedPlanes {
    pub header: JpegHeader,
    /// One plane per frame component, row-major, `widths[i] * heights[i]` samples.
    pub planes: Vec<Vec<u16>>,
    pub widths: Vec<usize>,
    pub heights: Vec<usize>,
}

/// Read the frame header and the first scan header (parsing stops there). Any SOFn is
/// reported, so callers can tell which process a stream uses.
pub fn read_header(src: &[u8]) -> Result<JpegHeader, CodecError> {
    let mut s = decode::Stream::start(src, true)?;
    match s.next_scan()? {
        Some(scan) => Ok(s.header(&scan)),
        None => Err(CodecError::JpegFormat {
            offset: s.p.pos,
            reason: "no frame and scan header before the end of the stream",
        }),
    }
}

/// Decode one JPEG Lossless frame into `out` (output layout: see the crate docs; u8 elements
/// for Bits Allocated 8, little-endian u16 for 16; the stream's precision may be below Bits
/// Allocated). The frame header must agree with `info` on rows, columns and samples per pixel.
pub fn decode_frame(src: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError> {
    decode::decode_frame(src, info, out)
}

/// Decode two frames of the same layout at once (two independent streams keep the processor
/// busier than one). True when done; false, with the outputs in an unspecified state, when
/// either frame is not of the common simple form (one scan of all components, one Huffman
/// table, no restart interval) or fails: decode each with [`decode_frame`] then.
pub fn decode_frame_pair(
    a: &[u8],
    b: &[u8],
    info: &FrameInfo,
    out_a: &mut [u8],
    out_b: &mut [u8],
) -> bool {
    decode::decode_frame_pair(a, b, info, out_a, out_b)
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

/// Decode every component into its own plane, for streams a DICOM frame cannot describe
/// (sampling factors other than 1x1, more components). Refuses images with more than
/// `max_samples` samples (MCU padding included).
pub fn decode_planes(src: &[u8], max_samples: usize) -> Result<DecodedPlanes, CodecError> {
    decode::decode_planes(src, max_samples)
}

/// Encode one frame given in the output layout (Bits Allocated 8 or 16, 1-4 samples per
/// pixel, interleaved) as JPEG Lossless with precision = Bits Stored (2-16), the given
/// predictor (1 for transfer syntax .70, "SV1"), point transform 0 and an optimal Huffman table
/// per component. The stream has even length only by chance: DICOM encapsulation pads it.
pub fn encode_frame(src: &[u8], info: &FrameInfo, predictor: u8) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    encode_frame_into(src, info, predictor, &mut out)?;
    Ok(out)
}

/// [`encode_frame`] into `out` (cleared first), so that a caller can reuse its buffers.
pub fn encode_frame_into(
    src: &[u8],
    info: &FrameInfo,
    predictor: u8,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    let opts = EncodeOptions {
        predictor,
        ..Default::default()
    };
    encode::encode_frame_into(src, info, &opts, out)
}

/// [`encode_frame`] with every setting: point transform, restart interval, one scan per
/// component.
pub fn encode_frame_with(
    src: &[u8],
    info: &FrameInfo,
    options: &EncodeOptions,
) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    encode::encode_frame_into(src, info, options, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame_size_bytes;

    fn le16(v: &[u16]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    fn decode(src: &[u8], fi: &FrameInfo) -> Result<Vec<u8>, CodecError> {
        let mut out = vec![0u8; frame_size_bytes(fi)];
        decode_frame(src, fi, &mut out).map(|()| out)
    }

    fn find(hay: &[u8], needle: &[u8]) -> usize {
        hay.windows(needle.len()).position(|w| w == needle).unwrap()
    }

    #[test]
    fn difference_32768_uses_ssss_16() {
        // 0 after the initial prediction 2^15, then 2^15 after 0: both differences are
        // 32768, coded as SSSS 16 with no additional bits (H.1.2.2).
        let fi = FrameInfo::new(1, 2, 1, 16);
        let src = le16(&[0, 0x8000]);
        let enc = encode_frame(&src, &fi, 1).unwrap();
        let dht = find(&enc, &[0xFF, 0xC4]);
        let bits = &enc[dht + 5..dht + 21];
        assert_eq!(bits.iter().map(|&b| usize::from(b)).sum::<usize>(), 1);
        assert_eq!(enc[dht + 21], 16);
        assert_eq!(decode(&enc, &fi).unwrap(), src);
    }

    #[test]
    fn reconstruction_is_modulo_2_16_not_clamped() {
        // 65535 then 0: the difference is coded as +1 and 65535 + 1 wraps to 0 (H.2.1).
        let fi = FrameInfo::new(2, 3, 1, 16);
        let src = le16(&[65535, 0, 65535, 1, 65535, 0]);
        for p in 1..=7 {
            let enc = encode_frame(&src, &fi, p).unwrap();
            assert_eq!(decode(&enc, &fi).unwrap(), src, "predictor {p}");
        }
    }

    #[test]
    fn other_processes_are_refused() {
        let fi = FrameInfo::new(4, 4, 1, 8);
        let enc = encode_frame(&[7u8; 16], &fi, 1).unwrap();
        let at = find(&enc, &[0xFF, 0xC3]);
        for (sof, arith) in [(0xC0u8, false), (0xC1, false), (0xC2, false), (0xC9, true)] {
            let mut s = enc.clone();
            s[at + 1] = sof;
            match decode(&s, &fi) {
                Err(CodecError::JpegUnsupported {
                    marker,
                    offset,
                    reason,
                }) => {
                    assert_eq!((marker, offset), (sof, at));
                    assert_eq!(reason.contains("arithmetic"), arith);
                }
                other => panic!("{other:?}"),
            }
            assert_eq!(read_header(&s).unwrap().sof, sof);
        }
    }

    #[test]
    fn fill_bytes_missing_eoi_and_padding() {
        let fi = FrameInfo::new(5, 6, 3, 8);
        let src: Vec<u8> = (0..90u32).map(|i| (i * 13 % 256) as u8).collect();
        let enc = encode_frame(&src, &fi, 1).unwrap();
        // Fill bytes before SOS and EOI (B.1.1.2).
        let sos = find(&enc, &[0xFF, 0xDA]);
        let mut s = enc[..sos].to_vec();
        s.extend_from_slice(&[0xFF, 0xFF]);
        s.extend_from_slice(&enc[sos..enc.len() - 2]);
        s.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xD9, 0x00]);
        assert_eq!(decode(&s, &fi).unwrap(), src);
        // No EOI at all.
        assert_eq!(decode(&enc[..enc.len() - 2], &fi).unwrap(), src);
        // Split over fragments.
        let mut out = vec![0u8; 90];
        let (a, b) = enc.split_at(enc.len() / 2);
        let (b, c) = b.split_at(3);
        decode_fragments(&[a, b, c], &fi, &mut out).unwrap();
        assert_eq!(out, src);
    }

    #[test]
    fn restart_markers_checked() {
        let fi = FrameInfo::new(6, 4, 1, 16);
        let src = le16(&(0..24u16).map(|i| i * 1000).collect::<Vec<_>>());
        for ri in [4u16, 5] {
            let opts = EncodeOptions {
                restart_interval: ri,
                ..Default::default()
            };
            let enc = encode_frame_with(&src, &fi, &opts).unwrap();
            assert_eq!(read_header(&enc).unwrap().restart_interval, ri);
            assert_eq!(decode(&enc, &fi).unwrap(), src);
            let at = find(&enc, &[0xFF, 0xD0]);
            let mut s = enc.clone();
            s[at + 1] = 0xD1;
            assert!(matches!(
                decode(&s, &fi),
                Err(CodecError::JpegData {
                    reason: "restart marker out of sequence",
                    ..
                })
            ));
            let mut s = enc.clone();
            s.drain(at..at + 2);
            assert!(decode(&s, &fi).is_err());
        }
    }

    #[test]
    fn lines_from_dnl_use_the_data_set_rows() {
        let fi = FrameInfo::new(3, 4, 1, 8);
        let src: Vec<u8> = (0..12).collect();
        let mut enc = encode_frame(&src, &fi, 2).unwrap();
        let sof = find(&enc, &[0xFF, 0xC3]);
        enc[sof + 5] = 0;
        enc[sof + 6] = 0;
        assert_eq!(read_header(&enc).unwrap().rows, 0);
        assert_eq!(decode(&enc, &fi).unwrap(), src);
    }

    #[test]
    fn header_and_layout_errors() {
        let fi = FrameInfo::new(3, 4, 1, 16);
        let src = le16(&[1; 12]);
        let enc = encode_frame(&src, &fi, 1).unwrap();
        assert!(matches!(
            decode(&enc, &FrameInfo::new(3, 5, 1, 16)),
            Err(CodecError::Mismatch {
                what: "columns",
                stream: 4,
                dataset: 5,
                ..
            })
        ));
        assert!(matches!(
            decode(&enc, &FrameInfo::new(3, 4, 3, 16)),
            Err(CodecError::Mismatch {
                what: "samples per pixel",
                ..
            })
        ));
        let mut fi12 = fi;
        fi12.bits_stored = 12;
        let enc12 = encode_frame(&src, &fi12, 1).unwrap();
        assert!(matches!(
            decode(&enc12, &FrameInfo::new(3, 4, 1, 8)),
            Err(CodecError::Mismatch {
                what: "sample precision",
                ..
            })
        ));
        let mut out = vec![0u8; 5];
        assert!(matches!(
            decode_frame(&enc, &fi, &mut out),
            Err(CodecError::OutputSize {
                expected: 24,
                actual: 5
            })
        ));
        for bad in [
            &[][..],
            &[0xFF, 0xD8],
            &[0xFF, 0xD8, 0xFF, 0xD9],
            &[0, 1, 2, 3],
        ] {
            assert!(decode(bad, &fi).is_err());
            assert!(read_header(bad).is_err());
        }
        for cut in [3, 10, 20, 30, enc.len() - 4] {
            assert!(decode(&enc[..cut], &fi).is_err(), "cut at {cut}");
        }
    }
}
