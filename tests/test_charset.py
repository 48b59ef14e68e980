"""Specific Character Set decoding against pydicom's own character-set files."""

from __future__ import annotations

from pathlib import Path

import dicomfast
import pytest

pydicom = pytest.importorskip("pydicom")


def _charset_files() -> list[Path]:
    from pydicom.data import get_charset_files

    return sorted(Path(p) for p in get_charset_files("*.dcm"))


FILES = _charset_files()


def _texts(ds) -> list[tuple[str, str]]:  # noqa: ANN001
    out = []
    for elem in ds.iterall() if hasattr(ds, "iterall") else ds.walk():
        private = int(elem.tag) >> 16 & 1
        if (
            elem.VR in ("PN", "LO", "SH", "LT", "ST", "UT", "UC")
            and elem.value not in (None, "")
            and not private
        ):
            v = elem.value
            v = (
                [str(x) for x in v]
                if isinstance(v, list | tuple) or type(v).__name__ == "MultiValue"
                else str(v)
            )
            out.append((f"{int(elem.tag):08X}", v))
    return out


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_text_decodes_as_pydicom_does(path: Path) -> None:
    theirs = pydicom.dcmread(path)
    ours = dicomfast.read(path)
    assert _texts(ours) == _texts(theirs)


def test_charset_files_cover_the_required_sets() -> None:
    terms = set()
    for path in FILES:
        for e in dicomfast.read(path).walk():
            if e.tag == 0x00080005:
                terms.update(e.value if isinstance(e.value, list) else [e.value])
    for needed in (
        "ISO_IR 100",
        "ISO_IR 144",
        "ISO_IR 192",
        "GB18030",
        "ISO 2022 IR 87",
        "ISO 2022 IR 149",
    ):
        assert needed in terms


def test_encoding_round_trip_through_files(tmp_path) -> None:  # noqa: ANN001
    cases = {
        "ISO_IR 192": "Wang^XiaoDong=王^小東",
        "ISO_IR 144": "Люкceмбypг",
        "ISO_IR 101": "Dvořák^Antonín",
        "GB18030": "Wang^XiaoDong=王^小东",
        "\\ISO 2022 IR 87": "Yamada^Tarou=山田^太郎=やまだ^たろう",
        "\\ISO 2022 IR 149": "Hong^Gildong=洪^吉洞=홍^길동",
    }
    for term, name in cases.items():
        ds = dicomfast.Dataset()
        ds.SpecificCharacterSet = term.split("\\") if "\\" in term else term
        ds.PatientName = name
        path = tmp_path / "cs.dcm"
        dicomfast.write(ds, path)
        assert dicomfast.read(path).PatientName == name, term
        assert str(pydicom.dcmread(path).PatientName) == name, term


def test_hangul_syllables_outside_ks_x_1001_as_pydicom(tmp_path) -> None:  # noqa: ANN001
    """A Hangul syllable not among KS X 1001's 2,350 is written in ISO 2022 IR 149 as its
    KS X 1001:1998 Annex 3 make-up sequence (the filler and its three letters), as Python's
    euc_kr codec, and so pydicom, writes it: each of us reads the other's file as the
    syllable, not as four letters (a random run against pydicom found ours reading
    ``읦`` as ``ㅤㅇㅢㄿ``, and refusing to write it)."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import generate_uid

    name = "Kim^Eun=김^읦똠햏=김^읔"
    ours = tmp_path / "ours.dcm"
    ds = dicomfast.Dataset()
    ds.SpecificCharacterSet = ["", "ISO 2022 IR 149"]
    ds.PatientName = name
    dicomfast.write(ds, ours)
    assert "읦".encode("euc_kr") in ours.read_bytes()  # the 8-byte make-up sequence
    assert str(pydicom.dcmread(ours).PatientName) == name
    theirs = tmp_path / "theirs.dcm"
    pds = pydicom.Dataset()
    pds.file_meta = FileMetaDataset()
    pds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    pds.file_meta.MediaStorageSOPClassUID = pds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    pds.file_meta.MediaStorageSOPInstanceUID = pds.SOPInstanceUID = generate_uid()
    pds.SpecificCharacterSet = ["", "ISO 2022 IR 149"]
    pds.PatientName = name
    pds.save_as(theirs, enforce_file_format=True)
    assert dicomfast.read(theirs).PatientName == name
    assert dicomfast.read(ours).PatientName == name
