"""The levels of a file-set's patient / study / series / instance hierarchy
(PS3.3 F.4), and which record types sit at its root."""

from __future__ import annotations

#: The levels of the patient / study / series / instance hierarchy (PS3.3 F.4).
LEVELS = {"PATIENT": 0, "STUDY": 1, "SERIES": 2}
#: Record types that sit in the root directory entity beside PATIENT (PS3.3 Table F.4-1).
ROOT_TYPES = frozenset(
    {"PATIENT", "HANGING PROTOCOL", "PALETTE", "IMPLANT", "IMPLANT ASSY", "IMPLANT GROUP"}
)
#: The attribute that tells records of each level apart.
IDENTIFIER = {"PATIENT": 0x00100020, "STUDY": 0x0020000D, "SERIES": 0x0020000E}


def level_of(record_type: str) -> int:
    """0 patient (and other root records), 1 study, 2 series, 3 instance records."""
    if record_type in ROOT_TYPES:
        return 0
    return LEVELS.get(record_type, 3)
