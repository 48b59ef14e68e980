"""The display pipeline (dicomfast.pixels.display) against pydicom 3.0.2's functions
of the same names: random arrays over every kernel dtype, then real corpus files."""

from __future__ import annotations

import json
from pathlib import Path

import dicomfast
import numpy as np
import pydicom
import pytest
from dicomfast import _display
from dicomfast.pixels import display as D
from pydicom.dataset import Dataset as PdDataset
from pydicom.pixels import processing as P

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
DTYPES = ["u1", "i1", "u2", "i2", "u4", "i4", "f4", "f8", "i8", ">u2"]
RNG = np.random.default_rng(20261125)


def _random(dtype: str, shape: tuple[int, ...] = (3, 37, 41)) -> np.ndarray:
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return (RNG.standard_normal(shape) * 3000).astype(dt)
    info = np.iinfo(dt)
    lo, hi = max(info.min, -70000), min(info.max, 70000)
    return RNG.integers(lo, hi, size=shape, endpoint=True).astype(dt)


def _pair(**attrs: object) -> tuple[PdDataset, dicomfast.Dataset]:
    """The same attributes as a pydicom and a dicomfast data set."""
    pd = PdDataset()
    for k, v in attrs.items():
        setattr(pd, k, v)
    pd.file_meta = pydicom.dataset.FileMetaDataset()
    pd.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    pd.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    pd.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    ours = dicomfast.read(_to_bytes(pd))
    return pd, ours


def _to_bytes(pd: PdDataset) -> bytes:
    from io import BytesIO

    buf = BytesIO()
    pd.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


