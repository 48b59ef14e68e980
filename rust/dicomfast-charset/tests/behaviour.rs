//! Behaviour beyond the standard's examples: resets at delimiters, the fast
//! path, tolerances, unrepresentable characters, and no panics on any input.

use dicomfast_charset::{CharacterSet, CharsetError, TextKind};

const KINDS: [TextKind; 3] = [
    TextKind::PersonName,
    TextKind::MultiValued,
    TextKind::SingleValued,
];

fn all_sets() -> Vec<CharacterSet> {
    let lists: &[&[&str]] = &[
        &[],
        &["ISO_IR 100"],
        &["ISO_IR 101"],
        &["ISO_IR 109"],
        &["ISO_IR 110"],
        &["ISO_IR 144"],
        &["ISO_IR 127"],
        &["ISO_IR 126"],
        &["ISO_IR 138"],
        &["ISO_IR 148"],
        &["ISO_IR 203"],
        &["ISO_IR 13"],
        &["ISO_IR 166"],
        &["ISO_IR 192"],
        &["GB18030"],
        &["GBK"],
        &["ISO 2022 IR 6"],
        &["ISO 2022 IR 100"],
        &["", "ISO 2022 IR 87"],
        &["ISO 2022 IR 13", "ISO 2022 IR 87"],
        &["", "ISO 2022 IR 87", "ISO 2022 IR 159"],
        &["", "ISO 2022 IR 149"],
        &["", "ISO 2022 IR 58"],
        &["ISO 2022 IR 100", "ISO 2022 IR 144", "ISO 2022 IR 126"],
        &[
            "ISO 2022 IR 6",
            "ISO 2022 IR 87",
            "ISO 2022 IR 149",
            "ISO 2022 IR 58",
            "ISO 2022 IR 166",
        ],
    ];
    lists
        .iter()
        .map(|l| CharacterSet::from_terms(l).expect("valid"))
        .collect()
}

#[test]
fn ascii_is_identity_everywhere() {
    let text = "Doe^John\\Smith=X 1.2 ~{}|\r\n";
    for cs in all_sets() {
        for kind in KINDS {
            assert_eq!(cs.decode(text.as_bytes(), kind), text, "{:?}", cs.terms());
            assert_eq!(cs.encode(text, kind), text.as_bytes(), "{:?}", cs.terms());
        }
    }
}

#[test]
fn backslash_resets_only_multi_valued_text() {
    // Value 1 puts Latin-1 in G1; value 2 can switch G1 to Cyrillic.
    let cs = CharacterSet::from_terms(&["ISO 2022 IR 100", "ISO 2022 IR 144"]).unwrap();
    let raw = b"\x1b-L\xbb\xee\\\xbb\xee";
    assert_eq!(cs.decode(raw, TextKind::MultiValued), "Лю\\»î");
    assert_eq!(cs.decode(raw, TextKind::PersonName), "Лю\\»î");
    assert_eq!(cs.decode(raw, TextKind::SingleValued), "Лю\\Лю");
    // `^` resets in names only.
    let raw = b"\x1b-L\xbb^\xbb";
    assert_eq!(cs.decode(raw, TextKind::PersonName), "Л^»");
    assert_eq!(cs.decode(raw, TextKind::MultiValued), "Л^Л");
    // Line ends reset in every kind of text.
    let raw = b"\x1b-L\xbb\r\n\xbb";
    assert_eq!(cs.decode(raw, TextKind::SingleValued), "Л\r\n»");
    // The encoder mirrors it: G1 designated again after the delimiter.
    assert_eq!(
        cs.encode("Лю\\Лю", TextKind::MultiValued),
        b"\x1b-L\xbb\xee\\\x1b-L\xbb\xee"
    );
    assert_eq!(
        cs.encode("Лю\\Лю", TextKind::SingleValued),
        b"\x1b-L\xbb\xee\\\xbb\xee"
    );
    assert_eq!(
        cs.encode("é\\Лé", TextKind::MultiValued),
        b"\xe9\\\x1b-L\xbb\x1b-A\xe9"
    );
}

