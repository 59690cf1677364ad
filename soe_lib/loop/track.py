"""Sensing's track record: the sensed forecasts published in past weeks against what then happened.

For every archived run ``w`` (its ``sensed_demand`` table) and lag ``k = 1..4`` (the forecast for week
``w + k - 1``; lag 1 is the run week itself), once that week has actuals (it is before this run week):

- ``sensed``: what the run published; ``plan``: the S&OP plan it saw; ``naive``: the last actual before
  ``w`` (what a planner would assume with no forecast at all);
- ``wape = sum|A - F| / sum A`` and ``bias = sum(F - A) / sum A`` over the SKU-locations, per published
  week, lag and method. A week missing from the actuals extract is 0 sold (the data contract's rule).

So the team sees, week by week, whether sensing earns its place against the plan it starts from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.outputs import OUTPUTS

__all__ = ["TRACK_COLUMNS", "track_record"]

TRACK_COLUMNS = OUTPUTS["sensing_track_record"].names  # the contract's order (soe_lib/core/outputs.py)
MAX_LAG = 4


def track_record(published: dict[pd.Timestamp, pd.DataFrame], actuals: pd.DataFrame, run_week: pd.Timestamp) -> pd.DataFrame:
    """The ``sensing_track_record`` table from each past run's ``sensed_demand`` (keyed by its run week)."""
    frames = []
    if not published:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in TRACK_COLUMNS})
    # only the weeks scored (and the naive's week before): three years of actuals at 100k are 15M rows
    first = min(published) - pd.Timedelta(weeks=1)
    sold = actuals.loc[(actuals["week"] >= first) & (actuals["week"] < run_week), ["sku", "location", "week", "qty"]]
    for week, sensed in published.items():  # one archived run at a time: a handful of weeks, each vectorised
        due = sensed[(sensed["horizon"] <= MAX_LAG) & (sensed["week"] < run_week)]
        if due.empty:
            continue
        scored = due.merge(sold, on=["sku", "location", "week"], how="left").assign(actual=lambda f: f["qty"].astype(float).fillna(0.0))
        before = sold[sold["week"] == week - pd.Timedelta(weeks=1)].rename(columns={"qty": "naive"})[["sku", "location", "naive"]]
        scored = scored.merge(before, on=["sku", "location"], how="left")
        scored["naive"] = scored["naive"].astype(float).fillna(0.0)
        for method, col in (("sensed", "sensed_qty"), ("plan", "plan_qty"), ("naive", "naive")):
            f = scored.assign(forecast=scored[col].astype(float).fillna(0.0), err=lambda d: (d["forecast"] - d["actual"]))
            g = f.groupby("horizon").agg(series=("sku", "size"), actual_qty=("actual", "sum"), forecast_qty=("forecast", "sum"),
                                         abs_err=("err", lambda e: e.abs().sum()))
            frames.append(g.reset_index().rename(columns={"horizon": "lag"}).assign(published_week=week, method=method))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in TRACK_COLUMNS})
    out = pd.concat(frames, ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["wape"] = np.where(out["actual_qty"] > 0, out["abs_err"] / out["actual_qty"], np.nan)
        out["bias"] = np.where(out["actual_qty"] > 0, (out["forecast_qty"] - out["actual_qty"]) / out["actual_qty"], np.nan)
    out["lag"] = out["lag"].astype("int64")
    out["series"] = out["series"].astype("int64")
    return out[TRACK_COLUMNS].sort_values(["published_week", "lag", "method"]).reset_index(drop=True)
