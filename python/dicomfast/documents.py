"""Encapsulated documents (PS3.3 A.45 Encapsulated PDF, A.55 CDA, A.85 STL/OBJ/MTL;
C.24.2 Encapsulated Document module): a file's bytes into a DICOM instance, and back.

The document is kept byte for byte: Encapsulated Document (0042,0011) holds it padded
to even length with one 0x00, and Encapsulated Document Length (0042,0015) its true
length, which :func:`extract` honours.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

from . import uid as uids
from .dataset import Dataset, FileMetaDataset
from .errors import DicomError
from .reader import read

#: extension -> (SOP Class UID, MIME Type of Encapsulated Document, Modality)
KINDS: dict[str, tuple[str, str, str]] = {
    ".pdf": ("1.2.840.10008.5.1.4.1.1.104.1", "application/pdf", "DOC"),
    ".xml": ("1.2.840.10008.5.1.4.1.1.104.2", "text/XML", "DOC"),
    ".stl": ("1.2.840.10008.5.1.4.1.1.104.3", "model/stl", "M3D"),
    ".obj": ("1.2.840.10008.5.1.4.1.1.104.4", "model/obj", "M3D"),
    ".mtl": ("1.2.840.10008.5.1.4.1.1.104.5", "model/mtl", "M3D"),
}
_PATIENT_STUDY = (
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex",
    "StudyInstanceUID", "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber",
    "SpecificCharacterSet",
)  # fmt: skip
#: Type 3 attributes of the Patient and General Study modules copied from ``like`` when it
#: has them (a File-set's STUDY record and a viewer's study list show the description).
_PATIENT_STUDY_OPTIONAL = ("IssuerOfPatientID", "StudyDescription")


def encapsulate(
    path: str | os.PathLike[str],
    *,
    like: str | os.PathLike[str] | Dataset | None = None,
    keys: dict[str, Any] | None = None,
) -> Dataset:
    """An Encapsulated PDF / CDA / STL / OBJ / MTL instance holding the file at ``path``;
    patient and study from ``like`` (a reference instance), then ``keys`` (keyword=value)."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in KINDS:
        raise DicomError(
            f"cannot encapsulate {ext or 'a file without extension'}: pdf, xml, stl, obj or mtl",
            path=os.fspath(path),
        )
    sop_class, mime, modality = KINDS[ext]
    with open(path, "rb") as fh:
        doc = fh.read()
    ds = new_instance(sop_class, modality, like=like)
    ds.AcquisitionDateTime = ""
    ds.BurnedInAnnotation = "YES"
    ds.DocumentTitle = os.path.basename(os.fspath(path))
    ds.ConceptNameCodeSequence = []
    ds.MIMETypeOfEncapsulatedDocument = mime
    ds.add_new(0x00420011, "OB", doc + (b"\0" if len(doc) % 2 else b""))
    ds.add_new(0x00420015, "UL", len(doc))
    return finish_instance(ds, keys)


def new_instance(
    sop_class: str,
    modality: str,
    *,
    like: str | os.PathLike[str] | Dataset | None = None,
    conversion_type: str = "WSD",
) -> Dataset:
    """A new instance of ``sop_class``: patient and study from ``like`` (a reference
    instance or its path; empty, with a new Study Instance UID, without one), new series
    and SOP Instance UIDs, series and instance number 1, content and creation date/time
    now, Conversion Type (SC Equipment, C.8.6.1) ``conversion_type``."""
    now = datetime.datetime.now()
    ds = Dataset()
    for kw in _PATIENT_STUDY:
        setattr(ds, kw, "")
    del ds.SpecificCharacterSet
    ds.StudyInstanceUID = uids.generate_uid()
    if like is not None:
        ref = like if isinstance(like, Dataset) else read(like, stop_before_pixels=True)
        for kw in _PATIENT_STUDY + _PATIENT_STUDY_OPTIONAL:
            if kw in ref:
                setattr(ds, kw, ref.get(kw))
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = uids.generate_uid()
    ds.SeriesInstanceUID = uids.generate_uid()
    ds.Modality = modality
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.ConversionType = conversion_type
    ds.ContentDate = now.strftime("%Y%m%d")
    ds.ContentTime = now.strftime("%H%M%S")
    ds.InstanceCreationDate = ds.ContentDate
    ds.InstanceCreationTime = ds.ContentTime
    return ds


def finish_instance(ds: Dataset, keys: dict[str, Any] | None = None) -> Dataset:
    """``ds`` with ``keys`` (keyword=value, overriding anything) set and its file meta
    information (SOP class and instance); returns ``ds``."""
    for kw, value in (keys or {}).items():
        try:
            setattr(ds, kw, value)
        except AttributeError as e:
            raise DicomError(f"-k {kw}: {e}") from None
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta = meta
    return ds


def extract(ds: Dataset) -> bytes:
    """The encapsulated document, as long as Encapsulated Document Length says (the pad
    byte left out)."""
    elem = ds.get(0x00420011)
    if elem is None:
        raise DicomError("no Encapsulated Document (0042,0011)", path=getattr(ds, "filename", None))
    value = elem.value
    data = bytes(memoryview(value).cast("B")) if not isinstance(value, bytes) else value
    length = ds.get("EncapsulatedDocumentLength")
    if isinstance(length, int) and 0 <= length <= len(data):
        return data[:length]
    return data
