//! 12-bit grey frames (one component): libjpeg-turbo decodes them (`grey12.c`, its
//! libjpeg API driven as TurboJPEG drives it: markers, entropy decoding, restarts,
//! progressive and arithmetic coding, errors and warnings all its own) with its inverse
//! DCT replaced by ours (`idct12`: the samples its `jpeg12_idct_islow` gives, with AVX2;
//! libjpeg-turbo has no SIMD code for 12-bit samples, so that IDCT was 40% of such a
//! frame's decode).

use std::ffi::{c_char, c_int, c_long, c_uint, c_ulong, CStr};
use std::sync::OnceLock;

use super::idct12;

/// What [`decode`] did.
pub(super) enum Outcome {
    /// Every sample written.
    Done,
    /// Every sample written, with warnings: libjpeg-turbo's text of the first.
    Warned(String),
    /// libjpeg-turbo's error: its text (samples may be partly written).
    Failed(String),
    /// Not a frame this path takes (not one component of 12 bits, or not `width` x
    /// `height`): nothing written, decode it otherwise.
    NotTaken,
}

extern "C" {
    fn dicomfast_jpeg12_grey(
        data: *const u8,
        size: c_ulong,
        width: c_uint,
        height: c_uint,
        max_memory: c_long,
        out: *mut i16,
        text: *mut c_char,
    ) -> c_int;
}

/// Whether this processor runs `idct12`'s AVX2 code (looked up once).
fn avx2() -> bool {
    static AVX2: OnceLock<bool> = OnceLock::new();
    *AVX2.get_or_init(idct12::has_avx2)
}

/// libjpeg-turbo's IDCT call, from `grey12.c`: the block at `coef` (64 coefficients,
/// natural order) with the quantization table at `quant` (64 entries, natural order) into
/// 8 rows of 8 samples at `rows[r] + col`.
#[no_mangle]
extern "C" fn dicomfast_idct12(
    coef: *const i16,
    quant: *const u16,
    rows: *const *mut i16,
    col: c_uint,
) {
    // SAFETY: libjpeg-turbo passes a block of 64 JCOEFs, its component's table of 64
    // UINT16s, and 8 row pointers each with 8 samples from `col` (its sample buffers are
    // whole blocks wide).
    unsafe {
        let coef = &*coef.cast::<[i16; 64]>();
        let quant = &*quant.cast::<[u16; 64]>();
        let mut samples = [0u16; 64];
        idct12::block(coef, quant, &mut samples, avx2());
        for r in 0..8 {
            let row = (*rows.add(r)).add(col as usize);
            std::ptr::copy_nonoverlapping(samples.as_ptr().add(8 * r).cast::<i16>(), row, 8);
        }
    }
}

/// Decode `jpeg` (a `width` x `height` frame) into `out` (its samples, 0..4095), if it
/// is a frame of one 12-bit component.
pub(super) fn decode(jpeg: &[u8], width: usize, height: usize, out: &mut [u16]) -> Outcome {
    let (Ok(w), Ok(h)) = (c_uint::try_from(width), c_uint::try_from(height)) else {
        return Outcome::NotTaken;
    };
    if out.len() != width * height || out.is_empty() {
        return Outcome::NotTaken;
    }
    let mut text = [0 as c_char; 256];
    // SAFETY: jpeg, out and text are live buffers of the sizes given (out: width * height
    // samples, the rows grey12.c writes; text over the 200 bytes it writes at most).
    let status = unsafe {
        dicomfast_jpeg12_grey(
            jpeg.as_ptr(),
            jpeg.len() as c_ulong,
            w,
            h,
            // As the TurboJPEG handles are bounded (TJPARAM_MAXMEMORY: 2048 MB).
            2048 << 20,
            out.as_mut_ptr().cast(),
            text.as_mut_ptr(),
        )
    };
    // SAFETY: grey12.c leaves a NUL-terminated string in text (an empty one at least).
    let message = || {
        unsafe { CStr::from_ptr(text.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    };
    match status {
        0 => Outcome::Done,
        1 => Outcome::Warned(message()),
        3 => Outcome::NotTaken,
        _ => Outcome::Failed(message()),
    }
}
