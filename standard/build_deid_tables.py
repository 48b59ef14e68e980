#!/usr/bin/env python3
"""Build the de-identification tables of this folder (our own converter, data only):

- ``deid_actions.tsv``: PS3.15 Table E.1-1 (Application Level Confidentiality Profile
  Attributes) from innolitics ``standard/confidentiality_profile_attributes.json``;
- ``deid_method_codes.tsv``: PS3.16 CID 7050 (De-identification Method) from pydicom's
  generated ``sr/_cid_dict.py`` + ``sr/_concepts_dict.py``.

    python build_deid_tables.py --inno path/to/confidentiality_profile_attributes.json --out .

Provenance and the recipe: README.md ("De-identification tables").
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

#: innolitics column -> our column (the option that selects it); order kept in the TSV.
COLUMNS = {
    "basicProfile": "basic",
    "rtnSafePrivOpt": "retain_safe_private",
    "rtnUIDsOpt": "retain_uids",
    "rtnDevIdOpt": "retain_device_identity",
    "rtnInstIdOpt": "retain_institution_identity",
    "rtnPatCharsOpt": "retain_patient_characteristics",
    "rtnLongFullDatesOpt": "retain_long_full_dates",
    "rtnLongModifDatesOpt": "retain_long_modified_dates",
    "cleanDescOpt": "clean_descriptors",
    "cleanStructContOpt": "clean_structured_content",
    "cleanGraphOpt": "clean_graphics",
}
#: CID 7050 keyword -> (our option name, deid_actions.tsv column it selects or "").
OPTIONS = {
    "BasicApplicationConfidentialityProfile": ("basic", "basic"),
    "CleanPixelDataOption": ("clean-pixel-data", ""),
    "CleanRecognizableVisualFeaturesOption": ("clean-recognizable-visual-features", ""),
    "CleanGraphicsOption": ("clean-graphics", "clean_graphics"),
    "CleanStructuredContentOption": ("clean-structured-content", "clean_structured_content"),
    "CleanDescriptorsOption": ("clean-descriptors", "clean_descriptors"),
    "RetainLongitudinalTemporalInformationFullDatesOption": (
        "retain-longitudinal-full-dates",
        "retain_long_full_dates",
    ),
    "RetainLongitudinalTemporalInformationModifiedDatesOption": (
        "retain-longitudinal-modified-dates",
        "retain_long_modified_dates",
    ),
    "RetainPatientCharacteristicsOption": (
        "retain-patient-characteristics",
        "retain_patient_characteristics",
    ),
    "RetainDeviceIdentityOption": ("retain-device-identity", "retain_device_identity"),
    "RetainUidsOption": ("retain-uids", "retain_uids"),
    "RetainSafePrivateOption": ("retain-safe-private", "retain_safe_private"),
    "RetainInstitutionIdentityOption": (
        "retain-institution-identity",
        "retain_institution_identity",
    ),
}
_TAG = re.compile(r"^\(([0-9A-FX]{4}),([0-9A-FX]{4})\)$")
_ACTION = re.compile(r"^(?:[XZDKCU]|X/Z|X/D|Z/D|X/Z/D|X/Z/U\*)$")


def _tag(text: str) -> str:
    m = _TAG.match(text.strip().upper())
    if m:
        return (m.group(1) + m.group(2)).replace("X", "x")
    if text.strip().upper() == "(GGGG,EEEE) WHERE GGGG IS ODD":
        return "ggggeeee"
    raise SystemExit(f"unexpected tag {text!r}")


def _clean(s: str) -> str:
    s = " ".join(s.split())
    if "\t" in s or "\n" in s:
        raise SystemExit(f"cell with a tab or newline: {s!r}")
    return s


def actions(inno: Path) -> list[list[str]]:
    rows = []
    for r in json.loads(inno.read_text(encoding="utf-8")):
        cells = [_tag(r["tag"]), _clean(r["name"]), r["stdCompIOD"]]
        for src in COLUMNS:
            v = r.get(src, "")
            if v and not _ACTION.match(v):
                raise SystemExit(f"unexpected action {v!r} in {r}")
            cells.append(v)
        rows.append(cells)
    tags = [r[0] for r in rows]
    if len(set(tags)) != len(tags):
        raise SystemExit("duplicate tags")
    return sorted(rows, key=lambda r: r[0].replace("x", "0").replace("g", "1").replace("e", "0"))


def method_codes() -> list[list[str]]:
    from pydicom.sr._cid_dict import cid_concepts, name_for_cid
    from pydicom.sr._concepts_dict import concepts

    assert name_for_cid[7050] == "DeidentificationMethod"
    rows = []
    for scheme, keywords in cid_concepts[7050].items():
        for kw in keywords:
            ((code, (meaning, _cids)),) = concepts[scheme][kw].items()
            option, column = OPTIONS[kw]
            rows.append([option, column, code, scheme, meaning, kw])
    return sorted(rows, key=lambda r: r[2])


def write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\t".join(header) + "\n")
        for r in rows:
            fh.write("\t".join(r) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--inno", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent)
    a = ap.parse_args()
    write(
        a.out / "deid_actions.tsv",
        ["tag", "name", "in_std_comp_iod", *COLUMNS.values()],
        actions(a.inno),
    )
    write(
        a.out / "deid_method_codes.tsv",
        ["option", "column", "code", "scheme", "meaning", "keyword"],
        method_codes(),
    )


if __name__ == "__main__":
    main()
