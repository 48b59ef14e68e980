"""DICOM Print (PS3.4 Annex H): DCMTK's print SCU (dcmpsprt + dcmprscu) printing
to our SCP, our SCU printing to DCMTK's dcmprscp, and our SCP's answers to
malformed requests (the PS3.4 statuses; the server keeps serving)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from dicomfast import read
from dicomfast.dataset import Dataset, Sequence
from dicomfast.net import AE
from dicomfast.printing import scu
from dicomfast.printing import sopclasses as S
from printutil import ct_slices, dcmtk, dcmtk_print, free_port, write_config

GREY = S.BASIC_GRAYSCALE_PRINT_META


def _png(path: str) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im)


def _assert_sheet(
    png: str, pdf: str, size_px: tuple[int, int], size_pt: tuple[float, float]
) -> np.ndarray:
    sheet = _png(png)
    assert sheet.shape[:2] == (size_px[1], size_px[0])
    head = Path(pdf).read_bytes()[:4096]
    assert head.startswith(b"%PDF-1.5")
    assert f"/MediaBox [0 0 {size_pt[0]:.4f} {size_pt[1]:.4f}]".encode() in head
    return sheet


def _associate(server: Any, *metas: str) -> Any:
    ae = AE("TESTSCU", acse_timeout=10, dimse_timeout=30, connect_timeout=10)
    for m in metas or (GREY,):
        ae.add_requested_context(m)
    return ae.associate("127.0.0.1", server.port, "PRINTSCP")


def test_dcmtk_print_scu_to_our_scp(print_scp: Any, tmp_path: Path) -> None:
    server, out, printed = print_scp
    cfg = write_config(tmp_path, server.port)
    dcmtk_print(cfg, ct_slices(3), layout=(2, 2), film_size="14INX17IN")
    assert len(printed) == 1
    png, pdf = printed[0]
    assert Path(png).parent.parent == out and Path(png).name == "1.png"
    sheet = _assert_sheet(png, pdf, (1400, 1700), (1008.0, 1224.0))
    assert sheet.dtype == np.uint16
    # three image boxes hold CT slices, the fourth is empty (black)
    h, w = sheet.shape
    quads = [
        sheet[: h // 2, : w // 2],
        sheet[: h // 2, w // 2 :],
        sheet[h // 2 :, : w // 2],
        sheet[h // 2 :, w // 2 :],
    ]
    for q in quads[:3]:
        assert q.std() > 5000 and q.max() > 60000
    assert quads[3].max() == 0
    assert not list(out.rglob(".print-*"))  # no temporary file left


def test_our_scu_to_dcmprscp(tmp_path: Path) -> None:
    port = free_port()
    cfg = write_config(tmp_path, port)
    proc = subprocess.Popen(
        [dcmtk("dcmprscp"), "-c", str(cfg), "-p", "LOCAL"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        files = ct_slices(5)
        deadline = time.monotonic() + 10
        while True:
            r = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "dicomfast",
                    "print",
                    "127.0.0.1",
                    str(port),
                    *map(str, files),
                    "--layout",
                    "STANDARD\\2,2",
                    "--film-size",
                    "14INX17IN",
                ],
                capture_output=True,
                text=True,
                timeout=60,
            )
            if (
                r.returncode == 0
                or time.monotonic() > deadline
                or "refused" not in r.stderr.lower()
            ):
                break
            time.sleep(0.2)
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines() == [
            "film 1: 4 images printed 0x0000",
            "film 2: 1 images printed 0x0000",
        ]
    finally:
        proc.terminate()
        proc.wait(10)
    hardcopies = sorted((tmp_path / "db").glob("HG_*.dcm"))
    assert len(hardcopies) == 5
    stored = sorted(np.asarray(read(p).pixel_array).tobytes() for p in hardcopies)
    ours = sorted(scu.print_image(read(p), bits=12).tobytes() for p in files)
    assert stored == ours
    assert len(list((tmp_path / "db").glob("SP_*.dcm"))) == 2  # one Stored Print per film


def _film_session(assoc: Any) -> str:
    status, _ = assoc.send_n_create(Dataset(), S.FILM_SESSION, None, meta_uid=GREY)
    assert status == 0
    return status.command[0x00001000]


def _film_box(session: str | None, fmt: str | None = "STANDARD\\1,1", **kw: Any) -> Dataset:
    fb = Dataset()
    if fmt is not None:
        fb.ImageDisplayFormat = fmt
    for k, v in kw.items():
        setattr(fb, k, v)
    if session is not None:
        ref = Dataset()
        ref.ReferencedSOPClassUID = S.FILM_SESSION
        ref.ReferencedSOPInstanceUID = session
        fb.ReferencedFilmSessionSequence = Sequence([ref])
    return fb


def test_malformed_requests_get_ps34_statuses(print_scp: Any) -> None:
    server, out, printed = print_scp
    img = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) % 4096).astype(np.uint16)
    with _associate(server) as assoc:
        # N-ACTION on a film session with no film box: 0xC600
        session = _film_session(assoc)
        assert assoc.send_n_action(None, 1, S.FILM_SESSION, session, meta_uid=GREY)[0] == 0xC600
        # film box: no Image Display Format / no film session reference: 0x0120
        assert assoc.send_n_create(_film_box(session, None), S.FILM_BOX, meta_uid=GREY)[0] == 0x0120
        assert assoc.send_n_create(_film_box(None), S.FILM_BOX, meta_uid=GREY)[0] == 0x0120
        # bad layout, film size, density: 0x0106
        assert (
            assoc.send_n_create(_film_box(session, "SLIDE\\9"), S.FILM_BOX, meta_uid=GREY)[0]
            == 0x0106
        )
        assert (
            assoc.send_n_create(
                _film_box(session, FilmSizeID="99INX99IN"), S.FILM_BOX, meta_uid=GREY
            )[0]
            == 0x0106
        )
        assert (
            assoc.send_n_create(
                _film_box(session, BorderDensity="GREY"), S.FILM_BOX, meta_uid=GREY
            )[0]
            == 0x0106
        )
        # unknown instances: 0x0112
        assert assoc.send_n_action(None, 1, S.FILM_BOX, "1.2.3.4", meta_uid=GREY)[0] == 0x0112
        ds = scu.image_box_dataset(img, 1, color=False, bits=12)
        assert assoc.send_n_set(ds, S.GRAYSCALE_IMAGE_BOX, "1.2.3.4", meta_uid=GREY)[0] == 0x0112
        # a good film box; the image box gets 10-bit data (0x0106), no image sequence (0x0120)
        status, reply = assoc.send_n_create(
            _film_box(session, "STANDARD\\2,1"), S.FILM_BOX, meta_uid=GREY
        )
        assert status == 0
        box = status.command[0x00001000]
        boxes = [str(i.ReferencedSOPInstanceUID) for i in reply.ReferencedImageBoxSequence]
        assert len(boxes) == 2
        bad = scu.image_box_dataset(img, 1, color=False, bits=12)
        bad.BasicGrayscaleImageSequence[0].BitsStored = 10
        assert assoc.send_n_set(bad, S.GRAYSCALE_IMAGE_BOX, boxes[0], meta_uid=GREY)[0] == 0x0106
        empty = Dataset()
        empty.ImageBoxPosition = 1
        assert assoc.send_n_set(empty, S.GRAYSCALE_IMAGE_BOX, boxes[0], meta_uid=GREY)[0] == 0x0120
        # an empty film box prints with warning 0xB603
        assert assoc.send_n_action(None, 1, S.FILM_BOX, box, meta_uid=GREY)[0] == 0xB603
        # ... and the server still serves: set one image, print, REVERSE polarity on the other
        assert assoc.send_n_set(ds, S.GRAYSCALE_IMAGE_BOX, boxes[0], meta_uid=GREY)[0] == 0
        rev = scu.image_box_dataset(img, 2, color=False, bits=12)
        rev.Polarity = "REVERSE"
        assert assoc.send_n_set(rev, S.GRAYSCALE_IMAGE_BOX, boxes[1], meta_uid=GREY)[0] == 0
        assert assoc.send_n_action(None, 1, S.FILM_SESSION, session, meta_uid=GREY)[0] == 0
        st, printer = assoc.send_n_get([], S.PRINTER, S.PRINTER_INSTANCE, meta_uid=GREY)
        assert st == 0 and printer.PrinterStatus == "NORMAL"
        assert assoc.send_n_delete(S.FILM_SESSION, session, meta_uid=GREY) == 0
        assert assoc.send_n_delete(S.FILM_SESSION, session, meta_uid=GREY) == 0x0112
    sheet = _png(printed[-1][0])
    assert sheet.shape == (1700, 1400)  # the printer's default 14INX17IN at 100 dpi
    h, w = sheet.shape
    left, right = sheet[:, : w // 2], sheet[:, w // 2 :]
    # the same ramp with NORMAL and REVERSE polarity: mirrored densities
    assert left.max() == right.max() == 65535 and left.min() == right.min() == 0
    ys, xs = np.nonzero(left != 0)
    assert (
        abs(float(left[ys.min() + 2, xs.min() + 2]) - float(right[ys.min() + 2, xs.min() + 2]))
        > 30000
    )


def test_color_print_and_lin_od_presentation_lut(print_scp: Any, tmp_path: Path) -> None:
    server, out, printed = print_scp
    ds = Dataset()
    ds.Rows, ds.Columns = 32, 48
    rgb = np.zeros((32, 48, 3), np.uint8)
    rgb[..., 0] = 255
    with _associate(server, S.BASIC_COLOR_PRINT_META) as assoc:
        films = scu.print_images(
            assoc, [rgb], layout="STANDARD\\1,1", film_size="8INX10IN", color=True
        )
    assert [f.status for f in films] == [0]
    sheet = _png(printed[-1][0])
    assert sheet.shape == (1000, 800, 3)
    middle = sheet[500, 400]
    assert tuple(middle) == (255, 0, 0)
    # a LIN OD presentation LUT: the film box's densities are linear in the values
    with _associate(server, GREY, S.PRESENTATION_LUT) as assoc:
        lut = Dataset()
        lut.PresentationLUTShape = "LIN OD"
        status, _ = assoc.send_n_create(lut, S.PRESENTATION_LUT, None, meta_uid=S.PRESENTATION_LUT)
        assert status == 0
        lut_uid = status.command[0x00001000]
        session = _film_session(assoc)
        ref = Dataset()
        ref.ReferencedSOPClassUID = S.PRESENTATION_LUT
        ref.ReferencedSOPInstanceUID = lut_uid
        fb = _film_box(session, FilmSizeID="8INX10IN", MagnificationType="REPLICATE")
        fb.ReferencedPresentationLUTSequence = Sequence([ref])
        status, reply = assoc.send_n_create(fb, S.FILM_BOX, meta_uid=GREY)
        assert status == 0
        ramp = np.tile(np.arange(256, dtype=np.uint8), (256, 1))
        ib = str(reply.ReferencedImageBoxSequence[0].ReferencedSOPInstanceUID)
        assert (
            assoc.send_n_set(
                scu.image_box_dataset(ramp, 1, color=False, bits=8),
                S.GRAYSCALE_IMAGE_BOX,
                ib,
                meta_uid=GREY,
            )[0]
            == 0
        )
        assert (
            assoc.send_n_action(None, 1, S.FILM_BOX, status.command[0x00001000], meta_uid=GREY)[0]
            == 0
        )
    sheet = _png(printed[-1][0])
    row = sheet[500, 400 - 384 : 400 + 384 : 3].astype(np.float64)  # REPLICATE x3 of the ramp
    # LIN OD: the code (linear in density) is linear in the value
    assert np.allclose(row, np.arange(256) * 65535 / 255, atol=1)
