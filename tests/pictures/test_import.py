"""``dicomfast import``: pictures and video into DICOM.

PNG/TIFF give their pixels back; a JPEG is kept byte for byte, DCMTK decodes it to the
pixels Pillow gives and describes it as we do (img2dcm); a video is kept as encoded with
the transfer syntax, frame count and rate of its stream; dciodvfy finds no error in any.
Every input is made here, small (at most 64x48, 12 frames): the whole file runs in seconds.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import dicomfast
import numpy as np
import pytest
from dicomfast.errors import DicomError
from dicomfast.pictures import import_images
from dicomfast.pixels.frames import parse_items

PIL = pytest.importorskip("PIL.Image")
tifffile = pytest.importorskip("tifffile")

SC = "1.2.840.10008.5.1.4.1.1.7"
MF_BYTE, MF_WORD, MF_COLOR = (f"{SC}.{n}" for n in (2, 3, 4))
NEEDS_DCIODVFY = pytest.mark.skipif(
    shutil.which("dciodvfy") is None, reason="dicom3tools' dciodvfy not installed"
)
_NO_DCMTK = shutil.which("img2dcm") is None or shutil.which("dcmdjpeg") is None


def NEEDS_DCMTK(test):  # noqa: ANN001, ANN201, N802
    return pytest.mark.dcmtk(
        pytest.mark.skipif(_NO_DCMTK, reason="DCMTK (img2dcm, dcmdjpeg) not installed")(test)
    )


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dicomfast", *args], capture_output=True, text=True, timeout=60
    )


def _pixels(kind: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (30, 40, 3) if kind.startswith("rgb") else (30, 40)
    dtype = np.uint16 if kind.endswith("16") else np.uint8
    return rng.integers(0, np.iinfo(dtype).max + 1, shape, dtype)


def _save(arr: np.ndarray, path: Path) -> Path:
    if path.suffix == ".tif":
        tifffile.imwrite(path, arr, photometric="rgb" if arr.ndim == 3 else "minisblack")
    else:
        PIL.fromarray(arr).save(path)
    return path


def _smooth(seed: int, colour: bool) -> np.ndarray:
    """A picture JPEG compresses the way photographs are (gradients and an edge)."""
    y, x = np.mgrid[0:48, 0:64]
    base = (x * 3 + y * 2 + seed * 17) % 256
    if not colour:
        return base.astype(np.uint8)
    return np.stack([base, (255 - x * 4) % 256, (y * 5) % 256], -1).astype(np.uint8)


def _errors(path: Path) -> list[str]:
    out = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
    return [line for line in (out.stdout + out.stderr).splitlines() if line.startswith("Error")]


def _fragments(ds: dicomfast.Dataset) -> tuple[bytes, list[bytes]]:
    value = bytes(memoryview(ds.PixelData).cast("B"))
    bot, items = parse_items(value)
    return bot, [value[o : o + n] for o, n in items]


# --- PNG and TIFF: the pixels back -------------------------------------------------------

PICTURES = [
    ("grey8", ".png", MF_BYTE),
    ("grey16", ".png", MF_WORD),
    ("rgb8", ".png", MF_COLOR),
    ("grey8", ".tif", MF_BYTE),
    ("grey16", ".tif", MF_WORD),
    ("rgb8", ".tif", MF_COLOR),
    ("rgb16", ".tif", SC),  # no multi-frame SC IOD holds 16-bit colour
]


@pytest.mark.parametrize(("kind", "ext", "sop"), PICTURES, ids=[f"{k}{e}" for k, e, _ in PICTURES])
def test_picture_round_trip(tmp_path: Path, kind: str, ext: str, sop: str) -> None:
    arr = _pixels(kind)
    src = _save(arr, tmp_path / f"p{ext}")
    before = src.read_bytes()
    ds = import_images(src, keys={"PatientID": "P1"})
    dicomfast.write(ds, tmp_path / "out.dcm")
    back = dicomfast.read(tmp_path / "out.dcm")
    assert back.SOPClassUID == sop and back.ConversionType == "WSD"
    assert back.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert back.PhotometricInterpretation == ("RGB" if arr.ndim == 3 else "MONOCHROME2")
    assert back.BitsStored == arr.dtype.itemsize * 8
    np.testing.assert_array_equal(back.pixel_array, arr)
    assert src.read_bytes() == before  # the input is never changed


@pytest.mark.parametrize("kind", ["grey8", "grey16", "rgb8"])
def test_sequence_of_pictures_is_one_multiframe_instance(tmp_path: Path, kind: str) -> None:
    frames = [_pixels(kind, seed) for seed in range(3)]
    paths = [_save(f, tmp_path / f"f{i}.png") for i, f in enumerate(frames)]
    ds = import_images(paths)
    dicomfast.write(ds, tmp_path / "out.dcm")
    back = dicomfast.read(tmp_path / "out.dcm")
    assert back.NumberOfFrames == 3
    assert back.SOPClassUID == {"grey8": MF_BYTE, "grey16": MF_WORD, "rgb8": MF_COLOR}[kind]
    np.testing.assert_array_equal(back.pixel_array, np.stack(frames))


def test_multipage_tiff_gives_every_page(tmp_path: Path) -> None:
    pages = np.stack([_pixels("grey16", seed) for seed in range(4)])
    tifffile.imwrite(tmp_path / "pages.tif", pages, photometric="minisblack")
    ds = import_images(tmp_path / "pages.tif")
    assert ds.NumberOfFrames == 4
    np.testing.assert_array_equal(ds.pixel_array, pages)


def test_refusals_that_would_lose_data(tmp_path: Path) -> None:
    rgba = np.dstack([_pixels("rgb8"), np.full((30, 40), 128, np.uint8)])
    PIL.fromarray(rgba).save(tmp_path / "see-through.png")
    with pytest.raises(DicomError, match="transparent"):
        import_images(tmp_path / "see-through.png")
    opaque = np.dstack([_pixels("rgb8"), np.full((30, 40), 255, np.uint8)])
    PIL.fromarray(opaque).save(tmp_path / "opaque.png")
    np.testing.assert_array_equal(
        import_images(tmp_path / "opaque.png").pixel_array, opaque[..., :3]
    )
    _save(_pixels("grey8"), tmp_path / "a.png")
    _save(_pixels("rgb8"), tmp_path / "b.png")
    with pytest.raises(DicomError, match="must match"):
        import_images([tmp_path / "a.png", tmp_path / "b.png"])
    PIL.fromarray(_smooth(0, True)).save(tmp_path / "prog.jpg", progressive=True)
    with pytest.raises(DicomError, match="progressive"):
        import_images(tmp_path / "prog.jpg")


# --- JPEG: kept as it is --------------------------------------------------------------------


@pytest.mark.parametrize("colour", [True, False], ids=["colour", "grey"])
def test_jpeg_kept_byte_for_byte(tmp_path: Path, colour: bool) -> None:
    paths = []
    for i in range(2):
        PIL.fromarray(_smooth(i, colour)).save(tmp_path / f"{i}.jpg", quality=85)
        paths.append(tmp_path / f"{i}.jpg")
    ds = import_images(paths)
    dicomfast.write(ds, tmp_path / "out.dcm")
    back = dicomfast.read(tmp_path / "out.dcm")
    assert back.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.50"
    assert back.SOPClassUID == (MF_COLOR if colour else MF_BYTE)
    assert back.PhotometricInterpretation == ("YBR_FULL_422" if colour else "MONOCHROME2")
    assert back.LossyImageCompression == "01"
    assert back.LossyImageCompressionMethod == "ISO_10918_1"
    assert back.NumberOfFrames == 2
    _, fragments = _fragments(back)
    for p, frag in zip(paths, fragments, strict=True):
        data = p.read_bytes()
        assert frag[: len(data)] == data and frag[len(data) :] in (b"", b"\0")


@NEEDS_DCMTK
@pytest.mark.parametrize("colour", [True, False], ids=["colour", "grey"])
def test_dcmtk_decodes_ours_to_pillows_pixels(tmp_path: Path, colour: bool) -> None:
    """DCMTK (IJG libjpeg) and Pillow (libjpeg-turbo) may round their IDCT and chroma
    upsampling differently: every sample within 2 of Pillow's, the mean difference under
    0.5 (these pictures decode identically with DCMTK 3.6.7 and Pillow 13)."""
    src = tmp_path / "p.jpg"
    PIL.fromarray(_smooth(3, colour)).save(src, quality=85)
    dicomfast.write(import_images(src), tmp_path / "ours.dcm")
    subprocess.run(
        ["dcmdjpeg", str(tmp_path / "ours.dcm"), str(tmp_path / "plain.dcm")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    decoded = dicomfast.read(tmp_path / "plain.dcm")
    assert decoded.PhotometricInterpretation == ("RGB" if colour else "MONOCHROME2")
    theirs = decoded.pixel_array.astype(int)
    pillow = np.asarray(PIL.open(src)).astype(int)
    assert theirs.shape == pillow.shape
    diff = np.abs(theirs - pillow)
    assert diff.max() <= 2 and diff.mean() < 0.5, (diff.max(), diff.mean())


IMAGE_ATTRIBUTES = (
    "Rows", "Columns", "SamplesPerPixel", "PhotometricInterpretation", "BitsAllocated",
    "BitsStored", "HighBit", "PixelRepresentation", "PlanarConfiguration",
)  # fmt: skip


@NEEDS_DCMTK
@pytest.mark.parametrize("colour", [True, False], ids=["colour", "grey"])
def test_img2dcm_and_ours_describe_a_jpeg_alike(tmp_path: Path, colour: bool) -> None:
    src = tmp_path / "p.jpg"
    PIL.fromarray(_smooth(5, colour)).save(src, quality=90)
    subprocess.run(
        ["img2dcm", str(src), str(tmp_path / "theirs.dcm")], check=True, capture_output=True
    )
    theirs = dicomfast.read(tmp_path / "theirs.dcm")
    dicomfast.write(import_images(src), tmp_path / "ours.dcm")
    ours = dicomfast.read(tmp_path / "ours.dcm")
    for kw in IMAGE_ATTRIBUTES:
        assert ours.get(kw) == theirs.get(kw), kw
    assert ours.file_meta.TransferSyntaxUID == theirs.file_meta.TransferSyntaxUID
    assert ours.LossyImageCompression == theirs.LossyImageCompression
    assert ours.LossyImageCompressionMethod == theirs.LossyImageCompressionMethod


# --- video ----------------------------------------------------------------------------------


def _video(path: Path, codec: str, fmt: str | None = None, frames: int = 12) -> Path:
    av = pytest.importorskip("av", reason="PyAV (the 'video' extra) not installed")
    if codec not in av.codecs_available:
        pytest.skip(f"this PyAV has no {codec} encoder")
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        if codec == "libx265":
            stream.options = {"x265-params": "log-level=error"}
        for i in range(frames):
            img = np.zeros((48, 64, 3), np.uint8)
            img[:, : (i * 5) % 64] = 200
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


@pytest.mark.parametrize(
    ("name", "codec", "fmt", "syntax", "method"),
    [
        ("v.mp4", "libx264", None, "1.2.840.10008.1.2.4.102", "ISO_14496_10"),
        ("v.ts", "libx264", "mpegts", "1.2.840.10008.1.2.4.102", "ISO_14496_10"),
        ("v.mpg", "mpeg2video", "mpeg", "1.2.840.10008.1.2.4.100", "ISO_13818_2"),
        ("h.mp4", "libx265", None, "1.2.840.10008.1.2.4.107", "ISO_23008_2"),
    ],
    ids=["h264-mp4", "h264-ts", "mpeg2", "hevc-mp4"],
)
def test_video_kept_as_encoded(
    tmp_path: Path, name: str, codec: str, fmt: str | None, syntax: str, method: str
) -> None:
    src = _video(tmp_path / name, codec, fmt)
    ref = dicomfast.Dataset()
    ref.PatientName, ref.PatientID, ref.StudyInstanceUID = "Doe^Jane", "REF1", "1.2.3.4"
    ref.SOPClassUID, ref.SOPInstanceUID = SC, "1.2.3.4.5"
    dicomfast.write(ref, tmp_path / "ref.dcm")
    res = _cli("import", str(src), "-o", str(tmp_path / "v.dcm"), "--like", str(tmp_path / "ref.dcm"), "-k", "PatientID=K2")  # fmt: skip
    assert res.returncode == 0, res.stderr
    ds = dicomfast.read(tmp_path / "v.dcm")
    assert ds.file_meta.TransferSyntaxUID == syntax
    assert ds.SOPClassUID == MF_COLOR and ds.ConversionType == "DV"
    assert ds.PhotometricInterpretation == "YBR_PARTIAL_420"
    assert (ds.Rows, ds.Columns, ds.NumberOfFrames) == (48, 64, 12)
    assert float(ds.FrameTime) == 40.0 and int(ds.CineRate) == 25
    assert ds.FrameIncrementPointer == 0x00181063
    assert ds.LossyImageCompressionMethod == method
    assert (ds.PatientName, ds.PatientID, ds.StudyInstanceUID) == ("Doe^Jane", "K2", "1.2.3.4")
    assert ds.SOPInstanceUID != ref.SOPInstanceUID
    bot, fragments = _fragments(ds)
    data = src.read_bytes()
    assert bot == b"" and len(fragments) == 1  # the whole stream, one fragment
    assert fragments[0][: len(data)] == data and len(fragments[0]) - len(data) in (0, 1)


def test_video_in_another_container_is_refused(tmp_path: Path) -> None:
    src = _video(tmp_path / "v.mkv", "libx264", "matroska")
    res = _cli("import", str(src), "-o", str(tmp_path / "v.dcm"))
    assert res.returncode == 1 and "MP4 or MPEG-TS" in res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "v.dcm").exists()


def test_video_without_pyav_says_which_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "v.mp4"
    src.write_bytes(b"\0\0\0\x18ftypisom" + b"\0" * 64)
    monkeypatch.setitem(sys.modules, "av", None)  # import av -> ImportError
    with pytest.raises(DicomError, match=r"dicomfast\[video\]"):
        import_images(src)


# --- the command line, and what dciodvfy says -------------------------------------------------


def test_cli_keys_like_and_conversion_type(tmp_path: Path) -> None:
    paths = [str(_save(_pixels("grey8", i), tmp_path / f"{i}.png")) for i in range(2)]
    out = tmp_path / "o.dcm"
    res = _cli(
        "import", *paths, "-o", str(out), "-k", "PatientName=Roe^R", "--conversion-type", "DI"
    )
    assert res.returncode == 0, res.stderr
    ds = dicomfast.read(out)
    assert ds.PatientName == "Roe^R" and ds.ConversionType == "DI" and ds.NumberOfFrames == 2
    before = Path(paths[0]).read_bytes()
    same = _cli("import", paths[0], "-o", paths[0])
    assert same.returncode == 1 and Path(paths[0]).read_bytes() == before
    bad = _cli("import", paths[0], "-o", str(tmp_path / "x.dcm"), "--conversion-type", "DF")
    assert bad.returncode == 1 and "NominalScannedPixelSpacing" in bad.stderr
    assert not (tmp_path / "x.dcm").exists()


@NEEDS_DCIODVFY
@pytest.mark.parametrize(
    "what", ["grey8", "grey16", "rgb8", "rgb16", "jpeg", "jpeg-grey", "h264", "mpeg2"]
)
def test_dciodvfy_finds_no_error(tmp_path: Path, what: str) -> None:
    # (no HEVC here: dciodvfy 1.x does not know the HEVC transfer syntaxes, 2016+)
    if what.startswith("jpeg"):
        src = tmp_path / "p.jpg"
        PIL.fromarray(_smooth(1, what == "jpeg")).save(src)
        sources = [src, src]
    elif what == "h264":
        sources = [_video(tmp_path / "v.mp4", "libx264")]
    elif what == "mpeg2":
        sources = [_video(tmp_path / "v.mpg", "mpeg2video", "mpeg")]
    else:
        ext = ".tif" if what == "rgb16" else ".png"
        sources = [
            _save(_pixels(what, i), tmp_path / f"{i}{ext}")
            for i in range(2 if what != "rgb16" else 1)
        ]
    ds = import_images(sources, keys={"PatientName": "Doe^J", "PatientID": "1"})
    dicomfast.write(ds, tmp_path / "out.dcm")
    assert _errors(tmp_path / "out.dcm") == []
