//! Reading a codestream's marker segments (T.800 Annex A, T.814 Annex A): the image's
//! tiles, each with its coding parameters (the main header's, or its own COD and QCD)
//! and its packet data gathered from its tile-parts.
//!
//! A tile is decoded as an image of its own size would be, and put in its place. That
//! is exact when the tile's origin puts no boundary of the wavelet's samples, of a
//! precinct or of a code-block where the image of its own size has none ([`standalone`]):
//! an origin on a multiple of 2^levels, and each resolution's precincts and each band's
//! code-blocks starting at the tile or wholly inside one cell. Tiles of a power of two
//! on a side, with the image and tiles starting at 0 (what encoders write), are.
//!
//! What the decoder does not take is [`DecodeError::Unsupported`] (the caller then asks
//! another decoder): tiles whose origin is not so placed, sub-sampled components,
//! component-specific coding or quantisation (COC, QCC that differ from the COD and QCD
//! in force: those restating them are taken), regions of interest, progression changes
//! (POC), packed packet headers (PPM, PPT), and code-blocks that may be HT-coded or not
//! (mixed). Code-blocks are all HT-coded, or all Part 1 (EBCOT).

use std::borrow::Cow;

use super::DecodeError;

/// A tile's coding parameters.
#[derive(Debug, Clone)]
pub(crate) struct Params {
    /// The tile's size.
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

/// Whether a COC or QCC marker segment says for its component what the COD (`main.0`)
/// and QCD (`main.1`) in force say for all: as
/// encoders such as OpenJPEG 2.0 (GDCM's) write them. `comps` sizes the component index.
fn restates(marker: u32, body: &[u8], main: (&[u8], &[u8]), comps: usize) -> bool {
    let (cod, qcd) = main;
    let index = if comps < 257 { 1 } else { 2 };
    match marker {
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

/// The image: its size (SIZ's, less the image offset), its components, and its tiles in
/// raster order, which cover it.
pub(crate) struct Image<'a> {
    pub(crate) width: usize,
    pub(crate) height: usize,
    /// Per component: bit depth and signedness.
    pub(crate) depth: Vec<(u32, bool)>,
    pub(crate) tiles: Vec<Tile<'a>>,
}

/// A tile: where it sits in the image, its parameters, and its packet data (its
/// tile-parts' bodies in order, joined when more than one).
pub(crate) struct Tile<'a> {
    pub(crate) x0: usize,
    pub(crate) y0: usize,
    pub(crate) params: Params,
    pub(crate) body: Cow<'a, [u8]>,
}

/// SIZ's fields.
struct Siz {
    /// Xsiz, Ysiz, XOsiz, YOsiz, XTsiz, YTsiz, XTOsiz, YTOsiz.
    grid: [u64; 8],
    depth: Vec<(u32, bool)>,
}

impl Siz {
    fn tiles_across(&self) -> (u64, u64) {
        let g = &self.grid;
        ((g[0] - g[6]).div_ceil(g[4]), (g[1] - g[7]).div_ceil(g[5]))
    }

