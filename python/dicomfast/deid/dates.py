"""Dates and date-times moved by a whole number of days (time of day, fraction and
UTC offset kept): Retain Longitudinal Temporal Information with Modified Dates."""

from __future__ import annotations

import datetime as dt


def shift_da(value: str, days: int) -> str | None:
    """``YYYYMMDD`` moved by ``days``; None if it is not a whole, valid date (range
    matching and partial dates do not occur in stored instances)."""
    v = value.strip()
    if len(v) != 8 or not v.isdigit():
        return None
    try:
        d = dt.date(int(v[:4]), int(v[4:6]), int(v[6:]))
        return (d + dt.timedelta(days=days)).strftime("%Y%m%d")
    except (ValueError, OverflowError):
        return None


def shift_dt(value: str, days: int) -> str | None:
    """A DT value with its date part moved by ``days`` and the rest kept; None if it
    does not start with a whole date."""
    v = value.strip()
    new = shift_da(v[:8], days)
    return None if new is None else new + v[8:]
