"""Media types and transfer syntax negotiation (PS3.18 6.1, 8.7.3).

An ``Accept`` header (or the ``accept`` query parameter, 8.3.3.1) is parsed to a
list of :class:`Acceptable` ranked by quality.  ``multipart/related;
type="application/dicom"; transfer-syntax=UID`` asks for DICOM instances in
that transfer syntax; without ``transfer-syntax`` the default is Explicit VR
Little Endian (8.7.3.5.2), ``*`` means as stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import syntaxes
from .errors import NotAcceptable

DICOM = "application/dicom"
DICOM_JSON = "application/dicom+json"
JSON = "application/json"
OCTET = "application/octet-stream"
MULTIPART = "multipart/related"
JPEG = "image/jpeg"
PNG = "image/png"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"


@dataclass(frozen=True)
class Acceptable:
    type: str  # the media type; for multipart/related its type= parameter
    multipart: bool
    transfer_syntax: str | None
    q: float


def _params(parts: list[str]) -> dict[str, str]:
    out = {}
    for p in parts:
        k, eq, v = p.partition("=")
        if eq:
            out[k.strip().lower()] = v.strip().strip('"')
    return out


def _split(header: str) -> list[str]:
    """Split at commas outside quotes."""
    out: list[str] = []
    cur: list[str] = []
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return [s.strip() for s in out if s.strip()]


def parse_accept(header: str | None) -> list[Acceptable]:
    """The media ranges of an Accept header, best first (``*/*`` if none)."""
    ranges: list[Acceptable] = []
    for item in _split(header or "*/*"):
        head, *rest = [s.strip() for s in item.split(";")]
        params = _params(rest)
        try:
            q = float(params.get("q", "1"))
        except ValueError:
            q = 1.0
        mt = head.lower()
        if mt == MULTIPART:
            ranges.append(
                Acceptable(params.get("type", "").lower(), True, params.get("transfer-syntax"), q)
            )
        else:
            ranges.append(Acceptable(mt, False, params.get("transfer-syntax"), q))
    ranges.sort(key=lambda a: -a.q)
    return [a for a in ranges if a.q > 0]


def _matches(rng: str, media_type: str) -> bool:
    if rng in ("", "*/*") or rng == media_type:
        return True
    return rng.endswith("/*") and media_type.startswith(rng[:-1])


def choose(ranges: list[Acceptable], offered: list[str], *, multipart: bool | None) -> Acceptable:
    """The first range that accepts one of ``offered`` (resolved to that type), in
    multipart form or not as ``multipart`` says (None: either); else 406."""
    for a in ranges:
        if multipart is not None and a.multipart != multipart and a.type not in ("*/*", ""):
            continue
        for mt in offered:
            if _matches(a.type, mt):
                return Acceptable(
                    mt, a.multipart if multipart is None else multipart, a.transfer_syntax, a.q
                )
    raise NotAcceptable(
        f"none of the acceptable media types can be produced here: {', '.join(offered)}"
    )


def can_transcode(stored: str, wanted: str) -> bool:
    """Whether our codecs turn an instance encoded in ``stored`` into ``wanted``."""
    if wanted == stored:
        return True
    s, w = syntaxes.get(stored), syntaxes.get(wanted)
    if wanted not in syntaxes.TABLE or (w.encapsulated and not w.can_encode):
        return False
    if s.encapsulated and not s.can_decode:
        return False
    return not (s.lossy and not w.lossy)  # never label lossy pixels lossless


def transfer_syntaxes_for(ranges: list[Acceptable], media_type: str, stored: str) -> str | None:
    """The transfer syntax to send an instance stored in ``stored`` in, from the ranges
    accepting ``media_type`` (multipart), or None when none can be produced."""
    for a in ranges:
        wildcard = a.type in ("*/*", "")
        if not (a.multipart or wildcard) or not _matches(a.type, media_type):
            continue
        if wildcard and not a.transfer_syntax:  # no preference: converted if we can
            return EXPLICIT_LE if can_transcode(stored, EXPLICIT_LE) else stored
        ts = a.transfer_syntax or EXPLICIT_LE
        if ts == "*":
            return stored
        if can_transcode(stored, ts):
            return ts
    return None
