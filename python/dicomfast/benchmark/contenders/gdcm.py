"""GDCM: python-gdcm in-process (``gdcm.Reader`` for parse, ``gdcm.ImageReader``
for decode) and ``gdcmconv`` as a whole process per file for transcode."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from ..compare import parse_form, pixels_of_file
from ..registry import PROCESS, Contender, Job, Skip, Unsupported, module_version
from ..workload import EXPLICIT_LE, JPEG_LL_SV1, RLE, Workload


def _gdcm() -> Any:
    try:
        import gdcm
    except ImportError:
        raise Skip("python-gdcm not installed") from None
    return gdcm


def parse(w: Workload) -> Job:
    gdcm = _gdcm()
    files = [str(f) for f in w.files_for("parse")]

    def tags(f: str) -> list[int]:
        r = gdcm.Reader()
        r.SetFileName(f)
        if not r.Read():
            raise RuntimeError(f"GDCM cannot read {f}")
        out = []
        for de in r.GetFile().GetDataSet().GetDES():
            t = de.GetTag()
            out.append((t.GetGroup() << 16) | t.GetElement())
        return out

    return Job(
        lambda: [tags(f) for f in files],
        lambda out: [parse_form(x) for x in out],
        how="gdcm.Reader",
    )


def decode(w: Workload) -> Job:
    gdcm = _gdcm()
    import numpy as np

    files = [str(f) for f in w.files_for("decode")]
    big_endian = gdcm.TransferSyntax.ExplicitVRBigEndian

    def one(f: str) -> tuple[bytes, int, int, bool]:
        r = gdcm.ImageReader()
        r.SetFileName(f)
        if not r.Read():
            raise RuntimeError(f"GDCM cannot read {f}")
        img = r.GetImage()
        return (
            img.GetBuffer().encode("utf-8", "surrogateescape"),
            img.GetPlanarConfiguration(),
            img.GetPixelFormat().GetBitsAllocated(),
            img.GetTransferSyntax() == big_endian,
        )

    def as_ours(got: tuple[bytes, int, int, bool], ours: Any) -> Any:
        """GDCM's buffer as the samples of ours: its layout is the file's (1-bit samples
        packed, a big endian file's bytes as they are, colour-by-plane frames as planes),
        ours pydicom's (one sample per element, native order, samples interleaved)."""
        buf, planar, bits, big = got
        if bits == 1:
            bits_ = np.unpackbits(np.frombuffer(buf, np.uint8), bitorder="little")
            return bits_[: ours.size].astype(ours.dtype) if bits_.size >= ours.size else bits_
        v: Any = np.frombuffer(buf, ours.dtype.newbyteorder(">" if big else "<"))
        spp = ours.shape[-1] if ours.ndim >= 3 and ours.shape[-1] in (3, 4) else 1
        if planar == 1 and spp > 1 and v.size == ours.size:
            frame = ours.size // spp
            per = ours.shape[-3] * ours.shape[-2]
            v = v.reshape(frame // per, spp, per).transpose(0, 2, 1)
        return v.ravel()

    return Job(
        lambda: [one(f) for f in files],
        lambda out: [as_ours(g, a) for g, a in zip(out, w.arrays, strict=True)],
        how="gdcm.ImageReader GetBuffer",
    )


_CONV = {EXPLICIT_LE: ["--raw"], RLE: ["--rle"], JPEG_LL_SV1: ["--jpeg", "--lossless"]}


def transcode(w: Workload) -> Job:
    tool = shutil.which("gdcmconv")
    if tool is None:
        raise Skip("gdcmconv not installed")
    files = w.files_for("transcode")
    cmds = []
    out = w.scratch("transcode-gdcm")
    outputs = [out / f"{i:06d}.dcm" for i in range(len(files))]
    for f, o in zip(files, outputs, strict=True):
        target = w.transcode_target(f)
        if target not in _CONV:
            raise Unsupported(f"no gdcmconv option chosen for {target}")
        cmds.append([tool, *_CONV[target], str(f), str(o)])

    def run() -> list[bytes]:
        return [
            subprocess.run(c, check=True, capture_output=True, timeout=600).stderr for c in cmds
        ]

    def written(said: list[bytes]) -> list[Any]:
        for o, err in zip(outputs, said, strict=True):
            if not o.exists():  # gdcmconv exits 0 when it cannot convert, writing nothing
                why = err.decode(errors="replace").strip().splitlines()
                raise RuntimeError(f"gdcmconv wrote nothing: {why[-1] if why else 'no reason'}")
        return [pixels_of_file(o) for o in outputs]

    return Job(run, written, kind=PROCESS, how="gdcmconv per file")


def _version() -> str | None:
    v = module_version("gdcm")
    if v is None and shutil.which("gdcmconv"):
        return "gdcmconv"
    return v


CONTENDER = Contender(
    "gdcm",
    _version,
    {"parse": parse, "decode": decode, "transcode": transcode},
    "GDCM: python-gdcm, gdcmconv",
    # python-gdcm ends the process (an uncaught C++ exception) on some malformed files
    may_crash=frozenset({"parse", "decode"}),
)
