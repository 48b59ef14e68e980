"""Attribute matching of PS3.4 C.2.2.2, both as SQL conditions (for keys the
index has columns for) and in Python (for every other key, on the stored
DICOM JSON attributes, and as the reference the SQL is tested against).

The kinds of matching, decided from the value of a key in the identifier:

- *universal*: an empty value, or ``*`` alone (C.2.2.2.3) — every stored value
  matches, the key is only returned;
- *single value* (C.2.2.2.1): equality;
- *wildcard* (C.2.2.2.4): ``*`` any run of characters, ``?`` one character;
  translated to SQL ``LIKE`` with ``%``/``_``/``!`` escaped (escape ``!``);
  not for DA, TM, DT, UI or numbers (:class:`QueryError` 0xC000);
- *range* (C.2.2.2.5) for DA, TM and DT: ``a-b``, ``-b``, ``a-``, inclusive;
  an empty stored value never matches a range; a DA bound may also be a year
  or a month (``2024-``, ``-202403``: from its first day, to its last);
- *list of UID* (C.2.2.2.2): ``\\``-separated UIDs, any may match; a list of
  other values is matched value by value in the same way (any may match);
- *sequence* (C.2.2.2.6): a sequence with one item matches when some stored
  item matches every key of that item; an empty sequence is universal.

Case: values of every VR are case sensitive except PN, which **this archive
matches case-insensitively** (C.2.2.2.1 leaves PN case sensitivity to the
SCP; upper-cased copies of names are indexed for it).  Leading and trailing
spaces are not significant (C.2.2.2.1): stored values and query values are
stripped.  DA values in the old ``YYYY.MM.DD`` form and TM values with colons
are normalized; TM values are zero-filled to ``HHMMSS`` so that ``1200``
and ``120000`` are equal.  A stored multi-valued attribute matches when any
of its values does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ..errors import DicomError

#: C-FIND statuses (PS3.4 C.4.1.1.4).
SUCCESS = 0x0000
PENDING = 0xFF00
CANCEL = 0xFE00
OUT_OF_RESOURCES = 0xA700
IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS = 0xA900
UNABLE_TO_PROCESS = 0xC000

#: VRs whose values are matched as numbers.
NUMBER_VRS = frozenset({"IS", "DS", "US", "SS", "UL", "SL", "FL", "FD", "SV", "UV"})
#: VRs matched as dates/times (range matching).
DATETIME_VRS = frozenset({"DA", "TM", "DT"})
#: VRs whose spaces are significant (C.2.2.2.1 excepts long texts from stripping).
_TEXT_VRS = frozenset({"LT", "ST", "UT"})

_ESCAPE = "!"


class QueryError(DicomError, ValueError):
    """A query that cannot be answered; ``status`` is the C-FIND (or MWL)
    failure status the SCP should return, ``comment`` its Error Comment."""

    def __init__(self, message: str, status: int = UNABLE_TO_PROCESS, *, tag: int | None = None):
        super().__init__(message, tag=tag)
        self.status = status
        self.comment = message[:64]


# -- normalization of stored and query values ---------------------------------------------
def _one(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return value[0] if len(value) == 1 else list(value)
    return value


def text(value: Any, vr: str = "LO") -> str:
    """A value as the index stores text: stripped, multiple values ``\\``-joined."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "\\".join(text(v, vr) for v in value)
    s = str(value)
    return s.rstrip(" \0") if vr in _TEXT_VRS else s.strip(" \0")


def person_name(value: Any) -> str:
    """PN as stored: components stripped, empty trailing components and groups dropped."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "\\".join(person_name(v) for v in value)
    groups = ["^".join(c.strip() for c in g.split("^")).rstrip("^") for g in str(value).split("=")]
    return "=".join(groups).rstrip("=").strip()


def name_key(value: Any) -> str:
    """The case-folded PN that names are matched on."""
    return person_name(value).upper()


def date(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "\\".join(date(v) for v in value)
    s = str(value).strip()
    return s.replace(".", "") if len(s) == 10 and s[4] == "." else s


def time_of_day(value: Any) -> str:
    """TM as stored: ``HHMMSS[.ffffff]`` (colons removed, zero-filled)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "\\".join(time_of_day(v) for v in value)
    s = str(value).strip().replace(":", "")
    if not s:
        return ""
    head, dot, frac = s.partition(".")
    if head.isdigit() and len(head) in (2, 4):
        head = head.ljust(6, "0")
    return head + dot + frac


def normalize(value: Any, vr: str) -> str:
    """Any value as the index stores (and compares) it."""
    if vr == "PN":
        return person_name(value)
    if vr == "DA":
        return date(value)
    if vr == "TM":
        return time_of_day(value)
    return text(value, vr)


