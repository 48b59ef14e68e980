"""The data dictionary (PS3.6), generated into the Rust core from ``standard/``.

Keyword and tag lookups used by :class:`~dicomfast.Dataset`.  Repeating-group
tags such as (60xx,3000) resolve for every group they cover.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from . import _core


class DictEntry(NamedTuple):
    tag: int
    vr: str  # the VR to use when none is encoded (first alternative)
    vr_text: str  # as the standard prints it, e.g. "US or SS"
    vm: str
    keyword: str
    name: str
    retired: bool


_KEYWORDS: dict[str, int] | None = None


def _keywords() -> dict[str, int]:
    """``{keyword: tag}``, built on first use.  Built whole and then published: threads
    that ask at once (a batch's first files) each see either no table or all of it,
    never one being filled (where ``Rows`` could be missing for a moment)."""
    global _KEYWORDS
    table = _KEYWORDS
    if table is None:
        table = {}
        for tag, _vr, _vm, keyword, _name, _retired, _mask in _core.dictionary_entries():
            if keyword:
                table.setdefault(keyword, tag)
        _KEYWORDS = table
    return table


def tag_for_keyword(keyword: str) -> int | None:
    """The tag of a dictionary keyword, or None."""
    return _keywords().get(keyword)


@lru_cache(maxsize=8192)
def entry(tag: int) -> DictEntry | None:
    """The dictionary entry of ``tag`` (repeating groups included), or None."""
    found = _core.dictionary_lookup(tag)
    return DictEntry(*found) if found is not None else None


def keyword_for_tag(tag: int) -> str:
    e = entry(tag)
    return e.keyword if e is not None else ""


def is_private(tag: int) -> bool:
    group = tag >> 16
    return group % 2 == 1 and group > 0x0008 and group != 0xFFFF


def dictionary_vr(tag: int) -> str:
    """The VR to use for ``tag`` when none is given (PS3.5 §7.1.3 rules for implicit VR)."""
    if tag & 0xFFFF == 0:
        return "UL"
    if is_private(tag):
        return "LO" if 0x10 <= tag & 0xFFFF <= 0xFF else "UN"
    e = entry(tag)
    return e.vr if e is not None else "UN"
