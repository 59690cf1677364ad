"""The order lines the allocation shares supply among, and the supply they draw on.

Lines come from ``open_orders`` (one per row: an order line when ``order_id``/``line`` are given, else a week's
booked units of a SKU-location); each line's tier is its ``priority``, else its customer's ``tier`` (the
``customers`` table), else the ``default_tier`` parameter; its minimum is its customer's ``min_fill_rate``; its
margin per unit is its own ``unit_price`` (else the product's) less the product's ``unit_cost``. Forecast demand
without orders (sensed demand less booked units, per SKU-location and week) becomes lines of its own when the
``forecast_tier`` parameter puts it among the orders.

Supply per SKU-location: ``S[t] = on_hand + sum(constrained receipts[0..t])`` from the supply step's
``inventory_projection`` (``on_hand = P[0] - receipts[0] + demand[0]``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["FORECAST", "order_lines", "supply_matrix"]

FORECAST = "(forecast)"  # the customer of forecast demand without orders
LINE_COLUMNS = ["order_id", "line", "customer", "channel", "priority", "promised_week", "unit_price"]


def supply_matrix(projection: pd.DataFrame, keys: pd.DataFrame, weeks: pd.DatetimeIndex) -> np.ndarray:
    """(N, T) cumulative supply ``S`` of the SKU-locations ``keys`` (module doc); 0 where a key has no projection."""
    p = projection.assign(sku=projection["sku"].astype(str), location=projection["location"].astype(str))
    p = p.set_index(["sku", "location", "week"])
    at = pd.MultiIndex.from_arrays([np.repeat(keys["sku"].to_numpy(), len(weeks)), np.repeat(keys["location"].to_numpy(), len(weeks)),
                                    np.tile(weeks, len(keys))])
    shape = (len(keys), len(weeks))
    receipts = p["constrained_receipts_qty"].reindex(at).fillna(0.0).to_numpy().reshape(shape)
    first = p["constrained_projected_on_hand"].reindex(at).to_numpy().reshape(shape)[:, 0]
    demand0 = p["demand_qty"].reindex(at).to_numpy().reshape(shape)[:, 0]
    on_hand = np.nan_to_num(first - receipts[:, 0] + demand0)
    return on_hand[:, None] + np.cumsum(receipts, axis=1)


def order_lines(open_orders: pd.DataFrame, customers: pd.DataFrame, products: pd.DataFrame, weeks: pd.DatetimeIndex, default_tier: int,
                sensed: pd.DataFrame | None = None, forecast_tier: int = 0) -> pd.DataFrame:
    """One row per line to allocate within the horizon: ``line_id`` (its position in ``open_orders``; -1 for forecast
    lines), keys, customer and its targets, ``tier``, ``min_fill``, ``margin``, ``week`` (requested), ``t`` (its
    position in the horizon, past due = 0), ``qty``."""
    o = open_orders.reindex(columns=["sku", "location", "week", "qty", *LINE_COLUMNS]).copy()
    o.insert(0, "line_id", np.arange(len(o), dtype=np.int64))
    o["customer"] = o["customer"].astype("string").fillna("(none)").astype(str)
    cust = customers.assign(customer=customers["customer"].astype(str)).set_index("customer") if len(customers) else pd.DataFrame()
    for column in ("tier", "min_fill_rate", "fill_rate_target", "otif_target", "channel"):
        o[f"_{column}"] = o["customer"].map(cust[column]) if column in cust else np.nan
    o["channel"] = o["channel"].astype("string").fillna(o["_channel"].astype("string")).fillna("").astype(str)
    o["tier"] = pd.to_numeric(o["priority"], errors="coerce").fillna(o["_tier"]).fillna(default_tier).astype(np.int64)
    o["min_fill"] = o["_min_fill_rate"].astype(float).fillna(0.0)
    o = o.rename(columns={"_fill_rate_target": "fill_rate_target", "_otif_target": "otif_target"})
    if forecast_tier > 0 and sensed is not None and len(sensed):
        o = pd.concat([o, _forecast_lines(open_orders, sensed, weeks, forecast_tier)], ignore_index=True)
    o = o[o["week"] <= weeks[-1]].reset_index(drop=True)  # beyond the horizon: nothing to share yet
    products = products.assign(sku=products["sku"].astype(str)).set_index("sku")
    sku = o["sku"].astype(str)
    # as numbers even without a row (an empty extract's columns are text)
    price = pd.to_numeric(o["unit_price"], errors="coerce").astype(float).fillna(sku.map(products["unit_price"]).astype(float))
    o["margin"] = (price - sku.map(products["unit_cost"]).astype(float)).fillna(0.0).to_numpy(dtype=float)
    o["t"] = np.clip((pd.to_datetime(o["week"]) - weeks[0]).dt.days // 7, 0, len(weeks) - 1).astype(np.int64)
    keep = ["line_id", "order_id", "line", "customer", "channel", "tier", "min_fill", "fill_rate_target", "otif_target", "margin",
            "sku", "location", "week", "promised_week", "t", "qty"]
    return o[keep].astype({"sku": str, "location": str, "qty": float})


def _forecast_lines(open_orders: pd.DataFrame, sensed: pd.DataFrame, weeks: pd.DatetimeIndex, tier: int) -> pd.DataFrame:
    """Per SKU-location and horizon week: sensed demand less the booked units, as a line of the ``tier``."""
    booked = open_orders.assign(sku=open_orders["sku"].astype(str), location=open_orders["location"].astype(str)).groupby(
        ["sku", "location", "week"])["qty"].sum()
    s = sensed[sensed["week"].between(weeks[0], weeks[-1])].assign(sku=lambda f: f["sku"].astype(str), location=lambda f: f["location"].astype(str))
    free = s["sensed_qty"].to_numpy() - booked.reindex(pd.MultiIndex.from_frame(s[["sku", "location", "week"]])).fillna(0.0).to_numpy()
    out = s[["sku", "location", "week"]].assign(qty=np.floor(np.clip(free, 0, None)))
    out = out[out["qty"] > 0]
    return out.assign(line_id=-1, customer=FORECAST, channel="", tier=tier, min_fill=0.0, order_id=None, line=None, priority=np.nan,
                      promised_week=pd.NaT, unit_price=np.nan)
