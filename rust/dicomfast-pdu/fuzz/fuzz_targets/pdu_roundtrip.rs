//! read → write → read must agree, for PDUs and for DIMSE command sets.
#![no_main]

use dicomfast_pdu::{read_pdu, read_pdu_ref, CommandSet, Decoded};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let owned = read_pdu(data, 0);
    let borrowed = read_pdu_ref(data, 0);
    match (&owned, &borrowed) {
        (Ok(Decoded::Complete(p, n)), Ok(Decoded::Complete(r, m))) => {
            assert_eq!(n, m);
            assert_eq!(&r.to_owned(), p);
            let bytes = p.to_bytes().expect("a decoded PDU must re-encode");
            let (again, used) = read_pdu(&bytes, 0)
                .expect("re-encoded PDU must decode")
                .complete()
                .expect("re-encoded PDU is complete");
            assert_eq!(used, bytes.len());
            assert_eq!(&again, p);
        }
        (Ok(Decoded::NeedMore(a)), Ok(Decoded::NeedMore(b))) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("owned and borrowed readers disagree: {owned:?} vs {borrowed:?}"),
    }
    if let Ok(cs) = CommandSet::decode(data) {
        if let Ok(bytes) = cs.encode() {
            let again = CommandSet::decode(&bytes).expect("re-encoded command set must decode");
            assert_eq!(again, cs);
        }
    }
});
