"""The patient map: original Patient ID -> new Patient ID (and optionally name), read
from a CSV file (header ``patient_id,new_patient_id[,new_patient_name]``) or a JSON
object (``{"OLD": "NEW"}`` or ``{"OLD": {"id": "NEW", "name": "DOE^J"}}``)."""

from __future__ import annotations

import csv
import json
import os

from ..errors import DeidentificationError

PatientMap = dict[str, tuple[str, str | None]]


def load_patient_map(path: str | os.PathLike[str]) -> PatientMap:
    p = os.fspath(path)
    try:
        with open(p, encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
    except OSError as e:
        raise DeidentificationError(f"cannot read the patient map: {e}", path=p) from e
    out: PatientMap = {}
    if p.lower().endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError as e:
            raise DeidentificationError(f"patient map is not JSON: {e}", path=p) from e
        if not isinstance(data, dict):
            raise DeidentificationError("patient map JSON must be an object", path=p)
        for old, new in data.items():
            if isinstance(new, str):
                out[old] = (new, None)
            elif isinstance(new, dict) and isinstance(new.get("id"), str):
                name = new.get("name")
                out[old] = (new["id"], name if isinstance(name, str) else None)
            else:
                raise DeidentificationError(f"patient map: bad entry for {old!r}", path=p)
        return out
    rows = list(csv.DictReader(text.splitlines()))
    if not rows or not {"patient_id", "new_patient_id"} <= set(rows[0]):
        raise DeidentificationError(
            "patient map CSV needs the columns patient_id,new_patient_id[,new_patient_name]",
            path=p,
        )
    for i, r in enumerate(rows, 2):
        old, new = (r.get("patient_id") or "").strip(), (r.get("new_patient_id") or "").strip()
        if not old or not new:
            raise DeidentificationError(f"patient map line {i}: empty patient ID", path=p)
        out[old] = (new, (r.get("new_patient_name") or "").strip() or None)
    return out
