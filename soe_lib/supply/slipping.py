"""Supply under predicted ETAs: the projection when every inbound line on a lane comes when its lane's record says
(the logistics step's ``eta_forecast``), and the shortages that appear only then ("at risk of slipping").

Only lines with a known lane (a ``mode``) move: a line slipping ``s = eta_p50_week - eta_week > 0`` weeks takes its
units out of its stated week and into its predicted one (beyond the horizon: out of it)::

    predicted_receipts[t] = constrained_receipts[t] - sum(qty of slipping lines stated for t) + sum(qty predicted for t)
    predicted_projected[t] = on_hand + sum(predicted_receipts[0..t] - demand[0..t])

A **slip risk** is a run of weeks short on the predicted projection whose shortfall at its deepest week is at least
``min_gap_qty`` more than the capacity-constrained projection's there: ``at risk of slipping`` when the constrained
projection is not short in any week of the run (the gap exists only if the lanes do what they did), ``deeper with
predicted ETAs`` otherwise; with the slipping lines behind it (orders, lanes, ports of arrival and carriers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.lanes import lane_name
from ..core.matrix import to_matrix
from ..core.projection import Projection, project, runs
from ..core.text import joined_per_group

__all__ = ["SLIP_COLUMNS", "predicted_projection", "slip_risk"]

SLIP_COLUMNS = {
    "sku": "str", "location": "str", "status": "str", "first_week": "datetime64[ns]", "last_week": "datetime64[ns]",
    "peak_week": "datetime64[ns]", "weeks_short": "int64", "peak_shortage_qty": "float64", "extra_shortage_qty": "float64",
    "slipping_lines": "int64", "slipping_qty": "float64", "orders": "str", "lanes": "str", "ports": "str", "carriers": "str",
}
AT_RISK, DEEPER = "at risk of slipping", "deeper with predicted ETAs"


def predicted_projection(series: pd.DataFrame, weeks: pd.DatetimeIndex, constrained: Projection, slipping: pd.DataFrame) -> Projection:
    """The constrained projection with the ``slipping`` lines (with ``_series``) in their predicted weeks (module doc)."""
    if slipping.empty:
        return constrained
    out = slipping.assign(qty=-slipping["qty"].astype(float), week=slipping["eta_week"].clip(lower=weeks[0]))
    into = slipping.assign(qty=slipping["qty"].astype(float), week=slipping["eta_p50_week"].clip(lower=weeks[0]))
    shift = to_matrix(pd.concat([out, into], ignore_index=True)[["_series", "week", "qty"]], series, weeks)
    return project(constrained.on_hand, constrained.receipts + shift, constrained.demand)


def slip_risk(series: pd.DataFrame, weeks: pd.DatetimeIndex, constrained: Projection, predicted: Projection, slipping: pd.DataFrame,
              min_gap_qty: float = 1.0) -> pd.DataFrame:
    """The ``slip_risk`` rows of ``series`` (module doc), by series then week."""
    eps = 1e-9
    r, first, last = runs(predicted.projected < -eps)
    t = np.arange(len(weeks))[None, :]
    inside = (t >= first[:, None]) & (t <= last[:, None])
    extra = np.where(inside, predicted.backlog[r] - constrained.backlog[r], -np.inf)
    peak = np.argmax(extra, axis=1) if len(r) else np.zeros(0, dtype=np.int64)
    keep = extra[np.arange(len(r)), peak] >= max(min_gap_qty, eps) if len(r) else np.zeros(0, dtype=bool)
    r, first, last, peak, inside = r[keep], first[keep], last[keep], peak[keep], inside[keep]
    if not len(r):
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in SLIP_COLUMNS.items()})
    out = series.iloc[r][["sku", "location", "_series"]].reset_index(drop=True)
    was_short = np.where(inside, constrained.backlog[r] > eps, False).any(axis=1)
    out["status"] = np.where(was_short, DEEPER, AT_RISK)
    out["first_week"], out["last_week"], out["peak_week"] = weeks[first], weeks[last], weeks[peak]
    out["weeks_short"] = last - first + 1
    out["peak_shortage_qty"] = predicted.backlog[r, peak]
    out["extra_shortage_qty"] = predicted.backlog[r, peak] - constrained.backlog[r, peak]
    return _behind(out, slipping).drop(columns="_series")[list(SLIP_COLUMNS)]


def _behind(risk: pd.DataFrame, slipping: pd.DataFrame) -> pd.DataFrame:
    """The slipping lines behind each risk: stated by its deepest week and predicted after it."""
    risk = risk.assign(_risk=np.arange(len(risk)))
    lines = slipping.assign(lane=lane_name(slipping), port=slipping["destination"].astype("string").fillna("(none)").astype(str),
                            carrier=slipping["carrier"].astype("string").fillna("(none)").astype(str),
                            order=slipping["order_id"].astype("string").fillna("(no id)").astype(str))
    pair = risk[["_risk", "_series", "peak_week"]].merge(lines, on="_series")
    pair = pair[(pair["eta_week"] <= pair["peak_week"]) & (pair["eta_p50_week"] > pair["peak_week"])]
    pair = pair.sort_values(["_risk", "qty"], ascending=[True, False], kind="stable")
    risk["slipping_lines"] = risk["_risk"].map(pair.groupby("_risk").size()).fillna(0).astype("int64")
    risk["slipping_qty"] = risk["_risk"].map(pair.groupby("_risk")["qty"].sum()).fillna(0.0).astype(float)
    for column, source in (("orders", "order"), ("lanes", "lane"), ("ports", "port"), ("carriers", "carrier")):
        distinct = pair.drop_duplicates(["_risk", source])
        text = joined_per_group(distinct.groupby("_risk").head(5) if column == "orders" else distinct, ["_risk"], source, ", ")
        risk[column] = risk["_risk"].map(text).fillna("").astype(str)
    return risk.drop(columns="_risk")
