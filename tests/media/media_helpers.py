"""Helpers of the media tests: small synthetic instances and tree descriptions."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import dicomfast
from dicomfast import Dataset, FileMetaDataset
from dicomfast.media import FileSet, RecordNode

SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"


def media_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``dicomfast media ARGS...`` in a new process."""
    return subprocess.run(
        [sys.executable, "-m", "dicomfast", "media", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def make_instance(
    path: str | os.PathLike[str],
    patient: str,
    study: str,
    series: str,
    number: int,
    *,
    sop_uid: str | None = None,
    modality: str = "OT",
) -> str:
    """Write a tiny Secondary Capture instance; returns its SOP Instance UID."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = SECONDARY_CAPTURE
    ds.SOPInstanceUID = sop_uid or dicomfast.uid.generate_uid()
    ds.StudyDate = "20240102"
    ds.StudyTime = "101112"
    ds.AccessionNumber = ""
    ds.Modality = modality
    ds.ConversionType = "WSD"
    ds.StudyDescription = f"study {study}"
    ds.PatientName = f"DOE^P{patient}"
    ds.PatientID = f"PID{patient}"
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.StudyInstanceUID = f"1.2.826.0.1.3680043.10.1337.{patient}.{study}"
    ds.SeriesInstanceUID = f"1.2.826.0.1.3680043.10.1337.{patient}.{study}.{series}"
    ds.StudyID = study
    ds.SeriesNumber = int(series)
    ds.InstanceNumber = number
    ds.Rows = 2
    ds.Columns = 2
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.add_new(0x7FE00010, "OB", bytes([1, 2, 3, 4]))
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta = meta
    dicomfast.write(ds, path, transfer_syntax=dicomfast.uid.ExplicitVRLittleEndian)
    return ds.SOPInstanceUID


def our_tree(fs: FileSet) -> list[Any]:
    return [_node(n) for n in fs.roots]


def _node(n: RecordNode) -> tuple[Any, ...]:
    inst = n.instance
    fid = "/".join(inst.FileID or ()).upper() if inst is not None else None
    return (n.record_type, n.key, fid, [_node(c) for c in n.children])


def pydicom_tree(pfs: Any) -> list[Any]:
    """The same description of a pydicom FileSet's record tree."""
    return [_pnode(c) for c in pfs._tree.children]


_IDENT = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID", "SERIES": "SeriesInstanceUID"}


def _pnode(n: Any) -> tuple[Any, ...]:
    rec = n._record
    kw = _IDENT.get(n.record_type, "ReferencedSOPInstanceUIDInFile")
    key = rec.get(kw)
    if key is None and n.record_type == "STUDY":
        key = rec.get("ReferencedSOPInstanceUIDInFile")
    fid = rec.get("ReferencedFileID")
    if fid is not None:
        fid = "/".join([fid] if isinstance(fid, str) else list(fid)).upper()
    return (n.record_type, None if key is None else str(key), fid, [_pnode(c) for c in n.children])


def files_tree(paths: list[str]) -> dict[str, dict[str, dict[str, set[str]]]]:
    """patient ID -> study UID -> series UID -> SOP Instance UIDs of the files."""
    out: dict[str, dict[str, dict[str, set[str]]]] = {}
    for p in paths:
        ds = dicomfast.read(p, stop_before_pixels=True)
        out.setdefault(str(ds.PatientID), {}).setdefault(ds.StudyInstanceUID, {}).setdefault(
            ds.SeriesInstanceUID, set()
        ).add(ds.SOPInstanceUID)
    return out


def fileset_tree(fs: FileSet) -> dict[str, dict[str, dict[str, set[str]]]]:
    out: dict[str, dict[str, dict[str, set[str]]]] = {}
    for inst in fs:
        series = inst.node.parent
        study = series.parent
        patient = study.parent
        out.setdefault(patient.key, {}).setdefault(study.key, {}).setdefault(series.key, set()).add(
            inst.SOPInstanceUID
        )
    return out
