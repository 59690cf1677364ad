"""Load a data folder into typed tables, validating everything on the way in.

A data folder holds one file per table: ``<table>.csv``, ``<table>.parquet``, or a sheet named
``<table>`` in one ``.xlsx`` workbook. CSV and Excel cells are read as text, so codes keep their
leading zeros; :mod:`soe_lib.validation` then types them.

:func:`load_data` is what every notebook and ``soe validate`` call: it returns a :class:`Dataset` and
a :class:`~soe_lib.validation.ValidationReport`; with ``strict=True`` (the default) it raises
:class:`~soe_lib.validation.ValidationError` when there are errors.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.types as pa_types

from .contract import TABLES, Table
from .validation import (
    Problem,
    ValidationError,
    ValidationReport,
    check_references,
    check_values,
    column_dtype,
    duplicate_positions,
    key_codes,
    problem_for_rows,
    type_table,
)
from .weeks import parse_week, week_label

__all__ = ["Dataset", "Source", "file_sha256", "find_sources", "load_data", "read_source", "write_dataset"]

SUFFIXES = (".csv", ".parquet", ".xlsx")
SERIES_TABLES = ("actuals", "demand_plan", "inventory", "supply", "open_orders")


@dataclass(frozen=True)
class Source:
    table: str
    path: Path
    sheet: str | None = None

    @property
    def label(self) -> str:
        """How messages name the source: ``actuals.csv`` or ``data.xlsx[actuals]``."""
        return f"{self.path.name}[{self.sheet}]" if self.sheet else self.path.name


@dataclass
class Dataset:
    """Typed, validated input tables. Optional tables that were not supplied are empty frames."""

    data_dir: Path
    tables: dict[str, pd.DataFrame]
    sources: dict[str, Source]
    week: pd.Timestamp  # the run week (ISO Monday)
    report: ValidationReport = field(default_factory=ValidationReport)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    @property
    def week_label(self) -> str:
        return week_label(self.week)

    def has(self, table: str) -> bool:
        """True when the (optional) table was supplied."""
        return table in self.sources

    def series(self) -> pd.DataFrame:
        """All SKU-locations known from any table: sku, location and ``_series``, the int key every
        table row carries (``sku position in products x number of locations + location position``).
        Ordered by that key (products order, then locations order)."""
        cached = self.__dict__.get("_series_frame")
        if cached is not None:
            return cached.copy()
        skus = self.tables["products"]["sku"].to_numpy()
        locs = self.tables["locations"]["location"].to_numpy()
        seen = np.zeros(len(skus) * len(locs), dtype=bool)  # dense key space: mark, then read back in order
        for t in SERIES_TABLES:
            seen[self.tables[t]["_series"].to_numpy()] = True
        keys = np.flatnonzero(seen)
        frame = pd.DataFrame({"sku": skus[keys // len(locs)], "location": locs[keys % len(locs)], "_series": keys})
        frame["sku"], frame["location"] = frame["sku"].astype("str"), frame["location"].astype("str")
        self.__dict__["_series_frame"] = frame
        return frame.copy()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_sources(data_dir: Path) -> tuple[dict[str, Source], list[Problem]]:
    """Map each table to the one file (or workbook sheet) that holds it."""
    data_dir = Path(data_dir)
    problems: list[Problem] = []
    if not data_dir.is_dir():
        problems.append(
            Problem("error", "", str(data_dir), "", "data folder exists", "the data folder does not exist")
        )
        return {}, problems
    found: dict[str, list[Source]] = {}
    for path in sorted(data_dir.iterdir()):
        if path.name.startswith((".", "~$")):
            continue
        if path.suffix.lower() in (".csv", ".parquet") and path.stem.lower() in TABLES:
            found.setdefault(path.stem.lower(), []).append(Source(path.stem.lower(), path))
        elif path.suffix.lower() == ".xlsx":
            from openpyxl import load_workbook

            sheets = load_workbook(path, read_only=True).sheetnames
            for sheet in sheets:
                if sheet.strip().lower() in TABLES:
                    found.setdefault(sheet.strip().lower(), []).append(Source(sheet.strip().lower(), path, sheet))
    sources: dict[str, Source] = {}
    for name, table in TABLES.items():
        options = found.get(name, [])
        if len(options) > 1:
            problems.append(
                Problem(
                    "error",
                    name,
                    ", ".join(s.label for s in options),
                    "",
                    "one file per table",
                    f"table '{name}' is given more than once",
                )
            )
        elif options:
            sources[name] = options[0]
        elif table.required:
            problems.append(
                Problem(
                    "error",
                    name,
                    f"{name}.csv",
                    "",
                    "required table",
                    f"no {name}.csv, {name}.parquet or '{name}' sheet in {data_dir}",
                )
            )
    return sources, problems


def read_source(source: Source) -> pd.DataFrame:
    """Read one table as it is on disk; CSV and Excel cells as text. Headers are trimmed and lower-cased."""
    suffix = source.path.suffix.lower()
    # Every cell as text (a dtype=category read would turn '00123' into 123). Parquet text arrives
    # dictionary-encoded (categorical): validation then works on the distinct values only.
    if suffix == ".csv":
        frame = pd.read_csv(source.path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        schema = pq.read_schema(source.path)
        text = [f.name for f in schema if pa_types.is_string(f.type) or pa_types.is_large_string(f.type)]
        frame = pq.read_table(source.path, read_dictionary=text).to_pandas()
    else:
        frame = pd.read_excel(source.path, sheet_name=source.sheet, dtype=str, engine="openpyxl")
    frame.columns = [str(c).strip().lower().replace(" ", "_") for c in frame.columns]
    return frame


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


def _empty(table: Table) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series(dtype=column_dtype(c)) for c in table.columns})


def load_data(
    data_dir: str | Path | None = None,
    week: str | pd.Timestamp | None = None,
    horizon_weeks: int = 13,
    strict: bool = True,
) -> Dataset:
    """Read, type and validate every table of ``data_dir`` (default: the built-in sample company).

    ``week`` is the run week; default: the week after the last week of actuals. Rows of actuals at or
    after the run week are dropped (with a warning): the run only knows the past.
    Raises :class:`ValidationError` (``strict``) when any error is found, after collecting all of them.
    """
    from .health import coverage_problems
    from .sample import resolve_data_dir

    data_dir = resolve_data_dir(data_dir)
    report = ValidationReport()
    sources, problems = find_sources(data_dir)
    report.extend(problems)

    typed: dict[str, pd.DataFrame] = {}
    codes: dict[str, dict] = {}
    for name, source in sources.items():
        try:
            raw = read_source(source)
        except Exception as exc:  # unreadable file: name it and go on with the others
            report.add(Problem("error", name, source.label, "", "readable file", f"cannot read: {exc}"))
            continue
        frame, problems, codes[name] = type_table(TABLES[name], raw, source.label)
        report.extend(problems)
        typed[name] = frame

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

    raw = None
    del codes  # the distinct-value codes have done their job: free them before the tables grow
    run_week = pd.NaT
    tables: dict[str, pd.DataFrame] = {}
    for name, table in TABLES.items():
        frame = typed.get(name)
        if frame is None:
            frame = _empty(table)
        if report.ok and "sku" in table.references:
            frame["_series"] = _series_keys(positions.get(name), len(frame), len(known["locations"]))
        if table.sum_duplicates and report.ok:
            frame, notes = _combine_duplicates(table, frame, sources[name].label if name in sources else name)
            report.extend(notes)
        tables[name] = frame.reset_index(drop=True)

    if report.ok:
        supply = tables["supply"]
        supply["eta_week"] = supply["eta_week"].fillna(supply["week"])
        supply["kind"] = supply["kind"].str.lower()
        try:
            run_week = _resolve_week(week, tables["actuals"])
        except ValueError as exc:
            report.add(Problem("error", "", "run parameters", "week", "ISO week or date", str(exc)))
            run_week = pd.NaT
    if report.ok:
        late = tables["actuals"]["week"] >= run_week
        if late.any():
            report.add(
                problem_for_rows(
                    "warning",
                    "actuals",
                    sources["actuals"].label,
                    "week",
                    "before the run week",
                    f"{int(late.sum())} rows at or after the run week {week_label(run_week)} are ignored",
                    np.flatnonzero(late.to_numpy()),
                )
            )
            tables["actuals"] = tables["actuals"][~late].reset_index(drop=True)

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


def write_dataset(dataset: Dataset, folder: Path) -> dict[str, int]:
    """Write the typed tables as Parquet (weeks as ISO Mondays): the run's archived, normalised inputs."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = {}
    for name, frame in dataset.tables.items():
        if dataset.has(name):
            frame.drop(columns=["_series"], errors="ignore").to_parquet(folder / f"{name}.parquet", index=False)
            rows[name] = len(frame)
    return rows
