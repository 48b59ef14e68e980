//! The decoder against the encoder: every frame this crate encodes decodes back exactly
//! (reversible) or within the quantisation's error (irreversible).

use super::*;
use crate::tests::Rng;
use crate::{encode, Coding, Frame, Progression};

struct Case {
    w: u32,
    h: u32,
    comps: u32,
    bits: u32,
    signed: bool,
    samples: Vec<u8>,
}

fn frame(rng: &mut Rng, w: u32, h: u32, comps: u32, bits: u32, signed: bool, noise: bool) -> Case {
    let bps = if bits > 8 { 2 } else { 1 };
    let n = (w * h * comps) as usize;
    let mut samples = Vec::with_capacity(n * bps);
    let max = (1u64 << bits) - 1;
    for i in 0..n {
        let v = if noise {
            rng.below(max + 1)
        } else {
            // A smooth ramp with some texture: what images look like.
            let (x, y) = (
                (i / comps as usize) % w as usize,
                (i / comps as usize) / w as usize,
            );
            ((x * 3 + y * 5) as u64 + rng.below(4)) % (max + 1)
        };
        let v = if signed {
            v.wrapping_sub(1 << (bits - 1)) & max
        } else {
            v
        };
        let v = if signed && v >> (bits - 1) & 1 == 1 {
            v | !max // sign-extended into the container
        } else {
            v
        };
        if bps == 1 {
            samples.push(v as u8);
        } else {
            samples.extend_from_slice(&(v as u16).to_le_bytes());
        }
    }
    Case {
        w,
        h,
        comps,
        bits,
        signed,
        samples,
    }
}

fn coding(levels: u32, progression: Progression, colour: bool) -> Coding {
    Coding {
        reversible: true,
        colour_transform: colour,
        decompositions: levels,
        qstep: 0.0,
        progression,
        tile_part_per_resolution: false,
        threads: 1,
    }
}

fn code(c: &Case, coding: &Coding) -> Vec<u8> {
    let f = Frame {
        width: c.w,
        height: c.h,
        components: c.comps,
        bit_depth: c.bits,
        signed: c.signed,
        bytes_per_sample: if c.bits > 8 { 2 } else { 1 },
        samples: &c.samples,
    };
    let mut out = Vec::new();
    encode(&f, coding, &mut out).unwrap();
    out
}

fn decode_all(stream: &[u8], bps: usize, threads: usize) -> Vec<u8> {
    let cs = parse(stream).unwrap();
    let n = (cs.width() * cs.height() * cs.components()) as usize;
    let mut out = vec![0u8; n * bps];
    cs.decode(threads, bps, &mut out).unwrap();
    out
}

/// Samples as the decoder writes them: the value in the low bytes (signed: two's
/// complement in the container's width).
fn expected(c: &Case) -> Vec<u8> {
    c.samples.clone()
}

#[test]
fn reversible_frames_decode_exactly() {
    if !crate::AVAILABLE {
        return;
    }
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let progressions = [
        Progression::Lrcp,
        Progression::Rlcp,
        Progression::Rpcl,
        Progression::Pcrl,
        Progression::Cprl,
    ];
    for k in 0..120 {
        let w = 1 + rng.below(if k % 4 == 0 { 300 } else { 70 }) as u32;
        let h = 1 + rng.below(if k % 4 == 1 { 300 } else { 70 }) as u32;
        let comps = if rng.below(3) == 0 { 3 } else { 1 };
        let bits = 1 + rng.below(16) as u32;
        let signed = rng.below(3) == 0;
        let noise = rng.below(2) == 0;
        let levels = rng.below(7) as u32;
        let prog = progressions[rng.below(5) as usize];
        let c = frame(&mut rng, w, h, comps, bits, signed, noise);
        let colour = comps == 3 && rng.below(2) == 0;
        let stream = code(&c, &coding(levels, prog, colour));
        let bps = if bits > 8 { 2 } else { 1 };
        let got = decode_all(&stream, bps, 1 + k % 3);
        assert!(
            got == expected(&c),
            "case {k}: {w}x{h}x{comps} {bits} bits signed {signed} levels {levels} {prog:?} colour {colour}"
        );
    }
}

