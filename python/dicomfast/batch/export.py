"""Export frames as images or arrays: the unit of work of ``dicomfast export``.

Each frame goes through the display pipeline (PS3.3 C.11): Modality LUT →
VOI LUT or window (the file's, or ``window=(center, width)``) → MONOCHROME1
inversion → scaling to 8 or 16 bits; PALETTE COLOR through its palette,
YBR_FULL/YBR_FULL_422 to RGB.  ``--stack`` builds one 3-D array per series.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..pixels.decode import iter_frames
from ..pixels.info import pixel_info
from ..reader import read
from . import files
from .convert import _SCRATCH, PIXEL_TAGS
from .export_options import FORMATS, ExportOptions, keep_base
from .sources import Source

# -- the display pipeline for one frame ---------------------------------------


def _to_bits(v: np.ndarray, lo: float, hi: float, bits: int) -> np.ndarray:
    """Linearly map ``lo .. hi`` onto ``0 .. 2**bits - 1``, rounded."""
    top = (1 << bits) - 1
    span = hi - lo
    if span <= 0:
        out = np.where(v > lo, top, 0)
    else:
        out = np.rint((np.asarray(v, np.float64) - lo) * (top / span))
        np.clip(out, 0, top, out=out)
    return out.astype(np.uint8 if bits == 8 else np.uint16)


def _rescale_bits(v: np.ndarray, have: int, want: int) -> np.ndarray:
    v = np.asarray(v)
    if have > want:
        v = v >> (have - want)
    elif have < want:
        v = v.astype(np.uint32) * ((1 << want) - 1) // ((1 << have) - 1)
    return v.astype(np.uint8 if want == 8 else np.uint16)


def display_frame(
    arr: np.ndarray,
    ds: Any,
    *,
    bits: int = 8,
    window: tuple[float, float] | None = None,
    voi_index: int = 0,
    buffer: Callable[[tuple[int, ...], np.dtype], np.ndarray] | None = None,
) -> np.ndarray:
    """One frame of stored values → an 8- or 16-bit image (grey ``(rows, cols)`` or
    RGB ``(rows, cols, 3)``); ``buffer(shape, dtype)``, if given, may supply the memory
    of the image (a caller's, reused from frame to frame)."""
    table = _grey_table(arr, ds, bits, window, voi_index)
    if table is not None:  # indexed by the stored values' bits
        index = arr.view(f"u{arr.dtype.itemsize}")
        from ..pixels.display import _display as kernels

        if kernels is None or not index.flags.c_contiguous:
            return np.take(table, index)
        if buffer is None:
            out = np.empty(index.shape, table.dtype)
        else:
            out = buffer(index.shape, table.dtype)
        # a gather by the stored value (numpy's take widens every index to 64 bits first)
        kernels.gather(index.reshape(-1), table, out.reshape(-1), 0)
        return out
    return _display_pixels(arr, ds, bits, window, voi_index)


#: The attributes a grey table depends on when neither a Modality LUT nor a VOI LUT
#: Sequence is present (see _display_pixels, display.apply_modality_lut,
#: display.apply_windowing and display._output_range).
_TABLE_KEYWORDS = (
    "PhotometricInterpretation",
    "BitsStored",
    "PixelRepresentation",
    "RescaleSlope",
    "RescaleIntercept",
    "WindowCenter",
    "WindowWidth",
    "VOILUTFunction",
)
_tables: dict[tuple[Any, ...], np.ndarray] = {}


def _table_key(
    arr: np.ndarray, ds: Any, bits: int, window: tuple[float, float] | None, voi_index: int
) -> tuple[Any, ...] | None:
    """What a grey table is made of, for reuse across the slices of a series; None
    (made each time) when a Modality or VOI LUT Sequence takes part."""
    if ds.get("ModalityLUTSequence") or ds.get("VOILUTSequence"):
        return None
    values = tuple(repr(ds.get(k)) for k in _TABLE_KEYWORDS)
    return (arr.dtype.str, bits, window, voi_index, values)


def _grey_table(
    arr: np.ndarray, ds: Any, bits: int, window: tuple[float, float] | None, voi_index: int
) -> np.ndarray | None:
    """:func:`display_frame` of every value ``arr``'s type can hold, as a table to look
    ``arr`` up in (its steps work pixel by pixel: the same stored value always gives the
    same output, and a CT slice has 4x more pixels than a 16-bit table has entries), or
    None where that does not hold or pay: colour, floats, more than 16 bits, a frame
    smaller than twice the table, a range taken from the pixels themselves, a SIGMOID
    window (its ``exp`` is not always rounded alike in a vector loop and its tail)."""
    if arr.ndim != 2 or arr.dtype.kind not in "iu" or arr.dtype.itemsize > 2:
        return None
    values = 1 << (8 * arr.dtype.itemsize)
    if arr.size < 2 * values or not arr.dtype.isnative:
        return None
    pi = str(ds.get("PhotometricInterpretation") or "MONOCHROME2").strip().upper()
    if pi not in ("MONOCHROME1", "MONOCHROME2"):
        return None
    if window is None:
        from ..pixels import display as D

        seq = ds.get("VOILUTSequence")
        if seq and voi_index >= len(seq):
            return None  # the pixel path names the error
        if not (seq and D._has_table(seq[voi_index])):
            if ds.get("WindowCenter") is None or ds.get("WindowWidth") is None:
                return None  # scaled from the frame's own min and max
            function = str(ds.get("VOILUTFunction") or "LINEAR").strip().upper()
            if function not in ("LINEAR", "LINEAR_EXACT"):
                return None
    key = _table_key(arr, ds, bits, window, voi_index)
    table = _tables.get(key) if key is not None else None
    if table is None:
        domain = np.arange(values, dtype=f"u{arr.dtype.itemsize}").view(arr.dtype).reshape(1, -1)
        table = _display_pixels(domain, ds, bits, window, voi_index)[0]
        if key is not None:
            if len(_tables) >= 64:
                _tables.clear()
            table.flags.writeable = False  # shared by the slices that reuse it
            _tables[key] = table
    return table


def _display_pixels(
    arr: np.ndarray, ds: Any, bits: int, window: tuple[float, float] | None, voi_index: int
) -> np.ndarray:
    """:func:`display_frame`, pixel by pixel."""
    from ..pixels import display as D
    from ..pixels.color import ybr_full_to_rgb

    pi = str(ds.get("PhotometricInterpretation") or "MONOCHROME2").strip().upper()
    bits_stored = int(ds.get("BitsStored") or arr.dtype.itemsize * 8)
    if pi == "PALETTE COLOR":
        rgb = D.apply_color_lut(arr, ds)
        return _rescale_bits(rgb, 8 * rgb.dtype.itemsize, bits)
    if arr.ndim == 3:  # colour
        if pi in ("YBR_FULL", "YBR_FULL_422"):
            if arr.dtype == np.uint8:
                arr = D.convert_color_space(arr, "YBR_FULL", "RGB")
            else:
                arr = ybr_full_to_rgb(arr, bits_stored)
        if arr.dtype.kind == "f":
            return _to_bits(arr, float(arr.min()), float(arr.max()), bits)
        return _rescale_bits(arr, bits_stored, bits)
    m = D.apply_modality_lut(arr, ds)
    if window is not None:
        center, width = window
        v = D.window(m, center, width, 0.0, 1.0, "LINEAR")
        lo, hi = 0.0, 1.0
    else:
        seq = ds.get("VOILUTSequence")
        has_window = ds.get("WindowCenter") is not None and ds.get("WindowWidth") is not None
        if seq and D._has_table(seq[voi_index]):
            v = D.apply_voi(m, ds, voi_index)
            lo, hi = 0.0, float(2 ** int(seq[voi_index].LUTDescriptor[2]) - 1)
        elif has_window and pi in ("MONOCHROME1", "MONOCHROME2"):
            v = D.apply_windowing(m, ds, voi_index)
            lo, hi = D._output_range(ds)
        else:
            v = m
            lo, hi = float(np.min(m)), float(np.max(m))
    out = _to_bits(v, lo, hi, bits)
    if pi == "MONOCHROME1":
        D.invert(out, (1 << bits) - 1, out=out)
    return out


@functools.lru_cache(maxsize=4)
def display_calibration(path: str) -> Any:
    """The GSDF calibration of a display, made once per process."""
    from ..pixels.gsdf import calibrate

    return calibrate(path)


def frame_values(
    arr: np.ndarray,
    ds: Any,
    opts: ExportOptions,
    buffer: Callable[[tuple[int, ...], np.dtype], np.ndarray] | None = None,
) -> np.ndarray:
    """``arr`` as ``opts.values`` asks; ``buffer``: see :func:`display_frame`."""
    if opts.values == "stored":
        return arr
    if opts.values == "modality":
        from ..pixels.display import apply_modality_lut

        return apply_modality_lut(arr, ds)
    out = display_frame(
        arr, ds, bits=opts.bits, window=opts.window, voi_index=opts.voi_index, buffer=buffer
    )
    if opts.gsdf is not None and out.ndim == 2:  # the GSDF is for grey images (PS3.14)
        from ..pixels.gsdf import apply_gsdf

        out = apply_gsdf(out, display_calibration(opts.gsdf), bits=opts.bits)
        if out.dtype != np.uint8 and opts.bits == 8:
            raise ValueError("the display's driving levels need 16 bits: use --bits 16")
    return out


# -- writing --------------------------------------------------------------------


def save_image(img: np.ndarray, tmp: str, fmt: str, *, quality: int = 95) -> None:
    if fmt == "npy":
        with open(tmp, "wb") as fh:
            np.save(fh, img)
        return
    if fmt == "tiff" and (img.dtype != np.uint8 or img.ndim == 3):
        try:
            import tifffile

            tifffile.imwrite(tmp, img, photometric="rgb" if img.ndim == 3 else "minisblack")
            return
        except ImportError:
            pass
    if fmt == "png":
        _save_png(img, tmp)
        return
    from PIL import Image

    if img.dtype == np.uint16 and img.ndim == 3:
        raise ValueError(
            f"{fmt.upper()} through Pillow cannot hold 16-bit RGB; use --bits 8 or tiff"
        )
    if fmt == "jpeg" and img.dtype != np.uint8:
        raise ValueError("JPEG images are 8-bit; use --bits 8")
    im = Image.fromarray(img)
    with open(tmp, "wb") as fh:
        if fmt == "jpeg":
            im.save(fh, format="JPEG", quality=quality)
        else:
            im.save(fh, format={"png": "PNG", "tiff": "TIFF"}[fmt])


def _save_png(img: np.ndarray, tmp: str) -> None:
    """A PNG by the core (the ``png`` crate, fast compression: ~0.1 ms a 512x512 8-bit
    slice, ~10% larger than zlib's level 6 which Pillow spends ~15 ms on); grey or RGB,
    8 or 16 bits."""
    from .. import _core

    if (
        img.dtype.kind != "u"
        or img.dtype.itemsize not in (1, 2)
        or not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3))
    ):
        raise ValueError(
            f"PNG holds 8- or 16-bit grey or RGB pictures, not {img.dtype} {img.shape}"
        )
    a = np.ascontiguousarray(img, dtype=img.dtype.newbyteorder("<"))
    samples = 3 if a.ndim == 3 else 1
    data = _core.encode_png(a, a.shape[0], a.shape[1], samples, a.itemsize * 8)
    with open(tmp, "wb") as fh:
        fh.write(data)


