//! Every transfer syntax of PS3.6 Table A-1 (and PS3.5 8.2.16's Deflated Image Frame
//! Compression) as a value: how the data set is encoded, whether Pixel Data is
//! encapsulated, whether the compression may lose information, and the [`Codec`] that
//! serves it, if dicomfast has one. The one table of transfer syntaxes: the bindings hand
//! it to Python (`dicomfast.syntaxes`), and a test proves the parser agrees with it.
//!
//! A new codec is a module implementing [`Codec`] and its name in the rows it serves here.

use crate::codec::Codec;

/// One transfer syntax (PS3.5 Annex A).
#[derive(Clone, Copy)]
pub struct TransferSyntax {
    pub uid: &'static str,
    /// The PS3.6 keyword ("" for a UID not in the table).
    pub keyword: &'static str,
    pub name: &'static str,
    pub explicit_vr: bool,
    pub big_endian: bool,
    /// The data set after the file meta group is deflated (PS3.5 A.5).
    pub deflated: bool,
    /// Pixel Data is encapsulated (PS3.5 A.4): fragments in items, not native.
    pub encapsulated: bool,
    /// The compression may lose information.
    pub lossy: bool,
    /// The codec decoding (and maybe encoding) its frames.
    pub codec: Option<&'static dyn Codec>,
}

impl std::fmt::Debug for TransferSyntax {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransferSyntax")
            .field("uid", &self.uid)
            .field("keyword", &self.keyword)
            .field("explicit_vr", &self.explicit_vr)
            .field("big_endian", &self.big_endian)
            .field("deflated", &self.deflated)
            .field("encapsulated", &self.encapsulated)
            .field("lossy", &self.lossy)
            .field("codec", &self.codec.map(|c| c.name()))
            .finish()
    }
}

/// How a syntax lays out the data set and its pixels.
#[derive(Clone, Copy)]
struct Form {
    explicit_vr: bool,
    big_endian: bool,
    deflated: bool,
    encapsulated: bool,
}

const fn form(explicit_vr: bool, big_endian: bool, deflated: bool, encapsulated: bool) -> Form {
    Form {
        explicit_vr,
        big_endian,
        deflated,
        encapsulated,
    }
}

const IMPLICIT_LE: Form = form(false, false, false, false);
const EXPLICIT_LE: Form = form(true, false, false, false);
const EXPLICIT_BE: Form = form(true, true, false, false);
const DEFLATED_LE: Form = form(true, false, true, false);
/// Every compressed syntax: explicit VR little endian, encapsulated Pixel Data (A.4).
const ENCAPSULATED: Form = form(true, false, false, true);
/// JPIP Referenced Deflate (A.7) and its HTJ2K sibling: deflated, pixels referenced.
const ENCAPSULATED_DEFLATED: Form = form(true, false, true, true);
const LOSSY: bool = true;
const LOSSLESS: bool = false;

#[cfg(feature = "deflate")]
const DEFLATE_IMAGE_FRAME: Option<&'static dyn Codec> = Some(&crate::deflate::DeflateImageFrame);
#[cfg(not(feature = "deflate"))]
const DEFLATE_IMAGE_FRAME: Option<&'static dyn Codec> = None;

#[cfg(feature = "jpeg-dct")]
const JPEG_DCT: Option<&'static dyn Codec> = Some(&crate::jpeg_dct::JpegDct);
#[cfg(not(feature = "jpeg-dct"))]
const JPEG_DCT: Option<&'static dyn Codec> = None;

#[cfg(feature = "jpeg-ls")]
const JPEG_LS: Option<&'static dyn Codec> = Some(&crate::jpegls::JpegLs);
#[cfg(feature = "jpeg-ls")]
const JPEG_LS_NEAR: Option<&'static dyn Codec> = Some(&crate::jpegls::JpegLsNear);
#[cfg(not(feature = "jpeg-ls"))]
const JPEG_LS: Option<&'static dyn Codec> = None;
#[cfg(not(feature = "jpeg-ls"))]
const JPEG_LS_NEAR: Option<&'static dyn Codec> = None;

#[cfg(feature = "j2k")]
const JPEG_2000: Option<&'static dyn Codec> = Some(&crate::j2k::Jpeg2000);
#[cfg(feature = "j2k")]
const JPEG_2000_LOSSY: Option<&'static dyn Codec> = Some(&crate::j2k::Jpeg2000Lossy);
#[cfg(not(feature = "j2k"))]
const JPEG_2000: Option<&'static dyn Codec> = None;
#[cfg(not(feature = "j2k"))]
const JPEG_2000_LOSSY: Option<&'static dyn Codec> = None;

