"""Transfer syntaxes: the one Python table of them, rows of the Rust codec registry
(``dicomfast-codec``'s ``registry``, via ``_core.transfer_syntaxes()``).  Every module
that asks "encapsulated? big endian? which codec? can dicomfast encode it?" asks here,
so a codec added to the registry shows up everywhere at once.  (A module of its own
rather than ``uid``: ``uid`` is the PS3.6 registry of every UID; this holds what
dicomfast does with the transfer syntaxes among them.)"""

from __future__ import annotations

import functools
from typing import NamedTuple

from . import _core


class TransferSyntax(NamedTuple):
    uid: str
    keyword: str
    name: str
    explicit_vr: bool
    big_endian: bool
    #: The data set after the file meta group is deflated (PS3.5 A.5).
    deflated: bool
    #: Pixel Data is encapsulated (PS3.5 A.4).
    encapsulated: bool
    #: The compression may lose information.
    lossy: bool
    #: The name of the codec serving it, None if none does.
    codec: str | None
    can_decode: bool
    can_encode: bool


#: Every transfer syntax the registry knows, by UID.
TABLE: dict[str, TransferSyntax] = {
    row[0]: TransferSyntax(*row) for row in _core.transfer_syntaxes()
}


@functools.lru_cache(maxsize=256)
def _unknown(uid: str) -> TransferSyntax:
    return TransferSyntax(*_core.transfer_syntax(uid))._replace(uid=uid)


def get(uid: str) -> TransferSyntax:
    """The row for ``uid`` (trailing NUL/space ignored); a UID the registry does not
    know is what the registry takes unknown ones to be (explicit VR little endian,
    encapsulated, no codec)."""
    uid = str(uid).rstrip("\0 ")
    row = TABLE.get(uid)
    return row if row is not None else _unknown(uid)


def is_encapsulated(uid: str) -> bool:
    return get(uid).encapsulated


def encoding_of(uid: str) -> tuple[bool, bool]:
    """``(explicit_vr, big_endian)`` of a transfer syntax."""
    t = get(uid)
    return t.explicit_vr, t.big_endian


#: Native (not encapsulated) syntaxes.
NATIVE: frozenset[str] = frozenset(u for u, t in TABLE.items() if not t.encapsulated)
#: Encapsulated syntaxes a codec decodes.
DECODABLE: frozenset[str] = frozenset(
    u for u, t in TABLE.items() if t.encapsulated and t.can_decode
)
#: Encapsulated syntaxes a codec encodes.
ENCODABLE: frozenset[str] = frozenset(u for u, t in TABLE.items() if t.can_encode)


def describe(uids: frozenset[str] | set[str]) -> str:
    """``"RLE Lossless (1.2.840.10008.1.2.5), ..."``, in UID order: for messages."""
    return ", ".join(f"{TABLE[u].name} ({u})" for u in TABLE if u in uids)


__all__ = [
    "DECODABLE",
    "ENCODABLE",
    "NATIVE",
    "TABLE",
    "TransferSyntax",
    "describe",
    "encoding_of",
    "get",
    "is_encapsulated",
]
