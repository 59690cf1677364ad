"""Feedback to S&OP: what next month's plan should change, from this week's execution."""

from __future__ import annotations

import pandas as pd

__all__ = ["sop_feedback"]


def sop_feedback(
    week_label: str,
    family_accuracy: pd.DataFrame,
    by_supplier: pd.DataFrame,
    capacity: pd.DataFrame,
    plan_vs_estimate: pd.DataFrame,
    sop_items: pd.DataFrame | None = None,
    bias_threshold: float = 0.1,
    on_time_threshold: float = 0.8,
    structural_weeks: int = 2,
) -> str:
    """Markdown for next month's S&OP: persistent bias (by family, and the items on the S&OP track),
    recurring supplier delays, structural capacity gaps, and the financial gap to plan with all its parts."""
    lines = [f"# Feedback to S&OP from the S&OE week {week_label}", ""]
    biased = family_accuracy[family_accuracy["bias"].abs() > bias_threshold]
    lines += ["## Demand plan bias by family", ""]
    if len(biased):
        for r in biased.itertuples():
            way = "over-forecast" if r.bias > 0 else "under-forecast"
            lines.append(f"- **{r.group}**: {way} by {abs(r.bias):.0%} over the lookback (WAPE {r.wape:.0%}); correct the consensus plan.")
    else:
        lines.append(f"- No family beyond +-{bias_threshold:.0%} bias.")
    lines += _item_findings(sop_items)
    lines += ["", "## Recurring supplier delays", ""]
    late = by_supplier[(by_supplier["on_time_share"] < on_time_threshold) & (by_supplier["supplier"] != "(none)")]
    if len(late):
        for r in late.itertuples():
            lines.append(f"- **{r.supplier}**: {r.on_time_share:.0%} of {r.lines} open lines on time, average delay {r.avg_delay_weeks:.1f} weeks; plan its lead time longer or re-source.")
    else:
        lines.append(f"- Every supplier at or above {on_time_threshold:.0%} on time.")
    lines += ["", "## Structural capacity gaps", ""]
    if len(capacity):
        over = capacity[capacity["overloaded"].astype(bool)].groupby("resource").agg(weeks=("week", "size"), peak=("load_pct", "max"))
        over = over[over["weeks"] >= structural_weeks]
        if len(over):
            for res, r in over.iterrows():
                lines.append(f"- **{res}**: overloaded in {int(r.weeks)} of the next weeks (peak {r.peak:.0%} of available hours); add capacity or level production in the plan.")
        else:
            lines.append(f"- No resource overloaded in {structural_weeks} or more weeks.")
    else:
        lines.append("- No capacity data supplied.")
    lines += ["", "## Financial gap to plan", ""]
    fam = plan_vs_estimate.dropna(subset=["revenue_plan"]).groupby("family")[
        ["revenue_plan", "revenue_estimate", "gap", "plan_value_vs_financial_plan", "demand_vs_plan", "supply_shortfall"]
    ].sum()
    if len(fam):
        total = fam.sum()
        lines.append(
            f"- Horizon total: estimate {total.revenue_estimate:,.0f} vs plan {total.revenue_plan:,.0f} ({total.gap:+,.0f}) = "
            f"demand plan vs financial plan {total.plan_value_vs_financial_plan:+,.0f} + sensed demand vs demand plan {total.demand_vs_plan:+,.0f} "
            f"+ supply shortfall {total.supply_shortfall:+,.0f}."
        )
        for family, r in fam.sort_values("gap").iterrows():
            lines.append(f"- {family}: {r.gap:+,.0f} ({r.gap / r.revenue_plan:+.1%} of plan)" if r.revenue_plan else f"- {family}: {r.gap:+,.0f}")
    else:
        lines.append("- No financial plan supplied.")
    return "\n".join(lines) + "\n"


def _item_findings(sop_items: pd.DataFrame | None, shown: int = 10) -> list[str]:
    """The S&OP-track items of the week (plan bias and drift per SKU-location), largest money first."""
    if sop_items is None or sop_items.empty:
        return []
    top = sop_items.sort_values("money_at_risk", ascending=False)
    lines = ["", f"## Plan findings per item ({len(top)}; not on the weekly meeting's list)", ""]
    for r in top.head(shown).itertuples():
        lines.append(f"- {r.sku} @ {r.location}: {r.kind.replace('_', ' ')}, {r.cause} ({r.money_at_risk:,.0f} margin over the next 4 weeks); {r.best_action}.")
    if len(top) > shown:
        lines.append(f"- and {len(top) - shown} more: every one is in demand_exceptions (kinds persistent_bias and tracking_signal).")
    return lines
