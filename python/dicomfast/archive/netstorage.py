"""The archive as the Storage SCP's storage: ``start_server(..., storage=ArchiveStorage(archive))``.

:class:`ArchiveStorage` is a :class:`dicomfast.net.storage.FileStorage` whose
sinks write the received data set to a file in the storage folder as it
arrives (as the plain storage does).  When the archive is durable, that file
is an intake file (:mod:`dicomfast.net.intake`): on commit it is marked
complete and flushed, once, and Success is answered; the archive's
:class:`~dicomfast.archive.placement.Placer` then links it into
``<study>/<series>/<instance>.dcm`` with the archive's duplicate policy, in
groups, and the archive's next group commit indexes it
(:mod:`dicomfast.archive.ingest`).  EVT_STORED fires once the instance has
that name.  Otherwise (``fsync=False``, or a file system that keeps no
permission bits) commit hands the temporary file to :meth:`Archive.ingest_temp
<dicomfast.archive.store.Archive.ingest_temp>` before the answer.  A store the
archive refuses raises from ``commit()`` (the SCP answers 0xA700 with the
reason); the last :class:`~dicomfast.archive.store.StoreResult` is kept on
the sink.
"""

from __future__ import annotations

from typing import Any

from ..net.storage import FileSink, FileStorage, StoreRefused
from .index import instance_uids
from .placement import Placer
from .store import CANNOT_UNDERSTAND, Archive, StoreResult


class ArchiveSink(FileSink):
    result: StoreResult | None = None

    def commit(self, folders: set[str] | None = None) -> str:
        header = self.header()  # the one the SCP checked (the AE title is in the file meta)
        storage: ArchiveStorage = self.storage  # type: ignore[assignment]
        if self.intake_mode is not None:  # kept under its intake name, placed later
            # What placing it would refuse is refused now, before the answer: an
            # instance without the UIDs it is filed under is never acknowledged.
            try:
                if header is None:
                    raise ValueError("the data set cannot be parsed")
                instance_uids(header)
            except ValueError as e:
                raise StoreRefused(CANNOT_UNDERSTAND, f"not stored: {e}") from e
            self.durable_temp()
            self.placed = storage.placer.submit(self)
            return self.temp_path
        self.durable_temp()
        res = storage.archive.ingest_temp(
            self.temp_path, header=header, synced=True, digest=self.digest, folders=folders
        )
        self.result = res
        if not res.ok or res.path is None:
            raise StoreRefused(res.status, f"not stored: {res.comment or 'failed'}")
        self.final_path = res.path
        return res.path


class ArchiveStorage(FileStorage):
    """Storage SCP storage backed by an :class:`~dicomfast.archive.Archive`."""

    def __init__(self, archive: Archive) -> None:
        # What a stop left in intake files is placed before new ones are made.
        archive.recover_intake()
        super().__init__(archive.folder, fsync=archive.fsync, intake=True)
        self.archive = archive
        self.keep_digest = archive.checksum  # hashed as written, not read back to index
        self.placer = Placer(archive)
        archive.flush_first(self.placer.flush)

    def open(
        self,
        sop_class_uid: str,
        sop_instance_uid: str,
        transfer_syntax: str,
        source_ae_title: str | None = None,
    ) -> Any:
        sink = super().open(sop_class_uid, sop_instance_uid, transfer_syntax, source_ae_title)
        sink.__class__ = ArchiveSink  # same state, archive commit
        return sink

    def close(self) -> None:
        """Finish queued writes and commits, place what was acknowledged, remove the
        spare files (the storage can still be used)."""
        self.writer.close()
        self.placer.close()
        self.spares.close()
