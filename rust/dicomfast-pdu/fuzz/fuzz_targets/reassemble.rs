//! Fragment a body at an arbitrary maximum PDU length and reassemble it;
//! also feed the input as a PDU stream into a reassembler (must not panic).
#![no_main]

use dicomfast_pdu::{fragment_into, read_pdu_ref, Decoded, MessagePart, PduRef, Reassembler};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    // Part 1: fragmentation round trip.
    let max = u32::from(u16::from_be_bytes([data[0], data[1]]));
    let pc = data[2] | 1;
    let body = &data[3..];
    let mut wire = Vec::new();
    if fragment_into(pc, false, body, max, &mut wire).is_ok() {
        // Data needs a preceding command; fake one with no parsable data set type.
        let mut r = Reassembler::default();
        r.push(dicomfast_pdu::PdvRef {
            pc_id: pc,
            is_command: true,
            is_last: true,
            data: &[],
        })
        .unwrap();
        let mut got = None;
        let mut pos = 0;
        while pos < wire.len() {
            let Ok(Decoded::Complete(PduRef::PData(p), n)) = read_pdu_ref(&wire[pos..], max) else {
                panic!("fragment produced an unreadable PDU");
            };
            for v in p.pdvs() {
                if let Some(m) = r.push(v).unwrap() {
                    assert!(got.is_none());
                    assert_eq!(m.part, MessagePart::Data);
                    got = Some(m.bytes);
                }
            }
            pos += n;
        }
        assert_eq!(got.as_deref(), Some(body));
    }
    // Part 2: arbitrary PDU stream into a bounded reassembler.
    let mut r = Reassembler::new(1 << 16);
    let mut pos = 0;
    while let Ok(Decoded::Complete(p, n)) = read_pdu_ref(&data[pos..], 1 << 16) {
        if let PduRef::PData(p) = p {
            for v in p.pdvs() {
                let _ = r.push(v);
            }
        }
        pos += n;
    }
});
