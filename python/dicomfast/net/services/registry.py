"""Which service answers a request: found by the SOP class its presentation
context was negotiated for and by its DIMSE command, in one table.

A service declares the SOP classes it serves (``None``: any SOP class an
application accepts, as for C-STORE of a private storage class) and the
request commands it handles.  Services for particular SOP classes come first
and win over the general ones (Storage Commitment's N-ACTION over the generic
DIMSE-N service).  A new service is one module plus one line in
:data:`SERVICES`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import dimse
from . import commitment, echo, find, get, move, normalized, store

if TYPE_CHECKING:
    from ..association import AsyncAssociation
    from ..contexts import PresentationContext

ScpHandler = Callable[["AsyncAssociation", "PresentationContext", dimse.Message], Awaitable[None]]


@dataclass(frozen=True)
class Service:
    name: str
    #: SOP classes (abstract syntaxes) served; None: whatever the AE accepts.
    sop_classes: frozenset[str] | None
    #: Request command field -> the SCP coroutine answering it.
    commands: Mapping[int, ScpHandler]


_N_COMMANDS = dict.fromkeys(normalized.OPERATIONS, normalized.handle)

SERVICES: tuple[Service, ...] = (
    Service(
        "Storage Commitment Push Model (PS3.4 J)",
        frozenset({commitment.STORAGE_COMMITMENT_PUSH}),
        {dimse.N_ACTION_RQ: commitment.handle_action},
    ),
    Service("Verification (PS3.4 A)", None, {dimse.C_ECHO_RQ: echo.handle}),
    Service("Storage (PS3.4 B)", None, {dimse.C_STORE_RQ: store.handle}),
    Service("Query and Worklist (PS3.4 C.4.1, K)", None, {dimse.C_FIND_RQ: find.handle}),
    Service("Retrieve by C-MOVE (PS3.4 C.4.2)", None, {dimse.C_MOVE_RQ: move.handle}),
    Service("Retrieve by C-GET (PS3.4 C.4.3)", None, {dimse.C_GET_RQ: get.handle}),
    # MPPS, Print Management and any normalized SOP class an application binds
    # handlers for (EVT_N_CREATE, EVT_N_SET, EVT_N_GET, ...).
    Service("DIMSE-N (PS3.7 10)", None, _N_COMMANDS),
)

_SPECIFIC: dict[tuple[str, int], ScpHandler] = {
    (uid, cmd): fn
    for s in SERVICES
    if s.sop_classes is not None
    for uid in s.sop_classes
    for cmd, fn in s.commands.items()
}
_GENERAL: dict[int, ScpHandler] = {}
for _s in SERVICES:
    if _s.sop_classes is None:
        for _cmd, _fn in _s.commands.items():
            _GENERAL.setdefault(_cmd, _fn)


def scp_handler(sop_class: str, command_field: int) -> ScpHandler | None:
    """The coroutine that answers ``command_field`` on a context for ``sop_class``,
    or None (the request is not a service's: 0x0211 Unrecognized operation)."""
    return _SPECIFIC.get((sop_class, command_field)) or _GENERAL.get(command_field)
