"""pynetdicom's ``sop_class`` names and ready-made presentation context lists.

``from dicomfast.net.sop_class import Verification, CTImageStorage`` works like
``from pynetdicom.sop_class import ...``: every SOP Class (and Meta SOP Class)
of the PS3.6 registry the core carries (:mod:`dicomfast.uid`, generated from
``standard/uids.tsv``) is a module attribute named by its keyword, valued by
its UID string.  Nothing here is typed by hand except :data:`PYNETDICOM_NAMES`:
the few names pynetdicom spells differently from the standard's keyword.

Not here: pynetdicom names for SOP classes newer than the registry the core
was generated from (they raise ``AttributeError``), and pynetdicom's
``SOPClass`` objects' ``service_class`` attribute (these are plain ``str``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import uid as _uids
from .contexts import DEFAULT_TRANSFER_SYNTAXES, VERIFICATION_SOP_CLASS, PresentationContext

_SOP_TYPES = ("SOP Class", "Meta SOP Class")

#: keyword -> UID of every SOP Class of the registry.
SOP_CLASSES: dict[str, str] = {
    e.keyword: e.uid for e in _uids.REGISTRY.values() if e.keyword and e.type in _SOP_TYPES
}

#: pynetdicom's spelling -> the standard keyword (pynetdicom 3 names).
PYNETDICOM_NAMES: dict[str, str] = {
    "ModalityWorklistInformationFind": "ModalityWorklistInformationModelFind",
    "ColorPaletteInformationModelFind": "ColorPaletteQueryRetrieveInformationModelFind",
    "ColorPaletteInformationModelMove": "ColorPaletteQueryRetrieveInformationModelMove",
    "ColorPaletteInformationModelGet": "ColorPaletteQueryRetrieveInformationModelGet",
}

globals().update(SOP_CLASSES)
globals().update({k: SOP_CLASSES[v] for k, v in PYNETDICOM_NAMES.items() if v in SOP_CLASSES})


def build_context(
    abstract_syntax: str, transfer_syntax: str | Sequence[str] | None = None
) -> PresentationContext:
    """A presentation context for ``abstract_syntax`` proposing
    ``transfer_syntax`` (default: the default transfer syntaxes), as pynetdicom's."""
    if transfer_syntax is None:
        ts = list(DEFAULT_TRANSFER_SYNTAXES)
    elif isinstance(transfer_syntax, str):
        ts = [transfer_syntax]
    else:
        ts = list(transfer_syntax)
    return PresentationContext(str(abstract_syntax), ts)


def build_role(uid: str, scu_role: bool = False, scp_role: bool = False) -> Any:
    """SCP/SCU role selection for ``ext_neg`` of :meth:`AE.associate` (pynetdicom's
    ``build_role``): e.g. ``build_role(CTImageStorage, scp_role=True)`` for C-GET."""
    from .ae import RoleSelection

    return RoleSelection(str(uid), scu_role, scp_role)


_storage = sorted(_uids.storage_sop_classes(), key=lambda u: tuple(int(p) for p in u.split(".")))

#: Every storage SOP class (PS3.4 Table B.5-1): for an acceptor.
AllStoragePresentationContexts = [build_context(u) for u in _storage]
#: Storage contexts a requestor can propose in one association (at most 128
#: contexts): the non-retired storage SOP classes, capped at 120 like pynetdicom's list.
StoragePresentationContexts = [build_context(u) for u in _storage if not _uids.REGISTRY[u].retired][
    :120
]
VerificationPresentationContexts = [build_context(VERIFICATION_SOP_CLASS)]
#: The Query/Retrieve information models (PS3.4 Annex C) and Repository Query.
QueryRetrievePresentationContexts = [
    build_context(u)
    for k, u in SOP_CLASSES.items()
    if (u.startswith("1.2.840.10008.5.1.4.1.2.") and not _uids.REGISTRY[u].retired)
    or k == "RepositoryQuery"
]
BasicWorklistManagementPresentationContexts = [
    build_context(SOP_CLASSES["ModalityWorklistInformationModelFind"])
]
