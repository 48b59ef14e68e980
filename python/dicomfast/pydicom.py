"""dicomfast as a pydicom 3 pixel data plugin.

    import dicomfast.pydicom
    dicomfast.pydicom.register()            # add "dicomfast" to pydicom's decoders/encoders
    ds = pydicom.dcmread(path)
    ds.pixel_array_options(decoding_plugin="dicomfast")   # or register(exclusive=True)
    arr = ds.pixel_array
    ds.compress(pydicom.uid.JPEGLosslessSV1, encoding_plugin="dicomfast")

Decoders: RLE Lossless, JPEG Lossless (4.57, any predictor) and JPEG Lossless SV1 (4.70),
and every other syntax dicomfast decodes that the installed pydicom has a decoder for
(JPEG XL 4.110-4.112 only with a pydicom that knows those UIDs; 3.0 does not).
Encoders: the same three (pydicom 3.0 ships no JPEG Lossless encoder, so ``register()``
creates the encoders for 4.57 and 4.70).

The plugin functions follow pydicom's plugin interface: a module with ``is_available``,
``DECODER_DEPENDENCIES`` / ``ENCODER_DEPENDENCIES`` and ``_decode_frame(src, runner)`` /
``_encode_frame(src, runner)``.  Decoded frames come back little endian with samples
interleaved (the plugin tells pydicom so via ``planar_configuration = 0``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _core, syntaxes
from . import uid as uids
from .pixels.encode import encode_options

LABEL = "dicomfast"
RLE_LOSSLESS = "1.2.840.10008.1.2.5"


def _pydicom_syntaxes() -> frozenset[str]:
    try:
        from pydicom.uid import AllTransferSyntaxes
    except ImportError:  # pragma: no cover - the plugin is imported by pydicom
        return frozenset()
    return frozenset(AllTransferSyntaxes)


#: The encapsulated syntaxes dicomfast's codecs decode (the registry's:
#: :mod:`dicomfast.syntaxes`) that pydicom knows.
SYNTAXES = tuple(sorted(syntaxes.DECODABLE & _pydicom_syntaxes()))

DECODER_DEPENDENCIES: dict[str, tuple[str, ...]] = {ts: ("dicomfast",) for ts in SYNTAXES}
ENCODER_DEPENDENCIES: dict[str, tuple[str, ...]] = {ts: ("numpy", "dicomfast") for ts in SYNTAXES}

_MODULE = __name__


def is_available(uid: str) -> bool:
    """Whether dicomfast decodes/encodes transfer syntax ``uid`` (pydicom plugin interface)."""
    return str(uid) in SYNTAXES


def _decode_frame(src: bytes, runner: Any) -> bytes:
    """Decode one encapsulated frame for pydicom's ``DecodeRunner``."""
    image = _core.ImageInfo(
        runner.rows,
        runner.columns,
        runner.samples_per_pixel,
        runner.bits_allocated,
        runner.bits_stored,
        runner.pixel_representation,
    )
    out = _core.decode_frame(src, image, str(runner.transfer_syntax))
    # Our frames are interleaved (samples last) whatever the data set says.
    runner.set_option("planar_configuration", 0)
    return out


def _encode_frame(src: bytes, runner: Any) -> bytes:
    """Encode one frame for pydicom's ``EncodeRunner`` (``src``: little endian, samples
    interleaved, in the smallest container holding Bits Stored)."""
    rows, columns, spp = runner.rows, runner.columns, runner.samples_per_pixel
    bits_allocated, bits_stored = runner.bits_allocated, runner.bits_stored
    ts = str(runner.transfer_syntax)
    if runner.get_option("byteorder", "<") == ">":
        raise ValueError("dicomfast encodes little-endian input only")
    pixels = rows * columns * spp
    size = len(src) // pixels if pixels else 0
    if size not in (1, 2, 4, 8) or size * pixels != len(src):
        raise ValueError(f"{len(src)} bytes is not a {rows}x{columns}x{spp} frame")
    # The codecs take Bits Allocated wide little-endian elements.
    want = 1 if bits_allocated <= 8 else bits_allocated // 8
    arr = np.frombuffer(src, f"<u{size}")
    if spp > 1 and runner.planar_configuration == 1 and not getattr(runner, "is_array", False):
        arr = arr.reshape(spp, rows * columns).T
    if size != want or not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr, dtype=f"<u{want}")
    predictor = int(runner.get_option("jpeg_predictor", runner.get_option("predictor", 1)) or 1)
    image = _core.ImageInfo(
        rows, columns, spp, max(8, bits_allocated), bits_stored, runner.pixel_representation
    )
    # pydicom's lossy options (jls_error, j2k_cr) where its encoders take them.
    options: dict[str, Any] = {"bits_stored": bits_stored}
    if runner.get_option("jls_error") is not None:
        options["max_error"] = int(runner.get_option("jls_error"))
    if runner.get_option("j2k_cr"):
        options["ratio"] = max(2, round(float(runner.get_option("j2k_cr")[0])))
    return _core.encode_frame(arr, image, ts, predictor, **encode_options(ts, **options))


