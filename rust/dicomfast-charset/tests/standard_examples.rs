//! The worked examples of PS3.5 Annexes H (Japanese), I (Korean), J
//! (Chinese, UTF-8 and GB18030) and K (Chinese, GB 2312), decoded and
//! encoded.  The examples' trailing SPACE padding is left out of the byte
//! strings: padding is the caller's business.

use dicomfast_charset::{CharacterSet, TextKind};

fn cs(terms: &[&str]) -> CharacterSet {
    CharacterSet::from_terms(terms).expect("valid Specific Character Set")
}

/// Decodes `bytes` to `text` and encodes `text` back to exactly `bytes`.
fn both_ways(set: &CharacterSet, kind: TextKind, bytes: &[u8], text: &str) {
    assert_eq!(set.decode(bytes, kind), text, "decode");
    let (encoded, replaced) = set.encode_lossy(text, kind);
    assert!(!replaced, "nothing should need replacing");
    assert_eq!(
        encoded,
        bytes,
        "encode: got {:?}",
        String::from_utf8_lossy(&encoded)
    );
}

// PS3.5 H.3.1: ISO 2022 IR 87 with ASCII as value 1.
#[test]
fn annex_h_japanese_ir87() {
    let bytes = b"Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\
\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B";
    both_ways(
        &cs(&["", "ISO 2022 IR 87"]),
        TextKind::PersonName,
        bytes,
        "Yamada^Tarou=山田^太郎=やまだ^たろう",
    );
}

// PS3.5 H.3.2: JIS X 0201 as value 1 (half-width Katakana in G1, Romaji in
// G0, so G0 returns with ESC ( J), then JIS X 0208.
#[test]
fn annex_h_japanese_ir13_ir87() {
    let bytes = b"\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J=\
\x1b$B$d$^$@\x1b(J^\x1b$B$?$m$&\x1b(J";
    both_ways(
        &cs(&["ISO 2022 IR 13", "ISO 2022 IR 87"]),
        TextKind::PersonName,
        bytes,
        "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう",
    );
}

// PS3.5 I.2: KS X 1001 in G1, re-designated after every delimiter.
#[test]
fn annex_i_korean_person_name() {
    let bytes = b"Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\
\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf";
    both_ways(
        &cs(&["", "ISO 2022 IR 149"]),
        TextKind::PersonName,
        bytes,
        "Hong^Gildong=洪^吉洞=홍^길동",
    );
}

// PS3.5 I.2, long text: the example designates KS X 1001 at the start of
// every line that has Korean.  This encoder designates just before the
// first Korean character instead (also conformant, and what Annex K does),
// so the encoded form is checked by decoding it.
#[test]
fn annex_i_korean_long_text() {
    let set = cs(&["", "ISO 2022 IR 149"]);
    let text = "The 1st line includes 길동.\r\nThe 2nd line includes 길동, too.\r\nThe 3rd line.";
    let standard = b"\x1b$)CThe 1st line includes \xb1\xe6\xb5\xbf.\r\n\
\x1b$)CThe 2nd line includes \xb1\xe6\xb5\xbf, too.\r\nThe 3rd line.";
    assert_eq!(set.decode(standard, TextKind::SingleValued), text);
    let ours = set.encode(text, TextKind::SingleValued);
    assert_eq!(
        ours,
        b"The 1st line includes \x1b$)C\xb1\xe6\xb5\xbf.\r\n\
The 2nd line includes \x1b$)C\xb1\xe6\xb5\xbf, too.\r\nThe 3rd line."
    );
    assert_eq!(set.decode(&ours, TextKind::SingleValued), text);
}

// PS3.5 J.1: UTF-8.
#[test]
fn annex_j_utf8() {
    both_ways(
        &cs(&["ISO_IR 192"]),
        TextKind::PersonName,
        b"Wang^XiaoDong=\xe7\x8e\x8b^\xe5\xb0\x8f\xe6\x9d\xb1=",
        "Wang^XiaoDong=王^小東=",
    );
}

// PS3.5 J.2 / J.3: GB18030 person name and long text.
#[test]
fn annex_j_gb18030() {
    let set = cs(&["GB18030"]);
    both_ways(
        &set,
        TextKind::PersonName,
        b"Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab=",
        "Wang^XiaoDong=王^小东=",
    );
    both_ways(
        &set,
        TextKind::SingleValued,
        b"The first line includes\xd6\xd0\xce\xc4.\r\nThe second line includes\xd6\xd0\xce\xc4, too.\r\nThe third line.\r\n",
        "The first line includes中文.\r\nThe second line includes中文, too.\r\nThe third line.\r\n",
    );
}

// PS3.5 K.2: GB 2312 in G1 through ISO 2022 IR 58.
#[test]
fn annex_k_gb2312_person_name() {
    both_ways(
        &cs(&["", "ISO 2022 IR 58"]),
        TextKind::PersonName,
        b"Zhang^XiaoDong=\x1b$)A\xd5\xc5^\x1b$)A\xd0\xa1\xb6\xab=",
        "Zhang^XiaoDong=张^小东=",
    );
}

// PS3.5 K.3: GB 2312 long text, re-designated on every line.
#[test]
fn annex_k_gb2312_long_text() {
    both_ways(
        &cs(&["", "ISO 2022 IR 58"]),
        TextKind::SingleValued,
        b"1.\x1b$)A\xb5\xda\xd2\xbb\xd0\xd0\xce\xc4\xd7\xd6\xa1\xa3\r\n\
2.\x1b$)A\xb5\xda\xb6\xfe\xd0\xd0\xce\xc4\xd7\xd6\xa1\xa3\r\n\
3.\x1b$)A\xb5\xda\xc8\xfd\xd0\xd0\xce\xc4\xd7\xd6\xa1\xa3\r\n",
        "1.第一行文字。\r\n2.第二行文字。\r\n3.第三行文字。\r\n",
    );
}
