//! Property tests: encode→decode identity for every PDU type and item, and
//! decode of arbitrary or mutated bytes never panics and, when it succeeds,
//! re-encodes to something that decodes to the same value.

use dicomfast_pdu::*;
use proptest::collection::vec;
use proptest::prelude::*;

fn ae() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[A-Za-z0-9 _.-]{0,15}[A-Za-z0-9_.-]"]
}

fn uid() -> impl Strategy<Value = String> {
    "[0-9.]{0,64}"
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[ -~]{0,15}[!-~]"]
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

fn user_item() -> impl Strategy<Value = UserItem> {
    prop_oneof![
        any::<u32>().prop_map(UserItem::MaxLength),
        uid().prop_map(UserItem::ImplementationClassUid),
        (any::<u16>(), any::<u16>()).prop_map(|(a, b)| UserItem::AsyncOpsWindow {
            max_invoked: a,
            max_performed: b
        }),
        (uid(), any::<bool>(), any::<bool>()).prop_map(|(u, a, b)| UserItem::RoleSelection {
            sop_class_uid: u,
            scu_role: a,
            scp_role: b
        }),
        text().prop_map(UserItem::ImplementationVersionName),
        (uid(), bytes(20)).prop_map(|(u, i)| UserItem::SopClassExtended {
            sop_class_uid: u,
            service_class_info: i
        }),
        (any::<u8>(), uid(), uid(), vec(uid(), 0..4)).prop_map(|(v, a, b, r)| {
            UserItem::SopClassCommonExtended {
                version: v,
                sop_class_uid: a,
                service_class_uid: b,
                related_general_sop_classes: r,
            }
        }),
        (any::<u8>(), any::<bool>(), bytes(30), bytes(30)).prop_map(|(t, p, a, b)| {
            UserItem::UserIdentityRq {
                identity_type: t,
                positive_response_requested: p,
                primary_field: a,
                secondary_field: b,
            }
        }),
        bytes(30).prop_map(|r| UserItem::UserIdentityAc { server_response: r }),
        (
            any::<u8>().prop_filter("known", |t| !(0x51..=0x59).contains(t)),
            any::<u8>(),
            bytes(20)
        )
            .prop_map(|(t, r, d)| UserItem::Unknown {
                item_type: t,
                reserved: r,
                data: d
            }),
    ]
}

fn user_info() -> impl Strategy<Value = UserInformation> {
    vec(user_item(), 0..8).prop_map(|items| UserInformation { items })
}

/// Presentation context IDs are unique within a PDU (the first of each ID kept).
fn unique_ids<T>(mut v: Vec<T>, id: impl Fn(&T) -> u8) -> Vec<T> {
    let mut seen = [false; 256];
    v.retain(|p| !std::mem::replace(&mut seen[usize::from(id(p))], true));
    v
}

fn pdu() -> impl Strategy<Value = Pdu> {
    let pc_rq =
        (any::<u8>(), uid(), vec(uid(), 1..4)).prop_map(|(id, a, t)| PresentationContextRq {
            id,
            abstract_syntax: a,
            transfer_syntaxes: t,
        });
    let pc_ac = (any::<u8>(), any::<u8>(), proptest::option::of(uid())).prop_map(|(id, r, t)| {
        PresentationContextAc {
            id,
            result: PresentationContextResult::from_u8(r),
            transfer_syntax: t,
        }
    });
    let rq = (
        any::<u16>(),
        ae(),
        ae(),
        uid(),
        vec(pc_rq, 0..5),
        user_info(),
    )
        .prop_map(|(v, called, calling, app, pcs, ui)| {
            Pdu::AssociateRq(AssociateRq {
                protocol_version: v,
                called_ae_title: called,
                calling_ae_title: calling,
                application_context: app,
                presentation_contexts: unique_ids(pcs, |p| p.id),
                user_information: ui,
            })
        });
    let ac = (
        any::<u16>(),
        ae(),
        ae(),
        uid(),
        vec(pc_ac, 0..5),
        user_info(),
    )
        .prop_map(|(v, called, calling, app, pcs, ui)| {
            Pdu::AssociateAc(AssociateAc {
                protocol_version: v,
                called_ae_title: called,
                calling_ae_title: calling,
                application_context: app,
                presentation_contexts: unique_ids(pcs, |p| p.id),
                user_information: ui,
            })
        });
    let rj = (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(a, b, c)| {
        Pdu::AssociateRj(AssociateRj {
            result: RejectResult::from_u8(a),
            source: RejectSource::from_u8(b),
            reason: c,
        })
    });
    let pdv = (any::<u8>(), any::<bool>(), any::<bool>(), bytes(64)).prop_map(|(p, c, l, d)| Pdv {
        pc_id: p,
        is_command: c,
        is_last: l,
        data: d,
    });
    let pdata = vec(pdv, 1..6).prop_map(|pdvs| Pdu::PData(PDataTf { pdvs }));
    let abort = (any::<u8>(), any::<u8>()).prop_map(|(s, r)| {
        Pdu::Abort(Abort {
            source: AbortSource::from_u8(s),
            reason: r,
        })
    });
    prop_oneof![
        rq,
        ac,
        rj,
        pdata,
        Just(Pdu::ReleaseRq(ReleaseRq)),
        Just(Pdu::ReleaseRp(ReleaseRp)),
        abort
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn write_then_read_is_identity(p in pdu()) {
        let b = p.to_bytes().unwrap();
        let (back, n) = read_pdu(&b, b.len() as u32).unwrap().complete().unwrap();
        prop_assert_eq!(n, b.len());
        prop_assert_eq!(&back, &p);
        // The borrowed reader agrees.
        let (r, _) = read_pdu_ref(&b, 0).unwrap().complete().unwrap();
        prop_assert_eq!(r.to_owned(), p);
        // Every strict prefix asks for more bytes.
        for cut in 0..b.len() {
            prop_assert!(matches!(read_pdu(&b[..cut], 0), Ok(Decoded::NeedMore(_))));
        }
    }

    #[test]
    fn read_write_read_on_mutations(
        p in pdu(),
        muts in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut b = p.to_bytes().unwrap();
        for (i, v) in muts {
            let i = i.index(b.len());
            b[i] = v;
        }
        if let Ok(Decoded::Complete(first, _)) = read_pdu(&b, 0) {
            let again = first.to_bytes().unwrap();
            let (second, _) = read_pdu(&again, 0).unwrap().complete().unwrap();
            prop_assert_eq!(first, second);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in vec(any::<u8>(), 0..300), max in any::<u32>()) {
        let _ = read_pdu(&b, max);
        if let Ok(Decoded::Complete(PduRef::PData(p), _)) = read_pdu_ref(&b, max) {
            let _ = p.pdvs().count();
        }
    }
}
