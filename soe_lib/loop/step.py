"""The closed-loop step of the weekly cycle (``notebooks/05_what_changed.ipynb``): this week against the
previous successful week of the archive, and the outcomes of the decisions recorded in earlier weeks.

It reads this run's tables (:data:`INPUT_TABLES`), the archived weeks (their tables and input
snapshots) and the decision log, and writes ``item_changes``, ``risk_bridge``, ``forecast_changes``
(:mod:`.changes`, :mod:`.bridge`), ``action_outcomes``, ``countermeasure_value`` (:mod:`.outcomes`) and
``sensing_track_record`` (:mod:`.track`). Without an earlier week it says so and writes empty tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.dataset import Dataset
from ..core.matrix import to_matrix
from ..core.params import MoneyParams
from ..core.step import Step, StepContext, TablesWhenUsed
from ..core.weeks import parse_week
from ..io.archive import ArchivedWeek
from .bridge import Walk, bridge_table, estimate_gap, walk, week_inputs
from .changes import forecast_changes, item_changes, items_of_week, published_items
from .outcomes import action_outcomes, decision_credit, decision_receipts, executed, value_rollup
from .params import LoopParams
from .track import track_record

__all__ = ["INPUT_TABLES", "LOOP", "LoopStep", "LoopWeek", "close_loop"]

INPUT_TABLES = ("financial_impact", "inventory_projection", "sensed_demand", "capacity_load", "storage_load", "inbound_delays", "plan_vs_estimate",
                "execution_items")


@dataclass
class LoopWeek:
    previous: str | None  # the week compared with (None: the first week of the archive)
    changes: pd.DataFrame
    bridge: pd.DataFrame
    forecasts: pd.DataFrame
    outcomes: pd.DataFrame
    value: pd.DataFrame
    track: pd.DataFrame
    largest_error: float = 0.0  # of the walks: before + parts - after (0 up to rounding)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The step's output tables (declared in :mod:`soe_lib.core.outputs`)."""
        return {"item_changes": self.changes, "risk_bridge": self.bridge, "forecast_changes": self.forecasts, "action_outcomes": self.outcomes,
                "countermeasure_value": self.value, "sensing_track_record": self.track}

    def note(self) -> str:
        """One paragraph for the notebook and the app: what changed, and what the decisions did."""
        if self.previous is None:
            return "No earlier successful week in the archive: nothing to compare with yet (the tables are empty)."
        counts = self.changes["status"].value_counts()
        parts = [f"{counts.get(s, 0)} {s}" for s in ("new", "worse", "eased", "closed", "unchanged")]
        risk = self.bridge[self.bridge["measure"] == "margin at risk"].set_index("component")["amount"]
        text = f"Compared with {self.previous}: items {', '.join(parts)}; margin at risk {risk['last week']:,.0f} -> {risk['this week']:,.0f}."
        if len(self.outcomes):
            judged = self.outcomes["status"].value_counts()
            text += " Actions of earlier weeks: " + ", ".join(f"{n} {s}" for s, n in judged.items()) + "."
        return text


def _demand_frame(data_plan: pd.DataFrame, booked: pd.DataFrame) -> pd.DataFrame:
    """Plan plus booked orders per SKU-location and week (what demand shaping would move)."""
    frames = [f[["sku", "location", "week", "qty"]] for f in (data_plan, booked) if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["sku", "location", "week", "qty"])


def _inputs_of(w: ArchivedWeek) -> dict[str, pd.DataFrame]:
    return {"supply": w.inputs("supply"), "capacity": w.inputs("capacity"), "demand": _demand_frame(w.inputs("demand_plan"), w.inputs("open_orders"))}


def _judge_actions(data: Dataset, archive: list[ArchivedWeek], actions: pd.DataFrame) -> pd.DataFrame:
    """(action_id, executed, evidence) for every action: the snapshot of the week it was decided in
    against the first week after it (when a decision shows in the data: a transfer made lands and leaves
    the open supply a week later, so the week after, not today, is where to look)."""
    if actions.empty:
        return pd.DataFrame(columns=["action_id", "executed", "evidence"])
    now = {"supply": data.supply, "capacity": data.capacity, "demand": _demand_frame(data.demand_plan, data.open_orders)}
    by_week = {w.week: w for w in archive}
    frames = []
    for decided in sorted(actions["week"].unique()):  # one comparison per meeting week, all of its actions at once
        w = by_week.get(decided)
        then = {decided: _inputs_of(w)} if w is not None else {}
        later = sorted(k for k in by_week if k > decided)
        after = _inputs_of(by_week[later[0]]) if later else now
        frames.append(executed(actions[actions["week"] == decided], then, after, data.week))
    return pd.concat(frames, ignore_index=True)


def _published_margin(impact: pd.DataFrame, keys: pd.DataFrame) -> np.ndarray:
    per = impact.groupby(["sku", "location"])["margin_at_risk"].sum() if len(impact) else pd.Series(dtype=float)
    return per.reindex(pd.MultiIndex.from_frame(keys)).fillna(0.0).to_numpy()


def _published_gap(pve: pd.DataFrame, model: np.ndarray) -> np.ndarray:
    """The published gap to the financial plan as a per-series array for the walk: the model's values,
    with the difference to the published total on the first row (only the sum of this measure is read)."""
    total = float(pve.loc[pve["revenue_plan"].notna(), "gap"].sum()) if len(pve) else 0.0
    out = model.copy()
    if len(out):
        out[0] += total - out.sum()
    return out


