//! Replays every fixture (captured PDUs and fuzz regressions) through the
//! checks of the `pdu_roundtrip` fuzz target.

use dicomfast_pdu::*;
use std::path::Path;

fn check(data: &[u8]) {
    let owned = read_pdu(data, 0);
    let borrowed = read_pdu_ref(data, 0);
    match (&owned, &borrowed) {
        (Ok(Decoded::Complete(p, n)), Ok(Decoded::Complete(r, m))) => {
            assert_eq!(n, m);
            assert_eq!(&r.to_owned(), p);
            let bytes = p.to_bytes().unwrap();
            let (again, used) = read_pdu(&bytes, 0).unwrap().complete().unwrap();
            assert_eq!(used, bytes.len());
            assert_eq!(&again, p);
        }
        (Ok(Decoded::NeedMore(a)), Ok(Decoded::NeedMore(b))) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("readers disagree: {owned:?} vs {borrowed:?}"),
    }
    if let Ok(cs) = CommandSet::decode(data) {
        if let Ok(bytes) = cs.encode() {
            assert_eq!(CommandSet::decode(&bytes).unwrap(), cs);
        }
    }
}

#[test]
fn replay_fixtures_and_regressions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut n = 0;
    for dir in [root.clone(), root.join("regressions")] {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() && p.extension().is_none_or(|x| x != "md") {
                check(&std::fs::read(&p).unwrap());
                n += 1;
            }
        }
    }
    assert!(n >= 6, "expected the captured DCMTK fixtures");
}
