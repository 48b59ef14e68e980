"""The print SCP (PS3.4 H): Basic Grayscale and Basic Color Print Management,
Printer, Presentation LUT, bound to a server through ``EVT_N_*`` handlers.

Each association has its own :class:`PrintState` (its film session, film
boxes, image boxes and presentation LUTs), dropped when the connection
closes.  The SOP classes form a small registry, :data:`CLASSES`: SOP Class
UID -> DIMSE-N operation -> method.  A malformed or impossible request is
answered with the failure status PS3.4 H / PS3.7 C names (0x0120 missing
attribute, 0x0106 invalid attribute value, 0x0112 no such object instance,
0xC600 film session without film box, ...) and the server keeps serving.

Printing a film box (N-ACTION on it, or on the film session for all of its
boxes) renders the sheet (:func:`~dicomfast.printing.render.render`) and
writes ``<output>/<Film Session UID>/<film box number>.png`` and ``.pdf``
(:func:`~dicomfast.printing.sheetfile.write_sheet`) before answering.

The Printer's status (PS3.4 H.4.6): NORMAL while sheets can be written; a
sheet that cannot be written (a full or missing output folder) fails its print
request with 0x0110 and turns the printer to FAILURE / PRINTER DOWN, and a
later print that succeeds turns it back to NORMAL.  Each change is reported to
the SCU that printed with an N-EVENT-REPORT of the Printer SOP Instance (Event
Type ID 1 Normal, 3 Failure) once its request has been answered; N-GET of the
Printer gives the status at any time.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..dataset import Dataset, Sequence
from ..net import dimse
from ..net.dimse import Status
from ..net.events import (
    EVT_CONN_CLOSE,
    EVT_N_ACTION,
    EVT_N_CREATE,
    EVT_N_DELETE,
    EVT_N_GET,
    EVT_N_SET,
    Event,
    EventType,
)
from ..net.services.normalized import new_uid, send_n_event_report
from . import sopclasses as S
from .film import film_inches
from .objects import (
    FilmBox,
    FilmSession,
    PrintRequestError,
    _get,
    _int,
    _ref_uid,
    _text,
    check_box_count,
    film_layout_from,
    image_from,
    presentation_lut_from,
)
from .render import PresentationLut, render
from .sheetfile import write_sheet

log = logging.getLogger("dicomfast.print")

#: The SOP classes a print SCP accepts presentation contexts for.
ABSTRACT_SYNTAXES = (
    S.BASIC_GRAYSCALE_PRINT_META,
    S.BASIC_COLOR_PRINT_META,
    S.PRESENTATION_LUT,
    S.PRINTER,
)


@dataclass
class PrintState:
    """One association's print objects."""

    session: FilmSession | None = None
    film_boxes: dict[str, FilmBox] = field(default_factory=dict)
    #: Image Box SOP Instance UID -> its film box.
    image_boxes: dict[str, FilmBox] = field(default_factory=dict)
    luts: dict[str, PresentationLut] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _ok(reply: Dataset | None = None) -> tuple[int, Dataset | None]:
    return S.SUCCESS, reply


