"""UIDs: the PS3.6 Annex A registry (generated into the Rust core) and the
transfer syntaxes dicomfast reads and writes."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from . import _core, syntaxes
from .identity import IMPLEMENTATION_CLASS_UID as IMPLEMENTATION_CLASS_UID
from .identity import IMPLEMENTATION_VERSION_NAME as IMPLEMENTATION_VERSION_NAME
from .identity import new_uid, uuid4_int


class UIDEntry(NamedTuple):
    uid: str
    name: str
    keyword: str
    type: str
    retired: bool
    info: str
    storage: bool


REGISTRY: dict[str, UIDEntry] = {row[0]: UIDEntry(*row) for row in _core.uid_entries()}
_BY_KEYWORD = {e.keyword: e.uid for e in REGISTRY.values() if e.keyword}

_VALID = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")


class UID(str):
    """A UID: a ``str`` with pydicom's ``UID`` properties, looked up in the PS3.6 registry
    (:data:`REGISTRY`); the transfer syntax properties come from :mod:`dicomfast.syntaxes`
    and, as pydicom's, raise ``ValueError`` for a UID that is not a transfer syntax."""

    __slots__ = ()

    @property
    def _entry(self) -> UIDEntry | None:
        return REGISTRY.get(str(self))

    @property
    def name(self) -> str:
        e = self._entry
        return e.name if e is not None else str(self)

    @property
    def keyword(self) -> str:
        e = self._entry
        return e.keyword if e is not None else ""

    @property
    def type(self) -> str:
        e = self._entry
        return e.type if e is not None else ""

    @property
    def info(self) -> str:
        e = self._entry
        return e.info if e is not None else ""

    @property
    def is_retired(self) -> bool:
        e = self._entry
        return bool(e.retired) if e is not None else False

    @property
    def is_private(self) -> bool:
        return self[:14] != "1.2.840.10008."

    @property
    def is_valid(self) -> bool:
        return len(self) <= 64 and _VALID.fullmatch(self) is not None

    @property
    def is_transfer_syntax(self) -> bool:
        return not self.is_private and self.type == "Transfer Syntax"

    def _syntax(self) -> syntaxes.TransferSyntax:
        if not self.is_transfer_syntax:
            raise ValueError("UID is not a transfer syntax.")
        return syntaxes.get(self)

    @property
    def is_implicit_VR(self) -> bool:  # noqa: N802 - pydicom's name
        return not self._syntax().explicit_vr

    @property
    def is_little_endian(self) -> bool:
        return not self._syntax().big_endian

    @property
    def is_deflated(self) -> bool:
        return self._syntax().deflated

    @property
    def is_encapsulated(self) -> bool:
        return self._syntax().encapsulated

    @property
    def is_compressed(self) -> bool:
        """Pixel Data encapsulated (as pydicom: a deflated data set is not "compressed")."""
        return self._syntax().encapsulated

    @property
    def is_storage(self) -> bool:
        e = self._entry
        return bool(e.storage) if e is not None else False


# Every keyword of PS3.6 Annex A as a constant (``CTImageStorage``,
# ``ExplicitVRLittleEndian``...), from the registry the Rust core generates from
# standard/uids.tsv.
globals().update({kw: UID(u) for kw, u in _BY_KEYWORD.items()})
if TYPE_CHECKING:
    # ... which type checkers cannot see: to them any other module attribute is a UID.
    def __getattr__(name: str) -> UID: ...


# Named here too (from the same table) for linters and readers of this module.
ImplicitVRLittleEndian = UID(_BY_KEYWORD["ImplicitVRLittleEndian"])
ExplicitVRLittleEndian = UID(_BY_KEYWORD["ExplicitVRLittleEndian"])
DeflatedExplicitVRLittleEndian = UID(_BY_KEYWORD["DeflatedExplicitVRLittleEndian"])
ExplicitVRBigEndian = UID(_BY_KEYWORD["ExplicitVRBigEndian"])
RLELossless = UID(_BY_KEYWORD["RLELossless"])
JPEGLossless = UID(_BY_KEYWORD["JPEGLossless"])
JPEGLosslessSV1 = UID(_BY_KEYWORD["JPEGLosslessSV1"])

#: The native syntaxes dicomfast writes (the registry's native ones less the retired
#: Papyrus 3); tests/test_syntaxes.py proves they are native.
NATIVE_SYNTAXES = (
    ImplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
)


def name_of(uid: str) -> str:
    e = REGISTRY.get(uid)
    return e.name if e is not None else uid


def uid_for_keyword(keyword: str) -> str | None:
    return _BY_KEYWORD.get(keyword)


def storage_sop_classes() -> list[str]:
    """Every storage SOP class of PS3.4 Table B.5-1."""
    return [e.uid for e in REGISTRY.values() if e.storage]


def retired_storage_sop_classes() -> list[str]:
    """The retired storage SOP classes (PS3.6 Annex A: a retired SOP Class named
    "... Storage", Storage Commitment aside): PS3.4 no longer lists them, but archives
    still hold their instances (the first Ultrasound Image Storage, 1.2.840.10008.5.1.4.1.1.6,
    from many older scanners), and DCMTK's ``storescp`` accepts them. A Storage SCP of
    ours accepts them too (:meth:`dicomfast.net.AE.add_storage_scp_contexts`, ``serve``)."""
    return [
        e.uid
        for e in REGISTRY.values()
        if e.retired
        and e.type == "SOP Class"
        and " Storage" in f" {e.name}"
        and "Commitment" not in e.name
    ]


#: ``(explicit_vr, big_endian)`` of a transfer syntax (:mod:`dicomfast.syntaxes`).
encoding_of = syntaxes.encoding_of
#: Whether Pixel Data in a transfer syntax is encapsulated (:mod:`dicomfast.syntaxes`).
is_encapsulated = syntaxes.is_encapsulated


def generate_uid(prefix: str | None = "2.25.", entropy_srcs: list[str] | None = None) -> UID:
    """A new UID: under the ``2.25`` arc a UUID as an integer (PS3.5 B.2); under another
    prefix, or with ``entropy_srcs`` (as pydicom: the same sources give the same UID),
    a SHA-512 hash as an integer, cut to 64 characters."""
    prefix = "2.25." if prefix is None else prefix
    if entropy_srcs is None and prefix == "2.25.":
        return UID(new_uid())
    import hashlib

    data = "".join(entropy_srcs) if entropy_srcs is not None else f"{uuid4_int():032x}"
    digest = int(hashlib.sha512(data.encode()).hexdigest(), 16)
    if prefix == "2.25.":
        digest %= 1 << 128
    return UID((prefix + str(digest))[:64])