#[cfg(feature = "jpeg-xl")]
const JPEG_XL: Option<&'static dyn Codec> = Some(&crate::jpegxl::JpegXl);
#[cfg(not(feature = "jpeg-xl"))]
const JPEG_XL: Option<&'static dyn Codec> = None;

// HTJ2K: OpenJPEG decodes (feature `j2k`), our `dicomfast-htj2k` encodes (feature `htj2k`).
#[cfg(feature = "htj2k")]
const HTJ2K_LOSSLESS: Option<&'static dyn Codec> = Some(&crate::htj2k::HTJ2K_LOSSLESS);
#[cfg(feature = "htj2k")]
const HTJ2K_LOSSLESS_RPCL: Option<&'static dyn Codec> = Some(&crate::htj2k::HTJ2K_LOSSLESS_RPCL);
#[cfg(feature = "htj2k")]
const HTJ2K_LOSSY: Option<&'static dyn Codec> = Some(&crate::htj2k::HTJ2K_LOSSY);
#[cfg(not(feature = "htj2k"))]
const HTJ2K_LOSSLESS: Option<&'static dyn Codec> = JPEG_2000;
#[cfg(not(feature = "htj2k"))]
const HTJ2K_LOSSLESS_RPCL: Option<&'static dyn Codec> = JPEG_2000;
#[cfg(not(feature = "htj2k"))]
const HTJ2K_LOSSY: Option<&'static dyn Codec> = JPEG_2000;

impl TransferSyntax {
    const fn new(
        uid: &'static str,
        keyword: &'static str,
        name: &'static str,
        f: Form,
        lossy: bool,
        codec: Option<&'static dyn Codec>,
    ) -> Self {
        TransferSyntax {
            uid,
            keyword,
            name,
            explicit_vr: f.explicit_vr,
            big_endian: f.big_endian,
            deflated: f.deflated,
            encapsulated: f.encapsulated,
            lossy,
            codec,
        }
    }

    /// What an unknown (private, or newer than this table) UID is taken to be: explicit
    /// VR little endian with encapsulated Pixel Data, as PS3.5 A.4 requires of every
    /// compressed syntax; no codec.
    pub const UNKNOWN: TransferSyntax =
        TransferSyntax::new("", "", "unknown transfer syntax", ENCAPSULATED, LOSSY, None);

    /// Whether dicomfast decodes its Pixel Data (native, or a codec).
    pub fn can_decode(&self) -> bool {
        !self.encapsulated || self.codec.is_some()
    }

    /// Whether dicomfast encodes frames for it (encapsulated syntaxes only).
    pub fn can_encode(&self) -> bool {
        self.codec.is_some_and(|c| c.can_encode(self))
    }
}

