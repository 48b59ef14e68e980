"""Value representations with a class of their own, as pydicom's ``valuerep``:
:class:`PersonName` for PN values."""

from __future__ import annotations

from typing import Any


class PersonName(str):
    """A PN value (PS3.5 6.2.1): a ``str`` (the whole value, component groups
    joined by ``=``) with pydicom's ``PersonName`` accessors.

    dicomfast decodes PN text (character sets included) in the Rust core, so a
    ``PersonName`` is made from the decoded ``str``: the value of a PN element is
    converted when first read from Python, and stays equal to the plain string.
    """

    __slots__ = ()

    def __new__(cls, val: Any = "", encodings: Any = None, **_: Any) -> Any:  # noqa: ARG003
        if val is None:
            return None
        if isinstance(val, bytes):
            val = _decode(val, encodings)
        return super().__new__(cls, val)

    # -- components -----------------------------------------------------------------
    @property
    def components(self) -> tuple[str, ...]:
        """The (alphabetic, ideographic, phonetic) component groups present."""
        return tuple(str.split(self, "=")) if self else ()

    def _group(self, i: int) -> str:
        c = self.components
        return c[i] if i < len(c) else ""

    @property
    def alphabetic(self) -> str:
        return self._group(0)

    @property
    def ideographic(self) -> str:
        return self._group(1)

    @property
    def phonetic(self) -> str:
        return self._group(2)

    def _name_part(self, i: int) -> str:
        parts = self.alphabetic.split("^")
        return parts[i] if i < len(parts) else ""

    @property
    def family_name(self) -> str:
        return self._name_part(0)

    @property
    def given_name(self) -> str:
        return self._name_part(1)

    @property
    def middle_name(self) -> str:
        return self._name_part(2)

    @property
    def name_prefix(self) -> str:
        return self._name_part(3)

    @property
    def name_suffix(self) -> str:
        return self._name_part(4)

    def formatted(self, format_str: str) -> str:
        """``format_str % {family_name, given_name, middle_name, name_prefix,
        name_suffix, ideographic, phonetic}``."""
        parts = (
            "family_name",
            "given_name",
            "middle_name",
            "name_prefix",
            "name_suffix",
            "ideographic",
            "phonetic",
        )
        return format_str % {p: getattr(self, p) for p in parts}

    def family_comma_given(self) -> str:
        return f"{self.family_name}, {self.given_name}"

    @property
    def original_string(self) -> bytes:
        return str(self).encode("utf-8")

    def __str__(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return repr(str(self))

    @classmethod
    def from_named_components(
        cls,
        family_name: str = "",
        given_name: str = "",
        middle_name: str = "",
        name_prefix: str = "",
        name_suffix: str = "",
        family_name_ideographic: str = "",
        given_name_ideographic: str = "",
        middle_name_ideographic: str = "",
        name_prefix_ideographic: str = "",
        name_suffix_ideographic: str = "",
        family_name_phonetic: str = "",
        given_name_phonetic: str = "",
        middle_name_phonetic: str = "",
        name_prefix_phonetic: str = "",
        name_suffix_phonetic: str = "",
        encodings: Any = None,  # noqa: ARG003
    ) -> PersonName:
        groups = [
            (family_name, given_name, middle_name, name_prefix, name_suffix),
            (
                family_name_ideographic,
                given_name_ideographic,
                middle_name_ideographic,
                name_prefix_ideographic,
                name_suffix_ideographic,
            ),
            (
                family_name_phonetic,
                given_name_phonetic,
                middle_name_phonetic,
                name_prefix_phonetic,
                name_suffix_phonetic,
            ),
        ]
        texts = ["^".join(g).rstrip("^") for g in groups]
        while texts and not texts[-1]:
            texts.pop()
        return cls("=".join(texts))


def _decode(data: bytes, encodings: Any) -> str:
    """PN bytes decoded with Specific Character Set terms (``["ISO_IR 100"]``) or Python
    codec names (``["latin_1"]``, as pydicom's ``encodings``)."""
    terms = [encodings] if isinstance(encodings, str) else list(encodings or [])
    try:
        from .charset import character_set

        cs = character_set(terms) if terms else None
        if cs is not None:
            return cs.decode(data, "PN")
    except Exception:  # noqa: BLE001 - not DICOM terms: Python codec names
        for codec in terms:
            try:
                return data.decode(codec)
            except (LookupError, UnicodeDecodeError):
                continue
    return data.decode("latin-1")


def person_name(value: Any) -> Any:
    """A PN element's value with its strings as :class:`PersonName` (lists in place)."""
    if value.__class__ is str:
        return PersonName(value)
    if value.__class__ is list:
        for i, v in enumerate(value):
            if v.__class__ is str:
                value[i] = PersonName(v)
    return value


__all__ = ["PersonName", "person_name"]
