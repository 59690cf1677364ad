"""A weekly table given as a folder of Parquet parts, validated part by part (on a cluster, or here).

At 1M SKU-locations the actuals and the demand plan are 130-180M rows each: no one process should
type and check them whole. :func:`validate_part` does for one part what :func:`~soe_lib.io.loading.load_data`
does for a whole table (type, value rules, references against products and locations, the int series
key, keys as categories, duplicates summed, actuals at or after a given run week dropped) and writes the
typed part into the run's snapshot; it returns only what the run needs to know of it
(:class:`PartReport`: the findings, named by the part's file and its rows; a profile for the
data-health report; per SKU-location facts for the coverage checks). The Dask engine maps it over the
parts (:func:`soe_lib.run.distributed.load_on_cluster`).

The helpers that give a typed table its snapshot form live here and serve both paths.
"""

from __future__ import annotations

import functools
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.contract import TABLES, Table
from ..core.dataset import COMPACT_TABLES, Source
from ..core.matrix import WEEK_NS
from ..core.params import HORIZON_WEEKS
from ..core.problems import Problem, problem_for_rows
from ..core.weeks import week_label
from .sources import header_problems, raw_header, read_source
from .validation import Codes, check_references, check_values, duplicate_positions, key_codes, type_table

__all__ = ["PartReport", "combine_duplicates", "drop_future", "key_ranks", "keys_as_categories", "share_known", "shared_known", "merge_reports", "read_rows", "read_typed", "series_keys",
           "finish_supply", "table_profile", "validate_part", "weekly_units"]

# the tables whose parts are written in series order (a Dask part's range read skips the other row
# groups); supply keeps its rows' order (its lines are numbered by position), inventory has one row per series
SORTED_PARTS = ("actuals", "demand_plan", "open_orders")
# rows per row group in a written part: a range of series skips the others' groups; not smaller, because every group
# carries the whole dictionary of the SKU column (333k SKUs at 1M): at 2^18 rows a 9M-row part of the plan took 1.5 s
# to write and 56 MB, at 2^20 0.7 s and 20 MB
ROW_GROUP = 1 << 20