/// Every transfer syntax dicomfast knows, in UID order.
pub static TRANSFER_SYNTAXES: &[TransferSyntax] = &[
    TransferSyntax::new(
        "1.2.840.10008.1.2",
        "ImplicitVRLittleEndian",
        "Implicit VR Little Endian",
        IMPLICIT_LE,
        LOSSLESS,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.1",
        "ExplicitVRLittleEndian",
        "Explicit VR Little Endian",
        EXPLICIT_LE,
        LOSSLESS,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.1.98",
        "EncapsulatedUncompressedExplicitVRLittleEndian",
        "Encapsulated Uncompressed Explicit VR Little Endian",
        ENCAPSULATED,
        LOSSLESS,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.1.99",
        "DeflatedExplicitVRLittleEndian",
        "Deflated Explicit VR Little Endian",
        DEFLATED_LE,
        LOSSLESS,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.2",
        "ExplicitVRBigEndian",
        "Explicit VR Big Endian",
        EXPLICIT_BE,
        LOSSLESS,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.50",
        "JPEGBaseline8Bit",
        "JPEG Baseline (Process 1)",
        ENCAPSULATED,
        LOSSY,
        JPEG_DCT,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.51",
        "JPEGExtended12Bit",
        "JPEG Extended (Process 2 and 4)",
        ENCAPSULATED,
        LOSSY,
        JPEG_DCT,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.52",
        "JPEGExtended35",
        "JPEG Extended (Process 3 and 5)",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.53",
        "JPEGSpectralSelectionNonHierarchical68",
        "JPEG Spectral Selection, Non-Hierarchical (Process 6 and 8)",
        ENCAPSULATED,
        LOSSY,
        JPEG_DCT,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.54",
        "JPEGSpectralSelectionNonHierarchical79",
        "JPEG Spectral Selection, Non-Hierarchical (Process 7 and 9)",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.55",
        "JPEGFullProgressionNonHierarchical1012",
        "JPEG Full Progression, Non-Hierarchical (Process 10 and 12)",
        ENCAPSULATED,
        LOSSY,
        JPEG_DCT,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.56",
        "JPEGFullProgressionNonHierarchical1113",
        "JPEG Full Progression, Non-Hierarchical (Process 11 and 13)",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.57",
        "JPEGLossless",
        "JPEG Lossless, Non-Hierarchical (Process 14)",
        ENCAPSULATED,
        LOSSLESS,
        Some(&crate::jpeg::JpegLossless),
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.58",
        "JPEGLosslessNonHierarchical15",
        "JPEG Lossless, Non-Hierarchical (Process 15)",
        ENCAPSULATED,
        LOSSLESS,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.59",
        "JPEGExtendedHierarchical1618",
        "JPEG Extended, Hierarchical (Process 16 and 18)",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.60",
        "JPEGExtendedHierarchical1719",
        "JPEG Extended, Hierarchical (Process 17 and 19)",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.61",
        "JPEGSpectralSelectionHierarchical2022",
        "JPEG Spectral Selection, Hierarchical (Process 20 and 22)",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.62",
        "JPEGSpectralSelectionHierarchical2123",
        "JPEG Spectral Selection, Hierarchical (Process 21 and 23)",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.63",
        "JPEGFullProgressionHierarchical2426",
        "JPEG Full Progression, Hierarchical (Process 24 and 26)",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.64",
        "JPEGFullProgressionHierarchical2527",
        "JPEG Full Progression, Hierarchical (Process 25 and 27)",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.65",
        "JPEGLosslessHierarchical28",
        "JPEG Lossless, Hierarchical (Process 28)",
        ENCAPSULATED,
        LOSSLESS,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.66",
        "JPEGLosslessHierarchical29",
        "JPEG Lossless, Hierarchical (Process 29)",
        ENCAPSULATED,
        LOSSLESS,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.70",
        "JPEGLosslessSV1",
        "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])",
        ENCAPSULATED,
        LOSSLESS,
        Some(&crate::jpeg::JpegLossless),
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.80",
        "JPEGLSLossless",
        "JPEG-LS Lossless Image Compression",
        ENCAPSULATED,
        LOSSLESS,
        JPEG_LS,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.81",
        "JPEGLSNearLossless",
        "JPEG-LS Lossy (Near-Lossless) Image Compression",
        ENCAPSULATED,
        LOSSY,
        JPEG_LS_NEAR,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.90",
        "JPEG2000Lossless",
        "JPEG 2000 Image Compression (Lossless Only)",
        ENCAPSULATED,
        LOSSLESS,
        JPEG_2000,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.91",
        "JPEG2000",
        "JPEG 2000 Image Compression",
        ENCAPSULATED,
        LOSSY,
        JPEG_2000_LOSSY,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.92",
        "JPEG2000MCLossless",
        "JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)",
        ENCAPSULATED,
        LOSSLESS,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.93",
        "JPEG2000MC",
        "JPEG 2000 Part 2 Multi-component Image Compression",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.94",
        "JPIPReferenced",
        "JPIP Referenced",
        ENCAPSULATED,
        LOSSLESS,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.95",
        "JPIPReferencedDeflate",
        "JPIP Referenced Deflate",
        ENCAPSULATED_DEFLATED,
        LOSSLESS,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.100",
        "MPEG2MPML",
        "MPEG2 Main Profile / Main Level",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.100.1",
        "MPEG2MPMLF",
        "Fragmentable MPEG2 Main Profile / Main Level",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.101",
        "MPEG2MPHL",
        "MPEG2 Main Profile / High Level",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.101.1",
        "MPEG2MPHLF",
        "Fragmentable MPEG2 Main Profile / High Level",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.102",
        "MPEG4HP41",
        "MPEG-4 AVC/H.264 High Profile / Level 4.1",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.102.1",
        "MPEG4HP41F",
        "Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.1",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.103",
        "MPEG4HP41BD",
        "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.103.1",
        "MPEG4HP41BDF",
        "Fragmentable MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.104",
        "MPEG4HP422D",
        "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.104.1",
        "MPEG4HP422DF",
        "Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.105",
        "MPEG4HP423D",
        "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.105.1",
        "MPEG4HP423DF",
        "Fragmentable MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.106",
        "MPEG4HP42STEREO",
        "MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.106.1",
        "MPEG4HP42STEREOF",
        "Fragmentable MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.107",
        "HEVCMP51",
        "HEVC/H.265 Main Profile / Level 5.1",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.108",
        "HEVCM10P51",
        "HEVC/H.265 Main 10 Profile / Level 5.1",
        ENCAPSULATED,
        LOSSY,
        None,
    ),
    // JPEG XL: PS3.6 Table A-1 as amended by Supplement 232 (2024); newer than
    // standard/uids.tsv, which tests/test_syntaxes.py knows (NEWER_THAN_UIDS_TSV).
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.110",
        "JPEGXLLossless",
        "JPEG XL Lossless",
        ENCAPSULATED,
        LOSSLESS,
        JPEG_XL,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.111",
        "JPEGXLJPEGRecompression",
        "JPEG XL JPEG Recompression",
        ENCAPSULATED,
        LOSSY,
        JPEG_XL,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.112",
        "JPEGXL",
        "JPEG XL",
        ENCAPSULATED,
        LOSSY,
        JPEG_XL,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.201",
        "HTJ2KLossless",
        "High-Throughput JPEG 2000 Image Compression (Lossless Only)",
        ENCAPSULATED,
        LOSSLESS,
        HTJ2K_LOSSLESS,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.202",
        "HTJ2KLosslessRPCL",
        "High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)",
        ENCAPSULATED,
        LOSSLESS,
        HTJ2K_LOSSLESS_RPCL,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.203",
        "HTJ2K",
        "High-Throughput JPEG 2000 Image Compression",
        ENCAPSULATED,
        LOSSY,
        HTJ2K_LOSSY,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.204",
        "JPIPHTJ2KReferenced",
        "JPIP HTJ2K Referenced",
        ENCAPSULATED,
        LOSSLESS,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.4.205",
        "JPIPHTJ2KReferencedDeflate",
        "JPIP HTJ2K Referenced Deflate",
        ENCAPSULATED_DEFLATED,
        LOSSLESS,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.5",
        "RLELossless",
        "RLE Lossless",
        ENCAPSULATED,
        LOSSLESS,
        Some(&crate::rle::Rle),
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.6.1",
        "RFC2557MIMEEncapsulation",
        "RFC 2557 MIME encapsulation",
        ENCAPSULATED,
        LOSSLESS,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.6.2",
        "XMLEncoding",
        "XML Encoding",
        ENCAPSULATED,
        LOSSLESS,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.7.1",
        "SMPTEST211020UncompressedProgressiveActiveVideo",
        "SMPTE ST 2110-20 Uncompressed Progressive Active Video",
        ENCAPSULATED,
        LOSSLESS,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.7.2",
        "SMPTEST211020UncompressedInterlacedActiveVideo",
        "SMPTE ST 2110-20 Uncompressed Interlaced Active Video",
        ENCAPSULATED,
        LOSSLESS,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.7.3",
        "SMPTEST211030PCMDigitalAudio",
        "SMPTE ST 2110-30 PCM Digital Audio",
        ENCAPSULATED,
        LOSSLESS,
        None,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.2.8.1",
        "DeflatedImageFrameCompression",
        "Deflated Image Frame Compression",
        ENCAPSULATED,
        LOSSLESS,
        DEFLATE_IMAGE_FRAME,
    ),
    TransferSyntax::new(
        "1.2.840.10008.1.20",
        "Papyrus3ImplicitVRLittleEndian",
        "Papyrus 3 Implicit VR Little Endian",
        IMPLICIT_LE,
        LOSSLESS,
        None,
    ),
];

