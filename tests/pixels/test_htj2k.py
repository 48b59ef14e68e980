"""HTJ2K encoding (issue 12; our own encoder, crate dicomfast-htj2k): the three transfer syntaxes of
PS3.5 A.4.11 round trip through our decoder (OpenJPEG) and through the two independent
ones (OpenJPH's ojph_expand, OpenJPEG's opj_decompress) on real corpus images; the
codestream markers each syntax requires; lossy .203 within a PSNR bound and marked as
PS3.3 C.7.6.1.1.5 says; ``dicomfast convert -t htj2k|htj2k-rpcl|htj2k-lossy``."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dicomfast
import numpy as np
import pytest
from corpus_data import CORPUS
from dicomfast import syntaxes
from dicomfast import uid as uids
from dicomfast.cli import main
from dicomfast.pixels import decode_frame, encode_frame
from dicomfast.pixels.frames import encapsulated_data
from dicomfast.pixels.info import pixel_info
from hypothesis import given, settings
from hypothesis import strategies as st
from test_encoders import j2k_images
from test_roundtrip import make_dataset

HT, HT_RPCL, HT_LOSSY = uids.HTJ2KLossless, uids.HTJ2KLosslessRPCL, uids.HTJ2K
if HT not in syntaxes.ENCODABLE and not os.environ.get("CI"):  # CI builds it in
    pytest.skip(
        "this build has no HT block coder (openjpeg-sys's VLC tables not found): no HTJ2K encoding",
        allow_module_level=True,
    )
LOSSLESS = {"htj2k": HT, "htj2k-rpcl": HT_RPCL}

#: Corpus images: 8-bit, 12-bit multi-frame, signed 16-bit, RGB 8-bit, RGB 16-bit 2 frames.
CORPUS_IMAGES = [
    "public/pydicom-data/vlut_04.dcm",
    "public/pydicom-data/emri_small.dcm",
    "public/pydicom/CT_small.dcm",
    "public/pydicom/examples_rgb_color.dcm",
    "public/pydicom-data/SC_rgb_16bit_2frame.dcm",
]


@pytest.fixture(scope="module")
def corpus() -> Path:
    if not (CORPUS / "manifest.json").exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    return CORPUS


def test_no_codec_library_needed_at_run_time() -> None:
    """Every codec is inside ``_core``: it needs no shared library beyond the C/C++
    runtime (HTJ2K encoding used to link the system OpenJPH)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        pytest.skip("no ldd")
    from dicomfast import _core

    out = subprocess.run([ldd, _core.__file__], capture_output=True, text=True).stdout
    names = {line.split()[0] for line in out.splitlines() if line.strip()}
    runtime = ("linux-vdso", "libstdc++", "libgcc_s", "libm.", "libc.", "ld-linux", "/lib64/ld")
    assert names and all(n.startswith(runtime) for n in names), names


def test_encodes_the_same_bytes_every_time() -> None:
    """The encoder is deterministic (OpenJPH 0.9's bytes varied from run to run)."""
    rng = np.random.default_rng(5)
    arr = rng.integers(0, 4096, size=(67, 45), dtype=np.uint16)
    made = {
        bytes(encode_frame(arr.tobytes(), 67, 45, 1, 16, 12, 0, transfer_syntax=HT))
        for _ in range(3)
    }
    assert len(made) == 1


def test_a_lone_frame_on_every_core_gives_the_same_bytes() -> None:
    """A lone frame of 256 x 256 or more has its code-blocks coded on every core when more
    than one thread is allowed: the codestream is the one a single thread makes."""
    rng = np.random.default_rng(9)
    arr = rng.integers(0, 4096, size=(300, 280), dtype=np.uint16)
    made = {}
    for threads in (1, None, 2):
        ds = make_dataset(arr, bits_stored=12)
        ds.compress(HT, threads=threads)
        made[threads] = bytes(ds.PixelData)
    assert made[1] == made[None] == made[2]


