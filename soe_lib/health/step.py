"""Data health, the first step of the weekly cycle: what was loaded, what is missing, and demand at a glance.

The validation findings themselves come with the snapshot (:attr:`Dataset.report`); coverage per
SKU-location from :mod:`soe_lib.io.coverage`. :data:`HEALTH` is the step (:mod:`soe_lib.core.step`); it runs
whole (a few sums per table), beside the chain of the other notebooks.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..core.dataset import Dataset, LazyTables
from ..core.params import HORIZON_WEEKS
from ..core.step import Step, StepContext
from ..core.weeks import week_label
from ..io.coverage import coverage_table

__all__ = ["HEALTH", "HealthStep", "HealthWeek", "coverage_summary", "data_health", "load_summary", "weekly_totals"]


def load_summary(data: Dataset) -> pd.DataFrame:
    """One row per table: source file, rows, first/last week, distinct SKUs and locations."""
    records = []
    for name in data.tables:
        source = data.sources.get(name)
        if name in data.profiles and not _held(data, name):  # validated in parts: its profile, not its rows
            profile = data.profiles[name]
            records.append({"table": name, "file": source.label if source else "(not supplied)",
                            **{k: profile[k] for k in ("rows", "first_week", "last_week", "weeks", "skus", "locations")}})
            continue
        frame = data.tables[name]
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


def _held(data: Dataset, name: str) -> bool:
    """True when table ``name`` is in memory (not only in storage)."""
    return not isinstance(data.tables, LazyTables) or data.tables.held(name)


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


def weekly_totals(data: Dataset, weeks_back: int = 52, horizon_weeks: int = HORIZON_WEEKS) -> pd.DataFrame:
    """Total actual and planned units per week (long format: week, measure, qty) for the health chart."""
    start = data.week - pd.Timedelta(weeks=weeks_back)
    end = data.week + pd.Timedelta(weeks=horizon_weeks)
    parts = []
    for measure, name in (("actual", "actuals"), ("plan", "demand_plan"), ("open orders", "open_orders")):
        if name in data.profiles and not _held(data, name):  # validated in parts: units per week from its profile
            sums = data.profiles[name]["weekly"]
            sums = sums[(sums.index >= start) & (sums.index < end)]
            parts.append(pd.DataFrame({"week": pd.DatetimeIndex(sums.index), "qty": sums.to_numpy(dtype=float)}).assign(measure=measure))
            continue
        frame = data.tables[name]
        # two columns only: filtering whole frames copies millions of key strings at 100k series
        week, qty = frame["week"], frame["qty"]
        keep = ((week >= start) & (week < end)).to_numpy()
        sums = qty[keep].groupby(week[keep]).sum()
        parts.append(pd.DataFrame({"week": sums.index, "qty": sums.to_numpy()}).assign(measure=measure))
    out = pd.concat(parts, ignore_index=True)
    return out[["week", "measure", "qty"]]


@dataclass
class HealthWeek:
    """The data-health step's result: its three tables."""

    loaded: pd.DataFrame  # data_health
    issues: pd.DataFrame  # validation_issues
    coverage: pd.DataFrame

    def coverage_gaps(self) -> pd.DataFrame:
        return coverage_summary(self.coverage)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"data_health": self.loaded, "validation_issues": self.issues, "coverage": self.coverage}


def data_health(data: Dataset, horizon_weeks: int = HORIZON_WEEKS) -> HealthWeek:
    """What was loaded, the validation findings that did not stop the run, and coverage per SKU-location."""
    return HealthWeek(load_summary(data), data.report.to_frame(), coverage_table(data, horizon_weeks))


class HealthStep(Step):
    """Step 1 on the step protocol: whole, from the snapshot alone."""

    name = "health"
    notebook = "01_data_health.ipynb"
    title = "data health"

    def run(self, ctx: StepContext) -> HealthWeek:
        return data_health(ctx.data, ctx.horizon_weeks)


HEALTH = HealthStep()
