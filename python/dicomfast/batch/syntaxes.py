"""Short names of the transfer syntaxes ``dicomfast convert`` writes (what each one is:
:mod:`dicomfast.syntaxes`)."""

from __future__ import annotations

from .. import syntaxes
from .. import uid as uids

NAMES: dict[str, str] = {
    "explicit-le": uids.ExplicitVRLittleEndian,
    "implicit-le": uids.ImplicitVRLittleEndian,
    "explicit-be": uids.ExplicitVRBigEndian,
    "deflated": uids.DeflatedExplicitVRLittleEndian,
    "rle": uids.RLELossless,
    "jpeg-ll": uids.JPEGLosslessSV1,
    "jpeg-ll-p14": uids.JPEGLossless,
    "jpeg-ls": uids.JPEGLSLossless,
    "jpeg-ls-near": uids.JPEGLSNearLossless,
    "j2k": uids.JPEG2000Lossless,
    "j2k-lossy": uids.JPEG2000,
    "jpeg": uids.JPEGBaseline8Bit,
    "jpeg12": uids.JPEGExtended12Bit,
    "htj2k": uids.HTJ2KLossless,
    "htj2k-rpcl": uids.HTJ2KLosslessRPCL,
    "htj2k-lossy": uids.HTJ2K,
}
#: The lossy ones (as the codec registry says): written only when asked for by name (or UID).
LOSSY = frozenset(u for u in NAMES.values() if syntaxes.get(u).lossy)
WRITABLE = frozenset(NAMES.values())


def transfer_syntax_for(name: str) -> str:
    """The UID for a short name (``explicit-le``, ``rle``, ``jpeg-ll``, ...) or a UID."""
    key = name.strip().lower()
    if key in NAMES:
        return NAMES[key]
    if name.strip() in WRITABLE:
        return name.strip()
    known = ", ".join(NAMES)
    raise ValueError(
        f"unknown or unsupported transfer syntax {name!r}; use one of {known} or their UIDs"
    )
