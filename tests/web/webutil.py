"""Helpers of the DICOMweb tests: synthetic CT instances with pixels, a server
on loopback port 0."""

from __future__ import annotations

import io
import itertools

import dicomfast
import numpy as np
from dicomfast import Dataset

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_US_STORAGE = "1.2.840.10008.5.1.4.1.1.3.1"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
_uids = itertools.count(1)


def phantom(rows: int, cols: int, k: int = 0) -> np.ndarray:
    """A disc of soft tissue (HU ~40) with a bright bone ring in air (-1000), as stored
    values with intercept -1024; ``k`` moves a small insert so slices differ."""
    y, x = np.mgrid[0:rows, 0:cols]
    cy, cx = rows / 2, cols / 2
    r = np.hypot(y - cy, x - cx)
    hu = np.full((rows, cols), -1000.0)
    tissue = 40 + 60 * np.sin(x / 9.0) * np.cos(y / 13.0)
    hu[r < rows * 0.42] = tissue[r < rows * 0.42]
    hu[(r > rows * 0.36) & (r < rows * 0.42)] = 900
    iy, ix = cy + rows * 0.15 * np.sin(k / 5), cx + cols * 0.15 * np.cos(k / 5)
    hu[np.hypot(y - iy, x - ix) < rows * 0.05] = 300
    return (hu + 1024).astype(np.uint16)


def ct(
    *,
    study: str = "1.2.826.0.7.1",
    series: str = "1.2.826.0.7.1.1",
    number: int = 1,
    rows: int = 64,
    cols: int = 64,
    patient: str = "DOE^JANE",
    patient_id: str = "P1",
    study_date: str = "20240102",
    accession: str = "ACC1",
    modality: str = "CT",
    frames: int = 1,
    sop: str | None = None,
) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = CT_IMAGE_STORAGE if frames == 1 else ENHANCED_US_STORAGE
    ds.SOPInstanceUID = sop or f"1.2.826.0.8.{next(_uids)}"
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series
    ds.PatientName = patient
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "F"
    ds.StudyDate = study_date
    ds.StudyTime = "101500"
    ds.AccessionNumber = accession
    ds.StudyID = "1"
    ds.StudyDescription = "CHEST"
    ds.Modality = modality
    ds.SeriesNumber = 1
    ds.SeriesDescription = "AXIAL"
    ds.InstanceNumber = number
    ds.ImagePositionPatient = [0.0, 0.0, float(number)]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = cols
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.WindowCenter = "40"
    ds.WindowWidth = "400"
    if frames > 1:
        ds.NumberOfFrames = str(frames)
        arr = np.stack([phantom(rows, cols, number * 10 + f) for f in range(frames)])
    else:
        arr = phantom(rows, cols, number)
    ds.add_new(0x7FE00010, "OW", arr)
    return ds


def encode(ds: Dataset, transfer_syntax: str = EXPLICIT_LE) -> bytes:
    buf = io.BytesIO()
    dicomfast.write(ds, buf, transfer_syntax=transfer_syntax)
    return buf.getvalue()