class PrintServer:
    """Print SCP state and handlers.  ``output``: where sheets are written;
    ``dpi``: the printer's resolution; ``film_size``: its default Film Size ID."""

    def __init__(
        self,
        output: str,
        *,
        dpi: int = 320,
        film_size: str = "14INX17IN",
        name: str = "dicomfast",
        fsync: bool = True,
        on_printed: Callable[[str, str], None] | None = None,
    ) -> None:
        self.output = output
        self.dpi = dpi
        self.film_size = film_size
        self.name = name
        self.fsync = fsync
        self.on_printed = on_printed
        self._states: dict[int, PrintState] = {}
        self._lock = threading.Lock()
        #: Printer Status (2110,0010) and Printer Status Info (2110,0020).
        self.status = ("NORMAL", "NORMAL")

    # -- binding ------------------------------------------------------------------------
    def handlers(self) -> list[tuple[EventType, Callable[[Event], Any]]]:
        """``evt_handlers`` for :meth:`dicomfast.net.AE.start_server`."""
        return [
            (EVT_N_CREATE, self.on_request),
            (EVT_N_SET, self.on_request),
            (EVT_N_GET, self.on_request),
            (EVT_N_ACTION, self.on_request),
            (EVT_N_DELETE, self.on_request),
            (EVT_CONN_CLOSE, self.on_close),
        ]

    def state(self, assoc: Any) -> PrintState:
        with self._lock:
            return self._states.setdefault(id(assoc), PrintState())

    def on_close(self, event: Event) -> None:
        with self._lock:
            self._states.pop(id(event.assoc), None)

    def on_request(self, event: Event) -> Any:
        op = _OPERATION[event.event.name]
        cls = event.sop_class_uid or ""
        method = CLASSES.get(cls, {}).get(op)
        if method is None:
            known = cls in CLASSES
            return Status(
                0x0211 if known else S.NO_SUCH_SOP_CLASS,
                {dimse.ERROR_COMMENT: f"{op} not supported for {cls}"[:64]},
            )
        st = self.state(event.assoc)
        try:
            with st.lock:
                return method(self, st, event)
        except PrintRequestError as e:
            log.info("print %s %s refused: 0x%04X %s", op, cls, e.status, e)
            return Status(e.status, {dimse.ERROR_COMMENT: str(e)[:64]})

    # -- Film Session (PS3.4 H.4.1) -----------------------------------------------------
    def session_create(self, st: PrintState, event: Event) -> Any:
        if st.session is not None:
            raise PrintRequestError(
                S.DUPLICATE_SOP_INSTANCE, "a film session exists on this association"
            )
        ds = event.attribute_list
        copies = _int(ds, S.NUMBER_OF_COPIES, 1) or 1
        if not 1 <= copies <= 99:
            raise PrintRequestError(S.INVALID_ATTRIBUTE_VALUE, f"Number of Copies {copies}")
        st.session = FilmSession(
            uid=_safe_uid(event.sop_instance_uid),
            copies=copies,
            label=_text(ds, S.FILM_SESSION_LABEL, "") or "",
            plut_uid=self._lut_ref(st, ds),
        )
        return _ok(ds)

    def session_set(self, st: PrintState, event: Event) -> Any:
        session = self._session(st, event.sop_instance_uid)
        ds = event.modification_list
        copies = _int(ds, S.NUMBER_OF_COPIES, session.copies) or 1
        if not 1 <= copies <= 99:
            raise PrintRequestError(S.INVALID_ATTRIBUTE_VALUE, f"Number of Copies {copies}")
        session.copies = copies
        session.label = _text(ds, S.FILM_SESSION_LABEL, session.label) or ""
        session.plut_uid = self._lut_ref(st, ds) or session.plut_uid
        return _ok(ds)

    def session_delete(self, st: PrintState, event: Event) -> Any:
        self._session(st, event.sop_instance_uid)
        st.session = None
        st.film_boxes.clear()
        st.image_boxes.clear()
        return S.SUCCESS

    def session_action(self, st: PrintState, event: Event) -> Any:
        session = self._session(st, event.sop_instance_uid)
        if event.action_type != 1:
            raise PrintRequestError(S.NO_SUCH_ACTION, f"action {event.action_type}")
        if not session.film_boxes:
            raise PrintRequestError(S.NO_FILM_BOX, "the film session has no film box")
        empty = True
        for box in session.film_boxes:
            empty &= not box.layout.images
            self._print_reporting(st, box, event)
        return S.EMPTY_FILM_SESSION if empty else S.SUCCESS

    # -- Film Box (PS3.4 H.4.2) ---------------------------------------------------------
    def film_box_create(self, st: PrintState, event: Event) -> Any:
        ds = event.attribute_list
        if ds is None:
            raise PrintRequestError(S.MISSING_ATTRIBUTE, "no attribute list")
        ref = _ref_uid(ds, S.REFERENCED_FILM_SESSION_SEQUENCE)
        if ref is None:
            raise PrintRequestError(
                S.MISSING_ATTRIBUTE, "Referenced Film Session Sequence required"
            )
        session = st.session
        if session is None or session.uid != ref:
            raise PrintRequestError(S.INVALID_ATTRIBUTE_VALUE, "no such film session")
        meta = event.context.abstract_syntax if event.context is not None else ""
        color = meta == S.BASIC_COLOR_PRINT_META
        layout = film_layout_from(ds, color=color, default_size=self.film_size)
        n = check_box_count(layout.display_format)
        uid = _safe_uid(event.sop_instance_uid)
        if uid in st.film_boxes:
            raise PrintRequestError(S.DUPLICATE_SOP_INSTANCE, "film box exists")
        image_class = S.COLOR_IMAGE_BOX if color else S.GRAYSCALE_IMAGE_BOX
        box = FilmBox(
            uid=uid,
            session=session,
            layout=layout,
            image_boxes={new_uid(): i + 1 for i in range(n)},
            image_box_class=image_class,
            plut_uid=self._lut_ref(st, ds),
        )
        box.attributes = {e.tag: e for e in ds}
        st.film_boxes[uid] = box
        session.film_boxes.append(box)
        for ib in box.image_boxes:
            st.image_boxes[ib] = box
        refs = []
        for ib in box.image_boxes:
            item = Dataset()
            item.ReferencedSOPClassUID = image_class
            item.ReferencedSOPInstanceUID = ib
            refs.append(item)
        ds.ReferencedImageBoxSequence = Sequence(refs)
        if _get(ds, S.FILM_SIZE_ID) is None:
            ds.FilmSizeID = layout.film_size
        return _ok(ds)

    def film_box_set(self, st: PrintState, event: Event) -> Any:
        box = self._film_box(st, event.sop_instance_uid)
        ds = event.modification_list or Dataset()  # N-SET with nothing to modify
        merged = Dataset()
        for tag, elem in box.attributes.items():
            merged[tag] = elem
        for elem in ds:
            if elem.tag == S.IMAGE_DISPLAY_FORMAT:
                raise PrintRequestError(
                    S.INVALID_ATTRIBUTE_VALUE, "Image Display Format cannot change"
                )
            merged[elem.tag] = elem
        images = box.layout.images
        box.layout = film_layout_from(merged, color=box.layout.color, default_size=self.film_size)
        box.layout.images = images
        box.attributes = {e.tag: e for e in merged}
        box.plut_uid = self._lut_ref(st, ds) or box.plut_uid
        return _ok(ds)

    def film_box_action(self, st: PrintState, event: Event) -> Any:
        box = self._film_box(st, event.sop_instance_uid)
        if event.action_type != 1:
            raise PrintRequestError(S.NO_SUCH_ACTION, f"action {event.action_type}")
        self._print_reporting(st, box, event)
        return S.EMPTY_FILM_BOX if not box.layout.images else S.SUCCESS

    def film_box_delete(self, st: PrintState, event: Event) -> Any:
        box = self._film_box(st, event.sop_instance_uid)
        del st.film_boxes[box.uid]
        for ib in box.image_boxes:
            st.image_boxes.pop(ib, None)
        if box in box.session.film_boxes:
            box.session.film_boxes.remove(box)
        return S.SUCCESS

    # -- Image Box (PS3.4 H.4.3) --------------------------------------------------------
    def image_box_set(self, st: PrintState, event: Event) -> Any:
        uid = event.sop_instance_uid or ""
        box = st.image_boxes.get(uid)
        if box is None:
            raise PrintRequestError(S.NO_SUCH_OBJECT_INSTANCE, "no such image box")
        if event.sop_class_uid != box.image_box_class:
            raise PrintRequestError(S.CLASS_INSTANCE_CONFLICT, "image box class differs")
        ds = event.modification_list
        content = image_from(ds, color=box.layout.color)
        ref = self._lut_ref(st, ds)
        if ref is not None:
            content.presentation_lut = st.luts[ref]
        position = box.image_boxes[uid]
        given = _int(ds, S.IMAGE_BOX_POSITION)
        if given is not None and given != position:
            raise PrintRequestError(
                S.INVALID_ATTRIBUTE_VALUE, f"Image Box Position {given} is {position}"
            )
        box.layout.images[position] = content
        return _ok(None)

    # -- Presentation LUT (PS3.4 H.4.9) -------------------------------------------------
    def lut_create(self, st: PrintState, event: Event) -> Any:
        uid = _safe_uid(event.sop_instance_uid)
        if uid in st.luts:
            raise PrintRequestError(S.DUPLICATE_SOP_INSTANCE, "presentation LUT exists")
        st.luts[uid] = presentation_lut_from(event.attribute_list)
        return _ok(event.attribute_list)

    def lut_delete(self, st: PrintState, event: Event) -> Any:
        if st.luts.pop(event.sop_instance_uid or "", None) is None:
            raise PrintRequestError(S.NO_SUCH_OBJECT_INSTANCE, "no such presentation LUT")
        return S.SUCCESS

    # -- Printer (PS3.4 H.4.6) ----------------------------------------------------------
    def printer_get(self, st: PrintState, event: Event) -> Any:
        if event.sop_instance_uid != S.PRINTER_INSTANCE:
            raise PrintRequestError(
                S.NO_SUCH_OBJECT_INSTANCE, "the printer is 1.2.840.10008.5.1.1.17"
            )
        ds = Dataset()
        ds.Manufacturer = "dicomfast"
        ds.ManufacturerModelName = "dicomfast print-server"
        ds.SoftwareVersions = "dicomfast"
        ds.PrinterStatus, ds.PrinterStatusInfo = self.status
        ds.PrinterName = self.name[:64]
        return _ok(ds)

    # -- helpers ------------------------------------------------------------------------
    def _session(self, st: PrintState, uid: str | None) -> FilmSession:
        if st.session is None or st.session.uid != uid:
            raise PrintRequestError(S.NO_SUCH_OBJECT_INSTANCE, "no such film session")
        return st.session

    def _film_box(self, st: PrintState, uid: str | None) -> FilmBox:
        box = st.film_boxes.get(uid or "")
        if box is None:
            raise PrintRequestError(S.NO_SUCH_OBJECT_INSTANCE, "no such film box")
        return box

    def _lut_ref(self, st: PrintState, ds: Any) -> str | None:
        ref = _ref_uid(ds, S.REFERENCED_PRESENTATION_LUT_SEQUENCE)
        if ref is not None and ref not in st.luts:
            raise PrintRequestError(S.INVALID_ATTRIBUTE_VALUE, "no such presentation LUT")
        return ref

    def _print_reporting(self, st: PrintState, box: FilmBox, event: Event) -> None:
        """Print ``box``; a change of the printer's status is reported to the
        requesting SCU once its request is answered."""
        try:
            self._print(st, box)
        except OSError as e:
            self._set_status(("FAILURE", "PRINTER DOWN"), event)
            raise PrintRequestError(
                S.PROCESSING_FAILURE, f"the sheet cannot be written: {e}"
            ) from e
        self._set_status(("NORMAL", "NORMAL"), event)

    def _set_status(self, status: tuple[str, str], event: Event) -> None:
        with self._lock:
            if status == self.status:
                return
            self.status = status
        log.warning("printer status %s (%s)", *status)
        event_type = {"NORMAL": 1, "WARNING": 2, "FAILURE": 3}[status[0]]
        info = None
        if event_type != 1:
            info = Dataset()
            info.PrinterStatusInfo = status[1]
        assoc, meta = event.assoc, event.context.abstract_syntax if event.context else None

        async def report() -> None:
            await send_n_event_report(
                assoc, info, event_type, S.PRINTER, S.PRINTER_INSTANCE, meta_uid=meta
            )

        event.after.append(report)

    def _print(self, st: PrintState, box: FilmBox) -> tuple[str, str]:
        session = box.session
        ref = box.plut_uid or session.plut_uid
        box.layout.presentation_lut = st.luts.get(ref) if ref else None
        sheet = render(box.layout, self.dpi)
        folder = os.path.join(self.output, session.uid)
        os.makedirs(folder, exist_ok=True)
        number = session.film_boxes.index(box) + 1
        w_in, h_in = film_inches(box.layout.film_size, box.layout.orientation)
        text = {
            "Software": "dicomfast print-server",
            "Title": f"film session {session.uid} film box {number}",
            "DICOM:FilmSizeID": box.layout.film_size,
            "DICOM:ImageDisplayFormat": box.layout.display_format,
            "DICOM:NumberOfCopies": str(session.copies),
            "DICOM:Density": (
                f"D = {box.layout.max_density / 100:.2f} - v/65535 * "
                f"{(box.layout.max_density - box.layout.min_density) / 100:.2f}"
            ),
        }
        paths = write_sheet(
            sheet,
            os.path.join(folder, str(number)),
            dpi=self.dpi,
            width_in=w_in,
            height_in=h_in,
            text=text,
            fsync=self.fsync,
        )
        box.printed += 1
        log.info("printed %s", paths[0])
        if self.on_printed is not None:
            self.on_printed(*paths)
        return paths


