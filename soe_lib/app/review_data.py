"""What the review app shows, as plain data (unit-testable without a browser).

Everything comes from what the weekly run wrote in ``outputs/<week>/`` (tables and the archived
inputs) and from the action log; nothing is recomputed except the what-if of one SKU-location.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.projection import project
from ..core.weeks import parse_weeks
from ..io.archive import list_runs

__all__ = ["KPI_NAMES", "ReviewWeek", "WhatIf", "available_weeks", "filter_items", "kpi_tiles", "what_if"]

KPI_NAMES = (
    "plan accuracy", "plan bias", "projected fill rate", "revenue at risk", "margin at risk",
    "gap to financial plan", "open actions", "overdue actions",
)


def _read(path: Path, damaged: dict[str, str]) -> pd.DataFrame:
    """A run table; sku and location as categoricals, so picking one item out of millions of rows
    compares integer codes, not strings. A file that cannot be read is noted in ``damaged`` (for the
    page to say) and read as empty, so the rest of the page still works."""
    if not path.exists():
        return pd.DataFrame()
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # a damaged file: name it, never show its path or a traceback
        damaged[f"{path.parent.name}/{path.stem}"] = type(exc).__name__
        return pd.DataFrame()
    for col in ("sku", "location"):
        if col in frame and len(frame) > 10_000:
            frame[col] = frame[col].astype("category")
    return frame


def available_weeks(out: Path) -> list[str]:
    """Weeks with a successful run, newest first."""
    return [r["week"] for r in list_runs(out) if r.get("status") == "succeeded"]


@dataclass(frozen=True)
class ReviewWeek:
    folder: Path
    damaged: dict[str, str] = field(default_factory=dict, compare=False, hash=False)  # tables that cannot be read

    @property
    def week(self) -> str:
        return self.folder.name

    @functools.cache  # noqa: B019 (one ReviewWeek per selected week; the cache lives with it)
    def table(self, name: str) -> pd.DataFrame:
        return _read(self.folder / "tables" / f"{name}.parquet", self.damaged)

    @functools.cache  # noqa: B019
    def inputs(self, name: str) -> pd.DataFrame:
        return _read(self.folder / "inputs" / f"{name}.parquet", self.damaged)

    @functools.cache  # noqa: B019 (every filter change and selection reads it)
    def items(self) -> pd.DataFrame:
        """The decision list with each item's family (for filtering)."""
        items = self.table("decision_list")
        if items.empty:
            return items
        family = self.inputs("products").set_index("sku")["family"] if len(self.inputs("products")) else pd.Series(dtype=str)
        return items.assign(family=items["sku"].map(family).fillna(""))

    def headline(self) -> dict[str, float]:
        """The numbers behind the KPI tiles (see :data:`KPI_NAMES`, without the action counts)."""
        total = self.table("forecast_accuracy_by_total")
        supply = self.table("supply_headline")
        impact = self.table("financial_impact")
        pve = self.table("plan_vs_estimate")
        fill = supply.set_index("measure")["value"].get("projected fill rate", np.nan) if len(supply) else np.nan
        return {
            "plan accuracy": float(total["accuracy"].iloc[0]) if len(total) else np.nan,
            "plan bias": float(total["bias"].iloc[0]) if len(total) else np.nan,
            "projected fill rate": float(fill),
            "revenue at risk": float(impact["revenue_at_risk"].sum()) if len(impact) else 0.0,
            "margin at risk": float(impact["margin_at_risk"].sum()) if len(impact) else 0.0,
            "gap to financial plan": float(pve["gap"].sum()) if len(pve) and pve["revenue_plan"].notna().any() else np.nan,
        }

    def series_rows(self, sku: str, location: str) -> dict[str, pd.DataFrame]:
        """Everything about one SKU-location for the drill-down."""
        def pick(frame: pd.DataFrame) -> pd.DataFrame:
            if frame.empty or "sku" not in frame:
                return frame
            return frame[(frame["sku"] == sku) & (frame["location"] == location)].reset_index(drop=True)

        routes = pick(self.inputs("routings"))
        cap = self.table("capacity_load")
        return {
            "actuals": pick(self.inputs("actuals")),
            "plan": pick(self.inputs("demand_plan")),
            "sensed": pick(self.table("sensed_demand")),
            "projection": pick(self.table("inventory_projection")),
            "orders": pick(self.table("inbound_delays")),
            "options": pick(self.table("countermeasures")),
            "gaps": pick(self.table("supply_gaps")),
            "causes": pick(self.table("gap_causes")),
            "capacity": cap[cap["resource"].isin(routes["resource"])] if len(cap) and len(routes) else pd.DataFrame(),
            "inventory": pick(self.inputs("inventory")),
            "product": self.inputs("products")[self.inputs("products")["sku"] == sku],
        }


