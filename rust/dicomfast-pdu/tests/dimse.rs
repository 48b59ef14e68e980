//! DIMSE command set encoding (PS3.7 §6.3, Annex E; Implicit VR Little Endian).

use dicomfast_pdu::dimse::{command_has_data_set, vr_of, NO_DATA_SET};
use dicomfast_pdu::*;
use proptest::prelude::*;

#[test]
fn c_echo_rq_byte_exact() {
    let cmd = CommandSet::new()
        .with(
            tags::COMMAND_FIELD,
            CommandValue::Us(command_field::C_ECHO_RQ),
        )
        .with(
            tags::AFFECTED_SOP_CLASS_UID,
            CommandValue::Uid("1.2.840.10008.1.1".into()),
        )
        .with(tags::MESSAGE_ID, CommandValue::Us(7))
        .with(tags::COMMAND_DATA_SET_TYPE, CommandValue::Us(NO_DATA_SET));
    let b = cmd.encode().unwrap();
    #[rustfmt::skip]
    let want: Vec<u8> = [
        &[0, 0, 0, 0, 4, 0, 0, 0, 56, 0, 0, 0][..],               // (0000,0000) UL 56
        &[0, 0, 2, 0, 18, 0, 0, 0], b"1.2.840.10008.1.1\0",       // (0000,0002) UI, NUL-padded
        &[0, 0, 0, 1, 2, 0, 0, 0, 0x30, 0],                       // (0000,0100) US 0x0030
        &[0, 0, 0x10, 1, 2, 0, 0, 0, 7, 0],                       // (0000,0110) US 7
        &[0, 0, 0, 8, 2, 0, 0, 0, 1, 1],                          // (0000,0800) US 0x0101
    ].concat();
    assert_eq!(b, want);
    let back = CommandSet::decode(&b).unwrap();
    // Decoding returns wire (ascending) order.
    assert_eq!(back.elements[0].0, tags::AFFECTED_SOP_CLASS_UID);
    assert_eq!(back.command_field(), Some(0x0030));
    assert_eq!(back.get_us(tags::MESSAGE_ID), Some(7));
    assert_eq!(back.has_data_set(), Some(false));
    assert_eq!(command_has_data_set(&b), Some(false));
    assert_eq!(back.encode().unwrap(), b);
}

#[test]
fn string_padding_and_at() {
    let cmd = CommandSet::new()
        .with(tags::MOVE_DESTINATION, CommandValue::Str("DEST".into()))
        .with(tags::ERROR_COMMENT, CommandValue::Str("bad".into()))
        .with(
            tags::OFFENDING_ELEMENT,
            CommandValue::At(vec![0x0010_0010, 0x7FE0_0010]),
        );
    let b = cmd.encode().unwrap();
    let back = CommandSet::decode(&b).unwrap();
    assert_eq!(back.get_str(tags::ERROR_COMMENT), Some("bad"));
    assert_eq!(back.get_str(tags::MOVE_DESTINATION), Some("DEST"));
    assert_eq!(
        back.get(tags::OFFENDING_ELEMENT),
        Some(&CommandValue::At(vec![0x0010_0010, 0x7FE0_0010]))
    );
    // "bad" is padded with a space to 4 bytes.
    let at = b.windows(4).position(|w| w == b"bad ").unwrap();
    assert_eq!(&b[at - 4..at], &[4, 0, 0, 0]);
    // AT is group then element, each little endian.
    assert!(b
        .windows(8)
        .any(|w| w == [0x10, 0, 0x10, 0, 0xE0, 0x7F, 0x10, 0]));
}

#[test]
fn vr_table_and_constants() {
    assert_eq!(vr_of(tags::COMMAND_GROUP_LENGTH), Some("UL"));
    assert_eq!(vr_of(tags::AFFECTED_SOP_CLASS_UID), Some("UI"));
    assert_eq!(
        vr_of(tags::MOVE_ORIGINATOR_APPLICATION_ENTITY_TITLE),
        Some("AE")
    );
    assert_eq!(vr_of(tags::ATTRIBUTE_IDENTIFIER_LIST), Some("AT"));
    assert_eq!(vr_of(0x0000_0005), None);
    assert_eq!(command_field::C_CANCEL_RQ, 0x0FFF);
    assert_eq!(command_field::N_DELETE_RSP, 0x8150);
    assert_eq!(command_dict::command_name(0x8030), Some("C-ECHO-RSP"));
    assert_eq!(command_dict::COMMAND_ELEMENTS.len(), 46);
}

