//! Pixel data codecs (placeholder; see issue 3).
