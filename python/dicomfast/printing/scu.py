"""The print SCU (PS3.4 H): images rendered through the display pipeline to
8- or 12-bit P-Values (grey) or 8-bit RGB (colour), laid onto as many film
boxes as they need, printed film box by film box, and the film session
deleted at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..dataset import Dataset, Sequence
from ..errors import DicomError
from . import sopclasses as S
from .objects import check_box_count


class PrintError(DicomError):
    """A print request the printer refused."""


@dataclass
class FilmResult:
    number: int
    images: int
    status: int
    comment: str | None = None
    #: The printer's status, if it reported a change while this film was printed
    #: (N-EVENT-REPORT of the Printer SOP Instance): (Printer Status, Status Info).
    printer_status: tuple[str, str] | None = None

    @property
    def ok(self) -> bool:
        return (
            self.status == 0 or 0xB000 <= self.status <= 0xBFFF or 0x0001 <= self.status <= 0x00FF
        )


def print_image(ds: Any, *, bits: int = 12, color: bool = False) -> np.ndarray:
    """The first frame of ``ds`` as P-Values of ``bits`` (8 or 12) bits, or 8-bit RGB."""
    from ..batch.export import display_frame

    arr = ds.frame(0) if int(ds.get("NumberOfFrames") or 1) > 1 else ds.pixel_array
    if color:
        img = display_frame(arr, ds, bits=8)
        return img if img.ndim == 3 else np.repeat(img[..., None], 3, axis=2)
    img = display_frame(arr, ds, bits=8 if bits == 8 else 16)
    if img.ndim == 3:  # a colour image on a grayscale printer: its luma
        img = np.rint(img @ np.array([0.299, 0.587, 0.114])).astype(img.dtype)
    return img if bits == 8 else (img >> 4).astype(np.uint16)


def image_box_dataset(img: np.ndarray, position: int, *, color: bool, bits: int) -> Dataset:
    """The Image Box N-SET modification list for ``img`` (PS3.3 C.13.5/C.13.6)."""
    item = Dataset()
    rows, cols = img.shape[:2]
    item.SamplesPerPixel = 3 if color else 1
    item.PhotometricInterpretation = "RGB" if color else "MONOCHROME2"
    if color:
        item.PlanarConfiguration = 1
    item.Rows = rows
    item.Columns = cols
    item.PixelAspectRatio = [1, 1]
    alloc = 8 if color or bits == 8 else 16
    item.BitsAllocated = alloc
    item.BitsStored = 8 if color else bits
    item.HighBit = item.BitsStored - 1
    item.PixelRepresentation = 0
    if color:
        data = np.ascontiguousarray(img.transpose(2, 0, 1)).tobytes()  # colour-by-plane
        item.add_new(0x7FE00010, "OB", data)
    elif alloc == 8:
        item.add_new(0x7FE00010, "OB", np.ascontiguousarray(img, np.uint8).tobytes())
    else:
        item.add_new(0x7FE00010, "OW", np.ascontiguousarray(img, "<u2").tobytes())
    ds = Dataset()
    ds.ImageBoxPosition = position
    ds.Polarity = "NORMAL"
    if color:
        ds.BasicColorImageSequence = Sequence([item])
    else:
        ds.BasicGrayscaleImageSequence = Sequence([item])
    return ds


def _uid_of(status: Any, fallback: str | None = None) -> str | None:
    return (getattr(status, "command", {}) or {}).get(0x00001000) or fallback


def _check(status: Any, what: str) -> None:
    code = int(status)
    if code != 0 and not 0xB000 <= code <= 0xBFFF and not 0x0001 <= code <= 0x00FF:
        comment = getattr(status, "ErrorComment", None)
        raise PrintError(f"{what}: status 0x{code:04X}" + (f" ({comment})" if comment else ""))


def print_images(
    assoc: Any,
    images: Iterable[np.ndarray],
    *,
    layout: str = "STANDARD\\1,1",
    film_size: str = "14INX17IN",
    orientation: str | None = None,
    copies: int = 1,
    color: bool = False,
    bits: int = 12,
    magnification: str | None = None,
    on_film: Callable[[FilmResult], None] | None = None,
) -> list[FilmResult]:
    """Print ``images`` on ``assoc`` (an associated print SCU association):
    one film session, as many film boxes of ``layout`` as needed, each printed
    (N-ACTION on the film box) and the session deleted.  Returns one result per film."""
    meta = S.BASIC_COLOR_PRINT_META if color else S.BASIC_GRAYSCALE_PRINT_META
    image_class = S.COLOR_IMAGE_BOX if color else S.GRAYSCALE_IMAGE_BOX
    per_film = check_box_count(layout)
    fs = Dataset()
    fs.NumberOfCopies = copies
    # Print Priority, Medium Type, Film Destination: the printer's defaults
    status, _ = assoc.send_n_create(fs, S.FILM_SESSION, None, meta_uid=meta)
    _check(status, "Film Session N-CREATE")
    session_uid = _uid_of(status)
    if not session_uid:
        raise PrintError("Film Session N-CREATE: no SOP Instance UID in the response")
    results: list[FilmResult] = []
    try:
        pending: list[np.ndarray] = []
        it = iter(images)
        exhausted = False
        while not exhausted:
            pending = []
            for img in it:
                pending.append(img)
                if len(pending) == per_film:
                    break
            else:
                exhausted = True
            if not pending:
                break
            results.append(
                _print_film(
                    assoc,
                    pending,
                    len(results) + 1,
                    session_uid,
                    meta,
                    image_class,
                    layout,
                    film_size,
                    orientation,
                    color,
                    bits,
                    magnification,
                )
            )
            if on_film is not None:
                on_film(results[-1])
    finally:
        assoc.send_n_delete(S.FILM_SESSION, session_uid, meta_uid=meta)
    return results


def _print_film(
    assoc: Any,
    images: list[np.ndarray],
    number: int,
    session_uid: str,
    meta: str,
    image_class: str,
    layout: str,
    film_size: str,
    orientation: str | None,
    color: bool,
    bits: int,
    magnification: str | None,
) -> FilmResult:
    fb = Dataset()
    fb.ImageDisplayFormat = layout
    fb.FilmSizeID = film_size
    if orientation:
        fb.FilmOrientation = orientation
    if magnification:
        fb.MagnificationType = magnification
    ref = Dataset()
    ref.ReferencedSOPClassUID = S.FILM_SESSION
    ref.ReferencedSOPInstanceUID = session_uid
    fb.ReferencedFilmSessionSequence = Sequence([ref])
    status, reply = assoc.send_n_create(fb, S.FILM_BOX, None, meta_uid=meta)
    _check(status, "Film Box N-CREATE")
    box_uid = _uid_of(status)
    seq = reply.get("ReferencedImageBoxSequence") if reply is not None else None
    if not box_uid or not seq or len(seq) < len(images):
        raise PrintError(
            "Film Box N-CREATE: no film box UID or too few image boxes in the response"
        )
    for pos, (img, item) in enumerate(zip(images, seq, strict=False), 1):
        ib_uid = str(item.ReferencedSOPInstanceUID)
        ib_class = str(item.get("ReferencedSOPClassUID") or image_class)
        st, _ = assoc.send_n_set(
            image_box_dataset(img, pos, color=color, bits=bits), ib_class, ib_uid, meta_uid=meta
        )
        _check(st, f"Image Box {pos} N-SET")
    status, _ = assoc.send_n_action(None, 1, S.FILM_BOX, box_uid, meta_uid=meta)
    result = FilmResult(number, len(images), int(status), getattr(status, "ErrorComment", None))
    assoc.send_n_delete(S.FILM_BOX, box_uid, meta_uid=meta)
    result.printer_status = printer_status_reported(assoc)
    return result


_PRINTER_EVENTS = {1: "NORMAL", 2: "WARNING", 3: "FAILURE"}


def printer_status_reported(assoc: Any) -> tuple[str, str] | None:
    """The last Printer status the SCP reported on ``assoc`` (N-EVENT-REPORTs are
    answered by the association as they come), taking them off its list; None if
    it reported none."""
    reports = getattr(assoc, "async_association", assoc).event_reports
    last = None
    for entry in list(reports):
        command, ds = entry
        if command.get(0x00000002) != S.PRINTER:
            continue
        reports.remove(entry)
        state = _PRINTER_EVENTS.get(int(command.get(0x00001002) or 0), "UNKNOWN")
        info = ds.get("PrinterStatusInfo") if ds is not None else None
        value = info.value if info is not None and hasattr(info, "value") else info or state
        last = (state, str(value))
    return last
