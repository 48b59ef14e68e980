//! The codestream inside a JP2 file (T.800 Annex I): what some DICOM writers put in a
//! JPEG 2000 frame where PS3.5 A.4.4 asks for the codestream alone.
//!
//! Its boxes are walked to the contiguous codestream box (`jp2c`). A header (`jp2h`) with
//! a palette, component mapping or channel definitions (`pclr`, `cmap`, `cdef`), which
//! a JP2 reader applies to the decoded components, is [`DecodeError::Unsupported`]:
//! this decoder gives the codestream's components as they are.

use super::DecodeError;

/// Whether `data` starts as a JP2 file does (its signature box).
pub(crate) fn is_jp2(data: &[u8]) -> bool {
    data.len() >= 12 && data[..4] == [0, 0, 0, 12] && &data[4..8] == b"jP  "
}

/// The boxes in `data` as (type, contents); a box running past the data ends the walk
/// with an error.
fn boxes(mut data: &[u8]) -> impl Iterator<Item = Result<([u8; 4], &[u8]), DecodeError>> {
    std::iter::from_fn(move || {
        if data.is_empty() {
            return None;
        }
        let cut = || DecodeError::Corrupt("a JP2 box runs past the file".into());
        if data.len() < 8 {
            data = &[];
            return Some(Err(cut()));
        }
        let kind: [u8; 4] = data[4..8].try_into().expect("four bytes");
        let (len, head) = match u32::from_be_bytes(data[..4].try_into().expect("four bytes")) {
            0 => (data.len() as u64, 8), // to the end of the file
            1 if data.len() >= 16 => (
                u64::from_be_bytes(data[8..16].try_into().expect("eight bytes")),
                16,
            ),
            1 => (u64::MAX, 16),
            n => (u64::from(n), 8),
        };
        if len < head as u64 || len > data.len() as u64 {
            data = &[];
            return Some(Err(cut()));
        }
        let (this, rest) = data.split_at(len as usize);
        data = rest;
        Some(Ok((kind, &this[head..])))
    })
}

/// The codestream of the JP2 file `data`.
pub(crate) fn codestream(data: &[u8]) -> Result<&[u8], DecodeError> {
    for b in boxes(data) {
        let (kind, contents) = b?;
        match &kind {
            b"jp2h" => {
                for sub in boxes(contents) {
                    let (kind, _) = sub?;
                    if matches!(&kind, b"pclr" | b"cmap" | b"cdef") {
                        return Err(DecodeError::Unsupported(
                            "a JP2 palette, component mapping or channel definitions".into(),
                        ));
                    }
                }
            }
            b"jp2c" => return Ok(contents),
            _ => {}
        }
    }
    Err(DecodeError::Corrupt(
        "a JP2 file without a codestream box".into(),
    ))
}
