"""The financial-impact step of the weekly run (``notebooks/04_financial_impact.ipynb``).

It reads what notebooks 02 and 03 wrote for this run (recomputing them with default parameters when
a notebook is run on its own), then values the gaps (:mod:`soe_lib.finance`), generates the
countermeasures (:mod:`soe_lib.countermeasures`) and the capped decision list and S&OP feedback
(:mod:`soe_lib.decisions`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .countermeasures import generate_options, load_catalogue
from .cycle import WeekRun
from .decisions import cap_to_budget, decision_items, sop_feedback, write_meeting_pack
from .finance import excess_inventory, money_at_risk, plan_vs_estimate, rollup_money
from .weeks import parse_weeks

__all__ = ["ImpactWeek", "assess_week", "upstream_tables"]

UPSTREAM = (
    "forecast_accuracy_by_family", "demand_exceptions", "inventory_projection", "supply_gaps",
    "inbound_delays", "inbound_delays_by_supplier", "capacity_load", "storage_load",
)
WEEK_COLUMNS = ("week", "first_week", "last_week", "peak_week", "eta_week")
MEETING_PACK_ROWS = 1000


@dataclass
class ImpactWeek:
    impact: pd.DataFrame  # financial_impact: one row per shortage gap
    options: pd.DataFrame  # countermeasures
    plan_vs_estimate: pd.DataFrame
    excess: pd.DataFrame
    decisions: pd.DataFrame  # the ranked list, capped
    beyond_budget: pd.DataFrame  # the rest, summarised by kind
    feedback: str  # markdown for S&OP
    candidates: int  # items before the cap

    def money_by(self, by: str) -> pd.DataFrame:
        return rollup_money(self.impact, by)

    def save(self, run: WeekRun) -> None:
        run.save("financial_impact", self.impact)
        run.save("countermeasures", self.options)
        run.save("plan_vs_estimate", self.plan_vs_estimate)
        run.save("excess_inventory", self.excess)
        run.save("decision_list", self.decisions)
        run.save("decision_list_beyond_budget", self.beyond_budget)
        (run.out_dir / "sop_feedback.md").write_text(self.feedback, encoding="utf-8")
        write_meeting_pack(run.out_dir / "meeting_pack.xlsx", self.pack_sheets())

    def pack_sheets(self, max_rows: int = MEETING_PACK_ROWS) -> dict[str, pd.DataFrame]:
        """The meeting pack's sheets: a meeting reads hundreds of rows, not 40,000, and openpyxl writes
        ~5k rows a second; so the gaps (largest margin at risk first) and their options stop at
        ``max_rows``, and an 'about' sheet says so. Every row stays in the Parquet tables."""
        gaps = self.impact.head(max_rows)  # sorted by margin at risk
        top_ids = set(range(len(gaps)))  # gap ids follow the impact table's order
        options = self.options[self.options["feasible"] & self.options["gap_id"].isin(top_ids)]
        about = pd.DataFrame(
            {
                "sheet": ["decision_list", "beyond_budget", "gaps", "countermeasures", "plan_vs_estimate"],
                "rows": [len(self.decisions), len(self.beyond_budget), len(gaps), len(options), len(self.plan_vs_estimate)],
                "of": [self.candidates, len(self.beyond_budget), len(self.impact), int(self.options["feasible"].sum()), len(self.plan_vs_estimate)],
                "note": [
                    "ranked, capped at the alert budget", "the rest, by kind", "largest margin at risk first; all in financial_impact.parquet",
                    "feasible options of those gaps; all in countermeasures.parquet", "family x week",
                ],
            }
        )
        return {
            "about": about, "decision_list": self.decisions, "beyond_budget": self.beyond_budget, "gaps": gaps,
            "countermeasures": options, "plan_vs_estimate": self.plan_vs_estimate,
        }

    def cap_note(self) -> str:
        shown, total = len(self.decisions), self.candidates
        if total <= shown:
            return f"All {total} items of the week are on the list."
        money = self.beyond_budget["money_at_risk"].sum()
        return f"The list shows the top {shown} of {total} items; {total - shown} more ({money:,.0f} at risk) are summarised below it."


def upstream_tables(run: WeekRun) -> dict[str, pd.DataFrame]:
    """The tables notebooks 02 and 03 wrote for this run (computed with defaults when missing)."""
    missing = [n for n in UPSTREAM if not (run.tables_dir / f"{n}.parquet").exists()]
    if missing:
        from .demand import sense_week
        from .supply import analyse_supply, sensed_demand_for

        print(f"not yet computed for this run: {', '.join(missing)}: running sensing and supply with default parameters")
        if not (run.tables_dir / "demand_exceptions.parquet").exists():
            sense_week(run).save(run)
        analyse_supply(run, sensed_demand_for(run)).save(run)
    tables = {name: run.load(name) for name in UPSTREAM}
    for frame in tables.values():
        for col in WEEK_COLUMNS:
            if col in frame and not pd.api.types.is_datetime64_any_dtype(frame[col]):
                frame[col] = parse_weeks(frame[col])
    return tables


def assess_week(
    run: WeekRun,
    alert_budget: int = 25,
    urgency_decay: float = 0.85,
    excess_weeks: float = 12.0,
    overflow_cost_per_unit: float = 1.0,
    countermeasure_catalogue: str = "countermeasures.yaml",
) -> ImpactWeek:
    """Value the week's gaps, propose countermeasures, rank the decisions (see the module docs)."""
    t = upstream_tables(run)
    data = run.data
    gaps = t["supply_gaps"]
    impact = money_at_risk(gaps, data.products)
    short = gaps[gaps["kind"] == "shortage"][["sku", "location", "first_week", "capacity_shortfall_qty"]]
    impact_full = impact.merge(short, on=["sku", "location", "first_week"], how="left")
    options = generate_options(
        impact_full, t["inbound_delays"], t["inventory_projection"], t["capacity_load"], data.routings,
        data.products, data.open_orders, data.week, load_catalogue(countermeasure_catalogue),
    )
    pve = plan_vs_estimate(t["inventory_projection"], data.products, data.financial_plan)
    items = decision_items(
        impact, options, t["capacity_load"], t["inbound_delays"], data.products, t["storage_load"],
        t["demand_exceptions"], t["inventory_projection"], data.week, urgency_decay, overflow_cost_per_unit,
    )
    decisions, beyond = cap_to_budget(items, alert_budget)
    feedback = sop_feedback(run.label, t["forecast_accuracy_by_family"], t["inbound_delays_by_supplier"], t["capacity_load"], pve)
    return ImpactWeek(impact, options, pve, excess_inventory(t["inventory_projection"], data.products, excess_weeks), decisions, beyond, feedback, len(items))
