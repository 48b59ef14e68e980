"""The Basic Application Level Confidentiality Profile and its options (PS3.15 E.1-E.3),
compiled from the generated Table E.1-1 (:mod:`._tables`) into one tag -> action dict.

Compiled actions (one letter each):

- ``X`` remove; ``Z`` zero-length value; ``D`` dummy value of the VR; ``U`` UID replaced
  by its keyed hash; ``K`` keep (sequences: their items are de-identified too);
  ``C`` clean (see :mod:`.engine`); ``R`` (X/Z/U*) keep the sequence and replace the
  UIDs inside it (its items are de-identified by the same table).

The standard's conditional actions need the IOD's attribute types, which are not in
``standard/`` (no module -> attribute table); the choice that keeps an IOD conformant
whatever the type is taken: X/Z -> Z, X/D, Z/D, X/Z/D -> D.

Where several selected options name an action for one attribute, C wins over K
(the more conservative of the two); an option's entry wins over the basic profile's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import DeidentificationError
from ._tables import ACTIONS, COLUMNS, MASKED, METHOD_CODES, PRIVATE

PROFILES = ("basic",)

#: Options of Table E.1-1 that dicomfast cannot honour (pixel and graphics content
#: would have to be inspected): asking for one is an error rather than a false claim.
NOT_IMPLEMENTED = {
    "clean-pixel-data": "burned-in text in pixel data is not detected or removed",
    "clean-recognizable-visual-features": "faces in pixel data are not detected or removed",
    "clean-graphics": "overlay bitmaps and graphic annotations cannot be cleaned automatically; "
    "without the option they are removed",
}
#: Every option of PS3.15 E.3 by our name (CID 7050), less the profile itself.
OPTIONS = tuple(o for o in METHOD_CODES if o not in PROFILES)
SUPPORTED_OPTIONS = tuple(o for o in OPTIONS if o not in NOT_IMPLEMENTED)

_BASIC = {"X": "X", "Z": "Z", "D": "D", "U": "U", "K": "K", "C": "C"}
_BASIC.update({"X/Z": "Z", "X/D": "D", "Z/D": "D", "X/Z/D": "D", "X/Z/U*": "R"})


@dataclass(frozen=True)
class CompiledProfile:
    """The profile with a set of options, as look-ups."""

    options: tuple[str, ...]
    actions: dict[int, str]  # exact tag -> action
    masked: tuple[tuple[int, int, str], ...]  # (mask, value, action) of repeating groups
    private: str  # action for (gggg,eeee), gggg odd
    overlay: str  # action for every element of an overlay group (60xx)

    def action(self, tag: int) -> str | None:
        """The action for ``tag``, or None where the table names no action (kept;
        sequences de-identified inside)."""
        a = self.actions.get(tag)
        if a is not None:
            return a
        group = tag >> 16
        if group & 1:
            return self.private
        if group & 0xFF01 == 0x6000:
            return self.overlay
        for mask, value, act in self.masked:
            if tag & mask == value:
                return act
        return None


def _resolve(cells: tuple[str, ...], columns: list[int]) -> str:
    chosen = {cells[i] for i in columns if cells[i]}
    if "C" in chosen:
        return "C"
    if "K" in chosen:
        return "K"
    return _BASIC[cells[0]]


def compile_profile(profile: str = "basic", options: Iterable[str] = ()) -> CompiledProfile:
    """Check ``profile`` and ``options`` (names as in :data:`OPTIONS`) and build the
    look-ups; raises :class:`DeidentificationError` for an unknown, unimplemented or
    contradictory choice."""
    if profile not in PROFILES:
        raise DeidentificationError(f"unknown profile {profile!r} (known: {', '.join(PROFILES)})")
    opts = tuple(dict.fromkeys(options))
    for o in opts:
        if o not in METHOD_CODES or o in PROFILES:
            raise DeidentificationError(
                f"unknown option {o!r} (known: {', '.join(SUPPORTED_OPTIONS)})"
            )
        if o in NOT_IMPLEMENTED:
            raise DeidentificationError(f"option {o!r} is not implemented: {NOT_IMPLEMENTED[o]}")
    if {"retain-longitudinal-full-dates", "retain-longitudinal-modified-dates"} <= set(opts):
        raise DeidentificationError(
            "retain-longitudinal-full-dates and retain-longitudinal-modified-dates exclude each other"
        )
    order = list(METHOD_CODES)
    opts = tuple(sorted(opts, key=order.index))
    columns = [COLUMNS.index(METHOD_CODES[o][0]) for o in opts]
    actions = {tag: _resolve(cells, columns) for tag, cells in ACTIONS.items()}
    masked = tuple((m, v, _resolve(cells, columns)) for m, v, _name, cells in MASKED)
    overlay = next(a for m, v, a in masked if v == 0x60003000)
    private = _resolve(PRIVATE, columns)
    if private == "C":
        # Retain Safe Private: only attributes known safe (PS3.15 E.3.10) may stay; no
        # list of them is available as standard data here, so none is kept.
        private = "X"
    return CompiledProfile(opts, actions, masked, private, overlay)


def method_codes(options: Iterable[str]) -> list[tuple[str, str, str]]:
    """(code value, scheme, meaning) of CID 7050 for the profile and ``options``."""
    return [METHOD_CODES[o][1:] for o in ("basic", *options)]