#[test]
fn japanese_multi_valued_returns_to_ascii_before_backslash() {
    let cs = CharacterSet::from_terms(&["", "ISO 2022 IR 87"]).unwrap();
    let raw = cs.encode("山\\田", TextKind::MultiValued);
    assert_eq!(raw, b"\x1b$B;3\x1b(B\\\x1b$BED\x1b(B");
    assert_eq!(cs.decode(&raw, TextKind::MultiValued), "山\\田");
    // A space inside a Kanji run is written in ASCII.
    assert_eq!(
        cs.encode("山 田", TextKind::SingleValued),
        b"\x1b$B;3\x1b(B \x1b$BED\x1b(B"
    );
    // ...but read as SPACE either way.
    assert_eq!(
        cs.decode(b"\x1b$B;3 ED\x1b(B", TextKind::SingleValued),
        "山 田"
    );
}

#[test]
fn jis_x_0212_decodes() {
    let cs = CharacterSet::from_terms(&["", "ISO 2022 IR 87", "ISO 2022 IR 159"]).unwrap();
    let raw = b"a\x1b$(D0!\x1b$B;3\x1b(Bz";
    assert_eq!(cs.decode(raw, TextKind::SingleValued), "a丂山z");
    // Not encodable here: replaced, and reported.
    let (bytes, replaced) = cs.encode_lossy("丂山", TextKind::SingleValued);
    assert!(replaced);
    assert_eq!(bytes, b"?\x1b$B;3\x1b(B");
    assert_eq!(
        cs.try_encode("a丂", TextKind::SingleValued),
        Err(CharsetError::Unrepresentable {
            ch: '丂',
            offset: 1
        })
    );
}

#[test]
fn several_multi_byte_sets_together() {
    let cs = CharacterSet::from_terms(&[
        "ISO 2022 IR 6",
        "ISO 2022 IR 87",
        "ISO 2022 IR 149",
        "ISO 2022 IR 58",
    ])
    .unwrap();
    // Kanji go to JIS X 0208 (declared first), Hangul to KS X 1001, and a
    // simplified-only Hanzi to GB 2312.
    let text = "山田=홍길동=张";
    let raw = cs.try_encode(text, TextKind::PersonName).unwrap();
    assert_eq!(
        raw,
        b"\x1b$B;3ED\x1b(B=\x1b$)C\xc8\xab\xb1\xe6\xb5\xbf=\x1b$)A\xd5\xc5"
    );
    assert_eq!(cs.decode(&raw, TextKind::PersonName), text);
}

#[test]
fn katakana_and_kanji_share_a_value() {
    let cs = CharacterSet::from_terms(&["ISO 2022 IR 13", "ISO 2022 IR 87"]).unwrap();
    let raw = cs.encode("ﾔﾏﾀﾞ山ﾀ", TextKind::SingleValued);
    // G1 keeps the Katakana while G0 holds JIS X 0208.
    assert_eq!(raw, b"\xd4\xcf\xc0\xde\x1b$B;3\xc0\x1b(J");
    assert_eq!(cs.decode(&raw, TextKind::SingleValued), "ﾔﾏﾀﾞ山ﾀ");
}

#[test]
fn gb_trail_byte_backslash_is_not_a_delimiter() {
    // '乗' is 0x81 0x5C in GBK and GB18030.
    for term in ["GBK", "GB18030"] {
        let cs = CharacterSet::from_terms(&[term]).unwrap();
        assert_eq!(
            cs.decode(b"\x81\x5c\\\xca\xae", TextKind::MultiValued),
            "乗\\十"
        );
        assert_eq!(
            cs.encode("乗\\十", TextKind::MultiValued),
            b"\x81\x5c\\\xca\xae"
        );
    }
}

