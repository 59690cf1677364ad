"""Long tables to a (series x weeks) matrix and back: the shape every vectorised weekly step works on.

Keys are factorised once and values scattered with numpy (4x faster than ``DataFrame.pivot`` at
15.6M rows, measured). The actuals rule of the data contract lives here: a week missing between a
series' first week of actuals and the run week is **zero** demand (ERP extracts omit zero rows);
weeks before a series' first actual are ``NaN`` (the item was not selling yet).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["BLOCK_ROWS", "WEEK_NS", "RowsOnDemand", "WeekMatrix", "column_at", "history_matrix", "keys_in", "long_frame", "row_blocks", "row_positions", "to_matrix"]

KEY = ["sku", "location"]
WEEK_NS = 7 * 86_400 * 10**9  # a week in nanoseconds: weeks as integers
# Series (rows) per block of a per-series computation in one process. Why: on this kind of machine fresh
# memory costs more than the arithmetic. A pass over 100k series x 156 weeks makes 125 MB temporaries,
# which glibc maps fresh from the kernel (above its 32 MB mmap threshold) and zeroes every time; blocks
# of 12,500 keep them near 15 MB, reused from the heap. Measured at 100k: sensing 13.3 s (7.9 s of it
# in the kernel) whole, 8.4 s (1.3 s) in 8 blocks.
BLOCK_ROWS = 12_500


def row_blocks(n: int, size: int | None = None) -> list[slice]:
    """Consecutive slices of at most ``size`` (default :data:`BLOCK_ROWS`) of ``n`` rows (one empty
    slice when ``n`` is 0)."""
    size = max(int(size or BLOCK_ROWS), 1)
    return [slice(a, min(a + size, n)) for a in range(0, n, size)] or [slice(0, 0)]


def long_frame(series: pd.DataFrame, weeks: pd.DatetimeIndex, matrices: dict[str, np.ndarray]) -> pd.DataFrame:
    """(series x weeks) matrices back to one long table: the series' columns, ``week``, one column per
    matrix (row ``i * len(weeks) + j`` is series ``i`` in week ``j``)."""
    n, t = len(series), len(weeks)
    out = series.iloc[np.repeat(np.arange(n), t)].reset_index(drop=True)
    out["week"] = np.tile(weeks.to_numpy(), n)
    for name, values in matrices.items():
        out[name] = np.asarray(values).reshape(-1)
    return out


@dataclass(frozen=True)
class WeekMatrix:
    """``values[i, j]`` is series ``series.iloc[i]`` (sku, location) in week ``weeks[j]``."""

    series: pd.DataFrame  # sku, location; row i of values
    weeks: pd.DatetimeIndex  # consecutive ISO Mondays; column j of values
    values: np.ndarray

    def to_long(self, name: str = "qty") -> pd.DataFrame:
        """Back to long format: sku, location, week, <name> (one row per series and week)."""
        return long_frame(self.series[["sku", "location"]], self.weeks, {name: self.values})


def row_positions(frame: pd.DataFrame, series: pd.DataFrame) -> np.ndarray:
    """Row index of each (sku, location) of ``frame`` in ``series``; -1 where absent.

    With the int keys the loader attaches (``_series``), a binary search; otherwise a MultiIndex lookup.
    """
    if "_series" in frame and "_series" in series:
        keys = series["_series"].to_numpy()
        wanted = frame["_series"].to_numpy()
        size = int(max(keys.max(initial=-1), wanted.max(initial=-1))) + 1
        lookup = np.full(size, -1, dtype=np.int64)  # dense: keys are sku position x locations + location
        lookup[keys] = np.arange(len(keys))
        return lookup[wanted] if len(wanted) else np.zeros(0, dtype=np.int64)
    index = pd.MultiIndex.from_frame(series[KEY])
    return index.get_indexer(pd.MultiIndex.from_frame(frame[KEY]))


def keys_in(frame: pd.DataFrame, keys: pd.DataFrame) -> np.ndarray:
    """Rows of ``frame`` whose (sku, location) is one of the rows of ``keys`` (compared as text)."""
    if not len(keys) or not len(frame):
        return np.zeros(len(frame), dtype=bool)
    return pd.MultiIndex.from_frame(frame[KEY].astype(str)).isin(pd.MultiIndex.from_frame(keys[KEY].astype(str)))


def column_at(table: pd.DataFrame, column: str, rows: np.ndarray, missing: Any = np.nan) -> np.ndarray:
    """``table[column]`` at the row positions ``rows`` (found once, e.g. each series' product row), ``missing`` where a
    position is -1; a number column as float, ``missing`` also where its value is blank. A gather, where a lookup by
    text per column hashed a whole table again (333k SKUs per part and per column at 1M)."""
    values = table[column]
    rows = np.asarray(rows, dtype=np.int64)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        x = np.append(values.to_numpy(dtype=float, na_value=np.nan), np.nan)[rows]
        return np.where(np.isnan(x), missing, x)
    return np.append(values.to_numpy(dtype=object), missing)[rows]


def _week_positions(weeks_col: pd.Series, weeks: pd.DatetimeIndex) -> np.ndarray:
    """Column index of each week in the consecutive weekly ``weeks`` (-1 outside): integer arithmetic."""
    offset = weeks_col.to_numpy(dtype="datetime64[ns]").view(np.int64) - weeks[0].to_datetime64().astype("datetime64[ns]").view(np.int64)
    cols = offset // WEEK_NS
    return np.where((offset % WEEK_NS == 0) & (cols >= 0) & (cols < len(weeks)), cols, -1)


CHUNK = 2_000_000  # rows scattered at a time: bounds the index temporaries (~100 MB) at any table size


def _scatter(
    frame: pd.DataFrame, series: pd.DataFrame, weeks: pd.DatetimeIndex, column: str, first: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum ``frame[column]`` into cells, chunk by chunk.

    Returns (sums per cell, seen per cell, first column with a row per series or len(weeks) if none;
    0 when the series has a row before ``weeks``; only computed when ``first``).
    """
    n, t = len(series), len(weeks)
    sums = np.zeros(n * t, dtype=np.float64)
    seen = np.zeros(n * t, dtype=bool)
    earliest = np.zeros(n, dtype=bool)  # a row before ``weeks``
    values = frame[column].to_numpy(dtype=np.float64)
    for lo in range(0, len(frame), CHUNK):
        part = frame.iloc[lo : lo + CHUNK]
        rows = row_positions(part, series)
        cols = _week_positions(part["week"], weeks)
        keep = (rows >= 0) & (cols >= 0)
        flat = rows[keep] * t + cols[keep]
        if len(flat):
            # bincount sums rows sharing a cell (far faster than np.add.at); over the band of cells the
            # chunk touches only: the snapshot is in series order, so a chunk is a narrow band, and a
            # whole-matrix count per chunk was 8 fresh 125 MB arrays at 100k series
            low = int(flat.min())
            band = np.bincount(flat - low, weights=values[lo : lo + CHUNK][keep])
            sums[low : low + len(band)] += band
            seen[flat] = True
        if first:
            earlier = (rows >= 0) & (part["week"].to_numpy() < weeks[0].to_datetime64())
            earliest[rows[earlier]] = True
    seen = seen.reshape(n, t)
    start = np.where(seen.any(axis=1), seen.argmax(axis=1), t) if first else np.full(n, t, dtype=np.int64)
    start[earliest] = 0
    return sums.reshape(n, t), seen, start


def to_matrix(
    frame: pd.DataFrame, series: pd.DataFrame, weeks: pd.DatetimeIndex, column: str = "qty", fill: float = 0.0
) -> np.ndarray:
    """Scatter ``frame[column]`` onto a (len(series) x len(weeks)) matrix; rows outside are dropped.

    Rows sharing a cell are summed. Cells with no row get ``fill``.
    """
    out, seen, _ = _scatter(frame, series, weeks, column)
    if fill != 0.0:
        out[~seen] = fill
    return out


def history_matrix(actuals: pd.DataFrame, series: pd.DataFrame, run_week: pd.Timestamp, weeks_back: int) -> WeekMatrix:
    """Weekly actuals for the ``weeks_back`` weeks before ``run_week``.

    Missing weeks after a series' first actual are 0; weeks before it (or all weeks, for a series
    without actuals) are ``NaN``.
    """
    weeks = pd.date_range(run_week - pd.Timedelta(weeks=weeks_back), periods=weeks_back, freq="7D")
    values, _, start = _scatter(actuals, series, weeks, "qty", first=True)
    values[np.arange(len(weeks))[None, :] < start[:, None]] = np.nan
    return WeekMatrix(series.reset_index(drop=True), weeks, values)


class RowsOnDemand:
    """A (rows, ...) matrix that is not held: row ``i`` is computed when it is read (``row(i)``; the caller's
    function may keep the last few). Why: the result of a step run in parts is read afterwards a series at a time (a chart, a deep
    dive); holding, sending and storing its history matrices from the workers (4 GB at 1M series) cost
    more than computing a charted series again. Read a row at a time: ``m[i]``, ``m[i, columns]``."""

    def __init__(self, rows: int, row: Callable[[int], np.ndarray]) -> None:
        self.rows, self.row = int(rows), row

    def __len__(self) -> int:
        return self.rows

    def __getitem__(self, key: Any) -> np.ndarray:
        i, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        if not isinstance(i, int | np.integer):
            raise TypeError(f"a matrix of rows on demand is read one row at a time, not with {i!r}")
        if not -self.rows <= i < self.rows:
            raise IndexError(f"row {i} of {self.rows}")
        values = self.row(int(i) % self.rows)
        return values[rest] if rest else values
