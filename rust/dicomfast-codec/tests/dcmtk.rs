//! Our encoded streams, wrapped in a minimal DICOM file, must decode in DCMTK (`dcmdjpeg`,
//! `dcmdrle`) to the same pixels. Skipped when the tools are not on PATH.

mod common;

use dicomfast_codec::{decode_native_frame, frame_size_bytes, jpeg, rle, FrameInfo};
use std::path::{Path, PathBuf};
use std::process::Command;

fn tool(name: &str) -> bool {
    let ok = Command::new(name)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("SKIP: {name} not on PATH");
    }
    ok
}

/// Explicit VR Little Endian element with a 2-byte length.
fn el(out: &mut Vec<u8>, group: u16, elem: u16, vr: &[u8; 2], value: &[u8]) {
    let mut v = value.to_vec();
    if v.len() % 2 == 1 {
        v.push(if vr == b"UI" { 0 } else { b' ' });
    }
    out.extend_from_slice(&group.to_le_bytes());
    out.extend_from_slice(&elem.to_le_bytes());
    out.extend_from_slice(vr);
    if vr == b"OB" {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&(v.len() as u16).to_le_bytes());
    }
    out.extend_from_slice(&v);
}

/// A Secondary Capture Part 10 file holding one encapsulated frame (PS3.10 7.1, PS3.5 A.4).
fn part10(fi: &FrameInfo, ts: &str, frame: &[u8]) -> Vec<u8> {
    let sop_class = b"1.2.840.10008.5.1.4.1.1.7";
    let sop_inst = b"1.2.826.0.1.3680043.9.9999.1";
    let mut meta = Vec::new();
    el(&mut meta, 2, 1, b"OB", &[0, 1]);
    el(&mut meta, 2, 2, b"UI", sop_class);
    el(&mut meta, 2, 3, b"UI", sop_inst);
    el(&mut meta, 2, 0x10, b"UI", ts.as_bytes());
    el(&mut meta, 2, 0x12, b"UI", b"1.2.826.0.1.3680043.9.9999.2");
    let mut out = vec![0u8; 128];
    out.extend_from_slice(b"DICM");
    el(&mut out, 2, 0, b"UL", &(meta.len() as u32).to_le_bytes());
    out.extend_from_slice(&meta);
    el(&mut out, 8, 0x16, b"UI", sop_class);
    el(&mut out, 8, 0x18, b"UI", sop_inst);
    let us = |v: u16| v.to_le_bytes();
    el(&mut out, 0x28, 2, b"US", &us(fi.samples_per_pixel));
    let photometric: &[u8] = if fi.samples_per_pixel == 3 {
        b"RGB"
    } else {
        b"MONOCHROME2"
    };
    el(&mut out, 0x28, 4, b"CS", photometric);
    if fi.samples_per_pixel == 3 {
        el(&mut out, 0x28, 6, b"US", &us(0));
    }
    el(&mut out, 0x28, 0x10, b"US", &us(fi.rows as u16));
    el(&mut out, 0x28, 0x11, b"US", &us(fi.columns as u16));
    el(&mut out, 0x28, 0x100, b"US", &us(fi.bits_allocated));
    el(&mut out, 0x28, 0x101, b"US", &us(fi.bits_stored));
    el(&mut out, 0x28, 0x102, b"US", &us(fi.bits_stored - 1));
    el(&mut out, 0x28, 0x103, b"US", &us(fi.pixel_representation));
    out.extend_from_slice(&[
        0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
    ]);
    out.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0, 0, 0, 0]);
    let mut f = frame.to_vec();
    if f.len() % 2 == 1 {
        f.push(0);
    }
    out.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0]);
    out.extend_from_slice(&(f.len() as u32).to_le_bytes());
    out.extend_from_slice(&f);
    out.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
    out
}

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("dicomfast-codec-{}-{name}", std::process::id()))
}

