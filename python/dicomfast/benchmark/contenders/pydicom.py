"""pydicom 3 (in-process): ``dcmread``, its pixel decoders (whichever plugin
pydicom picks), its own RLE encoder; pynetdicom for ``store`` (SCU -> SCP)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..compare import decode_frames_ours, parse_form, pixels_of_file, values_form
from ..registry import Contender, Declines, Job, Skip, Unsupported, module_version
from ..workload import NATIVE, RLE, Workload


def _quiet(names: tuple[str, ...] = ("pydicom",)) -> Callable[[], None]:
    """Silence these loggers (pydicom's) until the returned function is called: a file
    none of its pixel plugins decodes logs each one's traceback, an odd value a warning
    each time it is read, and pynetdicom a traceback for each data set it cannot
    encode (the bench reports an error itself, once, and names the files it went past)."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)

    def restore() -> None:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)

    return restore


@contextmanager
def _quieted() -> Iterator[None]:
    """pydicom's logger silent for the block (:func:`_quiet`)."""
    restore = _quiet()
    try:
        yield
    finally:
        restore()


def parse(w: Workload) -> Job:
    import pydicom

    files = w.files_for("parse")
    return Job(
        lambda: [list(pydicom.dcmread(f).keys()) for f in files],
        lambda out: [parse_form(x) for x in out],
        how="pydicom.dcmread",
        cleanup=_quiet(),  # what it says of each odd value: not the benchmark's output
    )


def values(w: Workload) -> Job:
    import pydicom

    files = w.files_for("values")

    def run() -> list:
        return [[(e.tag, e.VR, e.value) for e in pydicom.dcmread(f).iterall()] for f in files]

    return Job(
        run,
        lambda out: [values_form((int(t), v, x) for t, v, x in o) for o in out],
        how="dcmread + iterall() .value",
        cleanup=_quiet(),
    )


def decode(w: Workload) -> Job:
    import pydicom

    files = w.files_for("decode")

    def one(f: Any) -> Any:
        # Colour as stored, as ours gives it: pydicom would turn YBR_FULL(_422) into RGB
        # (its default), a different array and more work than ours.
        ds = pydicom.dcmread(f)
        ds.pixel_array_options(as_rgb=False)
        return ds.pixel_array

    return Job(
        lambda: [one(f) for f in files],
        how="dcmread + pixel_array (as_rgb=False)",
        cleanup=_quiet(),
    )


def encode(w: Workload) -> Job:
    if w.codec != RLE:
        raise Unsupported("pydicom 3.0 has no encoder for this syntax")
    from pydicom.pixels.encoders import RLELosslessEncoder

    arrays, infos = w.arrays, w.infos

    def one(a: Any, i: Any) -> list[bytes]:
        kw = dict(
            rows=i.rows,
            columns=i.columns,
            samples_per_pixel=i.samples_per_pixel,
            bits_allocated=i.bits_allocated,
            bits_stored=i.bits_stored,
            pixel_representation=i.pixel_representation,
            photometric_interpretation=i.photometric_interpretation or "MONOCHROME2",
            number_of_frames=i.number_of_frames,
            planar_configuration=0,
        )
        return list(RLELosslessEncoder.iter_encode(a, encoding_plugin="pydicom", **kw))

    def result(out: list) -> list:
        return [decode_frames_ours(fr, i, RLE) for fr, i in zip(out, infos, strict=True)]

    return Job(
        lambda: [one(a, i) for a, i in zip(arrays, infos, strict=True)],
        result,
        how="RLELosslessEncoder (plugin 'pydicom')",
    )


def transcode(w: Workload) -> Job:
    import pydicom

    files = w.files_for("transcode")
    for f in files:
        if w.transcode_target(f) not in NATIVE | {RLE}:
            raise Unsupported("pydicom 3.0 encodes RLE only")
    out = w.scratch("transcode-pydicom")
    outputs = [out / f"{i:06d}.dcm" for i in range(len(files))]

    def run() -> None:
        for f, o in zip(files, outputs, strict=True):
            ds = pydicom.dcmread(f)
            target = w.transcode_target(f)
            if target in NATIVE:
                if w.syntax[f] not in NATIVE:
                    ds.decompress()
                ds.file_meta.TransferSyntaxUID = pydicom.uid.UID(target)
                ds.save_as(o, enforce_file_format=True)
            else:
                ds.compress(target, encoding_plugin="pydicom")
                ds.save_as(o, enforce_file_format=True)

    return Job(
        run,
        lambda _: [pixels_of_file(o) for o in outputs],
        how="dcmread + compress/decompress + save_as",
        cleanup=_quiet(),
    )


def store(w: Workload) -> Job:
    if module_version("pynetdicom") is None:
        raise Skip("pynetdicom not installed")
    import pydicom
    from pynetdicom import ALL_TRANSFER_SYNTAXES

    from ..store import Receiver, send_pynetdicom

    files = [str(f) for f in w.files_for("store")]
    declined: dict[Any, str] = {}
    with _quieted():
        for f in w.files_for("store"):
            if w.syntax[f] not in ALL_TRANSFER_SYNTAXES:
                declined[f] = f"pynetdicom's SCP takes no {w.syntax[f]}"
                continue
            # pynetdicom sends what pydicom reads: a data set it reads without its UIDs
            # (a file cut short) is refused up front (pynetdicom 2.1 then fails with an
            # UnboundLocalError of its own)
            try:
                ds = pydicom.dcmread(f)  # as send_pynetdicom reads it, pixels included
                ok = bool(ds.get("SOPClassUID")) and bool(ds.get("SOPInstanceUID"))
            except Exception as e:  # noqa: BLE001 - the reason is reported
                declined[f] = f"pydicom does not read it: {type(e).__name__}: {e}"[:300]
                continue
            if not ok:
                declined[f] = "pydicom reads no SOP Class or Instance UID in it"
    if declined:
        raise Declines(declined)
    rx = Receiver.start("pynetdicom", w.scratch("store-pynetdicom"))
    failed: dict[str, str] = {}
    restore = _quiet(("pydicom", "pynetdicom"))

    def cleanup() -> None:
        rx.stop()
        restore()

    def run() -> None:
        failed.clear()
        send_pynetdicom(rx, files, failed)

    return Job(
        run,
        lambda _: rx.received_uids(),
        how="pynetdicom SCU -> pynetdicom SCP",
        cleanup=cleanup,
        failed=lambda: {Path(f): why for f, why in failed.items()},
    )


def _version() -> str | None:
    return module_version("pydicom")


CONTENDER = Contender(
    "pydicom",
    _version,
    {
        "parse": parse,
        "values": values,
        "decode": decode,
        "encode": encode,
        "transcode": transcode,
        "store": store,
    },
    "pydicom (and pynetdicom for store)",
    # its pixel plugins are C and C++ libraries (GDCM's, pylibjpeg's, Pillow's)
    may_crash=frozenset({"decode", "transcode"}),
)
