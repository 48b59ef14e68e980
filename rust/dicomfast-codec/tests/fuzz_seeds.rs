//! Seeds for the codec fuzz targets (`fuzz/fuzz_targets/`): small frames encoded by this
//! crate's own encoders, each prefixed with the layout bytes the target reads first. A fuzzer
//! cannot find a valid JPEG Lossless stream from nothing in the seconds CI gives it; from these
//! it mutates real markers, Huffman tables and scans.
//!
//! As a test: every seed decodes back to its frame through the target's path. With
//! `DICOMFAST_FUZZ_SEEDS=<dir>` the seeds are also written to `<dir>/<target>/`
//! (`tools/fuzz_ci.sh` does that).

use dicomfast_codec::jpeg::{self, EncodeOptions};
use dicomfast_codec::{
    decode_native_frame, frame_size_bytes, native_frame_size_bytes, rle, FrameInfo,
};

/// xorshift64*: deterministic data without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// A frame in the decoders' output layout: native bytes (runs, ramps and noise, so RLE gets
/// both run kinds and JPEG small and large differences) normalised as a decoder would.
fn frame(fi: &FrameInfo, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed | 1);
    let mut raw = vec![0u8; native_frame_size_bytes(fi)];
    let mut k = 0;
    while k < raw.len() {
        let run = (rng.next() % 9 + 1) as usize;
        let kind = rng.next() % 3;
        for j in 0..run.min(raw.len() - k) {
            raw[k + j] = match kind {
                0 => 0x5A,
                1 => (k + j) as u8,
                _ => rng.next() as u8,
            };
        }
        k += run;
    }
    let mut out = vec![0u8; frame_size_bytes(fi)];
    decode_native_frame(&raw, fi, &mut out).expect("native frame");
    out
}

/// Layout of the `rle_decode` target's first 4 bytes (keep in step with it).
fn rle_layout(h: [u8; 4]) -> FrameInfo {
    let ba = [1u16, 8, 16, 32, 64][usize::from(h[2] % 5)];
    FrameInfo {
        rows: u32::from(h[0] % 64) + 1,
        columns: u32::from(h[1] % 64) + 1,
        samples_per_pixel: if h[3] & 1 == 1 && ba != 1 { 3 } else { 1 },
        bits_allocated: ba,
        bits_stored: ba - u16::from(h[3] >> 5).min(ba - 1),
        pixel_representation: u16::from(h[3] >> 1 & 1),
        ..Default::default()
    }
}

/// Layout of the `jpeg_decode` target's first 4 bytes (keep in step with it).
fn jpeg_layout(h: [u8; 4]) -> FrameInfo {
    let ba = if h[2] & 1 == 1 { 16 } else { 8 };
    FrameInfo {
        rows: u32::from(h[0] % 64) + 1,
        columns: u32::from(h[1] % 64) + 1,
        samples_per_pixel: [1u16, 3, 2, 4][usize::from(h[2] >> 1 & 3)],
        bits_allocated: ba,
        bits_stored: ba - u16::from(h[3] & 7),
        pixel_representation: u16::from(h[3] >> 3 & 1),
        ..Default::default()
    }
}

/// One seed file, and for the decoders the frame it must decode to.
struct Seed {
    target: &'static str,
    name: String,
    data: Vec<u8>,
    frame: Vec<u8>,
}

fn seeds() -> Vec<Seed> {
    let mut all = Vec::new();
    // RLE: (rows-1, cols-1, bits allocated index, sample/sign/stored bits).
    let rle_heads: [[u8; 4]; 9] = [
        [7, 9, 1, 0],           // 8-bit grey
        [4, 6, 1, 1],           // 8-bit RGB
        [15, 3, 2, 2 | 4 << 5], // 16-bit signed, 12 stored
        [2, 40, 2, 1],          // 16-bit RGB
        [0, 0, 1, 0],           // one pixel
        [5, 5, 3, 0],           // 32-bit
        [3, 2, 4, 2],           // 64-bit signed
        [9, 17, 0, 0],          // 1-bit
        [63, 63, 2, 0],         // largest frame
    ];
    for (n, h) in rle_heads.into_iter().enumerate() {
        let fi = rle_layout(h);
        let src = frame(&fi, n as u64 + 1);
        let enc = rle::encode_frame(&src, &fi).expect("RLE encode");
        all.push(Seed {
            target: "rle_decode",
            name: format!("rle_{n}"),
            data: [&h[..], &enc].concat(),
            frame: src,
        });
    }
    // JPEG Lossless: (rows-1, cols-1, bits allocated + samples, stored/sign bits), options.
    let jpeg_cases: [([u8; 4], EncodeOptions); 10] = [
        ([7, 9, 0, 0], opts(1, 0, true)),
        ([12, 5, 1, 4], opts(2, 0, true)),    // 16-bit, 12 stored
        ([6, 6, 1, 4 | 8], opts(3, 0, true)), // signed
        ([4, 7, 2, 0], opts(4, 0, true)),     // RGB
        ([4, 7, 2, 0], opts(5, 3, false)),    // RGB, one scan per component, restarts
        ([9, 3, 3, 0], opts(6, 2, true)),     // 16-bit RGB, restarts
        ([3, 3, 4, 1], opts(7, 0, true)),     // 2 samples, 7 stored
        ([5, 2, 6, 0], opts(1, 1, false)),    // 4 samples
        ([0, 0, 1, 0], opts(1, 0, true)),     // one pixel
        ([31, 31, 1, 0], opts(1, 0, true)),   // 16-bit, larger
    ];
    for (n, (h, o)) in jpeg_cases.into_iter().enumerate() {
        let fi = jpeg_layout(h);
        let src = frame(&fi, 100 + n as u64);
        let enc = jpeg::encode_frame_with(&src, &fi, &o).expect("JPEG encode");
        all.push(Seed {
            target: "jpeg_decode",
            name: format!("jpeg_{n}"),
            data: [&h[..], &enc].concat(),
            frame: src,
        });
    }
    // round_trip: 6 layout bytes, then frame bytes (cycled by the target).
    let mut rng = Rng(7);
    for n in 0..6u8 {
        let head = [n * 5, n * 3 + 1, n, n * 37, n, n.wrapping_mul(41)];
        let body: Vec<u8> = (0..64 + 32 * usize::from(n))
            .map(|_| rng.next() as u8)
            .collect();
        all.push(Seed {
            target: "round_trip",
            name: format!("rt_{n}"),
            data: [&head[..], &body].concat(),
            frame: Vec::new(),
        });
    }
    #[cfg(all(feature = "jpeg-dct", feature = "parallel"))]
    all.extend(jpeg_band_seeds());
    all
}

