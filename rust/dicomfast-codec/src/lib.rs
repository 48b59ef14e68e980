//! Pure-Rust pixel codecs for DICOM.
//!
//! * native (uncompressed) pixel unpacking, PS3.5 8.1 ([`decode_native_frame`]);
//! * RLE Lossless, PS3.5 Annex G ([`rle`]);
//! * JPEG Lossless, Non-Hierarchical (process 14), ITU-T T.81 Annex H ([`jpeg`]);
//! * Deflated Image Frame Compression, PS3.5 8.2.16 (`deflate`, feature `deflate`);
//! * HTJ2K encoding by the crate `dicomfast-htj2k` (pure Rust), PS3.5 A.4.11 (`htj2k`,
//!   feature `htj2k`);
//! * JPEG XL decoding through jxl-oxide, Supplement 232 (`jpegxl`, feature `jpeg-xl`);
//! * frames decoded on several threads and written out in order as they complete ([`ordered`]).
//!
//! Every transfer syntax is a row of [`registry`]; a compressed one names the [`Codec`]
//! serving it. [`encapsulation`] lays out encapsulated values; `pipeline` (feature
//! `parallel`) runs any codec over every frame on a thread pool.
//!
//! Every decoder writes one frame into a caller-provided buffer laid out as numpy holds the
//! pixel array: little-endian elements of `bits_allocated / 8` bytes (1-bit data unpacked to one
//! byte per pixel), samples interleaved last, signed data sign-extended from Bits Stored and
//! unsigned data masked to Bits Stored. [`frame_size_bytes`] gives that buffer's length.
//!
//! Decoders never panic on any input; errors carry the byte offset in the input.
//!
//! Encapsulated frames split over several fragments: use the `*_fragments` functions, which
//! concatenate the fragments (one copy of the compressed data) before decoding.

#[cfg(feature = "as-read")]
pub mod as_read;
mod codec;
mod convert;
#[cfg(feature = "deflate")]
pub mod deflate;
pub mod encapsulation;
mod error;
mod frame;
#[cfg(feature = "htj2k")]
pub mod htj2k;
#[cfg(feature = "j2k")]
pub mod j2k;
pub mod jpeg;
#[cfg(feature = "jpeg-dct")]
pub mod jpeg_dct;
#[cfg(feature = "jpeg-ls")]
pub mod jpegls;
#[cfg(feature = "jpeg-xl")]
pub mod jpegxl;
mod native;
pub mod ordered;
#[cfg(feature = "parallel")]
pub mod pipeline;
pub mod registry;
pub mod rle;

pub use codec::{Codec, EncodeParams};
pub use registry::TransferSyntax;

pub use error::{CodecError, FrameError};
pub use frame::{frame_size_bytes, native_frame_size_bytes, FrameInfo};
pub use native::{decode_native_frame, decode_native_frame_at_bit, expand_ybr_full_422};
