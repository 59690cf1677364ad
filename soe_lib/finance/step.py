"""The financial-impact step of the weekly cycle (``notebooks/04_financial_impact.ipynb``).

It reads the tables the sensing and supply steps wrote for this run (:data:`INPUT_TABLES`) and the
validated snapshot, values the gaps (:mod:`.money`), generates the countermeasures
(:mod:`.countermeasures`), ranks the capped decision list (:mod:`.decisions`) and writes the feedback
to S&OP (:mod:`.feedback`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd

from ..core.dataset import Dataset
from ..core.step import InParts, Round, Step, StepContext, in_order, light_parts, sku_ranges
from .countermeasures import COLUMNS as OPTION_COLUMNS
from .decisions import cap_to_budget, decision_items, sop_items
from .feedback import sop_feedback
from .money import largest_excess, plan_vs_estimate_of, rollup_money
from .pack import meeting_pack
from .params import FinanceParams
from .parts import GapPart, ProjectionPart, finance_part, gap_part, join_gap_parts, projection_part, read_part, week_world
from .plan import PlanResult, apply_plan, joint_plan
from .slips import logistics_risk

__all__ = ["FINANCE", "INPUT_TABLES", "FinanceStep", "FinanceWeek", "assess_parts", "assess_week"]

# what this step reads from the earlier steps (week columns as ISO Mondays)
INPUT_TABLES = (
    "forecast_accuracy_by_family", "demand_exceptions", "inventory_projection", "supply_gaps",
    "inbound_delays", "inbound_delays_by_supplier", "capacity_load", "storage_load", "eta_forecast", "lane_load", "order_allocation",
)
OPEN_ACTION_COLUMNS = ("id", "item_id", "status", "item_shortage_qty", "qty")
AT_RISK_COLUMNS = ["sku", "at_risk_qty", "bottleneck"]  # what the decision list reads of the supply lines


@dataclass
class FinanceWeek:
    impact: pd.DataFrame  # financial_impact: one row per shortage gap
    options: pd.DataFrame  # countermeasures, with the joint plan's chosen units (and the model's columns)
    plan: PlanResult  # how the joint plan was made
    plan_vs_estimate: pd.DataFrame
    excess: pd.DataFrame
    decisions: pd.DataFrame  # the ranked execution items (capped), those in hand, the S&OP items
    beyond_budget: pd.DataFrame  # the rest, summarised by kind
    feedback: str  # markdown for S&OP
    candidates: int  # execution items not in hand, before the cap
    open_actions: pd.DataFrame = field(default_factory=pd.DataFrame)  # the decision log's open actions of earlier weeks
    items: pd.DataFrame = field(default_factory=pd.DataFrame)  # every execution item, before the alert budget
    logistics: pd.DataFrame = field(default_factory=pd.DataFrame)  # logistics_risk: money at risk of slipping lines by lane, port, carrier

    def money_by(self, by: str) -> pd.DataFrame:
        return rollup_money(self.impact, by)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The step's output tables (declared in :mod:`soe_lib.core.outputs`)."""
        return {
            "financial_impact": self.impact,
            "countermeasures": self.options[OPTION_COLUMNS],
            "countermeasure_plan": self.plan.summary(),
            "plan_vs_estimate": self.plan_vs_estimate,
            "excess_inventory": self.excess,
            "decision_list": self.decisions,
            "decision_list_beyond_budget": self.beyond_budget,
            "execution_items": self.execution_items(),
            "logistics_risk": self.logistics,
        }

    def execution_items(self) -> pd.DataFrame:
        """Every execution item of the week, before the alert budget: what next week compares with."""
        cols = ["item_id", "kind", "sku", "location", "resource", "week", "money_at_risk", "size", "covered_qty", "cause", "in_hand"]
        items = self.items.assign(money_at_risk=self.items.get("item_money", self.items.get("money_at_risk"))).reindex(columns=cols)
        if items.empty:
            return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "week" else "float64" if c.endswith(("risk", "qty", "size")) else
                                              "bool" if c == "in_hand" else "str") for c in cols})
        return items.astype({"sku": "str", "location": "str", "resource": "str", "cause": "str", "in_hand": "bool"}).reset_index(drop=True)

    def documents(self) -> dict[str, str | dict[str, pd.DataFrame]]:
        """Files beside the tables: the S&OP feedback and the meeting pack's sheets."""
        return {"sop_feedback.md": self.feedback, "meeting_pack.xlsx": meeting_pack(self)}

    def top_gap_options(self) -> pd.DataFrame:
        """Every option of the gap with the most margin at risk, feasible or not."""
        options = self.options[OPTION_COLUMNS]
        if self.impact.empty:
            return options
        return options[options["gap_id"] == self.impact["gap_id"].iloc[0]]

    def chosen(self) -> pd.DataFrame:
        """The joint plan: every option it takes units from, best net benefit first."""
        plan = self.options[self.options["chosen_qty"] > 0][OPTION_COLUMNS]
        return plan.sort_values("chosen_net_benefit", ascending=False).reset_index(drop=True)

    def plan_note(self) -> str:
        p = self.plan
        fallback = " The solver gave no plan: this is the greedy plan (same limits, not proven best)." if p.method.startswith("greedy") else ""
        proven = f" (proven within {p.gap:.2%} of the best possible)" if not np.isnan(p.gap) else ""
        return (f"Joint plan: {len(self.chosen())} actions, net benefit {p.objective:,.0f} ({p.reprojected:,.0f} re-projected through the kernel); "
                f"{p.method}, {p.status}{proven}, "
                f"{p.variables:,} variables ({p.binaries:,} yes/no), {p.constraints:,} constraints, {p.seconds:.1f} s.{fallback}")

    def action_register(self) -> pd.DataFrame:
        """The open actions of earlier weeks as the meeting follows them: who, what, by when, status."""
        cols = ["id", "week", "item_id", "sku", "location", "resource", "action", "owner", "due_week", "status", "overdue"]
        acts = self.open_actions
        if acts is None or acts.empty:
            return pd.DataFrame({c: pd.Series(dtype="str") for c in cols})
        out = acts.reindex(columns=cols).rename(columns={"id": "action_id", "week": "decided_week"})
        return out.sort_values(["due_week", "action_id"]).reset_index(drop=True)

    def cap_note(self) -> str:
        shown, total = int(self.decisions["rank"].notna().sum()), self.candidates
        if total <= shown:
            return f"All {total} items of the week are on the list."
        beyond = self.beyond_budget[self.beyond_budget["track"] == "execution"]
        money = beyond["money_at_risk"].sum()
        return f"The list shows the top {shown} of {total} items; {total - shown} more ({money:,.0f} at risk) are summarised below it."


