"""STOW-RS (PS3.18 10.5): ``POST /studies[/{study}]`` with a
``multipart/related; type="application/dicom"`` body.

The body is split as it arrives (:class:`~dicomfast.web.parts.PartSplitter`:
no part is copied or joined in memory) and each part's bytes go to a temporary
file in the storage folder, written (and their checksums computed) by a worker
thread while the next bytes are received.  When the body is complete, the
files are handed together to :meth:`Archive.ingest_temps
<dicomfast.archive.store.Archive.ingest_temps>`, the C-STORE ingest path for a
batch: every file is made durable (flushed once all were written), named
``<study>/<series>/<instance>.dcm`` by the archive's duplicate policy, its
folder flushed, and the rows committed — then the response is sent: Success
only for what is durably stored, under the UID acknowledged.  The response
(10.5.3, DICOM JSON) lists the stored instances in ReferencedSOPSequence (with
RetrieveURL) and the refused ones in FailedSOPSequence with their Failure
Reason: 0xC000 for data that cannot be read, 0xA900 for an instance of another
study than the one in the URL, 0xA700 when it could not be written.  Status 200
when all were stored, 202 when some were refused or came with a warning, 409
when none was stored; 415 for a body that is not ``multipart/related`` of
``application/dicom`` parts.

A duplicate the archive kept its stored copy of (``keep-first``) is answered as
stored, as C-STORE does, and named in a ``Warning: 299`` header.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.helpers import parse_mimetype
from multidict import CIMultiDict

from .. import digest as checksums
from ..archive import Archive
from ..archive.index import is_valid_uid
from ..archive.store import CANNOT_UNDERSTAND, OUT_OF_RESOURCES, StoreResult, TempInstance
from ..errors import DicomError
from ..reader import read
from ..tempfiles import create_temp
from .context import base_url, context
from .errors import UnsupportedMediaType
from .mediatypes import DICOM, DICOM_JSON, MULTIPART
from .parts import Begin, Data, Event, PartSplitter

STUDY_MISMATCH = 0xA900
#: Bytes received before they are handed to the writer thread.
BATCH = 4 << 20


@dataclass
class _Part:
    """A received part: its temporary file (None: not written), or why it was not."""

    path: str | None
    size: int = 0
    digest: str | None = None
    failure: int | None = None
    reason: str | None = None


class _PartDigests:
    """The checksum of each part (:mod:`dicomfast.digest`), a batch of events at a
    time (in a worker thread, beside the one writing the same bytes)."""

    def __init__(self) -> None:
        self.digests: list[str] = []
        self._hash: Any = None

    def take(self, events: list[Event]) -> None:
        for ev in events:
            if isinstance(ev, Data):
                self._hash.update(ev.data)
            elif isinstance(ev, Begin):
                self._hash = checksums.Checksum()
            else:
                self.digests.append(self._hash.value())


class _PartFiles:
    """Writes the parts of one request to temporary files in ``folder``, a batch
    of :class:`~dicomfast.web.parts.PartSplitter` events at a time (one batch at
    a time, in a worker thread)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.parts: list[_Part] = []
        self._fd: int | None = None
        self._current: _Part | None = None

    def take(self, events: list[Event]) -> None:
        for ev in events:
            if isinstance(ev, Data):
                if self._fd is not None:
                    self._write(ev.data)
            elif isinstance(ev, Begin):
                self._begin(ev.headers)
            else:
                self._end()

    def _begin(self, headers: dict[str, str]) -> None:
        part_type = (headers.get("content-type") or DICOM).split(";")[0].strip().lower()
        if part_type != DICOM:
            self._current = _Part(None, failure=CANNOT_UNDERSTAND)
            self._current.reason = f"a part of type {part_type} was not stored (only {DICOM})"
            return
        try:
            self._fd, path = create_temp(self.folder, ".stow.", ".part")
        except OSError as e:
            self._current = _Part(None, failure=OUT_OF_RESOURCES, reason=f"not written: {e}")
            return
        self._current = _Part(path)

    def _write(self, data: memoryview | bytes) -> None:
        assert self._fd is not None and self._current is not None
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as e:
            self._fail(OUT_OF_RESOURCES, f"not written: {e}")
            return
        self._current.size += len(data)

    def _fail(self, status: int, reason: str) -> None:
        """The current part's file is dropped; the part is reported as failed."""
        part = self._current
        self._close()
        if part is not None and part.path is not None:
            _unlink(part.path)
            part.path, part.failure, part.reason = None, status, reason

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _end(self) -> None:
        part = self._current
        if part is None:
            return
        self._close()
        self.parts.append(part)
        self._current = None

    def finish(self) -> None:
        """The body ended: a part that never did is reported as failed."""
        if self._current is not None:
            self._fail(CANNOT_UNDERSTAND, "the body ended inside this part")
            self.parts.append(self._current)
            self._current = None

    def discard(self) -> None:
        """The request failed as a whole: every file written is removed."""
        self.finish()
        for part in self.parts:
            if part.path is not None:
                _unlink(part.path)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


@dataclass
class _Outcome:
    result: StoreResult
    sop_class: str | None = None
    study: str | None = None


