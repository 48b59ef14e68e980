"""Shared helpers of the de-identification tests: the corpus files that read cleanly,
and the original identifying values of a data set with their possible encodings."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import Any

import dicomfast
from corpus_data import MANIFEST, corpus_path
from dicomfast.charset import _PY_CODECS
from dicomfast.deid.profile import CompiledProfile

KEY = b"dicomfast-test-key-0123456789"
OPTION_SETS = {
    "basic": (),
    "modified-dates": ("retain-longitudinal-modified-dates",),
    "clean": ("clean-descriptors", "clean-structured-content"),
    "retain-most": (
        "retain-uids",
        "retain-device-identity",
        "retain-institution-identity",
        "retain-patient-characteristics",
        "retain-longitudinal-full-dates",
    ),
}
TEXT_VRS = {"AE", "LO", "LT", "PN", "SH", "ST", "UC", "UT", "DA", "DT", "TM", "UI", "CS", "AS"}


def corpus_files() -> list[str]:
    """Every manifest file that reads without error (sorted, deterministic)."""
    out = []
    for entry in MANIFEST:
        if entry.get("expect_error"):
            continue
        p = corpus_path(entry["path"])
        if not p.exists():
            continue
        try:
            ds = dicomfast.read(p)
        except dicomfast.DicomError:
            continue
        if ds.__dict__.get("read_error") is None:
            out.append(str(p))
    return sorted(out)


def walk(ds: Any, parent_removed: bool = False) -> Iterator[tuple[Any, bool]]:
    """(element, inside a sequence the profile changes) for every element, nested too."""
    for elem in ds:
        yield elem, parent_removed
        if elem.VR == "SQ":
            for item in elem.value or []:
                yield from walk(item, parent_removed)


def identifying(ds: Any, compiled: CompiledProfile, modified_dates: bool) -> set[str]:
    """Text values the profile must not let through: values of elements whose action is
    X, Z, D or U (and C for dates with modified dates), anywhere in the data set."""
    found: set[str] = set()
    for elem, _ in walk(ds):
        a = compiled.action(elem.tag)
        if elem.tag >> 16 & 1 or elem.VR not in TEXT_VRS:
            continue
        if a not in ("X", "Z", "D", "U") and not (
            a == "C" and modified_dates and elem.VR in ("DA", "DT")
        ):
            continue
        if elem.VR == "UI" and a != "U":
            continue
        values = elem.value if isinstance(elem.value, list) else [elem.value]
        for v in values:
            text = str(v).strip(" \0") if v is not None else ""
            if elem.VR == "UI" and text in dicomfast.uid.REGISTRY:
                continue
            if len(text) >= 4 and len(set(text)) > 1:  # '0000' is nobody's
                found.add(text)
            if elem.VR == "PN":
                for group in text.split("="):
                    for comp in group.split("^"):
                        if len(comp.strip()) >= 4:
                            found.add(comp.strip())
    return found


def encodings(text: str, ds: Any) -> set[bytes]:
    """``text`` as the file's character set, UTF-8 and Latin-1 could write it."""
    out = {text.encode("utf-8")}
    terms = ds.get("SpecificCharacterSet") or []
    terms = terms if isinstance(terms, list) else [terms]
    for t in terms:
        codec = _PY_CODECS.get((t or "").strip())
        if codec:
            try:
                codecs.lookup(codec)
                out.add(text.encode(codec))
            except (UnicodeEncodeError, LookupError):
                pass
    try:
        out.add(text.encode("latin_1"))
    except UnicodeEncodeError:
        pass
    return out
