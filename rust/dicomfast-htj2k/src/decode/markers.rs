//! Reading a codestream's marker segments (T.800 Annex A, T.814 Annex A): the coding
//! parameters of its one tile, and the tile's packet data gathered from its tile-parts.
//!
//! What the decoder does not take is [`DecodeError::Unsupported`] (the caller then asks
//! another decoder): more than one tile, image or tile offsets, sub-sampled components,
//! component-specific coding or quantisation (COC, QCC, or a tile-part's COD or QCD, that
//! differ from the main header's: those restating it are taken), regions of interest, progression
//! changes (POC), packed packet headers (PPM, PPT), and code-blocks that may be
//! HT-coded or not (mixed). Code-blocks are all HT-coded, or all
//! Part 1 (EBCOT).

use std::borrow::Cow;

use super::DecodeError;

/// The tile's coding parameters.
#[derive(Debug, Clone)]
pub(crate) struct Params {
    pub(crate) width: usize,
    pub(crate) height: usize,
    /// Per component: bit depth and signedness.
    pub(crate) depth: Vec<(u32, bool)>,
    pub(crate) progression: u8,
    pub(crate) layers: u32,
    pub(crate) sop: bool,
    pub(crate) eph: bool,
    pub(crate) colour_transform: bool,
    pub(crate) levels: u32,
    /// Code-block width and height exponents (as in the band, before precincts limit them).
    pub(crate) xcb: u32,
    pub(crate) ycb: u32,
    /// Every code-block HT-coded (Part 15), or none (Part 1).
    pub(crate) ht: bool,
    /// The code-block style bits (T.800 Table A.19).
    pub(crate) style: u8,
    pub(crate) reversible: bool,
    /// Precinct exponents (PPx, PPy) of each resolution, lowest first.
    pub(crate) precincts: Vec<(u32, u32)>,
    pub(crate) guard: u32,
    /// Per band (LL, then HL, LH, HH from the deepest level): exponent and mantissa.
    pub(crate) steps: Vec<(u32, u32)>,
}

fn unsupported(what: &str) -> DecodeError {
    DecodeError::Unsupported(what.to_string())
}

fn corrupt(what: &str) -> DecodeError {
    DecodeError::Corrupt(what.to_string())
}

