"""Parameters of the supply gap analysis (declared once; see :mod:`soe_lib.core.params`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.params import param

__all__ = ["SupplyParams"]


@dataclass(frozen=True)
class SupplyParams:
    """Supply gap analysis (notebooks/03_supply_gaps.ipynb). Formulas: docs/supply-gaps.md."""

    cover_weeks: int = param(4, "Weeks of supply = projected on hand / mean demand over the next this many weeks.", min=1, max=52)
    min_gap_qty: float = param(
        1.0, "A shortage gap (every week with demand not served) is listed when it reaches this many units short somewhere; a safety-stock gap, this many below safety stock: sensed demand is fractional.", min=0, max=1e9
    )
