"""The validated snapshot of a week's inputs: typed tables, where each came from, and the findings.

:mod:`soe_lib.io` builds a :class:`Dataset` (reading, typing and validating a data folder, or reading
a run's stored snapshot); every step of the weekly cycle works on it and on nothing else of the
inputs. Optional tables that were not supplied are empty frames with the contract's columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .problems import ValidationReport
from .weeks import week_label

__all__ = ["COMPACT_TABLES", "SERIES_TABLES", "Dataset", "Source"]

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


@dataclass
class Dataset:
    """Typed, validated input tables of one run week.

    Every table with sku and location carries ``_series``, an int key per SKU-location:
    ``sku position in products x number of locations + location position``.
    """

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
        """All SKU-locations known from any table: sku, location and ``_series``, ordered by that key
        (products order, then locations order)."""
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


# The weekly tables with millions of rows keep their keys as categories (built by the loader from the
# positions validation found; dictionary-encoded in the snapshot): at 100k series x 156 weeks, 0.6 GB of key strings per table become 0.1 GB.
COMPACT_TABLES = ("actuals", "demand_plan", "open_orders", "supply")
