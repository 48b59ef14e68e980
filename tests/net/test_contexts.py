"""Presentation context negotiation, transfer syntax choice and role selection."""

from __future__ import annotations

import pytest
from dicomfast import uid as uids
from dicomfast.net.contexts import (
    ABSTRACT_SYNTAX_NOT_SUPPORTED,
    ACCEPTANCE,
    TRANSFER_SYNTAXES_NOT_SUPPORTED,
    USER_REJECTION,
    PresentationContext,
    apply_acceptance,
    fragment_size,
    negotiate,
    requested_contexts,
    role_items,
)

CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
ELE, ILE, BE = uids.ExplicitVRLittleEndian, uids.ImplicitVRLittleEndian, uids.ExplicitVRBigEndian


def test_ids_are_odd_and_bounded() -> None:
    ctxs = requested_contexts([PresentationContext(CT, None), PresentationContext(MR, [BE])])
    assert [c.context_id for c in ctxs] == [1, 3]
    assert ctxs[0].transfer_syntaxes == [ELE, ILE]
    with pytest.raises(ValueError):
        requested_contexts([PresentationContext(CT, None)] * 129)
    with pytest.raises(ValueError):
        requested_contexts([])


def test_requestor_order_wins_and_results() -> None:
    supported = {
        CT: PresentationContext(CT, [ILE, ELE]),
        MR: PresentationContext(MR, None),  # anything
    }
    proposed = [(1, CT, [BE, ELE, ILE]), (3, CT, [BE]), (5, MR, ["1.2.3.4"]), (7, "1.2.3", [ILE])]
    res, roles = negotiate(proposed, supported)
    assert [(c.context_id, c.result, c.transfer_syntax) for c in res] == [
        (1, ACCEPTANCE, ELE),  # the requestor's first supported choice
        (3, TRANSFER_SYNTAXES_NOT_SUPPORTED, None),
        (5, ACCEPTANCE, "1.2.3.4"),
        (7, ABSTRACT_SYNTAX_NOT_SUPPORTED, None),
    ]
    assert roles == []


def test_role_selection() -> None:
    supported = {CT: PresentationContext(CT, None, scu_role=True, scp_role=False)}
    res, roles = negotiate([(1, CT, [ELE])], supported, {CT: (True, True)})
    assert res[0].accepted and (res[0].scu_role, res[0].scp_role) == (True, False)
    assert roles == [(0x54, (CT, True, False))]
    res, roles = negotiate([(1, CT, [ELE])], supported, {CT: (False, True)})
    assert res[0].result == USER_REJECTION
    asked = requested_contexts([PresentationContext(CT, None, scu_role=True, scp_role=True)])
    assert role_items(asked) == [(0x54, (CT, True, True))]
    out = apply_acceptance(asked, [(1, ACCEPTANCE, ELE)], {CT: (True, False)})
    assert out[0].accepted and out[0].transfer_syntax == ELE and out[0].scp_role is False


def test_missing_answer_is_rejection_and_pdu_size() -> None:
    asked = requested_contexts([PresentationContext(CT, None), PresentationContext(MR, None)])
    out = apply_acceptance(asked, [(1, ACCEPTANCE, ELE)], {})
    assert out[0].accepted and not out[1].accepted
    assert fragment_size(0) == 4 << 20 and fragment_size(16384) == 16384
