"""De-identification: the PS3.15 Annex E Basic Application Level Confidentiality
Profile and its options, from Table E.1-1 as generated data (``standard/``).

    >>> from dicomfast.deid import anonymize
    >>> out = anonymize(ds, options=["retain-longitudinal-modified-dates"], key=b"...")

UIDs become ``2.25.`` UIDs keyed by HMAC-SHA256, so one key links studies, series and
references across files and runs; Patient ID/Name come from a patient map or a keyed
pseudonym; with Modified Dates every date moves by a per-patient keyed offset.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..dataset import Dataset
from ..errors import DeidentificationError
from .burned_in import burned_in_reason
from .engine import Deidentifier
from .keys import load_key, new_key
from .patients import PatientMap, load_patient_map
from .profile import NOT_IMPLEMENTED, OPTIONS, PROFILES, SUPPORTED_OPTIONS


def anonymize(
    ds: Dataset,
    *,
    profile: str = "basic",
    options: Iterable[str] = (),
    key: bytes | str | None = None,
    patient_map: PatientMap | None = None,
) -> Dataset:
    """A de-identified copy of ``ds`` (``ds`` is not changed).  ``key`` (16 bytes or
    more) makes UIDs, pseudonyms and date offsets repeatable; without it a random key
    of this process is used.  For many data sets build one :class:`Deidentifier`."""
    return Deidentifier(
        profile=profile, options=options, key=key, patient_map=patient_map
    ).anonymize(ds)


__all__ = [
    "NOT_IMPLEMENTED",
    "OPTIONS",
    "PROFILES",
    "SUPPORTED_OPTIONS",
    "DeidentificationError",
    "Deidentifier",
    "PatientMap",
    "anonymize",
    "burned_in_reason",
    "load_key",
    "load_patient_map",
    "new_key",
]