def _ingest(archive: Archive, parts: list[_Part], study: str | None) -> list[_Outcome]:
    """Check each written part (readable, of the study in the URL) and store the
    good ones together (blocking: call from a worker thread)."""
    outcomes: list[_Outcome] = []
    batch: list[TempInstance] = []
    batch_at: list[_Outcome] = []
    for part in parts:
        if part.path is None:
            res = StoreResult(part.failure or CANNOT_UNDERSTAND, None, action="failed")
            res.comment = part.reason
            outcomes.append(_Outcome(res))
            continue
        try:
            ds = read(part.path, stop_before_pixels=True)
        except (DicomError, OSError, ValueError) as e:
            _unlink(part.path)
            res = StoreResult(CANNOT_UNDERSTAND, None, comment=str(e)[:64], action="failed")
            outcomes.append(_Outcome(res))
            continue
        sop_class, sop, this_study = (
            ds.get("SOPClassUID"),
            ds.get("SOPInstanceUID"),
            ds.get("StudyInstanceUID"),
        )
        out = _Outcome(
            StoreResult(CANNOT_UNDERSTAND, str(sop) if is_valid_uid(sop) else None),
            str(sop_class) if sop_class else None,
            str(this_study) if this_study else None,
        )
        outcomes.append(out)
        if study is not None and this_study != study:
            _unlink(part.path)
            out.result = StoreResult(
                STUDY_MISMATCH,
                out.result.sop_instance_uid,
                action="failed",
                comment=f"Study Instance UID {this_study} is not {study}",
            )
            out.study = None
            continue
        batch.append(TempInstance(part.path, ds, part.size, part.digest))
        batch_at.append(out)
    for out, res in zip(batch_at, archive.ingest_temps(batch), strict=True):
        if res.sop_instance_uid is None:
            res.sop_instance_uid = out.result.sop_instance_uid
        out.result = res
    return outcomes


def _boundary(ctype: str) -> str:
    if not ctype.lower().startswith(MULTIPART) or "application/dicom" not in ctype.lower().replace(
        "application/dicom+", "x"
    ):
        raise UnsupportedMediaType(
            f'STOW-RS takes multipart/related; type="{DICOM}", not {ctype or "no Content-Type"}'
        )
    boundary = parse_mimetype(ctype).parameters.get("boundary", "")
    if not boundary:
        raise UnsupportedMediaType("not a multipart body: the Content-Type has no boundary")
    return boundary


async def _receive(
    request: web.Request, boundary: str, lanes: Sequence[Callable[[list[Event]], None]]
) -> None:
    """Split the body and hand its events to each lane (writing the files, hashing
    them), a batch at a time, each lane in a worker thread of its own while the
    next batch is received."""
    ctx = context(request)
    loop = asyncio.get_running_loop()
    splitter = PartSplitter(boundary)
    events: list[Event] = []
    size = 0
    running: list[asyncio.Future[None]] = []
    try:
        async for chunk in request.content.iter_any():
            events += splitter.feed(chunk)
            size += len(chunk)
            if size >= BATCH:
                for f in running:
                    await f
                running = [loop.run_in_executor(ctx.executor, lane, events) for lane in lanes]
                events, size = [], 0
    finally:
        for f in running:
            await f
    await asyncio.gather(*(ctx.run(lane, events) for lane in lanes))


async def store(request: web.Request) -> web.Response:
    ctx = context(request)
    study = request.match_info.get("study")
    boundary = _boundary(request.headers.get("Content-Type", ""))
    files = _PartFiles(ctx.archive.folder)
    digests = _PartDigests() if ctx.archive.checksum else None
    try:
        await _receive(request, boundary, [files.take] + ([digests.take] if digests else []))
    except BaseException:
        await asyncio.shield(ctx.run(files.discard))
        raise
    files.finish()
    if digests is not None:
        for part, digest in zip(files.parts, digests.digests, strict=False):
            part.digest = digest
    outcomes = await ctx.run(_ingest, ctx.archive, files.parts, study)
    return _answer(base_url(request), outcomes)


def _answer(base: str, outcomes: list[_Outcome]) -> web.Response:
    stored: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    warnings: list[str] = []
    studies: set[str] = set()
    for out in outcomes:
        res = out.result
        if res.ok:
            studies.add(out.study or "")
            url = f"{base}/studies/{out.study}/series/{_series_of(res)}/instances/{res.sop_instance_uid}"
            stored.append(
                _item(
                    out.sop_class, res.sop_instance_uid, {"00081190": {"vr": "UR", "Value": [url]}}
                )
            )
            if res.action == "kept-existing":
                warnings.append(f"{res.sop_instance_uid} was already stored: the stored copy kept")
        else:
            failed.append(
                _item(
                    out.sop_class,
                    res.sop_instance_uid,
                    {"00081197": {"vr": "US", "Value": [res.status]}},
                )
            )
            if res.comment:
                warnings.append(f"{res.sop_instance_uid or 'a part'}: {res.comment}")
    body: dict[str, Any] = {}
    if len(studies) == 1 and "" not in studies:
        body["00081190"] = {"vr": "UR", "Value": [f"{base}/studies/{next(iter(studies))}"]}
    body["00081199"] = {"vr": "SQ", "Value": stored} if stored else {"vr": "SQ"}
    if failed:
        body["00081198"] = {"vr": "SQ", "Value": failed}
    status = 409 if not stored else 202 if failed or warnings else 200
    headers: CIMultiDict[str] = CIMultiDict()
    for w in warnings[:20]:
        headers.add("Warning", '299 dicomfast "{}"'.format(w.replace('"', "'")))
    headers["Content-Type"] = DICOM_JSON
    return web.Response(body=json.dumps(body).encode(), status=status, headers=headers)


def _item(sop_class: str | None, sop: str | None, extra: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    if sop_class:
        item["00081150"] = {"vr": "UI", "Value": [sop_class]}
    if sop:
        item["00081155"] = {"vr": "UI", "Value": [sop]}
    item.update(extra)
    return item


def _series_of(res: StoreResult) -> str:
    """The Series Instance UID from the stored file's path (<study>/<series>/<sop>.dcm)."""
    return os.path.basename(os.path.dirname(res.path or "")) or "unknown"
