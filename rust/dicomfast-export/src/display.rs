//! The grey display table of `dicomfast.batch.export` (PS3.3 C.11): every value a
//! stored sample of 8 or 16 bits can hold, through Rescale Slope and Intercept
//! (C.11.1.1.2), a LINEAR or LINEAR_EXACT window (C.11.2.1.2, C.11.2.1.3.1) onto the
//! Modality LUT's output range (or 0..1 for a window given by the user), then scaled
//! onto 8 or 16 bits and inverted for MONOCHROME1. The operations are the ones of
//! `dicomfast.pixels.display` and `batch.export._to_bits`, in the same order and in
//! double precision, so the tables are the same bit for bit
//! (`tests/batch/test_export_core.py` holds them to it).

/// A window: centre and width as the file or the user gives them, and whether it is
/// LINEAR_EXACT (else LINEAR).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub center: f64,
    pub width: f64,
    pub exact: bool,
}

/// What a grey table is made of.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grey {
    /// Bytes of a stored sample: 1 or 2.
    pub bytes: u8,
    /// Pixel Representation 1: the samples are two's complement.
    pub signed: bool,
    /// Bits Stored (the Modality LUT's output range, C.11.2.1.2).
    pub bits_stored: u16,
    /// Rescale Slope and Intercept, when both are present.
    pub rescale: Option<(f64, f64)>,
    pub window: Window,
    /// The window was given by the user: onto 0..1 rather than the output range.
    pub user_window: bool,
    pub monochrome1: bool,
    /// Output bits: 8 or 16.
    pub bits: u8,
}

/// A table of `2^(8 * bytes)` output values, indexed by a stored sample's bits.
#[derive(Debug, Clone, PartialEq)]
pub enum Table {
    U8(Vec<u8>),
    U16(Vec<u16>),
}

/// Why no table is made: the Python path raises there (and says why).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused;

impl Grey {
    /// The Modality LUT's output range (`display._output_range`).
    fn output_range(&self) -> (f64, f64) {
        let b = i32::from(self.bits_stored);
        let (lo, hi) = if self.signed {
            (-(2f64.powi(b - 1)), 2f64.powi(b - 1) - 1.0)
        } else {
            (0.0, 2f64.powi(b) - 1.0)
        };
        match self.rescale {
            Some((slope, intercept)) => (lo * slope + intercept, hi * slope + intercept),
            None => (lo, hi),
        }
    }

    /// The stored value whose bits are `k`.
    fn stored(&self, k: u32) -> f64 {
        match (self.bytes, self.signed) {
            (1, false) => f64::from(k as u8),
            (1, true) => f64::from(k as u8 as i8),
            (_, false) => f64::from(k as u16),
            (_, true) => f64::from(k as u16 as i16),
        }
    }

    /// The table, or [`Refused`] where `dicomfast.pixels.display.window` raises (a
    /// LINEAR width below 1, a LINEAR_EXACT width not above 0) or a number is not finite.
    pub fn table(&self) -> Result<Table, Refused> {
        let Window {
            mut center,
            mut width,
            exact,
        } = self.window;
        let finite = [center, width]
            .into_iter()
            .chain(self.rescale.into_iter().flat_map(|(s, i)| [s, i]))
            .all(f64::is_finite);
        if !finite || !matches!(self.bytes, 1 | 2) || !matches!(self.bits, 8 | 16) {
            return Err(Refused);
        }
        if !self.user_window && !(1..=16).contains(&self.bits_stored) {
            return Err(Refused);
        }
        let exact = exact && !self.user_window; // a user's window is LINEAR
        if exact {
            if width <= 0.0 {
                return Err(Refused);
            }
        } else {
            if width < 1.0 {
                return Err(Refused);
            }
            center -= 0.5;
            width -= 1.0;
        }
        let below = center - width / 2.0;
        let above = center + width / 2.0;
        let (y_min, y_max) = if self.user_window {
            (0.0, 1.0)
        } else {
            self.output_range()
        };
        let y_range = y_max - y_min;
        let top = f64::from((1u32 << self.bits) - 1);
        let (lo, span) = (y_min, y_max - y_min);
        let scale = top / span;
        let entries = 1u32 << (8 * u32::from(self.bytes));
        let value = |k: u32| -> u32 {
            let x = self.stored(k);
            let m = match self.rescale {
                Some((slope, intercept)) => x * slope + intercept,
                None => x,
            };
            // display._window_pixels / the kernel's window_linear, branch for branch
            let mut v = ((m - center) / width + 0.5) * y_range + y_min;
            if m <= below {
                v = y_min;
            }
            if m > above {
                v = y_max;
            }
            // batch.export._to_bits
            let out = if span <= 0.0 {
                if v > lo {
                    top
                } else {
                    0.0
                }
            } else {
                ((v - lo) * scale).round_ties_even().clamp(0.0, top)
            };
            let out = out as u32;
            if self.monochrome1 {
                top as u32 - out
            } else {
                out
            }
        };
        Ok(if self.bits == 8 {
            Table::U8((0..entries).map(|k| value(k) as u8).collect())
        } else {
            Table::U16((0..entries).map(|k| value(k) as u16).collect())
        })
    }
}

