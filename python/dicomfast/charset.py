"""Specific Character Set (0008,0005): how text values are decoded and encoded
(PS3.5 §6.1).  Decoding runs in the Rust core; encoding of new values uses
Python's codecs for the single-byte sets, UTF-8 and GB18030."""

from __future__ import annotations

from . import _core
from .errors import CharacterSetError

# Defined terms (PS3.3 C.12.1.1.2) → Python codec, for encoding new values.
_PY_CODECS = {
    "": "ascii",
    "ISO_IR 6": "ascii",
    "ISO 2022 IR 6": "ascii",
    "ISO_IR 100": "latin_1",
    "ISO 2022 IR 100": "latin_1",
    "ISO_IR 101": "iso8859_2",
    "ISO 2022 IR 101": "iso8859_2",
    "ISO_IR 109": "iso8859_3",
    "ISO 2022 IR 109": "iso8859_3",
    "ISO_IR 110": "iso8859_4",
    "ISO 2022 IR 110": "iso8859_4",
    "ISO_IR 144": "iso8859_5",
    "ISO 2022 IR 144": "iso8859_5",
    "ISO_IR 127": "iso8859_6",
    "ISO 2022 IR 127": "iso8859_6",
    "ISO_IR 126": "iso8859_7",
    "ISO 2022 IR 126": "iso8859_7",
    "ISO_IR 138": "iso8859_8",
    "ISO 2022 IR 138": "iso8859_8",
    "ISO_IR 148": "iso8859_9",
    "ISO 2022 IR 148": "iso8859_9",
    "ISO_IR 203": "iso8859_15",
    "ISO 2022 IR 203": "iso8859_15",
    "ISO_IR 166": "tis_620",
    "ISO 2022 IR 166": "tis_620",
    "ISO_IR 13": "shift_jis",
    "ISO 2022 IR 13": "shift_jis",
    "ISO_IR 192": "utf_8",
    "GB18030": "gb18030",
    "GBK": "gbk",
    "ISO 2022 IR 87": "iso2022_jp",
    "ISO 2022 IR 149": "euc_kr",
    "ISO 2022 IR 58": "gb2312",
}


def character_set(terms: list[str] | str | None) -> _core.CharacterSet | None:
    """A decoder for the given Specific Character Set value (None: default repertoire)."""
    if not terms:
        return None
    if isinstance(terms, str):
        terms = [terms]
    return _core.CharacterSet([t or "" for t in terms])


def encode_text(text: str, charset: _core.CharacterSet | None, vr: str) -> bytes:
    """Encode a text value for writing."""
    if text.isascii():
        return text.encode("ascii")
    if charset is not None and hasattr(charset, "encode"):
        return bytes(charset.encode(text, vr))
    terms = list(charset.terms) if charset is not None else []
    codec = _PY_CODECS.get(terms[-1].strip() if terms else "", None) if terms else "latin_1"
    if codec is None:
        raise CharacterSetError(f"cannot encode text in character set {terms}")
    try:
        return text.encode(codec)
    except UnicodeEncodeError as e:
        raise CharacterSetError(f"{text!r} is not representable in {terms}: {e}") from None
