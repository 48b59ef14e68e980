//! P-DATA fragmentation (PS3.8 Annex E) and reassembly.

use dicomfast_pdu::*;
use proptest::prelude::*;

fn echo_rq_command() -> Vec<u8> {
    CommandSet::new()
        .with(
            tags::AFFECTED_SOP_CLASS_UID,
            CommandValue::Uid("1.2.840.10008.1.1".into()),
        )
        .with(
            tags::COMMAND_FIELD,
            CommandValue::Us(command_field::C_ECHO_RQ),
        )
        .with(tags::MESSAGE_ID, CommandValue::Us(1))
        .with(
            tags::COMMAND_DATA_SET_TYPE,
            CommandValue::Us(dimse::NO_DATA_SET),
        )
        .encode()
        .unwrap()
}

fn store_rq_command() -> Vec<u8> {
    CommandSet::new()
        .with(
            tags::COMMAND_FIELD,
            CommandValue::Us(command_field::C_STORE_RQ),
        )
        .with(tags::COMMAND_DATA_SET_TYPE, CommandValue::Us(0))
        .encode()
        .unwrap()
}

fn pdv(pc: u8, cmd: bool, last: bool, data: &[u8]) -> PdvRef<'_> {
    PdvRef {
        pc_id: pc,
        is_command: cmd,
        is_last: last,
        data,
    }
}

#[test]
fn fragment_layout_is_exact() {
    let body: Vec<u8> = (0..25u8).collect();
    // max 16 -> 10 data bytes per PDV.
    let frags: Vec<_> = fragment(5, false, &body, 16).unwrap().collect();
    assert_eq!(frags.len(), 3);
    assert_eq!(frags[0].header, [4, 0, 0, 0, 0, 16, 0, 0, 0, 12, 5, 0x00]);
    assert_eq!(frags[2].header, [4, 0, 0, 0, 0, 11, 0, 0, 0, 7, 5, 0x02]);
    assert_eq!(frags[2].data, &body[20..]);
    let frags: Vec<_> = fragment(1, true, &body, 0).unwrap().collect();
    assert_eq!(frags.len(), 1);
    assert_eq!(frags[0].header[11], 0x03);
    // Empty body: one empty last fragment.
    let frags: Vec<_> = fragment(1, false, &[], 100).unwrap().collect();
    assert_eq!(frags.len(), 1);
    assert!(frags[0].pdv().is_last && frags[0].data.is_empty());
    assert_eq!(
        fragment(1, false, &body, 6).unwrap_err(),
        PduError::MaxLengthTooSmall { max_pdu_len: 6 }
    );
    assert!(fragment(1, false, &body, 7).is_ok());
    // Owned variant agrees with the wire bytes.
    let mut wire = Vec::new();
    fragment_into(5, false, &body, 16, &mut wire).unwrap();
    let mut again = Vec::new();
    for p in fragment_pdus(5, false, &body, 16).unwrap() {
        Pdu::PData(p).encode(&mut again).unwrap();
    }
    assert_eq!(wire, again);
}

