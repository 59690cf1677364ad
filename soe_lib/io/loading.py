"""Load a data folder into typed tables, validating everything on the way in.

:func:`load_data` is what ``soe validate``, ``soe run`` and a notebook run by hand call: it reads every
table (:mod:`soe_lib.io.sources`), types and validates it (:mod:`soe_lib.io.validation`), and returns
a :class:`~soe_lib.core.dataset.Dataset` with its :class:`~soe_lib.core.problems.ValidationReport`;
with ``strict=True`` (the default) it raises :class:`~soe_lib.core.problems.ValidationError` when
there are errors, after collecting all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.contract import TABLES, Table
from ..core.dataset import COMPACT_TABLES, SERIES_TABLES, Dataset, LazyTables, Source
from ..core.params import HORIZON_WEEKS
from ..core.problems import Problem, ValidationError, ValidationReport, problem_for_rows
from ..core.weeks import parse_week, week_label
from .coverage import coverage_problems
from .parts import (
    PartReport,
    combine_duplicates,
    drop_future,
    finish_supply,
    key_ranks,
    keys_as_categories,
    merge_reports,
    read_rows,
    read_typed,
    series_keys,
    share_known,
    validate_part,
)
from .sources import find_sources, parquet_parts
from .validation import (
    Codes,
    check_references,
    check_values,
    column_dtype,
)

__all__ = ["PartRunner", "load_data", "local_parts"]


@dataclass
class PartRunner:
    """How the parts of a partitioned table are validated: ``map(fn, calls, common)`` runs
    ``fn(*call, **common)`` for every call and returns the results in order (a Dask client's map, or a
    plain loop), and the folder the typed parts are written to (``<table>.parquet/part-*.parquet``)."""

    map: Callable[[Callable[..., Any], list[tuple], dict[str, Any]], list[Any]]
    folder: Path


def local_parts(folder: Path) -> PartRunner:
    """Parts validated one after the other in this process."""
    return PartRunner(lambda fn, calls, common: [fn(*call, **common) for call in calls], Path(folder))


def _empty(table: Table) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series(dtype=column_dtype(c)) for c in table.columns})


def _read_and_type(sources: dict[str, Source], report: ValidationReport) -> tuple[dict[str, pd.DataFrame], dict[str, Codes]]:
    """Every source read and typed; an unreadable file is named and the others go on."""
    typed: dict[str, pd.DataFrame] = {}
    codes: dict[str, Codes] = {}
    for name, source in sources.items():
        frame, found, problems = read_typed(source, source.label)
        report.extend(problems)
        if frame is not None:
            typed[name], codes[name] = frame, found
    return typed, codes


def _check_rules(
    typed: dict[str, pd.DataFrame], codes: dict[str, Codes], sources: dict[str, Source], report: ValidationReport
) -> tuple[dict[str, pd.Index], dict[str, dict[str, np.ndarray]]]:
    """Value rules, unique keys and references of every table; returns the known codes and each
    row's positions in products / locations (reused for the series keys)."""
    # distinct codes in file order: when the tables are valid (unique, no blanks) a position here is
    # the row of products / locations, which Dataset.series() relies on
    known = {}
    if "products" in typed:
        known["products"] = pd.Index(typed["products"]["sku"].dropna().unique())
    if "locations" in typed:
        known["locations"] = pd.Index(typed["locations"]["location"].dropna().unique())
    positions: dict[str, dict[str, np.ndarray]] = {}
    for name, frame in typed.items():
        report.extend(check_values(TABLES[name], frame, sources[name].label, codes[name]))
        positions[name], problems = check_references(TABLES[name], frame, sources[name].label, known, codes[name])
        report.extend(problems)
    return known, positions


def _assemble(
    typed: dict[str, pd.DataFrame], known: dict[str, pd.Index], positions: dict, sources: dict[str, Source], report: ValidationReport
) -> dict[str, pd.DataFrame]:
    """One frame per contract table (empty when not supplied), with series keys and summed duplicates."""
    tables: dict[str, pd.DataFrame] = {}
    ranks = key_ranks(known) if report.ok and any(positions.get(n) for n in COMPACT_TABLES) else None  # once, for every table
    for name, table in TABLES.items():
        frame = typed.get(name)
        if frame is None:
            frame = _empty(table)
        if report.ok and name in SERIES_TABLES:
            frame["_series"] = series_keys(positions.get(name), len(frame), len(known["locations"]))
            if name in COMPACT_TABLES and positions.get(name):
                keys_as_categories(frame, positions[name], known, ranks)
        if table.sum_duplicates and report.ok:
            frame, notes = combine_duplicates(table, frame, sources[name].label if name in sources else name)
            report.extend(notes)
        tables[name] = frame.reset_index(drop=True)
    if report.ok and "supply" in typed:
        tables["supply"] = finish_supply(tables["supply"])
    return tables


