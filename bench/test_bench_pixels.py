"""Pixel codec benchmarks on corpus/perf (ct512_20: 20 x 512x512 int16 slices, mammo: one
3064x2396 14-bit image, us_cine: 20 x 480x640 RGB frames), RLE and JPEG Lossless SV1, all
single-threaded unless stated.  MB/s are of decoded (or encoded input) pixel bytes.

Competitors, each on the same compressed frames in the same run: imagecodecs
(``dicomrle_decode``; ``ljpeg_decode`` = liblj92, ``jpeg8_decode`` = libjpeg-turbo 3),
pylibjpeg-rle, pylibjpeg-libjpeg, GDCM (python-gdcm through pydicom's gdcm plugin),
pydicom's own RLE decoder, DCMTK (``dcmcrle`` / ``dcmcjpeg`` as subprocesses on the
uncompressed file: process start and file I/O included, so a lower bound for DCMTK)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import dicomfast
import numpy as np
import pytest
from benchrace import race
from dicomfast import _core
from dicomfast.pixels.frames import encapsulated_data
from dicomfast.pixels.info import pixel_info

RLE = "1.2.840.10008.1.2.5"
SV1 = "1.2.840.10008.1.2.4.70"
INPUTS = ["ct512_20", "mammo", "us_cine"]


def _files(corpus: Path, name: str, kind: str) -> list[Path]:
    folder = corpus / "perf" / name / kind
    files = sorted(folder.glob("*.dcm"))
    if not files:
        pytest.skip(f"no perf files in {folder}")
    return files


class Image:
    """Every frame of one perf input, compressed, with its attributes and reference."""

    def __init__(self, corpus: Path, name: str, kind: str) -> None:
        self.paths = _files(corpus, name, kind)
        self.datasets = [dicomfast.read(p) for p in self.paths]
        self.info = pixel_info(self.datasets[0])
        self.frames: list[bytes] = []
        for ds in self.datasets:
            enc = encapsulated_data(ds, self.info)
            mv = memoryview(enc.source)
            self.frames += [b"".join(bytes(mv[o : o + n]) for o, n in f) for f in enc.frames]
        self.nbytes = len(self.frames) * self.info.frame_nbytes
        unc = [dicomfast.read(p).pixel_array for p in _files(corpus, name, "unc")]
        self.reference = np.stack(unc) if len(unc) > 1 else unc[0]
        self.unc_paths = _files(corpus, name, "unc")

    def ours_decode(self) -> object:
        return [ds.pixel_array_as(threads=1) for ds in self.datasets]

    def frame_args(self) -> tuple[int, int, int, int, int, int]:
        i = self.info
        return (
            i.rows,
            i.columns,
            i.samples_per_pixel,
            i.bits_allocated,
            i.bits_stored,
            i.pixel_representation,
        )


def _through_pydicom(paths: list[Path], plugin: str) -> object:
    import pydicom

    out = []
    for p in paths:
        ds = pydicom.dcmread(p)
        ds.pixel_array_options(decoding_plugin=plugin)
        out.append(ds.pixel_array)
    return out


def _gdcm_decode(paths: list[Path]) -> object:
    """GDCM's own reader (python-gdcm): parse the file and decode its pixel data."""
    import gdcm

    out = []
    for p in paths:
        reader = gdcm.ImageReader()
        reader.SetFileName(str(p))
        if not reader.Read():
            raise RuntimeError(f"GDCM cannot read {p}")
        out.append(reader.GetImage().GetBuffer().encode("utf-8", "surrogateescape"))
    return out


def _opt(name: str) -> object | None:
    try:
        return __import__(name)
    except ImportError:
        return None


@pytest.fixture(scope="module")
def images(corpus: Path) -> dict[tuple[str, str], Image]:
    return {}


def _image(images: dict, corpus: Path, name: str, kind: str) -> Image:
    key = (name, kind)
    if key not in images:
        images[key] = Image(corpus, name, kind)
    return images[key]


@pytest.mark.parametrize("name", INPUTS)
def test_rle_decode(benchmark, corpus: Path, images: dict, name: str) -> None:  # noqa: ANN001
    img = _image(images, corpus, name, "rle")
    got = img.ours_decode()
    assert np.array_equal(np.stack(got) if len(got) > 1 else got[0], img.reference)
    rows, cols, spp, ba, _, _ = img.frame_args()
    theirs: dict = {}
    ic = _opt("imagecodecs")
    if ic is not None:
        theirs["imagecodecs"] = lambda: [ic.dicomrle_decode(f, f">u{ba // 8}") for f in img.frames]
    rle = _opt("rle")
    if rle is not None:
        from rle.utils import decode_frame

        theirs["pylibjpeg-rle"] = lambda: [
            decode_frame(f, rows * cols, ba, "<") for f in img.frames
        ]
    if _opt("gdcm") is not None:
        theirs["gdcm(ImageReader)"] = lambda: _gdcm_decode(img.paths)
    if name != "mammo":  # pure Python: seconds per mammogram
        theirs["pydicom"] = lambda: _through_pydicom(img.paths, "pydicom")
    race(benchmark, f"RLE decode {name}", img.ours_decode, theirs, nbytes=img.nbytes, target=1.2)