@pytest.fixture(autouse=True)
def _parallel_from_small_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parallel kernels from 2**18 element-costs, so that arrays of test size run
    the chunked OpenMP paths too (the shipped threshold, 2**22, is tested below)."""
    monkeypatch.setattr(D, "_PARALLEL_WORK", 1 << 18)


def test_threads_only_where_a_thread_would_take_long(monkeypatch: pytest.MonkeyPatch) -> None:
    """One 512x512 frame (what export runs per image) stays on one thread for a
    plain pass or a lookup, where waking a second thread costs more than it saves;
    a whole volume, or costlier work per element, goes parallel."""
    monkeypatch.undo()
    monkeypatch.setattr(D, "_THREADS", 2)
    frame = 512 * 512
    assert D._nt(frame) == D._nt(frame, D._LOOKUP) == D._nt(frame, D._LINEAR) == 1
    assert D._nt(frame, D._COLOR) == D._nt(frame, D._EXP) == 2
    assert D._nt(20 * frame) == D._nt(20 * frame, D._LOOKUP) == 2
    monkeypatch.setattr(D, "_THREADS", 1)
    assert D._nt(20 * frame, D._EXP) == 1


def _same(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("function", ["LINEAR", "LINEAR_EXACT", "SIGMOID"])
@pytest.mark.parametrize("signed", [0, 1])
def test_windowing_random(dtype: str, function: str, signed: int) -> None:
    arr = _random(dtype)
    pd, ours = _pair(
        PhotometricInterpretation="MONOCHROME2",
        BitsStored=12,
        PixelRepresentation=signed,
        WindowCenter=[40.0, 300.5],
        WindowWidth=[400.0, 1500.0],
        VOILUTFunction=function,
        RescaleSlope=1.5,
        RescaleIntercept=-1024.0,
    )
    for index in (0, 1):
        _same(D.apply_windowing(arr, ours, index), P.apply_windowing(arr, pd, index))
        _same(D.apply_voi_lut(arr, ours, index), P.apply_voi_lut(arr, pd, index))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("first,bits,entries", [(0, 16, 4096), (-2048, 12, 4096), (100, 8, 256)])
def test_voi_lut_sequence_random(dtype: str, first: int, bits: int, entries: int) -> None:
    arr = _random(dtype)
    if np.dtype(dtype).kind == "u" and first < 0:
        pytest.skip("a negative first mapped value does not fit an unsigned input")
    if np.dtype(dtype).itemsize == 1 and abs(first) > 127:
        pytest.skip("first mapped value outside the input type")
    item = PdDataset()
    item.LUTDescriptor = [entries, first, bits]
    item.add_new(0x00283006, "US", RNG.integers(0, 2**bits, size=entries).tolist())
    pd, ours = _pair(
        PhotometricInterpretation="MONOCHROME2",
        BitsStored=16,
        PixelRepresentation=1,
        VOILUTSequence=[item],
        WindowCenter=100.0,
        WindowWidth=200.0,
    )
    for prefer in (True, False):
        _same(
            D.apply_voi_lut(arr, ours, prefer_lut=prefer),
            P.apply_voi_lut(arr, pd, prefer_lut=prefer),
        )


@pytest.mark.parametrize("dtype", ["u1", "u2", "i2", "f8"])
@pytest.mark.parametrize("bits", [8, 12, 16])
def test_presentation_lut_random(dtype: str, bits: int) -> None:
    arr = _random(dtype)
    item = PdDataset()
    item.LUTDescriptor = [256 if bits == 8 else 4096, 0, bits]
    item.add_new(0x00283006, "US", RNG.integers(0, 2**bits, size=item.LUTDescriptor[0]).tolist())
    pd, ours = _pair(PresentationLUTSequence=[item])
    _same(D.apply_presentation_lut(arr, ours), P.apply_presentation_lut(arr, pd))
    pd, ours = _pair(PresentationLUTShape="INVERSE")
    _same(D.apply_presentation_lut(arr, ours), P.apply_presentation_lut(arr, pd))


@pytest.mark.parametrize("dtype", ["u1", "u2", "i2", "i4"])
@pytest.mark.parametrize("depth,first", [(8, 0), (16, 10)])
def test_color_lut_random(dtype: str, depth: int, first: int) -> None:
    top = 256 if np.dtype(dtype).itemsize == 1 else 300  # some indices past the table
    arr = (np.abs(_random(dtype).astype(np.int64)) % top).astype(dtype)
    n = 256
    pd, ours = _pair(
        PhotometricInterpretation="PALETTE COLOR",
        RedPaletteColorLookupTableDescriptor=[n, first, depth],
        GreenPaletteColorLookupTableDescriptor=[n, first, depth],
        BluePaletteColorLookupTableDescriptor=[n, first, depth],
        **{
            f"{c}PaletteColorLookupTableData": RNG.integers(0, 2**depth, n)
            .astype(f"<u{depth // 8}")
            .tobytes()
            for c in ("Red", "Green", "Blue")
        },
    )
    _same(D.apply_color_lut(arr, ours), P.apply_color_lut(arr, pd))


@pytest.mark.filterwarnings("ignore:Applying a VOI LUT on a float input")
@pytest.mark.parametrize("dtype", ["u1", "i1", "u2", "i2", "u4", "i4", ">i2", "f4", "f8", ">f8"])
@pytest.mark.parametrize("where", ["low", "top"])
@pytest.mark.parametrize("threads", [1, 2])
def test_table_path_random(
    dtype: str, where: str, threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Images with few distinct whole-number values, large enough for the table
    path (each transform evaluated once per value in min..max, then gathered) and,
    with two threads, for the parallel chunks (the last one partial)."""
    monkeypatch.setattr(D, "_THREADS", threads)
    dt = np.dtype(dtype)
    info = np.iinfo(dt if dt.kind != "f" else np.int32)
    top = int(info.max) if dt.kind != "f" else 2**31 - 4096  # float32: whole but rounded
    span = min(1500, int(info.max) - int(info.min))
    lo = max(int(info.min), -300) if where == "low" else top - span
    arr = RNG.integers(lo, lo + span, size=(3, 300, 301), endpoint=True).astype(dt)
    flat = D._native(arr).reshape(-1)
    if dt.kind == "f":
        arr[arr == 0] = -0.0  # served by the entry computed at +0.0
        assert where == "top" or np.signbit(arr).any()
        assert _display.integral_range(flat, threads) is not None
    else:
        assert D._table_range(flat) is not None
    assert arr.size > 4 * 65536
    pd, ours = _pair(
        PhotometricInterpretation="MONOCHROME2",
        BitsStored=16,
        PixelRepresentation=int(dt.kind == "i"),
        WindowCenter=[float(lo + span // 3), 200.0],
        WindowWidth=[float(span // 2), 50.0],
        RescaleSlope=0.75,
        RescaleIntercept=-1024.0,
    )
    for function in ("SIGMOID", "LINEAR", "LINEAR_EXACT"):
        pd.VOILUTFunction = function
        ours.VOILUTFunction = function
        for index in (0, 1):
            _same(D.apply_windowing(arr, ours, index), P.apply_windowing(arr, pd, index))
    _same(D.apply_modality_lut(arr, ours), P.apply_modality_lut(arr, pd))
    first = lo + span // 4 if dt.itemsize > 1 else 0
    if not -(2**15) <= first < 2**16:  # the descriptor's value is 16 bits (US or SS)
        first = 0
    for bits, entries in ((16, span // 2), (8, 256)):
        item = PdDataset()
        item.LUTDescriptor = [entries, first, bits]
        item.add_new(0x00283006, "US", RNG.integers(0, 2**bits, size=entries).tolist())
        pd, ours = _pair(
            PhotometricInterpretation="MONOCHROME2",
            VOILUTSequence=[item],
            PresentationLUTSequence=[item],
        )
        _same(D.apply_voi_lut(arr, ours), P.apply_voi_lut(arr, pd))
        _same(D.apply_presentation_lut(arr, ours), P.apply_presentation_lut(arr, pd))
    pd, ours = _pair(PresentationLUTShape="INVERSE")
    _same(D.apply_presentation_lut(arr, ours), P.apply_presentation_lut(arr, pd))


def test_output_pool() -> None:
    """Large outputs reuse freed blocks of the same size (at most the limit), are
    ordinary arrays, and hold the right values when they reuse a block."""
    previous = D.set_output_pool(0)  # frees blocks earlier outputs left (e.g. export's)
    D.set_output_pool(64 << 20)
    try:
        assert _display.pool_cached() == 0
        shape = (5, 1024, 1024)  # 40 MiB of float64
        a = D._empty(shape, np.float64)
        assert a.flags.owndata and a.flags.writeable and a.base is None
        a.fill(7.0)
        address = a.ctypes.data
        del a
        assert _display.pool_cached() == 40 << 20
        b = D._empty(shape, np.float64)
        assert b.ctypes.data == address and _display.pool_cached() == 0
        c = D._empty(shape, np.float64)
        assert c.ctypes.data != address
        del b, c  # 80 MiB freed, 64 MiB allowed: one kept
        assert _display.pool_cached() == 40 << 20
        arr = RNG.integers(-1000, 3000, size=shape).astype(np.int16)
        pd, ours = _pair(
            PhotometricInterpretation="MONOCHROME2",
            BitsStored=16,
            PixelRepresentation=1,
            WindowCenter=40.0,
            WindowWidth=400.0,
            RescaleSlope=1.0,
            RescaleIntercept=-1024.0,
        )
        for _ in range(2):  # the second time into the blocks the first freed
            m = D.apply_modality_lut(arr, ours)
            _same(m, P.apply_modality_lut(arr, pd))
            _same(D.apply_voi_lut(m, ours), P.apply_voi_lut(m, pd))
            del m
        assert _display.pool_cached() > 0
        assert D.set_output_pool(0) == 64 << 20
        assert _display.pool_cached() == 0
        del arr
        big = D._empty(shape, np.float64)
        del big
        assert _display.pool_cached() == 0
    finally:
        D.set_output_pool(previous)


@pytest.mark.parametrize("dtype", ["f4", "f8"])
@pytest.mark.parametrize("threads", [1, 2])
def test_integral_range(dtype: str, threads: int) -> None:
    arr = RNG.integers(-(2**31), 2**31 - 1, size=300_001, endpoint=True).astype(dtype)
    arr[arr >= 2**31] = 0  # float32 rounds 2**31 - 1 up
    for a in (arr, arr[:3], arr[:7], arr[: 65536 * 3 + 1]):
        assert _display.integral_range(a, threads) == (int(a.min()), int(a.max()))
    for bad in (0.5, -0.25, np.nan, np.inf, -np.inf, 2.0**31, -(2.0**31) - 512, 1e300):
        for where in (0, 1, 2, 3, 65536 * 2 + 5, -1):
            b = arr.copy()
            with np.errstate(over="ignore"):  # 1e300 is inf in float32
                b[where] = bad
                if b[where] != bad and not np.isnan(bad):  # float32 rounded it
                    continue
            assert _display.integral_range(b, threads) is None, (bad, where)
    assert _display.integral_range(np.asarray([-(2.0**31), 2.0**31 - 1]), threads) == (
        -(2**31),
        2**31 - 1,
    )


@pytest.mark.parametrize("dtype", ["u1", "i1", "u2", "i2", "u4", "i4"])
@pytest.mark.parametrize("threads", [1, 2])
def test_int_range(dtype: str, threads: int) -> None:
    info = np.iinfo(np.dtype(dtype))
    arr = RNG.integers(info.min, info.max, size=300_001, endpoint=True).astype(dtype)
    for a in (arr, arr[:1], arr[: 65536 * 3 + 1], np.sort(arr), np.sort(arr)[::-1].copy()):
        assert _display.int_range(a, threads) == (int(a.min()), int(a.max()))


def test_segmented_lut_expansion() -> None:
    # discrete 0..3, linear to 100 over 8, indirect copy of the first 2 segments
    data = [0, 4, 0, 1, 2, 3, 1, 8, 100, 2, 2, 0, 0, 1, 5, 7]
    ours = D.expand_segmented_lut(data)
    theirs = P._expand_segmented_lut(tuple(data), "<H")
    assert ours == theirs


@pytest.mark.parametrize("shape", [(7, 11, 3), (2, 5, 9, 3)])
def test_color_space_random(shape: tuple[int, ...]) -> None:
    arr = RNG.integers(0, 256, size=shape, dtype=np.uint8)
    for cur, want in [("YBR_FULL", "RGB"), ("YBR_FULL_422", "RGB"), ("RGB", "YBR_FULL")]:
        _same(D.convert_color_space(arr, cur, want), P.convert_color_space(arr, cur, want))


def test_color_space_every_value() -> None:
    """All 2**24 inputs, both directions: bit-identical to pydicom's float32 matmul."""
    grid = np.indices((256, 256, 256), dtype=np.uint8).reshape(3, -1).T.copy()
    for cur, want in [("YBR_FULL", "RGB"), ("RGB", "YBR_FULL")]:
        _same(D.convert_color_space(grid, cur, want), P.convert_color_space(grid, cur, want))


def test_errors() -> None:
    pd, ours = _pair(PhotometricInterpretation="RGB", WindowCenter=1.0, WindowWidth=1.0)
    with pytest.raises(ValueError):
        D.apply_windowing(np.zeros(3, np.uint8), ours)
    with pytest.raises(ValueError):
        D.convert_color_space(np.zeros((2, 3), np.uint16), "YBR_FULL", "RGB")
    pd, ours = _pair(
        PhotometricInterpretation="MONOCHROME2",
        WindowCenter=1.0,
        WindowWidth=0.5,
        BitsStored=8,
        PixelRepresentation=0,
    )
    with pytest.raises(ValueError):
        D.apply_windowing(np.zeros(3, np.uint8), ours)


# -- real files ----------------------------------------------------------------


def _corpus_files(predicate) -> list[str]:  # noqa: ANN001
    manifest = CORPUS / "manifest.json"
    if not manifest.exists():
        return []
    files = json.loads(manifest.read_text())["files"]
    return [f["path"] for f in files if not f.get("expect_error") and predicate(f)]


def _read_both(rel: str) -> tuple[np.ndarray, pydicom.Dataset, dicomfast.Dataset]:
    path = CORPUS / rel
    pd = pydicom.dcmread(path, force=True)
    if "TransferSyntaxUID" not in pd.file_meta:
        pd.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2"
    pd.pixel_array_options(as_rgb=False)
    try:
        arr = pd.pixel_array
    except Exception as e:  # no plugin for this syntax here
        pytest.skip(f"pydicom cannot decode {rel}: {e}")
    return arr, pd, dicomfast.read(path)


PALETTE = _corpus_files(lambda f: f.get("photometric_interpretation") == "PALETTE COLOR")
GREY = _corpus_files(
    lambda f: (
        f.get("photometric_interpretation") in ("MONOCHROME1", "MONOCHROME2")
        and (f.get("samples_per_pixel") or 1) == 1
        and (f.get("file_size") or 0) < 3_000_000
        and f["path"].startswith(("public/pydicom-data", "public/pydicom/", "public/wg04/RLE"))
    )
)
YBR = _corpus_files(
    lambda f: (
        f.get("photometric_interpretation") in ("YBR_FULL", "YBR_FULL_422")
        and f.get("transfer_syntax") in ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2.5")
    )
)


@pytest.mark.corpus
@pytest.mark.parametrize("rel", PALETTE)
def test_corpus_palette(rel: str) -> None:
    arr, pd, ours = _read_both(rel)
    got = D.apply_color_lut(arr, ours)
    if (
        pd.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.2"
        and "RedPaletteColorLookupTableData" in pd
    ):
        # pydicom reads big endian OW tables as little endian bytes; compare to the LE twin
        twin = CORPUS / rel.replace("_expb", "")
        if twin.exists() and twin != CORPUS / rel:
            tpd = pydicom.dcmread(twin)
            _same(got, P.apply_color_lut(tpd.pixel_array, tpd))
        return
    _same(got, P.apply_color_lut(arr, pd))


@pytest.mark.corpus
@pytest.mark.parametrize("rel", GREY)
def test_corpus_modality_voi_presentation(rel: str) -> None:
    arr, pd, ours = _read_both(rel)
    if arr.dtype.kind not in "iu":
        return
    m_ours, m_theirs = D.apply_modality_lut(arr, ours), P.apply_modality_lut(arr, pd)
    _same(m_ours, m_theirs)
    try:
        want = P.apply_voi_lut(m_theirs, pd)
    except (ValueError, NotImplementedError) as e:
        with pytest.raises(type(e)):
            D.apply_voi_lut(m_ours, ours)
        return
    _same(D.apply_voi_lut(m_ours, ours), want)
    _same(D.apply_presentation_lut(m_ours, ours), P.apply_presentation_lut(m_theirs, pd))


@pytest.mark.corpus
@pytest.mark.parametrize("rel", YBR)
def test_corpus_ybr(rel: str) -> None:
    arr, _pd, _ours = _read_both(rel)
    _same(
        D.convert_color_space(arr, "YBR_FULL", "RGB"), P.convert_color_space(arr, "YBR_FULL", "RGB")
    )


@pytest.mark.corpus
def test_corpus_vlut_and_monochrome1() -> None:
    for rel in ("public/pydicom-data/vlut_04.dcm", "public/pydicom-data/mlut_18.dcm"):
        arr, pd, ours = _read_both(rel)
        m = P.apply_modality_lut(arr, pd)
        _same(D.apply_voi_lut(D.apply_modality_lut(arr, ours), ours), P.apply_voi_lut(m, pd))
    arr, pd, ours = _read_both("public/wg04/RLE/RG3_RLE")
    assert ours.PhotometricInterpretation == "MONOCHROME1"
    _same(D.invert(arr), arr.max() - arr)


@pytest.mark.parametrize("dtype", ["u1", "i1", "u2", "i2", "u4", "i4"])
@pytest.mark.parametrize("size", [1, 7, (1 << 18) + 65536 * 3 + 5])
def test_invert_from_the_maximum(dtype: str, size: int) -> None:
    """The fused maximum-then-invert kernel: every integer type, serial and
    parallel sizes, the maximum in the last element or the first, in place."""
    info = np.iinfo(dtype)
    rng = np.random.default_rng(size)
    arr = rng.integers(info.min, info.max, size, dtype=dtype, endpoint=True)
    for where in (0, -1):
        a = arr.copy()
        a[where] = info.max if dtype.startswith("u") else a.max()
        want = a.max() - a
        _same(D.invert(a), want)
        D.invert(a, out=a)
        _same(a, want)
