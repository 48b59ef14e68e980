"""Presentation context negotiation (PS3.8 §9.3.2.2, §9.3.3.2), transfer
syntax choice, SCP/SCU role selection (PS3.7 D.3.3.4) and maximum PDU length
(PS3.8 D.1)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .. import uid as uids
from ..syntaxes import NATIVE as NATIVE_SYNTAXES

VERIFICATION_SOP_CLASS = "1.2.840.10008.1.1"

#: Transfer syntaxes proposed when none are given.
DEFAULT_TRANSFER_SYNTAXES: tuple[str, ...] = (
    uids.ExplicitVRLittleEndian,
    uids.ImplicitVRLittleEndian,
)

#: Our default Maximum Length (PS3.8 D.1): the largest P-DATA-TF we accept.
DEFAULT_MAX_PDU = 262_144
#: A-ASSOCIATE PDUs are not bounded by the Maximum Length; we still refuse
#: absurd ones before buffering them.
MAX_ASSOCIATE_PDU = 1 << 20

ACCEPTANCE = 0
USER_REJECTION = 1
NO_REASON = 2
ABSTRACT_SYNTAX_NOT_SUPPORTED = 3
TRANSFER_SYNTAXES_NOT_SUPPORTED = 4

RESULT_NAMES = {
    ACCEPTANCE: "acceptance",
    USER_REJECTION: "user rejection",
    NO_REASON: "no reason (provider rejection)",
    ABSTRACT_SYNTAX_NOT_SUPPORTED: "abstract syntax not supported",
    TRANSFER_SYNTAXES_NOT_SUPPORTED: "transfer syntaxes not supported",
}

MAX_CONTEXTS = 128  # odd IDs 1..255


@dataclass
class PresentationContext:
    """A requested, supported or negotiated presentation context."""

    abstract_syntax: str
    #: Proposed (requestor) or supported (acceptor; ``None`` = any) syntaxes.
    transfer_syntaxes: list[str] | None
    context_id: int | None = None
    #: Negotiation result (PS3.8 Table 9-18), ``None`` before negotiation.
    result: int | None = None
    #: The accepted transfer syntax.
    transfer_syntax: str | None = None
    #: Role selection: may the requestor act as SCU / as SCP for this SOP class.
    scu_role: bool | None = None
    scp_role: bool | None = None

    @property
    def accepted(self) -> bool:
        return self.result == ACCEPTANCE

    def __str__(self) -> str:
        name = uids.name_of(self.abstract_syntax)
        if self.result is None:
            return f"[{self.context_id}] {name}"
        status = (
            f"accepted {uids.name_of(self.transfer_syntax or '')}"
            if self.accepted
            else RESULT_NAMES.get(self.result or 0, f"result {self.result}")
        )
        return f"[{self.context_id}] {name}: {status}"


def requested_contexts(contexts: Sequence[PresentationContext]) -> list[PresentationContext]:
    """Copies of ``contexts`` numbered 1, 3, 5, … as PS3.8 requires."""
    if not contexts:
        raise ValueError("at least one presentation context must be requested")
    if len(contexts) > MAX_CONTEXTS:
        raise ValueError(f"at most {MAX_CONTEXTS} presentation contexts can be requested")
    out = []
    for i, c in enumerate(contexts):
        out.append(
            PresentationContext(
                c.abstract_syntax,
                list(c.transfer_syntaxes or DEFAULT_TRANSFER_SYNTAXES),
                context_id=2 * i + 1,
                scu_role=c.scu_role,
                scp_role=c.scp_role,
            )
        )
    return out


def role_items(contexts: Iterable[PresentationContext]) -> list[tuple[int, tuple[str, bool, bool]]]:
    """Role selection sub-items (0x54) for requested contexts that set a role."""
    seen: dict[str, tuple[bool, bool]] = {}
    for c in contexts:
        if c.scu_role is None and c.scp_role is None:
            continue
        seen.setdefault(c.abstract_syntax, (bool(c.scu_role), bool(c.scp_role)))
    return [(0x54, (uid, scu, scp)) for uid, (scu, scp) in seen.items()]


def negotiate(
    proposed: Sequence[tuple[int, str, list[str]]],
    supported: dict[str, PresentationContext],
    role_requests: dict[str, tuple[bool, bool]] | None = None,
) -> tuple[list[PresentationContext], list[tuple[int, tuple[str, bool, bool]]]]:
    """Acceptor side: answer each proposed ``(id, abstract, [ts...])``.

    The transfer syntax chosen is the first one *the requestor proposed* that
    the acceptor supports (the requestor lists them in its order of
    preference).  A supported context with ``transfer_syntaxes=None`` accepts
    any syntax.  Returns the answered contexts and the role selection
    sub-items to send back.
    """
    role_requests = role_requests or {}
    results: list[PresentationContext] = []
    role_replies: dict[str, tuple[bool, bool]] = {}
    for pc_id, abstract, ts_list in proposed:
        pc = PresentationContext(abstract, list(ts_list), context_id=pc_id)
        sup = supported.get(abstract)
        if sup is None:
            pc.result = ABSTRACT_SYNTAX_NOT_SUPPORTED
            results.append(pc)
            continue
        choice = next(
            (t for t in ts_list if sup.transfer_syntaxes is None or t in sup.transfer_syntaxes),
            None,
        )
        if choice is None:
            pc.result = TRANSFER_SYNTAXES_NOT_SUPPORTED
            results.append(pc)
            continue
        scu, scp = True, False  # default roles: requestor is SCU, acceptor SCP
        if abstract in role_requests:
            want_scu, want_scp = role_requests[abstract]
            scu = want_scu and (sup.scu_role is not False)
            scp = want_scp and bool(sup.scp_role)
            role_replies[abstract] = (scu, scp)
            if not scu and not scp:
                pc.result = USER_REJECTION
                results.append(pc)
                continue
        if scp:
            # The requestor takes the SCP role (C-GET): we send on this context whatever
            # the query selects, and any stored syntax becomes a native one losslessly,
            # while a compressed one fits only instances already in it: the first
            # native syntax proposed, if any (a requestor listing JPEG Baseline first
            # would otherwise get no uncompressed instance at all).
            choice = next(
                (
                    t
                    for t in ts_list
                    if t in NATIVE_SYNTAXES
                    and (sup.transfer_syntaxes is None or t in sup.transfer_syntaxes)
                ),
                choice,
            )
        pc.result = ACCEPTANCE
        pc.transfer_syntax = choice
        pc.scu_role, pc.scp_role = scu, scp
        results.append(pc)
    return results, [(0x54, (u, a, b)) for u, (a, b) in role_replies.items()]


def apply_acceptance(
    requested: Sequence[PresentationContext],
    answered: Sequence[tuple[int, int, str | None]],
    role_replies: dict[str, tuple[bool, bool]],
) -> list[PresentationContext]:
    """Requestor side: fill in results from the A-ASSOCIATE-AC."""
    by_id = {pc_id: (result, ts) for pc_id, result, ts in answered}
    out = []
    for c in requested:
        result, ts = by_id.get(c.context_id or 0, (NO_REASON, None))
        pc = PresentationContext(
            c.abstract_syntax,
            c.transfer_syntaxes,
            context_id=c.context_id,
            result=result,
            transfer_syntax=ts if result == ACCEPTANCE else None,
        )
        if c.abstract_syntax in role_replies:
            pc.scu_role, pc.scp_role = role_replies[c.abstract_syntax]
        else:
            pc.scu_role, pc.scp_role = True, False
        out.append(pc)
    return out


def fragment_size(peer_max_pdu: int | None, own_cap: int = 4 << 20) -> int:
    """The PDU length to fragment at: the peer's maximum, or (0 = no limit) our cap."""
    if not peer_max_pdu:
        return own_cap
    return min(peer_max_pdu, own_cap)
