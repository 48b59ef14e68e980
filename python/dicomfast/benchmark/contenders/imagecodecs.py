"""imagecodecs (in-process, codecs only): decodes the compressed frames of RLE
(``dicomrle_decode``), JPEG baseline and extended (``jpeg8_decode``, libjpeg-turbo; a
three-component frame's components as coded, as ours: no colour transform), JPEG
Lossless (``ljpeg_decode``), JPEG-LS (``jpegls_decode``, CharLS), JPEG 2000
(``jpeg2k_decode``, OpenJPEG) and HTJ2K (``htj2k_decode``, OpenJPH) files, and encodes
JPEG Lossless SV1 (``ljpeg_encode``), JPEG-LS (``jpegls_encode``) and HTJ2K lossless (``htj2k_encode``; reversible, 5 levels as ours).  It does not read
DICOM files: extracting the frames from the files is done once with dicomfast and not
timed.  Lossy frames (JPEG-LS near-lossless, JPEG 2000 / HTJ2K irreversible) may differ
from ours by the rounding two conformant decoders show: compare them with
``--tolerance``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..compare import decode_frames_ours
from ..registry import Contender, Job, Unsupported, module_version
from ..workload import HTJ2K_LOSSLESS, JPEG_LL, JPEG_LL_SV1, JPEG_LS, RLE, Workload

#: transfer syntax -> imagecodecs' decoder of one frame (by name), for the syntaxes whose
#: samples it gives as the data set stores them (RLE's come planar: see ``decode``)
DECODERS: dict[str, str] = {
    RLE: "dicomrle_decode",
    "1.2.840.10008.1.2.4.50": "jpeg8_decode",
    "1.2.840.10008.1.2.4.51": "jpeg8_decode",
    JPEG_LL: "ljpeg_decode",
    JPEG_LL_SV1: "ljpeg_decode",
    JPEG_LS: "jpegls_decode",
    "1.2.840.10008.1.2.4.81": "jpegls_decode",
    "1.2.840.10008.1.2.4.90": "jpeg2k_decode",
    "1.2.840.10008.1.2.4.91": "jpeg2k_decode",
    HTJ2K_LOSSLESS: "htj2k_decode",
    "1.2.840.10008.1.2.4.202": "htj2k_decode",
    "1.2.840.10008.1.2.4.203": "htj2k_decode",
}


def _rle_decoder(info: Any) -> Callable[[bytes], Any]:
    import imagecodecs

    dtype = f"<u{info.bits_allocated // 8}" if info.bits_allocated > 8 else "u1"
    return lambda x: imagecodecs.dicomrle_decode(x, dtype)


def _jpeg_decoder(info: Any) -> Callable[[bytes], Any]:
    import imagecodecs

    if info.samples_per_pixel != 3:
        return imagecodecs.jpeg8_decode
    # The same colour space in and out: libjpeg-turbo gives the components as coded
    # (YCbCr stays YCbCr, RGB stays RGB), as ours does.
    same = imagecodecs.JPEG8.CS.YCbCr
    return lambda x: imagecodecs.jpeg8_decode(x, colorspace=same, outcolorspace=same)


#: transfer syntax -> for a file's image attributes, the decoder of one frame, where
#: :data:`DECODERS`' function by name is not enough
DECODER_FACTORIES: dict[str, Callable[[Any], Callable[[bytes], Any]]] = {
    RLE: _rle_decoder,
    "1.2.840.10008.1.2.4.50": _jpeg_decoder,
    "1.2.840.10008.1.2.4.51": _jpeg_decoder,
}


def _frames(w: Workload) -> list[list[bytes]]:
    import dicomfast
    from dicomfast.pixels.frames import encapsulated_data

    out = []
    for f, info in zip(w.files_for("decode"), w.infos, strict=True):
        ds = dicomfast.read(f)
        enc = encapsulated_data(ds, info)
        mv = memoryview(enc.source)
        out.append([b"".join(bytes(mv[o : o + n]) for o, n in fr) for fr in enc.frames])
    return out


def _as_values(x: Any, info: Any, planar: bool) -> Any:
    """One decoded frame (bytes from dicomrle_decode: samples planar; arrays from the
    other decoders: unsigned or signed bit patterns) as the data set's values,
    flattened and interleaved: the bits above Bits Stored ignored (PS3.5 8.1.1), as
    ours and pydicom's are (a 12-bit JPEG frame of 10 bits stored may hold 1024)."""
    import numpy as np

    n = info.bits_allocated // 8 if info.bits_allocated > 8 else 1
    signed = info.pixel_representation == 1
    dtype = np.dtype(f"{'i' if signed else 'u'}{n}")
    if isinstance(x, bytes | bytearray):
        a = np.frombuffer(x, dtype.newbyteorder("<"))
    else:
        a = np.asarray(x).reshape(-1).astype(f"u{n}", copy=False).view(dtype)
    spp = info.samples_per_pixel
    if planar and spp > 1:
        a = a.reshape(spp, -1).T.reshape(-1)
    if info.bits_stored < 8 * n:
        shift = 8 * n - info.bits_stored
        a = (a.astype(dtype) << shift) >> shift  # sign-extended or cleared
    return a.astype(dtype.newbyteorder("="), copy=False)