fn be16(b: &[u8], at: usize) -> u32 {
    u32::from(u16::from_be_bytes([b[at], b[at + 1]]))
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// COD's fields, kept until the end of the main header.
struct Cod {
    scod: u8,
    progression: u8,
    layers: u32,
    mct: u8,
    levels: u32,
    xcb: u32,
    ycb: u32,
    style: u8,
    wavelet: u8,
    precincts: Vec<(u32, u32)>,
}

fn read_cod(body: &[u8]) -> Result<Cod, DecodeError> {
    if body.len() < 10 {
        return Err(corrupt("a COD marker segment too short"));
    }
    let scod = body[0];
    let levels = u32::from(body[5]);
    if levels > 32 {
        return Err(corrupt("COD: more than 32 decomposition levels"));
    }
    let mut precincts = vec![(15, 15); levels as usize + 1];
    if scod & 1 != 0 {
        if body.len() < 10 + levels as usize + 1 {
            return Err(corrupt("COD: precinct sizes missing"));
        }
        for (r, p) in precincts.iter_mut().enumerate() {
            let b = body[10 + r];
            *p = (u32::from(b & 0xF), u32::from(b >> 4));
            if r > 0 && (p.0 == 0 || p.1 == 0) {
                return Err(corrupt(
                    "COD: a precinct exponent of 0 above the lowest resolution",
                ));
            }
        }
    }
    let (xcb, ycb) = (u32::from(body[6] & 0xF) + 2, u32::from(body[7] & 0xF) + 2);
    if xcb > 10 || ycb > 10 || xcb + ycb > 12 {
        return Err(corrupt("COD: a code-block size out of range"));
    }
    Ok(Cod {
        scod,
        progression: body[1],
        layers: be16(body, 2),
        mct: body[4],
        levels,
        xcb,
        ycb,
        style: body[8],
        wavelet: body[9],
        precincts,
    })
}

/// Whether a COC or QCC marker segment (or a tile-part header's COD or QCD) says for its
/// component what the main header's COD (`main.0`) and QCD (`main.1`) say for all: as
/// encoders such as OpenJPEG 2.0 (GDCM's) write them. `comps` sizes the component index.
fn restates(marker: u32, body: &[u8], main: (&[u8], &[u8]), comps: usize) -> bool {
    let (cod, qcd) = main;
    let index = if comps < 257 { 1 } else { 2 };
    match marker {
        0xFF52 => body == cod,
        0xFF5C => body == qcd,
        // Ccoc, Scoc (its precincts bit), then COD's SPcod (levels onward).
        0xFF53 => {
            body.len() > index
                && cod.len() >= 5
                && (body[index] & 1) == (cod[0] & 1)
                && body[index + 1..] == cod[5..]
        }
        // Cqcc, then QCD's body.
        0xFF5D => body.len() >= index && body[index..] == *qcd,
        _ => false,
    }
}

/// SIZ's image size and each component's depth and signedness.
type Siz = (usize, usize, Vec<(u32, bool)>);

type Qcd = (u32, bool, Vec<(u32, u32)>);

fn read_qcd(body: &[u8], levels: u32) -> Result<Qcd, DecodeError> {
    let Some(&sq) = body.first() else {
        return Err(corrupt("an empty QCD marker segment"));
    };
    let guard = u32::from(sq >> 5);
    let bands = 3 * levels as usize + 1;
    let rest = &body[1..];
    let steps = match sq & 0x1F {
        0 => {
            if rest.len() < bands {
                return Err(corrupt("QCD: exponents missing"));
            }
            rest[..bands]
                .iter()
                .map(|&b| (u32::from(b >> 3), 0))
                .collect()
        }
        1 => {
            if rest.len() < 2 {
                return Err(corrupt("QCD: the step missing"));
            }
            let v = be16(rest, 0);
            let (e0, m0) = (v >> 11, v & 0x7FF);
            // T.800 E.1.1.2: eps_b = eps_0 - N_L + n_b, n_b the band's level.
            let mut steps = vec![(e0, m0)];
            for level in (1..=levels).rev() {
                let e = (e0 + level)
                    .checked_sub(levels)
                    .ok_or_else(|| corrupt("QCD: a derived exponent below 0"))?;
                steps.extend([(e, m0); 3]);
            }
            steps
        }
        2 => {
            if rest.len() < 2 * bands {
                return Err(corrupt("QCD: steps missing"));
            }
            (0..bands)
                .map(|b| {
                    let v = be16(rest, 2 * b);
                    (v >> 11, v & 0x7FF)
                })
                .collect()
        }
        _ => return Err(corrupt("QCD: an unknown quantisation style")),
    };
    Ok((guard, sq & 0x1F != 0, steps))
}

/// The parameters of `data`'s one tile and its packet data (its tile-parts' bodies in
/// order, joined when more than one).
pub(crate) fn read(data: &[u8]) -> Result<(Params, Cow<'_, [u8]>), DecodeError> {
    if !data.starts_with(&[0xFF, 0x4F, 0xFF, 0x51]) {
        return Err(unsupported(
            "not a J2K codestream (a JP2 file, or no SOC and SIZ)",
        ));
    }
    let mut pos = 2;
    let mut siz: Option<Siz> = None;
    let mut cod: Option<Cod> = None;
    let mut qcd: Option<Qcd> = None;
    let mut qcd_body: Option<&[u8]> = None;
    let mut cod_body: Option<&[u8]> = None;
    let mut parts: Vec<(u32, &[u8])> = Vec::new();
    // COC, QCC (and a tile-part's COD, QCD): taken when they restate the defaults.
    let mut restated: Vec<(u32, &[u8])> = Vec::new();
    let mut in_tile = false;
    loop {
        if pos + 2 > data.len() {
            if in_tile {
                break; // no EOC: the codestream ends with the last tile-part
            }
            return Err(corrupt("the codestream ends in its main header"));
        }
        let marker = be16(data, pos);
        if marker == 0xFFD9 {
            break;
        }
        if pos + 4 > data.len() {
            return Err(corrupt("a marker segment cut short"));
        }
        let len = be16(data, pos + 2) as usize;
        if len < 2 || pos + 2 + len > data.len() {
            return Err(corrupt(
                "a marker segment's length runs past the codestream",
            ));
        }
        let body = &data[pos + 4..pos + 2 + len];
        match marker {
            0xFF51 => {
                if body.len() < 36 {
                    return Err(corrupt("a SIZ marker segment too short"));
                }
                let v: Vec<u32> = (0..8).map(|i| be32(body, 2 + 4 * i)).collect();
                let (xsiz, ysiz, xo, yo, xt, yt, xto, yto) =
                    (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
                if xo != 0 || yo != 0 || xto != 0 || yto != 0 {
                    return Err(unsupported("image or tile offsets"));
                }
                if xt < xsiz || yt < ysiz {
                    return Err(unsupported("more than one tile"));
                }
                if xsiz == 0 || ysiz == 0 {
                    return Err(corrupt("SIZ: an empty image"));
                }
                let comps = be16(body, 34) as usize;
                if body.len() < 36 + 3 * comps || comps == 0 {
                    return Err(corrupt("SIZ: components missing"));
                }
                let mut depth = Vec::with_capacity(comps);
                for c in 0..comps {
                    let s = &body[36 + 3 * c..39 + 3 * c];
                    if s[1] != 1 || s[2] != 1 {
                        return Err(unsupported("sub-sampled components"));
                    }
                    let bits = u32::from(s[0] & 0x7F) + 1;
                    if bits > 16 {
                        return Err(unsupported("components deeper than 16 bits"));
                    }
                    depth.push((bits, s[0] & 0x80 != 0));
                }
                siz = Some((xsiz as usize, ysiz as usize, depth));
            }
            0xFF52 => {
                if in_tile {
                    return Err(unsupported("a COD in a tile-part header"));
                }
                cod = Some(read_cod(body)?);
                cod_body = Some(body);
            }
            0xFF5C => {
                if in_tile {
                    return Err(unsupported("a QCD in a tile-part header"));
                }
                qcd_body = Some(body);
            }
            // Kept to be checked against COD and QCD once both are read.
            0xFF53 | 0xFF5D => restated.push((marker, body)),
            0xFF5E => return Err(unsupported("a region of interest (RGN)")),
            0xFF5F => return Err(unsupported("progression changes (POC)")),
            0xFF60 | 0xFF61 => return Err(unsupported("packed packet headers (PPM, PPT)")),
            // CAP, TLM, PLM, PLT, CRG, COM, CPF: nothing the decoder needs.
            0xFF50 | 0xFF55 | 0xFF57 | 0xFF58 | 0xFF63 | 0xFF64 | 0xFF59 => {}
            0xFF90 => {
                if body.len() < 8 {
                    return Err(corrupt("a SOT marker segment too short"));
                }
                if be16(body, 0) != 0 {
                    return Err(unsupported("more than one tile"));
                }
                let psot = be32(body, 2) as usize;
                let tpsot = u32::from(body[6]);
                // The tile-part's header runs to SOD; its data to Psot's end.
                let sot_start = pos;
                let mut p = pos + 2 + len;
                loop {
                    if p + 2 > data.len() {
                        return Err(corrupt("a tile-part without SOD"));
                    }
                    let m = be16(data, p);
                    if m == 0xFF93 {
                        p += 2;
                        break;
                    }
                    if p + 4 > data.len() {
                        return Err(corrupt("a tile-part header cut short"));
                    }
                    let l = be16(data, p + 2) as usize;
                    if l < 2 || p + 2 + l > data.len() {
                        return Err(corrupt("a tile-part header's segment runs past the end"));
                    }
                    match m {
                        0xFF58 | 0xFF64 => {}
                        0xFF52 | 0xFF5C | 0xFF53 | 0xFF5D => {
                            restated.push((m, &data[p + 4..p + 2 + l]))
                        }
                        _ => return Err(unsupported("a tile-part header marker")),
                    }
                    p += 2 + l;
                }
                let end = if psot == 0 {
                    // To the end of the codestream (and its EOC).
                    if data.ends_with(&[0xFF, 0xD9]) {
                        data.len() - 2
                    } else {
                        data.len()
                    }
                } else {
                    sot_start + psot
                };
                if end < p || end > data.len() {
                    return Err(corrupt(
                        "a tile-part's length (Psot) runs past the codestream",
                    ));
                }
                parts.push((tpsot, &data[p..end]));
                in_tile = true;
                pos = end;
                continue;
            }
            _ if in_tile => return Err(corrupt("a marker where a tile-part should start")),
            _ => return Err(unsupported("a marker segment this decoder does not know")),
        }
        pos += 2 + len;
    }
    let (width, height, depth) = siz.ok_or_else(|| corrupt("no SIZ marker segment"))?;
    let cod = cod.ok_or_else(|| corrupt("no COD marker segment"))?;
    if let Some(body) = qcd_body {
        qcd = Some(read_qcd(body, cod.levels)?);
    }
    let (guard, quantised, steps) = qcd.ok_or_else(|| corrupt("no QCD marker segment"))?;
    let main = (cod_body.unwrap_or_default(), qcd_body.unwrap_or_default());
    for &(marker, body) in &restated {
        if !restates(marker, body, main, depth.len()) {
            return Err(unsupported(
                "component-specific coding (COC, QCC, or a tile-part's COD or QCD)",
            ));
        }
    }
    if quantised == (cod.wavelet == 1) {
        return Err(unsupported(
            "a reversible wavelet with quantisation, or an irreversible one without",
        ));
    }
    if cod.style & 0x80 != 0 {
        return Err(unsupported(
            "code-blocks that may be HT-coded or not (mixed)",
        ));
    }
    if cod.layers == 0 {
        return Err(corrupt("COD: no quality layer"));
    }
    if cod.progression > 4 {
        return Err(corrupt("COD: an unknown progression order"));
    }
    if cod.wavelet > 1 {
        return Err(unsupported("an arbitrary wavelet (Part 2)"));
    }
    let colour_transform = match cod.mct {
        0 => false,
        1 if depth.len() >= 3 => true,
        1 => {
            return Err(corrupt(
                "COD: a colour transform of fewer than 3 components",
            ))
        }
        _ => return Err(unsupported("a multiple component transform of Part 2")),
    };
    if parts.is_empty() {
        return Err(corrupt("no tile-part"));
    }
    if parts.iter().enumerate().any(|(k, p)| p.0 as usize != k) {
        return Err(unsupported("tile-parts out of order"));
    }
    let body: Cow<'_, [u8]> = if parts.len() == 1 {
        Cow::Borrowed(parts[0].1)
    } else {
        Cow::Owned(parts.iter().flat_map(|p| p.1.iter().copied()).collect())
    };
    Ok((
        Params {
            width,
            height,
            depth,
            progression: cod.progression,
            layers: cod.layers,
            sop: cod.scod & 2 != 0,
            eph: cod.scod & 4 != 0,
            colour_transform,
            levels: cod.levels,
            xcb: cod.xcb,
            ycb: cod.ycb,
            ht: cod.style & 0x40 != 0,
            style: cod.style,
            reversible: cod.wavelet == 1,
            precincts: cod.precincts,
            guard,
            steps,
        },
        body,
    ))
}
