"""Parameters of the financial impact and the decision list (declared once; see :mod:`soe_lib.core.params`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.params import MoneyParams, param

__all__ = ["FinanceParams"]


@dataclass(frozen=True)
class FinanceParams(MoneyParams):
    """Financial impact and the decision list (notebooks/04_financial_impact.ipynb), after the money policy it shares with
    the loop and the app (:class:`~soe_lib.core.params.MoneyParams`). Formulas: docs/financial-impact.md."""

    currency: str = param("USD", "Currency of the data's prices and costs, shown with every money figure (app, notebooks, workbook, minutes).")
    alert_budget: int = param(25, "Items on the meeting's decision list; the rest is summarised below it.", min=1, max=10_000)
    urgency_decay: float = param(0.85, "Urgency of an item starting n weeks from now: urgency_decay ** n.", min=0, max=1)
    excess_weeks: float = param(12.0, "Stock beyond this many weeks of demand is excess (valued at cost).", min=0, max=520)
    countermeasure_catalogue: str = param(
        "countermeasures.yaml", "The countermeasure catalogue: a file name in parameters/catalogues/, or a path."
    )
    frozen_fence_weeks: int = param(
        2, "Weeks from the run week in which the plan is frozen: new orders and raised orders arrive after them.", min=0, max=52,
    )
    in_hand_cover: float = param(
        0.8, "An item is in hand (off the ranked list) only while its open actions cover at least this share of its shortage; "
        "otherwise it stays on the list with the part they leave uncovered.", min=0, max=1,
    )
    plan_seconds: float = param(10.0, "Time the solver may take for the week's joint countermeasure plan (then: its best plan so far).", min=0.1, max=3600)
    plan_gap: float = param(
        0.001, "The joint plan is done when proven within this share of the best possible net benefit (0.001 = 0.1 %).", min=0, max=1
    )
