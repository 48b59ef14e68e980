//! Deflated Image Frame Compression (1.2.840.10008.1.2.8.1, PS3.5 8.2.16): each frame's
//! native bytes (1-bit data packed) deflated on their own (raw deflate, RFC 1951; a zlib
//! wrapper is accepted when decoding).

use std::io::Read;

use crate::codec::{Codec, EncodeParams};
use crate::registry::TransferSyntax;
use crate::{decode_native_frame, native_frame_size_bytes, CodecError, FrameInfo};

#[derive(Debug, Clone, Copy)]
pub struct DeflateImageFrame;

impl Codec for DeflateImageFrame {
    fn name(&self) -> &'static str {
        "Deflated Image Frame Compression"
    }

    fn decode(&self, data: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError> {
        info.check_output(out)?;
        let mut native = vec![0u8; native_frame_size_bytes(info)];
        inflate(data, &mut native)?;
        decode_native_frame(&native, info, out)
    }

    fn can_encode(&self, _ts: &TransferSyntax) -> bool {
        true
    }

    fn encode_in(
        &self,
        src: &[u8],
        info: &FrameInfo,
        _params: &EncodeParams,
        out: &mut Vec<u8>,
    ) -> Result<usize, CodecError> {
        info.validate()?;
        let expected = crate::frame_size_bytes(info);
        if src.len() != expected {
            return Err(CodecError::InputSize {
                expected,
                actual: src.len(),
            });
        }
        let packed;
        let native: &[u8] = if info.bits_allocated == 1 {
            let mut p = Vec::with_capacity(native_frame_size_bytes(info));
            crate::native::pack_bits(src, &mut p);
            packed = p;
            &packed
        } else {
            src
        };
        out.clear();
        let mut e =
            flate2::write::DeflateEncoder::new(std::mem::take(out), flate2::Compression::default());
        std::io::Write::write_all(&mut e, native).expect("writing to a Vec");
        *out = e.finish().expect("writing to a Vec");
        Ok(out.len())
    }
}

/// Inflate one frame into `out`, which it must fill exactly.
fn inflate(data: &[u8], out: &mut [u8]) -> Result<(), CodecError> {
    let fill = |reader: &mut dyn Read, out: &mut [u8]| -> Result<usize, usize> {
        let mut n = 0;
        while n < out.len() {
            match reader.read(&mut out[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(_) => return Err(n),
            }
        }
        Ok(n)
    };
    let got = match fill(&mut flate2::read::DeflateDecoder::new(data), out) {
        Ok(n) => n,
        Err(n) => {
            let zlib_header = data.len() >= 2
                && data[0] & 0x0F == 8
                && (u16::from(data[0]) << 8 | u16::from(data[1])) % 31 == 0;
            if zlib_header {
                fill(&mut flate2::read::ZlibDecoder::new(data), out).unwrap_or_else(|n| n)
            } else {
                n
            }
        }
    };
    if got < out.len() {
        return Err(CodecError::Truncated {
            offset: data.len(),
            needed: out.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_one_bit_and_sixteen() {
        for info in [FrameInfo::new(3, 11, 1, 1), FrameInfo::new(4, 5, 3, 16)] {
            let n = crate::frame_size_bytes(&info);
            let src: Vec<u8> = (0..n)
                .map(|i| {
                    if info.bits_allocated == 1 {
                        (i % 3 == 0) as u8
                    } else {
                        i as u8
                    }
                })
                .collect();
            let mut enc = Vec::new();
            let k = DeflateImageFrame
                .encode_in(&src, &info, &EncodeParams::default(), &mut enc)
                .unwrap();
            let mut out = vec![0u8; n];
            DeflateImageFrame
                .decode(&enc[..k], &info, &mut out)
                .unwrap();
            assert_eq!(out, src);
            assert!(DeflateImageFrame
                .decode(&enc[..k / 2], &info, &mut out)
                .is_err());
        }
    }
}
