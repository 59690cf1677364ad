"""Data health: what was loaded, what is missing, and the warnings a planner should see first.

Coverage is judged per SKU-location, the grain of every later step. All checks are set operations
(merges with an indicator) over all SKU-locations at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .validation import Problem, problem_for_rows
from .weeks import week_label, week_labels

if TYPE_CHECKING:
    from .loading import Dataset

__all__ = ["coverage_problems", "coverage_summary", "coverage_table", "load_summary", "weekly_totals"]

KEY = ["sku", "location"]


def load_summary(data: Dataset) -> pd.DataFrame:
    """One row per table: source file, rows, first/last week, distinct SKUs and locations."""
    records = []
    for name, frame in data.tables.items():
        source = data.sources.get(name)
        weeks = frame["week"].dropna() if "week" in frame else pd.Series(dtype="datetime64[ns]")
        records.append(
            {
                "table": name,
                "file": source.label if source else "(not supplied)",
                "rows": len(frame),
                "first_week": week_label(weeks.min()) if len(weeks) else "",
                "last_week": week_label(weeks.max()) if len(weeks) else "",
                "weeks": int(weeks.nunique()),
                "skus": int(frame["sku"].nunique()) if "sku" in frame else 0,
                "locations": int(frame["location"].nunique()) if "location" in frame else 0,
            }
        )
    return pd.DataFrame.from_records(records)


def coverage_table(data: Dataset, horizon_weeks: int = 13) -> pd.DataFrame:
    """Per SKU-location: which inputs cover it and how much history it has.

    Columns: sku, location, first_actual_week, history_weeks (run week - first actual week),
    plan_weeks_in_horizon, has_actuals, has_plan, has_inventory, has_supply, has_open_orders.
    Computed on the int series keys: one bincount per table.
    """
    out = data.series()
    keys = out["_series"].to_numpy()
    size = int(keys.max()) + 1 if len(keys) else 0

    def count(frame: pd.DataFrame) -> np.ndarray:
        return np.bincount(frame["_series"].to_numpy(), minlength=size)[keys] if size else np.zeros(0, dtype=int)

    act = data.actuals
    first = pd.Series(act["week"].to_numpy()).groupby(act["_series"].to_numpy()).min()
    out["first_actual_week"] = first.reindex(keys).to_numpy()
    plan = data.demand_plan
    horizon_end = data.week + pd.Timedelta(weeks=horizon_weeks)
    in_h = plan[(plan["week"] >= data.week) & (plan["week"] < horizon_end)]
    out["plan_weeks_in_horizon"] = count(in_h)  # the plan key is unique per week
    out["history_weeks"] = ((data.week - out["first_actual_week"]).dt.days // 7).astype("Int64")
    out["has_actuals"] = out["first_actual_week"].notna()
    out["has_plan"] = count(plan) > 0
    out["has_inventory"] = count(data.inventory) > 0
    out["has_supply"] = count(data.supply) > 0
    out["has_open_orders"] = count(data.open_orders) > 0
    return out.drop(columns=["_series"])


def coverage_summary(coverage: pd.DataFrame) -> pd.DataFrame:
    """Counts of SKU-locations missing each input (the coverage-gap table in the data-health notebook)."""
    n = len(coverage)
    checks = {
        "no actuals (new item?)": ~coverage["has_actuals"],
        "no demand plan": ~coverage["has_plan"],
        "plan does not cover the horizon": coverage["has_plan"] & (coverage["plan_weeks_in_horizon"] == 0),
        "no inventory record (on hand taken as 0)": ~coverage["has_inventory"],
        "no open supply": ~coverage["has_supply"],
        "short history (< 26 weeks)": coverage["history_weeks"].fillna(0) < 26,
    }
    return pd.DataFrame(
        {
            "gap": list(checks),
            "sku_locations": [int(v.sum()) for v in checks.values()],
            "share": [float(v.sum()) / n if n else 0.0 for v in checks.values()],
        }
    )


def coverage_problems(data: Dataset, horizon_weeks: int = 13) -> list[Problem]:
    """Warnings for the data-health report (they never stop a run)."""
    problems: list[Problem] = []
    cov = coverage_table(data, horizon_weeks)
    label = {t: (s.label if s else t) for t, s in ((t, data.sources.get(t)) for t in data.tables)}

    def warn(table: str, column: str, rule: str, message: str, mask: pd.Series) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            problems.append(
                Problem(
                    "warning",
                    table,
                    label[table],
                    column,
                    rule,
                    f"{int(mask.sum())} SKU-locations {message}: "
                    + ", ".join(f"{s} @ {loc}" for s, loc in cov.loc[mask, KEY].head(5).itertuples(index=False))
                    + (" ..." if mask.sum() > 5 else ""),
                    count=int(mask.sum()),
                )
            )

    warn("demand_plan", "sku", "plan for every item", "have actuals but no demand plan", cov["has_actuals"] & ~cov["has_plan"])
    warn(
        "demand_plan",
        "week",
        f"plan covers {horizon_weeks} weeks",
        f"have a plan that stops before the end of the {horizon_weeks}-week horizon",
        cov["has_plan"] & (cov["plan_weeks_in_horizon"] < horizon_weeks),
    )
    warn("inventory", "sku", "inventory for every item", "have no inventory row (on hand taken as 0)", ~cov["has_inventory"])

    supply = data.supply
    overdue = (supply["eta_week"] < data.week).to_numpy()
    if overdue.any():
        problems.append(
            problem_for_rows(
                "warning",
                "supply",
                label["supply"],
                "eta_week",
                "expected in the future",
                "open supply lines expected before the run week (past due); counted as arriving in the run week",
                np.flatnonzero(overdue),
                week_labels(supply["eta_week"]),
            )
        )
    if data.has("capacity") and data.has("routings"):
        prod = supply[supply["kind"].eq("production").fillna(False)][KEY].drop_duplicates()
        routed = prod.merge(data.routings[KEY].drop_duplicates(), on=KEY, how="left", indicator=True)
        missing = routed["_merge"].eq("left_only").to_numpy()
        if missing.any():
            problems.append(
                Problem(
                    "warning",
                    "routings",
                    label["routings"],
                    "resource",
                    "routing for production",
                    f"{int(missing.sum())} SKU-locations with production supply have no routing (no capacity check)",
                    count=int(missing.sum()),
                )
            )
        unknown = ~data.routings["resource"].isin(data.capacity["resource"]).to_numpy()
        if unknown.any():
            problems.append(
                problem_for_rows(
                    "warning",
                    "routings",
                    label["routings"],
                    "resource",
                    "resource in capacity",
                    "resource has no capacity rows (treated as unlimited)",
                    np.flatnonzero(unknown),
                    data.routings["resource"],
                )
            )
    if data.has("financial_plan"):
        unknown = ~data.financial_plan["family"].isin(data.products["family"]).to_numpy()
        if unknown.any():
            problems.append(
                problem_for_rows(
                    "warning",
                    "financial_plan",
                    label["financial_plan"],
                    "family",
                    "family in products",
                    "family has no products",
                    np.flatnonzero(unknown),
                    data.financial_plan["family"],
                )
            )
    margin = (data.products["unit_cost"] > data.products["unit_price"]).to_numpy()
    if margin.any():
        problems.append(
            problem_for_rows(
                "warning",
                "products",
                label["products"],
                "unit_cost",
                "cost <= price",
                "unit cost above unit price (negative margin)",
                np.flatnonzero(margin),
                data.products["sku"],
            )
        )
    return problems


def weekly_totals(data: Dataset, weeks_back: int = 52, horizon_weeks: int = 13) -> pd.DataFrame:
    """Total actual and planned units per week (long format: week, measure, qty) for the health chart."""
    start = data.week - pd.Timedelta(weeks=weeks_back)
    end = data.week + pd.Timedelta(weeks=horizon_weeks)
    parts = []
    for measure, frame in (("actual", data.actuals), ("plan", data.demand_plan), ("open orders", data.open_orders)):
        sel = frame[(frame["week"] >= start) & (frame["week"] < end)]
        parts.append(sel.groupby("week", as_index=False)["qty"].sum().assign(measure=measure))
    out = pd.concat(parts, ignore_index=True)
    return out[["week", "measure", "qty"]]
