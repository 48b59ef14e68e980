"""The Printer's status (PS3.4 H.4.6): a sheet that cannot be written fails its
print request (0x0110) and the printer reports FAILURE / PRINTER DOWN to the
SCU with an N-EVENT-REPORT; the next print that succeeds reports NORMAL.  Our
SCU answers the reports as they come; pynetdicom's receives them in its
EVT_N_EVENT_REPORT handler."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from dicomfast.net import AE
from dicomfast.printing import PrintServer, make_print_ae, scu
from dicomfast.printing import sopclasses as S

GREY = S.BASIC_GRAYSCALE_PRINT_META


@pytest.fixture
def printer(tmp_path: Path) -> Any:
    out = tmp_path / "films"
    out.write_bytes(b"")  # a file where the output folder should be: sheets cannot be written
    server_state = PrintServer(str(out), dpi=50, fsync=False)
    ae = make_print_ae("PRINTSCP", acse_timeout=10, dimse_timeout=20, network_timeout=30)
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=server_state.handlers())
    try:
        yield server, server_state, out
    finally:
        server.shutdown()


def _image() -> np.ndarray:
    return (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 7) % 4096


def test_our_scu_sees_failure_then_normal(printer: Any) -> None:
    server, state, out = printer
    ae = AE("TESTSCU", acse_timeout=10, dimse_timeout=30, connect_timeout=10)
    ae.add_requested_context(GREY)
    with ae.associate("127.0.0.1", server.port, "PRINTSCP") as assoc:
        (film,) = scu.print_images(assoc, [_image()], film_size="8INX10IN")
        assert film.status == 0x0110 and not film.ok
        assert film.printer_status == ("FAILURE", "PRINTER DOWN")
        status, ds = assoc.send_n_get([], S.PRINTER, S.PRINTER_INSTANCE, meta_uid=GREY)
        assert int(status) == 0 and ds.PrinterStatus == "FAILURE"
        out.unlink()  # the folder can be made again: the printer recovers
        (film,) = scu.print_images(assoc, [_image()], film_size="8INX10IN")
        assert film.ok and film.printer_status == ("NORMAL", "NORMAL")
        (film,) = scu.print_images(assoc, [_image()], film_size="8INX10IN")
        assert film.ok and film.printer_status is None  # no change, no report
    assert state.status == ("NORMAL", "NORMAL")
    assert len(list(out.glob("*/1.png"))) == 2


def test_pynetdicom_scu_receives_the_printer_event(printer: Any) -> None:
    pynetdicom = pytest.importorskip("pynetdicom")
    from pydicom.dataset import Dataset as PdDataset

    server, _, _ = printer
    events: list[tuple[int, str]] = []
    got = threading.Event()

    def on_report(event):  # noqa: ANN001, ANN202
        info = event.event_information
        events.append((event.event_type, str(info.PrinterStatusInfo) if info else ""))
        got.set()
        return 0x0000, None

    ae = pynetdicom.AE(ae_title="PYNSCU")
    ae.add_requested_context(GREY)
    assoc = ae.associate(
        "127.0.0.1",
        server.port,
        ae_title="PRINTSCP",
        evt_handlers=[(pynetdicom.evt.EVT_N_EVENT_REPORT, on_report)],
    )
    assert assoc.is_established
    try:
        fs = PdDataset()
        fs.NumberOfCopies = 1
        session, box = "1.2.826.0.1.3680043.10.999.600.1", "1.2.826.0.1.3680043.10.999.600.2"
        status, _ = assoc.send_n_create(fs, S.FILM_SESSION, session, meta_uid=GREY)
        assert status.Status == 0
        fb = PdDataset()
        fb.ImageDisplayFormat = "STANDARD\\1,1"
        fb.FilmSizeID = "8INX10IN"
        ref = PdDataset()
        ref.ReferencedSOPClassUID = S.FILM_SESSION
        ref.ReferencedSOPInstanceUID = session
        fb.ReferencedFilmSessionSequence = [ref]
        status, _ = assoc.send_n_create(fb, S.FILM_BOX, box, meta_uid=GREY)
        assert status.Status == 0
        status, _ = assoc.send_n_action(None, 1, S.FILM_BOX, box, meta_uid=GREY)
        assert status.Status == 0x0110
        assert got.wait(10)
    finally:
        assoc.release()
    assert events == [(3, "PRINTER DOWN")]