def test_registry_says_htj2k_encodes() -> None:
    assert {HT, HT_RPCL, HT_LOSSY} <= syntaxes.ENCODABLE
    assert not syntaxes.get(HT).lossy and syntaxes.get(HT_LOSSY).lossy


@settings(max_examples=60, deadline=None)
@given(j2k_images(), st.sampled_from([HT, HT_RPCL]), st.booleans())
def test_lossless_round_trip(case: tuple[np.ndarray, int, int], ts: str, mct: bool) -> None:
    arr, bs, spp = case
    enc = encode_frame(
        arr, samples_per_pixel=spp, bits_stored=bs, transfer_syntax=ts, colour_transform=mct
    )
    ba, signed = arr.dtype.itemsize * 8, int(arr.dtype.kind == "i")
    out = decode_frame(enc, arr.shape[0], arr.shape[1], spp, ba, bs, signed, 0, ts)
    assert np.array_equal(out.reshape(arr.shape), arr)


def markers(cs: bytes) -> dict[int, bytes]:
    """The main header's marker segments of a codestream (T.800 A.1), by marker."""
    assert cs[:2] == b"\xff\x4f", "no SOC"
    found, at = {}, 2
    while cs[at + 1] != 0x90:  # SOT: the main header ends
        assert cs[at] == 0xFF
        (length,) = struct.unpack(">H", cs[at + 2 : at + 4])
        found[cs[at + 1] | 0xFF00] = cs[at + 4 : at + 2 + length]
        at += 2 + length
    return found


SIZ, COD, CAP, TLM = 0xFF51, 0xFF52, 0xFF50, 0xFF55


def check_markers(cs: bytes, ts: str, rows: int, columns: int) -> None:
    """What PS3.5 A.4.11 / 10.18 and 15444-15 ask of each syntax, read from the markers."""
    m = markers(cs)
    assert struct.unpack(">H", m[SIZ][:2])[0] & 0x4000, "Rsiz: no Part 15 capability"
    assert CAP in m, "no CAP marker segment (15444-15 requires one)"
    scod, order = m[COD][0], m[COD][1]
    levels, cb_style, wavelet = m[COD][5], m[COD][8], m[COD][9]
    assert scod & 0x01 == 0  # default precincts
    assert cb_style & 0x40, "code-blocks not HT-coded"
    assert wavelet == (0 if ts == HT_LOSSY else 1)  # 9/7 irreversible, 5/3 reversible
    if ts == HT_RPCL:
        assert order == 2, "progression order is not RPCL"
        assert (max(rows, columns) - 1) >> levels < 64, "lowest resolution above 64"
        # TLM (Ztlm 0; Stlm: 8-bit Ttlm, 32-bit Ptlm): one tile-part per resolution,
        # lengths that walk the SOT markers exactly to EOC, TPsot/TNsot in order.
        tlm = m[TLM]
        assert tlm[:2] == b"\x00\x50"
        entries = [struct.unpack(">BI", tlm[k : k + 5]) for k in range(2, len(tlm), 5)]
        assert len(entries) == levels + 1
        at = cs.index(b"\xff\x90")
        for k, (tile, length) in enumerate(entries):
            assert tile == 0 and cs[at : at + 2] == b"\xff\x90"
            isot, psot, tpsot, tnsot = struct.unpack(">HIBB", cs[at + 4 : at + 12])
            assert (isot, psot, tpsot, tnsot) == (0, length, k, levels + 1)
            at += length
        assert cs[at : at + 2] == b"\xff\xd9"
    else:
        assert TLM not in m


