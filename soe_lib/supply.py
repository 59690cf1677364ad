"""Supply gap analysis: will supply be there, and if not, where, when, how much and why.

Three projections per SKU-location over the horizon (:mod:`soe_lib.projection`):

- **plan**: the S&OP demand plan against receipts at their *planned* week;
- **current**: sensed demand against receipts at their current ETA (``projected_on_hand``);
- **constrained**: as current, with production receipts scaled to what capacity allows
  (:mod:`soe_lib.capacity`). Gaps are found on this one: it is the most realistic.

A **gap** is a run of weeks where the constrained projection is negative (``kind = shortage``); runs of
weeks at or above zero but below safety stock are reported separately (``kind = below_safety_stock``).
For each gap: first/last/peak week, weeks short, peak and total units short, and its **root cause** from
an exact decomposition at the peak week ``p`` (cumulative sums from the run week)::

    level - constrained_projected[p] = (level - plan_projected[p])          plan already short
                                     + (demand[..p] - plan_demand[..p])       demand above plan
                                     + (plan_receipts[..p] - receipts[..p])   supply late (or smaller)
                                     + (receipts[..p] - constrained[..p])     capacity shortfall

with ``level`` = 0 for a shortage and the safety stock for a safety-stock gap (the plan term counts
only when positive: a plan with a cushion absorbs part of the other causes). Each positive term is a cause; ``cause`` is the largest, ``causes`` all of those worth at least 10 % of
the peak, with the late orders and the bottleneck resources that produced them.
Storage: units held per location when receipts land (stock brought in + receipts) vs ``storage_capacity``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .capacity import capacity_load, constrain_production
from .cycle import WeekRun
from .inbound import delay_summary, line_delays
from .panel import _positions, to_matrix
from .projection import Projection, project, runs, weeks_of_supply
from .weeks import parse_weeks

__all__ = ["CAUSES", "SupplyWeek", "analyse_supply", "sensed_demand_for"]

CAUSES = ("plan already short", "demand above plan", "supply late", "capacity shortfall")
GAP_COLUMNS = {
    "sku": "str", "location": "str", "_series": "int64", "kind": "str", "first_week": "datetime64[ns]",
    "last_week": "datetime64[ns]", "peak_week": "datetime64[ns]", "weeks_short": "int64", "open_at_horizon_end": "bool",
    "peak_shortage_qty": "float64", "shortage_qty": "float64", "plan_projected_at_peak": "float64",
    "plan_short_qty": "float64", "demand_above_plan_qty": "float64", "supply_late_qty": "float64",
    "capacity_shortfall_qty": "float64", "cause": "str", "causes": "str", "late_orders": "str",
    "late_order_count": "int64", "bottleneck_resources": "str",
}
MIN_CAUSE_SHARE = 0.1


@dataclass
class SupplyWeek:
    series: pd.DataFrame  # sku, location, family, unit_price, unit_cost, safety_stock, _series
    weeks: pd.DatetimeIndex
    plan: Projection
    current: Projection
    constrained: Projection
    projection: pd.DataFrame
    gaps: pd.DataFrame
    lines: pd.DataFrame  # supply lines with delay, constrained qty, creates_shortage
    capacity: pd.DataFrame
    storage: pd.DataFrame
    by_supplier: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_kind: pd.DataFrame = field(default_factory=pd.DataFrame)

    def save(self, run: WeekRun) -> None:
        run.save("inventory_projection", self.projection)
        run.save("supply_gaps", self.gaps)
        run.save("inbound_delays", self.lines)
        run.save("inbound_delays_by_supplier", self.by_supplier)
        run.save("inbound_delays_by_kind", self.by_kind)
        run.save("capacity_load", self.capacity)
        run.save("storage_load", self.storage)
        run.save("supply_headline", self.headline())

    def focus(self, sku: str | None, location: str | None) -> tuple[str, str]:
        """The SKU-location to chart: the one asked for, else the one with the deepest shortage."""
        if sku is not None and location is not None:
            return str(sku), str(location)
        short = self.gaps[self.gaps["kind"] == "shortage"]
        top = (short if len(short) else self.gaps).sort_values("peak_shortage_qty", ascending=False)
        if not len(top):
            return str(self.series["sku"].iloc[0]), str(self.series["location"].iloc[0])
        return str(top["sku"].iloc[0]), str(top["location"].iloc[0])

    def headline(self) -> pd.DataFrame:
        """The numbers a planner reads first: gaps, units short, fill rate, late lines, overloads, overflows."""
        short = self.gaps[self.gaps["kind"] == "shortage"]
        demand = self.constrained.demand.sum()
        return pd.DataFrame(
            {
                "measure": [
                    "SKU-locations", "shortage gaps", "SKU-locations short", "units short (total over gaps)",
                    "projected fill rate", "below-safety-stock gaps", "late inbound lines", "late lines causing a shortage",
                    "overloaded resource-weeks", "storage overflow location-weeks",
                ],
                "value": [
                    len(self.series), len(short), short[["sku", "location"]].drop_duplicates().shape[0], short["shortage_qty"].sum(),
                    1 - self.constrained.short_new.sum() / demand if demand > 0 else 1.0,
                    int((self.gaps["kind"] == "below_safety_stock").sum()), int(self.lines["late"].sum()),
                    int(self.lines["creates_shortage"].sum()), int(self.capacity["overloaded"].sum()) if len(self.capacity) else 0,
                    int(self.storage["overflow"].sum()),
                ],
            }
        )

    def gap_summary(self, by: str) -> pd.DataFrame:
        """Shortage gaps counted and summed by ``by`` (cause, location, family)."""
        gaps = self.gaps[self.gaps["kind"] == "shortage"].merge(self.series[["sku", "location", "family"]], on=["sku", "location"], how="left")
        return (
            gaps.groupby(by, as_index=False)
            .agg(gaps=("sku", "size"), shortage_qty=("shortage_qty", "sum"), peak_shortage_qty=("peak_shortage_qty", "sum"))
            .sort_values("shortage_qty", ascending=False)
            .reset_index(drop=True)
        )


def sensed_demand_for(run: WeekRun) -> pd.DataFrame:
    """The sensed demand this run's notebook 02 wrote; computed here (default parameters) if it has not."""
    try:
        sensed = run.load("sensed_demand")
    except FileNotFoundError:
        from .demand import sense_week

        print("sensed_demand not found for this run (notebook 02 not run yet): sensing with default parameters")
        run.save("sensed_demand", sense_week(run).sensed)
        sensed = run.load("sensed_demand")
    sensed["week"] = parse_weeks(sensed["week"])
    return sensed


