"""Coverage per SKU-location, the grain of every later step: which inputs cover it, and the warnings
(not errors) a planner should see about what is missing.

All checks are set operations (bincounts over the int series keys, merges with an indicator) over
all SKU-locations at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..core.dataset import Dataset
from ..core.params import HORIZON_WEEKS
from ..core.problems import Problem, problem_for_rows
from ..core.weeks import week_labels, weeks_between

__all__ = ["coverage_problems", "coverage_table"]

KEY = ["sku", "location"]


def coverage_table(data: Dataset, horizon_weeks: int = HORIZON_WEEKS) -> pd.DataFrame:
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

    facts = _facts(data, horizon_weeks, count)
    out["first_actual_week"] = facts["first_actual_week"].reindex(keys).to_numpy()
    out["plan_weeks_in_horizon"] = facts["plan_weeks_in_horizon"]
    out["history_weeks"] = weeks_between(data.week, out["first_actual_week"])
    out["has_actuals"] = out["first_actual_week"].notna()
    out["has_plan"] = facts["has_plan"]
    # the int key column only: from a snapshot no key strings are decoded (data health at 100k series)
    for flag, name in (("has_inventory", "inventory"), ("has_supply", "supply"), ("has_open_orders", "open_orders")):
        out[flag] = count(data.columns(name, ("_series",))) > 0
    return out.drop(columns=["_series"])


def _facts(data: Dataset, horizon_weeks: int, count: Callable[[pd.DataFrame], np.ndarray]) -> dict[str, Any]:
    """First actual week per series key; plan weeks in the horizon and whether there is a plan, per row
    of ``data.series()``: from the tables, or from the facts found while validating them in parts."""
    keys = data.series()["_series"].to_numpy()
    facts = data.facts if data.facts is not None else pd.DataFrame()
    if "first_actual_week" in facts:
        first = facts["first_actual_week"]
    else:
        act = data.columns("actuals", ("_series", "week"))
        first = pd.Series(act["week"].to_numpy()).groupby(act["_series"].to_numpy()).min()
    if "plan_weeks_in_horizon" in facts:
        known = facts.reindex(keys)
        return {"first_actual_week": first, "plan_weeks_in_horizon": known["plan_weeks_in_horizon"].fillna(0).astype(int).to_numpy(),
                "has_plan": known["has_plan"].fillna(False).astype(bool).to_numpy()}
    plan = data.columns("demand_plan", ("_series", "week"))
    horizon_end = data.week + pd.Timedelta(weeks=horizon_weeks)
    in_h = plan[(plan["week"] >= data.week) & (plan["week"] < horizon_end)]
    # the plan key is unique per week
    return {"first_actual_week": first, "plan_weeks_in_horizon": count(in_h), "has_plan": count(plan) > 0}


def _labels(data: Dataset) -> dict[str, str]:
    return {t: (s.label if s else t) for t, s in ((t, data.sources.get(t)) for t in data.tables)}


def _coverage_warnings(data: Dataset, cov: pd.DataFrame, horizon_weeks: int) -> list[Problem]:
    """SKU-locations with actuals but no plan, a plan short of the horizon, or no inventory row."""
    label = _labels(data)
    checks = (
        ("demand_plan", "sku", "plan for every item", "have actuals but no demand plan", cov["has_actuals"] & ~cov["has_plan"]),
        ("demand_plan", "week", f"plan covers {horizon_weeks} weeks", f"have a plan that stops before the end of the {horizon_weeks}-week horizon",
         cov["has_plan"] & (cov["plan_weeks_in_horizon"] < horizon_weeks)),
        ("inventory", "sku", "inventory for every item", "have no inventory row (on hand taken as 0)", ~cov["has_inventory"]),
    )
    problems = []
    for table, column, rule, message, mask in checks:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            where = ", ".join(f"{s} @ {loc}" for s, loc in cov.loc[mask, KEY].head(5).itertuples(index=False))
            text = f"{int(mask.sum())} SKU-locations {message}: {where}" + (" ..." if mask.sum() > 5 else "")
            problems.append(Problem("warning", table, label[table], column, rule, text, count=int(mask.sum())))
    return problems


def _past_due(data: Dataset) -> list[Problem]:
    """Open supply expected before the run week: counted as arriving in the run week. Only the ETA column is
    read (at 1M series the supply table in parts is 8.7M lines), and only the examples are labelled."""
    eta = data.columns("supply", ("eta_week",))["eta_week"]
    overdue = np.flatnonzero((eta < data.week).to_numpy())
    if not len(overdue):
        return []
    return [
        problem_for_rows(
            "warning", "supply", _labels(data)["supply"], "eta_week", "expected in the future",
            "open supply lines expected before the run week (past due); counted as arriving in the run week",
            overdue, examples=tuple(week_labels(eta.iloc[overdue[:5]]).astype(str)),
        )
    ]


def _routing_gaps(data: Dataset) -> list[Problem]:
    """Production without a routing (no capacity check), and routed resources without capacity rows."""
    if not (data.has("capacity") and data.has("routings")):
        return []
    label = _labels(data)["routings"]
    problems = []
    # production's SKU-locations by their int key, then their names (no key strings of 8.7M lines decoded)
    lines = data.columns("supply", ("_series", "kind"))
    made = np.unique(lines["_series"].to_numpy()[lines["kind"].eq("production").fillna(False).to_numpy(dtype=bool)])
    series = data.series()
    prod = series[np.isin(series["_series"].to_numpy(), made)][KEY].astype(str)
    routed = prod.merge(data.routings[KEY].astype(str).drop_duplicates(), on=KEY, how="left", indicator=True)
    missing = routed["_merge"].eq("left_only").to_numpy()
    if missing.any():
        problems.append(
            Problem("warning", "routings", label, "resource", "routing for production",
                    f"{int(missing.sum())} SKU-locations with production supply have no routing (no capacity check)", count=int(missing.sum()))
        )
    unknown = ~data.routings["resource"].isin(data.capacity["resource"]).to_numpy()
    if unknown.any():
        problems.append(
            problem_for_rows("warning", "routings", label, "resource", "resource in capacity",
                             "resource has no capacity rows (treated as unlimited)", np.flatnonzero(unknown), data.routings["resource"])
        )
    return problems


def _master_data(data: Dataset) -> list[Problem]:
    """Financial-plan families without products, and products costing more than they sell for."""
    label = _labels(data)
    problems = []
    if data.has("financial_plan"):
        unknown = ~data.financial_plan["family"].isin(data.products["family"].drop_duplicates()).to_numpy()  # a few families, not 333k rows
        if unknown.any():
            problems.append(
                problem_for_rows("warning", "financial_plan", label["financial_plan"], "family", "family in products",
                                 "family has no products", np.flatnonzero(unknown), data.financial_plan["family"])
            )
    margin = (data.products["unit_cost"] > data.products["unit_price"]).to_numpy()
    if margin.any():
        problems.append(
            problem_for_rows("warning", "products", label["products"], "unit_cost", "cost <= price",
                             "unit cost above unit price (negative margin)", np.flatnonzero(margin), data.products["sku"])
        )
    return problems


def coverage_problems(data: Dataset, horizon_weeks: int = HORIZON_WEEKS) -> list[Problem]:
    """Warnings for the data-health report (they never stop a run)."""
    cov = coverage_table(data, horizon_weeks)
    return _coverage_warnings(data, cov, horizon_weeks) + _past_due(data) + _routing_gaps(data) + _master_data(data)
