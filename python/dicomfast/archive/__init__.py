"""The archive: a storage folder plus an SQL index of what it holds (patient →
study → series → instance), queried with C-FIND semantics; Modality Worklist
and MPPS records.  Network-independent: the SCPs of :mod:`dicomfast.net`
call these functions.

::

    from dicomfast.archive import Archive
    archive = Archive("./dicomfast-data")               # SQLite index.sqlite inside
    result = archive.store(part10_bytes)                # file + row, one unit; result.status
    for match in archive.find(identifier, "STUDY"):     # C-FIND, Study Root
        ...
    refs = archive.instances_for(identifier)            # C-MOVE/C-GET: paths to send
"""

from __future__ import annotations

from .matching import QueryError
from .store import Archive, CheckReport, InstanceRef, StoreResult

__all__ = ["Archive", "CheckReport", "InstanceRef", "QueryError", "StoreResult"]
