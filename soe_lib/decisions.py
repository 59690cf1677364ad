"""The decision list the weekly meeting works through, and what goes back to S&OP.

Every exception of the week becomes a candidate item with money at stake:

| kind | money at stake |
|---|---|
| supply gap (shortage) | margin at risk of the gap |
| capacity overload (resource-week) | margin of the production it puts at risk |
| storage overflow (location-week) | overflow units x ``overflow_cost_per_unit`` |
| spike, drop, sensed vs plan | forward deviation: abs(sensed - plan) over the next 4 weeks x (price - cost) |
| persistent bias, drifting plan | abs(bias) x plan over the next 4 weeks x (price - cost) |

Demand exceptions are valued on what they mean *from now on*, not on past error, so they compete
fairly with the supply gaps for the meeting's attention.

``urgency = urgency_decay ^ (weeks until it starts)`` (this week = 1), ``score = money x urgency``.
Items are ranked by score and **capped at the alert budget** (default 25: what a meeting can resolve);
the rest is summarised by kind, with its count and money, so nothing is silently dropped.
Each supply gap carries its best countermeasure (rank 1); other kinds carry the standard first move.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["FIRST_MOVE", "cap_to_budget", "decision_items", "sop_feedback", "write_meeting_pack"]

FIRST_MOVE = {
    "capacity overload": "overtime or move production to another week / resource",
    "storage overflow": "delay receipts or transfer stock out",
    "spike": "confirm with sales; check supply for the next weeks",
    "drop": "confirm with sales; slow down inbound supply",
    "persistent_bias": "correct the plan at the next S&OP",
    "tracking_signal": "review the plan's trend at the next S&OP",
    "sensed_vs_plan": "align the near-term plan with sensed demand",
}
DEMAND_KINDS = ("spike", "drop", "persistent_bias", "tracking_signal", "sensed_vs_plan")
COLUMNS = [
    "kind", "sku", "location", "resource", "week", "severity", "money_at_risk", "urgency", "score", "cause",
    "best_action", "action_qty", "action_cost", "action_net_benefit", "detail",
]


def _urgency(week: pd.Series, run_week: pd.Timestamp, decay: float) -> np.ndarray:
    ahead = ((pd.to_datetime(week) - run_week).dt.days // 7).clip(lower=0).to_numpy()
    return decay ** ahead


def decision_items(
    impact: pd.DataFrame,
    options: pd.DataFrame,
    capacity: pd.DataFrame,
    lines: pd.DataFrame,
    products: pd.DataFrame,
    storage: pd.DataFrame,
    demand_exceptions: pd.DataFrame,
    projection: pd.DataFrame,
    run_week: pd.Timestamp,
    urgency_decay: float = 0.85,
    overflow_cost_per_unit: float = 1.0,
    forward_weeks: int = 4,
) -> pd.DataFrame:
    """Every candidate item of the week, scored (see module doc), best first."""
    frames = []
    margin = (products.set_index("sku")["unit_price"] - products.set_index("sku")["unit_cost"]).rename("margin")

    if len(impact):
        best = options[options["rank"] == 1].set_index("gap_id")
        gaps = impact.reset_index(drop=True)
        pick = best.reindex(np.arange(len(gaps)))
        frames.append(
            pd.DataFrame(
                {
                    "kind": "supply gap",
                    "sku": gaps["sku"], "location": gaps["location"], "resource": "",
                    "week": gaps["first_week"],
                    "severity": np.where(gaps["weeks_short"] >= 3, "high", np.where(gaps["weeks_short"] == 2, "medium", "low")),
                    "money_at_risk": gaps["margin_at_risk"],
                    "cause": gaps["cause"],
                    "best_action": pick["action"].to_numpy(), "action_qty": pick["qty"].to_numpy(),
                    "action_cost": pick["cost"].to_numpy(), "action_net_benefit": pick["net_benefit"].to_numpy(),
                    "detail": (gaps["shortage_qty"].round(0).astype(int).astype(str) + " units short from " + gaps["first_week"].dt.strftime("%G-W%V")
                               + "; " + pick["detail"].fillna("").to_numpy()),
                }
            )
        )
    if len(capacity) and capacity["overloaded"].any():
        risk = lines[lines["at_risk_qty"] > 0].assign(margin=lambda f: f["sku"].map(margin) * f["at_risk_qty"])
        money = risk.groupby(["bottleneck", "eta_week"], as_index=False)["margin"].sum()
        money = money.rename(columns={"bottleneck": "resource", "eta_week": "week"})
        over = capacity[capacity["overloaded"].astype(bool)].merge(money, on=["resource", "week"], how="left").reset_index(drop=True)
        frames.append(
            pd.DataFrame(
                {
                    "kind": "capacity overload", "sku": "", "location": "", "resource": over["resource"],
                    "week": over["week"],
                    "severity": np.where(over["load_pct"] >= 1.5, "high", np.where(over["load_pct"] >= 1.2, "medium", "low")),
                    "money_at_risk": over["margin"].fillna(0.0),
                    "cause": "load above available hours",
                    "best_action": FIRST_MOVE["capacity overload"],
                    "detail": "load " + (over["load_pct"] * 100).round(0).astype(int).astype(str) + " % of available hours",
                }
            )
        )
    flow = storage[storage["overflow"].astype(bool)].reset_index(drop=True) if len(storage) else storage
    if len(flow):
        frames.append(
            pd.DataFrame(
                {
                    "kind": "storage overflow", "sku": "", "location": flow["location"], "resource": "", "week": flow["week"],
                    "severity": np.where(flow["utilization"] >= 1.1, "high", "medium"),
                    "money_at_risk": flow["overflow_qty"] * overflow_cost_per_unit,
                    "cause": "units held above storage capacity",
                    "best_action": FIRST_MOVE["storage overflow"],
                    "detail": flow["overflow_qty"].round(0).astype(int).astype(str) + " units over capacity",
                }
            )
        )
    dem = demand_exceptions[demand_exceptions["kind"].isin(DEMAND_KINDS)].reset_index(drop=True)
    if len(dem):
        near = projection[projection["week"] < run_week + pd.Timedelta(weeks=forward_weeks)]
        ahead = near.groupby(["sku", "location"], as_index=False)[["demand_qty", "plan_demand_qty"]].sum()
        dem = dem.merge(ahead, on=["sku", "location"], how="left")
        unit_margin = dem["sku"].map(margin).fillna(0).to_numpy()
        deviation = (dem["demand_qty"] - dem["plan_demand_qty"]).abs().fillna(0).to_numpy()
        drift = (dem["bias"].abs() * dem["plan_demand_qty"]).fillna(0).to_numpy()
        forward = np.where(dem["kind"].isin(["persistent_bias", "tracking_signal"]), drift, deviation)
        frames.append(
            pd.DataFrame(
                {
                    "kind": dem["kind"], "sku": dem["sku"], "location": dem["location"], "resource": "",
                    "week": pd.to_datetime(dem["week"]), "severity": dem["severity"],
                    "money_at_risk": forward * unit_margin,
                    "cause": dem["direction"].fillna(""),
                    "best_action": dem["kind"].map(FIRST_MOVE),
                    "detail": dem["detail"].fillna(""),
                }
            )
        )
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})
    items = pd.concat(frames, ignore_index=True)
    items["money_at_risk"] = items["money_at_risk"].astype(float).fillna(0.0)
    items["urgency"] = _urgency(items["week"], run_week, urgency_decay)
    items["score"] = items["money_at_risk"] * items["urgency"]
    items = items.reindex(columns=COLUMNS).sort_values(["score", "money_at_risk"], ascending=False).reset_index(drop=True)
    return items


def cap_to_budget(items: pd.DataFrame, budget: int = 25) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the top ``budget`` items with their rank, a summary of the rest by kind)."""
    top = items.head(budget).copy()
    top.insert(0, "rank", np.arange(1, len(top) + 1))
    rest = items.iloc[budget:]
    summary = (
        rest.groupby("kind", as_index=False).agg(items=("score", "size"), money_at_risk=("money_at_risk", "sum"))
        if len(rest)
        else pd.DataFrame({"kind": pd.Series(dtype="str"), "items": pd.Series(dtype="int64"), "money_at_risk": pd.Series(dtype="float64")})
    )
    return top, summary


