"""The DICOM upper layer state machine of PS3.8 §9.2, literally.

States ``Sta1``…``Sta13``, events ``Evt1``…``Evt19`` and actions ``AE-1``…
``AA-8`` are those of PS3.8 Tables 9-7 to 9-10.  The machine is sans-IO: the
association layer reports an event, :meth:`StateMachine.transition` answers
with the action to perform and moves to the next state.  The ARTIM timer is
kept as a flag (:attr:`StateMachine.artim_running`); the association layer
turns it into a read deadline and reports ``Evt18`` when it passes.
"""

from __future__ import annotations

import enum

from ..errors import NetworkError


class State(enum.IntEnum):
    STA1 = 1  # Idle
    STA2 = 2  # Transport connection open (awaiting A-ASSOCIATE-RQ PDU)
    STA3 = 3  # Awaiting local A-ASSOCIATE response primitive
    STA4 = 4  # Awaiting transport connection opening to complete
    STA5 = 5  # Awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU
    STA6 = 6  # Association established, ready for data transfer
    STA7 = 7  # Awaiting A-RELEASE-RP PDU
    STA8 = 8  # Awaiting local A-RELEASE response primitive
    STA9 = 9  # Release collision requestor side; awaiting A-RELEASE response
    STA10 = 10  # Release collision acceptor side; awaiting A-RELEASE-RP PDU
    STA11 = 11  # Release collision requestor side; awaiting A-RELEASE-RP PDU
    STA12 = 12  # Release collision acceptor side; awaiting A-RELEASE response
    STA13 = 13  # Awaiting transport connection close indication

    def __str__(self) -> str:
        return f"Sta{self.value}"


class Event(enum.IntEnum):
    EVT1 = 1  # A-ASSOCIATE request (local user)
    EVT2 = 2  # Transport connect confirm (local transport service)
    EVT3 = 3  # A-ASSOCIATE-AC PDU received
    EVT4 = 4  # A-ASSOCIATE-RJ PDU received
    EVT5 = 5  # Transport connection indication (local transport service)
    EVT6 = 6  # A-ASSOCIATE-RQ PDU received
    EVT7 = 7  # A-ASSOCIATE response primitive (accept)
    EVT8 = 8  # A-ASSOCIATE response primitive (reject)
    EVT9 = 9  # P-DATA request primitive
    EVT10 = 10  # P-DATA-TF PDU received
    EVT11 = 11  # A-RELEASE request primitive
    EVT12 = 12  # A-RELEASE-RQ PDU received
    EVT13 = 13  # A-RELEASE-RP PDU received
    EVT14 = 14  # A-RELEASE response primitive
    EVT15 = 15  # A-ABORT request primitive
    EVT16 = 16  # A-ABORT PDU received
    EVT17 = 17  # Transport connection closed indication
    EVT18 = 18  # ARTIM timer expired
    EVT19 = 19  # Unrecognized or invalid PDU received

    def __str__(self) -> str:
        return f"Evt{self.value}"


#: What each action does (PS3.8 Table 9-9) and its next state; ``None`` when
#: the next state depends on a condition the caller supplies.
ACTIONS: dict[str, tuple[str, State | None]] = {
    "AE-1": ("issue TRANSPORT CONNECT request", State.STA4),
    "AE-2": ("send A-ASSOCIATE-RQ PDU", State.STA5),
    "AE-3": ("issue A-ASSOCIATE confirmation (accept)", State.STA6),
    "AE-4": ("issue A-ASSOCIATE confirmation (reject), close transport", State.STA1),
    "AE-5": ("issue transport connection response, start ARTIM", State.STA2),
    "AE-6": ("stop ARTIM; indicate A-ASSOCIATE if acceptable, else send A-ASSOCIATE-RJ", None),
    "AE-7": ("send A-ASSOCIATE-AC PDU", State.STA6),
    "AE-8": ("send A-ASSOCIATE-RJ PDU, start ARTIM", State.STA13),
    "DT-1": ("send P-DATA-TF PDU", State.STA6),
    "DT-2": ("issue P-DATA indication", State.STA6),
    "AR-1": ("send A-RELEASE-RQ PDU", State.STA7),
    "AR-2": ("issue A-RELEASE indication", State.STA8),
    "AR-3": ("issue A-RELEASE confirmation, close transport", State.STA1),
    "AR-4": ("send A-RELEASE-RP PDU, start ARTIM", State.STA13),
    "AR-5": ("stop ARTIM", State.STA1),
    "AR-6": ("issue P-DATA indication", State.STA7),
    "AR-7": ("send P-DATA-TF PDU", State.STA8),
    "AR-8": ("issue A-RELEASE indication (release collision)", None),
    "AR-9": ("send A-RELEASE-RP PDU", State.STA11),
    "AR-10": ("issue A-RELEASE confirmation", State.STA12),
    "AA-1": ("send A-ABORT PDU (service-user), (re)start ARTIM", State.STA13),
    "AA-2": ("stop ARTIM if running, close transport", State.STA1),
    "AA-3": ("issue A-ABORT / A-P-ABORT indication, close transport", State.STA1),
    "AA-4": ("issue A-P-ABORT indication", State.STA1),
    "AA-5": ("stop ARTIM", State.STA1),
    "AA-6": ("ignore PDU", State.STA13),
    "AA-7": ("send A-ABORT PDU", State.STA13),
    "AA-8": ("send A-ABORT PDU (service-provider), indicate A-P-ABORT, start ARTIM", State.STA13),
}

