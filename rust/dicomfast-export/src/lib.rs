//! Pictures of grey and RGB frames for `dicomfast export`, a file at a time in one call
//! with no Python in it: the file read (or mapped), parsed and planned by the core, each
//! frame decoded by the codec registry (or unpacked, for native Pixel Data), made the
//! values asked for (the display table of [`display`], the Modality LUT's rescale, or as
//! stored), coded as PNG or NumPy's `.npy` ([`picture`]) and written under a temporary
//! name, then renamed. Anything the Python path would treat otherwise (LUT Sequences, no
//! window, YBR or palette colour, a failure) is [`Outcome::Declined`] and left to it.
//!
//! And, for `dicomfast convert -t explicit-le`, a file's copy with its grey frames
//! decoded to native Pixel Data ([`Decompressor`]), on the same terms: what the Python
//! path would write, or declined.

mod attrs;
pub mod display;
mod job;
mod native;
pub mod picture;

pub use job::{Exporter, Format, Options, Outcome, Values};
pub use native::{Converted, Decompressor, NativeOptions};
