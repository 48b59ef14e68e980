//! The codestream's marker segments (T.800 Annex A, T.814 Annex A): SOC, SIZ, CAP, COD,
//! QCD, [TLM], then the tile's tile-parts (SOT, SOD, their packets) and EOC.

/// One sub-band's quantisation (QCD SPqcd, T.800 A.6.4 and E.1).
#[derive(Debug, Clone, Copy)]
pub(crate) enum BandStep {
    /// No quantisation: only the exponent, which sets the band's bit-planes.
    Reversible { epsilon: u32 },
    /// Scalar expounded: the step is `2^(R_b - epsilon) (1 + mantissa / 2^11)` with
    /// `R_b` the sample depth plus the band's gain bits; `relative` is the step of a unit
    /// sample range, as coded.
    Irreversible {
        epsilon: u32,
        mantissa: u32,
        relative: f64,
    },
}

/// The quantisation step of a band of `gain_bits` coded as `epsilon` and `mantissa`, of
/// a unit sample range: T.800 E.1's `2^(R_b - epsilon) (1 + mantissa / 2^11)` over the
/// sample range `2^depth` (`R_b` is the depth plus the gain bits).
pub(crate) fn unit_step(gain_bits: u32, epsilon: u32, mantissa: u32) -> f64 {
    2f64.powi(gain_bits as i32 - epsilon as i32) * (1.0 + f64::from(mantissa) / 2048.0)
}

/// A band's magnitude bit-planes K_max (T.800 E.1): its guard bits and exponent.
pub(crate) fn k_max(guard: u32, epsilon: u32) -> i64 {
    i64::from(guard) + i64::from(epsilon) - 1
}

impl BandStep {
    /// The coded step nearest `step` (of a unit sample range) for a band of `gain_bits`.
    pub(crate) fn irreversible(step: f64, gain_bits: u32) -> Self {
        // step / 2^gain = 2^-epsilon (1 + mantissa / 2048)
        let x = step / f64::from(1u32 << gain_bits);
        let mut epsilon = (-x.log2().floor()) as i32;
        let mut mantissa = ((x * 2f64.powi(epsilon) - 1.0) * 2048.0).round() as i32;
        if mantissa >= 2048 {
            mantissa = 0;
            epsilon -= 1;
        }
        let epsilon = epsilon.clamp(0, 31) as u32;
        let mantissa = mantissa.clamp(0, 2047) as u32;
        let relative = unit_step(gain_bits, epsilon, mantissa);
        BandStep::Irreversible {
            epsilon,
            mantissa,
            relative,
        }
    }

    pub(crate) fn epsilon(&self) -> u32 {
        match *self {
            BandStep::Reversible { epsilon } | BandStep::Irreversible { epsilon, .. } => epsilon,
        }
    }

    /// The step of a unit sample range (irreversible bands).
    pub(crate) fn absolute(&self) -> f64 {
        match *self {
            BandStep::Reversible { .. } => 1.0,
            BandStep::Irreversible { relative, .. } => relative,
        }
    }
}

pub(crate) struct Header {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) components: u32,
    pub(crate) bit_depth: u32,
    pub(crate) signed: bool,
    pub(crate) reversible: bool,
    pub(crate) colour_transform: bool,
    pub(crate) levels: u32,
    pub(crate) progression: u8,
    pub(crate) guard_bits: u32,
    /// The largest K_max of any band (CAP's MAGB).
    pub(crate) magb: u32,
    /// Every band's step: LL, then HL, LH, HH of each level from the deepest.
    pub(crate) steps: Vec<BandStep>,
}

fn segment(out: &mut Vec<u8>, marker: u8, body: &[u8]) {
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(body);
}

/// Append the codestream of `h` whose one tile holds the packets `tile`, cut into
/// tile-parts ending at `parts` (offsets in `tile`, the last its length); more than one
/// tile-part is listed in a TLM marker segment.
pub(crate) fn write(h: &Header, tile: &[u8], parts: &[usize], out: &mut Vec<u8>) {
    out.extend_from_slice(&[0xFF, 0x4F]); // SOC

    // SIZ: Rsiz says Part 15 (HTJ2K) capabilities; one tile the image's size.
    let mut siz = Vec::with_capacity(36 + 3 * h.components as usize);
    siz.extend_from_slice(&0x4000u16.to_be_bytes());
    for v in [h.width, h.height, 0, 0, h.width, h.height, 0, 0] {
        siz.extend_from_slice(&v.to_be_bytes());
    }
    siz.extend_from_slice(&(h.components as u16).to_be_bytes());
    for _ in 0..h.components {
        siz.push((u8::from(h.signed) << 7) | (h.bit_depth - 1) as u8);
        siz.extend_from_slice(&[1, 1]);
    }
    segment(out, 0x51, &siz);

    // CAP: Pcap bit 15 (Part 15); Ccap15: every block HT, one HT set, no ROI,
    // homogeneous, the irreversible flag, MAGB's code.
    let mut cap = Vec::with_capacity(6);
    cap.extend_from_slice(&0x0002_0000u32.to_be_bytes());
    let b = h.magb;
    let magb_code = if b <= 8 {
        0
    } else if b < 28 {
        b - 8
    } else {
        13 + (b >> 2)
    };
    let ccap = (u16::from(!h.reversible) << 5) | magb_code as u16;
    cap.extend_from_slice(&ccap.to_be_bytes());
    segment(out, 0x50, &cap);

    // COD: default precincts, no SOP/EPH; one layer; 64 x 64 HT code-blocks.
    let cod = [
        0,
        h.progression,
        0,
        1,
        u8::from(h.colour_transform),
        h.levels as u8,
        4,
        4,
        0x40,
        u8::from(h.reversible),
    ];
    segment(out, 0x52, &cod);

    // QCD
    let mut qcd = Vec::with_capacity(1 + 2 * h.steps.len());
    let style = if h.reversible { 0 } else { 2 };
    qcd.push(((h.guard_bits as u8) << 5) | style);
    for s in &h.steps {
        match *s {
            BandStep::Reversible { epsilon } => qcd.push((epsilon as u8) << 3),
            BandStep::Irreversible {
                epsilon, mantissa, ..
            } => qcd.extend_from_slice(&(((epsilon << 11) | mantissa) as u16).to_be_bytes()),
        }
    }
    segment(out, 0x5C, &qcd);

    // Each tile-part: SOT (Psot counts from SOT to the end of its data), SOD, packets.
    let mut starts = vec![0];
    starts.extend_from_slice(&parts[..parts.len() - 1]);
    let lengths: Vec<u32> = starts
        .iter()
        .zip(parts)
        .map(|(&a, &b)| (12 + 2 + b - a) as u32)
        .collect();
    if parts.len() > 1 {
        // TLM (T.800 A.7.1): Ztlm 0; Stlm: 8-bit Ttlm, 32-bit Ptlm.
        let mut tlm = vec![0, 0x50];
        for &len in &lengths {
            tlm.push(0);
            tlm.extend_from_slice(&len.to_be_bytes());
        }
        segment(out, 0x55, &tlm);
    }
    for (k, ((&a, &b), &psot)) in starts.iter().zip(parts).zip(&lengths).enumerate() {
        let mut sot = Vec::with_capacity(8);
        sot.extend_from_slice(&0u16.to_be_bytes());
        sot.extend_from_slice(&psot.to_be_bytes());
        sot.extend_from_slice(&[k as u8, parts.len() as u8]);
        segment(out, 0x90, &sot);
        out.extend_from_slice(&[0xFF, 0x93]);
        out.extend_from_slice(&tile[a..b]);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
}