def _safe_uid(uid: str | None) -> str:
    """A SOP Instance UID fit to name a folder (UIDs are digits and dots)."""
    uid = (uid or "").strip()
    if not uid or len(uid) > 64 or any(c not in "0123456789." for c in uid):
        raise PrintRequestError(S.INVALID_ATTRIBUTE_VALUE, f"bad SOP Instance UID {uid!r}")
    return uid


_OPERATION = {
    "EVT_N_CREATE": "N-CREATE",
    "EVT_N_SET": "N-SET",
    "EVT_N_GET": "N-GET",
    "EVT_N_ACTION": "N-ACTION",
    "EVT_N_DELETE": "N-DELETE",
}

Method = Callable[[PrintServer, PrintState, Event], Any]

#: SOP Class UID -> DIMSE-N operation -> the method answering it (PS3.4 H.4).
CLASSES: dict[str, dict[str, Method]] = {
    S.FILM_SESSION: {
        "N-CREATE": PrintServer.session_create,
        "N-SET": PrintServer.session_set,
        "N-DELETE": PrintServer.session_delete,
        "N-ACTION": PrintServer.session_action,
    },
    S.FILM_BOX: {
        "N-CREATE": PrintServer.film_box_create,
        "N-SET": PrintServer.film_box_set,
        "N-DELETE": PrintServer.film_box_delete,
        "N-ACTION": PrintServer.film_box_action,
    },
    S.GRAYSCALE_IMAGE_BOX: {"N-SET": PrintServer.image_box_set},
    S.COLOR_IMAGE_BOX: {"N-SET": PrintServer.image_box_set},
    S.PRESENTATION_LUT: {"N-CREATE": PrintServer.lut_create, "N-DELETE": PrintServer.lut_delete},
    S.PRINTER: {"N-GET": PrintServer.printer_get},
}


def make_print_ae(ae_title: str = "PRINTSCP", **kw: Any) -> Any:
    """An AE accepting the print SOP classes (as SCP)."""
    from ..net import AE

    ae = AE(ae_title, **kw)
    for uid in ABSTRACT_SYNTAXES:
        ae.add_supported_context(uid)
    return ae
