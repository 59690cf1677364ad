"""What changed since last week: the decision items matched across weeks, and the forecasts that moved.

**Items** are matched by their stable id (:func:`soe_lib.core.items.item_id`: the same kind and keys
give the same id every week). Per run, the items its finance step listed (``execution_items``: every
execution item, before the alert budget; :func:`published_items`). For a week archived before that
table existed, they are derived from its published tables (:func:`items_of_week`):

| kind | one per | money | size |
|---|---|---|---|
| ``sku-location`` | SKU-location with a shortage gap | its gaps' margin at risk | units short |
| ``capacity`` | resource carrying hours into later weeks | margin of the production it cannot finish | peak hours carried |
| ``storage`` | location over its storage capacity | overflow units x ``overflow_cost_per_unit`` | overflow units |

``status``: ``new`` (absent last week), ``closed`` (absent this week), ``worse`` / ``eased`` (the size
moved by more than 10 % and a unit: :func:`soe_lib.core.items.worse`), else ``unchanged``. A
SKU-location item carries its share of the risk bridge's parts (:mod:`.bridge`), which add up to its
money change; ``reason`` names the largest.

**Forecast changes**, per SKU-location over the weeks both runs cover: ``change = sensed now - sensed
then`` split exactly into ``plan_part = sum (1 - w_then) x (plan now - plan then)`` (the new S&OP plan
through last week's blend), ``open_orders_part`` (booked orders lifting the sensed demand above the
chosen forecast, now minus then) and ``actuals_part`` (the rest: new actuals moved the chosen forecast).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.items import eased, item_id, worse

__all__ = ["ITEM_COLUMNS", "forecast_changes", "item_changes", "items_of_week", "published_items"]

ITEM_COLUMNS = ["item_id", "kind", "sku", "location", "resource", "money", "size", "cause"]
PART_WORDS = {
    "week_rolled": "the horizon moved a week", "prices": "prices", "inventory": "stock at the start of the week",
    "plan": "the new S&OP plan", "demand": "sensed demand", "decisions": "recorded decisions", "supply": "ETA moves and orders",
    "capacity": "capacity", "gap_minimum": "small stock-outs",
}


def published_items(execution_items: pd.DataFrame) -> pd.DataFrame:
    """The decision items of a run as its finance step listed them (``execution_items``: every execution
    item, before the alert budget), as :data:`ITEM_COLUMNS`. The same items the meeting saw, by the same
    tests: next week's comparison covers every one of them."""
    out = execution_items.rename(columns={"money_at_risk": "money"})
    for col in ("sku", "location", "resource", "cause"):
        out[col] = out[col].fillna("").astype(str)
    return out[ITEM_COLUMNS].astype({"money": "float64", "size": "float64"}).reset_index(drop=True)


def items_of_week(impact: pd.DataFrame, capacity: pd.DataFrame, storage: pd.DataFrame, lines: pd.DataFrame, products: pd.DataFrame,
                  overflow_cost_per_unit: float = 1.0) -> pd.DataFrame:
    """One row per decision item of a run (see the module doc): item_id, kind, keys, money, size, cause."""
    frames = []
    if len(impact):
        sl = impact.sort_values("margin_at_risk", ascending=False).groupby(["sku", "location"], as_index=False).agg(
            money=("margin_at_risk", "sum"), size=("shortage_qty", "sum"), cause=("cause", "first"))
        frames.append(sl.assign(kind="sku-location", resource="", item_id=item_id("sku-location", sl["sku"], sl["location"])))
    if len(capacity) and "carried_out_hours" in capacity:
        held = capacity[capacity["carried_out_hours"] > 1e-9].groupby("resource", as_index=False)["carried_out_hours"].max().rename(columns={"carried_out_hours": "size"})
        margin = products.set_index("sku")["unit_price"] - products.set_index("sku")["unit_cost"]
        risk = lines[lines["at_risk_qty"] > 0] if len(lines) else lines
        money = (risk["sku"].map(margin).astype(float) * risk["at_risk_qty"]).groupby(risk["bottleneck"]).sum() if len(risk) else pd.Series(dtype=float)
        held["money"] = held["resource"].map(money).fillna(0.0)
        frames.append(held.assign(kind="capacity", sku="", location="", cause="load above available hours", item_id=item_id("capacity", held["resource"])))
    if len(storage):
        over = storage[storage["overflow_qty"] > 0].groupby("location", as_index=False)["overflow_qty"].sum().rename(columns={"overflow_qty": "size"})
        over["money"] = over["size"] * overflow_cost_per_unit
        frames.append(over.assign(kind="storage", sku="", resource="", cause="units held above storage capacity", item_id=item_id("storage", over["location"])))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("money", "size") else "str") for c in ITEM_COLUMNS})
    return pd.concat(frames, ignore_index=True)[ITEM_COLUMNS]


def _reason(status: pd.Series, money_change: pd.Series, parts: pd.DataFrame, size_then: pd.Series, size_now: pd.Series, kind: pd.Series) -> pd.Series:
    """Words: the status, the money change, and the two largest parts (for a SKU-location)."""
    names = np.array(list(parts.columns))
    values = parts.to_numpy(dtype=float)
    order = np.argsort(-np.abs(values), axis=1)[:, :2]
    top = [
        ", ".join(f"{PART_WORDS[names[j].removesuffix('_part')]} {values[i, j]:+,.0f}" for j in order[i] if abs(values[i, j]) >= 0.5)
        for i in range(len(values))
    ]  # one short sentence per changed item (a few hundred a week): readable beats clever here
    money = "money at risk " + money_change.map("{:+,.0f}".format)
    sizes = "size " + size_then.map("{:,.0f}".format) + " -> " + size_now.map("{:,.0f}".format)
    why = pd.Series([f" ({t})" if t else "" for t in top], index=status.index)
    return status + ": " + np.where(kind == "sku-location", money + why, sizes + "; " + money)