def _base_path(src: Source, ds: Any, opts: ExportOptions) -> str:
    if opts.layout == "uid":
        return files.uid_layout_path(opts.out, ds, suffix="")
    return keep_base(src.rel, opts.out)


def export_file(src: Source, opts: ExportOptions) -> dict[str, Any]:
    """Export every frame of ``src``; a report record, never an exception."""
    t0 = time.perf_counter()
    rec: dict[str, Any] = {"src": src.path, "dst": None, "status": "failed", "bytes_in": src.size}
    tmp = None
    try:
        ds = read(src.path)
        if not any(t in ds for t in PIXEL_TAGS):
            # a report, a plan, a DICOMDIR...: nothing to export, and no failure
            rec.update(status="skipped", reason="no pixel data (not an image)")
            return rec
        frames = pixel_info(ds).number_of_frames  # checked: a bad value is named
        base = _base_path(src, ds, opts)
        ext = FORMATS[opts.format]
        names = [base + ext] if frames == 1 else [f"{base}_{i:04d}{ext}" for i in range(frames)]
        rec["dst"] = names[0] if frames == 1 else os.path.dirname(names[0])
        if opts.resume and all(os.path.exists(n) for n in names):
            rec.update(
                status="skipped",
                reason="outputs exist",
                bytes_out=sum(os.path.getsize(n) for n in names),
            )
            return rec
        written = 0
        # Each frame, and its image, in this thread's memory, reused from frame to frame
        # and file to file (each is written before the next is made): files exported
        # side by side on threads do not contend for fresh pages (see runner.run_tasks).
        frames_in = iter_frames(ds, buffer=functools.partial(_SCRATCH.array, "frame"))
        image = functools.partial(_SCRATCH.array, "image")
        for name, arr in zip(names, frames_in, strict=False):
            img = frame_values(arr, ds, opts, buffer=image)
            tmp = files.temp_path_for(name)
            save_image(img, tmp, opts.format, quality=opts.jpeg_quality)
            written += os.path.getsize(tmp)
            if opts.fsync:  # flushed, then renamed, with its group (files.sync_outputs)
                files.stage(rec, tmp, name)
            else:
                files.commit(tmp, name)
            tmp = None
        rec.update(status="converted", bytes_out=written, frames=frames)
    except Exception as e:
        for staged, _name in rec.pop("staged", ()):
            files.discard(staged)
        rec["reason"] = f"{type(e).__name__}: {e}"
        if opts.copy_failed and os.path.isfile(src.path):
            rec["copied_to"] = files.copy_failed(src.path, src.rel, opts.out)
    finally:
        files.discard(tmp)
        rec["seconds"] = round(time.perf_counter() - t0, 6)
    return rec