    /// Tile `t`'s area on the reference grid: x0, y0, x1, y1 (T.800 B.3).
    fn tile(&self, t: u64) -> (u64, u64, u64, u64) {
        let g = &self.grid;
        let across = self.tiles_across().0;
        let (p, q) = (t % across, t / across);
        (
            (g[6] + p * g[4]).max(g[2]),
            (g[7] + q * g[5]).max(g[3]),
            (g[6] + (p + 1) * g[4]).min(g[0]),
            (g[7] + (q + 1) * g[5]).min(g[1]),
        )
    }
}

fn read_siz(body: &[u8]) -> Result<Siz, DecodeError> {
    if body.len() < 36 {
        return Err(corrupt("a SIZ marker segment too short"));
    }
    let grid: [u64; 8] = std::array::from_fn(|i| u64::from(be32(body, 2 + 4 * i)));
    let [xsiz, ysiz, xo, yo, xt, yt, xto, yto] = grid;
    if xo >= xsiz || yo >= ysiz {
        return Err(corrupt("SIZ: an empty image"));
    }
    // T.800 A.5.1: the first tile starts at or before the image, and ends inside it.
    if xt == 0 || yt == 0 || xto > xo || yto > yo || xto + xt <= xo || yto + yt <= yo {
        return Err(corrupt("SIZ: tiles that do not start the image"));
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
    Ok(Siz { grid, depth })
}

/// The marker segments in force for the main header or a tile: COD, QCD, and the COC and
/// QCC seen (taken when they restate COD and QCD).
#[derive(Default, Clone)]
struct Coding<'a> {
    cod: Option<&'a [u8]>,
    qcd: Option<&'a [u8]>,
    restated: Vec<(u32, &'a [u8])>,
}

/// A tile's parameters: `tile`'s COD and QCD where it has them, else `main`'s.
fn params(
    siz: &Siz,
    size: (usize, usize),
    main: &Coding<'_>,
    tile: &Coding<'_>,
) -> Result<Params, DecodeError> {
    let cod_body = tile
        .cod
        .or(main.cod)
        .ok_or_else(|| corrupt("no COD marker segment"))?;
    let qcd_body = tile
        .qcd
        .or(main.qcd)
        .ok_or_else(|| corrupt("no QCD marker segment"))?;
    let cod = read_cod(cod_body)?;
    let (guard, quantised, steps) = read_qcd(qcd_body, cod.levels)?;
    let depth = &siz.depth;
    // The main header's COC and QCC give way to a tile's COD and QCD (T.800 A.6).
    let main_restated = main.restated.iter().filter(|&&(m, _)| {
        !(m == 0xFF53 && tile.cod.is_some() || m == 0xFF5D && tile.qcd.is_some())
    });
    for &(marker, body) in main_restated.chain(&tile.restated) {
        if !restates(marker, body, (cod_body, qcd_body), depth.len()) {
            return Err(unsupported(
                "component-specific coding (COC or QCC) that differs from COD or QCD",
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
    Ok(Params {
        width: size.0,
        height: size.1,
        depth: depth.clone(),
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
    })
}

/// Whether a span of `size` samples from `origin` meets the boundaries of cells of
/// 2^`exp` where a span of the same size from 0 does: it starts on one, or lies inside
/// one cell.
fn same_cells(origin: u64, size: u64, exp: u32) -> bool {
    let cell = 1u64 << exp;
    origin.is_multiple_of(cell) || origin % cell + size <= cell
}

/// Whether the tile at `(x0, y0)` on the reference grid, coded with `p` (whose size is
/// the tile's), decodes as an image of its own size does: its origin is a multiple of
/// 2^levels (so every level's low and high samples are where they are from 0), and at
/// each resolution its precincts, and in each band its code-blocks, start where the
/// image's of its own size do.
pub(crate) fn standalone(x0: u64, y0: u64, p: &Params) -> bool {
    let levels = p.levels;
    if levels >= 32 || !x0.is_multiple_of(1 << levels) || !y0.is_multiple_of(1 << levels) {
        return false;
    }
    let sizes = crate::dwt::sizes(p.width, p.height, levels);
    (0..=levels as usize).all(|r| {
        let up = levels - r as u32;
        let (rw, rh) = sizes[up as usize];
        let (rx, ry) = (x0 >> up, y0 >> up);
        let (ppx, ppy) = p.precincts[r];
        // A band's origin and (largest) size: the resolution's, halved above the lowest.
        let (bx, by, bw, bh, ex, ey) = if r == 0 {
            (rx, ry, rw, rh, p.xcb.min(ppx), p.ycb.min(ppy))
        } else {
            (
                rx / 2,
                ry / 2,
                rw.div_ceil(2),
                rh.div_ceil(2),
                p.xcb.min(ppx - 1),
                p.ycb.min(ppy - 1),
            )
        };
        same_cells(rx, rw as u64, ppx)
            && same_cells(ry, rh as u64, ppy)
            && same_cells(bx, bw as u64, ex)
            && same_cells(by, bh as u64, ey)
    })
}

/// A tile-part: its index in its tile (TPsot) and its data.
type Part<'a> = (u32, &'a [u8]);

/// Marker segments of a tile-part header this decoder passes over: PLT, COM.
const PASSED_IN_TILES: [u32; 2] = [0xFF58, 0xFF64];

/// The image of `data`: its geometry, and each tile's parameters and packet data.
pub(crate) fn read(data: &[u8]) -> Result<Image<'_>, DecodeError> {
    if !data.starts_with(&[0xFF, 0x4F, 0xFF, 0x51]) {
        return Err(unsupported("not a J2K codestream (no SOC and SIZ)"));
    }
    let mut pos = 2;
    let mut siz: Option<Siz> = None;
    let mut main = Coding::default();
    // Per tile: its coding and its tile-parts (TPsot, data).
    let mut tiles: Vec<(Coding<'_>, Vec<Part<'_>>)> = Vec::new();
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
            _ if in_tile && marker != 0xFF90 => {
                return Err(corrupt("a marker where a tile-part should start"))
            }
            0xFF51 => {
                if siz.is_some() {
                    return Err(corrupt("a second SIZ marker segment"));
                }
                let s = read_siz(body)?;
                let (across, down) = s.tiles_across();
                // Every tile has a tile-part (a SOT and a SOD, 14 bytes at least): a
                // count the data cannot hold is a damaged SIZ, found before any list
                // of tiles is made.
                if across
                    .checked_mul(down)
                    .is_none_or(|n| n > (data.len() / 14) as u64)
                {
                    return Err(corrupt("SIZ: more tiles than the codestream holds"));
                }
                tiles.resize_with((across * down) as usize, Default::default);
                siz = Some(s);
            }
            0xFF52 => main.cod = Some(body),
            0xFF5C => main.qcd = Some(body),
            // Kept to be checked against COD and QCD once both are read.
            0xFF53 | 0xFF5D => main.restated.push((marker, body)),
            0xFF5E => return Err(unsupported("a region of interest (RGN)")),
            0xFF5F => return Err(unsupported("progression changes (POC)")),
            0xFF60 | 0xFF61 => return Err(unsupported("packed packet headers (PPM, PPT)")),
            // CAP, TLM, PLM, PLT, CRG, COM, CPF: nothing the decoder needs.
            0xFF50 | 0xFF55 | 0xFF57 | 0xFF58 | 0xFF63 | 0xFF64 | 0xFF59 => {}
            0xFF90 => {
                if body.len() < 8 {
                    return Err(corrupt("a SOT marker segment too short"));
                }
                if siz.is_none() {
                    return Err(corrupt("no SIZ marker segment"));
                }
                let isot = be16(body, 0) as usize;
                let psot = be32(body, 2) as usize;
                let tpsot = u32::from(body[6]);
                let Some((coding, parts)) = tiles.get_mut(isot) else {
                    return Err(corrupt("a tile-part of a tile the image does not have"));
                };
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
                    let segment = &data[p + 4..p + 2 + l];
                    match m {
                        _ if PASSED_IN_TILES.contains(&m) => {}
                        // COD and QCD only in a tile's first tile-part (T.800 A.4.2).
                        0xFF52 | 0xFF5C if tpsot != 0 => {
                            return Err(corrupt("a COD or QCD after a tile's first tile-part"))
                        }
                        0xFF52 => coding.cod = Some(segment),
                        0xFF5C => coding.qcd = Some(segment),
                        0xFF53 | 0xFF5D => coding.restated.push((m, segment)),
                        0xFF5E => return Err(unsupported("a region of interest (RGN)")),
                        0xFF5F => return Err(unsupported("progression changes (POC)")),
                        0xFF61 => return Err(unsupported("packed packet headers (PPT)")),
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
            _ => return Err(unsupported("a marker segment this decoder does not know")),
        }
        pos += 2 + len;
    }
    let siz = siz.ok_or_else(|| corrupt("no SIZ marker segment"))?;
    let [xsiz, ysiz, xo, yo, ..] = siz.grid;
    let mut out = Vec::with_capacity(tiles.len());
    for (t, (coding, parts)) in tiles.into_iter().enumerate() {
        if parts.is_empty() {
            return Err(corrupt("a tile without a tile-part"));
        }
        if parts.iter().enumerate().any(|(k, p)| p.0 as usize != k) {
            return Err(unsupported("tile-parts out of order"));
        }
        let (x0, y0, x1, y1) = siz.tile(t as u64);
        let params = params(
            &siz,
            ((x1 - x0) as usize, (y1 - y0) as usize),
            &main,
            &coding,
        )?;
        if !standalone(x0, y0, &params) {
            return Err(unsupported(
                "a tile whose origin moves its wavelet's samples, precincts or code-blocks",
            ));
        }
        let body: Cow<'_, [u8]> = if parts.len() == 1 {
            Cow::Borrowed(parts[0].1)
        } else {
            Cow::Owned(parts.iter().flat_map(|p| p.1.iter().copied()).collect())
        };
        out.push(Tile {
            x0: (x0 - xo) as usize,
            y0: (y0 - yo) as usize,
            params,
            body,
        });
    }
    if out.is_empty() {
        return Err(corrupt("no tile-part"));
    }
    Ok(Image {
        width: (xsiz - xo) as usize,
        height: (ysiz - yo) as usize,
        depth: siz.depth,
        tiles: out,
    })
}
