//! The one interface every compressed-frame codec implements, so that the frame pipeline
//! ([`crate::pipeline`]), the bindings and the registry ([`crate::registry`]) never name a
//! codec: a transfer syntax's row in the registry points at the codec serving it.

use crate::registry::TransferSyntax;
use crate::{CodecError, FrameInfo};

/// What an encoder may be asked beyond the frame's layout. Lossy settings are only read by
/// the lossy syntaxes' encoders; a lossless syntax never loses information whatever they say.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeParams {
    /// JPEG Lossless predictor selection value 1-7 (T.81 Table H.1); others ignore it.
    pub predictor: u8,
    /// JPEG (10918-1) DCT quality 1-100, libjpeg's scale of the Annex K tables.
    pub quality: u8,
    /// JPEG-LS near-lossless maximum absolute error NEAR (14495-1 A.2.1); 0 is lossless.
    pub max_error: u16,
    /// JPEG 2000 and HTJ2K irreversible coding: target compression ratio (10 = 10:1), at
    /// least 2.
    pub ratio: u16,
    /// Three-sample frames are RGB to be coded with the codec's colour transform (JPEG:
    /// YCbCr 4:2:2, Photometric YBR_FULL_422; JPEG 2000 and HTJ2K: RCT or ICT); false
    /// codes the samples as given.
    pub colour_transform: bool,
}

impl Default for EncodeParams {
    fn default() -> Self {
        Self {
            predictor: 1,
            quality: 90,
            max_error: 0,
            ratio: 10,
            colour_transform: false,
        }
    }
}

impl EncodeParams {
    pub fn with_predictor(predictor: u8) -> Self {
        Self {
            predictor,
            ..Self::default()
        }
    }

    pub fn with_quality(self, quality: u8) -> Self {
        Self { quality, ..self }
    }

    pub fn with_max_error(self, max_error: u16) -> Self {
        Self { max_error, ..self }
    }

    pub fn with_ratio(self, ratio: u16) -> Self {
        Self { ratio, ..self }
    }

    pub fn with_colour_transform(self, colour_transform: bool) -> Self {
        Self {
            colour_transform,
            ..self
        }
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

    /// Refuse frames `ts` cannot hold (JPEG Baseline: 8-bit samples only); the message
    /// names the rule.
    fn check_frame(&self, _ts: &TransferSyntax, _info: &FrameInfo) -> Result<(), String> {
        Ok(())
    }

    /// Encode one frame into the first bytes of `out`, returning how many. `out` is grown
    /// as needed (a buffer reused frame after frame is not zero-filled again); its length
    /// may end above the count (what lies there is unspecified) or at it.
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

#[cfg(feature = "parallel")]
thread_local! {
    static INNER_THREADS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the frame being decoded on this thread may be spread over threads of the
/// codec's own: only a lone frame the frame pipeline decodes with no thread count of one
/// asked ([`with_inner_threads`]). Frames decoded side by side by the pipeline's workers,
/// and direct [`Codec::decode`] calls, keep to their thread. (The JPEG XL codec and
/// OpenJPEG's JPEG 2000 / HTJ2K decoding ask.)
#[cfg(feature = "parallel")]
#[cfg_attr(not(any(feature = "jpeg-xl", feature = "j2k")), allow(dead_code))]
pub(crate) fn inner_threads_allowed() -> bool {
    INNER_THREADS.with(|c| c.get())
}

/// The threads a lone frame of `info`'s size may be spread over by a codec of its own:
/// every core of the frame pipeline's pool when [`inner_threads_allowed`] and the frame
/// holds 256 x 256 samples or more (enough to pay for starting them: ~4 ms of JPEG 2000
/// work on one thread), else 1. JPEG 2000 / HTJ2K decoding (OpenJPEG's threads) and HTJ2K
/// encoding (its code-blocks) ask.
#[cfg(feature = "parallel")]
#[cfg_attr(not(feature = "j2k"), allow(dead_code))]
pub(crate) fn inner_thread_count(info: &crate::FrameInfo) -> usize {
    if inner_threads_allowed() && info.samples() >= 256 * 256 {
        rayon::current_num_threads()
    } else {
        1
    }
}

/// Run `f` (decoding a lone frame) with [`inner_threads_allowed`] true on this thread.
#[cfg(feature = "parallel")]
pub(crate) fn with_inner_threads<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            INNER_THREADS.with(|c| c.set(self.0));
        }
    }
    let _reset = Reset(INNER_THREADS.with(|c| c.replace(true)));
    f()
}