_STARTS_ARTIM = frozenset({"AE-5", "AE-8", "AR-4", "AA-1", "AA-8"})
_STOPS_ARTIM = frozenset({"AE-6", "AR-5", "AA-2", "AA-5"})


def _row(spec: str) -> dict[State, str]:
    """``"2:AA-1 3:AA-8 ..."`` → {State: action}; ``6-12:AA-8`` is a range."""
    out: dict[State, str] = {}
    for cell in spec.split():
        states, action = cell.split(":")
        lo, _, hi = states.partition("-")
        for s in range(int(lo), int(hi or lo) + 1):
            out[State(s)] = action
    return out


# PS3.8 Table 9-10, one line per event: "state:action" for every defined cell.
_TABLE_SPEC = {
    Event.EVT1: "1:AE-1",
    Event.EVT2: "4:AE-2",
    Event.EVT3: "2:AA-1 3:AA-8 5:AE-3 6-12:AA-8 13:AA-6",
    Event.EVT4: "2:AA-1 3:AA-8 5:AE-4 6-12:AA-8 13:AA-6",
    Event.EVT5: "1:AE-5",
    Event.EVT6: "2:AE-6 3:AA-8 5-12:AA-8 13:AA-7",
    Event.EVT7: "3:AE-7",
    Event.EVT8: "3:AE-8",
    Event.EVT9: "6:DT-1 8:AR-7",
    Event.EVT10: "2:AA-1 3:AA-8 5:AA-8 6:DT-2 7:AR-6 8-12:AA-8 13:AA-6",
    Event.EVT11: "6:AR-1",
    Event.EVT12: "2:AA-1 3:AA-8 5:AA-8 6:AR-2 7:AR-8 8-12:AA-8 13:AA-6",
    Event.EVT13: "2:AA-1 3:AA-8 5-6:AA-8 7:AR-3 8-9:AA-8 10:AR-10 11:AR-3 12:AA-8 13:AA-6",
    Event.EVT14: "8:AR-4 9:AR-9 12:AR-4",
    Event.EVT15: "3:AA-1 4:AA-2 5-12:AA-1",
    Event.EVT16: "2:AA-2 3:AA-3 5-12:AA-3 13:AA-2",
    Event.EVT17: "2:AA-5 3-12:AA-4 13:AR-5",
    Event.EVT18: "2:AA-2 13:AA-2",
    Event.EVT19: "2:AA-1 3:AA-8 5-12:AA-8 13:AA-7",
}

#: (event, state) → action, every defined cell of PS3.8 Table 9-10.
TRANSITIONS: dict[tuple[Event, State], str] = {
    (evt, st): action for evt, spec in _TABLE_SPEC.items() for st, action in _row(spec).items()
}


class InvalidTransition(NetworkError):
    """An event that PS3.8 Table 9-10 does not define for the current state."""


class StateMachine:
    """One association's upper layer state (PS3.8 §9.2)."""

    def __init__(self, requestor: bool) -> None:
        self.requestor = requestor
        self.state = State.STA1
        self.artim_running = False
        self.history: list[tuple[State, Event, str, State]] = []

    def action_for(self, event: Event) -> str | None:
        return TRANSITIONS.get((event, self.state))

    def transition(self, event: Event, *, acceptable: bool = True) -> str:
        """Apply ``event``; returns the action the caller must perform.

        ``acceptable`` decides AE-6: whether the service provider accepts the
        A-ASSOCIATE-RQ (go to Sta3) or rejects it (send A-ASSOCIATE-RJ, Sta13).
        """
        action = TRANSITIONS.get((event, self.state))
        if action is None:
            raise InvalidTransition(f"{event} is not valid in {self.state} (PS3.8 Table 9-10)")
        nxt = ACTIONS[action][1]
        if action == "AE-6":
            nxt = State.STA3 if acceptable else State.STA13
        elif action == "AR-8":
            nxt = State.STA9 if self.requestor else State.STA10
        assert nxt is not None
        if action in _STOPS_ARTIM:
            self.artim_running = False
        if action in _STARTS_ARTIM or (action == "AE-6" and not acceptable):
            self.artim_running = True
        if len(self.history) < 64:
            self.history.append((self.state, event, action, nxt))
        self.state = nxt
        return action

    @property
    def is_established(self) -> bool:
        return self.state == State.STA6

    def __repr__(self) -> str:
        return f"<StateMachine {self.state} {'requestor' if self.requestor else 'acceptor'}>"