impl Table {
    /// `samples` (little-endian, `bytes` each, as decoded) looked up into `out`: one
    /// byte per pixel (8-bit tables) or two, big-endian as PNG holds them when `png`
    /// (16-bit), else little-endian as numpy does.
    pub fn gather(&self, samples: &[u8], bytes: u8, png: bool, out: &mut Vec<u8>) {
        let order = |v: u16| {
            if png {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let n = if bytes == 1 {
            samples.len()
        } else {
            samples.len() / 2
        };
        let width = match self {
            Table::U8(_) => 1,
            Table::U16(_) => 2,
        };
        out.clear();
        out.resize(n * width, 0);
        match (self, bytes) {
            (Table::U8(t), 1) => {
                let t: &[u8; 256] = t.as_slice().try_into().expect("256 entries");
                for (o, &s) in out.iter_mut().zip(samples) {
                    *o = t[usize::from(s)];
                }
            }
            (Table::U8(t), _) => {
                let t: &[u8; 65536] = t.as_slice().try_into().expect("65536 entries");
                for (o, s) in out.iter_mut().zip(samples.chunks_exact(2)) {
                    *o = t[usize::from(u16::from_le_bytes([s[0], s[1]]))];
                }
            }
            (Table::U16(t), 1) => {
                let t: &[u16; 256] = t.as_slice().try_into().expect("256 entries");
                for (o, &s) in out.chunks_exact_mut(2).zip(samples) {
                    o.copy_from_slice(&order(t[usize::from(s)]));
                }
            }
            (Table::U16(t), _) => {
                let t: &[u16; 65536] = t.as_slice().try_into().expect("65536 entries");
                for (o, s) in out.chunks_exact_mut(2).zip(samples.chunks_exact(2)) {
                    let v = t[usize::from(u16::from_le_bytes([s[0], s[1]]))];
                    o.copy_from_slice(&order(v));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ct() -> Grey {
        Grey {
            bytes: 2,
            signed: true,
            bits_stored: 12,
            rescale: Some((1.0, -1024.0)),
            window: Window {
                center: 40.0,
                width: 400.0,
                exact: false,
            },
            user_window: false,
            monochrome1: false,
            bits: 8,
        }
    }

    fn entry(t: &Table, stored: i16) -> u32 {
        let k = usize::from(stored as u16);
        match t {
            Table::U8(v) => u32::from(v[k]),
            Table::U16(v) => u32::from(v[k]),
        }
    }

    #[test]
    fn a_ct_window() {
        let t = ct().table().expect("table");
        // HU = stored - 1024; window 40/400 spans -160..240
        assert_eq!(entry(&t, 0), 0); // -1024 HU
        assert_eq!(entry(&t, 2047), 255); // far above
        assert_eq!(entry(&t, 1024 - 161), 0);
        assert_eq!(entry(&t, 1024 + 241), 255);
        let mid = entry(&t, 1024 + 40);
        assert!((126..=129).contains(&mid), "{mid}");
        let mut g = ct();
        g.monochrome1 = true;
        let inv = g.table().expect("table");
        assert_eq!(entry(&inv, 1024 + 40), 255 - mid);
    }

    #[test]
    fn refusals_as_python_raises() {
        let mut g = ct();
        g.window.width = 0.5;
        assert_eq!(g.table(), Err(Refused));
        g.window.exact = true;
        assert!(g.table().is_ok());
        g.window.width = 0.0;
        assert_eq!(g.table(), Err(Refused));
        let mut g = ct();
        g.rescale = Some((f64::NAN, 0.0));
        assert_eq!(g.table(), Err(Refused));
    }

    #[test]
    fn gather_in_png_order() {
        let mut g = ct();
        g.bits = 16;
        let t = g.table().expect("table");
        let mut out = Vec::new();
        t.gather(&[0, 0, 0xFF, 0x07], 2, true, &mut out);
        assert_eq!(out, [0, 0, 0xFF, 0xFF]);
    }
}
