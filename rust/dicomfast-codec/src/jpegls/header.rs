//! A JPEG-LS stream's markers (T.87 Annex C): the frame (SOF55), preset coding
//! parameters (LSE, id 1), and each scan (SOS) with where its coded bytes lie.
//!
//! What [`super::decoder`] does not decode is reported as [`Declined::Unsupported`]
//! (CharLS takes those streams): mapping tables and the other LSE ids, restart intervals,
//! sub-sampled components, a height given by DNL, point transforms and the HP colour
//! transforms of an APP8 "mrfx" segment.

/// Why our decoder leaves a stream to CharLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Declined {
    Unsupported(&'static str),
    Corrupt { offset: usize, reason: &'static str },
}

fn corrupt(offset: usize, reason: &'static str) -> Declined {
    Declined::Corrupt { offset, reason }
}

/// LSE id 1's values as a scan uses them (0: the default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Preset {
    pub(super) maxval: u16,
    pub(super) t1: u16,
    pub(super) t2: u16,
    pub(super) t3: u16,
    pub(super) reset: u16,
}

#[derive(Debug, Clone)]
pub(super) struct Scan {
    /// The frame's components in the scan, by their index in the frame.
    pub(super) components: Vec<usize>,
    pub(super) near: u8,
    /// Sample interleaving (ILV 2) rather than none or by line.
    pub(super) by_sample: bool,
    pub(super) preset: Preset,
    /// The scan's coded bytes in the stream.
    pub(super) start: usize,
    pub(super) end: usize,
}

#[derive(Debug, Clone)]
pub(super) struct Stream {
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) precision: u8,
    pub(super) components: usize,
    pub(super) scans: Vec<Scan>,
}

fn u16_at(data: &[u8], at: usize) -> Result<u16, Declined> {
    data.get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or_else(|| corrupt(at, "a marker segment runs past the data"))
}

/// Where the coded bytes that start at `from` end: at the first marker (0xFF followed by
/// a byte with its top bit set), or the end of the data.
fn scan_end(data: &[u8], from: usize) -> usize {
    let mut at = from;
    while let Some(k) = memchr::memchr(0xFF, &data[at..]) {
        let ff = at + k;
        match data.get(ff + 1) {
            Some(&b) if b >= 0x80 => return ff,
            Some(_) => at = ff + 1,
            None => return data.len(),
        }
    }
    data.len()
}

