"""The header of a JPEG file (ISO/IEC 10918-1 B.2): what DICOM needs to say about a JPEG
kept as it is, encapsulated without recompression (PS3.5 8.2.1, Table 8.2.1-1)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import DicomError

JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
JPEG_EXTENDED = "1.2.840.10008.1.2.4.51"
_SOF_NAMES = {
    0xC2: "progressive",
    0xC3: "lossless",
    0xC5: "differential sequential",
    0xC6: "differential progressive",
    0xC7: "differential lossless",
    0xC9: "arithmetic sequential",
    0xCA: "arithmetic progressive",
    0xCB: "arithmetic lossless",
    0xCD: "arithmetic differential sequential",
    0xCE: "arithmetic differential progressive",
    0xCF: "arithmetic differential lossless",
}
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


@dataclass(frozen=True)
class JpegHeader:
    rows: int
    columns: int
    components: int
    #: Sample precision P: 8, or 12 for extended sequential.
    precision: int
    #: The SOF marker: 0xC0 baseline, 0xC1 extended sequential.
    sof: int
    jfif: bool
    #: The transform flag of an Adobe APP14 segment (0: none, RGB; 1: YCbCr), if any.
    adobe_transform: int | None
    component_ids: tuple[int, ...]
    #: The concatenated ICC profile of APP2 "ICC_PROFILE" segments, if any.
    icc_profile: bytes | None

    @property
    def transfer_syntax(self) -> str:
        return JPEG_BASELINE if self.sof == 0xC0 else JPEG_EXTENDED

    @property
    def photometric_interpretation(self) -> str:
        """MONOCHROME2 for one component; for three, RGB when the file says its components
        are not colour transformed (Adobe transform 0, or ids 'R', 'G', 'B' without JFIF),
        else YBR_FULL_422 (the colour space of JFIF and of almost every JPEG)."""
        if self.components == 1:
            return "MONOCHROME2"
        if self.adobe_transform == 0:
            return "RGB"
        if not self.jfif and self.adobe_transform is None and self.component_ids == (82, 71, 66):
            return "RGB"
        return "YBR_FULL_422"

    @property
    def bits_allocated(self) -> int:
        return 8 if self.precision == 8 else 16


def is_jpeg(head: bytes) -> bool:
    return head[:3] == b"\xff\xd8\xff"


def parse(data: bytes, *, path: str | None = None) -> JpegHeader:
    """The header of the JPEG ``data``; a DicomError for anything that is not a baseline
    or extended sequential (Huffman) JPEG of 1 or 3 components."""
    if not is_jpeg(data):
        raise DicomError("not a JPEG file (no SOI marker)", path=path)
    pos, n = 2, len(data)
    jfif = False
    adobe: int | None = None
    icc: dict[int, bytes] = {}
    while pos < n:
        if data[pos] != 0xFF:
            raise DicomError(f"JPEG: no marker at byte {pos}", path=path)
        while pos < n and data[pos] == 0xFF:
            pos += 1
        if pos >= n:
            break
        marker = data[pos]
        pos += 1
        if marker in _STANDALONE:
            continue
        if marker in (0xD9, 0xDA):
            break
        if pos + 2 > n:
            break
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        body = data[pos + 2 : pos + length]
        if length < 2 or len(body) != length - 2:
            raise DicomError("JPEG: truncated marker segment", path=path)
        pos += length
        if marker == 0xE0 and body.startswith(b"JFIF\0"):
            jfif = True
        elif marker == 0xEE and body.startswith(b"Adobe") and len(body) >= 12:
            adobe = body[11]
        elif marker == 0xE2 and body.startswith(b"ICC_PROFILE\0") and len(body) >= 14:
            icc[body[12]] = body[14:]
        elif marker in (0xC0, 0xC1):
            p, y, x, nf = struct.unpack(">BHHB", body[:6])
            ids = tuple(body[6 + 3 * i] for i in range(nf))
            if y == 0:
                raise DicomError("JPEG: the number of lines is defined later (DNL)", path=path)
            if nf not in (1, 3):
                raise DicomError(f"JPEG with {nf} components: DICOM takes 1 or 3", path=path)
            if p not in (8, 12):
                raise DicomError(f"JPEG sample precision {p}", path=path)
            return JpegHeader(
                y, x, nf, p, marker, jfif, adobe, ids,
                b"".join(icc[k] for k in sorted(icc)) if icc else None,
            )  # fmt: skip
        elif marker in _SOF_NAMES:
            raise DicomError(
                f"{_SOF_NAMES[marker]} JPEG cannot be kept as it is (DICOM keeps baseline "
                "and extended sequential JPEG unchanged); save it as baseline JPEG or PNG",
                path=path,
            )
    raise DicomError("JPEG: no frame header (SOF) before the scan", path=path)