/// The planes are not cleared between frames when the blocks cover them: a frame whose
/// right half is flat (its detail bands' blocks there not included, beside included
/// ones in the same packets), decoded after a noisy frame on the same thread, decodes
/// as it does on a fresh thread (fresh buffers, cleared), and exactly when reversible;
/// so does a frame of zeros. On one thread and two.
#[test]
fn blocks_not_included_are_zeros_after_another_frame() {
    if !crate::AVAILABLE {
        return;
    }
    let mut rng = Rng(99);
    let (w, h) = (256, 128);
    let noisy = frame(&mut rng, w, h, 3, 8, false, true);
    let mut half = frame(&mut rng, w, h, 3, 8, false, true);
    for (i, v) in half.samples.iter_mut().enumerate() {
        if (i / 3) % w as usize >= w as usize / 2 {
            *v = 77;
        }
    }
    let mut zeros = frame(&mut rng, w, h, 3, 8, false, true);
    zeros.samples.fill(0);
    for reversible in [true, false] {
        let mut cd = coding(3, Progression::Lrcp, false);
        cd.reversible = reversible;
        cd.qstep = if reversible { 0.0 } else { 1.0 / 256.0 };
        let first = code(&noisy, &cd);
        for case in [&half, &zeros] {
            let stream = code(case, &cd);
            for threads in [1, 2] {
                let fresh = {
                    let stream = stream.clone();
                    std::thread::spawn(move || decode_all(&stream, 1, threads))
                        .join()
                        .unwrap()
                };
                decode_all(&first, 1, threads);
                let got = decode_all(&stream, 1, threads);
                assert!(got == fresh, "reversible {reversible}, {threads} threads");
                if reversible {
                    assert!(got == case.samples);
                }
            }
        }
    }
}

/// The planes are left uncleared only for blocks that provably cover them: a block
/// listed twice (whose areas still add up) or a missing one means clearing.
#[test]
fn only_blocks_that_cover_the_planes_skip_the_clearing() {
    let block = |comp, band, x, y, w, h| packets::Block {
        comp,
        band,
        x,
        y,
        w,
        h,
        start: 0,
        len: 0,
        missing: 0,
        first: 0,
        count: 0,
        gathered: false,
    };
    // One 8x4 band as two 4x4 blocks, in each of two components.
    let whole: Vec<_> = (0..2)
        .flat_map(|c| [block(c, 0, 0, 0, 4, 4), block(c, 0, 4, 0, 4, 4)])
        .collect();
    assert!(covered(&whole, 64));
    assert!(!covered(&whole[..3], 64));
    let mut twice = whole.clone();
    twice[1] = block(0, 0, 0, 0, 4, 4); // the first block again, the second left out
    assert!(!covered(&twice, 64));
}

#[test]
fn tile_parts_by_resolution_decode() {
    if !crate::AVAILABLE {
        return;
    }
    let mut rng = Rng(7);
    let c = frame(&mut rng, 130, 97, 1, 12, false, false);
    let mut cd = coding(5, Progression::Rpcl, false);
    cd.tile_part_per_resolution = true;
    let stream = code(&c, &cd);
    assert_eq!(decode_all(&stream, 2, 1), expected(&c));
}

