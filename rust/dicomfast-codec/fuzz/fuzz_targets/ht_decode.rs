//! Arbitrary bytes as a JPEG 2000 or HTJ2K codestream for our decoder
//! (`dicomfast_htj2k::decode`: HT and Part 1 code-blocks):
//! byte 0 picks the threads (1 or 2) and the output's sample size, the rest is the
//! codestream. Whatever it says, an error or samples, never a panic, a hang or a read
//! outside the input; and the decoded samples are the same on one thread and on two.
//! Seeds: the JPEG 2000 and HTJ2K frames of c_decode's seeds (the encoders' and the
//! corpus's).
#![no_main]

use dicomfast_htj2k::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&head, stream)) = data.split_first() else {
        return;
    };
    let Ok(cs) = decode::parse(stream) else {
        return;
    };
    let bps = if head & 1 == 1 { 2 } else { 1 };
    let n = u64::from(cs.width()) * u64::from(cs.height()) * u64::from(cs.components());
    // The frames a fuzzer makes stay small; a header may claim anything.
    if n > 1 << 20 {
        return;
    }
    let mut one = vec![0u8; n as usize * bps];
    let r1 = cs.decode(1, bps, &mut one);
    if head & 2 == 2 {
        let mut two = vec![0u8; n as usize * bps];
        let r2 = cs.decode(2, bps, &mut two);
        assert_eq!(r1.is_ok(), r2.is_ok(), "threads change the outcome: {r1:?} {r2:?}");
        if r1.is_ok() {
            assert!(one == two, "threads change the samples");
        }
    }
});