#[test]
fn encode_and_decode_errors() {
    let e = CommandSet::new()
        .with(tags::COMMAND_FIELD, CommandValue::Uid("1".into()))
        .encode();
    assert_eq!(
        e,
        Err(PduError::VrMismatch {
            tag: tags::COMMAND_FIELD,
            expected: "US"
        })
    );
    assert!(CommandSet::new()
        .with(0x0008_0016, CommandValue::Us(1))
        .encode()
        .is_err());
    assert!(CommandSet::new()
        .with(0x0000_5555, CommandValue::Bytes(vec![1]))
        .encode()
        .is_err());
    let good = CommandSet::new()
        .with(tags::STATUS, CommandValue::Us(0))
        .encode()
        .unwrap();
    // Group length mismatch.
    let mut bad = good.clone();
    bad[8] += 2;
    assert!(matches!(
        CommandSet::decode(&bad),
        Err(PduError::GroupLengthMismatch { offset: 8, .. })
    ));
    // Element length overruns.
    let mut bad = good.clone();
    bad[16] = 9;
    assert!(matches!(
        CommandSet::decode(&bad),
        Err(PduError::Overrun { .. })
    ));
    // Wrong group.
    let mut bad = good.clone();
    bad[12] = 8;
    assert!(matches!(
        CommandSet::decode(&bad),
        Err(PduError::NotCommandGroup { offset: 12, .. })
    ));
    // Out of order.
    let two = CommandSet::new()
        .with(tags::STATUS, CommandValue::Us(0))
        .with(tags::COMMAND_FIELD, CommandValue::Us(1))
        .encode()
        .unwrap();
    let mut swapped = two[..12].to_vec();
    swapped.extend_from_slice(&two[22..]);
    swapped.extend_from_slice(&two[12..22]);
    assert!(matches!(
        CommandSet::decode(&swapped),
        Err(PduError::UnorderedElement { offset: 22, .. })
    ));
    // Truncation never panics.
    for cut in 0..two.len() {
        let _ = CommandSet::decode(&two[..cut]);
        let _ = command_has_data_set(&two[..cut]);
    }
}

fn value_for(tag: u32) -> BoxedStrategy<CommandValue> {
    match vr_of(tag) {
        Some("US") => any::<u16>().prop_map(CommandValue::Us).boxed(),
        Some("UL") => any::<u32>().prop_map(CommandValue::Ul).boxed(),
        Some("UI") => "[0-9]{1,3}(\\.[0-9]{1,3}){0,10}"
            .prop_map(CommandValue::Uid)
            .boxed(),
        Some("AT") => proptest::collection::vec(any::<u32>(), 0..4)
            .prop_map(CommandValue::At)
            .boxed(),
        Some(_) => "[A-Z0-9_]([ A-Z0-9_]{0,14}[A-Z0-9_])?"
            .prop_map(CommandValue::Str)
            .boxed(),
        None => proptest::collection::vec(any::<u8>(), 0..8)
            .prop_map(|mut v| {
                v.truncate(v.len() & !1);
                CommandValue::Bytes(v)
            })
            .boxed(),
    }
}

fn command_set() -> impl Strategy<Value = CommandSet> {
    let tag = prop_oneof![
        proptest::sample::select(
            dicomfast_pdu::command_dict::COMMAND_ELEMENTS
                .iter()
                .map(|e| e.tag)
                .filter(|&t| t != 0)
                .collect::<Vec<_>>()
        ),
        1u32..0xFFFF,
    ];
    proptest::collection::btree_set(tag, 0..12).prop_flat_map(|tags| {
        tags.into_iter()
            .map(|t| value_for(t).prop_map(move |v| (t, v)))
            .collect::<Vec<_>>()
            .prop_map(|elements| CommandSet { elements })
    })
}

proptest! {
    #[test]
    fn command_set_roundtrip(cs in command_set()) {
        let b = cs.encode().unwrap();
        let back = CommandSet::decode(&b).unwrap();
        prop_assert_eq!(&back, &cs);
        prop_assert_eq!(back.encode().unwrap(), b);
    }

    #[test]
    fn command_decode_never_panics(b in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = CommandSet::decode(&b);
        let _ = command_has_data_set(&b);
    }
}