def _drop_future_actuals(tables: dict[str, pd.DataFrame], run_week: pd.Timestamp, label: str, report: ValidationReport) -> None:
    """The run only knows the past: actuals at or after the run week are ignored, with a warning."""
    tables["actuals"], notes = drop_future(tables["actuals"], run_week, label)
    report.extend(notes)


def _week_follows_actuals(run_week: pd.Timestamp, actuals: pd.DataFrame, severity: str, label: str,
                          stockouts: pd.DataFrame | None = None) -> list[Problem]:
    """The run week must be the week after the last week of actuals: a gap would count every item's
    missing weeks as zero demand, and an earlier week would quietly drop the actuals after it. (A week
    in ``stockouts`` counts as reported: nothing was sold because nothing was there.)"""
    if actuals.empty:
        return []
    last = actuals["week"].max()
    if stockouts is not None and len(stockouts) and "week" in stockouts:
        last = max(last, stockouts["week"].max())
    expected = last + pd.Timedelta(weeks=1)
    if run_week == expected:
        return []
    ahead = (run_week - expected).days // 7
    if ahead > 0:
        why = (f"the run week {week_label(run_week)} is {ahead + 1} weeks after the last week of actuals {week_label(last)}: "
               f"{week_label(expected)} to {week_label(run_week - pd.Timedelta(weeks=1))} have no actuals and would count as zero demand")
    else:
        why = (f"actuals reach {week_label(last)}, at or after the run week {week_label(run_week)}: the run would ignore them "
               f"(to re-run a past week, use that week's extract, e.g. outputs/{week_label(run_week)}/inputs)")
    hint = "; run it anyway with --any-week" if severity == "error" else ""
    return [Problem(severity, "actuals", label, "week", "run week follows the actuals", why + hint)]


def load_data(
    data_dir: str | Path,
    week: str | pd.Timestamp | None = None,
    horizon_weeks: int = HORIZON_WEEKS,
    strict: bool = True,
    week_check: str = "error",
    parts: PartRunner | None = None,
) -> Dataset:
    """Read, type and validate every table of ``data_dir`` (see the module doc).

    ``week`` is the run week; default: the week after the last week of actuals. A run week given that
    is not that week is a problem of severity ``week_check`` ("error" for ``soe run``, "warning" when
    exploring by hand). Rows of actuals at or after the run week are dropped (with a warning): the
    run only knows the past. ``parts``: the actuals and the demand plan, when given as folders of
    Parquet parts, are validated part by part with it and written to its folder, never held here
    (:mod:`soe_lib.io.parts`); the Dataset then reads them from there when a step asks.
    """
    report = ValidationReport()
    sources, problems = find_sources(Path(data_dir))
    report.extend(problems)
    # the weekly tables given as folders are validated part by part (the others are small)
    split = {n: s for n, s in sources.items() if parts is not None and n in SERIES_TABLES and s.path.is_dir()}
    whole = {n: s for n, s in sources.items() if n not in split}
    typed, codes = _read_and_type(whole, report)
    known, positions = _check_rules(typed, codes, whole, report)
    del codes  # the distinct-value codes have done their job: free them before the tables grow
    tables = _assemble(typed, known, positions, sources, report)
    if split and report.ok:
        profiles, facts = _validate_parts(split, known, week or _after_last(tables["actuals"]), horizon_weeks, parts, report)
    else:
        profiles, facts = {}, None
    run_week = pd.NaT
    if report.ok:
        actual_weeks = _weeks_frame(profiles["actuals"]) if "actuals" in split else tables["actuals"]
        if week is None or (isinstance(week, str) and not week.strip()):
            weekly = profiles["actuals"]["weekly"] if "actuals" in split else None
            report.extend(_future_dated(actual_weeks, sources["actuals"].label, weekly))
    if report.ok:
        try:
            run_week = _resolve_week(week, actual_weeks)
        except ValueError as exc:
            report.add(Problem("error", "", "run parameters", "week", "ISO week or date", str(exc)))
        else:
            report.extend(_week_follows_actuals(run_week, actual_weeks, week_check, sources["actuals"].label, tables.get("stockouts")))
    if report.ok and "actuals" not in split:
        _drop_future_actuals(tables, run_week, sources["actuals"].label, report)
    dataset = _dataset(Path(data_dir), tables, sources, run_week, report, split, parts, profiles, facts)
    if report.ok:
        report.extend(coverage_problems(dataset, horizon_weeks))
    if strict and not report.ok:
        raise ValidationError(report)
    return dataset