def combine_duplicates(table: Table, typed: pd.DataFrame, label: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Sum transactional rows of one key (e.g. daily dates in one ISO week) into one weekly figure."""
    # rows that differ only in qty are one figure; order lines (order_id, customer, ...) stay lines
    key = list(table.key) + [c.name for c in table.columns if not c.required and c.name in typed and c.name not in table.key]
    dup = duplicate_positions(typed, key)
    if not len(dup):
        return typed, []
    by = key + (["_series"] if "_series" in typed else [])  # the series key follows sku/location
    summed = typed.groupby(by, as_index=False, sort=False, dropna=False, observed=True)["qty"].sum()
    groups = len(np.unique(key_codes(typed.iloc[dup], key)))
    note = problem_for_rows(
        "info", table.name, label, "qty", "summed per week",
        f"{len(dup)} rows share a {'/'.join(key)} and were summed into {groups} weekly figures", dup,
    )
    return summed, [note]


def series_keys(positions: dict[str, np.ndarray] | None, rows: int, n_locations: int) -> np.ndarray:
    """Int series key per row: sku position x number of locations + location position."""
    if not positions:
        return np.zeros(rows, dtype=np.int64)
    return positions["sku"].astype(np.int64) * n_locations + positions["location"]


def key_ranks(known: dict[str, pd.Index]) -> dict[str, np.ndarray]:
    """Each known SKU's and location's rank in sorted order (``{"sku": ..., "location": ...}``): computed once
    for a run and given to every part (sorting 333k SKUs took 0.2-0.3 s in each of a 1M run's 100 parts)."""
    out = {}
    for column, ref in (("sku", "products"), ("location", "locations")):
        order = np.argsort(known[ref].to_numpy(dtype=object))
        out[column] = np.empty(len(order), dtype=np.int32)
        out[column][order] = np.arange(len(order), dtype=np.int32)
    return out


def key_types(known: dict[str, pd.Index], ranks: dict[str, np.ndarray]) -> dict[str, pd.CategoricalDtype]:
    """The category type of ``sku`` and ``location`` in the typed parts: the known keys in sorted order (built once;
    a type built per part checked its 333k SKUs for repeats each time)."""
    out = {}
    for column, ref in (("sku", "products"), ("location", "locations")):
        rank = ranks[column]
        order = np.empty_like(rank)
        order[rank] = np.arange(len(rank), dtype=rank.dtype)
        out[column] = pd.CategoricalDtype(known[ref][order])
    return out


def keys_as_categories(frame: pd.DataFrame, positions: dict[str, np.ndarray], known: dict[str, pd.Index],
                       ranks: dict[str, np.ndarray] | None = None, types: dict[str, pd.CategoricalDtype] | None = None) -> None:
    """``sku`` and ``location`` as categories built from the positions validation found (no second pass
    over millions of strings), with the categories in sorted order so that sorting by them is by value
    (every part of a table gets the same categories: the parts read back as one table). ``ranks``:
    :func:`key_ranks` of ``known``, and ``types``, :func:`key_types`, when the caller has them."""
    ranks = ranks or key_ranks(known)
    types = types or key_types(known, ranks)
    for column in ("sku", "location"):
        frame[column] = pd.Categorical.from_codes(ranks[column][positions[column]], dtype=types[column])


KNOWN_FILE = "known-keys.pickle"  # in the folder of the typed parts: what every part's validation shares


def share_known(folder: Path, known: dict[str, pd.Index], ranks: dict[str, np.ndarray]) -> str:
    """``known`` and its ``ranks`` written once to ``folder`` for the parts' validations (:func:`shared_known`): sent
    with each of a 1M run's 100 tasks, they were pickled, sent and unpickled 100 times, and each copy built its
    hash table of 333k SKUs again."""
    path = Path(folder) / KNOWN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump((known, ranks), f, protocol=pickle.HIGHEST_PROTOCOL)
    return str(path)


def shared_known(path: str) -> tuple[dict[str, pd.Index], dict[str, np.ndarray], dict[str, pd.CategoricalDtype]]:
    """(known, ranks, :func:`key_types`) of the file :func:`share_known` wrote, read once per process and file (the
    same objects for every part a worker validates: their hash tables are built once)."""
    stat = os.stat(path)
    return _read_known(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=2)
def _read_known(path: str, _mtime: int, _size: int) -> tuple[dict[str, pd.Index], dict[str, np.ndarray], dict[str, pd.CategoricalDtype]]:
    with open(path, "rb") as f:
        known, ranks = pickle.load(f)  # noqa: S301 - written by this run's own process a moment ago
    return known, ranks, key_types(known, ranks)


@dataclass
class PartReport:
    """What a validated part tells the run (the rows themselves stay in the written part)."""

    table: str
    file: str  # how findings name the part: actuals/part-00003.parquet
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0
    weeks: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))  # units per week (data health)
    skus: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # sku positions present
    locations: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    series: pd.DataFrame = field(default_factory=pd.DataFrame)  # _series, first_week, weeks_in_horizon


def read_typed(source: Source, label: str) -> tuple[pd.DataFrame | None, Codes, list[Problem]]:
    """One source read and typed: (frame, or None when its header is ambiguous or it cannot be read;
    the codes of its text and week columns; the findings). An unreadable file is named, never raised."""
    table = TABLES[source.table]
    try:
        header = header_problems(source, raw_header(source))
        if header:  # which of two same-named columns holds the data cannot be guessed
            return None, {}, header
        raw, notes = read_source(source)
    except Exception as exc:  # unreadable (or a damaged part): name it and go on with the others
        return None, {}, [Problem("error", table.name, label, "", "readable file", f"cannot read: {exc}")]
    frame, problems, codes = type_table(table, raw, label, key_codes_only=source.table in COMPACT_TABLES)
    return frame, codes, notes + problems


def _typed(source: Source, label: str, known: dict[str, pd.Index]) -> tuple[pd.DataFrame | None, dict, list[Problem]]:
    """The part read, typed and checked: (frame or None when unreadable, positions, findings)."""
    frame, codes, problems = read_typed(source, label)
    if frame is None:
        return None, {}, problems
    table = TABLES[source.table]
    positions, missing = check_references(table, frame, label, known, codes)
    return frame, positions, problems + check_values(table, frame, label, codes) + missing


def drop_future(frame: pd.DataFrame, run_week: pd.Timestamp, label: str) -> tuple[pd.DataFrame, list[Problem]]:
    """The run only knows the past: actuals at or after the run week are ignored, with a warning."""
    late = (frame["week"] >= run_week).to_numpy()
    if not late.any():
        return frame, []
    note = problem_for_rows("warning", "actuals", label, "week", "before the run week",
                            f"{int(late.sum())} rows at or after the run week {week_label(run_week)} are ignored", np.flatnonzero(late))
    return frame[~late].reset_index(drop=True), [note]