def decode(w: Workload) -> Job:
    import imagecodecs
    import numpy as np

    files = w.files_for("decode")
    missing = sorted({w.syntax[f] for f in files} - DECODERS.keys())
    if missing:
        raise Unsupported(f"no imagecodecs decoder taken for {', '.join(missing)}")
    frames = _frames(w)
    plan: list[tuple[list[bytes], Callable[..., Any]]] = []
    for f, fr, info in zip(files, frames, w.infos, strict=True):
        ts = w.syntax[f]
        factory = DECODER_FACTORIES.get(ts)
        plan.append((fr, factory(info) if factory else getattr(imagecodecs, DECODERS[ts])))

    def run() -> list:
        return [[fn(x) for x in fr] for fr, fn in plan]

    def result(out: list) -> list:
        return [
            np.concatenate([_as_values(x, info, w.syntax[f] == RLE) for x in frs])
            for frs, info, f in zip(out, w.infos, files, strict=True)
        ]

    names = sorted({DECODERS[w.syntax[f]] for f in files})
    return Job(run, result, how=" / ".join(names) + " on the frames")


def _ljpeg(info: Any) -> tuple[Callable[[Any], bytes | bytearray], bool, str]:
    import imagecodecs

    if info.samples_per_pixel > 1:
        raise Unsupported("imagecodecs' ljpeg_encode takes one sample per pixel only")
    bits = info.bits_stored
    return (lambda fr: imagecodecs.ljpeg_encode(fr, bitspersample=bits)), True, "ljpeg_encode"


def _jpegls(info: Any) -> tuple[Callable[[Any], bytes | bytearray], bool, str]:
    import imagecodecs

    return imagecodecs.jpegls_encode, True, "jpegls_encode"


def _htj2k(info: Any) -> tuple[Callable[[Any], bytes | bytearray], bool, str]:
    import imagecodecs

    return (
        lambda fr: imagecodecs.htj2k_encode(fr, reversible=True, resolutions=6),
        False,
        "htj2k_encode(reversible, 5 levels)",
    )


#: transfer syntax -> for a file's image attributes: imagecodecs' encoder of one frame,
#: whether it takes the samples' bit patterns unsigned (JPEG and JPEG-LS code signed data
#: as two's complement), and its name
ENCODERS: dict[str, Callable[[Any], tuple[Callable[[Any], bytes | bytearray], bool, str]]] = {
    JPEG_LL_SV1: _ljpeg,
    JPEG_LS: _jpegls,
    HTJ2K_LOSSLESS: _htj2k,
}


def _encoder(codec: str, info: Any) -> tuple[Callable[[Any], bytes | bytearray], bool, str]:
    if codec not in ENCODERS:
        raise Unsupported(f"no imagecodecs encoder taken for {codec}")
    return ENCODERS[codec](info)


def encode(w: Workload) -> Job:
    arrays, infos, codec = w.arrays, w.infos, w.codec
    encoders = [_encoder(codec, i) for i in infos]

    def frames_of(a: Any, info: Any, unsigned: bool) -> list[Any]:
        if unsigned:
            a = a.view(f"u{a.dtype.itemsize}")
        return [a] if info.number_of_frames == 1 else list(a)

    def run() -> list:
        return [
            [enc(fr) for fr in frames_of(a, i, unsigned)]
            for a, i, (enc, unsigned, _) in zip(arrays, infos, encoders, strict=True)
        ]

    def result(out: list) -> list:
        return [decode_frames_ours(fr, i, codec) for fr, i in zip(out, infos, strict=True)]

    return Job(run, result, how=encoders[0][2] if encoders else "")


def _version() -> str | None:
    return module_version("imagecodecs")


CONTENDER = Contender(
    "imagecodecs",
    _version,
    {"decode": decode, "encode": encode},
    "imagecodecs codecs",
    may_crash=frozenset({"decode"}),  # C kernels given every file's frames
)
