"""The one exception hierarchy of dicomfast.

Every error names what went wrong and where: the byte ``offset`` in the data
that was being read, the ``tag`` of the element, the ``frame`` of pixel data,
or the network ``peer``.  Each class also subclasses the builtin that fits, so
``except ValueError`` keeps working for code that does not know dicomfast.
"""

from __future__ import annotations


def _fmt_tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


class DicomError(Exception):
    """Base class of every dicomfast error."""

    def __init__(
        self,
        message: str,
        *,
        offset: int | None = None,
        tag: int | None = None,
        frame: int | None = None,
        peer: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.tag = tag
        self.frame = frame
        self.peer = peer
        self.path = path

    def __str__(self) -> str:
        where = []
        if self.path is not None:
            where.append(f"file {self.path}")
        if self.peer is not None:
            where.append(f"peer {self.peer}")
        if self.frame is not None:
            where.append(f"frame {self.frame}")
        if self.tag is not None and _fmt_tag(self.tag) not in self.message:
            where.append(f"element {_fmt_tag(self.tag)}")
        if self.offset is not None and "offset" not in self.message:
            where.append(f"byte offset {self.offset}")
        return self.message + (f" [{', '.join(where)}]" if where else "")


class InvalidDicomError(DicomError, ValueError):
    """The bytes are not a valid DICOM file or data set."""


class TruncatedDataError(InvalidDicomError, EOFError):
    """The data ends inside an element, item or delimited value."""


class CharacterSetError(DicomError, ValueError):
    """Text cannot be decoded or encoded in the Specific Character Set."""


class WriteError(DicomError, ValueError):
    """A data set cannot be written as asked (e.g. a value too long, an unknown VR)."""


class PixelDataError(DicomError, ValueError):
    """Pixel data is missing, corrupt or disagrees with the image attributes."""


class CalibrationFileError(DicomError, ValueError):
    """A display or printer characteristic curve (``.lut`` file, PS3.14) cannot be used."""


class DeidentificationError(DicomError, ValueError):
    """De-identification cannot be done as asked (an unknown or unimplemented option, a
    bad key or patient map, burned-in annotation that must not be passed on)."""


class NetworkError(DicomError, ConnectionError):
    """An association or DIMSE exchange failed."""


class PduError(NetworkError, ValueError):
    """A PDU or DIMSE command set is malformed, oversized or out of order."""


class AssociationRejected(NetworkError):
    """The peer (or our acceptor policy) rejected the association.

    ``result``, ``source`` and ``reason`` are the A-ASSOCIATE-RJ fields of
    PS3.8 Table 9-21.
    """

    result: int | None = None
    source: int | None = None
    reason: int | None = None


class AssociationAborted(NetworkError):
    """The association was aborted (A-ABORT, A-P-ABORT or the connection was lost)."""


class DimseTimeout(NetworkError, TimeoutError):
    """No DIMSE response (or no network activity) within the timeout."""


class PresentationContextError(NetworkError):
    """No accepted presentation context can carry this request or data set."""
