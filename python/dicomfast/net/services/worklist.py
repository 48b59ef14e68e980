"""Modality Worklist (PS3.4 Annex K): C-FIND on
1.2.840.10008.5.1.4.31, the same exchange as any C-FIND (see
:mod:`dicomfast.net.services.find`, which dispatches it).  The SCP's answers
come from the ``EVT_C_FIND`` handler (``event.sop_class_uid`` tells worklist
queries apart); :func:`archive_worklist_handler` answers them from the
archive's worklist table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from .. import dimse
from ..dimse import Status
from ..events import Event
from .find import MODALITY_WORKLIST_FIND, c_find, find_sync

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from ...dataset import Dataset
    from ..association import AsyncAssociation

__all__ = [
    "MODALITY_WORKLIST_FIND",
    "archive_worklist_handler",
    "mwl_find",
    "mwl_find_sync",
]


def archive_worklist_handler(archive: Any) -> Any:
    """An ``EVT_C_FIND`` handler for worklist queries only."""
    from ...archive import worklist as wl

    def handler(event: Event) -> Iterable[tuple[int, Dataset]]:
        if event.sop_class_uid != MODALITY_WORKLIST_FIND:
            yield Status(0x0122, {dimse.ERROR_COMMENT: "SOP class not supported"}), None  # type: ignore[misc]
            return
        assert event.identifier is not None
        for ds in wl.find(archive, event.identifier, cancel=lambda: event.is_cancelled):
            yield dimse.PENDING, ds

    return handler


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
