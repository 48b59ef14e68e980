"""STOW-RS (PS3.18 10.5): ``POST /studies[/{study}]`` with a
``multipart/related; type="application/dicom"`` body.

Each part is streamed to a temporary file in the storage folder and handed to
:meth:`Archive.ingest_temp <dicomfast.archive.store.Archive.ingest_temp>`: the
path C-STORE takes, so an instance is durable under its final name before the
response says it is stored, and duplicates follow the archive's policy.  The
response (10.5.3, DICOM JSON) lists the stored instances in
ReferencedSOPSequence (with RetrieveURL) and the refused ones in
FailedSOPSequence with their Failure Reason: 0xC000 for data that cannot be
read, 0xA900 for an instance of another study than the one in the URL, 0xA700
when it could not be written.  Status 200 when all were stored, 202 when some
were refused or came with a warning, 409 when none was stored; 415 for a body
that is not ``multipart/related`` of ``application/dicom`` parts.

A duplicate the archive kept its stored copy of (``keep-first``) is answered as
stored, as C-STORE does, and named in a ``Warning: 299`` header.
"""

from __future__ import annotations

import json
import os
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, web
from multidict import CIMultiDict

from ..archive.index import is_valid_uid
from ..archive.store import CANNOT_UNDERSTAND, OUT_OF_RESOURCES, StoreResult
from ..errors import DicomError
from ..reader import read
from ..tempfiles import create_temp
from .context import base_url, context
from .errors import UnsupportedMediaType
from .mediatypes import DICOM, DICOM_JSON, MULTIPART

STUDY_MISMATCH = 0xA900


def _item(sop_class: str | None, sop: str | None, extra: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    if sop_class:
        item["00081150"] = {"vr": "UI", "Value": [sop_class]}
    if sop:
        item["00081155"] = {"vr": "UI", "Value": [sop]}
    item.update(extra)
    return item


def store_part(
    ctx_archive: Any, temp: str, study: str | None
) -> tuple[StoreResult, str | None, str | None]:
    """Ingest one received part (a temporary file); (result, SOP Class, Study UID)."""
    try:
        ds = read(temp, stop_before_pixels=True)
    except (DicomError, OSError, ValueError) as e:
        os.unlink(temp)
        return (
            StoreResult(CANNOT_UNDERSTAND, None, comment=str(e)[:64], action="failed"),
            None,
            None,
        )
    sop_class = ds.get("SOPClassUID")
    sop = ds.get("SOPInstanceUID")
    this_study = ds.get("StudyInstanceUID")
    if study is not None and this_study != study:
        os.unlink(temp)
        res = StoreResult(STUDY_MISMATCH, str(sop) if sop else None, action="failed")
        res.comment = f"Study Instance UID {this_study} is not {study}"
        return res, str(sop_class) if sop_class else None, None
    res = ctx_archive.ingest_temp(temp, header=ds)
    if res.sop_instance_uid is None and is_valid_uid(sop):
        res.sop_instance_uid = str(sop)
    return res, str(sop_class) if sop_class else None, str(this_study) if this_study else None


async def _receive(part: BodyPartReader, folder: str) -> str:
    fd, temp = create_temp(folder, ".stow.", ".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            while chunk := await part.read_chunk(1 << 20):
                fh.write(chunk)
    except BaseException:
        os.unlink(temp)
        raise
    return temp


async def store(request: web.Request) -> web.Response:
    ctx = context(request)
    study = request.match_info.get("study")
    ctype = request.headers.get("Content-Type", "")
    if not ctype.lower().startswith(MULTIPART) or "application/dicom" not in ctype.lower().replace(
        "application/dicom+", "x"
    ):
        raise UnsupportedMediaType(
            f'STOW-RS takes multipart/related; type="{DICOM}", not {ctype or "no Content-Type"}'
        )
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError) as e:
        raise UnsupportedMediaType(f"not a multipart body: {e}") from None
    base = base_url(request)
    stored: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    warnings: list[str] = []
    studies: set[str] = set()
    assert isinstance(reader, MultipartReader)
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            continue
        part_type = (part.headers.get("Content-Type") or DICOM).split(";")[0].strip().lower()
        if part_type != DICOM:
            await part.release()
            failed.append(
                _item(None, None, {"00081197": {"vr": "US", "Value": [CANNOT_UNDERSTAND]}})
            )
            warnings.append(f"a part of type {part_type} was not stored (only {DICOM})")
            continue
        try:
            temp = await _receive(part, ctx.archive.folder)
        except OSError as e:
            failed.append(
                _item(None, None, {"00081197": {"vr": "US", "Value": [OUT_OF_RESOURCES]}})
            )
            warnings.append(f"not written: {e}")
            continue
        res, sop_class, this_study = await ctx.run(store_part, ctx.archive, temp, study)
        if res.ok:
            studies.add(this_study or "")
            url = f"{base}/studies/{this_study}/series/{_series_of(res)}/instances/{res.sop_instance_uid}"
            stored.append(
                _item(sop_class, res.sop_instance_uid, {"00081190": {"vr": "UR", "Value": [url]}})
            )
            if res.action == "kept-existing":
                warnings.append(f"{res.sop_instance_uid} was already stored: the stored copy kept")
        else:
            failed.append(
                _item(
                    sop_class,
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


def _series_of(res: StoreResult) -> str:
    """The Series Instance UID from the stored file's path (<study>/<series>/<sop>.dcm)."""
    return os.path.basename(os.path.dirname(res.path or "")) or "unknown"