/// Layout of the `jpeg_bands` target's first 4 bytes (keep in step with it): the frame,
/// and the threads it is decoded on.
#[cfg(all(feature = "jpeg-dct", feature = "parallel"))]
fn jpeg_bands_layout(h: [u8; 4]) -> (FrameInfo, usize) {
    let wide = h[3] & 2 == 2;
    let ba: u16 = if wide { 16 } else { 8 };
    let fi = FrameInfo {
        rows: u32::from(h[1]) + 1,
        columns: u32::from(h[2]) + 1,
        samples_per_pixel: if h[3] & 1 == 1 { 3 } else { 1 },
        bits_allocated: ba,
        bits_stored: if wide { 12 } else { 8 },
        pixel_representation: u16::from(h[3] >> 2 & 1),
        ..Default::default()
    };
    (fi, 2 + usize::from(h[0] % 3))
}

/// The frame `stream` decodes to whole, by the registry's JPEG codec on this thread.
#[cfg(all(feature = "jpeg-dct", feature = "parallel"))]
fn jpeg_whole(stream: &[u8], fi: &FrameInfo) -> Result<Vec<u8>, dicomfast_codec::CodecError> {
    let codec = dicomfast_codec::registry::by_uid("1.2.840.10008.1.2.4.50")
        .and_then(|ts| ts.codec)
        .expect("libjpeg-turbo");
    let mut out = vec![0u8; frame_size_bytes(fi)];
    codec.decode(stream, fi, &mut out).map(|()| out)
}

/// A `jpeg_bands` seed: the layout bytes `h`, then `stream`, which decodes to `frame`.
#[cfg(all(feature = "jpeg-dct", feature = "parallel"))]
fn band_seed(name: String, h: [u8; 4], stream: &[u8], frame: Vec<u8>) -> Seed {
    Seed {
        target: "jpeg_bands",
        name,
        data: [&h[..], stream].concat(),
        frame,
    }
}