def _walks(data: Dataset, now: Mapping[str, pd.DataFrame], prev: ArchivedWeek, decisions: pd.DataFrame, policy: dict) -> tuple[list[Walk], pd.DataFrame]:
    """The margin-at-risk and estimate walks, and the per-SKU-location parts of the first."""
    then_proj, now_proj = prev.table("inventory_projection"), now["inventory_projection"]
    keys = pd.concat([then_proj[["sku", "location"]], now_proj[["sku", "location"]]]).drop_duplicates().sort_values(["sku", "location"]).reset_index(drop=True)
    then_policy = {**policy, **{k: v for k, v in prev.parameters().items() if k in ("backorder_share", "delay_cost_share")}}
    then = week_inputs(keys, then_proj, prev.table("sensed_demand"), prev.inputs("products"), prev.inputs("financial_plan"), prev.inputs("locations"),
                       then_policy)
    cur = week_inputs(keys, now_proj, now["sensed_demand"], data.products, data.financial_plan, data.locations, policy)
    moved = to_matrix(decisions, keys, cur.weeks, "qty") if len(decisions) else np.zeros_like(cur.receipts)
    margin = walk(then, cur, moved, _published_margin(prev.table("financial_impact"), keys), _published_margin(now["financial_impact"], keys), "margin at risk")
    gap = walk(then, cur, moved, _published_gap(prev.table("plan_vs_estimate"), estimate_gap(then)),
               _published_gap(now["plan_vs_estimate"], estimate_gap(cur)), "gap to financial plan")
    parts = keys.assign(**{f"{name}_part": values for name, values in margin.parts.items()})
    return [margin, gap], parts


def _no_forecasts() -> pd.DataFrame:
    """A ``sensed_demand`` without rows (the first week compares no forecasts: its table is not read)."""
    cols = {"sku": "str", "location": "str", "week": "datetime64[ns]", "horizon": "int64", "sensed_qty": "float64", "plan_qty": "float64", "w_stat": "float64",
            "forecast_qty": "float64"}
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in cols.items()})


def close_loop(
    data: Dataset, now: Mapping[str, pd.DataFrame], archive: list[ArchivedWeek], actions: pd.DataFrame, params: LoopParams | None = None,
    policy: dict | None = None, overflow_cost_per_unit: float = 1.0,
) -> LoopWeek:
    """This run against the newest archived week before it (see the module doc); ``now``: the
    :data:`INPUT_TABLES` of this run; ``actions``: the decision log's actions of earlier weeks;
    ``policy``: the run's ``backorder_share`` and ``delay_cost_share`` (the money it compares is valued so)."""
    policy = policy or {}
    p = params or LoopParams()
    items_now = published_items(now["execution_items"])
    verdicts = _judge_actions(data, archive, actions)
    judged_now = items_now.rename(columns={"money": "money_now", "size": "shortage_now"})
    scored = archive[: p.track_record_weeks]
    # only the weeks the track record and the forecast changes look at (three years of actuals are not read)
    first = min([parse_week(w.week) for w in scored + archive[:1]] + [data.week]) - pd.Timedelta(weeks=1)
    recent = data.weeks_of("actuals", first, data.week)
    track = track_record({parse_week(w.week): w.table("sensed_demand") for w in scored}, recent, data.week)
    prev = archive[0] if archive else None
    if prev is None:
        outcomes = action_outcomes(actions, verdicts, judged_now, data.week, p.worked_share)
        empty = LoopWeek(None, *(pd.DataFrame() for _ in range(3)), outcomes, value_rollup(outcomes), track)
        empty.changes = item_changes(items_now.iloc[:0], items_now.iloc[:0], pd.DataFrame(columns=["sku", "location"]))
        empty.bridge = bridge_table([])
        nothing = _no_forecasts()
        empty.forecasts = forecast_changes(nothing, nothing, data.products, recent)
        return empty
    decisions = decision_receipts(actions, verdicts, data.supply, prev.inputs("supply"), pd.DatetimeIndex(sorted(now["inventory_projection"]["week"].unique())))
    walks, parts = _walks(data, now, prev, decisions, policy)
    outcomes = action_outcomes(actions, verdicts, judged_now, data.week, p.worked_share, decision_credit(decisions, parts))
    listed = prev.table("execution_items")
    then_items = published_items(listed) if len(listed.columns) else items_of_week(
        prev.table("financial_impact"), prev.table("capacity_load"), prev.table("storage_load"), prev.table("inbound_delays"), prev.inputs("products"),
        overflow_cost_per_unit)
    return LoopWeek(
        prev.week, item_changes(then_items, items_now, parts), bridge_table(walks),
        forecast_changes(prev.table("sensed_demand"), now["sensed_demand"], data.products, recent, p.forecast_changes_rows),
        outcomes, value_rollup(outcomes), track, max(w.check() for w in walks),
    )


class LoopStep(Step):
    """Step 5 on the step protocol: whole (it compares this week with the archive's), its tables read when first
    used: a first week (nothing archived to compare with) reads neither the projection nor the sensed demand
    (13M rows each at 1M series). Its money is valued with the run's policy (:class:`MoneyParams`)."""

    name = "loop"
    notebook = "05_what_changed.ipynb"
    title = "what changed"
    groups = (LoopParams, MoneyParams)
    inputs = INPUT_TABLES
    reads = {"products": None, "supply": None, "capacity": None, "open_orders": None, "financial_plan": None}

    def run(self, ctx: StepContext) -> LoopWeek:
        money = ctx.group(MoneyParams)
        policy = {"backorder_share": money.backorder_share, "delay_cost_share": money.delay_cost_share}
        return close_loop(ctx.data, TablesWhenUsed(ctx, INPUT_TABLES), ctx.archive(), ctx.actions(), ctx.group(LoopParams), policy,
                          money.overflow_cost_per_unit)


LOOP = LoopStep()