def _matrix(frame: pd.DataFrame, series: pd.DataFrame, weeks: pd.DatetimeIndex, week_col: str, qty_col: str) -> np.ndarray:
    """Sum ``qty_col`` by series and ``week_col``; weeks before the horizon count in its first week."""
    f = frame[["_series", week_col, qty_col]].rename(columns={week_col: "week", qty_col: "qty"}) if "_series" in frame else frame.rename(columns={week_col: "week", qty_col: "qty"})
    f = f.assign(week=f["week"].clip(lower=weeks[0]))  # past due: arrives in the run week
    return to_matrix(f, series, weeks)


def analyse_supply(run: WeekRun, sensed: pd.DataFrame, cover_weeks: int = 4, min_gap_qty: float = 1.0) -> SupplyWeek:
    """Project, find gaps and their causes, delays, capacity and storage for the run week.

    ``min_gap_qty``: a gap must go at least this many units below zero (or below safety stock):
    sensed demand is fractional, and a 0.2-unit "shortage" is not worth a meeting's minute.
    """
    data = run.data
    weeks = pd.date_range(data.week, periods=run.horizon_weeks, freq="7D")
    series = data.series().merge(data.products[["sku", "family", "unit_price", "unit_cost"]], on="sku", how="left")
    inv = data.inventory
    on_hand = np.zeros(len(series))
    safety = np.zeros(len(series))
    rows = _positions(inv, series)  # no inventory row: 0 on hand, 0 safety stock (a data-health warning)
    on_hand[rows], safety[rows] = inv["on_hand"].to_numpy(), inv["safety_stock"].to_numpy()
    series["on_hand"], series["safety_stock"] = on_hand, safety

    # demand: sensed (current) and the S&OP plan
    sensed_keys = sensed.merge(series[["sku", "location", "_series"]], on=["sku", "location"], how="inner")
    demand = to_matrix(sensed_keys, series, weeks, "sensed_qty")
    plan_demand = to_matrix(data.demand_plan, series, weeks, "qty")

    # supply: planned week, current ETA, and what capacity allows
    supply = data.supply
    load = capacity_load(supply, data.routings, data.capacity, weeks)  # empty without routings/capacity
    constrained_lines = constrain_production(supply, data.routings, load)
    sup = supply.assign(constrained_qty=constrained_lines["constrained_qty"].to_numpy())
    plan_receipts = _matrix(sup, series, weeks, "week", "qty")
    receipts = _matrix(sup, series, weeks, "eta_week", "qty")
    constrained_receipts = _matrix(sup, series, weeks, "eta_week", "constrained_qty")

    plan = project(on_hand, plan_receipts, plan_demand)
    current = project(on_hand, receipts, demand)
    constrained = project(on_hand, constrained_receipts, demand)

    projection = _projection_table(series, weeks, plan, current, constrained, safety, cover_weeks)
    lines = line_delays(supply).assign(
        constrained_qty=constrained_lines["constrained_qty"].to_numpy(),
        at_risk_qty=constrained_lines["at_risk_qty"].to_numpy(),
        bottleneck=constrained_lines["bottleneck"].to_numpy(),
    )
    gaps = _gaps(series, weeks, plan, current, constrained, safety, lines, supply, min_gap_qty)
    lines = _mark_lines(lines, supply, gaps, series)
    storage = _storage(data, series, weeks, constrained)
    result = SupplyWeek(series, weeks, plan, current, constrained, projection, gaps, lines, load, storage)
    result.by_supplier = delay_summary(lines, "supplier")
    result.by_kind = delay_summary(lines, "kind")
    return result


