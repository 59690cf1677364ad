"""The meeting pack's content: which rows of the week's tables go into the workbook for those who live in Excel,
and an 'about' sheet that says what each sheet holds and what was left out (the workbook itself is written by
:func:`soe_lib.io.workbook.write_workbook`)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .countermeasures import COLUMNS as OPTION_COLUMNS

__all__ = ["MEETING_PACK_ROWS", "meeting_pack"]

MEETING_PACK_ROWS = 1000


def meeting_pack(week: Any, max_rows: int = MEETING_PACK_ROWS) -> dict[str, pd.DataFrame]:
    """The meeting pack's sheets of the step's result ``week`` (:class:`~soe_lib.finance.step.FinanceWeek`): a meeting reads hundreds of rows, not 40,000, and openpyxl writes
    ~5k rows a second; so the gaps (largest margin at risk first) and their options stop at
    ``max_rows``, and an 'about' sheet says so. Every row stays in the Parquet tables."""
    gaps = week.impact.head(max_rows)  # sorted by margin at risk
    feasible = week.options[week.options["feasible"] & week.options["gap_id"].isin(gaps["gap_id"])]
    options = feasible[OPTION_COLUMNS].head(max_rows)  # in gap order: the largest gaps' options first
    plan = week.chosen().head(max_rows)
    actions = week.action_register()
    about = pd.DataFrame(
        {
            "sheet": ["decision_list", "actions", "beyond_budget", "joint_plan", "gaps", "countermeasures", "plan_vs_estimate"],
            "rows": [len(week.decisions), len(actions), len(week.beyond_budget), len(plan), len(gaps), len(options), len(week.plan_vs_estimate)],
            "of": [len(week.decisions) + int(week.beyond_budget["items"].sum()), len(actions), len(week.beyond_budget), len(week.chosen()),
                   len(week.impact), int(week.options["feasible"].sum()), len(week.plan_vs_estimate)],
            "note": [
                "execution items ranked and capped at the alert budget, then those in hand, then the top S&OP items",
                "the action register: actions of earlier weeks still open (owner, due week, status)", "the rest, by track and kind",
                week.plan_note(), "largest margin at risk first; all in financial_impact.parquet",
                "feasible options of the largest gaps; all in countermeasures.parquet", "family x week",
            ],
        }
    )
    sheets = {
        "decision_list": week.decisions, "actions": actions, "beyond_budget": week.beyond_budget, "joint_plan": plan, "gaps": gaps,
        "countermeasures": options, "plan_vs_estimate": week.plan_vs_estimate,
    }
    # an empty sheet is left out (the about sheet says so) rather than shown as a header over nothing
    about.loc[about["rows"] == 0, "note"] = "nothing this week (no sheet)"
    return {"about": about, **{name: frame for name, frame in sheets.items() if len(frame)}}