def sop_feedback(
    week_label: str,
    family_accuracy: pd.DataFrame,
    by_supplier: pd.DataFrame,
    capacity: pd.DataFrame,
    plan_vs_estimate: pd.DataFrame,
    bias_threshold: float = 0.1,
    on_time_threshold: float = 0.8,
    structural_weeks: int = 2,
) -> str:
    """Markdown for next month's S&OP: persistent bias, recurring supplier delays, structural capacity gaps,
    and the financial gap to plan."""
    lines = [f"# Feedback to S&OP from the S&OE week {week_label}", ""]
    biased = family_accuracy[family_accuracy["bias"].abs() > bias_threshold]
    lines += ["## Demand plan bias by family", ""]
    if len(biased):
        for r in biased.itertuples():
            way = "over-forecast" if r.bias > 0 else "under-forecast"
            lines.append(f"- **{r.group}**: {way} by {abs(r.bias):.0%} over the lookback (WAPE {r.wape:.0%}); correct the consensus plan.")
    else:
        lines.append(f"- No family beyond +-{bias_threshold:.0%} bias.")
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
    fam = plan_vs_estimate.dropna(subset=["revenue_plan"]).groupby("family")[["revenue_plan", "revenue_estimate", "gap", "demand_vs_plan", "supply_shortfall"]].sum()
    if len(fam):
        total = fam.sum()
        lines.append(
            f"- Horizon total: estimate {total.revenue_estimate:,.0f} vs plan {total.revenue_plan:,.0f} "
            f"({total.gap:+,.0f}; demand vs plan {total.demand_vs_plan:+,.0f}, supply shortfall {total.supply_shortfall:+,.0f})."
        )
        for family, r in fam.sort_values("gap").iterrows():
            lines.append(f"- {family}: {r.gap:+,.0f} ({r.gap / r.revenue_plan:+.1%} of plan)" if r.revenue_plan else f"- {family}: {r.gap:+,.0f}")
    else:
        lines.append("- No financial plan supplied.")
    return "\n".join(lines) + "\n"


def write_meeting_pack(path: Path, sheets: dict[str, pd.DataFrame]) -> Path:
    """An .xlsx for those who live in Excel: one sheet per table, weeks as ISO labels, headers frozen."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from .weeks import week_labels

    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, frame in sheets.items():
            out = frame.drop(columns=[c for c in frame.columns if c.startswith("_")]).copy()
            for col in out.columns:
                if pd.api.types.is_datetime64_any_dtype(out[col]):
                    out[col] = week_labels(out[col]).astype(object)
            out.to_excel(xw, sheet_name=name[:31], index=False)
            sheet = xw.sheets[name[:31]]
            sheet.freeze_panes = "A2"
            for i, col in enumerate(out.columns, 1):
                sheet.cell(row=1, column=i).font = Font(bold=True)
                width = max([len(str(col))] + [len(str(v)) for v in out[col].head(200).tolist()])
                sheet.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 8), 60)
    return path
