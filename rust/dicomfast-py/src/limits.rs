//! `dicomfast.pixel_limits.CORE_LIMITS` (the one definition of the pixel size rules) as
//! the core's [`Limits`]: one tuple argument to every one-call path that plans pixels.

use std::collections::HashSet;

use dicomfast_codec::as_read::Limits;
use pyo3::prelude::*;

/// `(max_ratio, unbounded_ratio, unbounded syntaxes, frame_slack, max_frames)`.
#[derive(FromPyObject)]
pub(crate) struct CoreLimits(u64, u64, HashSet<String>, u64, u64);

impl From<CoreLimits> for Limits {
    fn from(
        CoreLimits(max_ratio, unbounded_ratio, unbounded, frame_slack, max_frames): CoreLimits,
    ) -> Self {
        Limits {
            max_ratio,
            unbounded_ratio,
            unbounded,
            frame_slack,
            max_frames,
        }
    }
}
