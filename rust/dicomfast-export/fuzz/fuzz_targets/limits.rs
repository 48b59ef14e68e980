//! The size rules of `dicomfast.pixel_limits` (`CORE_LIMITS`) as the fuzz targets of
//! this crate pass them (the Python module holds the definition; the command passes it).

use std::collections::HashSet;

use dicomfast_codec::as_read::Limits;

pub fn limits() -> Limits {
    Limits {
        max_ratio: 1100,
        unbounded_ratio: 1 << 16,
        unbounded: HashSet::new(),
        frame_slack: 64 << 10,
        max_frames: (1 << 31) - 1,
    }
}
