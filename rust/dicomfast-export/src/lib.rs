//! Pictures of grey frames for `dicomfast export`, a file at a time in one call with no
//! Python in it: the file read (or mapped), parsed and planned by the core, each frame
//! decoded by the codec registry (or unpacked, for native Pixel Data), looked up in its display table ([`display`]), coded as
//! a PNG ([`picture`]) and written under a temporary name, then renamed. Anything the
//! Python path would treat otherwise (colour, LUT Sequences, no window, a failure) is
//! [`Outcome::Declined`] and left to it.

mod attrs;
pub mod display;
mod job;
pub mod picture;

pub use job::{Exporter, Options, Outcome};