def finish_supply(supply: pd.DataFrame) -> pd.DataFrame:
    """Open supply as the steps read it: no ETA means on time (the planned week), kinds in lower case."""
    supply["eta_week"] = supply["eta_week"].fillna(supply["week"])
    supply["kind"] = supply["kind"].str.lower()
    return supply


def _facts(frame: pd.DataFrame, name: str, run_week: pd.Timestamp | None, horizon_weeks: int) -> pd.DataFrame:
    """Per SKU-location of the part: its first week (actuals), its weeks inside the horizon (plan), or
    only that it is there (the other tables: their series belong to the run's series)."""
    keys = frame["_series"].to_numpy()
    if name not in ("actuals", "demand_plan"):
        return pd.DataFrame({"_series": np.unique(keys)})
    by = pd.Series(frame["week"].to_numpy()).groupby(keys)
    out = pd.DataFrame({"_series": by.size().index.to_numpy()})
    out["first_week"] = by.min().to_numpy()
    if name == "demand_plan" and run_week is not None:
        end = run_week + pd.Timedelta(weeks=horizon_weeks)
        inside = ((frame["week"] >= run_week) & (frame["week"] < end)).to_numpy()
        out["weeks_in_horizon"] = np.bincount(np.searchsorted(out["_series"].to_numpy(), keys[inside]), minlength=len(out))
    return out


def validate_part(
    table: str, part: str | Path, out: str | Path, known: dict[str, pd.Index] | str, run_week: pd.Timestamp | None = None,
    horizon_weeks: int = HORIZON_WEEKS, ranks: dict[str, np.ndarray] | None = None,
) -> PartReport:
    """Validate one part of ``table`` and, when it has no error, write its typed rows to ``out`` (see the
    module doc). ``known``: the products' SKUs and the locations, in file order, or the file :func:`share_known`
    wrote them to. ``run_week``: when given, actuals at or after it are dropped (with a warning) and the plan's weeks
    inside the horizon counted. ``ranks``: :func:`key_ranks` of ``known`` (the same for every part: computed once by
    the caller)."""
    types = None
    if isinstance(known, str):
        known, ranks, types = shared_known(known)
    part = Path(part)
    label = f"{part.parent.name}/{part.name}"
    frame, positions, problems = _typed(Source(table, part), label, known)
    report = PartReport(table, label, problems)
    if frame is None or any(p.severity == "error" for p in problems):
        return report
    frame["_series"] = series_keys(positions, len(frame), len(known["locations"]))
    keys_as_categories(frame, positions, known, ranks, types)
    # which SKUs and locations are present: marks in the known list (np.unique sorted 9M positions twice: 0.24 s a part)
    report.skus, report.locations = (np.flatnonzero(np.bincount(positions[c], minlength=len(known[ref])))
                                     for c, ref in (("sku", "products"), ("location", "locations")))
    if TABLES[table].sum_duplicates:
        frame, notes = combine_duplicates(TABLES[table], frame, label)
        report.problems += notes
    if table == "actuals" and run_week is not None:
        frame, notes = drop_future(frame, run_week, label)
        report.problems += notes
    if table == "supply":
        frame = finish_supply(frame)
    if table in SORTED_PARTS and not _in_series_order(frame):
        frame = frame.sort_values(["_series", "week"], kind="stable").reset_index(drop=True)
    report.rows, report.weeks = len(frame), weekly_units(frame)
    report.series = _facts(frame, table, run_week, horizon_weeks)
    tmp = Path(out).with_name(f".{Path(out).name}.tmp")
    # min/max statistics only where readers filter (series key, week): a dictionary of 333k SKUs in every row group
    # made the SKU's statistics a sixth of the write
    frame.to_parquet(tmp, index=False, row_group_size=ROW_GROUP, write_statistics=[c for c in ("_series", "week", "eta_week") if c in frame])
    tmp.replace(out)
    return report


def _in_series_order(frame: pd.DataFrame) -> bool:
    """Rows already by series then week (as extracts by item usually come): no sort of millions of rows."""
    series, week = frame["_series"].to_numpy(), frame["week"].to_numpy()
    step, later = np.diff(series), np.diff(week)
    return bool(((step > 0) | ((step == 0) & (later > np.timedelta64(0)))).all())


