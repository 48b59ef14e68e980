//! Single-thread decode speed on the perf corpus (MB/s of decoded output). Ignored by default:
//! `cargo test --release -p dicomfast-codec --test speed -- --ignored --nocapture`.

mod common;

use common::{corpus, frames, manifest};
use dicomfast_codec::{frame_size_bytes, jpeg, rle, CodecError, FrameInfo};
use std::time::Instant;

type Decoder = fn(&[u8], &FrameInfo, &mut [u8]) -> Result<(), CodecError>;

fn bench(name: &str, fi: &FrameInfo, frames: &[Vec<u8>], decode: Decoder) {
    let size = frame_size_bytes(fi);
    let mut out = vec![0u8; size];
    let total = size * frames.len();
    let reps = (200_000_000 / total).clamp(3, 200);
    let mut best = f64::MAX;
    for _ in 0..reps {
        let t = Instant::now();
        for f in frames {
            decode(f, fi, &mut out).unwrap();
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{name:32} {:8.1} MB/s  ({:.2} ms for {} frames, {:.1} MB)",
        total as f64 / best / 1e6,
        best * 1e3,
        frames.len(),
        total as f64 / 1e6
    );
}

#[test]
#[ignore]
fn decode_speed() {
    let Some(root) = corpus() else { return };
    let m = manifest(&root);
    for (set, codec) in [
        ("ct512_20/jpll_sv1", "jpeg"),
        ("ct512_20/rle", "rle"),
        ("mammo/jpll_sv1", "jpeg"),
        ("mammo/rle", "rle"),
        ("us_cine/jpll_sv1", "jpeg"),
        ("us_cine/rle", "rle"),
    ] {
        let mut fi = None;
        let mut all = Vec::new();
        for e in m
            .iter()
            .filter(|e| e.path().starts_with(&format!("perf/{set}/")))
        {
            let data = std::fs::read(root.join(e.path())).unwrap();
            fi = e.frame_info();
            all.extend(frames(&data, e.frames(), codec == "jpeg").unwrap());
        }
        let fi = fi.unwrap();
        let decode: Decoder = if codec == "jpeg" {
            jpeg::decode_frame
        } else {
            rle::decode_frame
        };
        bench(set, &fi, &all, decode);
    }
}

#[test]
#[ignore]
fn encode_speed() {
    let Some(root) = corpus() else { return };
    let m = manifest(&root);
    for set in ["ct512_20/jpll_sv1", "mammo/jpll_sv1", "us_cine/jpll_sv1"] {
        let mut fi = None;
        let mut raw = Vec::new();
        for e in m
            .iter()
            .filter(|e| e.path().starts_with(&format!("perf/{set}/")))
        {
            let data = std::fs::read(root.join(e.path())).unwrap();
            let f = e.frame_info().unwrap();
            let size = frame_size_bytes(&f);
            for fr in frames(&data, e.frames(), true).unwrap() {
                let mut out = vec![0u8; size];
                jpeg::decode_frame(&fr, &f, &mut out).unwrap();
                raw.push(out);
            }
            fi = Some(f);
        }
        let fi = fi.unwrap();
        let total: usize = raw.iter().map(|r| r.len()).sum();
        for (what, enc) in [("jpeg sv1", 0u8), ("rle", 1u8)] {
            let t = Instant::now();
            let mut bytes = 0;
            for r in &raw {
                bytes += if enc == 0 {
                    jpeg::encode_frame(r, &fi, 1).unwrap().len()
                } else {
                    rle::encode_frame(r, &fi).unwrap().len()
                };
            }
            let s = t.elapsed().as_secs_f64();
            println!(
                "encode {what:9} {set:20} {:8.1} MB/s  ratio {:.2}",
                total as f64 / s / 1e6,
                total as f64 / bytes as f64
            );
        }
    }
}
