//! ISO/IEC 10918-2 (ITU-T T.83) lossless conformance codestreams O1 (8-bit, 4 interleaved
//! components with sampling factors 1x1, 1x2, 3x1, 1x4, restart interval 85) and O2 (16-bit,
//! one scan per component, predictors 7 and 1, restart intervals 170/0/255/0).
//!
//! The TXT files carry no decoded reference, but D16.SRC is the 85x257 fourth component
//! (Ci = 50, sampling 1x4) as 16-bit samples: the low byte is O1's 8-bit sample, the high byte
//! O2's 16-bit sample (whose values are the 8-bit ones times 256). All of O2 is O1 times 256.

mod common;

use dicomfast_codec::jpeg;
use std::path::PathBuf;

fn p14() -> Option<PathBuf> {
    Some(common::corpus()?.join("public/jpeg-conformance/p14"))
}

#[test]
fn o1_o2_decode_to_reference() {
    let Some(dir) = p14() else { return };
    let raw = std::fs::read(dir.join("D16.SRC")).unwrap();
    let d16: Vec<u16> = raw
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let o1 = jpeg::decode_planes(&std::fs::read(dir.join("O1.JPG")).unwrap(), 1 << 24).unwrap();
    let o2 = jpeg::decode_planes(&std::fs::read(dir.join("O2.JPG")).unwrap(), 1 << 24).unwrap();
    assert_eq!(o1.header.precision, 8);
    assert_eq!(o2.header.precision, 16);
    assert_eq!(o1.widths, [85, 85, 255, 85]);
    assert_eq!(o1.heights, [65, 129, 65, 257]);
    assert_eq!(o1.planes[3], d16);
    let d16_be: Vec<u16> = d16.iter().map(|v| v.swap_bytes()).collect();
    assert_eq!(o2.planes[3], d16_be);
    for (a, b) in o1.planes.iter().zip(&o2.planes) {
        assert!(a.iter().zip(b).all(|(&x, &y)| x << 8 == y));
    }
}

#[test]
fn o1_is_refused_as_a_dicom_frame() {
    let Some(dir) = p14() else { return };
    let data = std::fs::read(dir.join("O1.JPG")).unwrap();
    let fi = dicomfast_codec::FrameInfo::new(257, 255, 4, 8);
    let mut out = vec![0u8; dicomfast_codec::frame_size_bytes(&fi)];
    let err = jpeg::decode_frame(&data, &fi, &mut out).unwrap_err();
    assert!(matches!(
        err,
        dicomfast_codec::CodecError::JpegUnsupported { .. }
    ));
}