def assess_week(data: Dataset, upstream: dict[str, pd.DataFrame], params: FinanceParams | None = None,
                open_actions: pd.DataFrame | None = None) -> FinanceWeek:
    """Value the week's gaps, plan the countermeasures jointly, rank the decisions (see the module docs): the
    whole company as one part. ``upstream``: the :data:`INPUT_TABLES` of this run, week columns as ISO Mondays;
    ``open_actions``: the decision log's open actions of earlier weeks (:data:`OPEN_ACTION_COLUMNS`)."""
    p = params or FinanceParams()
    projection = upstream["inventory_projection"]
    weeks = pd.DatetimeIndex(sorted(projection["week"].unique())) if len(projection) else pd.date_range(data.week, periods=1, freq="7D")
    world = week_world(data, projection, p, weeks)
    parts = [projection_part(world, projection, data.products, p, eta=upstream["eta_forecast"])]
    gaps = [gap_part(data, upstream["supply_gaps"], world, upstream["inbound_delays"], upstream["capacity_load"], p, upstream["lane_load"])]
    return assess_parts(data, upstream, p, open_actions, parts, gaps)


def assess_parts(data: Dataset, upstream: dict[str, pd.DataFrame], p: FinanceParams, open_actions: pd.DataFrame | None,
                 parts: list[ProjectionPart], gaps: list[GapPart]) -> FinanceWeek:
    """The week from its parts of the series, in series order (:mod:`.parts`): ``parts`` (sums, excess rows and
    the demand findings' rows of the projection: ``upstream["inventory_projection"]`` is not read) and ``gaps``
    (money at risk and options), then the joint plan over all gaps (the shared limits couple every part)."""
    t = upstream
    projection = pd.concat([x.rows for x in parts], ignore_index=True) if len(parts) > 1 else parts[0].rows
    impact, options, world = join_gap_parts(gaps)
    plan = joint_plan(options, world, p.plan_seconds, p.plan_gap, t["storage_load"])
    options = apply_plan(options, plan, world)
    pve = plan_vs_estimate_of(pd.concat([x.estimate for x in parts], ignore_index=True), data.financial_plan)
    items = decision_items(
        impact, options, t["capacity_load"], t["inbound_delays"], data.products, t["storage_load"], t["demand_exceptions"], projection,
        data.week, p.urgency_decay, p.overflow_cost_per_unit, open_actions, in_hand_cover=p.in_hand_cover, currency=p.currency,
        allocation=t["order_allocation"],
    )
    margin = data.products.set_index("sku")["unit_price"] - data.products.set_index("sku")["unit_cost"]
    sop = sop_items(t["demand_exceptions"], projection, margin, data.week, currency=p.currency)
    decisions, beyond = cap_to_budget(items, sop, p.alert_budget)
    feedback = sop_feedback(data.week_label, t["forecast_accuracy_by_family"], t["inbound_delays_by_supplier"], t["capacity_load"], pve, sop)
    excess = largest_excess(pd.concat([x.excess for x in parts], ignore_index=True))
    candidates = int((~items["in_hand"].astype(bool)).sum()) if len(items) else 0
    return FinanceWeek(impact, options, plan, pve, excess, decisions, beyond, feedback, candidates,
                       open_actions if open_actions is not None else pd.DataFrame(), items,
                       logistics_risk(pd.concat([x.slips for x in parts], ignore_index=True)))


