"""Which images may carry identifying text in their pixels (PS3.15 E.1.1 and the Clean
Pixel Data Option, E.3.1): dicomfast does not clean pixels, so such images are
reported and left out unless the caller allows them.

An image is flagged when Burned In Annotation (0028,0301) is YES, or when it is not NO
and the image is of a kind the standard names as prone to burned-in text: secondary
capture and ultrasound (by SOP class, from the PS3.6 UID registry names) and
X-ray angiography/fluoroscopy (Modality XA, RF).  An explicit NO is trusted."""

from __future__ import annotations

from typing import Any

from .. import uid as uids

_PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)
_PRONE_NAMES = ("Secondary Capture", "Ultrasound")
_PRONE_MODALITIES = frozenset({"US", "XA", "RF"})


def burned_in_reason(ds: Any) -> str | None:
    """Why ``ds`` may hold burned-in identifying text, or None."""
    if not any(t in ds for t in _PIXEL_TAGS):
        return None
    flag = str(ds.get("BurnedInAnnotation") or "").strip().upper()
    if flag == "YES":
        return "Burned In Annotation (0028,0301) is YES"
    if flag == "NO":
        return None
    sop_class = str(ds.get("SOPClassUID") or "").strip()
    name = uids.name_of(sop_class)
    for prone in _PRONE_NAMES:
        if prone in name:
            return f"{name} without Burned In Annotation NO"
    modality = str(ds.get("Modality") or "").strip().upper()
    if modality in _PRONE_MODALITIES:
        return f"Modality {modality} without Burned In Annotation NO"
    return None
