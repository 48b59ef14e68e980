//! Makes the HT block coder's CxtVLC tables (`$OUT_DIR/vlc_tables.rs`), to encode and to
//! decode.
//!
//! The VLC code of the HT cleanup pass is defined by two tables of ITU-T T.814 | ISO/IEC
//! 15444-15 (Annex C: codewords for quads in the initial row, and in the other rows), each
//! row `(context, significance pattern, u_off, e_k, e_1, codeword, length)`. They are data
//! of the standard, not ours to retype: this script reads them, at build time, from the
//! transcription a registry dependency already ships, OpenJPEG 2.5's
//! `t1_ht_generate_luts.c` (`tbl0`, `tbl1`) in the crates.io package `openjpeg-sys`,
//! which the codec crate's `j2k` feature compiles anyway (BSD-2-Clause). Nothing of it is
//! copied into this repository; the build checks the rows (counts, prefix-free codes per
//! context) before deriving from them the encoder's lookup, indexed by
//! `(context << 8) | (pattern << 4) | emb` and holding `(codeword << 8) | (length << 4) |
//! e_k`.
//!
//! Where the file is: `DICOMFAST_HT_VLC_SOURCE` if set, else the `openjpeg-sys` package
//! in Cargo's registry (`$CARGO_HOME`, or `~/.cargo`) or a `vendor/` directory beside the
//! workspace. Without it the crate builds without an encoder (`AVAILABLE` false).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

const RELATIVE: &str = "vendor/src/lib/openjp2/t1_ht_generate_luts.c";

#[derive(Clone, Copy, Debug)]
struct Row {
    context: u32,
    rho: u32,
    u_off: u32,
    e_k: u32,
    e_1: u32,
    cwd: u32,
    len: u32,
}

fn candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = env::var_os("DICOMFAST_HT_VLC_SOURCE") {
        out.push(PathBuf::from(p));
    }
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(home) = env::var_os("CARGO_HOME") {
        roots.push(PathBuf::from(home).join("registry/src"));
    }
    if let Some(home) = env::var_os("HOME") {
        roots.push(PathBuf::from(home).join(".cargo/registry/src"));
    }
    for root in roots {
        let Ok(indexes) = fs::read_dir(&root) else {
            continue;
        };
        for index in indexes.flatten() {
            let Ok(packages) = fs::read_dir(index.path()) else {
                continue;
            };
            let mut found: Vec<PathBuf> = packages
                .flatten()
                .map(|p| p.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("openjpeg-sys-"))
                })
                .map(|p| p.join(RELATIVE))
                .collect();
            found.sort();
            found.reverse(); // the newest version first
            out.extend(found);
        }
    }
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    for up in manifest.ancestors().take(4) {
        out.push(up.join("vendor/openjpeg-sys").join(RELATIVE));
    }
    out
}

fn number(s: &str) -> Option<u32> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// The rows of the array `name` (`static vlc_src_table_t name[] = { {..}, .. };`).
fn rows(text: &str, name: &str) -> Option<Vec<Row>> {
    let start = text.find(&format!("{name}[] = {{"))?;
    let body = &text[start..];
    let end = body.find("};")?;
    let mut out = Vec::new();
    for line in body[..end].lines().skip(1) {
        let line = line.trim();
        let Some(inner) = line
            .strip_prefix('{')
            .and_then(|l| l.trim_end_matches(',').strip_suffix('}'))
        else {
            continue;
        };
        let v: Vec<u32> = inner.split(',').map(number).collect::<Option<_>>()?;
        if v.len() != 7 {
            return None;
        }
        out.push(Row {
            context: v[0],
            rho: v[1],
            u_off: v[2],
            e_k: v[3],
            e_1: v[4],
            cwd: v[5],
            len: v[6],
        });
    }
    Some(out)
}

/// The rows are a code: in range, and within a context no codeword a prefix of another
/// (codewords are read least significant bit first).
fn check(rows: &[Row], name: &str) {
    assert!(rows.len() > 300, "{name}: only {} rows", rows.len());
    for r in rows {
        assert!(
            r.context < 8
                && r.rho < 16
                && r.u_off < 2
                && r.e_k < 16
                && r.e_1 & !r.e_k == 0
                && (1..=7).contains(&r.len)
                && r.cwd < 1 << r.len,
            "{name}: bad row {r:?}"
        );
    }
    for a in rows {
        for b in rows {
            let n = a.len.min(b.len);
            let same = (a.rho, a.u_off, a.e_k, a.e_1) == (b.rho, b.u_off, b.e_k, b.e_1);
            if a.context == b.context && !same && (a.cwd ^ b.cwd) & ((1 << n) - 1) == 0 {
                panic!("{name}: {a:?} and {b:?} are not prefix-free");
            }
        }
    }
}

