"""File IDs (PS3.10 §8.2, PS3.11 general purpose profiles): up to 8 components,
each 1-8 characters of A-Z, 0-9 and _, no extension.  Generated names carry no
information taken from the instances (no names, no UIDs): a two-letter prefix
for the level and a counter."""

from __future__ import annotations

import re

from ..errors import DicomError

COMPONENT = re.compile(r"[A-Z0-9_]{1,8}")
MAX_COMPONENTS = 8

#: Prefixes of generated directory and file names.
DIR_PREFIX = {"PATIENT": "PT", "STUDY": "ST", "SERIES": "SE"}
FILE_PREFIX = {
    "IMAGE": "IM",
    "SR DOCUMENT": "SR",
    "KEY OBJECT DOC": "KO",
    "ENCAP DOC": "DC",
    "PRESENTATION": "PR",
    "WAVEFORM": "WV",
    "RT DOSE": "RD",
    "RT PLAN": "RP",
    "RT STRUCTURE SET": "RS",
    "RT TREAT RECORD": "RT",
}


#: Components joined by "\\" (no component holds one): one match for the whole File ID.
_JOINED = re.compile(r"[A-Z0-9_]{1,8}(?:\\[A-Z0-9_]{1,8})*")


def is_valid(file_id: tuple[str, ...]) -> bool:
    joined = "\\".join(file_id)
    return (
        0 < len(file_id) <= MAX_COMPONENTS
        and joined.count("\\") == len(file_id) - 1
        and _JOINED.fullmatch(joined) is not None
    )


def check(file_id: tuple[str, ...]) -> None:
    if not is_valid(file_id):
        raise DicomError(
            f"File ID {'/'.join(file_id)!r} is not 1-8 components of 1-8 characters A-Z, 0-9, _"
        )


class Namer:
    """Hands out names not yet used in each directory."""

    def __init__(self, used: set[tuple[str, ...]]) -> None:
        self.used = set(used)  # every File ID and every directory prefix of one
        self.counters: dict[tuple[tuple[str, ...], str], int] = {}

    @staticmethod
    def prefixes(file_id: tuple[str, ...]) -> list[tuple[str, ...]]:
        return [file_id[: i + 1] for i in range(len(file_id))]

    def new(self, folder: tuple[str, ...], prefix: str) -> tuple[str, ...]:
        key = (folder, prefix)
        n = self.counters.get(key, 0)
        width = 8 - len(prefix)
        while True:
            if n >= 10**width:
                raise DicomError(f"no free name left in {'/'.join(folder) or 'the root folder'}")
            candidate = (*folder, f"{prefix}{n:0{width}d}")
            n += 1
            if candidate not in self.used:
                self.counters[key] = n
                self.used.add(candidate)
                return candidate
