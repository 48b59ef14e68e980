//! Frame description shared by every codec.

use crate::CodecError;

/// What the data set says about one frame (PS3.3 C.7.6.3, Image Pixel module).
///
/// The decoders' output layout follows from it: `rows * columns * samples_per_pixel` elements
/// of `bits_allocated / 8` bytes each (1 byte for `bits_allocated == 1`), little-endian,
/// samples interleaved last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameInfo {
    pub rows: u32,
    pub columns: u32,
    pub samples_per_pixel: u16,
    /// 1, 8, 16, 32 or 64.
    pub bits_allocated: u16,
    pub bits_stored: u16,
    /// 0 unsigned, 1 two's complement.
    pub pixel_representation: u16,
    /// 0 interleaved (R1G1B1R2...), 1 planar (R1R2...G1G2...). Only used by native data.
    pub planar_configuration: u16,
    /// Native data in Explicit VR Big Endian.
    pub big_endian: bool,
    /// Float Pixel Data / Double Float Pixel Data: no sign or bit-mask correction.
    pub float: bool,
}

impl FrameInfo {
    /// Monochrome (or `samples_per_pixel`-sample) frame with interleaved samples.
    pub fn new(rows: u32, columns: u32, samples_per_pixel: u16, bits_allocated: u16) -> Self {
        FrameInfo {
            rows,
            columns,
            samples_per_pixel,
            bits_allocated,
            bits_stored: bits_allocated,
            ..Default::default()
        }
    }

    /// Bytes of one output element.
    pub fn bytes_per_sample(&self) -> usize {
        if self.bits_allocated <= 8 {
            1
        } else {
            usize::from(self.bits_allocated / 8)
        }
    }

    /// `rows * columns`, saturating.
    pub(crate) fn pixels(&self) -> usize {
        (self.rows as usize).saturating_mul(self.columns as usize)
    }

    /// `rows * columns * samples_per_pixel`, saturating.
    pub(crate) fn samples(&self) -> usize {
        self.pixels()
            .saturating_mul(usize::from(self.samples_per_pixel))
    }

    pub(crate) fn signed(&self) -> bool {
        self.pixel_representation == 1
    }

    /// Check the description is one this crate can lay out (PS3.3 C.7.6.3.1).
    pub fn validate(&self) -> Result<(), CodecError> {
        let bad = |reason| Err(CodecError::InvalidFrameInfo { reason });
        if self.rows == 0 || self.columns == 0 {
            return bad("rows and columns must be non-zero");
        }
        if !(1..=4).contains(&self.samples_per_pixel) {
            // 1 (monochrome, palette), 3 (RGB, YBR...), 4 (retired ARGB, CMYK).
            return bad("samples per pixel must be 1 to 4");
        }
        if !matches!(self.bits_allocated, 1 | 8 | 16 | 32 | 64) {
            return bad("bits allocated must be 1, 8, 16, 32 or 64");
        }
        if self.bits_stored == 0 || self.bits_stored > self.bits_allocated {
            return bad("bits stored must be between 1 and bits allocated");
        }
        if self.bits_allocated == 1 && self.samples_per_pixel != 1 {
            return bad("1-bit data must have one sample per pixel");
        }
        if self.float && !matches!(self.bits_allocated, 32 | 64) {
            return bad("float pixel data must have 32 or 64 bits allocated");
        }
        if self.pixel_representation > 1 {
            return bad("pixel representation must be 0 or 1");
        }
        if self.planar_configuration > 1 {
            return bad("planar configuration must be 0 or 1");
        }
        Ok(())
    }

    pub(crate) fn check_output(&self, out: &[u8]) -> Result<(), CodecError> {
        self.validate()?;
        let expected = frame_size_bytes(self);
        if out.len() != expected {
            return Err(CodecError::OutputSize {
                expected,
                actual: out.len(),
            });
        }
        Ok(())
    }
}

/// Size in bytes of one decoded frame in the output layout (saturating at `usize::MAX`).
pub fn frame_size_bytes(info: &FrameInfo) -> usize {
    info.samples().saturating_mul(info.bytes_per_sample())
}

/// Size in bytes of one frame of native (uncompressed) Pixel Data, PS3.5 8.1.1: for 1-bit data
/// the bits are packed, so this is `ceil(rows * columns / 8)`.
pub fn native_frame_size_bytes(info: &FrameInfo) -> usize {
    if info.bits_allocated == 1 {
        info.samples().div_ceil(8)
    } else {
        frame_size_bytes(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        let mut fi = FrameInfo::new(3, 5, 3, 16);
        assert_eq!(frame_size_bytes(&fi), 90);
        fi = FrameInfo::new(3, 5, 1, 1);
        assert_eq!(frame_size_bytes(&fi), 15);
        assert_eq!(native_frame_size_bytes(&fi), 2);
        assert!(fi.validate().is_ok());
        fi.bits_allocated = 12;
        assert!(fi.validate().is_err());
        fi = FrameInfo::new(3, 5, 65535, 8);
        assert!(fi.validate().is_err());
    }
}
