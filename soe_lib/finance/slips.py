"""Money at risk from inbound lines that their lanes' record says will come late, by lane, port and carrier.

Per SKU-location ``i`` with a predicted projection ``P'`` (the supply step's ``predicted_projected_on_hand``: its
lines on a lane in their predicted weeks) beside the capacity-constrained ``P``, the projection kernel values the
difference (:meth:`~.world.World.value`, the same figure a countermeasure or a gap gets)::

    slip_money[i] = value(P'[i]) - value(P[i])       margin at risk added if the lanes do what they did

and each slipping line of ``i`` carries the share of it its units are of the series' slipping units::

    line_money = slip_money[i] x qty / sum(qty of i's slipping lines)

``logistics_risk`` sums the lines by lane (``origin > destination (mode)``), by port of arrival and by carrier:
each grouping adds up to the same total (a line has one lane, one port of arrival and one carrier).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.lanes import lane_name, slipping_lines
from .world import World

__all__ = ["RISK_COLUMNS", "logistics_risk", "slip_money"]

RISK_COLUMNS = {"by": "str", "name": "str", "lines": "int64", "slipping_qty": "float64", "sku_locations": "int64", "margin_at_risk": "float64"}
LEVELS = {"lane": "lane", "port": "destination", "carrier": "carrier"}


def slip_money(w: World, eta: pd.DataFrame) -> pd.DataFrame:
    """Per slipping line of the series of ``w`` (rows of ``eta_forecast``): its lane, port and carrier, units and
    share of its SKU-location's ``slip_money`` (module doc)."""
    lines = slipping_lines(eta)
    if w.predicted is None or lines.empty:
        return pd.DataFrame(columns=["line_id", "sku", "location", "lane", "destination", "carrier", "qty", "margin_at_risk"])
    lines = lines.assign(_row=w.rows(lines["sku"].astype(str), lines["location"].astype(str)))
    lines = lines[lines["_row"] >= 0].reset_index(drop=True)
    rows = np.unique(lines["_row"].to_numpy(dtype=np.int64))
    added = w.value(rows, w.predicted[rows] - w.position[rows]) - w.value(rows)
    units = lines.groupby("_row")["qty"].transform("sum").to_numpy(dtype=float)
    at = np.searchsorted(rows, lines["_row"].to_numpy())
    share = np.where(units > 0, lines["qty"].to_numpy(dtype=float) / np.where(units > 0, units, 1.0), 0.0)
    out = lines[["line_id", "sku", "location", "destination", "carrier", "qty"]].copy()
    out["lane"] = lane_name(lines).to_numpy()
    out["destination"] = out["destination"].astype("string").fillna("(none)").astype(str)
    out["carrier"] = out["carrier"].astype("string").fillna("(none)").astype(str)
    out["margin_at_risk"] = added[at] * share
    return out


def logistics_risk(lines: pd.DataFrame) -> pd.DataFrame:
    """``logistics_risk``: the lines of :func:`slip_money` (of every part) summed by lane, port and carrier, the most
    money first within each."""
    if lines.empty:
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in RISK_COLUMNS.items()})
    frames = []
    for level, column in LEVELS.items():
        keyed = lines.assign(_sl=lines["sku"].astype(str) + "@" + lines["location"].astype(str))
        sums = keyed.groupby(column, as_index=False).agg(lines=("line_id", "size"), slipping_qty=("qty", "sum"),
                                                         sku_locations=("_sl", "nunique"), margin_at_risk=("margin_at_risk", "sum"))
        frames.append(sums.rename(columns={column: "name"}).assign(by=level).sort_values("margin_at_risk", ascending=False, kind="stable"))
    return pd.concat(frames, ignore_index=True)[list(RISK_COLUMNS)].astype(RISK_COLUMNS)
