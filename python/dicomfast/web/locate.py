"""From the UIDs of a DICOMweb path to the archive's instances (through the same
C-FIND/C-MOVE matching as the DIMSE services: :mod:`dicomfast.archive.query`)."""

from __future__ import annotations

from ..archive import Archive
from ..archive.index import is_valid_uid
from ..archive.store import InstanceRef
from ..dataset import Dataset
from .errors import BadRequest, NotFound

STUDY_UID = 0x0020000D
SERIES_UID = 0x0020000E
SOP_UID = 0x00080018
LEVEL = 0x00080052


def identifier(level: str, study: str | None, series: str | None, sop: str | None) -> Dataset:
    """A C-FIND identifier at ``level`` with the given unique keys."""
    ds = Dataset()
    ds.add_new(LEVEL, "CS", level)
    for tag, uid in ((STUDY_UID, study), (SERIES_UID, series), (SOP_UID, sop)):
        if uid is not None:
            if not is_valid_uid(uid):
                raise BadRequest(f"not a UID: {uid!r}")
            ds.add_new(tag, "UI", uid)
    return ds


def instances(
    archive: Archive, study: str | None, series: str | None = None, sop: str | None = None
) -> list[InstanceRef]:
    """The stored instances under the given UIDs, in index order; 404 when none
    (blocking: call from a worker thread)."""
    level = "IMAGE" if sop else "SERIES" if series else "STUDY"
    refs = archive.instances_for(identifier(level, study, series, sop))
    if not refs:
        what = "instance" if sop else "series" if series else "study"
        raise NotFound(f"no such {what}: {sop or series or study}")
    return refs