#[test]
fn gb18030_is_complete_gbk_is_not() {
    let gb18030 = CharacterSet::from_terms(&["GB18030"]).unwrap();
    let raw = gb18030.try_encode("a😀", TextKind::SingleValued).unwrap();
    // Python 3.11: "😀".encode("gb18030") == b"\x949\xfc6".
    assert_eq!(raw, b"a\x94\x39\xfc\x36");
    assert_eq!(gb18030.decode(&raw, TextKind::SingleValued), "a😀");
    let gbk = CharacterSet::from_terms(&["GBK"]).unwrap();
    // No HTML numeric character reference sneaks in.
    assert_eq!(
        gbk.encode_lossy("a😀", TextKind::SingleValued),
        (b"a?".to_vec(), true)
    );
}

#[test]
fn default_repertoire() {
    let cs = CharacterSet::default();
    // Undeclared Latin-1 is read as Latin-1 (as pydicom does).
    assert_eq!(cs.decode(b"J\xe9r\xf4me", TextKind::PersonName), "Jérôme");
    // ...but never written.
    assert_eq!(
        cs.encode_lossy("Jérôme", TextKind::PersonName),
        (b"J?r?me".to_vec(), true)
    );
    assert!(matches!(
        cs.try_encode("Jérôme", TextKind::PersonName),
        Err(CharsetError::Unrepresentable {
            ch: 'é', offset: 1
        })
    ));
}

#[test]
fn utf8_invalid_bytes_are_replaced() {
    let cs = CharacterSet::from_terms(&["ISO_IR 192"]).unwrap();
    assert_eq!(
        cs.decode(b"a\xff\xe7\x8e", TextKind::SingleValued),
        "a\u{FFFD}\u{FFFD}"
    );
}

#[test]
fn malformed_iso2022_is_replaced_not_fatal() {
    let cs = CharacterSet::from_terms(&["", "ISO 2022 IR 87", "ISO 2022 IR 149"]).unwrap();
    let k = TextKind::PersonName;
    // Unknown escape: one U+FFFD, then carry on.
    assert_eq!(cs.decode(b"a\x1b%Gb", k), "a\u{FFFD}b");
    // ESC at the very end, and a truncated sequence.
    assert_eq!(cs.decode(b"a\x1b", k), "a\u{FFFD}");
    assert_eq!(cs.decode(b"a\x1b$)", k), "a\u{FFFD}");
    // Odd byte count in a JIS X 0208 run.
    assert_eq!(cs.decode(b"\x1b$B;", k), "\u{FFFD}");
    // Lone KS X 1001 lead byte, and a 0xA0 where a 94x94 set is in G1.
    assert_eq!(cs.decode(b"\x1b$)C\xb1", k), "\u{FFFD}");
    assert_eq!(cs.decode(b"\x1b$)C\xa0a", k), "\u{FFFD}a");
    // Unassigned JIS X 0208 cell.
    assert_eq!(cs.decode(b"\x1b$B\x7e\x7e\x1b(B", k), "\u{FFFD}");
}

#[test]
fn korean_designated_once_per_value_still_decodes() {
    // pydicom 3.0 writes LT with one designation at the start; PS3.5 wants
    // one per line.  Both decode.
    let cs = CharacterSet::from_terms(&["", "ISO 2022 IR 149"]).unwrap();
    let raw = b"\x1b$)CA \xb1\xe6\xb5\xbf.\r\nB \xb1\xe6\xb5\xbf.";
    assert_eq!(cs.decode(raw, TextKind::SingleValued), "A 길동.\r\nB 길동.");
}

#[test]
fn lenient_construction_is_usable() {
    let (cs, warnings) = CharacterSet::from_value_lenient(b"ISO_IR 13\\ISO 2022 IR 87");
    assert_eq!(warnings.len(), 1);
    assert_eq!(
        cs.decode(b"\xd4\x1b$B;3\x1b(J", TextKind::PersonName),
        "ﾔ山"
    );
    let (cs, warnings) = CharacterSet::from_terms_lenient(&["WINDOWS-1252"]);
    assert!(matches!(warnings[..], [CharsetError::UnknownTerm { .. }]));
    assert_eq!(cs.decode(b"\xe9", TextKind::SingleValued), "é");
}

