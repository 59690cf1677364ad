"""Load a data folder into typed tables, validating everything on the way in.

:func:`load_data` is what ``soe validate``, ``soe run`` and a notebook run by hand call: it reads every
table (:mod:`soe_lib.io.sources`), types and validates it (:mod:`soe_lib.io.validation`), and returns
a :class:`~soe_lib.core.dataset.Dataset` with its :class:`~soe_lib.core.problems.ValidationReport`;
with ``strict=True`` (the default) it raises :class:`~soe_lib.core.problems.ValidationError` when
there are errors, after collecting all of them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..core.contract import TABLES, Table
from ..core.dataset import COMPACT_TABLES, SERIES_TABLES, Dataset, Source
from ..core.problems import Problem, ValidationError, ValidationReport, problem_for_rows
from ..core.weeks import parse_week, week_label
from .coverage import coverage_problems
from .sources import find_sources, header_problems, raw_header, read_source
from .validation import (
    Codes,
    check_references,
    check_values,
    column_dtype,
    duplicate_positions,
    key_codes,
    type_table,
)

__all__ = ["load_data"]


def _combine_duplicates(table: Table, typed: pd.DataFrame, label: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Sum transactional rows of one key (e.g. daily dates in one ISO week) into one weekly figure."""
    key = list(table.key)
    dup = duplicate_positions(typed, key)
    if not len(dup):
        return typed, []
    by = key + (["_series"] if "_series" in typed else [])  # the series key follows sku/location
    summed = typed.groupby(by, as_index=False, sort=False, dropna=False)["qty"].sum()
    groups = len(np.unique(key_codes(typed.iloc[dup], key)))
    note = problem_for_rows(
        "info",
        table.name,
        label,
        "qty",
        "summed per week",
        f"{len(dup)} rows share a {'/'.join(key)} and were summed into {groups} weekly figures",
        dup,
    )
    return summed, [note]


def _series_keys(positions: dict[str, np.ndarray] | None, rows: int, n_locations: int) -> np.ndarray:
    """Int series key per row: sku position x number of locations + location position."""
    if not positions:
        return np.zeros(rows, dtype=np.int64)
    return positions["sku"].astype(np.int64) * n_locations + positions["location"]


def _keys_as_categories(frame: pd.DataFrame, positions: dict[str, np.ndarray], known: dict[str, pd.Index]) -> None:
    """``sku`` and ``location`` as categories built from the positions validation found (no second pass
    over millions of strings), with the categories in sorted order so that sorting by them is by value."""
    for column, ref in (("sku", "products"), ("location", "locations")):
        cats = known[ref]
        order = np.argsort(cats.to_numpy(dtype=object))
        rank = np.empty(len(cats), dtype=np.int64)
        rank[order] = np.arange(len(cats))
        frame[column] = pd.Categorical.from_codes(rank[positions[column]], categories=cats[order])


def _empty(table: Table) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series(dtype=column_dtype(c)) for c in table.columns})


def _read_and_type(sources: dict[str, Source], report: ValidationReport) -> tuple[dict[str, pd.DataFrame], dict[str, Codes]]:
    """Every source read and typed; an unreadable file is named and the others go on."""
    typed: dict[str, pd.DataFrame] = {}
    codes: dict[str, Codes] = {}
    for name, source in sources.items():
        try:
            header = header_problems(source, raw_header(source))
            if header:  # which of two same-named columns holds the data cannot be guessed
                report.extend(header)
                continue
            raw, notes = read_source(source)
        except Exception as exc:  # unreadable file: name it and go on with the others
            report.add(Problem("error", name, source.label, "", "readable file", f"cannot read: {exc}"))
            continue
        report.extend(notes)
        frame, problems, codes[name] = type_table(TABLES[name], raw, source.label)
        report.extend(problems)
        typed[name] = frame
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
    for name, table in TABLES.items():
        frame = typed.get(name)
        if frame is None:
            frame = _empty(table)
        if report.ok and name in SERIES_TABLES:
            frame["_series"] = _series_keys(positions.get(name), len(frame), len(known["locations"]))
            if name in COMPACT_TABLES and positions.get(name):
                _keys_as_categories(frame, positions[name], known)
        if table.sum_duplicates and report.ok:
            frame, notes = _combine_duplicates(table, frame, sources[name].label if name in sources else name)
            report.extend(notes)
        tables[name] = frame.reset_index(drop=True)
    if report.ok:
        supply = tables["supply"]
        supply["eta_week"] = supply["eta_week"].fillna(supply["week"])
        supply["kind"] = supply["kind"].str.lower()
    return tables


def _drop_future_actuals(tables: dict[str, pd.DataFrame], run_week: pd.Timestamp, label: str, report: ValidationReport) -> None:
    """The run only knows the past: actuals at or after the run week are ignored, with a warning."""
    late = tables["actuals"]["week"] >= run_week
    if late.any():
        report.add(
            problem_for_rows(
                "warning", "actuals", label, "week", "before the run week",
                f"{int(late.sum())} rows at or after the run week {week_label(run_week)} are ignored",
                np.flatnonzero(late.to_numpy()),
            )
        )
        tables["actuals"] = tables["actuals"][~late].reset_index(drop=True)


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
    horizon_weeks: int = 13,
    strict: bool = True,
    week_check: str = "error",
) -> Dataset:
    """Read, type and validate every table of ``data_dir`` (see the module doc).

    ``week`` is the run week; default: the week after the last week of actuals. A run week given that
    is not that week is a problem of severity ``week_check`` ("error" for ``soe run``, "warning" when
    exploring by hand). Rows of actuals at or after the run week are dropped (with a warning): the
    run only knows the past.
    """
    report = ValidationReport()
    sources, problems = find_sources(Path(data_dir))
    report.extend(problems)
    typed, codes = _read_and_type(sources, report)
    known, positions = _check_rules(typed, codes, sources, report)
    del codes  # the distinct-value codes have done their job: free them before the tables grow
    tables = _assemble(typed, known, positions, sources, report)
    run_week = pd.NaT
    if report.ok:
        try:
            run_week = _resolve_week(week, tables["actuals"])
        except ValueError as exc:
            report.add(Problem("error", "", "run parameters", "week", "ISO week or date", str(exc)))
        else:
            report.extend(_week_follows_actuals(run_week, tables["actuals"], week_check, sources["actuals"].label, tables.get("stockouts")))
    if report.ok:
        _drop_future_actuals(tables, run_week, sources["actuals"].label, report)
    dataset = Dataset(Path(data_dir), tables, sources, run_week, report)
    if report.ok:
        report.extend(coverage_problems(dataset, horizon_weeks))
    if strict and not report.ok:
        raise ValidationError(report)
    return dataset


def _resolve_week(week: str | pd.Timestamp | None, actuals: pd.DataFrame) -> pd.Timestamp:
    if week is not None and not (isinstance(week, str) and not week.strip()):
        return parse_week(week)
    if actuals.empty:
        raise ValueError("no run week given and no actuals to infer it from")
    return actuals["week"].max() + pd.Timedelta(days=7)
