//! Specific Character Set handling on any bytes: the first line is the raw
//! (0008,0005) value, the rest a text value decoded as each kind of text.
//! Decoding never panics; what decodes re-encodes, and where the encoder
//! reports no loss (and the text holds no ISO 2022 control bytes, which the
//! ASCII fast path passes through) it decodes back to the same text.
#![no_main]

use dicomfast_charset::{CharacterSet, TextKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (terms, text) = data.split_at(split);
    let text = text.get(1..).unwrap_or(&[]);
    let (cs, _warnings) = CharacterSet::from_value_lenient(terms);
    let _ = CharacterSet::from_value(terms);
    for kind in [
        TextKind::PersonName,
        TextKind::MultiValued,
        TextKind::SingleValued,
    ] {
        let s = cs.decode(text, kind);
        let (bytes, lossy) = cs.encode_lossy(&s, kind);
        let strict = cs.try_encode(&s, kind);
        assert_eq!(
            strict.is_err(),
            lossy,
            "try_encode and encode_lossy disagree on {s:?}"
        );
        if !lossy && !s.contains(['\x1b', '\x0e', '\x0f']) {
            let again = cs.decode(&bytes, kind);
            assert_eq!(again, s, "{:?} {kind:?}: {bytes:x?}", cs.terms());
        }
    }
});