# -- matchers -----------------------------------------------------------------------------
def _like_pattern(value: str) -> str:
    out = []
    for ch in value:
        if ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        elif ch in "%_" + _ESCAPE:
            out.append(_ESCAPE + ch)
        else:
            out.append(ch)
    return "".join(out)


def _wildcard_regex(value: str, *, fold: bool) -> re.Pattern[str]:
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in value]
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if fold else 0))


def _has_wildcard(value: str) -> bool:
    return "*" in value or "?" in value


@dataclass
class Matcher:
    """How one key of an identifier matches stored values."""

    tag: int
    vr: str
    kind: str  # universal | single | wildcard | range | list | sequence
    values: list[str] = field(default_factory=list)  # normalized (PN: case-folded)
    low: str = ""
    high: str = ""
    item: list[Matcher] | None = None  # sequence matching: the keys of the one item
    number: float | None = None

    @property
    def universal(self) -> bool:
        return self.kind == "universal"

    # SQL ---------------------------------------------------------------------------------
    def sql(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool] | None:
        """A condition on ``column`` (which holds values as :func:`normalize`
        gives them; for PN the case-folded :func:`name_key`); None if universal."""
        kind = self.kind
        if kind == "universal":
            return None
        if kind == "single":
            if self.number is not None:
                return column == int(self.number)
            return column == self.values[0]
        if kind == "wildcard":
            return column.like(_like_pattern(self.values[0]), escape=_ESCAPE)
        if kind == "range":
            conds = [column != ""]
            if self.low:
                conds.append(column >= self.low)
            if self.high:
                conds.append(column <= self.high)
            return sa.and_(*conds)
        if kind == "list":
            plain = [v for v in self.values if not _has_wildcard(v)]
            wild = [v for v in self.values if _has_wildcard(v)]
            ors: list[sa.ColumnElement[bool]] = []
            if plain:
                ors.append(column.in_(plain))
            ors += [column.like(_like_pattern(v), escape=_ESCAPE) for v in wild]
            return sa.or_(*ors)
        raise QueryError(f"{self.kind} matching has no SQL form", tag=self.tag)

    # Python ------------------------------------------------------------------------------
    def match(self, stored: Any) -> bool:
        """Does a stored value match?  ``stored`` is a value as the DICOM JSON
        attributes hold it (a list of values, PN as dicts) or a plain value."""
        if self.kind == "universal":
            return True
        if self.kind == "sequence":
            return self._match_sequence(stored)
        values = _stored_values(stored, self.vr)
        if not values:
            return False
        return any(self._match_one(v) for v in values)

    def _match_one(self, v: str) -> bool:
        kind = self.kind
        if self.vr == "PN":
            v = v.upper()
        if kind == "single":
            if self.number is not None:
                try:
                    return float(v) == self.number
                except ValueError:
                    return False
            return v == self.values[0]
        if kind == "wildcard":
            return _wildcard_regex(self.values[0], fold=False).fullmatch(v) is not None
        if kind == "range":
            return bool(v) and (not self.low or v >= self.low) and (not self.high or v <= self.high)
        if kind == "list":
            return any(
                _wildcard_regex(q, fold=False).fullmatch(v) is not None
                if _has_wildcard(q)
                else q == v
                for q in self.values
            )
        return False

    def _match_sequence(self, stored: Any) -> bool:
        items = stored if isinstance(stored, list) else []
        assert self.item is not None
        if not [m for m in self.item if not m.universal]:
            return True
        return any(isinstance(it, dict) and match_attrs(self.item, it) for it in items)


def _stored_values(stored: Any, vr: str) -> list[str]:
    """The stored value(s) as normalized strings."""
    if isinstance(stored, dict) and "vr" in stored:  # a DICOM JSON element
        stored = stored.get("Value")
    if stored is None:
        return []
    seq = stored if isinstance(stored, list) else [stored]
    out = []
    for v in seq:
        if v is None:
            continue
        if isinstance(v, dict):  # PN in the JSON model
            v = "=".join(v.get(g, "") for g in ("Alphabetic", "Ideographic", "Phonetic"))
        if vr in NUMBER_VRS and not isinstance(v, str):
            out.append(repr(v) if isinstance(v, float) else str(v))
            continue
        if isinstance(v, str) and vr not in ("PN",) and "\\" in v:
            out.extend(normalize(x, vr) for x in v.split("\\"))
        else:
            out.append(normalize(v, vr))
    return [v for v in out if v != ""]


def match_attrs(matchers: SequenceABC[Matcher], attrs: dict[str, Any]) -> bool:
    """Do stored DICOM JSON attributes match every matcher?"""
    for m in matchers:
        if m.universal:
            continue
        elem = attrs.get(f"{m.tag:08X}")
        if m.kind == "sequence":
            if not m.match(elem.get("Value") if isinstance(elem, dict) else None):
                return False
        elif not m.match(elem):
            return False
    return True


