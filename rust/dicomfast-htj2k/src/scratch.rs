//! Buffers a thread keeps from frame to frame (no fresh pages, so no page faults, per
//! frame), for the encoder and the decoder alike: kept unless a big frame made them
//! large, so that a thread that once coded one does not hold its planes for good.

use std::cell::RefCell;
use std::thread::LocalKey;

/// The most buffer memory a thread keeps between frames (a 2048 x 2048 grey frame's).
const KEEP: usize = 48 << 20;

/// A thread's buffers: made empty, and how many bytes they hold.
pub(crate) trait Kept: Default {
    fn bytes(&self) -> usize;
}

/// Bytes of a set of planes' capacity.
pub(crate) fn plane_bytes<T>(planes: &[Vec<T>]) -> usize {
    planes
        .iter()
        .map(|p| p.capacity() * std::mem::size_of::<T>())
        .sum()
}

/// Run `f` with this thread's buffers in `slot` (made on first use, kept after unless
/// larger than [`KEEP`]).
pub(crate) fn with<S: Kept, R>(
    slot: &'static LocalKey<RefCell<Option<S>>>,
    f: impl FnOnce(&mut S) -> R,
) -> R {
    let mut scratch = slot.with(|s| s.borrow_mut().take()).unwrap_or_default();
    let result = f(&mut scratch);
    if scratch.bytes() <= KEEP {
        slot.with(|s| *s.borrow_mut() = Some(scratch));
    }
    result
}
