//! The crate's one error type.

use std::fmt;

/// An error from one of the codecs. Offsets are byte offsets into the input given to the
/// decoder (the frame's compressed data, or the native frame's bytes).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodecError {
    /// The [`crate::FrameInfo`] describes a layout this crate cannot produce.
    InvalidFrameInfo { reason: &'static str },
    /// The caller's output buffer does not have the size [`crate::frame_size_bytes`] gives.
    OutputSize { expected: usize, actual: usize },
    /// An encoder's input buffer does not have the size [`crate::frame_size_bytes`] gives.
    InputSize { expected: usize, actual: usize },
    /// The input ends at `offset` but `needed` bytes are required.
    Truncated { offset: usize, needed: usize },
    /// Bad RLE header (PS3.5 G.5).
    RleHeader { offset: usize, reason: &'static str },
    /// Bad RLE segment (PS3.5 G.3/G.4); `segment` counts from 0.
    RleSegment {
        segment: usize,
        offset: usize,
        reason: &'static str,
    },
    /// A JPEG feature outside lossless process 14 with Huffman coding (e.g. another SOF).
    JpegUnsupported {
        offset: usize,
        marker: u8,
        reason: &'static str,
    },
    /// A malformed JPEG marker segment or marker sequence (T.81 Annex B).
    JpegFormat { offset: usize, reason: &'static str },
    /// Bad entropy-coded data (T.81 Annex F/H): invalid Huffman code, premature end, missing
    /// restart marker.
    JpegData { offset: usize, reason: &'static str },
    /// The stream disagrees with the data set's [`crate::FrameInfo`].
    Mismatch {
        offset: usize,
        what: &'static str,
        stream: u32,
        dataset: u32,
    },
    /// The codec decodes but does not encode.
    NoEncoder { codec: &'static str },
    /// A codestream the codec's library refused (libjpeg-turbo, CharLS, OpenJPEG): its
    /// message, and the byte offset where the problem was found (0 when the library does
    /// not say).
    Codestream {
        codec: &'static str,
        offset: usize,
        message: String,
    },
    /// The encoder's library failed on valid input, or refused the parameters.
    Encoder {
        codec: &'static str,
        message: String,
    },
}

impl CodecError {
    /// Byte offset into the input where the problem was found, if there is one.
    pub fn offset(&self) -> Option<usize> {
        match *self {
            CodecError::InvalidFrameInfo { .. }
            | CodecError::NoEncoder { .. }
            | CodecError::OutputSize { .. }
            | CodecError::InputSize { .. }
            | CodecError::Encoder { .. } => None,
            CodecError::Truncated { offset, .. }
            | CodecError::RleHeader { offset, .. }
            | CodecError::RleSegment { offset, .. }
            | CodecError::JpegUnsupported { offset, .. }
            | CodecError::JpegFormat { offset, .. }
            | CodecError::JpegData { offset, .. }
            | CodecError::Mismatch { offset, .. }
            | CodecError::Codestream { offset, .. } => Some(offset),
        }
    }

    /// RLE segment index (from 0) where relevant.
    pub fn segment(&self) -> Option<usize> {
        match *self {
            CodecError::RleSegment { segment, .. } => Some(segment),
            _ => None,
        }
    }

    /// Attach the (0-based) frame number; used by callers that decode multi-frame data.
    pub fn at_frame(self, frame: usize) -> FrameError {
        FrameError {
            frame,
            source: self,
        }
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::InvalidFrameInfo { reason } => {
                write!(f, "unsupported frame layout: {reason}")
            }
            CodecError::NoEncoder { codec } => write!(f, "dicomfast does not encode {codec}"),
            CodecError::OutputSize { expected, actual } => write!(
                f,
                "output buffer is {actual} bytes, the frame needs {expected}"
            ),
            CodecError::InputSize { expected, actual } => write!(
                f,
                "input buffer is {actual} bytes, the frame has {expected}"
            ),
            CodecError::Truncated { offset, needed } => write!(
                f,
                "data truncated: {offset} bytes available, {needed} needed"
            ),
            CodecError::RleHeader { offset, reason } => {
                write!(f, "RLE header at byte {offset}: {reason}")
            }
            CodecError::RleSegment {
                segment,
                offset,
                reason,
            } => write!(f, "RLE segment {segment} at byte {offset}: {reason}"),
            CodecError::JpegUnsupported {
                offset,
                marker,
                reason,
            } => write!(
                f,
                "unsupported JPEG stream (marker 0xFF{marker:02X} at byte {offset}): {reason}"
            ),
            CodecError::JpegFormat { offset, reason } => {
                write!(f, "malformed JPEG at byte {offset}: {reason}")
            }
            CodecError::JpegData { offset, reason } => {
                write!(f, "bad JPEG entropy-coded data at byte {offset}: {reason}")
            }
            CodecError::Codestream {
                codec,
                offset,
                message,
            } => write!(f, "bad {codec} data at byte {offset}: {message}"),
            CodecError::Encoder { codec, message } => {
                write!(f, "{codec} encoder failed: {message}")
            }
            CodecError::Mismatch {
                offset,
                what,
                stream,
                dataset,
            } => write!(
                f,
                "{what} is {stream} in the stream (byte {offset}) but {dataset} in the data set"
            ),
        }
    }
}

impl std::error::Error for CodecError {}

/// A [`CodecError`] with the frame number it happened in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    /// 0-based frame index.
    pub frame: usize,
    pub source: CodecError,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "frame {}: {}", self.frame, self.source)
    }
}

impl std::error::Error for FrameError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_frame() {
        let e = CodecError::RleSegment {
            segment: 2,
            offset: 100,
            reason: "too short",
        };
        assert_eq!(e.offset(), Some(100));
        assert_eq!(e.segment(), Some(2));
        let fe = e.clone().at_frame(3);
        assert_eq!(
            fe.to_string(),
            "frame 3: RLE segment 2 at byte 100: too short"
        );
        assert!(std::error::Error::source(&fe).is_some());
    }
}
