//! Decodes Patient's Name (0010,0010) of pydicom's character-set test files
//! (`chr*.dcm`) and compares it with what pydicom 3.0.2 made of it.
//!
//! The oracle is pydicom 3.0.2:
//! `str(pydicom.dcmread(path).PatientName)` (for `chrSQEncoding*`, the name
//! in the item of (0032,1064)).  pydicom's `str()` drops the padding and
//! empty trailing component groups, so the decoded value is trimmed alike.
//!
//! The files are looked for in `$DICOMFAST_CHARSET_FILES`, then in the shared
//! corpus (`../../../shared/corpus` from this crate) under `public/pydicom/`
//! and `public/pydicom/charset_files/`.  Without any of them the test says
//! so and passes.

use std::path::{Path, PathBuf};

use dicomfast_charset::{CharacterSet, TextKind};

/// (file stem, Patient's Name as pydicom 3.0.2 decodes it)
const EXPECTED: &[(&str, &str)] = &[
    ("chrArab", "قباني^لنزار"),
    ("chrFren", "Buc^Jérôme"),
    ("chrFrenMulti", "Buc^Jérôme"),
    ("chrGerm", "Äneas^Rüdiger"),
    ("chrGreek", "Διονυσιος"),
    ("chrH31", "Yamada^Tarou=山田^太郎=やまだ^たろう"),
    ("chrH32", "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"),
    ("chrHbrw", "שרון^דבורה"),
    ("chrI2", "Hong^Gildong=洪^吉洞=홍^길동"),
    ("chrJapMulti", "やまだ^たろう"),
    ("chrJapMultiExplicitIR6", "やまだ^たろう"),
    ("chrKoreanMulti", "김희중"),
    ("chrRuss", "Люкceмбypг"),
    ("chrSQEncoding", "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"),
    ("chrSQEncoding1", "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"),
    ("chrX1", "Wang^XiaoDong=王^小東"),
    ("chrX2", "Wang^XiaoDong=王^小东"),
];

fn candidate_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("DICOMFAST_CHARSET_FILES") {
        dirs.push(PathBuf::from(d));
    }
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    dirs.push(corpus.join("public/pydicom"));
    dirs.push(corpus.join("public/pydicom/charset_files"));
    dirs
}

/// The directory holding the most of the expected files, if any.
fn find_dir() -> Option<PathBuf> {
    candidate_dirs()
        .into_iter()
        .map(|d| {
            let n = EXPECTED
                .iter()
                .filter(|(stem, _)| d.join(format!("{stem}.dcm")).is_file())
                .count();
            (n, d)
        })
        .filter(|&(n, _)| n > 0)
        .max_by_key(|&(n, _)| n)
        .map(|(_, d)| d)
}

/// Test-only scanner for explicit VR little endian files: the value of the
/// last element `tag` with VR `vr` (2-byte length form), searching after the
/// 128-byte preamble and "DICM".  It matches raw bytes, which is enough for
/// these small files; it is not a DICOM parser.
fn find_element(
    file: &[u8],
    group: u16,
    element: u16,
    vr: &[u8; 2],
    before: usize,
) -> Option<(usize, Vec<u8>)> {
    let mut key = Vec::with_capacity(6);
    key.extend_from_slice(&group.to_le_bytes());
    key.extend_from_slice(&element.to_le_bytes());
    key.extend_from_slice(vr);
    let hay = file.get(132..before)?;
    let pos = hay.windows(6).rposition(|w| w == key.as_slice())? + 132;
    let len_bytes = file.get(pos + 6..pos + 8)?;
    let len = usize::from(u16::from_le_bytes([len_bytes[0], len_bytes[1]]));
    let value = file.get(pos + 8..pos + 8 + len)?.to_vec();
    Some((pos, value))
}

fn trim_like_pydicom(s: &str) -> &str {
    s.trim_end_matches([' ', '\0']).trim_end_matches('=')
}

#[test]
fn patient_names_match_pydicom() {
    let Some(dir) = find_dir() else {
        println!(
            "note: no chr*.dcm files found (looked in {:?}); set DICOMFAST_CHARSET_FILES to a \
             directory holding pydicom's charset_files to run this test",
            candidate_dirs()
        );
        return;
    };
    let mut checked = 0;
    for &(stem, expected) in EXPECTED {
        let path = dir.join(format!("{stem}.dcm"));
        let Ok(file) = std::fs::read(&path) else {
            println!("note: {} absent, skipped", path.display());
            continue;
        };
        let (pn_pos, pn) = find_element(&file, 0x0010, 0x0010, b"PN", file.len())
            .unwrap_or_else(|| panic!("{stem}: no Patient's Name"));
        // The Specific Character Set in force is the nearest one before the
        // name (chrSQEncoding has its own in the sequence item).
        let scs = find_element(&file, 0x0008, 0x0005, b"CS", pn_pos)
            .map(|(_, v)| v)
            .unwrap_or_default();
        let cs = CharacterSet::from_value(&scs)
            .unwrap_or_else(|e| panic!("{stem}: {e} in {:?}", String::from_utf8_lossy(&scs)));
        let decoded = cs.decode(&pn, TextKind::PersonName);
        assert_eq!(trim_like_pydicom(&decoded), expected, "{stem}");
        checked += 1;
    }
    println!("checked {checked} files in {}", dir.display());
    assert!(checked > 0);
}

/// chrFrenMulti has a two-valued Other Patient Names (0010,1001).
#[test]
fn multi_valued_person_name() {
    let Some(dir) = find_dir() else {
        println!("note: no chr*.dcm files found, skipped");
        return;
    };
    let Ok(file) = std::fs::read(dir.join("chrFrenMulti.dcm")) else {
        println!("note: chrFrenMulti.dcm absent, skipped");
        return;
    };
    let (_, scs) = find_element(&file, 0x0008, 0x0005, b"CS", file.len()).expect("(0008,0005)");
    let (_, names) = find_element(&file, 0x0010, 0x1001, b"PN", file.len()).expect("(0010,1001)");
    let cs = CharacterSet::from_value(&scs).expect("ISO_IR 100");
    let decoded = cs.decode(&names, TextKind::PersonName);
    let values: Vec<&str> = decoded.trim_end().split('\\').collect();
    assert_eq!(values, ["Buc^Jérôme", "Buc^Jérôme"]);
}
