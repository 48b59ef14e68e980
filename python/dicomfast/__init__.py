"""dicomfast: a fast DICOM toolkit with a Rust core and a pydicom-familiar API.

import dicomfast
ds = dicomfast.read("image.dcm")
ds.PatientName, ds["Rows"].value, ds[0x00280010].VR
ds.PatientName = "DOE^JANE"
dicomfast.write(ds, "out.dcm", transfer_syntax=dicomfast.uid.ImplicitVRLittleEndian)
"""

from __future__ import annotations

from . import uid
from .dataset import Dataset, FileMetaDataset, Sequence
from .element import DataElement
from .errors import (
    CharacterSetError,
    DicomError,
    InvalidDicomError,
    NetworkError,
    PixelDataError,
    TruncatedDataError,
    WriteError,
)
from .json_model import from_json
from .reader import dcmread, read
from .tag import Tag
from .writer import dcmwrite, write

__version__ = "0.1.0"

__all__ = [
    "CharacterSetError",
    "DataElement",
    "Dataset",
    "DicomError",
    "FileMetaDataset",
    "InvalidDicomError",
    "NetworkError",
    "PixelDataError",
    "Sequence",
    "Tag",
    "TruncatedDataError",
    "WriteError",
    "dcmread",
    "dcmwrite",
    "from_json",
    "read",
    "uid",
    "write",
]