@pytest.mark.parametrize("name", INPUTS)
def test_jpeg_lossless_decode(benchmark, corpus: Path, images: dict, name: str) -> None:  # noqa: ANN001
    img = _image(images, corpus, name, "jpll_sv1")
    got = img.ours_decode()
    assert np.array_equal(np.stack(got) if len(got) > 1 else got[0], img.reference)
    theirs: dict = {}
    ic = _opt("imagecodecs")
    if ic is not None:
        theirs["libjpeg-turbo(imagecodecs.jpeg8)"] = lambda: [
            ic.jpeg8_decode(f) for f in img.frames
        ]
        theirs["liblj92(imagecodecs.ljpeg)"] = lambda: [ic.ljpeg_decode(f) for f in img.frames]
    libjpeg = _opt("libjpeg")
    if libjpeg is not None:
        theirs["pylibjpeg-libjpeg"] = lambda: [libjpeg.decode(f) for f in img.frames]
    if _opt("gdcm") is not None:
        theirs["gdcm(ImageReader)"] = lambda: _gdcm_decode(img.paths)
    race(
        benchmark,
        f"JPEG-LL SV1 decode {name}",
        img.ours_decode,
        theirs,
        nbytes=img.nbytes,
        target=1.0,
    )


def _dcmtk(tool: str, args: list[str], paths: list[Path], tmp: Path) -> object:
    for p in paths:
        subprocess.run([tool, *args, str(p), str(tmp / "out.dcm")], check=True, capture_output=True)
    return None


@pytest.mark.parametrize("name", INPUTS)
@pytest.mark.parametrize("ts", [RLE, SV1], ids=["rle", "jpll_sv1"])
def test_encode(benchmark, corpus: Path, images: dict, name: str, ts: str, tmp_path: Path) -> None:  # noqa: ANN001
    img = _image(images, corpus, name, "rle")
    frames = img.reference.reshape((-1, *img.info.frame_shape))
    rows, cols, spp, ba, bs, pr = img.frame_args()

    def ours() -> object:
        return _core.encode_frames(frames, _core.ImageInfo(rows, cols, spp, ba, bs, pr), ts, 1, 1)

    encoded = ours()
    back = [dicomfast.pixels.decode_frame(e, rows, cols, spp, ba, bs, pr, 0, ts) for e in encoded]
    assert np.array_equal(np.stack(back), frames)
    theirs: dict = {}
    ic = _opt("imagecodecs")
    if ts == RLE:
        rle = _opt("rle")
        if rle is not None:
            from rle.utils import encode_frame

            theirs["pylibjpeg-rle"] = lambda: [
                encode_frame(f.tobytes(), rows, cols, spp, ba, "<") for f in frames
            ]
        if _opt("gdcm") is not None:
            import pydicom

            def gdcm_rle() -> object:
                for p in img.unc_paths:
                    ds = pydicom.dcmread(p)
                    ds.compress(RLE, encoding_plugin="gdcm")

            theirs["gdcm(pydicom)"] = gdcm_rle
        if shutil.which("dcmcrle"):
            theirs["dcmcrle(process)"] = lambda: _dcmtk("dcmcrle", [], img.unc_paths, tmp_path)
    else:
        # libjpeg-turbo and liblj92 take unsigned samples: give them the stored bit pattern.
        frames_u = frames.view(frames.dtype.str.replace("i", "u")) & ((1 << bs) - 1)
        if ic is not None:
            theirs["libjpeg-turbo(imagecodecs.jpeg8)"] = lambda: [
                ic.jpeg8_encode(f, lossless=True, bitspersample=bs) for f in frames_u
            ]
            if spp == 1:
                theirs["liblj92(imagecodecs.ljpeg)"] = lambda: [
                    ic.ljpeg_encode(f, bitspersample=bs) for f in frames_u
                ]
        if shutil.which("dcmcjpeg"):
            theirs["dcmcjpeg+e1(process)"] = lambda: _dcmtk(
                "dcmcjpeg", ["+e1"], img.unc_paths, tmp_path
            )
    label = "RLE" if ts == RLE else "JPEG-LL SV1"
    race(benchmark, f"{label} encode {name}", ours, theirs, nbytes=frames.nbytes, target=2.0)


@pytest.mark.parametrize("kind", ["rle", "jpll_sv1"])
def test_two_threads_vs_one(benchmark, corpus: Path, images: dict, kind: str) -> None:  # noqa: ANN001
    img = _image(images, corpus, "us_cine", kind)
    ds = img.datasets[0]
    race(
        benchmark,
        f"us_cine {kind} decode, 2 threads vs 1",
        lambda: ds.pixel_array_as(threads=2),
        {"dicomfast 1 thread": lambda: ds.pixel_array_as(threads=1)},
        nbytes=img.nbytes,
        target=1.8,
    )


@pytest.mark.parametrize("kind", ["rle", "jpll_sv1"])
def test_through_pydicom(benchmark, corpus: Path, images: dict, kind: str) -> None:  # noqa: ANN001
    pytest.importorskip("pydicom")
    import dicomfast.pydicom as plugin

    plugin.register()
    img = _image(images, corpus, "us_cine", kind)
    others = ["pylibjpeg", "gdcm"]
    theirs = {}
    for name in others:
        try:
            _through_pydicom(img.paths, name)
        except Exception:  # noqa: BLE001 - plugin not installed
            continue
        theirs[f"pydicom+{name}"] = lambda name=name: _through_pydicom(img.paths, name)
    race(
        benchmark,
        f"pydicom ds.pixel_array us_cine {kind}: dicomfast plugin vs others",
        lambda: _through_pydicom(img.paths, "dicomfast"),
        theirs,
        nbytes=img.nbytes,
    )