def _decoders() -> dict[str, Any]:
    from pydicom.pixels.decoders import base

    table = getattr(base, "_PIXEL_DATA_DECODERS", {})
    return {ts: table[ts][0] for ts in SYNTAXES if ts in table}


#: PS3.5 Table 8.2.4-1 gives the HTJ2K syntaxes the JPEG 2000 rows; pydicom 3.0 has no
#: encoding profiles for them.
_PROFILE_LIKE: dict[str, str] = {
    uids.HTJ2KLossless: uids.JPEG2000Lossless,
    uids.HTJ2KLosslessRPCL: uids.JPEG2000Lossless,
    uids.HTJ2K: uids.JPEG2000,
}


def _profile(ts: str, profiles: Any) -> bool:
    """Whether pydicom has (or, for HTJ2K, now has) encoding profiles for ``ts``."""
    like = _PROFILE_LIKE.get(ts)
    if ts not in profiles and like in profiles:
        from pydicom.uid import UID

        profiles[UID(ts)] = profiles[like]
    return ts in profiles


def _encoders(create: bool) -> dict[str, Any]:
    from pydicom.pixels.encoders import base
    from pydicom.pixels.encoders.base import ENCODING_PROFILES

    encoders = {}
    table = getattr(base, "_PIXEL_DATA_ENCODERS", None)
    for ts in sorted(syntaxes.ENCODABLE):
        existing = table.get(ts) if table is not None else None
        if existing is not None:
            encoders[ts] = existing[0]
        elif create and table is not None and _profile(ts, ENCODING_PROFILES):
            # pydicom 3.0 has encoding profiles for JPEG Lossless but no Encoder: add one.
            from pydicom.uid import UID

            enc = base.Encoder(UID(ts))
            table[ts] = (enc, "3.0")
            encoders[ts] = enc
    return encoders


def register(*, decoders: bool = True, encoders: bool = True, exclusive: bool = False) -> None:
    """Add dicomfast as a pydicom decoding (and encoding) plugin named ``"dicomfast"`` for
    RLE Lossless and JPEG Lossless (4.57, 4.70). ``exclusive=True`` also removes the other
    plugins for those syntaxes, so pydicom uses dicomfast only (until :func:`unregister`
    and re-importing pydicom). Registering twice is harmless."""
    groups = []
    if decoders:
        groups.append(("_decode_frame", _decoders()))
    if encoders:
        groups.append(("_encode_frame", _encoders(create=True)))
    for func, coders in groups:
        for coder in coders.values():
            if LABEL not in coder.available_plugins:
                coder.add_plugin(LABEL, (_MODULE, func))
            if exclusive:
                for other in [p for p in coder.available_plugins if p != LABEL]:
                    coder.remove_plugin(other)


def unregister() -> None:
    """Remove the ``"dicomfast"`` plugins added by :func:`register`."""
    coders = list(_decoders().values()) + list(_encoders(create=False).values())
    for coder in coders:
        if LABEL in coder.available_plugins:
            coder.remove_plugin(LABEL)


__all__ = ["DECODER_DEPENDENCIES", "ENCODER_DEPENDENCIES", "is_available", "register", "unregister"]