/// The encoder's lookup: for each context, pattern and EMB pattern `emb` (the samples whose
/// exponent is the quad's largest, when u > 0), the row whose `e_k` shares `e_1` with `emb`
/// and leaves the most samples implied (the fewest magnitude bits), or the `u_off = 0` row.
fn lookup(rows: &[Row], name: &str) -> Vec<u16> {
    let mut out = vec![0u16; 2048];
    for (i, slot) in out.iter_mut().enumerate() {
        let i = i as u32;
        let (context, rho, emb) = (i >> 8, (i >> 4) & 0xF, i & 0xF);
        if emb & rho != emb || (rho == 0 && context == 0) {
            continue;
        }
        let mut best: Option<&Row> = None;
        for r in rows.iter().filter(|r| r.context == context && r.rho == rho) {
            if emb == 0 {
                if r.u_off == 0 {
                    best = Some(r);
                    break;
                }
            } else if r.u_off == 1
                && emb & r.e_k == r.e_1
                && best.is_none_or(|b| r.e_k.count_ones() >= b.e_k.count_ones())
            {
                best = Some(r);
            }
        }
        let r = best.unwrap_or_else(|| panic!("{name}: no codeword for index {i}"));
        *slot = ((r.cwd << 8) | (r.len << 4) | r.e_k) as u16;
    }
    out
}

/// The decoder's lookup, indexed by `(context << 7) | next 7 bits` of the VLC stream (read
/// least significant first): `len | rho << 3 | u_off << 7 | e_k << 8 | e_1 << 12`, or 0
/// where no codeword of the context matches (a corrupt stream).
fn decode_lookup(rows: &[Row]) -> Vec<u16> {
    let mut out = vec![0u16; 1024];
    for (i, slot) in out.iter_mut().enumerate() {
        let (context, bits) = (i as u32 >> 7, i as u32 & 0x7F);
        if let Some(r) = rows
            .iter()
            .find(|r| r.context == context && bits & ((1 << r.len) - 1) == r.cwd)
        {
            *slot = (r.len | r.rho << 3 | r.u_off << 7 | r.e_k << 8 | r.e_1 << 12) as u16;
        }
    }
    out
}

fn main() {
    println!("cargo::rustc-check-cfg=cfg(have_ht_tables)");
    println!("cargo:rerun-if-env-changed=DICOMFAST_HT_VLC_SOURCE");
    println!("cargo:rerun-if-changed=build.rs");
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let source = candidates().into_iter().find(|p| p.is_file());
    let Some(source) = source else {
        println!(
            "cargo:warning=the HT VLC tables (openjpeg-sys's {RELATIVE}) were not found: \
             this build encodes no HTJ2K"
        );
        fs::write(
            out_dir.join("vlc_tables.rs"),
            "pub(crate) static VLC_INITIAL: [u16; 2048] = [0; 2048];\n\
             pub(crate) static VLC_LATER: [u16; 2048] = [0; 2048];\n\
             pub(crate) static VLC_DEC_INITIAL: [u16; 1024] = [0; 1024];\n\
             pub(crate) static VLC_DEC_LATER: [u16; 1024] = [0; 1024];\n",
        )
        .unwrap();
        return;
    };
    println!("cargo:rerun-if-changed={}", source.display());
    let text = fs::read_to_string(&source).unwrap();
    let mut code = format!(
        "// Generated by build.rs from the T.814 CxtVLC tables in {}\n",
        display(&source)
    );
    for (name, konst, dec) in [
        ("tbl0", "VLC_INITIAL", "VLC_DEC_INITIAL"),
        ("tbl1", "VLC_LATER", "VLC_DEC_LATER"),
    ] {
        let rows = rows(&text, name).unwrap_or_else(|| panic!("{name} not read"));
        check(&rows, name);
        let table = lookup(&rows, name);
        code.push_str(&format!(
            "pub(crate) static {konst}: [u16; 2048] = {table:?};\n"
        ));
        let table = decode_lookup(&rows);
        code.push_str(&format!(
            "pub(crate) static {dec}: [u16; 1024] = {table:?};\n"
        ));
    }
    fs::write(out_dir.join("vlc_tables.rs"), code).unwrap();
    println!("cargo:rustc-cfg=have_ht_tables");
}

fn display(p: &Path) -> String {
    p.components()
        .rev()
        .take(7)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}
