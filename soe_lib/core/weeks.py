"""ISO weeks: parsing, labels and arithmetic.

Inside the workbench a week is the ``Timestamp`` of its ISO Monday (``datetime64[ns]``), so that
week arithmetic is plain date arithmetic: ``delay_weeks = (eta - week).days // 7``. Tables written
for people carry the ISO label ``"2026-W48"`` instead.

Input accepts an ISO week (``2026-W48``, ``2026W48``, ``2026-W48-3``) or any date pandas can read
(``2026-11-25``, ``11/25/2026``, an Excel date); a date is normalised to the Monday of its ISO week.
**Dates with slashes** are read by one rule per column (:func:`slashed_order`): the column's own dates
decide whether it is month-first (``11/25/2026``: a second number above 12) or day-first
(``25/11/2026``: a first number above 12); a column whose slashed dates all fit both (``03/11/2025``:
11 March or 3 November?) is ambiguous, and one that holds both kinds is mixed: both are refused
(write ISO dates, ``2025-11-03``, or ISO weeks).
Text is parsed once per distinct value, so a 15-million-row column with 170 distinct weeks costs
170 parses plus one vectorised ``map``.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

__all__ = [
    "ISO_WEEK",
    "due_week",
    "slashed_order",
    "parse_week",
    "parse_weeks",
    "week_label",
    "week_labels",
    "weeks_between",
]

ISO_WEEK = re.compile(r"^\s*(\d{4})-?W(\d{1,2})(?:-?([1-7]))?\s*$", re.IGNORECASE)


def _monday(value: dt.date | pd.Timestamp) -> pd.Timestamp:
    ts = pd.Timestamp(value).normalize()
    return ts - pd.Timedelta(days=ts.weekday())


def due_week(meeting_week: str, due: str) -> str:
    """A decision's due week as its ISO label (``YYYY-Www``), or ``ValueError`` saying the rule: an ISO week (not a
    date or words such as "next friday": overdue tracking counts weeks) that exists, at or after ``meeting_week``."""
    text = str(due).strip()
    try:
        monday = parse_week(text)
    except ValueError:
        monday = None
    if monday is None or week_label(monday) != text.upper():  # a date or "2026-W5" reads as a week, but is not written as one
        raise ValueError(f"the due week must be an ISO week such as {week_label(parse_week(meeting_week) + pd.Timedelta(weeks=1))}, "
                         f"not {text!r}")
    if monday < parse_week(meeting_week):
        raise ValueError(f"the due week {week_label(monday)} is before the meeting week {week_label(parse_week(meeting_week))}: "
                         "a decision is due at or after the meeting that takes it")
    return week_label(monday)


SLASHED = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})(?:\s.*)?$")


def slashed_order(texts) -> str | None:
    """How a column writes its slashed dates (see the module doc): ``"month"``, ``"day"``, ``"ambiguous"``
    (every one fits both), ``"mixed"`` (some only fit one, some only the other), or None (none slashed)."""
    day_first = month_first = slashed = False
    for text in texts:
        match = SLASHED.match(str(text)) if isinstance(text, str) else None
        if not match:
            continue
        slashed = True
        a, b = int(match.group(1)), int(match.group(2))
        day_first |= a > 12
        month_first |= b > 12
    if not slashed:
        return None
    if day_first and month_first:
        return "mixed"
    return "day" if day_first else "month" if month_first else "ambiguous"


def _parse_slashed(text: str, order: str) -> pd.Timestamp | None:
    match = SLASHED.match(text)
    a, b, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
    year = year + 2000 if year < 100 else year
    day, month = (a, b) if order == "day" else (b, a)
    try:
        return _monday(dt.date(year, month, day))
    except ValueError:
        return None


def _parse_one(value: object, slashed: str | None = None) -> pd.Timestamp | None:
    """One value to its ISO Monday, or None when it is not a week or a date (a slashed date: by the
    column's order ``slashed``; None when its order is unknown, ambiguous or mixed)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date, np.datetime64)):
        ts = pd.Timestamp(value)
        return None if pd.isna(ts) else _monday(ts)
    text = str(value).strip()
    if not text:
        return None
    if SLASHED.match(text):
        return _parse_slashed(text, slashed) if slashed in ("day", "month") else None
    match = ISO_WEEK.match(text)
    if match:
        year, week = int(match.group(1)), int(match.group(2))
        try:
            return pd.Timestamp(dt.date.fromisocalendar(year, week, 1))
        except ValueError:  # week 53 in a 52-week year, week 0
            return None
    try:
        ts = pd.to_datetime(text, format="mixed")
    except (ValueError, OverflowError, TypeError):
        return None
    return None if pd.isna(ts) else _monday(ts)


def parse_week(value: object) -> pd.Timestamp:
    """Parse one ISO week or date to the Monday of its ISO week; raise ``ValueError`` if unreadable (a
    slashed date alone is read month-first when it can only be that, day-first likewise, else refused)."""
    ts = _parse_one(value, slashed_order([value]))
    if ts is None:
        raise ValueError(f"not an ISO week (e.g. 2026-W48) or a date: {value!r}")
    return ts.as_unit("ns")  # as the weekly tables' weeks: ranges of weeks made from it are alike wherever it was read


def parse_weeks(values: pd.Series) -> pd.Series:
    """Vectorised :func:`parse_week`: each value to its ISO Monday, ``NaT`` where it cannot be read.

    Blank input stays ``NaT`` too; callers decide whether blank is allowed (``eta_week`` may be blank).
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        ts = pd.to_datetime(values)
        return (ts.dt.normalize() - pd.to_timedelta(ts.dt.day_of_week, unit="D")).astype("datetime64[ns]")
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    order = slashed_order(uniques)
    # one extra NaT at the end: code -1 (missing) picks it
    parsed = pd.DatetimeIndex([_parse_one(u, order) for u in uniques] + [None], dtype="datetime64[ns]").to_numpy()
    return pd.Series(parsed[codes], index=values.index, name=values.name)


def week_label(week: pd.Timestamp | dt.date) -> str:
    """ISO label of a week, ``YYYY-Www`` (the ISO year, which differs from the calendar year near New Year)."""
    year, number, _ = pd.Timestamp(week).isocalendar()
    return f"{year}-W{number:02d}"


def week_labels(weeks: pd.Series) -> pd.Series:
    """Vectorised :func:`week_label` (one label per distinct week, then a map)."""
    import pyarrow as pa

    codes, uniques = pd.factorize(weeks, use_na_sentinel=True)
    # the distinct labels as a dictionary, its codes taken in Arrow: no Python string per row (13M rows a table at 1M)
    labels = pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), pa.array([week_label(u) for u in uniques], type=pa.string()))
    return pd.Series(pd.array(labels.cast(pa.string()), dtype=pd.StringDtype()), index=weeks.index, name=weeks.name)


def weeks_between(later: pd.Series | pd.Timestamp, earlier: pd.Series | pd.Timestamp) -> pd.Series | int:
    """Whole weeks from ``earlier`` to ``later`` (both ISO Mondays): ``(later - earlier).days // 7``.

    A Series comes back as ``int64``, or as nullable ``Int64`` when a week is missing.
    """
    delta = later - earlier
    if isinstance(delta, pd.Series):
        weeks = delta.dt.days // 7
        return weeks.astype("Int64") if weeks.isna().any() else weeks.astype("int64")
    return int(delta.days // 7)
