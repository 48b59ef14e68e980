use super::*;

/// A small deterministic generator (xorshift).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn frame(samples: &[u8], width: u32, height: u32, bits: u32) -> Frame<'_> {
    Frame {
        width,
        height,
        components: 1,
        bit_depth: bits,
        signed: false,
        bytes_per_sample: if bits > 8 { 2 } else { 1 },
        samples,
    }
}

const LOSSLESS: Coding = Coding {
    reversible: true,
    colour_transform: false,
    decompositions: 5,
    qstep: 0.0,
    progression: Progression::Lrcp,
    tile_part_per_resolution: false,
    threads: 1,
};

#[test]
fn writes_a_part_15_codestream() {
    const { assert!(AVAILABLE, "build.rs found no VLC tables") };
    let samples: Vec<u8> = (0..64u32 * 48 * 2).map(|i| (i * 7 % 251) as u8).collect();
    let mut out = Vec::new();
    encode(&frame(&samples, 64, 48, 12), &LOSSLESS, &mut out).unwrap();
    assert!(out.starts_with(&[0xFF, 0x4F, 0xFF, 0x51]) && out.ends_with(&[0xFF, 0xD9]));
    // Rsiz says Part 15; a CAP marker follows SIZ; COD's code-block style is HT.
    assert_eq!(&out[6..8], &[0x40, 0x00]);
    let cap = 2 + 2 + 38 + 3;
    assert_eq!(&out[cap..cap + 2], &[0xFF, 0x50]);
    let cod = cap + 2 + 8;
    assert_eq!(&out[cod..cod + 2], &[0xFF, 0x52]);
    assert_eq!(out[cod + 12], 0x40);
    // No marker code inside the tile's data.
    let sod = out.windows(2).position(|w| w == [0xFF, 0x93]).unwrap();
    let body = &out[sod + 2..out.len() - 2];
    assert!(body.windows(2).all(|w| !(w[0] == 0xFF && w[1] > 0x8F)));
}

#[test]
fn refuses_what_it_cannot_code() {
    let samples = [0u8; 4];
    let mut out = Vec::new();
    assert!(encode(&frame(&samples[..3], 2, 2, 8), &LOSSLESS, &mut out).is_err());
    let lossy = Coding {
        reversible: false,
        qstep: 0.5,
        ..LOSSLESS
    };
    assert!(encode(&frame(&samples, 2, 2, 8), &lossy, &mut out).is_err());
    let fine = Coding {
        qstep: MAX_QSTEP,
        ..lossy
    };
    encode(&frame(&samples, 2, 2, 8), &fine, &mut out).unwrap();
    let huge = Frame {
        width: MAX_SIDE + 1,
        ..frame(&samples, 2, 2, 8)
    };
    assert!(encode(&huge, &LOSSLESS, &mut out).is_err());
}

#[test]
fn band_steps_code_back_to_themselves() {
    for step in [1e-5, 0.001, 0.013, 0.2, 0.9] {
        for gain in 0..3 {
            let s = BandStep::irreversible(step, gain);
            let rel = s.absolute();
            assert!((rel / step - 1.0).abs() < 1e-3, "{step} {gain} {rel}");
        }
    }
}

#[test]
fn threads_make_the_same_codestream() {
    let samples: Vec<u8> = (0..300u32 * 277 * 2)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let f = frame(&samples, 300, 277, 16);
    let mut one = Vec::new();
    encode(&f, &LOSSLESS, &mut one).unwrap();
    for threads in [2, 3, 7, 64] {
        let mut many = Vec::new();
        encode(
            &f,
            &Coding {
                threads,
                ..LOSSLESS
            },
            &mut many,
        )
        .unwrap();
        assert!(one == many, "{threads} threads");
    }
}
