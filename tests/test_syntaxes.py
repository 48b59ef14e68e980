"""The one Python table of transfer syntaxes (``dicomfast.syntaxes``) is the Rust codec
registry's, covers every transfer syntax of the standard's UID table, and every module
asks it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from dicomfast import _core, syntaxes, uid
from dicomfast.batch import syntaxes as batch_syntaxes
from dicomfast.pixels import info as pixel_info

UIDS_TSV = Path(__file__).resolve().parents[1] / "standard" / "uids.tsv"

#: Registry rows newer than standard/uids.tsv (the shared PS3.6 table predates them), with
#: where the standard defines them.
NEWER_THAN_UIDS_TSV = {
    # PS3.5 8.2.16 (the registry's header says so)
    "1.2.840.10008.1.2.8.1": ("DeflatedImageFrameCompression", "Deflated Image Frame Compression"),
    # PS3.6 Table A-1 as amended by Supplement 232 (2024)
    "1.2.840.10008.1.2.4.110": ("JPEGXLLossless", "JPEG XL Lossless"),
    "1.2.840.10008.1.2.4.111": ("JPEGXLJPEGRecompression", "JPEG XL JPEG Recompression"),
    "1.2.840.10008.1.2.4.112": ("JPEGXL", "JPEG XL"),
}


def _standard() -> dict[str, dict[str, str]]:
    with UIDS_TSV.open(newline="") as f:
        return {
            r["uid"]: r for r in csv.DictReader(f, delimiter="\t") if r["type"] == "Transfer Syntax"
        }


def test_table_is_the_registry() -> None:
    rows = _core.transfer_syntaxes()
    assert [tuple(t) for t in syntaxes.TABLE.values()] == [tuple(r) for r in rows]
    for u, t in syntaxes.TABLE.items():
        assert tuple(syntaxes.get(u + "\0")) == tuple(_core.transfer_syntax(u)) == tuple(t)


def test_every_standard_transfer_syntax_is_in_the_table() -> None:
    standard = _standard()
    assert len(standard) > 50
    for u, row in standard.items():
        t = syntaxes.TABLE.get(u)
        assert t is not None, u
        assert (t.keyword, t.name) == (row["keyword"], row["name"]), u
        # Names in dicomfast.uid (the PS3.6 registry generated into the core) agree.
        assert uid.REGISTRY[u].keyword == t.keyword


def test_every_table_row_is_standard_or_listed_as_newer() -> None:
    standard = _standard()
    for u, t in syntaxes.TABLE.items():
        if u in standard:
            assert u not in NEWER_THAN_UIDS_TSV, f"{u} is in uids.tsv now: drop it from the list"
        else:
            assert NEWER_THAN_UIDS_TSV.get(u) == (t.keyword, t.name), u
    assert set(NEWER_THAN_UIDS_TSV) <= set(syntaxes.TABLE)


def test_unknown_syntaxes_follow_the_registry_rule() -> None:
    t = syntaxes.get("1.2.3.4.5")
    assert t.uid == "1.2.3.4.5"
    assert (t.explicit_vr, t.big_endian, t.encapsulated, t.codec) == (True, False, True, None)
    assert uid.encoding_of("1.2.3.4.5") == (True, False)
    assert uid.is_encapsulated("1.2.3.4.5")


@pytest.mark.parametrize("u", sorted(set(_standard()) | set(NEWER_THAN_UIDS_TSV)))
def test_modules_agree(u: str) -> None:
    t = syntaxes.get(u)
    assert uid.is_encapsulated(u) == t.encapsulated
    assert uid.encoding_of(u) == (t.explicit_vr, t.big_endian)
    assert (u in pixel_info.NATIVE_SYNTAXES) == (not t.encapsulated)
    assert (u in pixel_info.CODEC_SYNTAXES) == (t.encapsulated and t.can_decode)


def test_named_syntaxes_are_what_their_names_say() -> None:
    for u in uid.NATIVE_SYNTAXES:
        assert not syntaxes.get(u).encapsulated, u
    for u in batch_syntaxes.WRITABLE:
        t = syntaxes.get(u)
        assert not t.encapsulated or t.can_encode, u
    assert syntaxes.ENCODABLE <= syntaxes.DECODABLE
    assert syntaxes.get(uid.DeflatedExplicitVRLittleEndian).deflated
    assert syntaxes.get(uid.ExplicitVRBigEndian).big_endian
    assert syntaxes.get("1.2.840.10008.1.2.8.1").codec is not None


def test_pydicom_plugin_serves_the_decodable_syntaxes() -> None:
    from dicomfast import pydicom as plugin
    from pydicom.uid import AllTransferSyntaxes

    assert set(plugin.SYNTAXES) == syntaxes.DECODABLE & set(AllTransferSyntaxes)
    for u in syntaxes.TABLE:
        assert plugin.is_available(u) == (u in plugin.SYNTAXES)