#[test]
fn irreversible_frames_decode_near() {
    if !crate::AVAILABLE {
        return;
    }
    let mut rng = Rng(99);
    for (w, h, comps, bits) in [(64, 64, 1, 12), (97, 61, 3, 8), (200, 130, 1, 16)] {
        let c = frame(&mut rng, w, h, comps, bits, false, false);
        let mut cd = coding(5, Progression::Lrcp, comps == 3);
        cd.reversible = false;
        cd.qstep = 1.0 / (1u32 << bits) as f32; // one level: near lossless
        let stream = code(&c, &cd);
        let bps = if bits > 8 { 2 } else { 1 };
        let got = decode_all(&stream, bps, 1);
        let vals = |b: &[u8]| -> Vec<i64> {
            if bps == 1 {
                b.iter().map(|&v| i64::from(v)).collect()
            } else {
                b.chunks_exact(2)
                    .map(|p| i64::from(u16::from_le_bytes([p[0], p[1]])))
                    .collect()
            }
        };
        let worst = vals(&got)
            .iter()
            .zip(vals(&c.samples))
            .map(|(a, b)| (a - b).abs())
            .max()
            .unwrap();
        assert!(worst <= 4, "{w}x{h}x{comps} {bits} bits: error {worst}");
    }
}

#[test]
fn damaged_streams_are_errors_not_panics() {
    if !crate::AVAILABLE {
        return;
    }
    let mut rng = Rng(3);
    let c = frame(&mut rng, 96, 80, 1, 12, false, false);
    let stream = code(&c, &coding(3, Progression::Lrcp, false));
    for cut in (0..stream.len()).step_by(7) {
        if let Ok(cs) = parse(&stream[..cut]) {
            let mut out = vec![0u8; 96 * 80 * 2];
            let _ = cs.decode(1, 2, &mut out);
        }
    }
    for k in 0..400 {
        let mut s = stream.clone();
        let at = 60 + rng.below(s.len() as u64 - 60) as usize;
        s[at] ^= 1 << (k % 8);
        if let Ok(cs) = parse(&s) {
            let mut out = vec![0u8; 96 * 80 * 2];
            let _ = cs.decode(1 + k % 2, 2, &mut out);
        }
    }
}

