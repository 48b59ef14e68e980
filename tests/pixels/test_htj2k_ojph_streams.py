"""HTJ2K decoding (issue 12) of codestreams from OpenJPH's own command-line encoder
(``ojph_compress``, Debian ``openjph-tools``), with what our encoder and imagecodecs' do not
write: tiles (many, small, and some smaller than the wavelet's levels would like), an image
offset, precincts, every progression order, code-blocks from 4 to 64 wide or high, no
decomposition up to 6 levels, 8 to 16-bit grey and 8-bit colour, with and without the
colour transform, reversible and irreversible; through ``pixel_array_as`` on one thread
and on two. Our decoder takes the codestreams whose tiles start on every level's grid of
samples, precincts and code-blocks (here 165x12, 165x40, 165x90, 15x24, 200x160, 97x113);
the registry hands the others to OpenJPEG (the path checked there).

The references are the source pixels (reversible: exactly) and OpenJPEG's
``opj_decompress`` (irreversible: within 2 levels, two float 9/7 wavelets round apart).
OpenJPH 0.9's own ``ojph_expand`` is not one: on several of these tiled codestreams it
gives samples up to 216 levels from the source that OpenJPEG and we decode exactly (found
by a random differential run of 2026-12-07, kept here as cases)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import dicomfast
import numpy as np
import pytest
from corpus_data import CORPUS
from dicomfast import uid as uids
from test_htj2k import _htj2k_dataset
from test_j2k_peer import _pnm

if not (shutil.which("ojph_compress") and shutil.which("opj_decompress")):
    pytest.skip(
        "OpenJPH's and OpenJPEG's tools (Debian openjph-tools, libopenjp2-tools) are not installed",
        allow_module_level=True,
    )

#: "rows x columns, grey or rgb, bits, the crop's origin": ojph_compress's options
CASES = {
    # ojph_expand 0.9 gets these wrong (up to 216, 47, 42 and 23 levels off)
    "165x12 rgb 8 0,0": "-num_decomps 5 -prog_order RPCL -block_size {8,64} -tile_size {64,32}",
    "123x48 rgb 8 0,0": "-num_decomps 4 -prog_order LRCP -block_size {4,32} -image_offset {4,6} "
    "-precincts {16,16}",
    "137x171 grey 10 0,0": "-num_decomps 6 -prog_order PCRL -block_size {16,64} "
    "-tile_size {48,100}",
    "145x90 grey 8 0,0": "-num_decomps 6 -prog_order PCRL -block_size {32,4} -tile_size {48,32}",
    # irreversible, tiled, our decoder's (ojph_expand 1 off OpenJPEG, as we are)
    "165x90 grey 12 0,0": "-num_decomps 5 -prog_order RPCL -reversible false -qstep 0.005 "
    "-block_size {8,64} -tile_size {64,32}",
    "165x40 rgb 8 0,0": "-num_decomps 5 -prog_order RPCL -reversible false -qstep 0.01 "
    "-block_size {8,64} -tile_size {64,32}",
    # and some it decodes as we do
    "15x24 grey 8 0,0": "-num_decomps 6 -prog_order RPCL -block_size {64,16} -tile_size {32,128}",
    "12x197 rgb 8 0,0": "-num_decomps 6 -prog_order RPCL -block_size {16,64} -image_offset {5,8}",
    "200x160 rgb 8 10,20": "-num_decomps 0 -prog_order CPRL -colour_trans false",
    "97x113 rgb 8 40,30": "-num_decomps 3 -prog_order RLCP -reversible false -qstep 0.01 "
    "-precincts {32,32},{16,16}",
}


def _source(
    tmp: Path, rows: int, cols: int, colour: bool, bits: int, at: tuple[int, ...]
) -> tuple[Path, np.ndarray]:
    """A crop of a real frame as a PGM (the CT, shifted to ``bits``) or a PPM (an RGB)."""
    y, x = at
    if colour:
        rgb = dicomfast.read(CORPUS / "public" / "pydicom" / "examples_jpeg2k.dcm").pixel_array
        px = np.ascontiguousarray(rgb[y : y + rows, x : x + cols]).astype("u1")
        path = tmp / "s.ppm"
        path.write_bytes(f"P6\n{cols} {rows}\n255\n".encode() + px.tobytes())
        return path, px.astype(np.int64)
    ct = dicomfast.read(CORPUS / "public" / "wg04" / "J2KR" / "CT1_J2KR").pixel_array
    a = ct[y : y + rows, x : x + cols].astype(np.int64) - int(ct.min())
    top = (1 << bits) - 1
    a = np.clip(a >> max(0, 16 - bits), 0, top)
    path = tmp / "s.pgm"
    path.write_bytes(
        f"P5\n{cols} {rows}\n{top}\n".encode() + a.astype(">u2" if bits > 8 else "u1").tobytes()
    )
    return path, a


@pytest.mark.parametrize("frame", sorted(CASES))
def test_ojph_compress_codestreams_decode_as_the_source_and_openjpeg(
    tmp_path: Path, frame: str
) -> None:
    size, kind, depth, origin = frame.split()
    rows, cols = (int(v) for v in size.split("x"))
    colour, bits = kind == "rgb", int(depth)
    at = tuple(int(v) for v in origin.split(","))
    options = CASES[frame]
    if not (CORPUS / "public" / "wg04").is_dir():
        pytest.skip("the corpus is not here")
    src, pixels = _source(tmp_path, rows, cols, colour, bits, at)
    cs = tmp_path / "t.j2c"
    argv = ["ojph_compress", "-i", str(src), "-o", str(cs), *options.split()]
    reversible = "-reversible false" not in options
    if reversible:
        argv += ["-reversible", "true"]
    subprocess.run(argv, check=True, capture_output=True)
    ref_path = tmp_path / ("opj" + src.suffix)
    subprocess.run(
        ["opj_decompress", "-i", str(cs), "-o", str(ref_path)], check=True, capture_output=True
    )
    openjpeg = _pnm(ref_path).astype(np.int64)
    ts = uids.HTJ2KLossless if reversible else uids.HTJ2K
    ds = _htj2k_dataset(cs.read_bytes(), pixels.astype("u1" if bits == 8 else "u2"), bits, ts)
    for threads in (1, 2):
        ours = ds.pixel_array_as(threads=threads).astype(np.int64)
        assert ours.shape == pixels.shape
        if reversible:
            assert np.array_equal(ours, pixels), f"{threads} threads: not the source"
            assert np.array_equal(openjpeg, pixels)  # the reference agrees
        else:
            worst = int(np.abs(ours - openjpeg).max())
            assert worst <= 2, f"{threads} threads: {worst} from OpenJPEG"