def item_changes(then: pd.DataFrame, now: pd.DataFrame, parts: pd.DataFrame) -> pd.DataFrame:
    """The ``item_changes`` table; ``parts``: sku, location and one ``<part>_part`` column per bridge part."""
    both = then.merge(now, on=["item_id", "kind", "sku", "location", "resource"], how="outer", suffixes=("_then", "_now"))
    for col in ("money_then", "money_now", "size_then", "size_now"):
        both[col] = both[col].astype(float).fillna(0.0)
    both["status"] = np.select(
        [both["cause_then"].isna(), both["cause_now"].isna(), worse(both["size_now"], both["size_then"]), eased(both["size_now"], both["size_then"])],
        ["new", "closed", "worse", "eased"], "unchanged",
    )
    part_cols = [f"{name}_part" for name in PART_WORDS]
    both = both.merge(parts.reindex(columns=["sku", "location", *part_cols]), on=["sku", "location"], how="left")
    sl = (both["kind"] == "sku-location").to_numpy()
    both[part_cols] = both[part_cols].astype(float).fillna(0.0).mul(sl, axis=0)
    if both.empty:
        both["reason"] = pd.Series(dtype="str")
        return both.reindex(columns=["item_id", "kind", "sku", "location", "resource", "status", "money_then", "money_now", "size_then", "size_now",
                                     "reason", *part_cols])
    both["reason"] = _reason(both["status"], both["money_now"] - both["money_then"], both[part_cols], both["size_then"], both["size_now"], both["kind"])
    order = {"worse": 0, "new": 1, "closed": 2, "eased": 3, "unchanged": 4}
    both = both.assign(_o=both["status"].map(order), _m=(both["money_now"] - both["money_then"]).abs())
    both = both.sort_values(["_o", "_m"], ascending=[True, False], kind="stable")
    cols = ["item_id", "kind", "sku", "location", "resource", "status", "money_then", "money_now", "size_then", "size_now", "reason", *part_cols]
    return both[cols].reset_index(drop=True)


def forecast_changes(then: pd.DataFrame, now: pd.DataFrame, products: pd.DataFrame, actuals: pd.DataFrame, rows: int = 50) -> pd.DataFrame:
    """The ``forecast_changes`` table (see the module doc): the ``rows`` largest changes in money."""
    keys = ["sku", "location", "week"]
    cols = ["sensed_qty", "plan_qty", "w_stat", "forecast_qty"]
    then, now = (f if "forecast_qty" in f else f.assign(forecast_qty=f["sensed_qty"]) for f in (then, now))  # a week archived before the choice
    common = then[keys + cols].merge(now[keys + cols], on=keys, suffixes=("_then", "_now"))
    for side in ("then", "now"):
        # > 0 where booked orders lifted the chosen forecast
        common[f"floor_{side}"] = common[f"sensed_qty_{side}"].astype(float).fillna(0) - common[f"forecast_qty_{side}"].astype(float).fillna(0)
    common["plan_part"] = (1 - common["w_stat_then"].astype(float).fillna(0)) * (common["plan_qty_now"].astype(float).fillna(0) - common["plan_qty_then"].astype(float).fillna(0))
    common["open_orders_part"] = common["floor_now"] - common["floor_then"]
    g = common.groupby(["sku", "location"], as_index=False).agg(
        sensed_then=("sensed_qty_then", "sum"), sensed_now=("sensed_qty_now", "sum"), plan_part=("plan_part", "sum"), open_orders_part=("open_orders_part", "sum"))
    g["change_qty"] = g["sensed_now"] - g["sensed_then"]
    g["actuals_part"] = g["change_qty"] - g["plan_part"] - g["open_orders_part"]
    g["change_value"] = g["change_qty"] * g["sku"].map(products.set_index("sku")["unit_price"]).astype(float).fillna(0.0)
    passed = then[then["horizon"] == 1][["sku", "location", "week", "sensed_qty"]].rename(columns={"sensed_qty": "last_week_sensed"})
    passed = passed.merge(actuals[["sku", "location", "week", "qty"]], on=["sku", "location", "week"], how="left")
    g = g.merge(passed.drop(columns="week").rename(columns={"qty": "last_week_actual"}), on=["sku", "location"], how="left")
    g["last_week_actual"] = g["last_week_actual"].astype(float).fillna(0.0)  # no row in the extract: nothing sold
    parts = g[["plan_part", "open_orders_part", "actuals_part"]].to_numpy()
    words = np.array(["the new S&OP plan", "booked orders", "new actuals"])
    g["reason"] = words[np.argmax(np.abs(parts), axis=1)] if len(g) else pd.Series(dtype=str)
    g = g.reindex(g["change_value"].abs().sort_values(ascending=False).index).head(rows)
    return g[["sku", "location", "sensed_then", "sensed_now", "change_qty", "change_value", "plan_part", "open_orders_part", "actuals_part",
              "last_week_actual", "last_week_sensed", "reason"]].reset_index(drop=True)