FULL_WEEK_SHARE = 0.1  # a week with fewer rows than this share of a usual recent week is not a week of actuals


def last_full_week(weekly_rows: pd.Series) -> pd.Timestamp | None:
    """The data's last week of actuals (rows per week given, by week): later weeks are dated in the future
    (an extract's typo, a pre-booked delivery), not the data's week. Two signs, on the weeks in order:

    - a stretch of weeks after a week with no rows at all, none of which holds the rows of a usual week
      (the median of the recent weeks): whatever the size of the data;
    - at the end, weeks holding fewer than :data:`FULL_WEEK_SHARE` of a usual week's rows (at 120 items,
      two rows)."""
    counts = weekly_rows.groupby(level=0).sum().sort_index()
    counts = counts[counts > 0]
    if counts.empty:
        return None
    typical = float(np.median(counts.to_numpy()[-26:]))
    weeks = pd.DatetimeIndex(counts.index)
    gap = np.r_[False, np.diff(weeks.asi8) > 7 * 86_400 * 10**9]  # a week without rows before this one
    stretch = np.cumsum(gap)
    usual = pd.Series(counts.to_numpy() >= typical).groupby(stretch).transform("any").to_numpy()
    keep = (stretch == 0) | usual  # a later stretch counts only when some week of it is a usual week
    cut = np.flatnonzero(~keep)
    last = len(counts) - 1 if not len(cut) else int(cut[0]) - 1
    full = np.flatnonzero(counts.to_numpy()[: last + 1] >= max(1.0, FULL_WEEK_SHARE * typical))
    return weeks[full[-1]] if len(full) else weeks[last]


def _future_dated(actuals: pd.DataFrame, label: str, weekly: pd.Series | None = None) -> list[Problem]:
    """Rows of actuals after the data's last full week (:func:`last_full_week`) would move the run week
    past weeks every other item has no actuals for (their demand counted as zero): an error naming them.
    ``weekly``: units per week of actuals given in parts (their rows are not held here)."""
    if actuals.empty:
        return []
    weeks = pd.to_datetime(actuals["week"])
    from_parts = weekly is not None
    last = last_full_week(weekly if from_parts else weeks.value_counts())
    late = (weeks > last).to_numpy()
    if last is None or not late.any():
        return []
    what = (f"dated after {week_label(last)}, the last week most items have actuals for; they would make the run week "
            f"{week_label(weeks.max() + pd.Timedelta(weeks=1))} and count every other item's weeks since as zero demand: correct the dates, "
            f"or run a later week on purpose with --week")
    if from_parts:
        return [Problem("error", "actuals", label, "week", "not in the future", f"weeks {', '.join(sorted({week_label(w) for w in weeks[late]}))} are " + what)]
    return [problem_for_rows("error", "actuals", label, "week", "not in the future", f"{int(late.sum())} rows are " + what, np.flatnonzero(late),
                             actuals["week"].map(week_label) if len(actuals) else None)]


def _after_last(actuals: pd.DataFrame) -> pd.Timestamp | None:
    """The week after the last week of actuals held here (None when they are not, or empty)."""
    return actuals["week"].max() + pd.Timedelta(weeks=1) if len(actuals) else None


def _weeks_frame(profile: dict) -> pd.DataFrame:
    """The weeks a table given in parts has rows in (what resolving the run week needs of the actuals)."""
    return pd.DataFrame({"week": pd.DatetimeIndex(profile["weekly"].index)})


