"""Pictures and video into DICOM: PNG, TIFF and JPEG into Secondary Capture instances,
MPEG-2, MPEG-4 AVC/H.264 and HEVC/H.265 video kept as encoded.

:func:`import_images` makes one instance from one file or a sequence of pictures:

* PNG, TIFF (8/16-bit, grey or colour, every page) and the like: native pixels, as read;
* JPEG (baseline or extended sequential): the file's bytes unchanged, one fragment per
  picture, under JPEG Baseline (1.2.840.10008.1.2.4.50) or Extended (4.51), as DCMTK's
  ``img2dcm`` keeps them (PS3.5 8.2.1; Lossy Image Compression 01, ISO_10918_1);
* a video file: the whole file (MP4 or MPEG-TS container, any for MPEG-2) as the one
  fragment after an empty Basic Offset Table, under the transfer syntax its codec,
  profile and level call for (PS3.5 8.2.5-8.2.11), with Number of Frames, Frame Time and
  Cine Rate from the stream (PyAV: the ``video`` extra).

The SOP class is one of the multi-frame Secondary Capture IODs (PS3.3 A.8.3-A.8.5:
Grayscale Byte, Grayscale Word, True Color), a single picture being one frame, as A.8
asks ("the use of [the single-frame SC Image IOD] is deprecated"); the single-frame SC
Image IOD only for what those do not take (16-bit colour, a colour JPEG not colour
transformed).  Patient and study come from ``like`` then ``keys`` (the helpers of
:mod:`dicomfast.documents`, shared with ``dicomfast encapsulate``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..dataset import Dataset
from ..documents import finish_instance, new_instance
from ..element import DataElement
from ..errors import DicomError
from ..pixels.frames import encapsulate
from . import jpeg
from .raster import read_raster

SC_IMAGE = "1.2.840.10008.5.1.4.1.1.7"
MF_GRAYSCALE_BYTE = "1.2.840.10008.5.1.4.1.1.7.2"
MF_GRAYSCALE_WORD = "1.2.840.10008.5.1.4.1.1.7.3"
MF_TRUE_COLOR = "1.2.840.10008.5.1.4.1.1.7.4"
EXPLICIT_VR_LE = "1.2.840.10008.1.2.1"
#: Conversion Type (0008,0064) defined terms (PS3.3 C.8.6.1).
CONVERSION_TYPES = ("DV", "DI", "DF", "WSD", "SD", "SI", "DRW", "SYN")
_PIXEL_DATA = 0x7FE00010
_UNDEFINED = 0xFFFFFFFF

Path = str | os.PathLike[str]


def _sop_class(samples: int, bits: int, frames: int, path: str) -> str:
    if samples == 1:
        return MF_GRAYSCALE_BYTE if bits == 8 else MF_GRAYSCALE_WORD
    if bits == 8:
        return MF_TRUE_COLOR
    if frames == 1:
        return SC_IMAGE
    raise DicomError("no Secondary Capture IOD holds several frames of 16-bit colour", path=path)


def _image_pixel(ds: Dataset, rows: int, columns: int, samples: int, photometric: str,
                 bits_allocated: int, bits_stored: int) -> None:  # fmt: skip
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = photometric
    ds.Rows = rows
    ds.Columns = columns
    ds.BitsAllocated = bits_allocated
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0
    if samples > 1:
        ds.PlanarConfiguration = 0


def _sc_image(ds: Dataset, frames: int) -> None:
    """General Image, SC Multi-frame Image and Multi-frame attributes (PS3.3 C.7.6.1,
    C.8.6.3, C.7.6.6) for ``frames`` frames; the frame increment is set by the caller."""
    ds.PatientOrientation = ""
    ds.Laterality = ""  # 2C: the body part, paired or not, is unknown here
    ds.BurnedInAnnotation = "YES"
    if ds.SOPClassUID == SC_IMAGE:
        return
    ds.NumberOfFrames = frames
    if ds.SamplesPerPixel == 1:
        ds.PresentationLUTShape = "IDENTITY"
        ds.RescaleIntercept = 0
        ds.RescaleSlope = 1
        ds.RescaleType = "US"


def _lossy(ds: Dataset, method: str) -> None:
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionMethod = method


def _sequence_of_pictures(ds: Dataset, frames: int) -> None:
    """Frames in the order given: Page Number Vector 1..n is the frame increment."""
    if ds.SOPClassUID != SC_IMAGE and frames > 1:
        ds.FrameIncrementPointer = 0x00182001
        ds.PageNumberVector = list(range(1, frames + 1))


def _from_jpegs(paths: list[str], ds_args: dict[str, Any]) -> tuple[Dataset, str]:
    datas, headers = [], []
    for p in paths:
        with open(p, "rb") as fh:
            data = fh.read()
        datas.append(data)
        headers.append(jpeg.parse(data, path=p))
    h = headers[0]
    for p, other in zip(paths[1:], headers[1:], strict=True):
        same = (other.rows, other.columns, other.components, other.precision, other.sof)
        if same != (h.rows, h.columns, h.components, h.precision, h.sof) or (
            other.photometric_interpretation != h.photometric_interpretation
        ):
            raise DicomError(
                "this JPEG differs in size, components or process from the first", path=p
            )
    n = len(paths)
    photometric = h.photometric_interpretation
    if h.components == 3 and photometric == "RGB":
        if n > 1:
            raise DicomError(
                "colour JPEGs that are not colour transformed (RGB): Multi-frame True Color "
                "SC takes YBR_FULL_422 for JPEG; import them one by one", path=paths[0])  # fmt: skip
        sop = SC_IMAGE
    else:
        sop = _sop_class(h.components, h.bits_allocated, n, paths[0])
    ds = new_instance(sop, "OT", **ds_args)
    _image_pixel(ds, h.rows, h.columns, h.components, photometric, h.bits_allocated, h.precision)
    _sc_image(ds, n)
    _sequence_of_pictures(ds, n)
    _lossy(ds, "ISO_10918_1")
    if h.icc_profile and h.components == 3:
        ds.add_new(0x00282000, "OB", h.icc_profile + b"\0" * (len(h.icc_profile) & 1))
    ds[_PIXEL_DATA] = DataElement(_PIXEL_DATA, "OB", encapsulate(datas), _length=_UNDEFINED)
    return ds, h.transfer_syntax


def _from_rasters(paths: list[str], ds_args: dict[str, Any]) -> tuple[Dataset, str]:
    rasters = [read_raster(p) for p in paths]
    first = rasters[0].frames
    for p, r in zip(paths[1:], rasters[1:], strict=True):
        if r.frames.shape[1:] != first.shape[1:] or r.frames.dtype != first.dtype:
            raise DicomError(
                f"{r.frames.shape[1:]} {r.frames.dtype} pixels, the first picture has "
                f"{first.shape[1:]} {first.dtype}: the pictures of one instance must match",
                path=p,
            )
    arr = np.concatenate([r.frames for r in rasters]) if len(rasters) > 1 else first
    n, rows, columns = arr.shape[:3]
    samples = 3 if arr.ndim == 4 else 1
    bits = arr.dtype.itemsize * 8
    photometric = "RGB" if samples == 3 else "MONOCHROME2"
    sop = _sop_class(samples, bits, n, paths[0])
    ds = new_instance(sop, "OT", **ds_args)
    _image_pixel(ds, rows, columns, samples, photometric, bits, bits)
    _sc_image(ds, n)
    _sequence_of_pictures(ds, n)
    icc = rasters[0].icc_profile
    if icc and samples == 3:
        ds.add_new(0x00282000, "OB", icc + b"\0" * (len(icc) & 1))
    data = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
    ds.add_new(_PIXEL_DATA, "OB" if bits == 8 else "OW", data + b"\0" * (len(data) & 1))
    return ds, EXPLICIT_VR_LE


def _from_video(path: str, ds_args: dict[str, Any]) -> tuple[Dataset, str]:
    from .video import COMPRESSION_METHOD, MAX_STREAM, probe

    info = probe(path)
    if os.path.getsize(path) > MAX_STREAM:
        raise DicomError("a video longer than 2^32-2 bytes does not fit one fragment", path=path)
    with open(path, "rb") as fh:
        data = fh.read()
    ds = new_instance(MF_TRUE_COLOR, "OT", **ds_args)
    _image_pixel(ds, info.rows, info.columns, 3, "YBR_PARTIAL_420", 8, 8)
    _sc_image(ds, info.frames)
    frame_time = 1000 / info.rate
    ds.FrameIncrementPointer = 0x00181063
    ds.FrameTime = float(frame_time)
    ds.CineRate = round(info.rate)
    ds.RecommendedDisplayFrameRate = round(info.rate)
    _lossy(ds, COMPRESSION_METHOD[info.codec])
    value = encapsulate([data], offset_table=False)
    ds[_PIXEL_DATA] = DataElement(_PIXEL_DATA, "OB", value, _length=_UNDEFINED)
    return ds, info.transfer_syntax


def _kind(path: str) -> str:
    with open(path, "rb") as fh:
        head = fh.read(16)
    if jpeg.is_jpeg(head):
        return "jpeg"
    if head.startswith((b"\x89PNG", b"II*\0", b"MM\0*", b"II+\0", b"MM\0+", b"BM", b"GIF8")):
        return "raster"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "raster"
    return "video"


def import_images(
    paths: Path | Sequence[Path],
    *,
    like: Path | Dataset | None = None,
    keys: dict[str, Any] | None = None,
    conversion_type: str | None = None,
) -> Dataset:
    """One DICOM instance from the pictures at ``paths`` (frames in the order given) or
    from one video file; patient and study from ``like`` (a reference instance or its
    path), then ``keys`` (keyword=value, set last).  ``conversion_type``: Conversion Type
    (0008,0064), default WSD for pictures, DV for video; DF, SD and SI need
    ``keys["NominalScannedPixelSpacing"]`` (PS3.3 C.8.6.3).  The data set's file meta
    information holds the transfer syntax it is to be written in (``dicomfast.write``
    uses it)."""
    names = (
        [os.fspath(paths)]
        if isinstance(paths, str | os.PathLike)
        else [os.fspath(p) for p in paths]
    )
    if not names:
        raise DicomError("no picture or video to import")
    kinds = [_kind(p) for p in names]
    if "video" in kinds and len(names) > 1:
        raise DicomError("a video is imported on its own, one file per instance")
    if len(set(kinds)) > 1:
        raise DicomError(
            "JPEG and other pictures cannot share an instance: JPEGs are kept as they are"
        )
    kind = kinds[0]
    ct = (conversion_type or ("DV" if kind == "video" else "WSD")).upper()
    if ct not in CONVERSION_TYPES:
        raise DicomError(f"Conversion Type {ct}: one of {', '.join(CONVERSION_TYPES)}")
    if ct in ("DF", "SD", "SI") and "NominalScannedPixelSpacing" not in (keys or {}):
        raise DicomError(
            f"Conversion Type {ct} needs the scanner's pixel spacing: "
            "-k NominalScannedPixelSpacing=ROW\\COLUMN (mm)"
        )
    ds_args: dict[str, Any] = {"like": like, "conversion_type": ct}
    if kind == "jpeg":
        ds, ts = _from_jpegs(names, ds_args)
    elif kind == "raster":
        ds, ts = _from_rasters(names, ds_args)
    else:
        ds, ts = _from_video(names[0], ds_args)
    finish_instance(ds, keys)
    ds.file_meta.TransferSyntaxUID = ts
    return ds


__all__ = ["CONVERSION_TYPES", "import_images"]
