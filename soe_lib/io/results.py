"""A week's results on disk: tables checked against the output contract, and the documents beside them.

Tables go to ``<week folder>/tables/<name>.parquet`` with every week column as its ISO label
(``2026-W48``: what people read, in Parquet, Excel or a notebook); reading a table back with
``typed=True`` turns the contract's week columns into ISO Mondays again, as the steps compute with.
Each file is written to a temporary name and renamed, so a reader never sees half a table.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.dataset import Dataset
from ..core.matrix import keys_in
from ..core.outputs import OUTPUTS, check_table
from ..core.step import Part
from ..core.weeks import parse_weeks, week_labels
from .workbook import write_workbook

__all__ = ["RunFiles", "read_table", "save_table", "table_path", "write_document"]


def table_path(tables_dir: Path, name: str) -> Path:
    return Path(tables_dir) / f"{name}.parquet"


def save_table(tables_dir: Path, name: str, frame: pd.DataFrame) -> Path:
    """Check ``frame`` against the output contract, then write it (datetime columns as ISO week labels)."""
    out = check_table(name, frame)
    # a new frame with the week columns as labels, the others shared, not copied (13M rows at 1M series)
    out = out.assign(**{col: week_labels(out[col]) for col in out.columns if pd.api.types.is_datetime64_any_dtype(out[col])})
    path = table_path(tables_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    out.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


def read_table(tables_dir: Path, name: str, typed: bool = True, filters: list[tuple] | None = None,
               columns: list[str] | None = None) -> pd.DataFrame:
    """A result table; ``typed``: the contract's week columns as ISO Mondays (else as written, labels);
    ``filters``: only the rows they keep (Parquet row filters, e.g. ``[("sku", "in", skus)]``);
    ``columns``: only those columns (default all)."""
    frame = pd.read_parquet(table_path(tables_dir, name), filters=filters, columns=columns)
    if typed and name in OUTPUTS:
        for col in OUTPUTS[name].columns:
            if col.kind == "week" and col.name in frame and not pd.api.types.is_datetime64_any_dtype(frame[col.name]):
                frame[col.name] = parse_weeks(frame[col.name])
    return frame


class RunFiles:
    """A part's reader over the run's files (:class:`soe_lib.core.step.PartReader`): its rows of the snapshot,
    read with row filters on the series key, and its rows of the result tables, read with a filter on the SKU
    (then only its locations: a SKU's other locations may be in the next part)."""

    def __init__(self, part: Part) -> None:
        self.part = part

    def snapshot(self) -> Dataset:
        from .snapshot import read_snapshot

        return read_snapshot(self.part.snapshot, (self.part.first, self.part.stop))

    def snapshot_column(self, table: str, column: str) -> np.ndarray:
        from .parts import read_rows

        return read_rows(f"{self.part.snapshot.rstrip('/')}/{table}.parquet", columns=[column])[column].to_numpy()

    def rows(self, table: str, series: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
        skus = series["sku"].astype(str).unique().tolist() or [""]
        rows = read_table(Path(self.part.tables), table, filters=[("sku", "in", skus)], columns=columns)
        return rows[keys_in(rows, series)].reset_index(drop=True)

    def table(self, table: str) -> pd.DataFrame:
        return read_table(Path(self.part.tables), table)


def write_document(folder: Path, name: str, content: str | dict[str, pd.DataFrame]) -> Path:
    """A step's document: text (``.md``) as UTF-8, sheets (``.xlsx``) as a workbook."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{path.name}")
    if name.endswith(".xlsx"):
        write_workbook(tmp, content)
    else:
        tmp.write_text(content, encoding="utf-8")
    os.replace(tmp, path)
    return path