/// Tiny deterministic generator (xorshift64*), so the test needs no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_bytes_never_panic() {
    // Bias towards the bytes that drive the state machine.
    const INTERESTING: &[u8] =
        b"\x1b$()-BJICADLGFHMbT@\\^=\r\n\t \x80\x8f\xa0\xa1\xb1\xd4\xfe\xff;3ED";
    let sets = all_sets();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..800 {
        let len = rng.below(40);
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                if rng.below(2) == 0 {
                    INTERESTING[rng.below(INTERESTING.len())]
                } else {
                    rng.next() as u8
                }
            })
            .collect();
        for cs in &sets {
            for kind in KINDS {
                let s = cs.decode(&bytes, kind);
                // Whatever came out can be written back without panicking.
                let _ = cs.encode_lossy(&s, kind);
            }
        }
    }
}

#[test]
fn encode_then_decode_gives_the_text_back() {
    const ALPHABET: &[char] = &[
        'a', 'Z', ' ', '^', '=', '\\', '\r', '\n', '\t', 'é', 'Ä', 'ß', 'Ł', 'Л', 'ю', 'Δ', 'ש',
        'ق', 'İ', '€', 'ก', 'ﾔ', 'ﾞ', '山', '田', 'や', 'ア', '홍', '길', '洪', '张', '东', '中',
        '😀', '丂',
    ];
    let sets = all_sets();
    let mut rng = Rng(42);
    for _ in 0..500 {
        let len = rng.below(12);
        let text: String = (0..len)
            .map(|_| ALPHABET[rng.below(ALPHABET.len())])
            .collect();
        for cs in &sets {
            for kind in KINDS {
                let (bytes, replaced) = cs.encode_lossy(&text, kind);
                let back = cs.decode(&bytes, kind);
                if replaced {
                    assert_eq!(
                        back.chars().count(),
                        text.chars().count(),
                        "{:?} {text:?}",
                        cs.terms()
                    );
                } else {
                    assert_eq!(back, text, "{:?} {kind:?} {bytes:x?}", cs.terms());
                }
                match cs.try_encode(&text, kind) {
                    Ok(strict) => {
                        assert!(!replaced);
                        assert_eq!(strict, bytes);
                    }
                    Err(CharsetError::Unrepresentable { .. }) => assert!(replaced),
                    Err(e) => panic!("unexpected {e}"),
                }
            }
        }
    }
}

/// KS X 1001:1998 Annex 3: a syllable outside the set's 2,350 is written and read as its
/// make-up sequence (as Python's euc_kr codec and pydicom do); a filler written as a
/// letter before letters it would make up is kept apart by a redundant escape sequence,
/// so each text reads back as written.
#[test]
fn hangul_make_up_sequences_round_trip() {
    let cs = CharacterSet::from_terms(&["", "ISO 2022 IR 149"]).unwrap();
    let made_up = b"Kim=\x1b$)C\xa4\xd4\xa4\xb7\xa4\xd2\xa4\xaf";
    assert_eq!(cs.decode(made_up, TextKind::PersonName), "Kim=읦");
    assert_eq!(cs.encode("Kim=읦", TextKind::PersonName), made_up);
    for text in [
        "Kim=\u{3164}ㅇㅢㄿ",
        "\u{3164}ㄱㅏ\u{3164}ㄴ",
        "김읦\u{3164}ㅎㅐㅇ",
        // the charset fuzz target's find: a filler, two letters, then a syllable written
        // as its own make-up sequence (whose first code reads as "no final")
        "Kim=Kim=\u{3164}ㅇㅢ읦\u{3164}ㄱ",
    ] {
        let bytes = cs.encode(text, TextKind::SingleValued);
        assert_eq!(
            cs.decode(&bytes, TextKind::SingleValued),
            text,
            "{bytes:x?}"
        );
    }
    // A make-up sequence cut short, or with letters that make no syllable, reads as letters.
    let cut = b"\x1b$)C\xa4\xd4\xa4\xb7\xa4\xd2";
    assert_eq!(cs.decode(cut, TextKind::SingleValued), "\u{3164}ㅇㅢ");
}
