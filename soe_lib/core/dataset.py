"""The validated snapshot of a week's inputs: typed tables, where each came from, and the findings.

:mod:`soe_lib.io` builds a :class:`Dataset` (reading, typing and validating a data folder, or reading
a run's stored snapshot); every step of the weekly cycle works on it and on nothing else of the
inputs. Optional tables that were not supplied are empty frames with the contract's columns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .problems import ValidationReport
from .weeks import week_label

__all__ = ["COMPACT_TABLES", "SERIES_TABLES", "Dataset", "LazyTables", "Source"]

# the tables with rows per SKU-location (and week): the large ones, given in parts, read by a part's range of series
SERIES_TABLES = ("actuals", "demand_plan", "inventory", "supply", "open_orders")


@dataclass(frozen=True)
class Source:
    """Where a table came from: a file, or a sheet of a workbook."""

    table: str
    path: Path
    sheet: str | None = None

    @property
    def label(self) -> str:
        """How messages name the source: ``actuals.csv``, ``data.xlsx[actuals]`` or ``actuals/`` (a folder of parts)."""
        if self.sheet:
            return f"{self.path.name}[{self.sheet}]"
        return f"{self.path.name}/" if self.path.suffix == "" else self.path.name


# (table, weeks [first, stop) or None, columns or None) -> the table's rows of those weeks, those columns
Reader = Callable[[str, "tuple[pd.Timestamp, pd.Timestamp] | None", "list[str] | None"], pd.DataFrame]


class LazyTables(MutableMapping):
    """The tables of a stored snapshot, each read when a step first asks for it: a step that never
    looks at three years of actuals does not pay for reading them (at 1M SKU-locations, ~4 GB).
    ``read(name, weeks, columns)`` reads a table, or only its rows of some weeks and some columns."""

    def __init__(self, names: tuple[str, ...] | list[str], read: Reader) -> None:
        self._names, self._read, self._held = list(names), read, {}
        self._projected: dict[tuple[str, tuple[str, ...]], pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._held:
            if name not in self._names:
                raise KeyError(name)
            self._held[name] = self._read(name, None, None)
        return self._held[name]

    def __setitem__(self, name: str, frame: pd.DataFrame) -> None:
        if name not in self._names:
            self._names.append(name)
        self._held[name] = frame

    def __delitem__(self, name: str) -> None:
        self._names.remove(name)
        self._held.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def held(self, name: str) -> bool:
        """True when the table is in memory already."""
        return name in self._held

    def part(self, name: str, weeks: tuple[pd.Timestamp, pd.Timestamp] | None, columns: list[str] | None) -> pd.DataFrame:
        """Rows of ``weeks`` (``[first, stop)``) and ``columns`` of a table, read from storage (never held)."""
        return self._read(name, weeks, columns)

    def projected(self, name: str, columns: tuple[str, ...]) -> pd.DataFrame:
        """Some columns of a table, read once (the whole table when it is held already)."""
        if name in self._held:
            return self._held[name][list(columns)]
        if (name, columns) not in self._projected:
            self._projected[(name, columns)] = self._read(name, None, list(columns))
        return self._projected[(name, columns)]


@dataclass
class Dataset:
    """Typed, validated input tables of one run week.

    Every table with sku and location carries ``_series``, an int key per SKU-location:
    ``sku position in products x number of locations + location position``.
    """

    data_dir: Path
    tables: MutableMapping[str, pd.DataFrame]  # a dict, or LazyTables read from a snapshot
    sources: dict[str, Source]
    week: pd.Timestamp  # the run week (ISO Monday)
    report: ValidationReport = field(default_factory=ValidationReport)
    # tables validated part by part and kept in storage only (their folder of typed parts), what they hold
    # (``profiles``: rows, weeks, SKUs, units per week) and per SKU-location facts (``facts``, index
    # ``_series``: first_actual_week, has_plan, plan_weeks_in_horizon): what data health and the
    # coverage checks need of them without reading them
    stored: dict[str, Path] = field(default_factory=dict)
    profiles: dict[str, dict] = field(default_factory=dict)
    facts: pd.DataFrame | None = None

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

    def weeks_of(self, name: str, first: pd.Timestamp, stop: pd.Timestamp, columns: list[str] | None = None) -> pd.DataFrame:
        """Rows of weekly table ``name`` with ``first <= week < stop`` (and only ``columns``, default all):
        read from the snapshot alone when the table is not in memory (Parquet row-group filters), so a
        step that needs 26 weeks of a 182-week plan never holds the rest."""
        tables = self.tables
        if isinstance(tables, LazyTables) and not tables.held(name):
            return tables.part(name, (first, stop), columns)
        frame = tables[name]
        rows = frame[(frame["week"] >= first) & (frame["week"] < stop)]
        return (rows if columns is None else rows[columns]).reset_index(drop=True)

    def columns(self, name: str, columns: tuple[str, ...]) -> pd.DataFrame:
        """Only ``columns`` of table ``name``: from a snapshot, only they are read (no key strings decoded
        when the int series key is all a step needs)."""
        if isinstance(self.tables, LazyTables):
            return self.tables.projected(name, tuple(columns))
        return self.tables[name][list(columns)]

    def product_rows(self, series: pd.DataFrame) -> np.ndarray:
        """Each SKU-location's row in ``products`` (-1: none): ``_series // number of locations`` (the key's
        definition), checked against the SKUs, else by lookup. At 1M, each sensing part hashed 333k SKUs for it."""
        products = self.tables["products"]
        n_locations = len(self.tables["locations"])
        if "_series" in series and n_locations and len(series):
            rows = series["_series"].to_numpy(dtype=np.int64) // n_locations
            if rows.max() < len(products) and rows.min() >= 0:
                found = products["sku"].iloc[rows].to_numpy(dtype=object)
                if (found == series["sku"].to_numpy(dtype=object)).all():
                    return rows
        return pd.Index(products["sku"].astype(str)).get_indexer(series["sku"].astype(str))

    def series(self) -> pd.DataFrame:
        """All SKU-locations known from any table: sku, location and ``_series``, ordered by that key
        (products order, then locations order)."""
        cached = self.__dict__.get("_series_frame")
        if cached is not None:
            return cached.copy()
        skus = self.tables["products"]["sku"].to_numpy()
        locs = self.tables["locations"]["location"].to_numpy()
        seen = np.zeros(len(skus) * len(locs), dtype=bool)  # dense key space: mark, then read back in order
        for t in SERIES_TABLES:
            if t not in self.stored:
                seen[self.tables[t]["_series"].to_numpy()] = True
        if self.stored and self.facts is not None:  # the SKU-locations of the tables in storage
            seen[self.facts.index.to_numpy()] = True
        keys = np.flatnonzero(seen)
        frame = pd.DataFrame({"sku": skus[keys // len(locs)], "location": locs[keys % len(locs)], "_series": keys})
        frame["sku"], frame["location"] = frame["sku"].astype("str"), frame["location"].astype("str")
        self.__dict__["_series_frame"] = frame
        return frame.copy()


# The weekly tables with millions of rows keep their keys as categories (built by the loader from the
# positions validation found; dictionary-encoded in the snapshot): at 100k series x 156 weeks, 0.6 GB of key strings per table become 0.1 GB.
COMPACT_TABLES = ("actuals", "demand_plan", "open_orders", "supply")