#[test]
fn reassembler_protocol_errors() {
    let echo = echo_rq_command();
    let store = store_rq_command();
    // Data before any command.
    let mut r = Reassembler::default();
    assert_eq!(
        r.push(pdv(1, false, true, b"x")),
        Err(PduError::DataBeforeCommand { pc_id: 1 })
    );
    // Context change in the middle of a command.
    let mut r = Reassembler::default();
    assert_eq!(r.push(pdv(1, true, false, &store[..4])), Ok(None));
    assert_eq!(
        r.push(pdv(3, true, true, &store[4..])),
        Err(PduError::ContextChanged {
            expected: 1,
            found: 3
        })
    );
    // Data while the command is incomplete.
    assert_eq!(
        r.push(pdv(1, false, true, b"xx")),
        Err(PduError::DataBeforeCommand { pc_id: 1 })
    );
    // The reassembler is unchanged by errors: finishing works.
    let got = r.push(pdv(1, true, true, &store[4..])).unwrap().unwrap();
    assert_eq!(
        (got.pc_id, got.part, got.bytes),
        (1, MessagePart::Command, store.clone())
    );
    assert!(!r.is_idle());
    // A data set is owed: a new command is an error, data on another context too.
    assert_eq!(
        r.push(pdv(1, true, true, &echo)),
        Err(PduError::MissingDataSet { pc_id: 1 })
    );
    assert_eq!(
        r.push(pdv(3, false, true, b"d")),
        Err(PduError::ContextChanged {
            expected: 1,
            found: 3
        })
    );
    assert_eq!(r.push(pdv(1, false, false, b"ab")), Ok(None));
    assert_eq!(
        r.push(pdv(1, true, true, &echo)),
        Err(PduError::CommandDuringData { pc_id: 1 })
    );
    assert_eq!(
        r.push(pdv(5, false, true, b"x")),
        Err(PduError::ContextChanged {
            expected: 1,
            found: 5
        })
    );
    let got = r.push(pdv(1, false, true, b"cd")).unwrap().unwrap();
    assert_eq!((got.part, got.bytes), (MessagePart::Data, b"abcd".to_vec()));
    assert!(r.is_idle());
    // A command without a data set is followed by no data.
    assert!(r.push(pdv(3, true, true, &echo)).unwrap().is_some());
    assert_eq!(
        r.push(pdv(3, false, true, b"x")),
        Err(PduError::DataBeforeCommand { pc_id: 3 })
    );
    // ... but may be followed by a command on another context.
    assert!(r.push(pdv(5, true, true, &echo)).unwrap().is_some());
    // Size limit.
    let mut r = Reassembler::new(10);
    assert_eq!(r.push(pdv(1, true, false, &[0; 8])), Ok(None));
    assert_eq!(
        r.push(pdv(1, true, false, &[0; 3])),
        Err(PduError::MessageTooLarge {
            pc_id: 1,
            limit: 10
        })
    );
    r.reset();
    assert!(r.is_idle());
}

#[test]
fn reassembles_from_pdata_pdus() {
    let cmd = store_rq_command();
    let data: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
    let mut wire = Vec::new();
    fragment_into(7, true, &cmd, 64, &mut wire).unwrap();
    fragment_into(7, false, &data, 1000, &mut wire).unwrap();
    let mut r = Reassembler::default();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < wire.len() {
        let Decoded::Complete(PduRef::PData(p), n) = read_pdu_ref(&wire[pos..], 1000).unwrap()
        else {
            panic!()
        };
        out.extend(r.push_pdata(&p).unwrap());
        pos += n;
    }
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].bytes, cmd);
    assert_eq!(out[1].bytes, data);
    assert_eq!(out[1].part, MessagePart::Data);
}

proptest! {
    #[test]
    fn fragment_then_reassemble(
        cmd_extra in 0usize..300,
        data in proptest::collection::vec(any::<u8>(), 0..20_000),
        max in prop_oneof![Just(0u32), 7u32..200, 200u32..70_000],
        pc in (0u8..128).prop_map(|x| x * 2 + 1),
    ) {
        let cmd = CommandSet::new()
            .with(tags::COMMAND_FIELD, CommandValue::Us(command_field::C_STORE_RQ))
            .with(tags::AFFECTED_SOP_INSTANCE_UID, CommandValue::Uid("1.2.".repeat(cmd_extra / 4 + 1)))
            .with(tags::COMMAND_DATA_SET_TYPE, CommandValue::Us(1))
            .encode().unwrap();
        let mut wire = Vec::new();
        fragment_into(pc, true, &cmd, max, &mut wire).unwrap();
        fragment_into(pc, false, &data, max, &mut wire).unwrap();
        let mut r = Reassembler::default();
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < wire.len() {
            let (p, n) = read_pdu_ref(&wire[pos..], max).unwrap().complete().unwrap();
            let PduRef::PData(p) = p else { panic!() };
            for v in p.pdvs() {
                if max != 0 {
                    prop_assert!(v.data.len() + 6 <= max as usize);
                }
                if let Some(m) = r.push(v).unwrap() {
                    out.push(m);
                }
            }
            pos += n;
        }
        prop_assert_eq!(out.len(), 2);
        prop_assert_eq!(&out[0].bytes, &cmd);
        prop_assert_eq!(&out[1].bytes, &data);
        prop_assert!(out.iter().all(|m| m.pc_id == pc));
        prop_assert!(r.is_idle());
    }

    #[test]
    fn reassembler_never_panics(pdvs in proptest::collection::vec(
        (0u8..4, any::<bool>(), any::<bool>(), proptest::collection::vec(any::<u8>(), 0..40)), 0..40))
    {
        let mut r = Reassembler::new(200);
        for (pc, cmd, last, data) in &pdvs {
            let _ = r.push(PdvRef { pc_id: *pc, is_command: *cmd, is_last: *last, data });
        }
    }
}