def thumbnail_decodes_alone(cs: bytes, tmp: Path, rows: int, columns: int) -> None:
    """The main header and the first tile-part alone (+ EOC) are the lowest resolution:
    OpenJPEG decodes them, reduced by every decomposition level, to its size."""
    levels = markers(cs)[COD][5]
    at = cs.index(b"\xff\x90")
    (psot,) = struct.unpack(">I", cs[at + 6 : at + 10])
    (tmp / "t.j2k").write_bytes(cs[: at + psot] + b"\xff\xd9")
    r = subprocess.run(
        ["opj_decompress", "-i", str(tmp / "t.j2k"), "-o", str(tmp / "t.pgx"), "-r", str(levels)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    head = (tmp / "t_0.pgx" if (tmp / "t_0.pgx").exists() else tmp / "t.pgx").read_bytes()
    dims = head.split(b"\n", 1)[0].split()[-2:]
    size = (-(-columns >> levels), -(-rows >> levels))
    assert tuple(int(d) for d in dims) == size, (dims, size)


def frames_of(ds: dicomfast.Dataset) -> Iterator[bytes]:
    data = encapsulated_data(ds, pixel_info(ds))
    for frame in data.frames:
        yield b"".join(bytes(data.source[o : o + n]) for o, n in frame)


def ojph_expand(cs: bytes, tmp: Path, spp: int, bits: int) -> np.ndarray:
    """OpenJPH's decoder: raw planes (.raw, no colour transform) or .ppm (RGB)."""
    (tmp / "f.j2c").write_bytes(cs)
    out = tmp / ("f.ppm" if spp == 3 else "f.raw")
    r = subprocess.run(
        ["ojph_expand", "-i", str(tmp / "f.j2c"), "-o", str(out)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stdout + r.stderr
    data = out.read_bytes()
    if spp == 3:  # P6 header: magic, width, height, maxval; 16-bit samples big endian
        header = data.split(maxsplit=4)
        dt = ">u2" if int(header[3]) > 255 else "u1"
        w, h = int(header[1]), int(header[2])
        return np.frombuffer(data[len(data) - w * h * 3 * np.dtype(dt).itemsize :], dt)
    return np.frombuffer(data, "<u2" if bits > 8 else "u1")


def opj_decompress(cs: bytes, tmp: Path, spp: int, bits: int, signed: bool) -> np.ndarray:
    """OpenJPEG's decoder (2.5 decodes HTJ2K): .rawl, component planes in turn."""
    (tmp / "f.j2k").write_bytes(cs)
    r = subprocess.run(
        ["opj_decompress", "-i", str(tmp / "f.j2k"), "-o", str(tmp / "f.rawl")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    kind = "i" if signed else "u"
    planes = np.frombuffer((tmp / "f.rawl").read_bytes(), f"<{kind}{2 if bits > 8 else 1}")
    return np.moveaxis(planes.reshape(spp, -1), 0, -1).reshape(-1)


@pytest.mark.skipif(shutil.which("ojph_expand") is None, reason="ojph_expand not installed")
@pytest.mark.parametrize("seed", range(12))
def test_random_frames_exact_through_ojph_expand(seed: int, tmp_path: Path) -> None:
    """OpenJPH's own decoder, independent of the OpenJPEG one we decode with, gives back
    exactly what our encoder coded: odd and even sizes, 2-16 bits, noise and extremes
    (runs of the largest value: the streams' bit stuffing), grey, and RGB with the RCT."""
    rng = np.random.default_rng(seed)
    for k in range(4):
        # From 33 on: ojph_expand 0.9 returns only the lowest resolution of frames under
        # 2^5 samples on a side coded with 5 levels (its own streams as well as ours).
        rows, cols = (int(v) for v in rng.integers(33, 200, size=2))
        spp = 3 if k == 3 else 1
        bits = 8 if spp == 3 else int(rng.integers(2, 17))
        dtype = np.uint8 if bits <= 8 else np.uint16
        shape = (rows, cols, 3) if spp == 3 else (rows, cols)
        arr = rng.integers(0, 1 << bits, size=shape, dtype=np.uint64).astype(dtype)
        if k == 1:
            arr[::2] = (1 << bits) - 1
        for ts in (HT, HT_RPCL):
            cs = encode_frame(
                arr.tobytes(),
                rows,
                cols,
                spp,
                8 * arr.itemsize,
                bits,
                0,
                transfer_syntax=ts,
                colour_transform=spp == 3,
            )
            got = ojph_expand(bytes(cs), tmp_path, spp, bits)
            assert np.array_equal(got.reshape(-1), arr.reshape(-1)), (seed, k, ts, shape, bits)


@pytest.mark.corpus
@pytest.mark.parametrize("path", CORPUS_IMAGES)
def test_corpus_lossless_exact_through_three_decoders(
    corpus: Path, tmp_path: Path, path: str
) -> None:
    src = dicomfast.read(corpus / path)
    arr = src.pixel_array
    info = pixel_info(src)
    spp, bits, signed = info.samples_per_pixel, info.bits_stored, info.pixel_representation == 1
    for name, ts in LOSSLESS.items():
        ds = dicomfast.read(corpus / path).compress(name)
        assert ds.file_meta.TransferSyntaxUID == ts
        assert ds.get("LossyImageCompression") == src.get("LossyImageCompression")
        if spp == 3:  # coded with the RCT, said so (PS3.5 8.2.4)
            assert ds.PhotometricInterpretation == "YBR_RCT"
        dicomfast.write(ds, tmp_path / "c.dcm")
        back = dicomfast.read(tmp_path / "c.dcm")
        np.testing.assert_array_equal(back.pixel_array, arr)  # our decoder (OpenJPEG)
        frames = list(frames_of(back))
        assert len(frames) == info.number_of_frames
        first = (arr[0] if info.number_of_frames > 1 else arr).reshape(-1)
        check_markers(frames[0], ts, info.rows, info.columns)
        if ts == HT_RPCL and shutil.which("opj_decompress"):
            thumbnail_decodes_alone(frames[0], tmp_path, info.rows, info.columns)
        if shutil.which("ojph_expand"):
            got = ojph_expand(frames[0], tmp_path, spp, bits).astype(np.int64)
            # ojph_expand 0.9 clamps its output to [0, 2^bits - 1]: negative samples of
            # signed data come out 0 (its writer, not the codestream: OpenJPEG agrees).
            want = np.clip(first.astype(np.int64), 0, None) if signed else first
            np.testing.assert_array_equal(got, want)
        if shutil.which("opj_decompress"):
            got = opj_decompress(frames[0], tmp_path, spp, bits, signed)
            np.testing.assert_array_equal(got.astype(np.int64), first.astype(np.int64))


def _last_ratio(ds: dicomfast.Dataset) -> float:
    v = ds.LossyImageCompressionRatio
    return float(v[-1] if isinstance(v, list) else v)


def _psnr(a: np.ndarray, b: np.ndarray, bits: int) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(((1 << bits) - 1) ** 2 / mse)


@pytest.mark.corpus
def test_lossy_psnr_ratio_and_marking(corpus: Path, tmp_path: Path) -> None:
    src = dicomfast.read(corpus / "public/pydicom/CT_small.dcm")
    arr, uid = src.pixel_array, src.SOPInstanceUID
    psnr = {}
    for ratio in (6, 20):
        ds = dicomfast.read(corpus / "public/pydicom/CT_small.dcm")
        ds.compress("htj2k-lossy", ratio=ratio)
        assert ds.file_meta.TransferSyntaxUID == HT_LOSSY
        assert ds.LossyImageCompression == "01"
        assert list(ds.LossyImageCompressionMethod) == ["ISO_15444_15"]
        # The encoder meets the ratio on the frame; the item headers and offset table
        # count here too.
        achieved = _last_ratio(ds)
        assert 0.98 * ratio <= achieved < ratio * 1.4, achieved
        assert ds.SOPInstanceUID != uid
        frame = next(frames_of(ds))
        check_markers(frame, HT_LOSSY, 128, 128)
        got = ds.pixel_array
        assert not np.array_equal(got, arr)
        psnr[ratio] = _psnr(got, arr, 16)
        if shutil.which("opj_decompress"):  # the reference decoder agrees with ours
            theirs = opj_decompress(frame, tmp_path, 1, 16, True).reshape(arr.shape)
            assert np.abs(theirs.astype(np.int64) - got.astype(np.int64)).max() <= 1
    # CT_small's values span about 2^12: 60 dB of a 16-bit range is ~0.06% of it.
    assert psnr[6] > 70 and psnr[20] > 60 and psnr[6] > psnr[20], psnr


def test_lossy_rgb_uses_the_ict() -> None:
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:64, 0:80]
    base = 120 + 60 * np.sin(x / 7.0) + 40 * np.cos(y / 5.0)
    arr = np.stack([base, base[::-1], base[:, ::-1]], -1) + rng.normal(0, 2, (64, 80, 3))
    arr = np.clip(arr, 0, 255).astype(np.uint8)
    ds = make_dataset(arr, 8, "RGB").compress("htj2k-lossy", ratio=8)
    assert ds.PhotometricInterpretation == "YBR_ICT"
    assert _psnr(ds.pixel_array, arr, 8) > 30
    plain = make_dataset(arr, 8, "RGB").compress("htj2k")
    assert plain.PhotometricInterpretation == "YBR_RCT"
    np.testing.assert_array_equal(plain.decompress().pixel_array, arr)


def test_lossy_ratio_below_two_refused() -> None:
    arr = np.zeros((8, 8), np.uint8)
    with pytest.raises(dicomfast.DicomError, match="at least 2"):
        encode_frame(arr, transfer_syntax=HT_LOSSY, ratio=1)


@pytest.mark.corpus
def test_convert_cli(corpus: Path, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(corpus / "public/pydicom-data/emri_small.dcm", src / "mf.dcm")
    original = dicomfast.read(src / "mf.dcm").pixel_array
    for name, ts in [*LOSSLESS.items(), ("htj2k-lossy", HT_LOSSY)]:
        out = tmp_path / name
        extra = ["--ratio", "12"] if name == "htj2k-lossy" else []
        rc = main(["convert", str(src), "-o", str(out), "--workers", "1", "-q", "-t", name, *extra])
        assert rc == 0
        got = dicomfast.read(out / "mf.dcm")
        assert got.file_meta.TransferSyntaxUID == ts
        if ts == HT_LOSSY:
            assert got.LossyImageCompression == "01"
            assert _last_ratio(got) >= 0.98 * 12
        else:
            np.testing.assert_array_equal(got.pixel_array, original)
    assert (
        main(["convert", str(src), "-o", str(tmp_path / "x"), "-t", "htj2k", "--ratio", "9"]) == 2
    )


@pytest.mark.corpus
def test_other_toolkits_read_our_htj2k(corpus: Path, tmp_path: Path) -> None:
    """pydicom 3 with whichever HTJ2K-capable plugin is installed (pylibjpeg-openjpeg, or
    python-gdcm if its GDCM knows the syntax), and GDCM's gdcmconv: exact where they can
    decode HTJ2K; skipped, saying so, where none can."""
    pydicom = pytest.importorskip("pydicom")
    src = dicomfast.read(corpus / "public/pydicom/CT_small.dcm")
    arr = src.pixel_array
    dicomfast.write(src.compress("htj2k"), tmp_path / "c.dcm")
    readers = []
    try:
        theirs = pydicom.dcmread(tmp_path / "c.dcm").pixel_array
        np.testing.assert_array_equal(theirs, arr)
        readers.append("pydicom")
    except (RuntimeError, NotImplementedError, ValueError) as e:
        print(f"pydicom cannot decode HTJ2K here: {e}")
    if shutil.which("gdcmconv"):
        r = subprocess.run(
            ["gdcmconv", "--raw", str(tmp_path / "c.dcm"), str(tmp_path / "d.dcm")],
            capture_output=True,
            text=True,
        )
        if r.returncode == 0:
            np.testing.assert_array_equal(dicomfast.read(tmp_path / "d.dcm").pixel_array, arr)
            readers.append("gdcmconv")
        else:
            print(f"gdcmconv cannot decode HTJ2K: {r.stderr.strip()[:200]}")
    if not readers:
        pytest.skip("neither pydicom's plugins nor gdcmconv decode HTJ2K here")


def _htj2k_dataset(
    frame: bytes, arr: np.ndarray, bits: int, ts: str = "1.2.840.10008.1.2.4.201"
) -> dicomfast.Dataset:
    """A one-frame data set of syntax ``ts`` (HTJ2K Lossless unless told) holding
    ``frame`` (made with pydicom)."""
    import io

    from dicomfast.pixels.frames import encapsulate

    pydicom = pytest.importorskip("pydicom")
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import generate_uid

    ds = pydicom.Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ts
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.Rows, ds.Columns = arr.shape[:2]
    rgb = arr.ndim == 3
    ds.SamplesPerPixel = 3 if rgb else 1
    ds.PhotometricInterpretation = "RGB" if rgb else "MONOCHROME2"
    if rgb:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = arr.dtype.itemsize * 8
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, bits - 1, int(arr.dtype.kind == "i")
    ds.PixelData = encapsulate([frame])
    ds["PixelData"].VR = "OB"
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return dicomfast.read(buf.getvalue())


@pytest.mark.parametrize(
    "shape,dtype,bits,options",
    [
        ((512, 512), np.uint16, 12, {}),
        ((333, 251), np.uint16, 16, {"resolutions": 4}),
        ((97, 61), np.uint8, 8, {"resolutions": 1}),
        ((480, 640, 3), np.uint8, 8, {}),
        ((200, 300, 3), np.uint8, 8, {"resolutions": 7}),
        ((128, 96), np.int16, 16, {}),
        ((300, 500), np.uint16, 12, {"tlm": True, "tilepart": 1}),
        # Tiles: not our decoder's, OpenJPEG's.
        ((300, 500), np.uint16, 12, {"tile": (128, 128)}),
    ],
)
def test_openjph_codestreams_decode_exactly(
    shape: tuple[int, ...], dtype: type, bits: int, options: dict
) -> None:
    """Lossless codestreams of OpenJPH 0.26 (imagecodecs' encoder, another HTJ2K encoder
    than ours) give their frame back exactly through ``pixel_array``, on one thread and
    on the default threads (our HT decoder takes them; OpenJPEG the rest)."""
    imagecodecs = pytest.importorskip("imagecodecs")
    rng = np.random.default_rng(len(shape) * 1000 + shape[0])
    info = np.iinfo(dtype)
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if info.min < 0 else (0, (1 << bits) - 1)
    y = np.mgrid[0 : shape[0], 0 : shape[1]][0]
    base = (y * 7) % (hi - lo + 1) + lo
    if len(shape) == 3:
        base = np.repeat(base[..., None], 3, axis=2)
    arr = np.clip(base + rng.integers(-50, 50, shape), lo, hi).astype(dtype)
    try:
        frame = imagecodecs.htj2k_encode(arr, reversible=True, **options)
    except Exception as e:  # noqa: BLE001 - an option this imagecodecs lacks
        pytest.skip(f"imagecodecs cannot encode this: {e}")
    ds = _htj2k_dataset(frame, arr, bits)
    np.testing.assert_array_equal(ds.pixel_array_as(threads=1), arr)
    np.testing.assert_array_equal(ds.pixel_array, arr)


def _extreme_frames(rgb: bool, dtype: type, bits: int) -> Iterator[np.ndarray]:
    """Frames of ``bits``-bit samples that drive a reversible wavelet's values up: random
    extremes, and checkerboards of periods 2 to 64 (each near the worst case of one
    level's high bands); in colour, with the colour transform's differences at their
    largest too (red and blue against green)."""
    signed = np.iinfo(dtype).min < 0
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    rng = np.random.default_rng(8)
    y, x = np.mgrid[0:192, 0:256]
    masks = [rng.integers(0, 2, y.shape).astype(bool)]
    masks += [((y >> k) + (x >> k)) % 2 == 1 for k in range(6)]
    for m in masks:
        grey = np.where(m, hi, lo).astype(dtype)
        if rgb:
            yield np.stack([grey, np.where(m, lo, hi).astype(dtype), grey], axis=2)
        else:
            yield grey


@pytest.mark.parametrize(
    "rgb,dtype,bits,encoder,resolutions",
    [
        # 16-bit planes: up to 12-bit samples, 11 with the colour transform.
        (True, np.uint8, 8, "openjph", 6),
        (True, np.uint8, 8, "openjph", 10),
        (False, np.uint8, 8, "openjph", 7),
        (False, np.int8, 8, "openjph", 7),
        (False, np.uint16, 12, "ours", 6),
        (False, np.int16, 12, "ours", 6),
        (True, np.uint16, 11, "ours", 6),
        (True, np.uint8, 8, "openjpeg", 6),
        (False, np.uint16, 12, "openjpeg", 9),
        # 32-bit planes: deeper samples.
        (False, np.uint16, 16, "openjph", 6),
        (False, np.uint16, 13, "ours", 6),
        (True, np.uint16, 12, "ours", 6),
    ],
)
def test_frames_at_the_narrow_planes_limits_decode_exactly(
    rgb: bool, dtype: type, bits: int, encoder: str, resolutions: int
) -> None:
    """Reversible tiles of up to 12-bit samples are decoded in 16-bit planes, which hold
    every value a valid codestream's wavelet makes of them (``dwt::narrow_fits``):
    frames made to drive those values up, coded by OpenJPH (HTJ2K) and OpenJPEG (JPEG
    2000) through imagecodecs, or by our HTJ2K encoder, decode on one thread and on the
    default threads to what OpenJPH or OpenJPEG decodes, on both sides of the limit; and to the frame
    itself, for all of OpenJPH's and for all but one of OpenJPEG's (whose two guard bits
    are too few for the colour transform's checkerboard of period 16: it loses that
    frame, and decodes it as we do)."""
    imagecodecs = pytest.importorskip("imagecodecs")
    lost = 0
    for arr in _extreme_frames(rgb, dtype, bits):
        try:
            if encoder == "openjpeg":
                frame = imagecodecs.jpeg2k_encode(
                    arr,
                    level=0,
                    reversible=True,
                    resolutions=resolutions,
                    codecformat="J2K",
                    bitspersample=bits,
                )
                ts, reference = "1.2.840.10008.1.2.4.90", imagecodecs.jpeg2k_decode(frame)
            else:
                ts = "1.2.840.10008.1.2.4.201"
                if encoder == "openjph":  # of the dtype's depth
                    frame = imagecodecs.htj2k_encode(arr, reversible=True, resolutions=resolutions)
                else:  # ours: of ``bits``, 5 levels
                    spp = 3 if rgb else 1
                    frame = encode_frame(
                        arr, samples_per_pixel=spp, bits_stored=bits, transfer_syntax=ts
                    )
                reference = imagecodecs.htj2k_decode(frame)
        except Exception as e:  # noqa: BLE001 - a sample type this imagecodecs lacks
            pytest.skip(f"imagecodecs cannot encode this: {e}")
        if reference.shape == (3, *arr.shape[:2]):  # OpenJPH gives our colour frames planar
            reference = np.moveaxis(reference, 0, 2)
        ds = _htj2k_dataset(frame, arr, bits, ts)
        np.testing.assert_array_equal(ds.pixel_array_as(threads=1), reference)
        np.testing.assert_array_equal(ds.pixel_array, reference)
        lost += not np.array_equal(reference, arr)
    assert lost <= (encoder == "openjpeg" and rgb)
