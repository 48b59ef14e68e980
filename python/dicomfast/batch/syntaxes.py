"""Short names of the transfer syntaxes ``dicomfast convert`` writes (what each one is:
:mod:`dicomfast.syntaxes`)."""

from __future__ import annotations

from .. import uid as uids

NAMES: dict[str, str] = {
    "explicit-le": uids.ExplicitVRLittleEndian,
    "implicit-le": uids.ImplicitVRLittleEndian,
    "explicit-be": uids.ExplicitVRBigEndian,
    "deflated": uids.DeflatedExplicitVRLittleEndian,
    "rle": uids.RLELossless,
    "jpeg-ll": uids.JPEGLosslessSV1,
    "jpeg-ll-p14": uids.JPEGLossless,
}
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
