"""The financial-impact step of the weekly cycle (``notebooks/04_financial_impact.ipynb``).

It reads the tables the sensing and supply steps wrote for this run (:data:`INPUT_TABLES`) and the
validated snapshot, values the gaps (:mod:`.money`), generates the countermeasures
(:mod:`.countermeasures`), ranks the capped decision list (:mod:`.decisions`) and writes the feedback
to S&OP (:mod:`.feedback`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..core.dataset import Dataset
from .catalogue import load_catalogue
from .countermeasures import generate_options
from .decisions import cap_to_budget, decision_items
from .feedback import sop_feedback
from .money import excess_inventory, money_at_risk, plan_vs_estimate, rollup_money
from .params import FinanceParams

__all__ = ["INPUT_TABLES", "FinanceWeek", "assess_week"]

# what this step reads from the earlier steps (week columns as ISO Mondays)
INPUT_TABLES = (
    "forecast_accuracy_by_family", "demand_exceptions", "inventory_projection", "supply_gaps",
    "inbound_delays", "inbound_delays_by_supplier", "capacity_load", "storage_load",
)
MEETING_PACK_ROWS = 1000


@dataclass
class FinanceWeek:
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

    def tables(self) -> dict[str, pd.DataFrame]:
        """The step's output tables (declared in :mod:`soe_lib.core.outputs`)."""
        return {
            "financial_impact": self.impact,
            "countermeasures": self.options,
            "plan_vs_estimate": self.plan_vs_estimate,
            "excess_inventory": self.excess,
            "decision_list": self.decisions,
            "decision_list_beyond_budget": self.beyond_budget,
        }

    def documents(self) -> dict[str, str | dict[str, pd.DataFrame]]:
        """Files beside the tables: the S&OP feedback and the meeting pack's sheets."""
        return {"sop_feedback.md": self.feedback, "meeting_pack.xlsx": self.pack_sheets()}

    def top_gap_options(self) -> pd.DataFrame:
        """Every option of the gap with the most margin at risk, feasible or not."""
        if self.impact.empty:
            return self.options
        return self.options[self.options["gap_id"] == self.impact["gap_id"].iloc[0]]

    def pack_sheets(self, max_rows: int = MEETING_PACK_ROWS) -> dict[str, pd.DataFrame]:
        """The meeting pack's sheets: a meeting reads hundreds of rows, not 40,000, and openpyxl writes
        ~5k rows a second; so the gaps (largest margin at risk first) and their options stop at
        ``max_rows``, and an 'about' sheet says so. Every row stays in the Parquet tables."""
        gaps = self.impact.head(max_rows)  # sorted by margin at risk
        options = self.options[self.options["feasible"] & self.options["gap_id"].isin(gaps["gap_id"])]
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


def assess_week(data: Dataset, upstream: dict[str, pd.DataFrame], params: FinanceParams | None = None) -> FinanceWeek:
    """Value the week's gaps, propose countermeasures, rank the decisions (see the module docs).

    ``upstream``: the :data:`INPUT_TABLES` of this run, week columns as ISO Mondays.
    """
    p = params or FinanceParams()
    t = upstream
    gaps = t["supply_gaps"]
    impact = money_at_risk(gaps, data.products)
    impact_full = impact.merge(gaps[["gap_id", "capacity_shortfall_qty"]], on="gap_id", how="left")
    options = generate_options(
        impact_full, t["inbound_delays"], t["inventory_projection"], t["capacity_load"], data.routings,
        data.products, data.open_orders, data.week, load_catalogue(p.countermeasure_catalogue),
    )
    pve = plan_vs_estimate(t["inventory_projection"], data.products, data.financial_plan)
    items = decision_items(
        impact, options, t["capacity_load"], t["inbound_delays"], data.products, t["storage_load"],
        t["demand_exceptions"], t["inventory_projection"], data.week, p.urgency_decay, p.overflow_cost_per_unit,
    )
    decisions, beyond = cap_to_budget(items, p.alert_budget)
    feedback = sop_feedback(data.week_label, t["forecast_accuracy_by_family"], t["inbound_delays_by_supplier"], t["capacity_load"], pve)
    excess = excess_inventory(t["inventory_projection"], data.products, p.excess_weeks)
    return FinanceWeek(impact, options, pve, excess, decisions, beyond, feedback, len(items))
