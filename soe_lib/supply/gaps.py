"""Supply gaps: runs of weeks short (or below safety stock) on the capacity-constrained projection, and
their root cause from an exact decomposition at the peak week (see :mod:`soe_lib.supply.step` and
``docs/supply-gaps.md``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .projection import Projection, runs

__all__ = ["CAUSES", "GAP_COLUMNS", "find_gaps", "mark_lines"]

CAUSES = ("plan already short", "demand above plan", "supply late", "capacity shortfall")
GAP_COLUMNS = {
    "gap_id": "int64", "sku": "str", "location": "str", "_series": "int64", "kind": "str", "first_week": "datetime64[ns]",
    "last_week": "datetime64[ns]", "peak_week": "datetime64[ns]", "weeks_short": "int64", "open_at_horizon_end": "bool",
    "peak_shortage_qty": "float64", "shortage_qty": "float64", "plan_projected_at_peak": "float64",
    "plan_short_qty": "float64", "demand_above_plan_qty": "float64", "supply_late_qty": "float64",
    "capacity_shortfall_qty": "float64", "cause": "str", "causes": "str", "late_orders": "str",
    "late_order_count": "int64", "bottleneck_resources": "str",
}
MIN_CAUSE_SHARE = 0.1


def _runs_frame(
    kind: str, mask: np.ndarray, series: pd.DataFrame, weeks: pd.DatetimeIndex, plan: Projection, current: Projection,
    constrained: Projection, safety: np.ndarray,
) -> pd.DataFrame | None:
    """One row per run of ``mask`` (shortage or below safety stock) with its peak and the decomposition."""
    p = constrained.projected
    r, first, last = runs(mask)
    if not len(r):
        return None
    idx = np.arange(p.shape[1])[None, :]
    inside = (idx >= first[:, None]) & (idx <= last[:, None])
    peak = np.argmin(np.where(inside, p[r], np.inf), axis=1)  # the lowest week of each run, vectorised over runs

    def cum(m: np.ndarray) -> np.ndarray:
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
    return frame


def find_gaps(
    series: pd.DataFrame, weeks: pd.DatetimeIndex, plan: Projection, current: Projection, constrained: Projection,
    safety: np.ndarray, lines: pd.DataFrame, supply: pd.DataFrame, min_gap_qty: float = 1.0,
) -> pd.DataFrame:
    """Shortage runs and safety-stock runs on the constrained projection, with the decomposition, the
    cause, the late orders and the bottleneck resources; ``gap_id`` numbers them."""
    p = constrained.projected
    short = p <= -min_gap_qty
    below = ~short & (p <= safety[:, None] - min_gap_qty) & (p < safety[:, None])
    frames = [
        f for kind, mask in (("shortage", short), ("below_safety_stock", below))
        if (f := _runs_frame(kind, mask, series, weeks, plan, current, constrained, safety)) is not None
    ]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in GAP_COLUMNS.items()})
    gaps = pd.concat(frames, ignore_index=True)
    gaps["cause"], gaps["causes"] = _causes(gaps)
    return _attach_orders(gaps, lines, supply)


def _causes(gaps: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
    """The largest positive term of each gap's decomposition, and every term worth >= 10 % of the peak."""
    contrib = np.column_stack(
        [gaps["plan_short_qty"], gaps["demand_above_plan_qty"], gaps["supply_late_qty"], gaps["capacity_shortfall_qty"]]
    ).clip(0, None)
    # the terms add up to the peak shortfall, so at least one is positive
    cause = np.array(CAUSES, dtype=object)[np.argmax(contrib, axis=1)]
    significant = contrib >= MIN_CAUSE_SHARE * np.maximum(gaps["peak_shortage_qty"].to_numpy()[:, None], 1e-9)
    joined = pd.Series("", index=gaps.index)
    for k, name in enumerate(CAUSES):  # four causes, each vectorised over all gaps
        joined = joined + np.where(significant[:, k], name + "; ", "")
    return cause, joined.str.rstrip("; ")


def _attach_orders(gaps: pd.DataFrame, lines: pd.DataFrame, supply: pd.DataFrame) -> pd.DataFrame:
    """Late orders (planned by the peak week, now due after it) and bottleneck resources per gap."""
    gaps = gaps.reset_index(drop=True)
    gaps.insert(0, "gap_id", np.arange(len(gaps)))  # shortages first, then safety-stock gaps; by series, then week
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
    return gaps


def _text_per_gap(values: pd.Series, gap_ids: pd.Series) -> pd.Series:
    """Per-gap text (grouped by gap id) aligned to the gaps; '' where a gap has none."""
    out = values.reindex(gap_ids.to_numpy()).astype(object).to_numpy()
    return pd.Series(np.where(pd.isna(out), "", out), index=gap_ids.index, dtype="str")


def mark_lines(lines: pd.DataFrame, supply: pd.DataFrame, gaps: pd.DataFrame) -> pd.DataFrame:
    """``creates_shortage``: a late line planned by a shortage's peak week that now arrives after it."""
    out = lines.reset_index(drop=True)
    short = gaps[gaps["kind"] == "shortage"][["_series", "peak_week"]]
    out["_series"] = supply["_series"].to_numpy()
    out["_line"] = np.arange(len(out))
    pair = out[["_line", "_series", "week", "eta_week"]].merge(short, on="_series")
    hit = pair[(pair["week"] <= pair["peak_week"]) & (pair["eta_week"] > pair["peak_week"])]["_line"].unique()
    out["creates_shortage"] = out["_line"].isin(hit)
    return out.drop(columns=["_line", "_series"])