def _projection_table(series, weeks, plan, current, constrained, safety, cover_weeks) -> pd.DataFrame:
    n, h = current.projected.shape
    out = series[["sku", "location"]].iloc[np.repeat(np.arange(n), h)].reset_index(drop=True)
    out["week"] = np.tile(weeks.to_numpy(), n)
    cols = {
        "demand_qty": current.demand,
        "receipts_qty": current.receipts,
        "projected_on_hand": current.projected,
        "shortage_qty": current.backlog,
        "weeks_of_supply": weeks_of_supply(current.projected, current.demand, cover_weeks),
        "constrained_receipts_qty": constrained.receipts,
        "constrained_projected_on_hand": constrained.projected,
        "constrained_shortage_qty": constrained.backlog,
        "plan_demand_qty": plan.demand,
        "plan_receipts_qty": plan.receipts,
        "plan_projected_on_hand": plan.projected,
        "plan_shortage_qty": plan.backlog,
    }
    for name, values in cols.items():
        out[name] = values.reshape(-1)
    out["safety_stock"] = np.repeat(safety, h)
    out["below_safety_stock"] = (out["constrained_projected_on_hand"] >= 0) & (out["constrained_projected_on_hand"] < out["safety_stock"])
    return out


def _gaps(series, weeks, plan, current, constrained, safety, lines, supply, min_gap_qty: float = 1.0) -> pd.DataFrame:
    """Shortage runs and safety-stock runs on the constrained projection, with the decomposition."""
    p = constrained.projected
    frames = []
    short = p <= -min_gap_qty
    below = ~short & (p <= safety[:, None] - min_gap_qty) & (p < safety[:, None])
    for kind, mask in (("shortage", short), ("below_safety_stock", below)):
        r, first, last = runs(mask)
        if not len(r):
            continue
        # the peak week of each run: where the projection is lowest (vectorised over runs)
        window = np.where(
            (np.arange(p.shape[1])[None, :] >= first[:, None]) & (np.arange(p.shape[1])[None, :] <= last[:, None]),
            p[r],
            np.inf,
        )
        peak = np.argmin(window, axis=1)

        def cum(m: np.ndarray, r: np.ndarray = r, peak: np.ndarray = peak) -> np.ndarray:
            return np.cumsum(m, axis=1)[r, peak]  # cumulative from the run week to the peak week

        frame = series.iloc[r][["sku", "location", "_series"]].reset_index(drop=True)
        frame["kind"] = kind
        frame["first_week"] = weeks[first]
        frame["last_week"] = weeks[last]
        frame["peak_week"] = weeks[peak]
        frame["weeks_short"] = last - first + 1
        frame["open_at_horizon_end"] = last == p.shape[1] - 1
        if kind == "shortage":
            frame["peak_shortage_qty"] = -p[r, peak]
            idx = np.arange(p.shape[1])[None, :]
            inside = (idx >= first[:, None]) & (idx <= last[:, None])
            frame["shortage_qty"] = np.where(inside, constrained.short_new[r], 0.0).sum(axis=1)
        else:
            frame["peak_shortage_qty"] = safety[r] - p[r, peak]  # units below safety stock at the peak
            frame["shortage_qty"] = 0.0
        plan_at_peak = plan.projected[r, peak]
        level = 0.0 if kind == "shortage" else safety[r]  # what the gap falls below
        frame["plan_projected_at_peak"] = plan_at_peak
        frame["plan_short_qty"] = np.clip(level - plan_at_peak, 0, None)
        frame["demand_above_plan_qty"] = cum(current.demand) - cum(plan.demand)
        frame["supply_late_qty"] = cum(plan.receipts) - cum(current.receipts)
        frame["capacity_shortfall_qty"] = cum(current.receipts) - cum(constrained.receipts)
        frames.append(frame)
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in GAP_COLUMNS.items()})
    gaps = pd.concat(frames, ignore_index=True)
    contrib = np.column_stack(
        [gaps["plan_short_qty"], gaps["demand_above_plan_qty"], gaps["supply_late_qty"], gaps["capacity_shortfall_qty"]]
    ).clip(0, None)
    # the terms add up to the peak shortfall, so at least one is positive
    gaps["cause"] = np.array(CAUSES, dtype=object)[np.argmax(contrib, axis=1)]
    significant = contrib >= MIN_CAUSE_SHARE * np.maximum(gaps["peak_shortage_qty"].to_numpy()[:, None], 1e-9)
    joined = pd.Series("", index=gaps.index)
    for k, name in enumerate(CAUSES):  # four causes, each vectorised over all gaps
        joined = joined + np.where(significant[:, k], name + "; ", "")
    gaps["causes"] = joined.str.rstrip("; ")
    return _attach_orders(gaps, lines, supply)