/// A fresh folder for `opj_compress`'s files, or `None` (the test skipped) without it.
fn opj_folder(name: &str) -> Option<std::path::PathBuf> {
    if std::process::Command::new("opj_compress").output().is_err() {
        eprintln!("opj_compress not found: skipped");
        return None;
    }
    let dir = std::env::temp_dir().join(format!("dicomfast-opj-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    Some(dir)
}

/// Tiled codestreams and JP2 files (`opj_compress`; skipped without it) cut at every
/// byte, and with their SIZ, SOT and box fields changed at random: errors or samples,
/// never a panic, on one thread and two.
#[test]
fn damaged_tiled_streams_are_errors_not_panics() {
    let Some(dir) = opj_folder("bad") else {
        return;
    };
    let mut rng = Rng(53);
    let c = frame(&mut rng, 70, 50, 1, 8, false, true);
    let src = dir.join("t.pgm");
    std::fs::write(&src, netpbm(&c)).unwrap();
    let decode_any = |s: &[u8], threads: usize| {
        if let Ok(cs) = parse(s) {
            let n = u64::from(cs.width()) * u64::from(cs.height()) * u64::from(cs.components());
            if n <= 1 << 16 {
                let mut out = vec![0u8; n as usize];
                let _ = cs.decode(threads, 1, &mut out);
            }
        }
    };
    for ext in ["j2k", "jp2"] {
        let dst = dir.join(format!("t.{ext}"));
        let run = std::process::Command::new("opj_compress")
            .arg("-i")
            .arg(&src)
            .arg("-o")
            .arg(&dst)
            .args(["-t", "32,16", "-n", "3"])
            .output()
            .unwrap();
        assert!(run.status.success());
        let stream = std::fs::read(&dst).unwrap();
        assert!(decode_all(&stream, 1, 2) == c.samples, "{ext}");
        for cut in 0..stream.len() {
            decode_any(&stream[..cut], 1 + cut % 2);
        }
        // The fields that place tiles and boxes: SIZ's body, each SOT's, the boxes'
        // lengths.
        let mut fields: Vec<usize> = Vec::new();
        for (at, w) in stream.windows(2).enumerate() {
            match w {
                [0xFF, 0x51] => fields.extend(at + 2..at + 41),
                [0xFF, 0x90] => fields.extend(at + 2..at + 12),
                _ => {}
            }
        }
        if ext == "jp2" {
            fields.extend(0..8);
            fields.extend(32..48);
        }
        for k in 0..1500 {
            let mut s = stream.clone();
            for _ in 0..1 + k % 3 {
                let at = fields[rng.below(fields.len() as u64) as usize];
                s[at] = if k % 4 == 0 {
                    rng.below(256) as u8
                } else {
                    s[at] ^ 1 << (k % 8)
                };
            }
            decode_any(&s, 1 + k % 2);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A PGM or PPM file of the case's samples (16-bit samples big endian, as Netpbm says).
fn netpbm(c: &Case) -> Vec<u8> {
    let magic = if c.comps == 3 { "P6" } else { "P5" };
    let mut out = format!("{magic}\n{} {}\n{}\n", c.w, c.h, (1u32 << c.bits) - 1).into_bytes();
    if c.bits > 8 {
        for p in c.samples.chunks_exact(2) {
            out.extend_from_slice(&[p[1], p[0]]);
        }
    } else {
        out.extend_from_slice(&c.samples);
    }
    out
}

/// `src` coded reversibly by `ojph_compress` with `options` into `dst`: its bytes.
fn ojph_reversible(src: &std::path::Path, dst: &std::path::Path, options: &[&str]) -> Vec<u8> {
    let run = std::process::Command::new("ojph_compress")
        .arg("-i")
        .arg(src)
        .arg("-o")
        .arg(dst)
        .args(["-reversible", "true"])
        .args(options)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{options:?}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::read(dst).unwrap()
}

/// Codestreams made by OpenJPH's `ojph_compress` (Debian `openjph-tools`; the test is
/// skipped without it), with the options it has: each decodes exactly (reversible) or
/// near the source (irreversible) through this decoder, tiled ones included, and one
/// whose image offset moves its wavelet's samples is left to another decoder.
#[test]
fn openjph_streams_decode() {
    if !crate::AVAILABLE
        || std::process::Command::new("ojph_compress")
            .output()
            .is_err()
    {
        eprintln!("ojph_compress not found: skipped");
        return;
    }
    let dir = std::env::temp_dir().join(format!("dicomfast-htj2k-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng(11);
    let cases: [(u32, u32, u32, u32, &[&str]); 9] = [
        (512, 512, 1, 12, &[]),
        (
            97,
            61,
            1,
            8,
            &[
                "-prog_order",
                "LRCP",
                "-num_decomps",
                "3",
                "-block_size",
                "{32,32}",
            ],
        ),
        (
            300,
            200,
            3,
            8,
            &["-prog_order", "CPRL", "-precincts", "{128,128},{64,64}"],
        ),
        (
            200,
            150,
            1,
            16,
            &["-prog_order", "PCRL", "-block_size", "{16,64}"],
        ),
        (64, 40, 1, 10, &["-prog_order", "RLCP", "-num_decomps", "0"]),
        (
            333,
            257,
            3,
            12,
            &["-colour_trans", "false", "-num_decomps", "6"],
        ),
        (640, 480, 3, 8, &["-block_size", "{64,32}"]),
        (
            150,
            90,
            1,
            12,
            &["-reversible", "false", "-qstep", "0.0005"],
        ),
        (128, 96, 3, 8, &["-reversible", "false", "-qstep", "0.002"]),
    ];
    for (k, &(w, h, comps, bits, options)) in cases.iter().enumerate() {
        let c = frame(&mut rng, w, h, comps, bits, false, k % 2 == 1);
        let src = dir.join(format!("{k}.{}", if comps == 3 { "ppm" } else { "pgm" }));
        let dst = dir.join(format!("{k}.j2c"));
        std::fs::write(&src, netpbm(&c)).unwrap();
        let lossy = options.contains(&"false") && options.contains(&"-reversible");
        let mut cmd = std::process::Command::new("ojph_compress");
        cmd.arg("-i").arg(&src).arg("-o").arg(&dst);
        if !lossy {
            cmd.args(["-reversible", "true"]);
        }
        let run = cmd.args(options).output().unwrap();
        assert!(
            run.status.success(),
            "case {k}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let stream = std::fs::read(&dst).unwrap();
        let bps = if bits > 8 { 2 } else { 1 };
        let got = decode_all(&stream, bps, 1 + k % 2);
        if !lossy {
            assert!(got == c.samples, "case {k} ({options:?}) differs");
            continue;
        }
        let max = if bps == 1 {
            got.iter()
                .zip(&c.samples)
                .map(|(a, b)| a.abs_diff(*b) as u32)
                .max()
        } else {
            got.chunks_exact(2)
                .zip(c.samples.chunks_exact(2))
                .map(|(a, b)| {
                    u16::from_le_bytes([a[0], a[1]]).abs_diff(u16::from_le_bytes([b[0], b[1]]))
                        as u32
                })
                .max()
        }
        .unwrap();
        assert!(max <= 6, "case {k} ({options:?}): error {max}");
    }
    // Tiles (of 128 on a side, the last ones cut short), each with OpenJPH's own
    // precincts, on one thread and two: decoded as OpenJPH coded them.
    for (k, (comps, bits, options)) in [
        (1, 8, &["-tile_size", "{128,128}"][..]),
        (
            3,
            12,
            &[
                "-tile_size",
                "{64,128}",
                "-prog_order",
                "RPCL",
                "-precincts",
                "{32,32},{16,16}",
                "-block_size",
                "{16,16}",
                "-num_decomps",
                "3",
            ][..],
        ),
        (
            1,
            16,
            &["-tile_size", "{256,64}", "-prog_order", "PCRL"][..],
        ),
        // The image and its tiles not at 0, where every level's samples, precincts and
        // code-blocks stay put (the first tiles' bands lie in one code-block).
        (
            3,
            8,
            &[
                "-image_offset",
                "{64,96}",
                "-tile_offset",
                "{0,64}",
                "-tile_size",
                "{128,64}",
            ][..],
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let c = frame(&mut rng, 300, 200 + k as u32, comps, bits, false, k == 1);
        let src = dir.join(format!(
            "tiles{k}.{}",
            if comps == 3 { "ppm" } else { "pgm" }
        ));
        let dst = dir.join(format!("tiles{k}.j2c"));
        std::fs::write(&src, netpbm(&c)).unwrap();
        let stream = ojph_reversible(&src, &dst, options);
        let cs = parse(&stream).unwrap();
        assert!(cs.tiles() > 4, "tiles {k}: {} tiles", cs.tiles());
        assert_eq!((cs.width(), cs.height()), (c.w, c.h), "tiles {k}");
        let bps = if bits > 8 { 2 } else { 1 };
        for threads in [1, 2] {
            assert!(
                decode_all(&stream, bps, threads) == c.samples,
                "tiles {k} ({options:?}) differ on {threads} threads"
            );
        }
    }
    // An image offset of 3 moves the first level's samples: left to another decoder.
    let c = frame(&mut rng, 100, 80, 1, 8, false, false);
    let src = dir.join("offset.pgm");
    let dst = dir.join("offset.j2c");
    std::fs::write(&src, netpbm(&c)).unwrap();
    let stream = ojph_reversible(&src, &dst, &["-image_offset", "{3,0}"]);
    assert!(matches!(parse(&stream), Err(DecodeError::Unsupported(_))));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Part 1 codestreams made by OpenJPEG's `opj_compress` (Debian `libopenjp2-tools`; the
/// test is skipped without it; every fourth in a JP2 file), reversible, tiled at random: sizes, tile and image
/// offsets, levels, precincts, code-blocks, progressions. Each this decoder takes decodes
/// to the source exactly, on one thread and two (a tile it wrongly took for one that
/// decodes as an image of its own size would not); each it does not take is one
/// [`markers::standalone`] refuses; and the tiles of a power of two from 0 are taken.
#[test]
fn openjpeg_tiled_streams_decode_or_are_left() {
    let Some(dir) = opj_folder("tiled") else {
        return;
    };
    let mut rng = Rng(29);
    let (mut taken, mut left) = (0, 0);
    for k in 0..36 {
        let aligned = k % 3 == 0;
        let (w, h) = (40 + rng.below(200) as u32, 30 + rng.below(160) as u32);
        let comps = if k % 4 == 1 { 3 } else { 1 };
        let bits = [8, 12, 16][k % 3];
        let c = frame(&mut rng, w, h, comps, bits, false, k % 5 == 0);
        let levels = 1 + rng.below(5) as u32;
        let (tw, th, tx, ty, ix, iy) = if aligned {
            // Tiles of a power of two from 0: always taken.
            let t = 1u32 << (levels + rng.below(3) as u32).max(5);
            (t, t << rng.below(2), 0, 0, 0, 0)
        } else if k % 3 == 1 {
            // Every origin on a multiple of 2^levels: taken when the precincts and
            // code-blocks fall right too.
            let unit = 1u32 << levels;
            let m = |rng: &mut Rng, most: u64| unit * (1 + rng.below(most) as u32);
            let (ix, iy) = (m(&mut rng, 4) - unit, m(&mut rng, 4) - unit);
            (
                m(&mut rng, 96 / u64::from(unit) + 1),
                m(&mut rng, 96 / u64::from(unit) + 1),
                0,
                0,
                ix,
                iy,
            )
        } else {
            let (ix, iy) = (rng.below(70) as u32, rng.below(70) as u32);
            (
                24 + rng.below(120) as u32,
                24 + rng.below(120) as u32,
                rng.below(u64::from(ix) + 1) as u32,
                rng.below(u64::from(iy) + 1) as u32,
                ix,
                iy,
            )
        };
        let src = dir.join(format!("{k}.{}", if comps == 3 { "ppm" } else { "pgm" }));
        // Every fourth in a JP2 file.
        let dst = dir.join(format!("{k}.{}", if k % 4 == 2 { "jp2" } else { "j2k" }));
        std::fs::write(&src, netpbm(&c)).unwrap();
        let mut cmd = std::process::Command::new("opj_compress");
        cmd.arg("-i").arg(&src).arg("-o").arg(&dst).args([
            "-t".to_string(),
            format!("{tw},{th}"),
            "-n".into(),
            (levels + 1).to_string(),
            "-p".into(),
            ["LRCP", "RLCP", "RPCL", "PCRL", "CPRL"][k % 5].into(),
            "-b".into(),
            ["64,64", "32,32", "16,64", "8,8"][k % 4].into(),
        ]);
        if tx + ty + ix + iy > 0 {
            cmd.args(["-T", &format!("{tx},{ty}"), "-d", &format!("{ix},{iy}")]);
        }
        if k % 2 == 1 {
            // Precincts of 64 at the top resolution, halved below (32 at the least).
            let sizes: Vec<String> = (0..=levels)
                .map(|r| {
                    let e = (6 - r.min(1)).max(5);
                    format!("[{0},{0}]", 1 << e)
                })
                .collect();
            cmd.args(["-c", &sizes.join(",")]);
        }
        let run = cmd.output().unwrap();
        if !run.status.success() {
            // OpenJPEG refuses more levels than a small tile has room for.
            assert!(
                !aligned,
                "case {k}: {}",
                String::from_utf8_lossy(&run.stderr)
            );
            continue;
        }
        let stream = std::fs::read(&dst).unwrap();
        match parse(&stream) {
            Ok(cs) => {
                assert_eq!((cs.width(), cs.height()), (w, h), "case {k}");
                let bps = if bits > 8 { 2 } else { 1 };
                for threads in [1, 2] {
                    assert!(
                        decode_all(&stream, bps, threads) == c.samples,
                        "case {k} ({tw}x{th} tiles from {tx},{ty}, image from {ix},{iy}, \
                         {levels} levels) differs on {threads} threads"
                    );
                }
                taken += 1;
            }
            Err(DecodeError::Unsupported(why)) => {
                assert!(!aligned, "case {k}: {why}");
                assert!(why.contains("origin"), "case {k}: {why}");
                left += 1;
            }
            Err(e) => panic!("case {k}: {e}"),
        }
    }
    eprintln!("tiled Part 1 streams: {taken} decoded, {left} left to another decoder");
    assert!(taken >= 12 && left >= 1, "{taken} taken, {left} left");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A JP2 file's codestream decodes as the codestream alone does (boxes of each length
/// form); one whose header holds channel definitions is not this decoder's, and boxes
/// running past the file are errors, not panics.
#[test]
fn jp2_files_give_their_codestream() {
    let mut rng = Rng(41);
    let c = frame(&mut rng, 33, 20, 1, 8, false, false);
    let stream = code(&c, &coding(2, Progression::Lrcp, false));
    let boxed = |kind: &[u8], contents: &[u8]| {
        let mut b = ((8 + contents.len()) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(contents);
        b
    };
    let signature = boxed(b"jP  ", &[0x0D, 0x0A, 0x87, 0x0A]);
    let ftyp = boxed(b"ftyp", b"jp2 \0\0\0\0jp2 ");
    let ihdr = boxed(b"ihdr", &[0, 0, 0, 20, 0, 0, 0, 33, 0, 1, 7, 7, 0, 0]);
    let colr = boxed(b"colr", &[1, 0, 0, 0, 0, 0, 17]);
    let jp2h = boxed(b"jp2h", &[ihdr.clone(), colr.clone()].concat());
    let want = decode_all(&stream, 1, 1);
    assert!(want == c.samples);
    // Length forms: a plain length; XLBox (LBox 1); to the end of the file (LBox 0).
    let mut xl = vec![0, 0, 0, 1];
    xl.extend_from_slice(b"jp2c");
    xl.extend_from_slice(&(16 + stream.len() as u64).to_be_bytes());
    xl.extend_from_slice(&stream);
    let mut open = vec![0, 0, 0, 0];
    open.extend_from_slice(b"jp2c");
    open.extend_from_slice(&stream);
    for jp2c in [boxed(b"jp2c", &stream), xl, open] {
        let file = [signature.clone(), ftyp.clone(), jp2h.clone(), jp2c].concat();
        assert!(decode_all(&file, 1, 1) == want);
    }
    let cdef = boxed(b"cdef", &[0, 1, 0, 0, 0, 0]);
    let with_cdef = boxed(b"jp2h", &[ihdr, colr, cdef].concat());
    let file = [
        signature.clone(),
        ftyp.clone(),
        with_cdef,
        boxed(b"jp2c", &stream),
    ]
    .concat();
    assert!(matches!(parse(&file), Err(DecodeError::Unsupported(_))));
    let file = [signature, ftyp, jp2h, boxed(b"jp2c", &stream)].concat();
    for cut in [13, 20, 40, file.len() - stream.len() - 3, file.len() - 1] {
        let _ = parse(&file[..cut]).map(|cs| {
            let mut out = vec![0u8; 33 * 20];
            let _ = cs.decode(1, 1, &mut out);
        });
    }
    assert!(matches!(parse(&file[..40]), Err(DecodeError::Corrupt(_))));
}

/// Inputs the `ht_decode` fuzz target (rust/dicomfast-codec/fuzz) found: byte 0 its
/// flags (bit 0: 2-byte samples; bit 1: two threads too), then the codestream. Each
/// decodes to an error or samples, never a panic.
#[test]
fn fuzz_finds_decode_without_panics() {
    let finds: [&[u8]; 1] = [include_bytes!("regressions/overflow_in_level_shift.bin")];
    for data in finds {
        let (head, stream) = data.split_first().unwrap();
        let Ok(cs) = parse(stream) else { continue };
        let bps = if head & 1 == 1 { 2 } else { 1 };
        let n = (cs.width() * cs.height() * cs.components()) as usize * bps;
        for threads in [1, 2] {
            let mut out = vec![0u8; n];
            let _ = cs.decode(threads, bps, &mut out);
        }
    }
}

/// Every build of the block decoder this processor can run (the portable one, the one
/// for BMI1/BMI2/LZCNT/POPCNT, the one with AVX2 as well) gives the same coefficients, and the
/// same errors, on the same segments (the other tests run whichever it takes).
#[test]
fn every_block_decoder_build_decodes_alike() {
    use crate::block::BlockCoder;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut coder = BlockCoder::new();
    let (mut a, mut b) = (
        cleanup::BlockDecoder::default(),
        cleanup::BlockDecoder::default(),
    );
    let mut compared = 0;
    for &(w, h) in &[(1, 1), (2, 2), (3, 5), (7, 9), (16, 16), (33, 17), (64, 64)] {
        for bits in [1u32, 4, 9, 15, 20] {
            let plane: Vec<i32> = (0..w * h)
                .map(|_| {
                    let r = rng.next();
                    let m = (r >> 8) as i32 & ((1 << bits) - 1);
                    match r % 3 {
                        0 => 0,
                        1 => -m,
                        _ => m,
                    }
                })
                .collect();
            let mut seg = Vec::new();
            let (len, _) = coder.encode(&plane, w, w, h, &mut seg).unwrap();
            if len == 0 {
                continue;
            }
            let mut damaged = seg.clone();
            let at = rng.below(damaged.len() as u64) as usize;
            damaged[at] ^= 0x5A;
            for s in [&seg[..], &damaged[..], &seg[..seg.len() / 2]] {
                for (shift, half) in [(0, false), (3, true), (12, true)] {
                    let mut da = vec![0; w * h];
                    let ra = a.decode_any::<false>(s, w, h, shift, half, &mut da, w);
                    for build in builds() {
                        let mut db = vec![0; w * h];
                        let rb = build(&mut b, s, w, h, shift, half, &mut db);
                        assert_eq!(ra, rb, "{w}x{h}, {bits} bits");
                        if ra.is_ok() {
                            assert_eq!(da, db, "{w}x{h}, {bits} bits, shift {shift}");
                        }
                        compared += 1;
                    }
                }
            }
            // The undamaged segment decodes to the block itself.
            let mut out = vec![0; w * h];
            a.decode(&seg, w, h, 0, false, &mut out, w).unwrap();
            assert_eq!(out, plane, "{w}x{h}, {bits} bits");
        }
    }
    assert!(compared > 100);
}

type Build = fn(
    &mut cleanup::BlockDecoder,
    &[u8],
    usize,
    usize,
    u32,
    bool,
    &mut [i32],
) -> Result<(), &'static str>;

/// The builds of the block decoder besides the portable one that this processor runs.
fn builds() -> Vec<Build> {
    #[allow(unused_mut)]
    let mut v: Vec<Build> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        use crate::cpu::{features, Features};
        let found = features();
        if found != Features::Baseline {
            // SAFETY: BitFields' features, or Vector's (a superset), were found.
            v.push(|d, s, w, h, shift, half, out| unsafe {
                d.decode_bit_fields(s, w, h, shift, half, out, w)
            });
        }
        if found == Features::Vector {
            // SAFETY: the features of this build were found.
            v.push(|d, s, w, h, shift, half, out| unsafe {
                d.decode_vector(s, w, h, shift, half, out, w)
            });
        }
    }
    v
}
