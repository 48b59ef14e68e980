"""JPEG 2000 decoding (issue 12; our own Part 1 decoder since 2026-12-06) against
OpenJPEG's command-line tools as the peer: ``opj_compress`` codes real corpus pixels with
each code-block style and their mixtures, every progression order, small code-blocks,
1-6 decomposition levels, quality layers truncated at set rates, precincts, SOP/EPH, tiles
(on the image's origin or off it, in tile-parts) and both wavelets; ``decode_frame`` must give the samples ``opj_decompress`` gives (exactly
when reversible, truncated layers included; within 2 levels when irreversible: two float
9/7 wavelets round apart)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import dicomfast
import numpy as np
import pytest
from corpus_data import CORPUS
from dicomfast import uid as uids
from dicomfast.pixels import decode_frame

if not (shutil.which("opj_compress") and shutil.which("opj_decompress")):
    pytest.skip(
        "OpenJPEG's tools (Debian libopenjp2-tools) are not installed", allow_module_level=True
    )

#: opj_compress options: styles (-M), progressions, block sizes, levels, layers, markers.
OPTIONS = [
    "-M 0 -p LRCP -n 5",
    "-M 1 -p RLCP -b 32,32 -n 4",
    "-M 2 -p RPCL -b 16,64 -n 3",
    "-M 4 -p PCRL -b 8,8 -n 2",
    "-M 8 -p CPRL -n 6",
    "-M 16 -p LRCP -SOP -EPH",
    "-M 32 -p RLCP -b 64,16",
    "-M 5 -p RPCL -r 40,10,1",
    "-M 9 -p LRCP -r 20,5 -c [64,64],[32,32],[16,16]",
    "-M 63 -p PCRL -r 30,15,5,1 -SOP",
    "-M 0 -p CPRL -r 8 -EPH -n 1",
    "-M 42 -p LRCP -b 32,32 -c [64,64],[32,32]",
    "-t 48,32 -n 3 -p RPCL",
    "-t 64,64 -d 5,3 -n 2 -M 1 -SOP",
    "-t 32,100 -TP R -n 4 -p PCRL",
    "-t 40,24 -n 3 -c [16,16],[32,32] -p CPRL -r 20,4",
]


def _pnm(path: Path) -> np.ndarray:
    """A binary PGM/PPM (comments skipped) as (rows, columns[, 3])."""
    data = path.read_bytes()
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1
    w, h, maxval = int(fields[1]), int(fields[2]), int(fields[3])
    c = 3 if fields[0] == b"P6" else 1
    dtype = ">u2" if maxval > 255 else "u1"
    a = np.frombuffer(data[pos:], dtype=dtype, count=w * h * c)
    return a.reshape((h, w, c) if c == 3 else (h, w))


def _sources(tmp: Path) -> list[tuple[Path, np.ndarray]]:
    """A 12-bit CT crop as a 16-bit PGM and an 8-bit RGB crop as a PPM."""
    ct = dicomfast.read(CORPUS / "public" / "wg04" / "J2KR" / "CT1_J2KR").pixel_array
    grey = (ct[:120, :136].astype(np.int64) - ct.min()).astype(">u2")
    rgb = dicomfast.read(CORPUS / "public" / "pydicom" / "examples_jpeg2k.dcm").pixel_array
    rgb = np.ascontiguousarray(rgb[:90, :110]).astype("u1")
    out = []
    p = tmp / "ct.pgm"
    p.write_bytes(b"P5\n136 120\n65535\n" + grey.tobytes())
    out.append((p, grey.astype(np.int64)))
    p = tmp / "rgb.ppm"
    p.write_bytes(b"P6\n110 90\n255\n" + rgb.tobytes())
    out.append((p, rgb.astype(np.int64)))
    return out


@pytest.mark.parametrize("irreversible", [False, True], ids=["reversible", "irreversible"])
@pytest.mark.parametrize("options", OPTIONS)
def test_our_decoder_gives_opj_decompress_samples(
    tmp_path: Path, options: str, irreversible: bool
) -> None:
    for src, pixels in _sources(tmp_path):
        cs = tmp_path / "t.j2k"
        argv = ["opj_compress", "-i", str(src), "-o", str(cs), *options.split()]
        if irreversible:
            argv.append("-I")
        subprocess.run(argv, check=True, capture_output=True)
        ref_path = tmp_path / ("ref" + src.suffix)
        subprocess.run(
            ["opj_decompress", "-i", str(cs), "-o", str(ref_path)], check=True, capture_output=True
        )
        ref = _pnm(ref_path).astype(np.int64)
        rows, cols = pixels.shape[:2]
        spp = 3 if pixels.ndim == 3 else 1
        ba = 16 if spp == 1 else 8
        ts = uids.JPEG2000 if irreversible or "-r" in options else uids.JPEG2000Lossless
        ours = decode_frame(
            cs.read_bytes(), rows, cols, spp, ba, ba, 0, 0, transfer_syntax=ts
        ).astype(np.int64)
        worst = int(np.abs(ours - ref).max())
        assert worst <= (2 if irreversible else 0), f"{src.name} {options}: {worst} apart"
        if not irreversible and "-r" not in options:
            assert np.array_equal(ours, pixels), f"{src.name} {options}: not lossless"
