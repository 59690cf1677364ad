"""Supply gaps: runs of weeks short (or below safety stock) on the capacity-constrained projection, and
their causes from an exact decomposition, week by week.

For a SKU-location and any week ``t`` (cumulative sums from the run week; ``level`` = 0 for a shortage,
the safety stock for a safety-stock gap)::

    level - constrained_projected[t] = (level - plan_projected[t])          the plan: short (> 0) or a cushion (< 0)
                                     + (demand[..t] - plan_demand[..t])       demand above plan
                                     + (plan_receipts[..t] - receipts[..t])   supply late (or smaller)
                                     + (receipts[..t] - constrained[..t])     capacity shortfall

The identity is exact (each side is the same sum of the same terms). Published per gap at its peak
week: ``plan_short_qty`` (the plan's part when positive), ``plan_cushion_qty`` (when negative: spare
the plan had, which absorbed part of the other causes), ``demand_above_plan_qty``, ``supply_late_qty``
and ``capacity_shortfall_qty``: signed, they sum to ``peak_shortage_qty``. ``gap_causes`` holds the
same parts for every week of every gap (they sum to that week's shortage). A cause *deepens* the gap
when its part is positive and at least 10 % of that week's shortage in any week of the gap:
``causes`` lists every such cause, ``cause`` the largest at the peak; ``late_orders`` every order
planned by a week of the gap and now due after it; ``bottleneck_resources`` every resource that holds
back production due by a week of the gap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.projection import Projection, runs
from ..core.text import joined_per_group

__all__ = ["CAUSES", "CAUSE_COLUMNS", "GAP_COLUMNS", "find_gaps", "mark_lines"]

CAUSES = ("plan already short", "demand above plan", "supply late", "capacity shortfall")
CAUSE_COLUMNS = ("plan_short_qty", "demand_above_plan_qty", "supply_late_qty", "capacity_shortfall_qty")
PLAN_CUSHION = "plan cushion"
GAP_COLUMNS = {
    "gap_id": "int64", "sku": "str", "location": "str", "_series": "int64", "kind": "str", "first_week": "datetime64[ns]",
    "last_week": "datetime64[ns]", "peak_week": "datetime64[ns]", "weeks_short": "int64", "open_at_horizon_end": "bool",
    "peak_shortage_qty": "float64", "shortage_qty": "float64", "plan_projected_at_peak": "float64",
    "plan_short_qty": "float64", "plan_cushion_qty": "float64", "demand_above_plan_qty": "float64", "supply_late_qty": "float64",
    "capacity_shortfall_qty": "float64", "cause": "str", "causes": "str", "late_orders": "str",
    "late_order_count": "int64", "bottleneck_resources": "str", "shortage_probability": "float64",
}
MIN_CAUSE_SHARE = 0.1
EPS = 1e-9  # below this a projected quantity is zero (sums of floats)


def _parts(i: np.ndarray, t: np.ndarray, level: np.ndarray, plan: Projection, current: Projection, constrained: Projection) -> dict[str, np.ndarray]:
    """The signed parts of the identity for series ``i`` at week ``t`` (arrays of pairs)."""

    def cum(m: np.ndarray) -> np.ndarray:
        return np.cumsum(m, axis=1)[i, t]

    plan_part = level - plan.projected[i, t]
    return {
        "plan_short_qty": np.clip(plan_part, 0, None),
        "plan_cushion_qty": np.clip(plan_part, None, 0),
        "demand_above_plan_qty": cum(current.demand) - cum(plan.demand),
        "supply_late_qty": cum(plan.receipts) - cum(current.receipts),
        "capacity_shortfall_qty": cum(current.receipts) - cum(constrained.receipts),
    }


def _runs_frame(
    kind: str, mask: np.ndarray, series: pd.DataFrame, weeks: pd.DatetimeIndex, plan: Projection, current: Projection,
    constrained: Projection, safety: np.ndarray, min_depth: float,
) -> pd.DataFrame | None:
    """One row per run of ``mask`` (shortage or below safety stock) at least ``min_depth`` deep, with its
    peak and the decomposition there."""
    p = constrained.projected
    r, first, last = runs(mask)
    idx = np.arange(p.shape[1])[None, :]
    inside = (idx >= first[:, None]) & (idx <= last[:, None])
    peak = np.argmin(np.where(inside, p[r], np.inf), axis=1) if len(r) else np.zeros(0, dtype=int)  # the lowest week of each run
    level = np.zeros(len(r)) if kind == "shortage" else safety[r]  # what the gap falls below
    deep = level - p[r, peak] >= min_depth  # a run is a gap when it goes at least this deep somewhere
    r, first, last, inside, peak, level = r[deep], first[deep], last[deep], inside[deep], peak[deep], level[deep]
    if not len(r):
        return None
    frame = series.iloc[r][["sku", "location", "_series"]].reset_index(drop=True)
    frame["kind"] = kind
    frame["first_week"] = weeks[first]
    frame["last_week"] = weeks[last]
    frame["peak_week"] = weeks[peak]
    frame["weeks_short"] = last - first + 1
    frame["open_at_horizon_end"] = last == p.shape[1] - 1
    frame["peak_shortage_qty"] = level - p[r, peak]
    frame["shortage_qty"] = np.where(inside, constrained.short_new[r], 0.0).sum(axis=1) if kind == "shortage" else 0.0
    frame["plan_projected_at_peak"] = plan.projected[r, peak]
    for name, values in _parts(r, peak, level, plan, current, constrained).items():
        frame[name] = values
    frame["_row"], frame["_first"], frame["_last"], frame["_level"] = r, first, last, level
    return frame


def _week_causes(gaps: pd.DataFrame, weeks: pd.DatetimeIndex, plan: Projection, current: Projection, constrained: Projection) -> pd.DataFrame:
    """``gap_causes``: every week of every gap, one row per non-zero part (they sum to the week's shortage)."""
    length = (gaps["_last"] - gaps["_first"] + 1).to_numpy()
    g = np.repeat(np.arange(len(gaps)), length)
    offset = np.arange(len(g)) - np.repeat(np.cumsum(length) - length, length)
    t = gaps["_first"].to_numpy()[g] + offset
    i = gaps["_row"].to_numpy()[g]
    parts = _parts(i, t, gaps["_level"].to_numpy()[g], plan, current, constrained)
    label = {"plan_short_qty": CAUSES[0], "plan_cushion_qty": PLAN_CUSHION, "demand_above_plan_qty": CAUSES[1],
             "supply_late_qty": CAUSES[2], "capacity_shortfall_qty": CAUSES[3]}
    shortage = gaps["_level"].to_numpy()[g] - constrained.projected[i, t]
    frames = []
    for name, values in parts.items():
        keep = np.abs(values) > 1e-9
        frames.append(pd.DataFrame({
            "gap_id": gaps["gap_id"].to_numpy()[g[keep]], "sku": gaps["sku"].to_numpy()[g[keep]], "location": gaps["location"].to_numpy()[g[keep]],
            "week": weeks[t[keep]], "cause": label[name], "qty": values[keep], "week_shortage_qty": shortage[keep],
        }))
    out = pd.concat(frames, ignore_index=True)
    order = {c: k for k, c in enumerate([*CAUSES[:1], PLAN_CUSHION, *CAUSES[1:]])}
    return out.sort_values(["gap_id", "week", "cause"], key=lambda c: c.map(order) if c.name == "cause" else c, kind="stable").reset_index(drop=True)


def _causes_named(gaps: pd.DataFrame, week_causes: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
    """``cause``: the largest positive part at the peak; ``causes``: every cause that deepens the gap in
    any of its weeks (a positive part of at least 10 % of that week's shortage)."""
    contrib = np.column_stack([gaps[c] for c in CAUSE_COLUMNS]).clip(0, None)
    cause = np.array(CAUSES, dtype=object)[np.argmax(contrib, axis=1)]  # the parts sum to the peak, so one is positive
    deepens = week_causes[(week_causes["qty"] > 0) & (week_causes["qty"] >= MIN_CAUSE_SHARE * week_causes["week_shortage_qty"].clip(lower=1e-9))]
    named = deepens[deepens["cause"].isin(CAUSES)].drop_duplicates(["gap_id", "cause"])
    order = {c: k for k, c in enumerate(CAUSES)}
    named = named.assign(_o=named["cause"].map(order)).sort_values(["gap_id", "_o"], kind="stable")
    return cause, _text_per_gap(joined_per_group(named, ["gap_id"], "cause", "; "), gaps["gap_id"])


def find_gaps(
    series: pd.DataFrame, weeks: pd.DatetimeIndex, plan: Projection, current: Projection, constrained: Projection,
    safety: np.ndarray, lines: pd.DataFrame, supply: pd.DataFrame, min_gap_qty: float = 1.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(gaps, gap_causes): shortage runs and safety-stock runs on the constrained projection, with the
    decomposition, the causes, the late orders and the bottleneck resources; ``gap_id`` numbers them."""
    p = constrained.projected
    # a shortage gap spans every week with demand not served (so its shortage_qty holds every unit of
    # it) and is listed when it reaches min_gap_qty somewhere; a stock-out that never does is noise
    short = p < -EPS
    below = ~short & (p <= safety[:, None] - min_gap_qty) & (p < safety[:, None])
    frames = [
        f for kind, mask, depth in (("shortage", short, min_gap_qty), ("below_safety_stock", below, 0.0))
        if (f := _runs_frame(kind, mask, series, weeks, plan, current, constrained, safety, depth)) is not None
    ]
    if not frames:
        empty = pd.DataFrame({c: pd.Series(dtype=t) for c, t in GAP_COLUMNS.items()})
        cols = {"gap_id": "int64", "sku": "str", "location": "str", "week": "datetime64[ns]", "cause": "str", "qty": "float64", "week_shortage_qty": "float64"}
        return empty, pd.DataFrame({c: pd.Series(dtype=t) for c, t in cols.items()})
    gaps = pd.concat(frames, ignore_index=True)
    gaps.insert(0, "gap_id", np.arange(len(gaps)))  # shortages first, then safety-stock gaps; by series, then week
    week_causes = _week_causes(gaps, weeks, plan, current, constrained)
    gaps["cause"], gaps["causes"] = _causes_named(gaps, week_causes)
    gaps = _attach_orders(gaps, lines, supply)
    gaps["shortage_probability"] = np.nan  # set by the step from sensing's bands
    return gaps.drop(columns=["_row", "_first", "_last", "_level"])[list(GAP_COLUMNS)], week_causes


def _attach_orders(gaps: pd.DataFrame, lines: pd.DataFrame, supply: pd.DataFrame) -> pd.DataFrame:
    """Late orders (planned by a week of the gap, now due after it) and resources holding back
    production due by a week of the gap."""
    lines = lines.assign(_series=supply["_series"].to_numpy(), order=lines["order_id"].fillna("(no id)"))
    pair = gaps[["gap_id", "_series", "first_week", "last_week"]].merge(
        lines[["_series", "order", "week", "eta_week", "qty", "bottleneck", "carried_qty", "at_risk_qty"]], on="_series"
    )
    # some week t of the gap has: planned week <= t < ETA
    late = pair[(pair["week"] <= pair["last_week"]) & (pair["eta_week"] > pair["first_week"]) & (pair["eta_week"] > pair["week"])]
    late = late.sort_values(["gap_id", "qty"], ascending=[True, False], kind="stable")
    gaps["late_orders"] = _text_per_gap(joined_per_group(late.groupby("gap_id").head(5), ["gap_id"], "order", ", "), gaps["gap_id"])
    gaps["late_order_count"] = gaps["gap_id"].map(late.groupby("gap_id").size()).fillna(0).astype(int)
    held = pair[(pair["eta_week"] <= pair["last_week"]) & (pair["carried_qty"] + pair["at_risk_qty"] > 1e-9)]
    held = held[["gap_id", "bottleneck"]].dropna().drop_duplicates().sort_values(["gap_id", "bottleneck"])
    gaps["bottleneck_resources"] = _text_per_gap(joined_per_group(held, ["gap_id"], "bottleneck", ", "), gaps["gap_id"])
    return gaps


def _text_per_gap(values: pd.Series, gap_ids: pd.Series) -> pd.Series:
    """Per-gap text (grouped by gap id) aligned to the gaps; '' where a gap has none."""
    out = values.reindex(gap_ids.to_numpy()).astype(object).to_numpy()
    return pd.Series(np.where(pd.isna(out), "", out), index=gap_ids.index, dtype="str")


def mark_lines(lines: pd.DataFrame, supply: pd.DataFrame, gaps: pd.DataFrame) -> pd.DataFrame:
    """``creates_shortage``: a late line planned by a week of a shortage and now due after that week."""
    out = lines.reset_index(drop=True)
    short = gaps[gaps["kind"] == "shortage"][["_series", "first_week", "last_week"]]
    out["_series"] = supply["_series"].to_numpy()
    out["_line"] = np.arange(len(out))
    pair = out[["_line", "_series", "week", "eta_week"]].merge(short, on="_series")
    hit = pair[(pair["week"] <= pair["last_week"]) & (pair["eta_week"] > pair["first_week"]) & (pair["eta_week"] > pair["week"])]["_line"].unique()
    out["creates_shortage"] = out["_line"].isin(hit)
    return out.drop(columns=["_line", "_series"])