def read_rows(path: str | Path, weeks: tuple[pd.Timestamp, pd.Timestamp] | None = None, columns: list[str] | None = None,
              filters: list[tuple] | None = None) -> pd.DataFrame:
    """A Parquet file or folder of parts, only the rows of ``weeks`` (``[first, stop)``) and the other
    ``filters``, only ``columns``: Parquet skips the row groups outside them."""
    when = list(filters or []) + ([] if weeks is None else [("week", ">=", weeks[0]), ("week", "<", weeks[1])])
    return pd.read_parquet(path, columns=columns, filters=when or None).reset_index(drop=True)


NAT = np.iinfo(np.int64).min  # NaT as int64 nanoseconds
PROFILE_CHUNK = 1_000_000


def table_profile(frame: pd.DataFrame) -> dict:
    """The profile :func:`merge_reports` gives of a table in parts, from a table held whole: rows, first and
    last week, distinct weeks, SKUs and locations, and ``weekly`` (:func:`weekly_units`). Written with the
    snapshot, so that data health reads no rows."""
    weekly = weekly_units(frame)
    return {
        "rows": int(len(frame)),
        "first_week": week_label(weekly.index.min()) if len(weekly) else "",
        "last_week": week_label(weekly.index.max()) if len(weekly) else "",
        "weeks": int(len(weekly)),
        "skus": _distinct(frame["sku"]) if "sku" in frame else 0,
        "locations": _distinct(frame["location"]) if "location" in frame else 0,
        "weekly": weekly,
    }


def weekly_units(frame: pd.DataFrame) -> pd.Series:
    """``sum(qty)`` per week that has rows (0 for a table without quantities; empty without weeks), by
    week: integer week numbers and bincounts, a million rows at a time. Why in chunks: on this kind of
    machine fresh memory costs more than the arithmetic (18M rows at once: 1.2 s, mostly page faults)."""
    if "week" not in frame or not len(frame):
        return pd.Series(dtype=float)
    ns = frame["week"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    qty = frame["qty"].to_numpy(dtype=float) if "qty" in frame else np.zeros(len(ns))
    known = ns != NAT
    if not known.any():
        return pd.Series(dtype=float)
    first, last = int(ns.min(where=known, initial=np.iinfo(np.int64).max)), int(ns.max(where=known, initial=NAT))
    bins = (last - first) // WEEK_NS + 1
    sums, rows = np.zeros(bins), np.zeros(bins, dtype=np.int64)
    for lo in range(0, len(ns), PROFILE_CHUNK):
        ok = known[lo : lo + PROFILE_CHUNK]
        index = (ns[lo : lo + PROFILE_CHUNK][ok] - first) // WEEK_NS
        sums += np.bincount(index, weights=np.nan_to_num(qty[lo : lo + PROFILE_CHUNK][ok]), minlength=bins)
        rows += np.bincount(index, minlength=bins)
    weeks = pd.to_datetime(first + np.flatnonzero(rows) * WEEK_NS)
    return pd.Series(sums[rows > 0], index=pd.DatetimeIndex(weeks))


def _distinct(column: pd.Series) -> int:
    """Distinct non-missing values; a categorical's from its codes (a count, no sort of 15M strings)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes, seen = column.cat.codes.to_numpy(), np.zeros(len(column.cat.categories) + 1, dtype=bool)
        for lo in range(0, len(codes), PROFILE_CHUNK):  # in chunks: see weekly_units
            seen[codes[lo : lo + PROFILE_CHUNK]] = True  # code -1 (missing) marks the extra last slot
        return int(np.count_nonzero(seen[:-1]))
    return int(column.nunique())


def merge_reports(reports: list[PartReport]) -> dict:
    """One table's profile from its parts: rows, first and last week, distinct weeks, SKUs and locations,
    units per week (``weekly``: a Series by week; what the data-health report shows of a table it does not read)."""
    weeks = pd.concat([r.weeks for r in reports]).groupby(level=0).sum() if reports else pd.Series(dtype=float)
    skus = np.unique(np.concatenate([r.skus for r in reports])) if reports else np.zeros(0)
    locs = np.unique(np.concatenate([r.locations for r in reports])) if reports else np.zeros(0)
    return {
        "rows": int(sum(r.rows for r in reports)),
        "first_week": week_label(weeks.index.min()) if len(weeks) else "",
        "last_week": week_label(weeks.index.max()) if len(weeks) else "",
        "weeks": int(len(weeks)),
        "skus": int(len(skus)),
        "locations": int(len(locs)),
        "weekly": weeks,
    }