/// The transfer syntax with this UID (trailing NUL and space padding ignored).
pub fn by_uid(uid: &str) -> Option<&'static TransferSyntax> {
    let uid = uid.trim_end_matches(['\0', ' ']);
    TRANSFER_SYNTAXES.iter().find(|t| t.uid == uid)
}

/// [`by_uid`], or [`TransferSyntax::UNKNOWN`] with `uid` for one not in the table.
pub fn lookup(uid: &str) -> TransferSyntax {
    by_uid(uid).copied().unwrap_or(TransferSyntax::UNKNOWN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_sorted_and_consistent() {
        for w in TRANSFER_SYNTAXES.windows(2) {
            let key = |u: &str| -> Vec<u32> { u.split('.').map(|p| p.parse().unwrap()).collect() };
            assert!(key(w[0].uid) < key(w[1].uid), "{} {}", w[0].uid, w[1].uid);
        }
        for t in TRANSFER_SYNTAXES {
            // A codec serves encapsulated frames; native syntaxes are unpacked, not coded.
            assert!(t.codec.is_none() || t.encapsulated, "{}", t.uid);
            assert!(!t.big_endian || !t.encapsulated, "{}", t.uid);
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(
            by_uid("1.2.840.10008.1.2.5\0").unwrap().keyword,
            "RLELossless"
        );
        assert!(by_uid("1.2.840.10008.1.2.4.70").unwrap().can_encode());
        assert!(!by_uid("1.2.840.10008.1.2.4.100").unwrap().can_decode());
        assert!(by_uid("1.2.840.10008.1.2").unwrap().can_decode());
        let u = lookup("1.2.3.4");
        assert!(u.encapsulated && u.explicit_vr && u.codec.is_none());
    }
}
