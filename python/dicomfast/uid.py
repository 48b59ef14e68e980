"""UIDs: the PS3.6 Annex A registry (generated into the Rust core) and the
transfer syntaxes dicomfast reads and writes."""

from __future__ import annotations

from typing import NamedTuple

from . import _core, syntaxes


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

ImplicitVRLittleEndian = "1.2.840.10008.1.2"
ExplicitVRLittleEndian = "1.2.840.10008.1.2.1"
DeflatedExplicitVRLittleEndian = "1.2.840.10008.1.2.1.99"
ExplicitVRBigEndian = "1.2.840.10008.1.2.2"
RLELossless = "1.2.840.10008.1.2.5"
JPEGLossless = "1.2.840.10008.1.2.4.57"
JPEGLosslessSV1 = "1.2.840.10008.1.2.4.70"

#: The native syntaxes dicomfast writes (the registry's native ones less the retired
#: Papyrus 3); tests/test_syntaxes.py proves they are native.
NATIVE_SYNTAXES = (
    ImplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
)

#: The dicomfast implementation's identity in file meta and associations.
IMPLEMENTATION_CLASS_UID = (
    "2.25.123176246028245167176787810071653464500"  # a 2.25 UUID UID, fixed for dicomfast 0.x
)
IMPLEMENTATION_VERSION_NAME = "DICOMFAST_010"


def name_of(uid: str) -> str:
    e = REGISTRY.get(uid)
    return e.name if e is not None else uid


def uid_for_keyword(keyword: str) -> str | None:
    return _BY_KEYWORD.get(keyword)


def storage_sop_classes() -> list[str]:
    """Every storage SOP class of PS3.4 Table B.5-1."""
    return [e.uid for e in REGISTRY.values() if e.storage]


#: ``(explicit_vr, big_endian)`` of a transfer syntax (:mod:`dicomfast.syntaxes`).
encoding_of = syntaxes.encoding_of
#: Whether Pixel Data in a transfer syntax is encapsulated (:mod:`dicomfast.syntaxes`).
is_encapsulated = syntaxes.is_encapsulated


def generate_uid(prefix: str = "2.25.") -> str:
    """A new UID under the ``2.25`` arc (PS3.5 B.2: a UUID as an integer)."""
    import uuid

    return prefix + str(uuid.uuid4().int)
