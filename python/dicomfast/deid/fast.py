"""The per-element pass in Rust (``dicomfast._core.DeidPass``, crate ``dicomfast-deid``):
what :class:`~dicomfast.deid.engine.Deidentifier` does to a data set, written straight to
the bytes of the output file in one walk over the parsed element index, byte for byte
the file the Python engine and :func:`dicomfast.writer.encode_file` write.

Python sets it up once per process (the compiled profile, the key, the record of what
was done) and, per data set, gives it the patient's pseudonyms and date offset; the
caller writes the chunks (temporary file, then rename).

The pass declines (:func:`encode_file` returns the reason, and the caller runs the
Python engine) for: another output transfer syntax than the input's, deflated or big
endian inputs, sequences encoded as UN, non-ASCII bytes in a UID, a date it moves or a
replacement text (a patient map's names), and clean (C) of text that is not plain ASCII
(escape sequences included) or whose identifying words are not, or in a data set whose
default character set is JIS X 0201 or unknown: Python's case-insensitive matching of
other text is not mirrored."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import _core
from .. import uid as uids
from ..dataset import Dataset
from ..element import DataElement
from ..writer import encode_value
from .engine import CODE_TAGS, MIN_SCRUB, TEXT_VRS
from .profile import method_codes

if TYPE_CHECKING:
    from .engine import Deidentifier

_UIDS = {"StudyInstanceUID": 0, "SeriesInstanceUID": 1, "SOPInstanceUID": 2}


def _as_value(text: str | None) -> str | list[str] | None:
    """A UID's text as the data set would give it (several values: a list)."""
    return text.split("\\") if text and "\\" in text else text


@dataclass(frozen=True)
class EncodedFile:
    """The output file's chunks (bytes, or views of the input's buffer) and the new
    Study, Series and SOP Instance UIDs (``get`` as on a data set: output paths and
    resume checks use them)."""

    chunks: list[bytes | memoryview]
    uids: tuple[str | list[str] | None, ...]

    def get(self, keyword: str, default: Any = None) -> Any:
        value = self.uids[_UIDS[keyword]]
        return default if value is None else value


#: The passes made in this process, by options and key: a worker gets the Deidentifier
#: again with every chunk of files, and making a pass costs a tenth of a millisecond.
_PASSES: dict[tuple[tuple[str, ...], bytes], _core.DeidPass] = {}


def make_pass(deid: Deidentifier) -> _core.DeidPass:
    """The Rust pass for ``deid``'s profile, options and key."""
    c = deid.compiled
    found = _PASSES.get((c.options, deid.key))
    if found is not None:
        return found
    if len(_PASSES) >= 16:
        _PASSES.clear()
    found = _PASSES[c.options, deid.key] = _core.DeidPass(
        dict(c.actions),
        list(c.masked),
        c.private,
        c.overlay,
        deid.key,
        method_codes(deid.options),
        deid.temporal_state,
        (uids.IMPLEMENTATION_CLASS_UID, uids.IMPLEMENTATION_VERSION_NAME),
        _dummies(deid),
        sorted(TEXT_VRS),
        sorted(CODE_TAGS),
        MIN_SCRUB,
    )
    return found


def _dummies(deid: Deidentifier) -> dict[str, bytes]:
    """The engine's dummy value of every VR of the dictionary (and UN) as the writer
    encodes it: the pass writes these bytes, so both write the same."""
    vrs = {vr for row in _core.dictionary_entries() for vr in re.findall(r"\b[A-Z]{2}\b", row[1])}
    return {
        vr: encode_value(
            DataElement(0, vr, deid._dummy(vr)), explicit_vr=True, big_endian=False, charset=None
        )
        for vr in sorted((vrs | {"UN"}) - {"SQ"})
    }


def encode_file(deid: Deidentifier, ds: Dataset, transfer_syntax: str) -> EncodedFile | str:
    """``ds`` de-identified by ``deid`` and encoded as a Part 10 file in
    ``transfer_syntax``, or why the Rust pass leaves it to the Python engine.  The pass
    reads the buffer ``ds`` was read from, not its elements: ``ds`` must be as read (the
    batch's, fresh from the file; checking it would cost more than the pass)."""
    raw = ds._raw
    if raw is None:
        return "a data set not read from a buffer"
    if not isinstance(transfer_syntax, str):
        return f"a transfer syntax UID of {type(transfer_syntax).__name__}"
    if transfer_syntax != ds.transfer_syntax:
        return f"transcoding to {transfer_syntax}"
    new_id, new_name, offset = deid.patient(ds)
    explicit, big = uids.encoding_of(transfer_syntax)
    result = deid.rust_pass().run(raw, transfer_syntax, explicit, big, new_id, new_name, offset)
    if isinstance(result, str):
        return result
    chunks, study, series, sop = result
    return EncodedFile(chunks, (_as_value(study), _as_value(series), _as_value(sop)))
