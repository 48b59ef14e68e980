//! The one interface every compressed-frame codec implements, so that the frame pipeline
//! ([`crate::pipeline`]), the bindings and the registry ([`crate::registry`]) never name a
//! codec: a transfer syntax's row in the registry points at the codec serving it.

use crate::registry::TransferSyntax;
use crate::{CodecError, FrameInfo};

/// What an encoder may be asked beyond the frame's layout (grows with the codecs: a JPEG
/// 2000 codec will add its quality settings here).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeParams {
    /// JPEG Lossless predictor selection value 1-7 (T.81 Table H.1); others ignore it.
    pub predictor: u8,
}

impl Default for EncodeParams {
    fn default() -> Self {
        Self { predictor: 1 }
    }
}

impl EncodeParams {
    pub fn with_predictor(predictor: u8) -> Self {
        Self { predictor }
    }
}

/// A codec for the frames of encapsulated Pixel Data (PS3.5 A.4). Frames are given and
/// returned in the crate's output layout (see the crate docs): decoders fill exactly
/// [`crate::frame_size_bytes`] bytes, encoders read as many.
pub trait Codec: Sync + Send {
    /// What the codec is called in messages ("RLE Lossless").
    fn name(&self) -> &'static str;

    /// Decode one frame's compressed bytes (its fragments laid end to end) into `out`.
    /// Errors carry byte offsets into `data`; never panics on any input.
    fn decode(&self, data: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError>;

    /// Whether [`Codec::decode_pair`] is worth calling (the pipeline then gives each
    /// thread two frames at a time).
    fn decodes_pairs(&self) -> bool {
        false
    }

    /// Decode two frames of the same layout together. True when done; false (outputs in
    /// an unspecified state) to have the caller decode them one by one with
    /// [`Codec::decode`], which reports any error.
    fn decode_pair(
        &self,
        _a: &[u8],
        _b: &[u8],
        _info: &FrameInfo,
        _out_a: &mut [u8],
        _out_b: &mut [u8],
    ) -> bool {
        false
    }

    /// Whether frames can be encoded for `ts` (a syntax this codec serves).
    fn can_encode(&self, _ts: &TransferSyntax) -> bool {
        false
    }

    /// Refuse parameters `ts` does not allow; the message names the rule.
    fn check_params(&self, _ts: &TransferSyntax, _params: &EncodeParams) -> Result<(), String> {
        Ok(())
    }

    /// Encode one frame into the first bytes of `out`, returning how many. `out` is grown
    /// as needed and never shrunk, so that a buffer reused frame after frame is not
    /// zero-filled again.
    fn encode_in(
        &self,
        _src: &[u8],
        _info: &FrameInfo,
        _params: &EncodeParams,
        _out: &mut Vec<u8>,
    ) -> Result<usize, CodecError> {
        Err(CodecError::NoEncoder { codec: self.name() })
    }
}
