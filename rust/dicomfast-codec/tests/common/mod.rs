//! Test-only helpers: locate the shared corpus, read its manifest, and pull Pixel Data out of
//! Part 10 files by scanning (no DICOM parser here on purpose).
#![allow(dead_code)]

use dicomfast_codec::FrameInfo;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;

/// `../../../shared/corpus` from the crate, or `None` (with a message) when absent.
pub fn corpus() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if p.join("manifest.json").is_file() {
        Some(p)
    } else {
        eprintln!("SKIP: corpus not found at {}", p.display());
        None
    }
}

/// One manifest entry: its top-level scalar fields as raw JSON text (strings unquoted).
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub fields: HashMap<String, String>,
}

impl Entry {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.fields
            .get(k)
            .map(|s| s.as_str())
            .filter(|s| *s != "null")
    }
    pub fn num(&self, k: &str) -> Option<u32> {
        self.get(k).and_then(|s| s.parse().ok())
    }
    pub fn path(&self) -> &str {
        self.get("path").unwrap_or("")
    }
    pub fn ts(&self) -> &str {
        self.get("transfer_syntax").unwrap_or("")
    }
    pub fn expect_error(&self) -> bool {
        self.get("expect_error") == Some("true")
    }
    pub fn frames(&self) -> usize {
        self.num("number_of_frames").unwrap_or(1).max(1) as usize
    }
    pub fn frame_info(&self) -> Option<FrameInfo> {
        Some(FrameInfo {
            rows: self.num("rows")?,
            columns: self.num("columns")?,
            samples_per_pixel: self.num("samples_per_pixel")? as u16,
            bits_allocated: self.num("bits_allocated")? as u16,
            bits_stored: self.num("bits_stored")? as u16,
            pixel_representation: self.num("pixel_representation").unwrap_or(0) as u16,
            planar_configuration: self.num("planar_configuration").unwrap_or(0) as u16,
            big_endian: self.ts() == "1.2.840.10008.1.2.2",
            float: false,
        })
    }
}

/// The manifest written with one-space indentation: entries open with `  {`, their own keys
/// are indented by three spaces (nested objects deeper).
pub fn manifest(corpus: &std::path::Path) -> Vec<Entry> {
    let text = std::fs::read_to_string(corpus.join("manifest.json")).expect("manifest");
    let mut out = Vec::new();
    let mut cur: Option<Entry> = None;
    for line in text.lines() {
        if line == "  {" {
            if let Some(e) = cur.take() {
                out.push(e);
            }
            cur = Some(Entry::default());
            continue;
        }
        let Some(e) = cur.as_mut() else { continue };
        let Some(rest) = line.strip_prefix("   \"") else {
            continue;
        };
        if rest.starts_with(' ') {
            continue;
        }
        let Some((k, v)) = rest.split_once("\": ") else {
            continue;
        };
        let v = v.trim_end_matches(',');
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v);
        e.fields.insert(k.to_string(), v.to_string());
    }
    if let Some(e) = cur {
        out.push(e);
    }
    out
}

fn u32le(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

/// Position of the value of the last (7FE0,0010) element with an OB/OW VR, its length, and
/// whether the VR is OW.
fn pixel_element(d: &[u8], big_endian: bool) -> Option<(usize, u32, bool)> {
    let tag: &[u8] = if big_endian {
        &[0x7F, 0xE0, 0x00, 0x10]
    } else {
        &[0xE0, 0x7F, 0x10, 0x00]
    };
    let mut found = None;
    let mut i = 0;
    while i + 12 <= d.len() {
        if &d[i..i + 4] == tag && (&d[i + 4..i + 6] == b"OB" || &d[i + 4..i + 6] == b"OW") {
            let lb: [u8; 4] = d[i + 8..i + 12].try_into().ok()?;
            let len = if big_endian {
                u32::from_be_bytes(lb)
            } else {
                u32::from_le_bytes(lb)
            };
            found = Some((i + 12, len, &d[i + 4..i + 6] == b"OW"));
        }
        i += 1;
    }
    found
}

/// Fragments with the offset of their item from the first item (as the Basic Offset Table
/// counts).
pub type Fragments<'a> = Vec<(usize, &'a [u8])>;

/// Basic Offset Table and fragments of encapsulated Pixel Data (PS3.5 A.4).
pub fn fragments(d: &[u8]) -> Option<(Vec<u32>, Fragments<'_>)> {
    let (mut p, len, _) = pixel_element(d, false)?;
    if len != 0xFFFF_FFFF {
        return None;
    }
    let start = p;
    let mut bot = Vec::new();
    let mut frags = Vec::new();
    let mut first = true;
    loop {
        if d.get(p..p + 4) != Some(&[0xFE, 0xFF, 0x00, 0xE0][..]) {
            break;
        }
        let Some(n) = u32le(d, p + 4) else { break };
        let n = n as usize;
        let item = p;
        // A truncated last item runs to the end of the data.
        let Some(body) = d.get(p + 8..(p + 8 + n).min(d.len())) else {
            break;
        };
        if first {
            bot = body
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            first = false;
        } else {
            frags.push((item - start, body));
        }
        p = p.saturating_add(8 + n);
    }
    Some((bot, frags))
}

/// Compressed data of each frame (fragments concatenated).
pub fn frames(d: &[u8], nframes: usize, jpeg: bool) -> Option<Vec<Vec<u8>>> {
    let (bot, frags) = fragments(d)?;
    if frags.is_empty() {
        return None;
    }
    if nframes == 1 {
        return Some(vec![frags.iter().flat_map(|f| f.1.to_vec()).collect()]);
    }
    if frags.len() == nframes {
        return Some(frags.iter().map(|f| f.1.to_vec()).collect());
    }
    let first_item = frags[0].0 as u32;
    let mut out: Vec<Vec<u8>> = Vec::new();
    if bot.len() == nframes {
        for (k, &o) in bot.iter().enumerate() {
            let end = bot.get(k + 1).copied().unwrap_or(u32::MAX);
            let f: Vec<u8> = frags
                .iter()
                .filter(|f| {
                    let r = f.0 as u32 - first_item;
                    r >= o && r < end
                })
                .flat_map(|f| f.1.to_vec())
                .collect();
            out.push(f);
        }
        return Some(out);
    }
    if jpeg {
        for f in &frags {
            if f.1.starts_with(&[0xFF, 0xD8]) || out.is_empty() {
                out.push(Vec::new());
            }
            out.last_mut().unwrap().extend_from_slice(f.1);
        }
        return (out.len() == nframes).then_some(out);
    }
    None
}

/// Native Pixel Data value (explicit VR, defined length) and whether its VR is OW.
pub fn native_pixels(d: &[u8], big_endian: bool) -> Option<(&[u8], bool)> {
    let (p, len, ow) = pixel_element(d, big_endian)?;
    if len == 0xFFFF_FFFF {
        return None;
    }
    Some((d.get(p..p + len as usize)?, ow))
}

pub fn sha256_hex(parts: &[u8]) -> String {
    let h = Sha256::digest(parts);
    h.iter().map(|b| format!("{b:02x}")).collect()
}
