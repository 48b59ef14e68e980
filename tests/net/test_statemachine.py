"""PS3.8 §9.2 state machine: the table and the paths an association takes."""

from __future__ import annotations

import pytest
from dicomfast.net.statemachine import (
    ACTIONS,
    TRANSITIONS,
    Event,
    InvalidTransition,
    State,
    StateMachine,
)

E, S = Event, State


def run(sm: StateMachine, *events: Event) -> list[str]:
    return [sm.transition(e) for e in events]


def test_table_shape() -> None:
    # Every action used is defined; every state except Sta1 reacts to Evt17 (connection closed).
    assert set(TRANSITIONS.values()) <= set(ACTIONS)
    assert all((E.EVT17, s) in TRANSITIONS for s in State if s != S.STA1)
    # PDU-received events are defined in Sta2, Sta3, Sta5..Sta13 (not Sta1/Sta4).
    for evt in (E.EVT3, E.EVT4, E.EVT6, E.EVT10, E.EVT12, E.EVT13, E.EVT19):
        assert (evt, S.STA1) not in TRANSITIONS and (evt, S.STA4) not in TRANSITIONS
        assert all((evt, s) in TRANSITIONS for s in State if s not in (S.STA1, S.STA4))
    assert len(TRANSITIONS) == 123  # the defined cells of Table 9-10


def test_requestor_accept_and_release() -> None:
    sm = StateMachine(requestor=True)
    assert run(sm, E.EVT1, E.EVT2, E.EVT3) == ["AE-1", "AE-2", "AE-3"]
    assert sm.state == S.STA6 and sm.is_established
    assert run(sm, E.EVT9, E.EVT10) == ["DT-1", "DT-2"]
    assert run(sm, E.EVT11, E.EVT10, E.EVT13) == ["AR-1", "AR-6", "AR-3"]
    assert sm.state == S.STA1


def test_requestor_rejected() -> None:
    sm = StateMachine(requestor=True)
    assert run(sm, E.EVT1, E.EVT2, E.EVT4) == ["AE-1", "AE-2", "AE-4"]
    assert sm.state == S.STA1


def test_acceptor_accept_release_and_artim() -> None:
    sm = StateMachine(requestor=False)
    assert sm.transition(E.EVT5) == "AE-5" and sm.artim_running
    assert sm.transition(E.EVT6) == "AE-6" and sm.state == S.STA3 and not sm.artim_running
    assert run(sm, E.EVT7, E.EVT10, E.EVT9) == ["AE-7", "DT-2", "DT-1"]
    assert run(sm, E.EVT12, E.EVT14) == ["AR-2", "AR-4"]
    assert sm.state == S.STA13 and sm.artim_running
    assert sm.transition(E.EVT17) == "AR-5" and sm.state == S.STA1 and not sm.artim_running


def test_acceptor_reject_by_provider_and_by_user() -> None:
    sm = StateMachine(requestor=False)
    run(sm, E.EVT5)
    assert sm.transition(E.EVT6, acceptable=False) == "AE-6"
    assert sm.state == S.STA13 and sm.artim_running
    assert sm.transition(E.EVT18) == "AA-2" and sm.state == S.STA1
    sm = StateMachine(requestor=False)
    assert run(sm, E.EVT5, E.EVT6, E.EVT8) == ["AE-5", "AE-6", "AE-8"]
    assert sm.state == S.STA13
    assert sm.transition(E.EVT10) == "AA-6" and sm.state == S.STA13  # PDUs are ignored
    assert sm.transition(E.EVT6) == "AA-7"


def test_artim_expiry_awaiting_request() -> None:
    sm = StateMachine(requestor=False)
    run(sm, E.EVT5)
    assert sm.transition(E.EVT18) == "AA-2" and sm.state == S.STA1


@pytest.mark.parametrize("requestor,collision_state", [(True, S.STA9), (False, S.STA10)])
def test_release_collision(requestor: bool, collision_state: State) -> None:
    sm = StateMachine(requestor=requestor)
    if requestor:
        run(sm, E.EVT1, E.EVT2, E.EVT3)
    else:
        run(sm, E.EVT5, E.EVT6, E.EVT7)
    run(sm, E.EVT11)
    assert sm.transition(E.EVT12) == "AR-8" and sm.state == collision_state
    if requestor:
        assert run(sm, E.EVT14, E.EVT13) == ["AR-9", "AR-3"]
    else:
        assert run(sm, E.EVT13, E.EVT14) == ["AR-10", "AR-4"]
        assert sm.state == S.STA13


def test_aborts() -> None:
    sm = StateMachine(requestor=True)
    run(sm, E.EVT1, E.EVT2, E.EVT3)
    assert sm.transition(E.EVT16) == "AA-3" and sm.state == S.STA1
    sm = StateMachine(requestor=True)
    run(sm, E.EVT1, E.EVT2, E.EVT3)
    assert sm.transition(E.EVT19) == "AA-8" and sm.state == S.STA13 and sm.artim_running
    sm = StateMachine(requestor=True)
    run(sm, E.EVT1, E.EVT2, E.EVT3)
    assert sm.transition(E.EVT15) == "AA-1" and sm.state == S.STA13
    sm = StateMachine(requestor=True)
    run(sm, E.EVT1, E.EVT2, E.EVT3)
    assert sm.transition(E.EVT17) == "AA-4" and sm.state == S.STA1
    sm = StateMachine(requestor=True)
    run(sm, E.EVT1)
    assert sm.transition(E.EVT15) == "AA-2"


def test_invalid_transitions() -> None:
    sm = StateMachine(requestor=True)
    with pytest.raises(InvalidTransition, match="Evt9 is not valid in Sta1"):
        sm.transition(E.EVT9)
    run(sm, E.EVT1, E.EVT2)
    with pytest.raises(InvalidTransition):
        sm.transition(E.EVT11)  # release before the association exists
    assert sm.state == S.STA5