# -- stacks -----------------------------------------------------------------------


def scan_header(src: Source) -> dict[str, Any]:
    """Phase 1 of ``--stack``: what is needed to group and sort a file, no pixels."""
    rec: dict[str, Any] = {"src": src.path, "rel": src.rel, "bytes_in": src.size}
    try:
        ds = read(src.path, stop_before_pixels=True)
        rec.update(
            status="converted",
            series=str(ds.get("SeriesInstanceUID") or "unknown"),
            position=ds.get("ImagePositionPatient"),
            orientation=ds.get("ImageOrientationPatient"),
            instance=ds.get("InstanceNumber"),
        )
    except Exception as e:
        rec.update(status="failed", reason=f"{type(e).__name__}: {e}")
    return rec


def slice_order(
    members: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[float] | None, list[float] | None]:
    """Sort slices by Image Position (Patient) projected on the slice normal (the
    cross product of the row and column directions); Instance Number otherwise.
    Returns the sorted members, their positions along the normal, and the normal."""
    iop = members[0].get("orientation")
    if iop and len(iop) == 6 and all(m.get("position") for m in members):
        row, col = np.asarray(iop[:3], float), np.asarray(iop[3:], float)
        normal = np.cross(row, col)
        keyed = sorted(
            members, key=lambda m: float(np.dot(normal, np.asarray(m["position"], float)))
        )
        z = [float(np.dot(normal, np.asarray(m["position"], float))) for m in keyed]
        return keyed, z, normal.tolist()
    keyed = sorted(members, key=lambda m: (m.get("instance") or 0, m["src"]))
    return keyed, None, None