/// Frames our JPEG encoder wrote in bands (restart intervals of whole MCU rows): grey and
/// RGB, YCbCr 4:2:2, sizes that are not whole MCUs, more bands than decoding threads; and
/// 12-bit grey frames.
#[cfg(all(feature = "jpeg-dct", feature = "parallel"))]
fn jpeg_band_seeds() -> Vec<Seed> {
    use dicomfast_codec::{jpeg_dct, EncodeParams};
    // (decoding threads byte, rows - 1, columns - 1, layout), encoding threads, 4:2:2.
    let cases: [([u8; 4], usize, bool); 6] = [
        ([0, 39, 23, 0], 2, false),  // grey, 2 bands on 2 threads
        ([1, 63, 47, 1], 4, false),  // RGB 4:4:4, 4 bands on 3 threads
        ([2, 32, 16, 0], 3, false),  // 33 x 17: a part MCU row and column
        ([0, 47, 39, 1], 3, true),   // YCbCr 4:2:2, 3 bands on 2 threads
        ([2, 127, 9, 0], 8, false),  // tall and narrow, 8 bands on 4 threads
        ([1, 16, 200, 1], 2, false), // wide, 17 rows: a band of one line
    ];
    let mut seeds = Vec::new();
    for (n, (h, enc_threads, ycc)) in cases.into_iter().enumerate() {
        let (fi, _) = jpeg_bands_layout(h);
        let src = frame(&fi, 500 + n as u64);
        let params = EncodeParams::default()
            .with_quality(85)
            .with_colour_transform(ycc);
        let stream = jpeg_dct::bands::encode(&src, &fi, &params, enc_threads)
            .unwrap_or_else(|| panic!("band seed {n}: not encoded in bands"))
            .expect("JPEG encode");
        let whole = jpeg_whole(&stream, &fi).expect("the banded frame decodes whole");
        seeds.push(band_seed(format!("bands_{n}"), h, &stream, whole));
    }
    // Grey frames coded whole, which the target also checks against TurboJPEG alone:
    // 12-bit (our IDCT, `grey12`) and 8-bit (our entropy decoder, `huffman8`); a part block
    // row and column, one block, qualities low and high (long codes: the 8-bit table
    // lookups' slow path).
    let grey = [
        ("1.2.840.10008.1.2.4.51", "grey12", [0u8, 39, 23, 2], 85u8),
        ("1.2.840.10008.1.2.4.51", "grey12", [1, 32, 16, 2], 20),
        ("1.2.840.10008.1.2.4.51", "grey12", [2, 7, 7, 2], 100),
        ("1.2.840.10008.1.2.4.50", "grey8", [0, 39, 23, 0], 30),
        ("1.2.840.10008.1.2.4.50", "grey8", [1, 8, 12, 0], 100),
    ];
    for (n, (uid, name, h, quality)) in grey.into_iter().enumerate() {
        let codec = dicomfast_codec::registry::by_uid(uid)
            .and_then(|ts| ts.codec)
            .expect("libjpeg-turbo");
        let (fi, _) = jpeg_bands_layout(h);
        let mut src = frame(&fi, 600 + n as u64);
        if fi.bits_allocated == 16 {
            // 12-bit samples: the frame's 16-bit values kept to 0..4095.
            src = src
                .chunks_exact(2)
                .flat_map(|v| (u16::from_le_bytes([v[0], v[1]]) & 0x0FFF).to_le_bytes())
                .collect();
        }
        let params = EncodeParams::default().with_quality(quality);
        let mut stream = Vec::new();
        let len = codec
            .encode_in(&src, &fi, &params, &mut stream)
            .expect("JPEG encode");
        stream.truncate(len);
        let whole = jpeg_whole(&stream, &fi).expect("the grey frame decodes");
        seeds.push(band_seed(format!("{name}_{n}"), h, &stream, whole));
    }
    seeds
}

fn opts(predictor: u8, restart_interval: u16, interleaved: bool) -> EncodeOptions {
    EncodeOptions {
        predictor,
        point_transform: 0,
        restart_interval,
        interleaved,
    }
}

#[test]
fn seeds_decode_through_the_targets_paths() {
    let all = seeds();
    for s in &all {
        let h: [u8; 4] = s.data[..4].try_into().unwrap();
        let body = &s.data[4..];
        let (fi, decoded) = match s.target {
            "rle_decode" => {
                let fi = rle_layout(h);
                let mut out = vec![0u8; frame_size_bytes(&fi)];
                (fi, rle::decode_frame(body, &fi, &mut out).map(|()| out))
            }
            "jpeg_decode" => {
                let fi = jpeg_layout(h);
                let mut out = vec![0u8; frame_size_bytes(&fi)];
                (fi, jpeg::decode_frame(body, &fi, &mut out).map(|()| out))
            }
            #[cfg(all(feature = "jpeg-dct", feature = "parallel"))]
            "jpeg_bands" => {
                let (fi, threads) = jpeg_bands_layout(h);
                let mut out = vec![0u8; frame_size_bytes(&fi)];
                match dicomfast_codec::jpeg_dct::bands::decode(body, &fi, &mut out, threads) {
                    Some(banded) => (fi, banded.map(|()| out)),
                    // The grey seeds are coded whole, for the target's other checks; the
                    // 8-bit ones are our entropy decoder's.
                    None if s.name.starts_with("grey8") => {
                        let (rows, cols) = (fi.rows as usize, fi.columns as usize);
                        let ours =
                            dicomfast_codec::jpeg_dct::turbojpeg_alone::grey8(body, rows, cols)
                                .unwrap_or_else(|| panic!("{}: left to libjpeg-turbo", s.name));
                        (fi, Ok(ours))
                    }
                    None if s.name.starts_with("grey12") => (fi, jpeg_whole(body, &fi)),
                    None => panic!("{}: not decoded in bands", s.name),
                }
            }
            _ => continue,
        };
        let out = decoded.unwrap_or_else(|e| panic!("{} ({fi:?}): {e}", s.name));
        assert!(
            out == s.frame,
            "{} ({fi:?}) decodes to another frame",
            s.name
        );
    }
    if let Some(dir) = std::env::var_os("DICOMFAST_FUZZ_SEEDS") {
        let dir = std::path::PathBuf::from(dir);
        for s in &all {
            let d = dir.join(s.target);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(&s.name), &s.data).unwrap();
        }
        eprintln!("wrote {} seeds under {}", all.len(), dir.display());
    }
}
