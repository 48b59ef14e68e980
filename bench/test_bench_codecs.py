"""The codecs of issue 12 (JPEG 8/12-bit, JPEG-LS, JPEG 2000, HTJ2K), same frames,
same run, single thread:

- decode: file to array with dicomfast (``read(path).pixel_array_as(threads=1)``)
  against imagecodecs' kernel alone on the same codestreams (extracted once,
  not timed: the same C libraries underneath, so our file path must cost
  nothing beside the kernel; target >= 1.0x) and against pydicom 3 with the
  plugin it picks (target >= 2x, checked as users call both: ``pixel_array`` at its
  default threads against pydicom's, whose GDCM plugin decodes JPEG 2000 on every core);
- encode: ``compress`` of a ready array (one thread; the data set updated too)
  against imagecodecs' encoder of the same array with the same colour handling;
- HTJ2K encode: also against OpenJPH's own ``ojph_compress``, a whole process per
  frame (what a shell pipeline around it pays), and a 20-frame file encoded on 2
  threads against 1;
- JPEG XL decode (jxl-oxide): file to array on one thread against libjxl
  (``imagecodecs.jpegxl_decode``, one thread) on the same lossless codestreams (a 512x512
  16-bit CT, an 8-bit RGB), then a lone frame on every core against libjxl on as many
  (2026-12-05, load average 1.1-1.5: CT 11.4 ms, 1.0x; 6.3 ms on 2 cores, 1.05x; RGB
  26.7 ms, 0.8x; 16.4 ms on 2 cores, 0.93x);
- threads: a 20-frame JPEG 2000 file (the ultrasound cine, encoded once by us)
  decoded on 2 threads against 1 (target >= 1.8x).

JPEG-LS is decoded and encoded by our own coder (CharLS only for the streams it declines)
and raced against imagecodecs' CharLS 2.4.3 kernels: 2026-12-06 06:57, quiet, decode
CT1_JLSL 1.18x, CT1_JLSN 1.11-1.12x, encode 1.06x (CharLS in our build: 0.95-0.98x);
08:05, decoder and encoder one walk through the scan: 1.14x, 1.10x, 1.01-1.04x.

HTJ2K is decoded by our own decoder and raced against both of imagecodecs' HTJ2K kernels:
OpenJPH's ``htj2k_decode`` (the fastest, the target's) and OpenJPEG's ``jpeg2k_decode``;
and as users call it (``pixel_array`` on its default threads) against OpenJPH.

``pytest bench/test_bench_codecs.py --benchmark-enable -s`` prints the ratios.

Decode against imagecodecs' kernel (2026.3.6: libjpeg-turbo 3.1.3, CharLS 2.4.3, OpenJPEG
2.5.4; ours libjpeg-turbo 3.1.0, CharLS 2.4.5, OpenJPEG 2.5.3), medians of alternating
calls, three runs UNDER LOAD (2026-12-05, load average 3.2-4.6 on the 2-core VM), one
512x512 frame unless said; last column: ``dicomfast.pixels.read_pixel_array`` (path to
array in one ``_core`` call) against the kernel, printed beside the race:

| input | read + pixel_array_as | kernel | ratio (3 runs) | read_pixel_array |
|---|---|---|---|---|
| JPEG baseline 8-bit CT (4.50) | 0.51-0.53 ms | 0.50-0.51 ms | 0.95-0.98x | 0.97-1.00x |
| JPEG 12-bit MR (4.51) | 0.91-0.97 ms | 0.89-0.94 ms | 0.96-0.98x | 0.98-0.99x |
| JPEG-LS lossless CT (4.80), CharLS then | 3.20-3.34 ms | 3.14-3.20 ms | 0.96-0.98x | 0.97-0.98x |
| JPEG-LS near-lossless CT (4.81), CharLS then | 3.53-3.76 ms | 3.39-3.59 ms | 0.96x | 0.96x |
| JPEG 2000 lossless CT (4.90) | 23.9-24.4 ms | 24.9-25.2 ms | 1.03-1.10x | 1.03-1.04x |
| JPEG 2000 lossy CT (4.91) | 2.35-2.41 ms | 2.39-2.41 ms | 1.00-1.02x | 1.03-1.21x |
| HTJ2K lossless RGB 640x480 (4.201) | 9.6-11.3 ms | 9.5-10.9 ms | 0.96-0.99x | 0.99-1.06x |

A data set as read now decodes in one ``_core`` call (Python's share of a file ~27 ->
~10 us, which is ``read()`` itself); the decode calls take the kernel's time or less
except CharLS 2.4.5 built with GCC 12, ~1-2.5% slower than imagecodecs' (GCC 14) whatever
the flags; what is left is that and reading the file, which the kernel is spared."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dicomfast
import numpy as np
import pytest
from benchrace import RESULTS, race, time_alternating

imagecodecs = pytest.importorskip("imagecodecs")
pydicom = pytest.importorskip("pydicom")

pytestmark = pytest.mark.benchmark(group="codecs")

DECODE_CASES = {
    "JPEG baseline 8-bit CT (4.50)": "cornerstone/CTImage.dcm_JPEGProcess1_1.2.840.10008.1.2.4.50.dcm",
    "JPEG extended 12-bit MR (4.51)": "wg04/JPLY/MR1_JPLY",
    # VL1_UNC (756x486 RGB) made JPEG baseline q90, RGB 4:4:4, by our encoder when the
    # benchmark runs: the frames libjpeg-turbo gives us as planes.
    "JPEG baseline RGB 4:4:4 756x486 (4.50)": "wg04/REF/VL1_UNC -> 1.2.840.10008.1.2.4.50",
    # A real YBR_FULL_422 file sampled 4:2:0, 2421x1296: ours gives YCbCr as stored, the
    # kernel RGB (libjpeg-turbo's SIMD conversion: its faster output, 5.05 against 5.43 ms).
    "JPEG baseline YBR 4:2:0 2421x1296 (4.50)": "mothership/jpeg-baseline.dcm",
    "JPEG-LS lossless CT (4.80)": "wg04/JLSL/CT1_JLSL",
    "JPEG-LS near-lossless CT (4.81)": "wg04/JLSN/CT1_JLSN",
    "JPEG 2000 lossless CT (4.90)": "wg04/J2KR/CT1_J2KR",
    "JPEG 2000 lossy CT (4.91)": "wg04/J2KI/CT2_J2KI",
    # 400x400 RGB in tiles of 128, in a JP2 file (GDCM's)
    "JPEG 2000 lossless RGB, tiled JP2 (4.90)": "pydicom/GDCMJ2K_TextGBR.dcm",
    "HTJ2K lossless RGB (4.201)": "pydicom-data/HTJ2KLossless_08_RGB.dcm",
    "HTJ2K lossy RGB (4.203)": "pydicom-data/HTJ2K_08_RGB.dcm",
    # CT1_UNC made HTJ2K Lossless by our encoder when the benchmark runs.
    "HTJ2K lossless CT 512x512 (4.201)": "wg04/REF/CT1_UNC -> 1.2.840.10008.1.2.4.201",
}
KERNELS = {
    "1.2.840.10008.1.2.4.50": "jpeg8_decode",
    "1.2.840.10008.1.2.4.51": "jpeg8_decode",
    "1.2.840.10008.1.2.4.80": "jpegls_decode",
    "1.2.840.10008.1.2.4.81": "jpegls_decode",
    "1.2.840.10008.1.2.4.90": "jpeg2k_decode",
    "1.2.840.10008.1.2.4.91": "jpeg2k_decode",
    # HTJ2K: OpenJPH's kernel (imagecodecs' fastest); OpenJPEG's is raced too, below.
    "1.2.840.10008.1.2.4.201": "htj2k_decode",
    "1.2.840.10008.1.2.4.203": "htj2k_decode",
}
# The HTJ2K syntaxes, whose frames OpenJPEG's kernel also decodes.
HTJ2K = {"1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.203"}


def _frames(path: Path) -> list[bytes]:
    from pydicom.encaps import generate_frames

    ds = pydicom.dcmread(path)
    n = int(ds.get("NumberOfFrames") or 1)
    return list(generate_frames(ds.PixelData, number_of_frames=n))


@pytest.mark.parametrize("label", list(DECODE_CASES))
def test_decode(benchmark: Any, corpus: Path, tmp_path: Path, label: str) -> None:
    rel, _, made = DECODE_CASES[label].partition(" -> ")
    path = corpus / "public" / rel
    if not path.exists():
        pytest.skip(f"{path} not in the corpus")
    if made:
        ds = dicomfast.read(path)
        ds.compress(made)
        path = tmp_path / "made.dcm"
        ds.save(path)
    ts = dicomfast.read(path, stop_before_pixels=True).transfer_syntax
    kernel = getattr(imagecodecs, KERNELS[ts])
    frames = _frames(path)
    ours_arr = dicomfast.read(path).pixel_array_as(threads=1)

    def ours() -> Any:
        return dicomfast.read(path).pixel_array_as(threads=1)

    def kernel_alone() -> Any:
        return [kernel(f) for f in frames]

    def plain_pydicom() -> Any:
        return pydicom.dcmread(path).pixel_array

    theirs: dict[str, Any] = {"imagecodecs kernel": kernel_alone}
    pi = dicomfast.read(path, stop_before_pixels=True).get("PhotometricInterpretation")
    ybr = str(pi or "").startswith("YBR_FULL")
    pydicom_runs = False
    if ts in HTJ2K:
        theirs["imagecodecs OpenJPEG kernel"] = lambda: [
            imagecodecs.jpeg2k_decode(f) for f in frames
        ]
    try:
        plain_pydicom()
        pydicom_runs = True
        if not ybr:  # YBR frames: pydicom converts to RGB, so it is raced below, as_rgb
            theirs["pydicom 3 + plugin"] = plain_pydicom
    except Exception as e:  # noqa: BLE001 - no plugin for this syntax: said, not raced
        RESULTS.append(f"decode {label}: pydicom has no working plugin here ({e})"[:160])
    ratios = race(benchmark, f"decode {label}", ours, theirs, nbytes=ours_arr.nbytes)
    if ratios:
        # The same file to array without the data set: read_pixel_array, one _core call.
        mine, t = time_alternating(
            lambda: dicomfast.pixels.read_pixel_array(path, threads=1), kernel_alone
        )
        RESULTS.append(
            f"  {label}: read_pixel_array {mine * 1e3:.2f} ms, imagecodecs kernel "
            f"{t * 1e3:.2f} ms -> {t / mine:.2f}x"
        )
    if ts in HTJ2K and ratios:
        # As users call it: ``pixel_array`` with its default threads (a lone frame's
        # code-blocks on every core), against OpenJPH's kernel (one thread: it has no other).
        mine, t = time_alternating(lambda: dicomfast.read(path).pixel_array, kernel_alone)
        RESULTS.append(
            f"  {label}, as users call it: pixel_array {mine * 1e3:.2f} ms (default threads), "
            f"imagecodecs kernel {t * 1e3:.2f} ms -> {t / mine:.2f}x"
        )
    if pydicom_runs:
        # As users call it: ``pixel_array`` with its default threads (a lone JPEG 2000 /
        # HTJ2K frame spreads over OpenJPEG's threads), against pydicom's ``pixel_array``
        # (whose GDCM plugin spreads JPEG 2000 over every core too): the pair the target
        # is checked on, both at their defaults. pydicom gives YBR_FULL(_422) frames as
        # RGB by default: ours is asked for RGB too (``as_rgb``), the same work.

        def ours_as_pydicom() -> Any:
            return dicomfast.read(path).pixel_array_as(as_rgb=ybr)

        assert ours_as_pydicom().shape == plain_pydicom().shape
        # At least 2 s of rounds (up to 200): tens of milliseconds a call, on both
        # cores, vary more from call to call than the kernels' races.
        mine, t = time_alternating(ours_as_pydicom, plain_pydicom, min_time=2.0, max_rounds=200)
        RESULTS.append(
            f"  {label}, as users call it: pixel_array{'_as(as_rgb=True)' if ybr else ''} "
            f"{mine * 1e3:.2f} ms (default threads), "
            f"pydicom 3 + plugin {t * 1e3:.2f} ms -> {t / mine:.2f}x"
        )
        ratios["pydicom 3 + plugin"] = t / mine
    for against, target in (("imagecodecs kernel", 1.0), ("pydicom 3 + plugin", 2.0)):
        if against in ratios:
            r = ratios[against]
            verdict = "met" if r >= target else "MISSED"
            RESULTS.append(f"  {label} against {against}: {r:.2f}x [target {target}x: {verdict}]")
    if ratios:
        assert ours_arr.size  # decoded something


ENCODE_CASES = {
    # signed samples coded as their bit pattern, as we code them (CharLS takes unsigned)
    "JPEG-LS lossless": (
        "1.2.840.10008.1.2.4.80",
        lambda a: imagecodecs.jpegls_encode(a.view(np.uint16) if a.dtype == np.int16 else a),
        "CT1_UNC",
    ),
    "JPEG 2000 lossless": (
        "1.2.840.10008.1.2.4.90",
        lambda a: imagecodecs.jpeg2k_encode(a, level=0, reversible=True),
        "CT1_UNC",
    ),
    # our Rust HTJ2K encoder against OpenJPH 0.26 (bundled by imagecodecs),
    # the same coding: reversible, 5 decomposition levels (6 resolutions), 64x64 blocks
    "HTJ2K lossless": (
        "1.2.840.10008.1.2.4.201",
        lambda a: imagecodecs.htj2k_encode(a, reversible=True, resolutions=6),
        "CT1_UNC",
    ),
    # 8-bit RGB through the RCT on both sides
    "HTJ2K lossless RGB": (
        "1.2.840.10008.1.2.4.201",
        lambda a: imagecodecs.htj2k_encode(a, reversible=True, resolutions=6),
        "VL1_UNC",
    ),
    # as we code it: RGB kept as RGB, no subsampling (imagecodecs' default is 4:2:0 YCbCr)
    "JPEG baseline q90": (
        "1.2.840.10008.1.2.4.50",
        lambda a: imagecodecs.jpeg8_encode(
            a, level=90, colorspace="RGB", outcolorspace="RGB", subsampling="444"
        ),
        "VL1_UNC",  # 8-bit RGB
    ),
}


@pytest.mark.parametrize("label", list(ENCODE_CASES))
def test_encode(benchmark: Any, corpus: Path, label: str) -> None:
    uid, theirs_fn, name = ENCODE_CASES[label]
    path = corpus / "public" / "wg04" / "REF" / name  # CT1: 16-bit CT; VL1: 8-bit RGB
    if not path.exists():
        pytest.skip(f"{path} not in the corpus")
    from dicomfast.pixels.encode import compress

    arr = np.ascontiguousarray(dicomfast.read(path).pixel_array)

    def ours() -> Any:  # the same ready array, one thread: the data set updated too
        return compress(dicomfast.read(path), uid, arr=arr, threads=1)

    race(
        benchmark,
        f"encode {label} ({arr.shape[1]}x{arr.shape[0]})",
        ours,
        {"imagecodecs": lambda: theirs_fn(arr)},
        nbytes=arr.nbytes,
    )
    # As users call it: compress with its default threads (a lone HTJ2K frame's
    # code-blocks spread over every core).
    mine, t = time_alternating(
        lambda: compress(dicomfast.read(path), uid, arr=arr), lambda: theirs_fn(arr)
    )
    RESULTS.append(
        f"  encode {label}, as users call it: compress {mine * 1e3:.2f} ms (default threads), "
        f"imagecodecs {t * 1e3:.2f} ms -> {t / mine:.2f}x"
    )


#: JPEG XL (Supplement 232): uncompressed corpus images coded by libjxl (imagecodecs),
#: lossless; each file holds the codestream the kernel decodes.
JPEG_XL_CASES = {
    "JPEG XL lossless CT 512x512 16-bit (4.110)": "CT1_UNC",
    "JPEG XL lossless RGB 8-bit (4.110)": "VL1_UNC",
}


@pytest.mark.parametrize("label", list(JPEG_XL_CASES))
def test_decode_jpeg_xl(benchmark: Any, corpus: Path, tmp_path: Path, label: str) -> None:
    """File to array with dicomfast (jxl-oxide) on one thread against libjxl
    (``imagecodecs.jpegxl_decode``, one thread) on the same codestream; then a lone
    frame on every core (jxl-oxide's own threads) against libjxl on as many."""
    src = corpus / "public" / "wg04" / "REF" / JPEG_XL_CASES[label]
    if not src.exists():
        pytest.skip(f"{src} not in the corpus")
    if not imagecodecs.JPEGXL.available:
        pytest.skip("this imagecodecs has no JPEG XL codec")
    from dicomfast.pixels import encapsulate
    from dicomfast.pixels.encode import set_encapsulated_pixels
    from dicomfast.pixels.info import pixel_info

    ts = "1.2.840.10008.1.2.4.110"
    ds = dicomfast.read(src)
    arr = np.ascontiguousarray(ds.pixel_array)
    # signed samples coded as their bit pattern (JPEG XL samples are unsigned)
    stream = imagecodecs.jpegxl_encode(
        arr.view(np.uint16) if arr.dtype == np.int16 else arr, lossless=True
    )
    set_encapsulated_pixels(ds, encapsulate([stream]), pixel_info(ds), ts)
    path = tmp_path / "jxl.dcm"
    dicomfast.write(ds, path)
    assert np.array_equal(dicomfast.read(path).pixel_array_as(threads=1), arr)

    def ours() -> Any:
        return dicomfast.read(path).pixel_array_as(threads=1)

    def kernel() -> Any:
        return imagecodecs.jpegxl_decode(stream, numthreads=1)

    ratios = race(
        benchmark,
        f"decode {label}",
        ours,
        {"imagecodecs (libjxl) kernel": kernel},
        nbytes=arr.nbytes,
    )
    if not ratios:
        return
    cores = os.cpu_count() or 1
    mine, t = time_alternating(
        lambda: dicomfast.read(path).pixel_array,
        lambda: imagecodecs.jpegxl_decode(stream, numthreads=cores),
    )
    RESULTS.append(
        f"  {label}, every core ({cores}): pixel_array {mine * 1e3:.2f} ms, libjxl "
        f"{t * 1e3:.2f} ms -> {t / mine:.2f}x"
    )


def test_two_threads_against_one(benchmark: Any, corpus: Path, tmp_path: Path) -> None:
    cine = corpus / "perf" / "us_cine" / "unc" / "us_rgb_cine_20f.dcm"
    if not cine.exists():
        pytest.skip("the ultrasound cine is not in the corpus")
    src = dicomfast.read(cine)
    if benchmark.disabled:  # smoke: two frames are enough to exercise the path
        src.NumberOfFrames = 2
        src.PixelData = bytes(src.PixelData[: 2 * 480 * 640 * 3])
    out = tmp_path / "cine_j2k.dcm"
    dicomfast.write(src.compress("1.2.840.10008.1.2.4.90"), out)

    def decode(threads: int) -> Any:
        return dicomfast.read(out).pixel_array_as(threads=threads)

    assert np.array_equal(decode(1), decode(2))
    benchmark.pedantic(decode, args=(2,), rounds=1, iterations=1)
    if benchmark.disabled:
        return
    RESULTS.append(_two_threads_against_one("JPEG 2000 cine", decode, target=1.8))


def _two_threads_against_one(
    label: str, run: Callable[[int], Any], target: float | None = None
) -> str:
    """``run(2)`` against ``run(1)``, alternated, as a line of the results: the wall
    time of each, and the processor time of each call too (every thread of the
    process), which tells a core left idle (ours to fix: fewer cores busy) from cores
    that each ran slower with both busy (more processor time for the same work: the
    machine's other tenants, its shared caches)."""
    cpu: dict[int, list[float]] = {1: [], 2: []}

    def timed(threads: int) -> Any:
        c0 = time.process_time()
        result = run(threads)
        cpu[threads].append(time.process_time() - c0)
        return result

    # Calls of 0.05-0.6 s: at least 3 s of them, so that the median is of 6 or more
    # rounds (the second core of a shared VM comes and goes).
    t2, t1 = time_alternating(lambda: timed(2), lambda: timed(1), min_time=3.0)
    c1, c2 = statistics.median(cpu[1]), statistics.median(cpu[2])
    goal = f" (target >= {target}x)" if target else ""
    return (
        f"{label}, 20 frames 640x480 RGB: 1 thread {t1 * 1e3:.1f} ms, 2 threads "
        f"{t2 * 1e3:.1f} ms -> {t1 / t2:.2f}x{goal}; processor time 1 thread "
        f"{c1 * 1e3:.0f} ms, 2 threads {c2 * 1e3:.0f} ms ({c2 / c1:.2f}x), "
        f"{c2 / t2:.2f} of 2 cores busy"
    )


def test_htj2k_encode_against_ojph_compress(benchmark: Any, corpus: Path, tmp_path: Path) -> None:
    """One CT frame to an HTJ2K codestream: ``compress`` (one thread) against the
    ``ojph_compress`` process on the same samples (written to a .yuv file untimed)."""
    path = corpus / "public" / "wg04" / "REF" / "CT1_UNC"
    if not path.exists() or shutil.which("ojph_compress") is None:
        pytest.skip("CT1_UNC or ojph_compress (Debian openjph-tools) missing")
    from dicomfast.pixels.encode import compress

    arr = np.ascontiguousarray(dicomfast.read(path).pixel_array)
    raw = tmp_path / "ct.yuv"
    arr.astype("<i2").tofile(raw)
    rows, cols = arr.shape
    cmd = ["ojph_compress", "-i", str(raw), "-o", str(tmp_path / "ct.j2c")]
    cmd += ["-dims", f"{{{cols},{rows}}}", "-num_comps", "1", "-signed", "true"]
    cmd += ["-bit_depth", "16", "-downsamp", "{1,1}", "-reversible", "true"]
    cmd += ["-num_decomps", "5", "-prog_order", "LRCP"]

    def ours() -> Any:
        return compress(dicomfast.read(path), "1.2.840.10008.1.2.4.201", arr=arr, threads=1)

    def process() -> Any:
        return subprocess.run(cmd, check=True, capture_output=True)

    race(
        benchmark,
        f"encode HTJ2K lossless ({cols}x{rows})",
        ours,
        {"ojph_compress process": process},
        nbytes=arr.nbytes,
    )


def test_htj2k_encode_two_threads_against_one(benchmark: Any, corpus: Path) -> None:
    """The ultrasound cine (20 frames 640x480 RGB) to HTJ2K Lossless: frames in parallel."""
    cine = corpus / "perf" / "us_cine" / "unc" / "us_rgb_cine_20f.dcm"
    if not cine.exists():
        pytest.skip("the ultrasound cine is not in the corpus")
    from dicomfast.pixels.encode import compress

    arr = np.ascontiguousarray(dicomfast.read(cine).pixel_array)
    if benchmark.disabled:  # smoke: two frames are enough to exercise the path
        arr = arr[:2]

    def run(threads: int) -> Any:
        src = dicomfast.read(cine)
        src.NumberOfFrames = len(arr)
        return compress(src, "1.2.840.10008.1.2.4.201", arr=arr, threads=threads)

    benchmark.pedantic(run, args=(2,), rounds=1, iterations=1)
    if benchmark.disabled:
        return
    RESULTS.append(_two_threads_against_one("HTJ2K encode, cine", run))