def stack_series(task: tuple[str, list[dict[str, Any]]], opts: ExportOptions) -> dict[str, Any]:
    """Phase 2 of ``--stack``: one series → ``OUT/<series>.npy`` + ``.json`` side-car."""
    series, members = task
    t0 = time.perf_counter()
    base = os.path.join(opts.out, files.safe_component(series))
    rec: dict[str, Any] = {
        "src": series,
        "dst": base + ".npy",
        "status": "failed",
        "bytes_in": sum(m["bytes_in"] for m in members),
    }
    tmp = None
    try:
        if opts.resume and os.path.exists(base + ".npy") and os.path.exists(base + ".json"):
            rec.update(
                status="skipped", reason="outputs exist", bytes_out=os.path.getsize(base + ".npy")
            )
            return rec
        ordered, z, normal = slice_order(members)
        slices = []
        first = None
        for m in ordered:
            ds = read(m["src"])
            if first is None:
                first = ds
            for arr in ds.iter_frames():
                slices.append(frame_values(arr, ds, opts))
        volume = np.stack(slices)
        assert first is not None  # np.stack raised on no slices at all
        spacing_rc = [float(v) for v in (first.get("PixelSpacing") or [1.0, 1.0])]
        dz = (
            float(np.median(np.diff(z)))
            if z and len(z) > 1
            else float(first.get("SpacingBetweenSlices") or first.get("SliceThickness") or 1.0)
        )
        side = {
            "series_instance_uid": series,
            "shape": list(volume.shape),
            "dtype": str(volume.dtype),
            "spacing": [dz, *spacing_rc],
            "spacing_order": "slice, row, column (mm)",
            "origin": [float(v) for v in ordered[0]["position"]]
            if ordered[0].get("position")
            else None,
            "orientation": [float(v) for v in ordered[0]["orientation"]]
            if ordered[0].get("orientation")
            else None,
            "normal": normal,
            "positions_along_normal": z,
            "files": [m["src"] for m in ordered],
            "values": opts.values,
        }
        tmp = files.temp_path_for(base + ".npy")
        save_image(volume, tmp, "npy")
        files.commit(tmp, base + ".npy")
        tmp = files.temp_path_for(base + ".json")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(side, fh, indent=1)
        files.commit(tmp, base + ".json")
        tmp = None
        rec.update(status="converted", bytes_out=volume.nbytes, slices=len(slices))
    except Exception as e:
        rec["reason"] = f"{type(e).__name__}: {e}"
    finally:
        files.discard(tmp)
        rec["seconds"] = round(time.perf_counter() - t0, 6)
    return rec
