"""Parameters of the logistics step (declared once; see :mod:`soe_lib.core.params`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.params import param

__all__ = ["LogisticsParams"]


@dataclass(frozen=True)
class LogisticsParams:
    """Logistics: what lanes really did (notebooks/03_supply_gaps.ipynb). Formulas: docs/logistics.md."""

    prior_deliveries: float = param(
        10.0, "A lane's own delays count as much as its mode's and supplier's once it has this many (recent) deliveries: weight = n / (n + this).",
        min=0, max=1e6,
    )
    half_life_weeks: float = param(
        13.0, "A delivery received this many weeks ago counts half as much as one received this week (recent congestion shows first).",
        min=1, max=520,
    )
    trend_weeks: int = param(13, "The trend compares deliveries received in the last this many weeks with the ones before.", min=1, max=104)
