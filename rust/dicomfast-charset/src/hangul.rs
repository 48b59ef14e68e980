//! KS X 1001:1998 Annex 3 make-up sequences: a modern Hangul syllable that is not one of
//! the set's 2,350 precomposed ones, written as the Hangul filler followed by its initial
//! consonant, its vowel and its final consonant (or the filler for none), each a letter of
//! the set's row 4: eight bytes in the EUC form (GR) that ISO 2022 IR 149 uses in DICOM.
//! Python's `euc_kr` codec, and so pydicom, writes and reads them; without them a name
//! such as "읦" could not be written in IR 149 at all, and would be read as four letters.
//!
//! The letters' order is Unicode's (the Hangul Compatibility Jamo block, U+3131-U+3163,
//! which is row 4 of KS X 1001 in the same order; the syllable block's arithmetic,
//! U+AC00 + (initial x 21 + vowel) x 28 + final).

/// The lead byte of row 4 (Hangul letters) in the EUC form.
const ROW: u8 = 0xA4;
/// The Hangul filler's second byte (U+3164).
const FILLER: u8 = 0xD4;
/// Row 4's consonants, 0xA4A1-0xA4BE: U+3131 onwards.
const FIRST_CONSONANT: u8 = 0xA1;
const LAST_CONSONANT: u8 = 0xBE;
/// Row 4's vowels, 0xA4BF-0xA4D3, in the syllable block's vowel order.
const FIRST_VOWEL: u8 = 0xBF;
const LAST_VOWEL: u8 = 0xD3;
const SYLLABLES: u32 = 0xAC00;
const VOWELS: u32 = 21;
const FINALS: u32 = 28;

/// The 19 initial consonants in the syllable block's order, as compatibility letters.
const INITIALS: [char; 19] = [
    'ㄱ', 'ㄲ', 'ㄴ', 'ㄷ', 'ㄸ', 'ㄹ', 'ㅁ', 'ㅂ', 'ㅃ', 'ㅅ', 'ㅆ', 'ㅇ', 'ㅈ', 'ㅉ', 'ㅊ', 'ㅋ',
    'ㅌ', 'ㅍ', 'ㅎ',
];
/// The 27 final consonants in the syllable block's order (final 1 onwards).
const FINAL_LETTERS: [char; 27] = [
    'ㄱ', 'ㄲ', 'ㄳ', 'ㄴ', 'ㄵ', 'ㄶ', 'ㄷ', 'ㄹ', 'ㄺ', 'ㄻ', 'ㄼ', 'ㄽ', 'ㄾ', 'ㄿ', 'ㅀ', 'ㅁ',
    'ㅂ', 'ㅄ', 'ㅅ', 'ㅆ', 'ㅇ', 'ㅈ', 'ㅊ', 'ㅋ', 'ㅌ', 'ㅍ', 'ㅎ',
];

/// Row 4's consonant `b` (second byte) as a compatibility letter.
fn consonant(b: u8) -> Option<char> {
    (FIRST_CONSONANT..=LAST_CONSONANT)
        .contains(&b)
        .then(|| char::from_u32(0x3131 + u32::from(b - FIRST_CONSONANT)))
        .flatten()
}

/// The second byte of a compatibility consonant in row 4.
fn consonant_byte(c: char) -> u8 {
    FIRST_CONSONANT + (u32::from(c) - 0x3131) as u8
}

/// The syllable an eight-byte make-up sequence at the start of `seq` stands for: the
/// filler, then an initial, a vowel and a final (or the filler), each `0xA4` and its
/// letter; `None` for anything else (the bytes are then read as they are, letter by
/// letter).
pub(crate) fn decode(seq: &[u8]) -> Option<char> {
    let &[ROW, FILLER, ROW, i, ROW, v, ROW, f, ..] = seq else {
        return None;
    };
    let initial = INITIALS.iter().position(|&c| Some(c) == consonant(i))? as u32;
    if !(FIRST_VOWEL..=LAST_VOWEL).contains(&v) {
        return None;
    }
    let vowel = u32::from(v - FIRST_VOWEL);
    let fin = if f == FILLER {
        0
    } else {
        FINAL_LETTERS
            .iter()
            .position(|&c| Some(c) == consonant(f))? as u32
            + 1
    };
    char::from_u32(SYLLABLES + (initial * VOWELS + vowel) * FINALS + fin)
}

