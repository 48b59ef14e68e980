"""Modality Worklist (PS3.4 Annex K): C-FIND on
1.2.840.10008.5.1.4.31, the same exchange as any C-FIND (see
:mod:`dicomfast.net.services.find`, which dispatches it).  The SCP's answers
come from the ``EVT_C_FIND`` handler (``event.sop_class_uid`` tells worklist
queries apart); :func:`dicomfast.archive.handlers.worklist_handler` answers
them from the archive's worklist table.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..dimse import Status
from .find import MODALITY_WORKLIST_FIND, c_find, find_sync

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from ...dataset import Dataset
    from ..association import AsyncAssociation

__all__ = [
    "MODALITY_WORKLIST_FIND",
    "mwl_find",
    "mwl_find_sync",
]


def mwl_find(
    assoc: AsyncAssociation, identifier: Dataset
) -> AsyncIterator[tuple[Status, Dataset | None]]:
    """Worklist C-FIND (asyncio)."""
    return c_find(assoc, identifier, MODALITY_WORKLIST_FIND)


def mwl_find_sync(
    assoc: AsyncAssociation, identifier: Dataset
) -> Iterator[tuple[Status, Dataset | None]]:
    """Worklist C-FIND over a blocking association."""
    return find_sync(assoc, identifier, MODALITY_WORKLIST_FIND)