def _validate_parts(
    split: dict[str, Source], known: dict[str, pd.Index], week: str | pd.Timestamp | None, horizon_weeks: int, parts: PartRunner,
    report: ValidationReport,
) -> tuple[dict[str, dict], pd.DataFrame | None]:
    """Validate each part of the tables in ``split`` with ``parts`` (actuals first: without a run week
    given, the week after their last week is the run week the plan's horizon counts from). Returns each
    table's profile and the per SKU-location facts (first actual week, plan weeks in the horizon)."""
    try:
        run_week = None if week is None or (isinstance(week, str) and not week.strip()) else parse_week(week)
    except ValueError:
        run_week = None  # said by the run-week check after the parts
    profiles, facts = {}, []
    shared = share_known(parts.folder, known, key_ranks(known))  # read once by each process that validates parts
    names = sorted(split, key=lambda n: n != "actuals")
    # one batch of parts for every table that does not need the run week (no worker idles between tables); the plan
    # (its weeks in the horizon) after the actuals when the run week is the week after their last
    first = [n for n in names if n != "demand_plan"] if run_week is None else names
    for batch in (first, [n for n in names if n not in first]):
        calls = []
        for name in batch:
            folder = parts.folder / f"{name}.parquet"
            folder.mkdir(parents=True, exist_ok=True)
            calls += [(name, str(p), str(folder / p.name)) for p in parquet_parts(split[name].path)]
        common = {"known": shared, "run_week": run_week, "horizon_weeks": horizon_weeks}
        done: list[PartReport] = parts.map(validate_part, calls, common) if calls else []
        for name in batch:
            reports = [r for r in done if r.table == name]  # in part order
            for r in reports:
                report.extend(r.problems)
            profiles[name] = merge_reports(reports)
            if name == "actuals" and run_week is None and len(profiles[name]["weekly"]):
                run_week = profiles[name]["weekly"].index.max() + pd.Timedelta(weeks=1)
            facts.append(_part_facts(name, reports))
    return profiles, pd.concat(facts, axis=1) if facts else None


def _part_facts(name: str, reports: list[PartReport]) -> pd.DataFrame:
    """Per SKU-location facts of one table from its parts (a SKU-location in several parts: combined)."""
    frame = pd.concat([r.series for r in reports if len(r.series)], ignore_index=True) if reports else pd.DataFrame()
    if frame.empty:
        return pd.DataFrame(index=pd.Index([], name="_series"))
    by = frame.groupby("_series")
    if name == "actuals":
        return pd.DataFrame({"first_actual_week": by["first_week"].min()})
    if name != "demand_plan":  # no facts: only the SKU-locations it adds to the run's series (the index)
        return pd.DataFrame(index=pd.Index(np.unique(frame["_series"].to_numpy()), name="_series"))
    out = pd.DataFrame({"has_plan": by.size() > 0})
    if "weeks_in_horizon" in frame:
        out["plan_weeks_in_horizon"] = by["weeks_in_horizon"].sum()
    return out


def _dataset(
    data_dir: Path, tables: dict[str, pd.DataFrame], sources: dict[str, Source], run_week: pd.Timestamp, report: ValidationReport,
    split: dict[str, Source], parts: PartRunner | None, profiles: dict[str, dict], facts: pd.DataFrame | None,
) -> Dataset:
    """The Dataset: the tables in memory, and those validated in parts read from the parts' folder when used."""
    if not split or parts is None:
        return Dataset(data_dir, tables, sources, run_week, report)
    stored = {name: parts.folder / f"{name}.parquet" for name in split}

    def read(name: str, weeks: tuple[pd.Timestamp, pd.Timestamp] | None, columns: list[str] | None) -> pd.DataFrame:
        if name not in stored:
            frame = tables[name]
            return frame if columns is None else frame[columns]
        return read_rows(stored[name], weeks, columns)

    lazy = LazyTables(list(TABLES), read)
    for name, frame in tables.items():
        if name not in stored:
            lazy[name] = frame
    return Dataset(data_dir, lazy, sources, run_week, report, stored=stored, profiles=profiles, facts=facts)


def _resolve_week(week: str | pd.Timestamp | None, actuals: pd.DataFrame) -> pd.Timestamp:
    if week is not None and not (isinstance(week, str) and not week.strip()):
        return parse_week(week)
    if actuals.empty:
        raise ValueError("no run week given and no actuals to infer it from")
    return actuals["week"].max() + pd.Timedelta(days=7)
