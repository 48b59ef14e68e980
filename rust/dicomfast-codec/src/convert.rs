//! The one place where decoded samples get their final value, as pydicom 3 gives them.
//!
//! * Native, RLE, JPEG and JPEG XL frames ([`fix_unused_bits`]): bits above Bits Stored are
//!   not part of the sample (PS3.5 8.1.1 and PS3.3 C.7.6.3.1.1 on Bits Stored / High Bit,
//!   with High Bit = Bits Stored - 1 as the Image Pixel module requires); they are cleared
//!   for unsigned data and filled with the sign bit for two's complement data (Pixel
//!   Representation 1).
//! * JPEG 2000 and HTJ2K frames ([`fix_j2k_bits`]) and JPEG-LS frames ([`fix_jls_bits`])
//!   keep the samples their codestream decodes to, whose precision may exceed Bits Stored
//!   (a lossy or near-lossless coding of 12-bit samples at 16 bits may give 4097): masked to
//!   Bits Stored, such a sample would wrap round to black. Only the signedness the
//!   codestream cannot say (JPEG-LS has none; a JPEG 2000 component's may differ from Pixel
//!   Representation) is made the data set's, from the codestream's precision.

use crate::FrameInfo;

macro_rules! fix_width {
    ($name:ident, $u:ty, $i:ty, $n:expr) => {
        fn $name(out: &mut [u8], bits_stored: u32, signed: bool) {
            const W: u32 = <$u>::BITS;
            let shift = W - bits_stored;
            if signed {
                for e in out.chunks_exact_mut($n) {
                    let mut b = [0u8; $n];
                    b.copy_from_slice(e);
                    let v = <$u>::from_le_bytes(b);
                    let v = (((v << shift) as $i) >> shift) as $u;
                    e.copy_from_slice(&v.to_le_bytes());
                }
            } else {
                let mask: $u = <$u>::MAX >> shift;
                for e in out.chunks_exact_mut($n) {
                    let mut b = [0u8; $n];
                    b.copy_from_slice(e);
                    let v = <$u>::from_le_bytes(b) & mask;
                    e.copy_from_slice(&v.to_le_bytes());
                }
            }
        }
    };
}

fix_width!(fix_u16, u16, i16, 2);
fix_width!(fix_u32, u32, i32, 4);
fix_width!(fix_u64, u64, i64, 8);

fn fix_u8(out: &mut [u8], bits_stored: u32, signed: bool) {
    let shift = 8 - bits_stored;
    if signed {
        for v in out.iter_mut() {
            *v = (((*v << shift) as i8) >> shift) as u8;
        }
    } else {
        let mask = 0xFFu8 >> shift;
        for v in out.iter_mut() {
            *v &= mask;
        }
    }
}

/// Whether [`fix_unused_bits`] changes anything for this frame layout.
pub(crate) fn needs_fix(info: &FrameInfo) -> bool {
    !info.float
        && info.bits_allocated > 1
        && info.bits_stored > 0
        && info.bits_stored < info.bits_allocated
}

/// Mask (unsigned) or sign-extend (signed) every element of `out` from Bits Stored.
/// `out` is in the output layout (little-endian elements of `bits_allocated / 8` bytes).
pub(crate) fn fix_unused_bits(out: &mut [u8], info: &FrameInfo) {
    if needs_fix(info) {
        fix_to(out, info, u32::from(info.bits_stored), info.signed());
    }
}

/// Every element of `out` taken as a `bits`-bit value, signed or not (masked, or
/// sign-extended from bit `bits - 1`); nothing when `bits` is the element's width or more.
fn fix_to(out: &mut [u8], info: &FrameInfo, bits: u32, signed: bool) {
    if info.float || bits == 0 || bits >= u32::from(info.bits_allocated) {
        return;
    }
    match info.bits_allocated {
        8 => fix_u8(out, bits, signed),
        16 => fix_u16(out, bits, signed),
        32 => fix_u32(out, bits, signed),
        64 => fix_u64(out, bits, signed),
        _ => {}
    }
}

/// A JPEG 2000 or HTJ2K frame's samples as pydicom 3 gives them (its sign correction):
/// as decoded, unless the frame is grey and its codestream's first component is signed
/// where Pixel Representation is not, or the other way round; they are then values of
/// the codestream's `precision` with the data set's signedness.
pub(crate) fn fix_j2k_bits(out: &mut [u8], info: &FrameInfo, (precision, signed): (u32, bool)) {
    if info.samples_per_pixel == 1 && signed != info.signed() {
        fix_to(out, info, precision, info.signed());
    }
}

/// A JPEG-LS frame's samples as pydicom 3 gives them: as decoded when unsigned; signed
/// (JPEG-LS codes none), sign-extended from the codestream's `precision`.
pub(crate) fn fix_jls_bits(out: &mut [u8], info: &FrameInfo, precision: u32) {
    if info.signed() {
        fix_to(out, info, precision, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_extend_and_mask() {
        let mut fi = FrameInfo::new(1, 2, 1, 16);
        fi.bits_stored = 12;
        fi.pixel_representation = 1;
        let mut b = [0xFF, 0x0F, 0x00, 0xF7];
        fix_unused_bits(&mut b, &fi);
        assert_eq!(b, [0xFF, 0xFF, 0x00, 0x07]);
        fi.pixel_representation = 0;
        let mut b = [0xFF, 0xFF, 0x00, 0xF8];
        fix_unused_bits(&mut b, &fi);
        assert_eq!(b, [0xFF, 0x0F, 0x00, 0x08]);
        let mut fi8 = FrameInfo::new(1, 2, 1, 8);
        fi8.bits_stored = 4;
        fi8.pixel_representation = 1;
        let mut b = [0x0F, 0x07];
        fix_unused_bits(&mut b, &fi8);
        assert_eq!(b, [0xFF, 0x07]);
        let mut fi32 = FrameInfo::new(1, 1, 1, 32);
        fi32.bits_stored = 24;
        fi32.pixel_representation = 1;
        let mut b = [0, 0, 0x80, 0];
        fix_unused_bits(&mut b, &fi32);
        assert_eq!(b, [0, 0, 0x80, 0xFF]);
    }
}
