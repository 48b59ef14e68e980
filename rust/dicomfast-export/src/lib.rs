//! Pictures of grey and RGB frames for `dicomfast export`, a file at a time in one call
//! with no Python in it: the file read (or mapped), parsed and planned by the core, each
//! frame decoded by the codec registry (or unpacked, for native Pixel Data), made the
//! values asked for (the display table of [`display`], the Modality LUT's rescale, or as
//! stored), coded as PNG or NumPy's `.npy` ([`picture`]) and written under a temporary
//! name, then renamed. Anything the Python path would treat otherwise (LUT Sequences, no
//! window, YBR or palette colour, a failure) is [`Outcome::Declined`] and left to it.

mod attrs;
pub mod display;
mod job;
pub mod picture;

pub use job::{Exporter, Format, Options, Outcome, Values};
