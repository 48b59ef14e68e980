"""The archive as the network services' handlers: what ``dicomfast serve`` binds
to the events of :mod:`dicomfast.net` (C-FIND, C-MOVE, C-GET, worklist, MPPS).

The network layer knows nothing of the archive: each service hands its request
to an event handler, and the handlers here answer from an
:class:`~dicomfast.archive.Archive` (storing happens in
:class:`~dicomfast.archive.netstorage.ArchiveStorage`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ..net import dimse
from ..net import events as evt
from ..net.dimse import Status
from ..net.events import Event
from ..net.services import find as qr
from ..net.services.mpps import MPPS_SOP_CLASS
from . import mpps as records
from . import query
from . import worklist as wl

if TYPE_CHECKING:
    from ..dataset import Dataset
    from .store import Archive

log = logging.getLogger("dicomfast.serve")


def find_handler(archive: Archive, retrieve_ae_title: str | None = None) -> Any:
    """``EVT_C_FIND``: Patient/Study Root queries from the index, worklist queries
    from the archive's worklist."""

    def handler(event: Event) -> Iterable[tuple[int, Dataset]]:
        sop_class = event.sop_class_uid
        ident = event.identifier
        assert ident is not None
        if sop_class == qr.MODALITY_WORKLIST_FIND:
            results = wl.find(archive, ident, cancel=lambda: event.is_cancelled)
        else:
            model = "PATIENT" if sop_class == qr.PATIENT_ROOT_FIND else "STUDY"
            archive.flush()  # every instance acknowledged so far is findable
            results = query.find(
                archive.engine,
                ident,
                model,
                cancel=lambda: event.is_cancelled,
                retrieve_ae_title=retrieve_ae_title,
            )
        for ds in results:
            yield dimse.PENDING, ds

    return handler


def worklist_handler(archive: Archive) -> Any:
    """``EVT_C_FIND`` for worklist queries only (other models: SOP class not supported)."""

    def handler(event: Event) -> Iterable[tuple[Any, Dataset | None]]:
        if event.sop_class_uid != qr.MODALITY_WORKLIST_FIND:
            yield Status(0x0122, {dimse.ERROR_COMMENT: "SOP class not supported"}), None
            return
        assert event.identifier is not None
        for ds in wl.find(archive, event.identifier, cancel=lambda: event.is_cancelled):
            yield dimse.PENDING, ds

    return handler


def move_handler(archive: Archive, destinations: dict[str, tuple[str, int]]) -> Any:
    """``EVT_C_MOVE``: ``destinations`` maps AE titles to (host, port)."""

    def handler(event: Event) -> Iterator[Any]:
        dest = destinations.get(event.move_destination or "")
        if dest is None:
            yield None
            return
        model = "PATIENT" if event.sop_class_uid == qr.PATIENT_ROOT_MOVE else "STUDY"
        assert event.identifier is not None
        refs = archive.instances_for(event.identifier, model=model)
        yield dest
        yield len(refs)
        yield from refs

    return handler


def get_handler(archive: Archive) -> Any:
    """``EVT_C_GET``: the instances the identifier selects."""

    def handler(event: Event) -> Iterator[Any]:
        model = "PATIENT" if event.sop_class_uid == qr.PATIENT_ROOT_GET else "STUDY"
        assert event.identifier is not None
        refs = archive.instances_for(event.identifier, model=model)
        yield len(refs)
        yield from refs

    return handler


def mpps_handlers(archive: Archive) -> list[tuple[evt.EventType, Any]]:
    """``EVT_N_CREATE`` and ``EVT_N_SET`` recording procedure steps in the archive."""

    def _status(r: Any) -> Status:
        cmd: dict[int, Any] = {}
        if r.comment:
            cmd[dimse.ERROR_COMMENT] = r.comment[:64]
        if r.sop_instance_uid:
            cmd[dimse.AFFECTED_SOP_INSTANCE_UID] = r.sop_instance_uid
        return Status(r.status, cmd)

    def on_create(event: Event) -> Status:
        if event.sop_class_uid != MPPS_SOP_CLASS:
            return Status(dimse.SOP_CLASS_NOT_SUPPORTED)
        assert event.dataset is not None
        return _status(
            records.n_create(
                archive, event.command.get(dimse.AFFECTED_SOP_INSTANCE_UID), event.dataset
            )
        )

    def on_set(event: Event) -> Status:
        if event.sop_class_uid != MPPS_SOP_CLASS:
            return Status(dimse.SOP_CLASS_NOT_SUPPORTED)
        assert event.dataset is not None
        uid = event.command.get(dimse.REQUESTED_SOP_INSTANCE_UID) or ""
        return _status(records.n_set(archive, uid, event.dataset))

    return [(evt.EVT_N_CREATE, on_create), (evt.EVT_N_SET, on_set)]


def commitment_handler(archive: Archive) -> Any:
    """``EVT_STORAGE_COMMITMENT``: an instance is committed when the archive holds it
    durably: indexed (every acknowledged store is, once the index is flushed)
    under that SOP Class, and its file present.  Others fail with No such object
    instance (0x0112) or Class/instance conflict (0x0119) (PS3.4 J.3.3.1.1.2)."""
    import os

    import sqlalchemy as sa

    from .schema import instances

    def handler(event: Event) -> list[tuple[str, str, int | None]]:
        refs = event.references
        archive.flush()
        wanted = {i for _, i in refs}
        held: dict[str, list[tuple[str, str]]] = {}
        with archive.engine.connect() as conn:
            uids = sorted(wanted)
            for k in range(0, len(uids), 500):
                rows = conn.execute(
                    sa.select(
                        instances.c.sop_instance_uid, instances.c.sop_class_uid, instances.c.path
                    ).where(instances.c.sop_instance_uid.in_(uids[k : k + 500]))
                )
                for uid, cls, path in rows:
                    held.setdefault(uid, []).append((cls, path))
        out: list[tuple[str, str, int | None]] = []
        for sop_class, sop_instance in refs:
            copies = held.get(sop_instance, [])
            present = [c for c, p in copies if os.path.exists(archive.abspath(p))]
            if sop_class in present:
                out.append((sop_class, sop_instance, None))
            elif present:
                out.append((sop_class, sop_instance, 0x0119))
            else:
                out.append((sop_class, sop_instance, 0x0112))
        return out

    return handler


def archive_handlers(
    archive: Archive, ae_title: str, destinations: dict[str, tuple[str, int]]
) -> list[tuple[evt.EventType, Any]]:
    """Every handler ``dicomfast serve`` binds: find, move, get, storage commitment,
    MPPS, and a log line per stored instance (when INFO lines are logged)."""

    async def on_stored(event: Event) -> None:  # async: runs on the loop, no thread hop
        # Storing and indexing happened in the storage's commit (ArchiveStorage):
        # the data set streamed from the socket to a temporary file in the archive.
        log.info("stored %s from %s", event.stored_path, event.assoc.remote_ae_title)

    # The line per instance only where it would be printed: a bound EVT_STORED
    # handler costs each instance a task and a wake-up of the loop from the thread
    # that names it (`serve -q` logs warnings only).
    stored = [(evt.EVT_STORED, on_stored)] if log.isEnabledFor(logging.INFO) else []
    return [
        *stored,
        (evt.EVT_C_FIND, find_handler(archive, ae_title)),
        (evt.EVT_C_MOVE, move_handler(archive, destinations)),
        (evt.EVT_C_GET, get_handler(archive)),
        (evt.EVT_STORAGE_COMMITMENT, commitment_handler(archive)),
        *mpps_handlers(archive),
    ]
