"""PS3.11 application profiles: the transfer syntaxes a profile allows, and what to do
with an instance in another one (re-encode it as explicit VR little endian where the
profile allows that, else fail naming what is missing)."""

from __future__ import annotations

from collections.abc import Callable

from .. import uid as uids
from ..dataset import Dataset
from ..errors import DicomError
from ._tables import PROFILES


def allowed(profile: str) -> tuple[str, ...]:
    try:
        return PROFILES[profile]
    except KeyError:
        raise DicomError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}") from None


def conformer(profile: str) -> Callable[[Dataset], str | None]:
    """``f(ds)``: None when ``ds`` meets ``profile`` as it is, else the transfer syntax to
    write it in (Pixel Data decompressed first when it is encapsulated)."""
    syntaxes = allowed(profile)

    def target(ds: Dataset) -> str | None:
        ts = ds.transfer_syntax or uids.ExplicitVRLittleEndian
        if ts in syntaxes:
            return None
        names = ", ".join(uids.name_of(t) for t in syntaxes)
        if uids.ExplicitVRLittleEndian not in syntaxes:
            raise DicomError(
                f"{profile} allows only {names}; this instance is {uids.name_of(ts)} and "
                "dicomfast has no JPEG / JPEG 2000 encoder yet"
            )
        if uids.is_encapsulated(ts) and 0x7FE00010 in ds:
            try:
                ds.decompress()
            except DicomError as e:
                raise DicomError(
                    f"{profile} allows {names}; this instance is {uids.name_of(ts)}, which "
                    f"dicomfast cannot decode to re-encode it ({e.message})"
                ) from None
        return uids.ExplicitVRLittleEndian

    return target