class FinanceStep(Step):
    """Step 4 on the step protocol. In parts of whole SKUs (light: one per 100k series; a transfer's source,
    another location of the gap's SKU, is in the gap's part), the projection read only on the workers: each part
    gives its family x week sums, excess rows and its demand findings' rows (:func:`~.parts.projection_part`),
    and its gaps' money at risk and options (:func:`~.parts.gap_part`) from its own rows and those of the
    substitutes at its short locations. The client joins them and solves the joint plan over all gaps."""

    name = "finance"
    notebook = "04_financial_impact.ipynb"
    title = "financial impact"
    groups = (FinanceParams,)
    inputs = INPUT_TABLES
    reads = {"products": None, "open_orders": None, "routings": None, "substitutes": None, "financial_plan": None, "lanes": None,
             "receipts_history": ("destination", "location")}

    def run(self, ctx: StepContext) -> FinanceWeek:
        return assess_week(ctx.data, {name: ctx.table(name) for name in INPUT_TABLES}, ctx.group(FinanceParams), ctx.open_actions())

    def split(self, ctx: StepContext, partitions: int, workers: int) -> list[tuple[int, int]]:
        series = ctx.data.series()
        return sku_ranges(series, light_parts(len(series), partitions, workers))

    def in_parts(self, ctx: StepContext, ranges: list[tuple[int, int]]) -> InParts:
        # the parts read their own rows of the projection and the gaps (1.3M gaps at 1M: not held here)
        upstream = {name: ctx.table(name) for name in INPUT_TABLES if name not in ("inventory_projection", "supply_gaps", "inbound_delays", "eta_forecast")}
        # the parts read their own lines; here only what the capacity items read: lines at risk (a few of 8.7M at 1M)
        upstream["inbound_delays"] = ctx.table("inbound_delays", columns=AT_RISK_COLUMNS, filters=[("at_risk_qty", ">", 0.0)])
        p, weeks = ctx.group(FinanceParams), pd.date_range(ctx.data.week, periods=ctx.horizon_weeks, freq="7D")
        findings = upstream["demand_exceptions"][["sku", "location"]].astype(str).drop_duplicates()  # the decision list reads their rows
        open_actions = ctx.open_actions()

        def week(both: list[tuple[ProjectionPart, GapPart]]) -> FinanceWeek:
            return assess_parts(ctx.data, upstream, p, open_actions, [x for x, _ in both], [g for _, g in both])

        return InParts(
            prepare=read_part,
            rounds=(Round(partial(finance_part, p, weeks, findings), lambda results, _: in_order(results)),),
            combine=week,
            bytes_per_series=5_000,
        )


FINANCE = FinanceStep()
