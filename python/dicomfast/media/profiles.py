"""PS3.11 application profiles: the transfer syntaxes a profile allows, and what to do
with an instance in another one.

An instance in a syntax the profile allows is copied as it is.  One in another syntax
is converted on the way through the codec registry (:mod:`dicomfast.syntaxes`): an
image to the first lossless compressed syntax of the profile that dicomfast encodes
(JPEG Lossless SV1 for the JPEG profiles, JPEG 2000 Lossless for the JPEG 2000 ones),
to explicit VR little endian when that encoder does not take its pixels (float, 32-bit
...) or the profile has no such syntax; an instance without pixel data to explicit VR
little endian.  A lossy syntax is never chosen: it is written only when asked for by
name (``transfer_syntax``), and then marks the image lossy with a new SOP Instance UID
(:func:`dicomfast.pixels.encode.compress`)."""

from __future__ import annotations

from .. import syntaxes
from .. import uid as uids
from ..dataset import Dataset
from ..errors import DicomError, PixelDataError
from ._tables import PROFILES

PIXEL_DATA = 0x7FE00010
EXPLICIT_LE = uids.ExplicitVRLittleEndian


def allowed(profile: str) -> tuple[str, ...]:
    try:
        return PROFILES[profile]
    except KeyError:
        raise DicomError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}") from None


def lossless_targets(profile: str) -> list[str]:
    """The profile's compressed lossless syntaxes dicomfast encodes, in the table's order."""
    return [
        t
        for t in allowed(profile)
        if syntaxes.get(t).encapsulated and t in syntaxes.ENCODABLE and not syntaxes.get(t).lossy
    ]


class Conformer:
    """``conformer(ds)``: None when ``ds`` is written as it is, else the transfer syntax
    to write it in, its Pixel Data already converted (compressed or decompressed) in
    place.  ``profile``: the PS3.11 profile to meet (None: any syntax is fine);
    ``transfer_syntax``: every image is written in this one (which the profile must
    allow; a lossy one only this way), instances without pixel data as the profile
    wants."""

    def __init__(self, profile: str | None = None, transfer_syntax: str | None = None) -> None:
        self.profile = profile
        self.allowed: frozenset[str] | None = frozenset(allowed(profile)) if profile else None
        if transfer_syntax is not None:
            name = f"{uids.name_of(transfer_syntax)} ({transfer_syntax})"
            if self.allowed is not None and transfer_syntax not in self.allowed:
                raise DicomError(f"{profile} does not allow {name}")
            row = syntaxes.get(transfer_syntax)
            if row.encapsulated and not row.can_encode:
                raise DicomError(f"dicomfast cannot encode {name}")
        self.transfer_syntax = transfer_syntax
        self.lossless = lossless_targets(profile) if profile else []
        #: images that could not be written in ``transfer_syntax`` and why (each was
        #: then written as the profile alone asks)
        self.notes: list[str] = []

    def keeps(self, ts: str | None) -> bool:
        """Whether an instance in ``ts`` is written as it is, whatever it holds (known
        from its record: no need to read it)."""
        ts = ts or EXPLICIT_LE
        if self.transfer_syntax is not None:
            return ts == self.transfer_syntax
        return self.allowed is None or ts in self.allowed

    def __call__(self, ds: Dataset) -> str | None:
        ts = ds.transfer_syntax or EXPLICIT_LE
        if self.keeps(ts):
            return None
        as_is = self.allowed is None or ts in self.allowed
        if PIXEL_DATA not in ds:
            return None if as_is else self._native(ds, ts)
        wanted = [self.transfer_syntax] if self.transfer_syntax else []
        for target in wanted + ([] if as_is else self.lossless):
            if not syntaxes.get(target).encapsulated:
                return self._native(ds, ts, target)
            try:
                if target == uids.JPEGBaseline8Bit and ds.get("BitsAllocated") != 8:
                    # PS3.5 8.2.1: JPEG Baseline (Process 1) holds 8-bit samples only
                    # (the shared lossy JPEG encoder would write 12-bit ones under it)
                    raise PixelDataError("JPEG Baseline holds 8-bit samples only")
                ds.compress(target)
            except PixelDataError as e:  # pixels this encoder does not take (or cannot decode)
                if target == self.transfer_syntax:
                    self.notes.append(f"{ds.get('SOPInstanceUID')}: not {target}: {e.message}")
                continue
            return target
        return None if as_is else self._native(ds, ts)

    def _native(self, ds: Dataset, ts: str, target: str = EXPLICIT_LE) -> str:
        """``ds`` made native (decoded if it has to be): written in ``target``."""
        if self.allowed is not None and target not in self.allowed:
            names = ", ".join(uids.name_of(t) for t in sorted(self.allowed))
            raise DicomError(
                f"{self.profile} allows only {names}; this instance is {uids.name_of(ts)}, "
                "which dicomfast cannot encode in any of them"
            )
        if syntaxes.get(ts).encapsulated and PIXEL_DATA in ds:
            try:
                ds.decompress()
            except DicomError as e:
                raise DicomError(
                    f"{self.profile or 'the File-set'} wants {uids.name_of(target)}; this "
                    f"instance is {uids.name_of(ts)}, which dicomfast cannot decode to "
                    f"re-encode it ({e.message})"
                ) from None
        return target


def conformer(profile: str | None, transfer_syntax: str | None = None) -> Conformer:
    """The :class:`Conformer` of ``profile`` (and ``transfer_syntax``)."""
    return Conformer(profile, transfer_syntax)