/// The stream's frame and scans.
pub(super) fn read(data: &[u8]) -> Result<Stream, Declined> {
    if data.get(..2) != Some(&[0xFF, 0xD8]) {
        return Err(corrupt(0, "the stream does not start with an SOI marker"));
    }
    let mut frame: Option<(u32, u32, u8, Vec<u8>)> = None;
    let mut preset = Preset::default();
    let mut scans = Vec::new();
    let mut at = 2;
    // The end of the data without an EOI: what was read stands.
    while let Some(&[ff, marker]) = data.get(at..at + 2) {
        if ff != 0xFF {
            return Err(corrupt(at, "expected a marker"));
        }
        if marker == 0xFF {
            at += 1; // fill byte
            continue;
        }
        if marker == 0xD9 {
            break; // EOI
        }
        let len = usize::from(u16_at(data, at + 2)?);
        if len < 2 || at + 2 + len > data.len() {
            return Err(corrupt(
                at + 2,
                "a marker segment's length does not fit the data",
            ));
        }
        let seg = &data[at + 4..at + 2 + len];
        match marker {
            0xF7 => {
                if frame.is_some() {
                    return Err(corrupt(at, "a second frame header"));
                }
                if seg.len() < 6 {
                    return Err(corrupt(at, "a frame header too short"));
                }
                let precision = seg[0];
                let height = u32::from(u16::from_be_bytes([seg[1], seg[2]]));
                let width = u32::from(u16::from_be_bytes([seg[3], seg[4]]));
                let n = usize::from(seg[5]);
                if seg.len() != 6 + 3 * n || n == 0 {
                    return Err(corrupt(
                        at,
                        "a frame header's length disagrees with its components",
                    ));
                }
                if !(2..=16).contains(&precision) {
                    return Err(corrupt(at, "a sample precision outside 2-16 bits"));
                }
                if height == 0 {
                    return Err(Declined::Unsupported("a height given by a DNL marker"));
                }
                if width == 0 {
                    return Err(Declined::Unsupported("a width given by an LSE segment"));
                }
                let mut ids = Vec::with_capacity(n);
                for c in seg[6..].chunks_exact(3) {
                    if c[1] != 0x11 {
                        return Err(Declined::Unsupported("sub-sampled components"));
                    }
                    if ids.contains(&c[0]) {
                        return Err(corrupt(at, "two components with one identifier"));
                    }
                    ids.push(c[0]);
                }
                frame = Some((width, height, precision, ids));
            }
            0xF8 => match seg.first() {
                Some(1) if seg.len() == 11 => {
                    let v = |k: usize| u16::from_be_bytes([seg[k], seg[k + 1]]);
                    preset = Preset {
                        maxval: v(1),
                        t1: v(3),
                        t2: v(5),
                        t3: v(7),
                        reset: v(9),
                    };
                }
                Some(1) => return Err(corrupt(at, "preset coding parameters of the wrong length")),
                _ => {
                    return Err(Declined::Unsupported(
                        "mapping tables or oversize dimensions",
                    ))
                }
            },
            0xDA => {
                let Some((_, _, _, ids)) = &frame else {
                    return Err(corrupt(at, "a scan before the frame header"));
                };
                let n = usize::from(*seg.first().unwrap_or(&0));
                if n == 0 || seg.len() != 1 + 2 * n + 3 {
                    return Err(corrupt(
                        at,
                        "a scan header's length disagrees with its components",
                    ));
                }
                let mut components = Vec::with_capacity(n);
                for c in seg[1..1 + 2 * n].chunks_exact(2) {
                    if c[1] != 0 {
                        return Err(Declined::Unsupported("mapping tables"));
                    }
                    let Some(k) = ids.iter().position(|&id| id == c[0]) else {
                        return Err(corrupt(at, "a scan of a component not in the frame"));
                    };
                    if components.contains(&k) {
                        return Err(corrupt(at, "a component twice in one scan"));
                    }
                    components.push(k);
                }
                let (near, interleave, transform) =
                    (seg[1 + 2 * n], seg[2 + 2 * n], seg[3 + 2 * n]);
                if transform & 0x0F != 0 {
                    return Err(Declined::Unsupported("a point transform"));
                }
                match interleave {
                    0 if n != 1 => {
                        return Err(corrupt(
                            at,
                            "a scan of several components without interleaving",
                        ))
                    }
                    0..=2 => {}
                    _ => return Err(corrupt(at, "an interleave mode other than 0, 1 or 2")),
                }
                let start = at + 2 + len;
                let end = scan_end(data, start);
                scans.push(Scan {
                    components,
                    near,
                    by_sample: interleave == 2,
                    preset,
                    start,
                    end,
                });
                at = end;
                continue;
            }
            0xDD => {
                // A restart interval of 0 means none.
                if seg.iter().any(|&b| b != 0) {
                    return Err(Declined::Unsupported("restart intervals"));
                }
            }
            0xE8 if seg.starts_with(b"mrfx") => {
                if seg.get(4).is_some_and(|&t| t != 0) {
                    return Err(Declined::Unsupported("an HP colour transform"));
                }
            }
            0xE0..=0xEF | 0xFE => {} // application data, comments
            _ => return Err(Declined::Unsupported("a marker other than JPEG-LS's")),
        }
        at += 2 + len;
    }
    let Some((width, height, precision, ids)) = frame else {
        return Err(corrupt(data.len(), "no frame header"));
    };
    // Every component in exactly one scan.
    let mut seen = vec![0u32; ids.len()];
    for s in &scans {
        for &c in &s.components {
            seen[c] += 1;
        }
    }
    if seen.iter().any(|&k| k != 1) {
        return Err(corrupt(
            data.len(),
            "a component not in exactly one scan (a truncated stream?)",
        ));
    }
    Ok(Stream {
        width,
        height,
        precision,
        components: ids.len(),
        scans,
    })
}