/// Run `tool in out`, read the native pixels back through our native decoder.
fn via_dcmtk(tool: &str, fi: &FrameInfo, ts: &str, frame: &[u8], name: &str) -> Vec<u8> {
    let (inp, outp) = (
        tmp(&format!("{name}-in.dcm")),
        tmp(&format!("{name}-out.dcm")),
    );
    std::fs::write(&inp, part10(fi, ts, frame)).unwrap();
    let o = Command::new(tool).arg(&inp).arg(&outp).output().unwrap();
    assert!(
        o.status.success(),
        "{tool} failed on {name}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let data = std::fs::read(&outp).unwrap();
    let _ = std::fs::remove_file(&inp);
    let _ = std::fs::remove_file(Path::new(&outp));
    let (px, _) = common::native_pixels(&data, false).expect("native pixel data");
    let mut out = vec![0u8; frame_size_bytes(fi)];
    decode_native_frame(px, fi, &mut out).unwrap();
    out
}

fn test_frame(fi: &FrameInfo, seed: u64) -> Vec<u8> {
    let mut s = seed | 1;
    let cols = fi.columns as usize * usize::from(fi.samples_per_pixel);
    let mut raw = Vec::new();
    let n = frame_size_bytes(fi) / fi.bytes_per_sample();
    for i in 0..n {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let smooth = ((i % cols) * 7 + (i / cols) * 3) as u64 + s % 16;
        let v = if i % 97 == 0 { s } else { smooth };
        raw.extend_from_slice(&v.to_le_bytes()[..fi.bytes_per_sample()]);
    }
    // Normalise to Bits Stored as a decoder would.
    let mut out = vec![0u8; raw.len()];
    decode_native_frame(&raw, fi, &mut out).unwrap();
    out
}

#[test]
fn dcmdjpeg_decodes_our_jpeg_lossless() {
    if !tool("dcmdjpeg") {
        return;
    }
    let cases = [
        (8u16, 8u16, 1u16, false, 1u8),
        (8, 6, 1, false, 7),
        (8, 8, 3, false, 1),
        (16, 12, 1, true, 1),
        (16, 12, 1, false, 6),
        (16, 10, 1, false, 1),
        (16, 16, 1, true, 1),
        (16, 16, 1, false, 4),
        (16, 14, 1, false, 1),
    ];
    for (k, &(ba, bs, spp, signed, pred)) in cases.iter().enumerate() {
        let fi = FrameInfo {
            bits_stored: bs,
            pixel_representation: signed as u16,
            ..FrameInfo::new(37, 51, spp, ba)
        };
        let src = test_frame(&fi, 7 + k as u64);
        let enc = jpeg::encode_frame(&src, &fi, pred).unwrap();
        let ts = if pred == 1 {
            "1.2.840.10008.1.2.4.70"
        } else {
            "1.2.840.10008.1.2.4.57"
        };
        let got = via_dcmtk("dcmdjpeg", &fi, ts, &enc, &format!("jpeg{k}"));
        assert_eq!(got, src, "case {k}: {fi:?} predictor {pred}");
    }
}

#[test]
fn dcmdrle_decodes_our_rle() {
    if !tool("dcmdrle") {
        return;
    }
    let cases = [
        (8u16, 8u16, 1u16, false),
        (8, 8, 3, false),
        (16, 12, 1, true),
        (16, 16, 3, false),
        (32, 32, 1, false),
    ];
    for (k, &(ba, bs, spp, signed)) in cases.iter().enumerate() {
        let fi = FrameInfo {
            bits_stored: bs,
            pixel_representation: signed as u16,
            ..FrameInfo::new(29, 33, spp, ba)
        };
        let src = test_frame(&fi, 11 + k as u64);
        let enc = rle::encode_frame(&src, &fi).unwrap();
        let got = via_dcmtk(
            "dcmdrle",
            &fi,
            "1.2.840.10008.1.2.5",
            &enc,
            &format!("rle{k}"),
        );
        assert_eq!(got, src, "case {k}: {fi:?}");
    }
}