/// A modern Hangul syllable as its make-up sequence ([`decode`]'s inverse); `None` for
/// any other character.
pub(crate) fn encode(c: char) -> Option<[u8; 8]> {
    let k = u32::from(c).checked_sub(SYLLABLES)?;
    if k >= 19 * VOWELS * FINALS {
        return None;
    }
    let (initial, vowel, fin) = (k / (VOWELS * FINALS), k / FINALS % VOWELS, k % FINALS);
    let f = if fin == 0 {
        FILLER
    } else {
        consonant_byte(FINAL_LETTERS[fin as usize - 1])
    };
    Some([
        ROW,
        FILLER,
        ROW,
        consonant_byte(INITIALS[initial as usize]),
        ROW,
        FIRST_VOWEL + vowel as u8,
        ROW,
        f,
    ])
}

/// Whether a Hangul filler followed by characters whose codes begin with `next` (the
/// first two bytes of each of the next three, in EUC form) would read as a make-up
/// sequence ([`decode`]): an encoder writing a filler there as a letter breaks the
/// sequence (with a redundant escape sequence), so that it reads back as it was. A
/// syllable written as its own make-up sequence begins with the filler's code, which
/// reads as "no final" in the third place.
pub(crate) fn would_make_up(next: [[u8; 2]; 3]) -> bool {
    let [[a, b], [c, d], [e, f]] = next;
    decode(&[ROW, FILLER, a, b, c, d, e, f]).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_syllable_makes_up_and_back() {
        for c in (0xAC00..=0xD7A3).filter_map(char::from_u32) {
            let seq = encode(c).unwrap();
            assert_eq!(decode(&seq), Some(c), "{c}");
        }
        assert_eq!(encode('A'), None);
        assert_eq!(encode('\u{D7A4}'), None);
    }

    #[test]
    fn the_letters_are_row_four_in_unicode_order() {
        // KS X 1001 0xA4A1 is U+3131, 0xA4BE U+314E, 0xA4BF U+314F, 0xA4D3 U+3163,
        // 0xA4D4 the filler U+3164 (encoding_rs's EUC-KR says the same).
        for (b, u) in [
            (0xA1u8, 0x3131u32),
            (0xBE, 0x314E),
            (0xBF, 0x314F),
            (0xD3, 0x3163),
            (0xD4, 0x3164),
        ] {
            let pair = [ROW, b];
            let (s, _, bad) = encoding_rs::EUC_KR.decode(&pair);
            assert!(!bad);
            assert_eq!(s.chars().next().map(u32::from), Some(u));
        }
        // 읦: ㅇ ㅢ ㄿ, as Python's euc_kr codec writes it.
        assert_eq!(
            encode('읦'),
            Some([0xA4, 0xD4, 0xA4, 0xB7, 0xA4, 0xD2, 0xA4, 0xAF])
        );
    }

    #[test]
    fn codes_after_a_filler_that_would_make_up() {
        let (o, ui, rieul_phieuph) = ([ROW, 0xB7], [ROW, 0xD2], [ROW, 0xAF]);
        assert!(would_make_up([o, ui, rieul_phieuph]));
        // a syllable written as its make-up sequence starts with the filler: "no final"
        assert!(would_make_up([o, ui, [ROW, FILLER]]));
        assert!(!would_make_up([[ROW, 0xA3], ui, o])); // ㄳ is no initial
        assert!(!would_make_up([o, ui, [0xB0, 0xA1]])); // 가 is no letter
    }

    #[test]
    fn broken_sequences_are_not_syllables() {
        let good = [0xA4, 0xD4, 0xA4, 0xB7, 0xA4, 0xD2, 0xA4, 0xAF];
        assert!(decode(&good[..7]).is_none());
        let mut no_initial = good;
        no_initial[3] = FILLER; // the filler for an initial
        assert!(decode(&no_initial).is_none());
        let mut cluster_initial = good;
        cluster_initial[3] = 0xA3; // ㄳ: a final only
        assert!(decode(&cluster_initial).is_none());
        let mut consonant_vowel = good;
        consonant_vowel[5] = 0xA1;
        assert!(decode(&consonant_vowel).is_none());
        let mut double_final = good;
        double_final[7] = 0xA8; // ㄸ: an initial only
        assert!(decode(&double_final).is_none());
    }
}