def _range_bound(s: str, vr: str, high: bool, tag: int) -> str:
    s = s.strip()
    if not s:
        return ""
    if vr == "DA":
        s = date(s)
        if not (s.isdigit() and len(s) in (4, 6, 8)):
            raise QueryError(f"bad date {s!r} in a range", tag=tag)
        # a year or a month (``2024-``, ``-202403``) stands for its first or last day
        if len(s) == 4:
            s += "1231" if high else "0101"
        elif len(s) == 6:
            s += "31" if high else "01"
        if not ("01" <= s[4:6] <= "12" and "01" <= s[6:8] <= "31"):
            raise QueryError(f"bad date {s!r} in a range", tag=tag)
        return s
    if vr == "TM":
        s = time_of_day(s)
        head = s.partition(".")[0]
        if not (head.isdigit() and len(head) == 6):
            raise QueryError(f"bad time {s!r} in a range", tag=tag)
        return s
    # DT: YYYY[MM[DD[HH[MM[SS[.F]]]]]][&ZZXX]; compare the leading digits as text.
    if not s[:4].isdigit():
        raise QueryError(f"bad date-time {s!r} in a range", tag=tag)
    return s + ("\uffff" if high else "")


def matcher_for(tag: int, vr: str, value: Any) -> Matcher:
    """The :class:`Matcher` for one key of an identifier (its tag, VR and value)."""
    if vr == "SQ":
        items = list(value or [])
        if len(items) > 1:
            raise QueryError("sequence matching takes at most one item", tag=tag)
        sub = [matcher_for(e.tag, e.VR, e.value) for e in items[0]] if items else []
        if not items or all(m.universal for m in sub):
            return Matcher(tag, vr, "universal", item=sub)
        return Matcher(tag, vr, "sequence", item=sub)
    if hasattr(value, "dtype") or isinstance(value, bytes | bytearray):
        return Matcher(tag, vr, "universal")  # binary keys are only returned
    raw_values = value if isinstance(value, list | tuple) else [value]
    raw_values = [v for v in raw_values if v is not None]
    if vr in NUMBER_VRS:
        nums = []
        for v in raw_values:
            s = str(v).strip()
            if s in ("", "*"):
                continue
            try:
                nums.append(float(s))
            except ValueError:
                raise QueryError(f"bad number {s!r}", tag=tag) from None
        if not nums:
            return Matcher(tag, vr, "universal")
        if len(nums) == 1:
            return Matcher(tag, vr, "single", values=[str(nums[0])], number=nums[0])
        return Matcher(tag, vr, "list", values=[repr(n) for n in nums])
    strs = [str(v) for v in raw_values]
    if len(strs) == 1 and vr not in ("UI",) and "\\" in strs[0] and vr not in _TEXT_VRS:
        strs = strs[0].split("\\")
    strs = [s.strip(" \0") if vr not in _TEXT_VRS else s.rstrip(" \0") for s in strs]
    if vr == "UI" and len(strs) == 1 and "\\" in strs[0]:
        strs = strs[0].split("\\")
    nonempty = [s for s in strs if s != ""]
    if not nonempty or (len(nonempty) == 1 and nonempty[0] == "*"):
        return Matcher(tag, vr, "universal")
    if vr in DATETIME_VRS:
        if len(nonempty) > 1:
            raise QueryError("a date/time key takes one value or one range", tag=tag)
        s = nonempty[0]
        if _has_wildcard(s):
            raise QueryError(f"wildcards are not allowed in {vr} keys", tag=tag)
        if "-" in s:  # a range (DT offsets with "-" are not supported in ranges)
            low, _, high = s.partition("-")
            return Matcher(
                tag,
                vr,
                "range",
                low=_range_bound(low, vr, False, tag),
                high=_range_bound(high, vr, True, tag),
            )
        single = normalize(s, vr)
        return Matcher(tag, vr, "single", values=[single])
    if vr == "UI":
        for s in nonempty:
            if _has_wildcard(s):
                raise QueryError("wildcards are not allowed in UID keys", tag=tag)
        if len(nonempty) == 1:
            return Matcher(tag, vr, "single", values=nonempty)
        return Matcher(tag, vr, "list", values=nonempty)
    if vr == "PN":
        folded = [name_key(s) if not _has_wildcard(s) else s.strip().upper() for s in nonempty]
    else:
        folded = nonempty
    if len(folded) > 1:
        return Matcher(tag, vr, "list", values=folded)
    s = folded[0]
    if _has_wildcard(s):
        if set(s) == {"*"}:
            return Matcher(tag, vr, "universal")
        return Matcher(tag, vr, "wildcard", values=[s])
    return Matcher(tag, vr, "single", values=[s])