def kpi_tiles(current: dict[str, float], previous: dict[str, float] | None, actions: dict[str, int]) -> pd.DataFrame:
    """One row per tile: name, value, previous value and change (NaN without a previous week)."""
    values = {**current, **{k: float(v) for k, v in actions.items()}}
    rows = []
    for name in KPI_NAMES:
        value = values.get(name, np.nan)
        before = (previous or {}).get(name, np.nan)
        rows.append({"kpi": name, "value": value, "previous": before, "change": value - before})
    return pd.DataFrame(rows)


def filter_items(items: pd.DataFrame, family: str = "", location: str = "", cause: str = "", severity: str = "") -> pd.DataFrame:
    """The decision-list rows matching every non-empty filter."""
    mask = np.ones(len(items), dtype=bool)
    for col, value in (("family", family), ("location", location), ("cause", cause), ("severity", severity)):
        if value:
            mask &= (items[col] == value).to_numpy()
    return items[mask]


@dataclass
class WhatIf:
    weeks: pd.DatetimeIndex
    projected: np.ndarray
    shortage_qty: float  # units not served on time over the horizon
    margin_at_risk: float
    revenue_at_risk: float


def what_if(
    rows: dict[str, pd.DataFrame],
    demand_pct: float = 0.0,
    move_order: str | None = None,
    move_weeks: int = 0,
    transfer_qty: float = 0.0,
    transfer_week: int = 0,
) -> WhatIf:
    """Recompute one SKU-location's projection: demand x (1 + pct/100), one inbound order moved by
    ``move_weeks`` (capped to the horizon), a transfer of ``transfer_qty`` landing in horizon week
    ``transfer_week`` (negative: stock sent away). Receipts are the capacity-constrained ones; the formulas of :mod:`soe_lib.core.projection`."""
    proj = rows["projection"].copy()
    weeks = pd.DatetimeIndex(parse_weeks(proj["week"]))
    demand = proj["demand_qty"].to_numpy(dtype=float) * (1 + demand_pct / 100.0)
    receipts = proj["constrained_receipts_qty"].to_numpy(dtype=float).copy()
    orders = rows["orders"]
    if move_order and move_weeks and len(orders):
        line = orders[orders["order_id"] == move_order]
        if len(line):
            eta = parse_weeks(line["eta_week"]).iloc[0]
            qty = float(line["constrained_qty"].iloc[0]) if "constrained_qty" in line else float(line["qty"].iloc[0])
            old = weeks.get_indexer([max(eta, weeks[0])])[0]
            new = int(np.clip((old if old >= 0 else len(weeks)) + move_weeks, 0, len(weeks)))
            if old >= 0:
                receipts[old] -= qty
            if new < len(weeks):
                receipts[new] += qty
    if transfer_qty:
        receipts[int(np.clip(transfer_week, 0, len(weeks) - 1))] += transfer_qty
    on_hand = float(rows["inventory"]["on_hand"].iloc[0]) if len(rows["inventory"]) else 0.0
    p = project(np.array([on_hand]), receipts[None, :], demand[None, :])
    short = float(p.short_new.sum())
    product = rows["product"]
    price = float(product["unit_price"].iloc[0]) if len(product) else 0.0
    cost = float(product["unit_cost"].iloc[0]) if len(product) else 0.0
    return WhatIf(weeks, p.projected[0], short, short * (price - cost), short * price)
