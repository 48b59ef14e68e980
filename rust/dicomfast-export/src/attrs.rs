//! The display attributes of a data set, read from its file's index as the Python
//! `Dataset` gives them (`ds.get(...)`), for [`crate::display::Grey`]. Wherever the
//! Python path could read them otherwise (a duplicate, another VR, a value that is not
//! plain ASCII numbers, a LUT Sequence, a window it would not take) the answer is None
//! and the file goes the Python way.

use dicomfast_codec::as_read::{value_of, CONTEXTUAL};
use dicomfast_core::index::{flags, Index, Node};
use dicomfast_core::value;

use crate::display::Window;

const PHOTOMETRIC: u32 = 0x0028_0004;
const BITS_STORED: u32 = 0x0028_0101;
const PIXEL_REPRESENTATION: u32 = 0x0028_0103;
const WINDOW_CENTER: u32 = 0x0028_1050;
const WINDOW_WIDTH: u32 = 0x0028_1051;
const RESCALE_INTERCEPT: u32 = 0x0028_1052;
const RESCALE_SLOPE: u32 = 0x0028_1053;
const VOI_LUT_FUNCTION: u32 = 0x0028_1056;
const MODALITY_LUT_SEQUENCE: u32 = 0x0028_3000;
const VOI_LUT_SEQUENCE: u32 = 0x0028_3010;
const WANTED: [u32; 10] = [
    PHOTOMETRIC,
    BITS_STORED,
    PIXEL_REPRESENTATION,
    WINDOW_CENTER,
    WINDOW_WIDTH,
    RESCALE_INTERCEPT,
    RESCALE_SLOPE,
    VOI_LUT_FUNCTION,
    MODALITY_LUT_SEQUENCE,
    VOI_LUT_SEQUENCE,
];

/// The Photometric Interpretations the core makes pictures of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Photometric {
    Monochrome1,
    Monochrome2,
    Rgb,
}

/// What the pictures take from a data set; None where it is absent or not one the
/// Python path reads as plainly (the caller then declines what needs it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attributes {
    /// Photometric Interpretation, when it is exactly one the pictures know.
    pub photometric: Option<Photometric>,
    pub bits_stored: Option<u16>,
    /// Pixel Representation 1 (true) or 0 (false).
    pub signed: Option<bool>,
    /// Rescale Slope and Intercept, when both are present.
    pub rescale: Option<(f64, f64)>,
    /// The file's window `voi_index`, when it has one the display table computes.
    pub window: Option<Window>,
}

/// A plain element of VR `vr`: its value bytes.
fn plain<'a>(buf: &'a [u8], n: &Node, vr: &[u8; 2]) -> Option<&'a [u8]> {
    (n.flags & CONTEXTUAL == 0 && &n.vr == vr)
        .then(|| value_of(buf, n))
        .flatten()
}

/// One US value.
fn us(buf: &[u8], n: &Node) -> Option<u16> {
    let v: [u8; 2] = plain(buf, n, b"US")?.try_into().ok()?;
    Some(if n.has(flags::BIG_ENDIAN) {
        u16::from_be_bytes(v)
    } else {
        u16::from_le_bytes(v)
    })
}

/// A DS as the Python `Dataset` converts it: None (the caller declines) unless every
/// value is a finite number; `Some(None)`: absent or empty.
fn ds(buf: &[u8], n: Option<&Node>) -> Option<Option<Vec<f64>>> {
    let Some(n) = n else { return Some(None) };
    let v = value::trim(*b"DS", plain(buf, n, b"DS")?);
    if v.is_empty() {
        return Some(None);
    }
    let values: Option<Vec<f64>> = value::split(v)
        .map(|p| value::parse_ds(p).filter(|x| x.is_finite()))
        .collect();
    Some(Some(values?))
}

/// A one-valued ASCII CS, trimmed; `Some(None)`: absent or empty.
fn cs<'a>(buf: &'a [u8], n: Option<&Node>) -> Option<Option<&'a [u8]>> {
    let Some(n) = n else { return Some(None) };
    let v = value::trim(*b"CS", plain(buf, n, b"CS")?);
    if !v.is_ascii() || v.contains(&b'\\') {
        return None;
    }
    Some((!v.is_empty()).then_some(v))
}

/// The attributes of the data set whose elements are `children` of `index` over `buf`
/// (None: a duplicate, a Modality or VOI LUT Sequence, a Rescale value that is not
/// plainly numbers).
pub fn read(
    buf: &[u8],
    index: &Index,
    children: impl Iterator<Item = u32>,
    voi_index: usize,
) -> Option<Attributes> {
    let mut at: [Option<&Node>; WANTED.len()] = [None; WANTED.len()];
    for i in children {
        let n = &index.nodes[i as usize];
        if let Some(k) = WANTED.iter().position(|&t| t == n.tag) {
            if at[k].is_some() {
                return None; // a duplicate
            }
            at[k] = Some(n);
        }
    }
    let [pi, bits_stored, pr, wc, ww, intercept, slope, function, mlut, vlut] = at;
    if mlut.is_some() || vlut.is_some() {
        return None;
    }
    let photometric = match cs(buf, pi) {
        Some(Some(b"MONOCHROME1")) => Some(Photometric::Monochrome1),
        Some(Some(b"MONOCHROME2")) => Some(Photometric::Monochrome2),
        Some(Some(b"RGB")) => Some(Photometric::Rgb),
        _ => None,
    };
    let bits_stored = bits_stored.and_then(|n| us(buf, n));
    let signed = match pr.and_then(|n| us(buf, n)) {
        Some(0) => Some(false),
        Some(1) => Some(true),
        _ => None,
    };
    let rescale = match (ds(buf, slope)?, ds(buf, intercept)?) {
        (Some(s), Some(i)) => Some((s[0], i[0])),
        _ => None,
    };
    let pick = |v: Vec<f64>| -> Option<f64> {
        if v.len() > 1 {
            v.get(voi_index).copied()
        } else {
            v.first().copied()
        }
    };
    let window = || -> Option<Window> {
        let center = pick(ds(buf, wc)??)?;
        let width = pick(ds(buf, ww)??)?;
        let exact = match cs(buf, function)? {
            None => false,
            Some(f) if f.eq_ignore_ascii_case(b"LINEAR") => false,
            Some(f) if f.eq_ignore_ascii_case(b"LINEAR_EXACT") => true,
            Some(_) => return None,
        };
        Some(Window {
            center,
            width,
            exact,
        })
    };
    Some(Attributes {
        photometric,
        bits_stored,
        signed,
        rescale,
        window: window(),
    })
}
