"""Seeds for the codec crate's ``c_decode`` fuzz target (tools/fuzz_ci.sh): frames of the
C-backed syntaxes, each behind the target's 6-byte layout header (syntax index, rows,
columns, layout bits; see rust/dicomfast-codec/fuzz/fuzz_targets/c_decode.rs). Frames our
encoders make from small synthetic images, and the first frame of every corpus file of
those syntaxes that fits the fuzzer's 64 KiB inputs.

    python3 tools/fuzz_codec_seeds.py OUT_DIR [CORPUS_DIR]

With ``--files OUT_DIR``: instead, a few whole files for ``file_decode``, whose frames
take the paths that use more than one thread (a lone frame of 256 x 256 samples or more:
JPEG bands, JPEG 2000 / HTJ2K over the threads; several frames: one per thread), which
the corpus's small files do not.
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import dicomfast
import numpy as np
from dicomfast.pixels import encode_frame
from dicomfast.pixels.frames import encapsulated_data
from dicomfast.pixels.info import pixel_info

#: The target's SYNTAXES, in its order.
SYNTAXES = [
    f"1.2.840.10008.1.2.4.{n}" for n in (50, 51, 53, 55, 80, 81, 90, 91, 201, 202, 203, 110, 112)
]
#: The JPEG XL syntaxes: we decode them only; their seeds come from libjxl (imagecodecs).
JPEG_XL = {"1.2.840.10008.1.2.4.110": True, "1.2.840.10008.1.2.4.112": False}
MAX_LEN = 65536


def header(ts: str, rows: int, cols: int, ba: int, spp: int, signed: bool, bs: int) -> bytes:
    layout = (ba == 16) | (spp == 3) << 1 | signed << 2 | (ba - bs) << 3
    return struct.pack("<BHHB", SYNTAXES.index(ts), rows, cols, layout)


def synthetic() -> list[bytes]:
    """Small images through our encoders: 8-bit, 12-bit signed and RGB where allowed."""
    y, x = np.mgrid[0:20, 0:24]
    ramp = (x * 9 + y * 5) % 251
    images = [
        (ramp.astype(np.uint8), 8, 1),
        ((ramp * 13 - 1500).astype(np.int16), 12, 1),
        (np.stack([ramp, ramp[::-1], 250 - ramp], -1).astype(np.uint8), 8, 3),
    ]
    seeds = []
    for ts in SYNTAXES:
        for arr, bits, spp in images:
            try:
                frame = encode_frame(
                    arr, samples_per_pixel=spp, bits_stored=bits, transfer_syntax=ts
                )
            except dicomfast.DicomError:
                continue  # not a layout this syntax encodes (12-bit baseline, ...)
            signed = arr.dtype.kind == "i"
            ba = arr.dtype.itemsize * 8
            seeds.append(header(ts, arr.shape[0], arr.shape[1], ba, spp, signed, bits) + frame)
    seeds += _jpeg_xl(images)
    seeds += _abbreviated(seeds)
    return seeds


def _abbreviated(seeds: list[bytes]) -> list[bytes]:
    """The JPEG DCT seeds without their Huffman tables, and without their quantization
    tables: streams that rely on tables from elsewhere (T.81 B.4), for the target's check
    that a frame decodes alike whatever frame came before."""
    out = []
    for seed in seeds:
        head, frame = seed[:6], seed[6:]
        if SYNTAXES[head[0]] not in SYNTAXES[:2]:
            continue
        for marker in (0xC4, 0xDB):
            kept, at = bytearray(frame[:2]), 2
            while frame[at + 1] != 0xDA:
                n = int.from_bytes(frame[at + 2 : at + 4], "big")
                if frame[at + 1] != marker:
                    kept += frame[at : at + 2 + n]
                at += 2 + n
            out.append(head + bytes(kept) + frame[at:])
    return out


def _jpeg_xl(images: list[tuple[np.ndarray, int, int]]) -> list[bytes]:
    """The same images coded by libjxl, lossless (4.110) and lossy (4.112); none
    without imagecodecs."""
    try:
        import imagecodecs
    except ImportError:
        return []
    seeds = []
    for ts, lossless in JPEG_XL.items():
        for arr, bits, spp in images:
            if arr.dtype.kind == "i":
                continue  # libjxl codes unsigned samples
            try:
                frame = imagecodecs.jpegxl_encode(
                    arr, lossless=lossless, level=None if lossless else 90
                )
            except Exception:  # noqa: BLE001 - a layout this build of libjxl refuses
                continue
            ba = arr.dtype.itemsize * 8
            seeds.append(header(ts, arr.shape[0], arr.shape[1], ba, spp, False, bits) + frame)
    return seeds


def from_corpus(corpus: Path) -> list[bytes]:
    manifest = json.loads((corpus / "manifest.json").read_text())
    seeds = []
    for e in manifest["files"]:
        ts = e.get("transfer_syntax")
        if ts not in SYNTAXES or e.get("expect_error") or not e.get("rows"):
            continue
        try:
            ds = dicomfast.read(corpus / e["path"])
            info = pixel_info(ds)
            data = encapsulated_data(ds, info)
        except dicomfast.DicomError:
            continue
        frame = b"".join(bytes(data.source[o : o + n]) for o, n in data.frames[0])
        if len(frame) + 6 > MAX_LEN or info.rows > 1024 or info.columns > 1024:
            continue
        head = header(
            ts,
            info.rows,
            info.columns,
            info.bits_allocated,
            info.samples_per_pixel,
            info.pixel_representation == 1,
            info.bits_stored,
        )
        seeds.append(head + frame)
    return seeds


def _native(arr: np.ndarray, bits: int, frames: int = 1) -> dicomfast.Dataset:
    """A Secondary Capture data set of ``arr`` (grey, or RGB when it has 3 dimensions
    more than ``frames`` needs) as native pixels."""
    from dicomfast import Dataset, FileMetaDataset

    rgb = arr.ndim == (4 if frames > 1 else 3)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = dicomfast.uid.generate_uid()
    ds.SamplesPerPixel = 3 if rgb else 1
    ds.PhotometricInterpretation = "RGB" if rgb else "MONOCHROME2"
    if rgb:
        ds.PlanarConfiguration = 0
    if frames > 1:
        ds.NumberOfFrames = str(frames)
    ds.Rows, ds.Columns = arr.shape[-3:-1] if rgb else arr.shape[-2:]
    ds.BitsAllocated = arr.dtype.itemsize * 8
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    raw = np.ascontiguousarray(arr).reshape(-1).view(np.uint8)
    ds.add_new(0x7FE00010, "OB" if arr.dtype.itemsize == 1 else "OW", raw.tobytes())
    return ds


def files(out: Path) -> int:
    """Whole files for ``file_decode``: lone frames of 256 x 256 (JPEG baseline in bands,
    JPEG 2000 and HTJ2K lossy, 12-bit JPEG) and a three-frame JPEG file."""
    y, x = np.mgrid[0:256, 0:256]
    smooth = (np.sin(x / 23) + np.cos(y / 17) + 2) * 60
    grey = smooth.astype(np.uint8)
    cases = [
        ("bands_jpeg", _native(grey, 8), "jpeg", {}),
        ("lone_j2k", _native(grey, 8), "j2k-lossy", {"ratio": 30}),
        ("lone_htj2k", _native(grey, 8), "htj2k-lossy", {"ratio": 30}),
        ("lone_jpeg12", _native((smooth * 16).astype(np.uint16), 12), "jpeg12", {"quality": 50}),
        ("frames_jpeg", _native(np.stack([grey[:64, :96]] * 3), 8, 3), "jpeg", {}),
    ]
    n = 0
    for name, ds, syntax, options in cases:
        ds.compress(syntax, **options)
        path = out / f"made_{name}.dcm"
        ds.save(path)
        if path.stat().st_size > MAX_LEN:
            path.unlink()  # the fuzzer takes at most 64 KiB
            continue
        n += 1
    n += _ycbcr_420_restarting(out, smooth)
    print(f"file_decode: {n} files")
    return 0


def _ycbcr_420_restarting(out: Path, smooth: np.ndarray) -> int:
    """A lone 256 x 256 YBR_FULL_422 frame sampled 4:2:0 with a restart marker every MCU
    row (Pillow's libjpeg-turbo; our encoder writes no 4:2:0): its chroma is upsampled
    across MCU rows, so it must decode alike on one thread and on two. 0 without Pillow."""
    try:
        from PIL import Image
    except ImportError:
        return 0
    import io

    from dicomfast.pixels.encode import set_encapsulated_pixels
    from dicomfast.pixels.frames import encapsulate
    from dicomfast.pixels.info import pixel_info

    rgb = np.stack([smooth, smooth[::-1], 240 - smooth], -1).astype(np.uint8)
    jpeg = io.BytesIO()
    Image.fromarray(rgb).save(jpeg, "JPEG", quality=80, subsampling=2, restart_marker_rows=1)
    ds = _native(rgb, 8)
    value = encapsulate([jpeg.getvalue()])
    set_encapsulated_pixels(ds, value, pixel_info(ds), "1.2.840.10008.1.2.4.50")
    ds.PhotometricInterpretation = "YBR_FULL_422"
    path = out / "made_ycbcr_420_restarting.dcm"
    ds.save(path)
    if path.stat().st_size > MAX_LEN:
        path.unlink()
        return 0
    return 1


def main(argv: list[str]) -> int:
    if len(argv) > 2 and argv[1] == "--files":
        out = Path(argv[2])
        out.mkdir(parents=True, exist_ok=True)
        return files(out)
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    seeds = synthetic()
    if len(argv) > 2 and (Path(argv[2]) / "manifest.json").exists():
        seeds += from_corpus(Path(argv[2]))
    for i, seed in enumerate(seeds):
        (out / f"seed_{i:04d}").write_bytes(seed)
    print(f"c_decode: {len(seeds)} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