def _attach_orders(gaps: pd.DataFrame, lines: pd.DataFrame, supply: pd.DataFrame) -> pd.DataFrame:
    """Late orders (planned by the peak week, now due after it) and bottleneck resources per gap."""
    gaps = gaps.reset_index(drop=True)
    gaps["gap_id"] = np.arange(len(gaps))
    lines = lines.assign(_series=supply["_series"].to_numpy(), order=lines["order_id"].fillna("(no id)") if "order_id" in lines else "(no id)")
    pair = gaps[["gap_id", "_series", "peak_week"]].merge(lines[["_series", "order", "week", "eta_week", "qty", "bottleneck", "at_risk_qty"]], on="_series")
    late = pair[(pair["week"] <= pair["peak_week"]) & (pair["eta_week"] > pair["peak_week"])]
    late = late.sort_values(["gap_id", "qty"], ascending=[True, False])
    gaps["late_orders"] = _text_per_gap(late.groupby("gap_id")["order"].agg(lambda s: ", ".join(s.head(5))), gaps["gap_id"])
    gaps["late_order_count"] = gaps["gap_id"].map(late.groupby("gap_id").size()).fillna(0).astype(int)
    tight = pair[(pair["eta_week"] <= pair["peak_week"]) & (pair["at_risk_qty"] > 0)]
    gaps["bottleneck_resources"] = _text_per_gap(
        tight.groupby("gap_id")["bottleneck"].agg(lambda s: ", ".join(sorted(set(s.dropna())))), gaps["gap_id"]
    )
    return gaps.drop(columns=["gap_id"])


def _text_per_gap(values: pd.Series, gap_ids: pd.Series) -> pd.Series:
    """Per-gap text (grouped by gap id) aligned to the gaps; '' where a gap has none."""
    out = values.reindex(gap_ids.to_numpy()).astype(object).to_numpy()
    return pd.Series(np.where(pd.isna(out), "", out), index=gap_ids.index, dtype="str")


def _mark_lines(lines: pd.DataFrame, supply: pd.DataFrame, gaps: pd.DataFrame, series: pd.DataFrame) -> pd.DataFrame:
    """``creates_shortage``: a late line planned by a shortage's peak week that now arrives after it."""
    out = lines.reset_index(drop=True)
    short = gaps[gaps["kind"] == "shortage"][["_series", "peak_week"]]
    out["_series"] = supply["_series"].to_numpy()
    out["_line"] = np.arange(len(out))
    pair = out[["_line", "_series", "week", "eta_week"]].merge(short, on="_series")
    hit = pair[(pair["week"] <= pair["peak_week"]) & (pair["eta_week"] > pair["peak_week"])]["_line"].unique()
    out["creates_shortage"] = out["_line"].isin(hit)
    return out.drop(columns=["_line", "_series"])


def _storage(data, series, weeks, constrained: Projection) -> pd.DataFrame:
    """Units held per location and week (when receipts land, and at week end) vs storage capacity."""
    held = constrained.held()
    end = np.clip(constrained.projected, 0, None)
    locs, codes = np.unique(series["location"].to_numpy(dtype=object), return_inverse=True)
    at_peak = np.zeros((len(locs), len(weeks)))
    at_end = np.zeros((len(locs), len(weeks)))
    np.add.at(at_peak, codes, held)
    np.add.at(at_end, codes, end)
    out = pd.DataFrame(
        {
            "location": np.repeat(locs, len(weeks)).astype(str),
            "week": np.tile(weeks.to_numpy(), len(locs)),
            "units_held": at_peak.reshape(-1),
            "units_end_of_week": at_end.reshape(-1),
        }
    )
    cap = data.locations.set_index("location")["storage_capacity"]
    out["storage_capacity"] = out["location"].map(cap).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["utilization"] = out["units_held"] / out["storage_capacity"]
    out["overflow_qty"] = (out["units_held"] - out["storage_capacity"]).clip(lower=0).fillna(0.0)
    out["overflow"] = out["overflow_qty"] > 0
    return out
