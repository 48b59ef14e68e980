//! What the decoder reads in a stream's header before libjpeg-turbo does.
//!
//! **Its own tables** (T.81 B.2.4.1, B.2.4.2). libjpeg-turbo keeps the quantization and
//! Huffman tables of the images it decoded in its decompressor, for abbreviated streams
//! whose tables came earlier (T.81 B.4, B.5). A thread's decompressor is reused from frame
//! to frame, so a frame that lacks a table would be decoded with the table of whichever
//! frame that thread decoded before: samples that depend on the order frames were decoded
//! in. Such a frame gets a decompressor of its own instead, which reports a missing
//! quantization table as an error and uses the standard Huffman tables (T.81 K.3, as
//! libjpeg-turbo does for Motion-JPEG streams) for a missing Huffman table: whatever came
//! before.
//!
//! **A sequential scan's spectral selection** (T.81 B.2.3: Ss 0, Se 63, Ah and Al 0). Some
//! old encoders wrote 0 for Se (WG04's JPLY files); libjpeg-turbo and IJG libjpeg (DCMTK)
//! read the scan as 0-63 anyway, with a warning. libjpeg-turbo reports only the first
//! warning of an image, so that warning would hide any later one (a scan cut short):
//! the decoder writes the values libjpeg-turbo uses instead, and takes every warning but
//! one (stray bytes before EOI, after the last coded data) for an error.

/// What [`read`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Preflight {
    /// The stream starts with SOI, its frame is sequential and Huffman-coded (SOF0 or
    /// SOF1), its first scan codes every component, and the marker segments before that
    /// scan define every quantization table its components select and every DC and AC
    /// table the scan selects. False for anything else (other processes, several scans,
    /// a marker segment cut short or malformed): such a frame is decoded with a fresh
    /// decompressor.
    pub own_tables: bool,
    /// Where the first scan's Ss is (Se and Ah << 4 | Al follow) when the frame is
    /// sequential (SOF0 or SOF1) and they are not 0, 63 and 0.
    pub odd_selection_at: Option<usize>,
}

const NO: Preflight = Preflight {
    own_tables: false,
    odd_selection_at: None,
};

/// The header of `jpeg` ([`super::header::read`]), as [`Preflight`] says.
pub(super) fn read(jpeg: &[u8]) -> Preflight {
    super::header::read(jpeg).and_then(|h| of(&h)).unwrap_or(NO)
}

fn of(h: &super::header::Header<'_>) -> Option<Preflight> {
    // SOS: marker, length, Ns, then per component Cs, Td << 4 | Ta; then Ss, Se, Ah | Al.
    let ns = usize::from(*h.sos.get(4)?);
    if ns != h.components {
        return Some(NO);
    }
    let (mut want_dc, mut want_ac) = (0u8, 0u8);
    for j in 0..ns {
        let t = *h.sos.get(5 + 2 * j + 1)?;
        let (td, ta) = (t >> 4, t & 15);
        if td > 3 || ta > 3 {
            return Some(NO);
        }
        want_dc |= 1 << td;
        want_ac |= 1 << ta;
    }
    let ss = 5 + 2 * ns;
    let selection = h.sos.get(ss..ss + 3)?;
    Some(Preflight {
        own_tables: h.quant_selected & !h.quant_defined == 0
            && want_dc & !h.dc_defined == 0
            && want_ac & !h.ac_defined == 0,
        odd_selection_at: (selection != [0, 63, 0]).then_some(h.head.len() + ss),
    })
}

#[cfg(test)]
mod tests {
    use super::read;

    fn self_contained(jpeg: &[u8]) -> bool {
        read(jpeg).own_tables
    }

    /// A minimal grey baseline header: DQT 0, SOF0 (one component, table `tq`), DHT DC 0
    /// and AC 0 (one code each), SOS selecting DC `td` and AC `ta`.
    fn stream(tq: u8, td: u8, ta: u8, with_dqt: bool, with_dht: bool) -> Vec<u8> {
        let mut s = vec![0xFF, 0xD8];
        if with_dqt {
            s.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x43, 0x00]);
            s.extend_from_slice(&[1; 64]);
        }
        s.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x0B, 8, 0, 8, 0, 8, 1, 1, 0x11, tq]);
        if with_dht {
            for class in [0x00u8, 0x10] {
                s.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x14, class, 1]);
                s.extend_from_slice(&[0; 15]);
                s.push(0);
            }
        }
        s.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 1, 1, td << 4 | ta, 0, 63, 0]);
        s.extend_from_slice(&[0x00, 0xFF, 0xD9]);
        s
    }

    #[test]
    fn a_stream_with_its_tables_is_self_contained() {
        assert!(self_contained(&stream(0, 0, 0, true, true)));
    }

    #[test]
    fn a_missing_or_unselected_table_is_not() {
        assert!(!self_contained(&stream(0, 0, 0, false, true)));
        assert!(!self_contained(&stream(0, 0, 0, true, false)));
        assert!(!self_contained(&stream(1, 0, 0, true, true)));
        assert!(!self_contained(&stream(0, 1, 0, true, true)));
        assert!(!self_contained(&stream(0, 0, 2, true, true)));
    }

    #[test]
    fn cut_or_malformed_streams_are_not() {
        let s = stream(0, 0, 0, true, true);
        for cut in 0..s.len() - 3 {
            assert!(!self_contained(&s[..cut]), "{cut}");
        }
        let mut bad = s.clone();
        bad[4] = 0x12; // DQT precision 1 with table 2: 128 bytes, more than the segment
        assert!(!self_contained(&bad));
    }

    #[test]
    fn a_sequential_scan_of_other_than_0_to_63_is_found() {
        let s = stream(0, 0, 0, true, true);
        assert_eq!(read(&s).odd_selection_at, None);
        let at = s.len() - 6; // Ss, Se, Ah << 4 | Al, then one byte of data and EOI
        assert_eq!(s[at..at + 3], [0, 63, 0]);
        let mut zero = s.clone();
        zero[at + 1] = 0; // Se 0, as WG04's JPLY files have it
        assert_eq!(read(&zero).odd_selection_at, Some(at));
    }
}
