//! Transfer syntaxes, PS3.5 Annex A: how a data set is encoded.

/// How the elements of a data set are encoded (PS3.5 §7.1, §7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Encoding {
    pub explicit_vr: bool,
    pub big_endian: bool,
}

impl Encoding {
    pub const IMPLICIT_LE: Encoding = Encoding {
        explicit_vr: false,
        big_endian: false,
    };
    pub const EXPLICIT_LE: Encoding = Encoding {
        explicit_vr: true,
        big_endian: false,
    };
    pub const EXPLICIT_BE: Encoding = Encoding {
        explicit_vr: true,
        big_endian: true,
    };
}

pub const IMPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2";
pub const EXPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2.1";
pub const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2.1.99";
pub const EXPLICIT_VR_BIG_ENDIAN: &str = "1.2.840.10008.1.2.2";
/// Retired (PS3.6 2015c): native pixels, implicit VR little endian.
pub const PAPYRUS_3_IMPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.20";

/// What a transfer syntax UID says about encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferSyntax {
    pub encoding: Encoding,
    /// The data set after the file meta group is deflated (PS3.5 A.5).
    pub deflated: bool,
    /// Pixel data is encapsulated (PS3.5 A.4): every syntax but the four native ones.
    pub encapsulated: bool,
}

impl TransferSyntax {
    /// Unknown UIDs are taken as explicit VR little endian with encapsulated
    /// pixel data, the encoding PS3.5 A.4 requires of every compressed syntax.
    /// dicomfast-codec's `registry` describes every syntax; its tests prove this agrees.
    pub fn from_uid(uid: &str) -> TransferSyntax {
        let uid = uid.trim_end_matches(['\0', ' ']);
        let (encoding, deflated, encapsulated) = match uid {
            IMPLICIT_VR_LITTLE_ENDIAN | PAPYRUS_3_IMPLICIT_VR_LITTLE_ENDIAN => {
                (Encoding::IMPLICIT_LE, false, false)
            }
            EXPLICIT_VR_LITTLE_ENDIAN => (Encoding::EXPLICIT_LE, false, false),
            DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN => (Encoding::EXPLICIT_LE, true, false),
            EXPLICIT_VR_BIG_ENDIAN => (Encoding::EXPLICIT_BE, false, false),
            // JPIP Referenced Deflate (PS3.5 A.7), JPIP HTJ2K Referenced Deflate.
            "1.2.840.10008.1.2.4.95" | "1.2.840.10008.1.2.4.205" => {
                (Encoding::EXPLICIT_LE, true, true)
            }
            _ => (Encoding::EXPLICIT_LE, false, true),
        };
        TransferSyntax {
            encoding,
            deflated,
            encapsulated,
        }
    }

    pub fn is_native(uid: &str) -> bool {
        !Self::from_uid(uid).encapsulated
    }
}
