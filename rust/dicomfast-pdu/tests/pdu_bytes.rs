//! Byte-exact tests against hand-assembled PDUs (layouts of PS3.8 §9.3 and
//! PS3.7 Annex D) and against PDUs captured from DCMTK 3.6.7 echoscu/storescp.

use dicomfast_pdu::*;

fn fixture(name: &str) -> Vec<u8> {
    let p = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn read_all(buf: &[u8]) -> Pdu {
    match read_pdu(buf, 0).expect("decode") {
        Decoded::Complete(p, n) => {
            assert_eq!(n, buf.len(), "consumed");
            p
        }
        Decoded::NeedMore(n) => panic!("need more: {n}"),
    }
}

fn ae(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.resize(16, b' ');
    v
}

fn item(t: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![t, 0];
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn pdu(t: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![t, 0];
    v.extend_from_slice(&(body.len() as u32).to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn u16p(s: &[u8]) -> Vec<u8> {
    let mut v = (s.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(s);
    v
}

/// A-ASSOCIATE-RQ assembled field by field from PS3.8 Table 9-11 (fixed
/// part), 9-12 (application context), 9-13/9-14/9-15 (presentation context
/// with abstract and transfer syntax) and Annex D / PS3.7 Annex D (user
/// information sub-items 0x51..0x58).
fn hand_rq() -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&[0x00, 0x01, 0x00, 0x00]); // protocol version 1, reserved
    b.extend(ae("ANY-SCP")); // called AE title
    b.extend(ae("ECHOSCU")); // calling AE title
    b.extend([0u8; 32]); // reserved
    b.extend(item(0x10, b"1.2.840.10008.3.1.1.1"));
    let mut pc = vec![1, 0, 0, 0]; // pc id 1 + 3 reserved
    pc.extend(item(0x30, b"1.2.840.10008.1.1"));
    pc.extend(item(0x40, b"1.2.840.10008.1.2.1"));
    pc.extend(item(0x40, b"1.2.840.10008.1.2"));
    b.extend(item(0x20, &pc));
    let mut ui = Vec::new();
    ui.extend(item(0x51, &16384u32.to_be_bytes()));
    ui.extend(item(0x52, b"1.2.3.4"));
    ui.extend(item(0x53, &[0, 2, 0, 1]));
    let mut rs = u16p(b"1.2.840.10008.1.1");
    rs.extend([1, 0]);
    ui.extend(item(0x54, &rs));
    ui.extend(item(0x55, b"DICOMFAST_01"));
    let mut ext = u16p(b"1.2.840.10008.5.1.4.1.2.1.1");
    ext.extend([1, 0, 1]);
    ui.extend(item(0x56, &ext));
    let mut common = u16p(b"1.2.840.10008.5.1.4.1.1.2");
    common.extend(u16p(b"1.2.840.10008.4.2"));
    let mut rel = u16p(b"1.2.3");
    rel.extend(u16p(b"1.2.4"));
    common.extend(u16p(&rel));
    ui.extend(item(0x57, &common));
    let mut uid = vec![2, 1];
    uid.extend(u16p(b"alice"));
    uid.extend(u16p(b"s3cret"));
    ui.extend(item(0x58, &uid));
    ui.extend(item(0x7F, &[9, 8, 7])); // unknown sub-item, preserved
    b.extend(item(0x50, &ui));
    pdu(0x01, &b)
}

fn hand_rq_value() -> AssociateRq {
    AssociateRq {
        protocol_version: 1,
        called_ae_title: "ANY-SCP".into(),
        calling_ae_title: "ECHOSCU".into(),
        application_context: DICOM_APPLICATION_CONTEXT.into(),
        presentation_contexts: vec![PresentationContextRq {
            id: 1,
            abstract_syntax: "1.2.840.10008.1.1".into(),
            transfer_syntaxes: vec!["1.2.840.10008.1.2.1".into(), "1.2.840.10008.1.2".into()],
        }],
        user_information: UserInformation {
            items: vec![
                UserItem::MaxLength(16384),
                UserItem::ImplementationClassUid("1.2.3.4".into()),
                UserItem::AsyncOpsWindow {
                    max_invoked: 2,
                    max_performed: 1,
                },
                UserItem::RoleSelection {
                    sop_class_uid: "1.2.840.10008.1.1".into(),
                    scu_role: true,
                    scp_role: false,
                },
                UserItem::ImplementationVersionName("DICOMFAST_01".into()),
                UserItem::SopClassExtended {
                    sop_class_uid: "1.2.840.10008.5.1.4.1.2.1.1".into(),
                    service_class_info: vec![1, 0, 1],
                },
                UserItem::SopClassCommonExtended {
                    version: 0,
                    sop_class_uid: "1.2.840.10008.5.1.4.1.1.2".into(),
                    service_class_uid: "1.2.840.10008.4.2".into(),
                    related_general_sop_classes: vec!["1.2.3".into(), "1.2.4".into()],
                },
                UserItem::UserIdentityRq {
                    identity_type: 2,
                    positive_response_requested: true,
                    primary_field: b"alice".to_vec(),
                    secondary_field: b"s3cret".to_vec(),
                },
                UserItem::Unknown {
                    item_type: 0x7F,
                    reserved: 0,
                    data: vec![9, 8, 7],
                },
            ],
        },
    }
}

#[test]
fn associate_rq_hand_assembled() {
    let bytes = hand_rq();
    let want = Pdu::AssociateRq(hand_rq_value());
    assert_eq!(read_all(&bytes), want);
    assert_eq!(want.to_bytes().unwrap(), bytes);
}

#[test]
fn associate_ac_hand_assembled() {
    // PS3.8 Table 9-17 with Table 9-18 presentation context AC items.
    let mut b = vec![0x00, 0x01, 0x00, 0x00];
    b.extend(ae("ANY-SCP"));
    b.extend(ae("ECHOSCU"));
    b.extend([0u8; 32]);
    b.extend(item(0x10, b"1.2.840.10008.3.1.1.1"));
    let mut pc1 = vec![1, 0, 0, 0];
    pc1.extend(item(0x40, b"1.2.840.10008.1.2.1"));
    b.extend(item(0x21, &pc1));
    b.extend(item(0x21, &[3, 0, 3, 0])); // rejected, no TS sub-item
    let mut ui = item(0x51, &0u32.to_be_bytes());
    ui.extend(item(0x59, &u16p(b"token")));
    b.extend(item(0x50, &ui));
    let bytes = pdu(0x02, &b);
    let want = Pdu::AssociateAc(AssociateAc {
        protocol_version: 1,
        called_ae_title: "ANY-SCP".into(),
        calling_ae_title: "ECHOSCU".into(),
        application_context: DICOM_APPLICATION_CONTEXT.into(),
        presentation_contexts: vec![
            PresentationContextAc {
                id: 1,
                result: PresentationContextResult::Acceptance,
                transfer_syntax: Some("1.2.840.10008.1.2.1".into()),
            },
            PresentationContextAc {
                id: 3,
                result: PresentationContextResult::AbstractSyntaxNotSupported,
                transfer_syntax: None,
            },
        ],
        user_information: UserInformation {
            items: vec![
                UserItem::MaxLength(0),
                UserItem::UserIdentityAc {
                    server_response: b"token".to_vec(),
                },
            ],
        },
    });
    assert_eq!(read_all(&bytes), want);
    assert_eq!(want.to_bytes().unwrap(), bytes);
}

#[test]
fn small_pdus_hand_assembled() {
    // A-ASSOCIATE-RJ, Table 9-21: reserved, result, source, reason.
    let rj = [0x03, 0, 0, 0, 0, 4, 0, 1, 1, 7];
    let want = Pdu::AssociateRj(AssociateRj {
        result: RejectResult::Permanent,
        source: RejectSource::ServiceUser,
        reason: 7,
    });
    assert_eq!(read_all(&rj), want);
    assert_eq!(want.to_bytes().unwrap(), rj);
    // A-RELEASE-RQ / RP, Tables 9-24 / 9-25.
    let rq = [0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0];
    assert_eq!(read_all(&rq), Pdu::ReleaseRq(ReleaseRq));
    assert_eq!(Pdu::ReleaseRq(ReleaseRq).to_bytes().unwrap(), rq);
    let rp = [0x06, 0, 0, 0, 0, 4, 0, 0, 0, 0];
    assert_eq!(read_all(&rp), Pdu::ReleaseRp(ReleaseRp));
    assert_eq!(Pdu::ReleaseRp(ReleaseRp).to_bytes().unwrap(), rp);
    // A-ABORT, Table 9-26: reserved, reserved, source, reason.
    let ab = [0x07, 0, 0, 0, 0, 4, 0, 0, 2, 6];
    let want = Pdu::Abort(Abort {
        source: AbortSource::ServiceProvider,
        reason: abort_reason::INVALID_PDU_PARAMETER_VALUE,
    });
    assert_eq!(read_all(&ab), want);
    assert_eq!(want.to_bytes().unwrap(), ab);
}

#[test]
fn pdata_hand_assembled() {
    // Table 9-22/9-23: two PDVs, MCH per Annex E.2.
    let bytes = [
        0x04, 0, 0, 0, 0, 15, // header, length 15
        0, 0, 0, 4, 1, 0x03, 0xAA, 0xBB, // PDV: len 4, pc 1, command+last
        0, 0, 0, 3, 3, 0x00, 0xCC, // PDV: len 3, pc 3, data, not last
    ];
    let want = Pdu::PData(PDataTf {
        pdvs: vec![
            Pdv {
                pc_id: 1,
                is_command: true,
                is_last: true,
                data: vec![0xAA, 0xBB],
            },
            Pdv {
                pc_id: 3,
                is_command: false,
                is_last: false,
                data: vec![0xCC],
            },
        ],
    });
    assert_eq!(read_all(&bytes), want);
    assert_eq!(want.to_bytes().unwrap(), bytes);
    // Zero-copy view borrows from `bytes`.
    let Decoded::Complete(PduRef::PData(r), 21) = read_pdu_ref(&bytes, 0).unwrap() else {
        panic!()
    };
    let pdvs: Vec<_> = r.pdvs().collect();
    assert_eq!(pdvs.len(), 2);
    assert!(std::ptr::eq(pdvs[0].data.as_ptr(), bytes[12..].as_ptr()));
}

#[test]
fn dcmtk_echo_fixtures_roundtrip_byte_exact() {
    let names = [
        "echo_00_scu_assoc_rq.bin",
        "echo_01_scp_assoc_ac.bin",
        "echo_02_scu_pdata.bin",
        "echo_03_scp_pdata.bin",
        "echo_04_scu_release_rq.bin",
        "echo_05_scp_release_rp.bin",
    ];
    for n in names {
        let mut b = fixture(n);
        let p = read_all(&b);
        if n == "echo_00_scu_assoc_rq.bin" {
            // DCMTK writes 0xFF into the third reserved byte of the
            // presentation context RQ item (Table 9-13, item byte 7, where the
            // AC has its result); reserved fields are ignored on read and
            // written as zero.
            assert_eq!((b[99], b[105]), (0x20, 0xFF));
            b[105] = 0;
        }
        assert_eq!(p.to_bytes().unwrap(), b, "{n}");
    }
}

#[test]
fn dcmtk_echo_rq_contents() {
    let Pdu::AssociateRq(rq) = read_all(&fixture("echo_00_scu_assoc_rq.bin")) else {
        panic!()
    };
    assert_eq!(rq.protocol_version, 1);
    assert_eq!(rq.called_ae_title, "STORESCP");
    assert_eq!(rq.calling_ae_title, "ECHOSCU");
    assert_eq!(rq.application_context, DICOM_APPLICATION_CONTEXT);
    assert_eq!(rq.presentation_contexts.len(), 1);
    let pc = &rq.presentation_contexts[0];
    assert_eq!(pc.id, 1);
    assert_eq!(pc.abstract_syntax, "1.2.840.10008.1.1");
    assert_eq!(pc.transfer_syntaxes, vec!["1.2.840.10008.1.2".to_string()]);
    assert_eq!(rq.user_information.max_length(), Some(16384));
    assert_eq!(
        rq.user_information.implementation_class_uid(),
        Some("1.2.276.0.7230010.3.0.3.6.7")
    );
    assert_eq!(
        rq.user_information.implementation_version_name(),
        Some("OFFIS_DCMTK_367")
    );

    let Pdu::AssociateAc(ac) = read_all(&fixture("echo_01_scp_assoc_ac.bin")) else {
        panic!()
    };
    assert_eq!(
        ac.presentation_contexts[0].result,
        PresentationContextResult::Acceptance
    );
    assert_eq!(
        ac.presentation_contexts[0].transfer_syntax.as_deref(),
        Some("1.2.840.10008.1.2")
    );

    // The C-ECHO-RQ command set inside the P-DATA-TF.
    let b = fixture("echo_02_scu_pdata.bin");
    let Decoded::Complete(PduRef::PData(p), _) = read_pdu_ref(&b, 16384).unwrap() else {
        panic!()
    };
    let pdv = p.pdvs().next().unwrap();
    assert!(pdv.is_command && pdv.is_last);
    let cmd = CommandSet::decode(pdv.data).unwrap();
    assert_eq!(cmd.command_field(), Some(command_field::C_ECHO_RQ));
    assert_eq!(
        cmd.get_str(tags::AFFECTED_SOP_CLASS_UID),
        Some("1.2.840.10008.1.1")
    );
    assert_eq!(cmd.has_data_set(), Some(false));
    assert_eq!(cmd.encode().unwrap(), pdv.data);
    let b = fixture("echo_03_scp_pdata.bin");
    let Decoded::Complete(PduRef::PData(p), _) = read_pdu_ref(&b, 16384).unwrap() else {
        panic!()
    };
    let cmd = CommandSet::decode(p.pdvs().next().unwrap().data).unwrap();
    assert_eq!(cmd.command_field(), Some(command_field::C_ECHO_RSP));
    assert_eq!(cmd.get_us(tags::STATUS), Some(0));
    assert_eq!(cmd.get_us(tags::MESSAGE_ID_BEING_RESPONDED_TO), Some(1));
}

#[test]
fn uid_trailing_nul_tolerated() {
    let mut b = vec![0x00, 0x01, 0x00, 0x00];
    b.extend(ae("A"));
    b.extend(ae("B"));
    b.extend([0u8; 32]);
    b.extend(item(0x10, b"1.2.840.10008.3.1.1.1\0"));
    let mut pc = vec![1, 0, 0, 0];
    pc.extend(item(0x30, b"1.2.840.10008.1.1\0"));
    pc.extend(item(0x40, b"1.2.840.10008.1.2\0"));
    b.extend(item(0x20, &pc));
    b.extend(item(0x50, &item(0x51, &[0, 0, 0x40, 0])));
    let Pdu::AssociateRq(rq) = read_all(&pdu(1, &b)) else {
        panic!()
    };
    assert_eq!(rq.application_context, DICOM_APPLICATION_CONTEXT);
    assert_eq!(
        rq.presentation_contexts[0].abstract_syntax,
        "1.2.840.10008.1.1"
    );
    assert_eq!(
        rq.presentation_contexts[0].transfer_syntaxes[0],
        "1.2.840.10008.1.2"
    );
}

#[test]
fn truncation_at_every_offset_needs_more() {
    let mut all = vec![hand_rq()];
    for n in [
        "echo_01_scp_assoc_ac.bin",
        "echo_03_scp_pdata.bin",
        "echo_05_scp_release_rp.bin",
    ] {
        all.push(fixture(n));
    }
    for b in all {
        for cut in 0..b.len() {
            match read_pdu(&b[..cut], 0) {
                Ok(Decoded::NeedMore(n)) => {
                    assert!(n > cut && n <= b.len(), "cut {cut}: need {n}");
                }
                other => panic!("cut {cut}: {other:?}"),
            }
        }
    }
}

#[test]
fn corrupting_every_length_byte_never_panics() {
    // Shrinking the PDU length makes every nested item overrun its parent at
    // some point; all must be errors or successes, never panics.
    let b = hand_rq();
    for cut in 0..b.len() - 6 {
        let mut t = b[..6 + cut].to_vec();
        t[2..6].copy_from_slice(&(cut as u32).to_be_bytes());
        let _ = read_pdu(&t, 0);
    }
    for i in 0..b.len() {
        for v in [0x00, 0x01, 0x7F, 0x80, 0xFF] {
            let mut t = b.clone();
            t[i] = v;
            let _ = read_pdu(&t, 0);
            let _ = read_pdu_ref(&t, 0);
        }
    }
}

#[test]
fn errors_carry_offsets() {
    // Unknown PDU type: detected from the first byte alone.
    assert_eq!(
        read_pdu(&[0x08], 0),
        Err(PduError::UnknownPduType {
            offset: 0,
            pdu_type: 8
        })
    );
    // Oversized PDU: rejected from the header, before the body arrives.
    let hdr = [0x04, 0, 0x10, 0, 0, 0];
    assert_eq!(
        read_pdu(&hdr, 16384),
        Err(PduError::PduTooLong {
            offset: 2,
            declared: 0x1000_0000,
            max: 16384
        })
    );
    assert_eq!(read_pdu(&hdr, 0), Ok(Decoded::NeedMore(6 + 0x1000_0000)));
    // Item length overrunning its parent.
    let mut b = hand_rq();
    let app_at = 6 + 68;
    assert_eq!(b[app_at], 0x10);
    b[app_at + 2] = 0xFF; // application context item claims 0xFF15 bytes
    let e = read_pdu(&b, 0).unwrap_err();
    assert!(
        matches!(e, PduError::Overrun { offset, what: "item", .. } if offset == app_at + 4),
        "{e:?}"
    );
    // Invalid AE title (control character in the calling AE title).
    let mut b = hand_rq();
    b[6 + 4 + 16 + 2] = 0x07;
    assert_eq!(
        read_pdu(&b, 0),
        Err(PduError::InvalidAeTitle {
            offset: 28,
            reason: "contains a control or non-ASCII character"
        })
    );
    let mut b = hand_rq();
    b[6 + 4 + 1] = b'\\';
    assert!(matches!(
        read_pdu(&b, 0),
        Err(PduError::InvalidAeTitle { offset: 11, .. })
    ));
    // Release RQ with a wrong length.
    let bad = [0x05, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0];
    assert!(matches!(
        read_pdu(&bad, 0),
        Err(PduError::BadFixedLength { .. })
    ));
    // PDV item length below 2.
    let bad = [0x04, 0, 0, 0, 0, 4, 0, 0, 0, 1];
    assert_eq!(
        read_pdu(&bad, 0),
        Err(PduError::TooShort {
            offset: 6,
            what: "PDV item length",
            min: 2,
            found: 1
        })
    );
    // Empty P-DATA-TF.
    assert!(matches!(
        read_pdu(&[0x04, 0, 0, 0, 0, 0], 0),
        Err(PduError::MissingItem { .. })
    ));
    // Errors display.
    assert!(PduError::UnknownPduType {
        offset: 0,
        pdu_type: 9
    }
    .to_string()
    .contains("0x09"));
}

#[test]
fn reads_consecutive_pdus_from_one_buffer() {
    let mut stream = Vec::new();
    for n in ["echo_02_scu_pdata.bin", "echo_04_scu_release_rq.bin"] {
        stream.extend(fixture(n));
    }
    let (a, n1) = read_pdu(&stream, 0).unwrap().complete().unwrap();
    assert!(matches!(a, Pdu::PData(_)));
    let (b, n2) = read_pdu(&stream[n1..], 0).unwrap().complete().unwrap();
    assert_eq!(b, Pdu::ReleaseRq(ReleaseRq));
    assert_eq!(n1 + n2, stream.len());
}

#[test]
fn encode_rejects_bad_fields() {
    let mut rq = hand_rq_value();
    rq.called_ae_title = "THIS-TITLE-IS-TOO-LONG".into();
    let mut out = vec![1, 2, 3];
    assert!(matches!(
        Pdu::AssociateRq(rq).encode(&mut out),
        Err(PduError::FieldTooLong {
            what: "AE title",
            ..
        })
    ));
    assert_eq!(out, [1, 2, 3], "output restored on error");
    let mut rq = hand_rq_value();
    rq.calling_ae_title = "A\\B".into();
    assert!(Pdu::AssociateRq(rq).to_bytes().is_err());
    let mut rq = hand_rq_value();
    rq.user_information.items.push(UserItem::SopClassExtended {
        sop_class_uid: "1.2".into(),
        service_class_info: vec![0; 70000],
    });
    assert!(matches!(
        Pdu::AssociateRq(rq).to_bytes(),
        Err(PduError::FieldTooLong { .. })
    ));
}

#[test]
fn unrecognized_items_skipped_misplaced_items_rejected() {
    let build = |extra: Vec<u8>, pc_extra: Vec<u8>| {
        let mut b = vec![0x00, 0x01, 0x00, 0x00];
        b.extend(ae("A"));
        b.extend(ae("B"));
        b.extend([0u8; 32]);
        b.extend(item(0x10, b"1.2.840.10008.3.1.1.1"));
        b.extend(extra);
        let mut pc = vec![1, 0, 0, 0];
        pc.extend(item(0x30, b"1.2.840.10008.1.1"));
        pc.extend(pc_extra);
        pc.extend(item(0x40, b"1.2.840.10008.1.2"));
        b.extend(item(0x20, &pc));
        b.extend(item(0x50, &item(0x51, &[0, 0, 0x40, 0])));
        pdu(1, &b)
    };
    let plain = read_all(&build(vec![], vec![]));
    // Unknown item types (PS3.8 §9.3.1) are skipped, at both levels.
    assert_eq!(read_all(&build(item(0x7A, b"xyz"), item(0x6B, b""))), plain);
    // A defined item in the wrong place is an error with its offset.
    let b = build(item(0x21, &[1, 0, 0, 0]), vec![]);
    assert_eq!(
        read_pdu(&b, 0),
        Err(PduError::UnexpectedItem {
            offset: 6 + 68 + 25,
            item_type: 0x21,
            context: "A-ASSOCIATE-RQ"
        })
    );
    let b = build(vec![], item(0x50, b""));
    assert!(matches!(
        read_pdu(&b, 0),
        Err(PduError::UnexpectedItem {
            item_type: 0x50,
            ..
        })
    ));
    // Duplicate application context.
    let b = build(item(0x10, b"1.2"), vec![]);
    assert!(matches!(
        read_pdu(&b, 0),
        Err(PduError::DuplicateItem {
            item_type: 0x10,
            ..
        })
    ));
}

#[test]
fn duplicate_presentation_context_ids_rejected() {
    // PS3.8 §9.3.2.2: an A-ASSOCIATE-RQ whose two presentation contexts share
    // ID 1; decoding fails at the second item, and so does encoding one.
    let mut b = Vec::new();
    b.extend_from_slice(&[0x00, 0x01, 0x00, 0x00]);
    b.extend(ae("ANY-SCP"));
    b.extend(ae("ECHOSCU"));
    b.extend([0u8; 32]);
    b.extend(item(0x10, b"1.2.840.10008.3.1.1.1"));
    let mut item_at = Vec::new(); // offsets in the PDU (after its 6-byte header)
    for sop in [&b"1.2.840.10008.1.1"[..], &b"1.2.840.10008.5.1.4.1.1.2"[..]] {
        let mut pc = vec![1, 0, 0, 0];
        pc.extend(item(0x30, sop));
        pc.extend(item(0x40, b"1.2.840.10008.1.2.1"));
        item_at.push(6 + b.len());
        b.extend(item(0x20, &pc));
    }
    b.extend(item(0x50, &item(0x51, &16384u32.to_be_bytes())));
    let err = read_pdu(&pdu(0x01, &b), 0).unwrap_err();
    assert_eq!(
        err,
        PduError::DuplicateContextId {
            offset: item_at[1],
            id: 1
        }
    );
    let mut rq = hand_rq_value();
    let mut twin = rq.presentation_contexts[0].clone();
    twin.abstract_syntax = "1.2.840.10008.5.1.4.1.1.2".into();
    rq.presentation_contexts.push(twin);
    assert!(Pdu::AssociateRq(rq).encode(&mut Vec::new()).is_err());
}
