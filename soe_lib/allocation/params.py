"""Parameters of the allocation step (declared once; see :mod:`soe_lib.core.params`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.params import param

__all__ = ["AllocationParams"]


@dataclass(frozen=True)
class AllocationParams:
    """Allocation of scarce supply to order lines, and order promising (notebooks/04_financial_impact.ipynb).
    Formulas: docs/allocation.md."""

    allocation_policy: str = param("rule", "How short supply is shared among order lines: rule (tiers, then an equal fill % within a tier, "
                                   "contractual minima first), fair_share (one equal fill % for all) or margin_first.",
                                   choices=("rule", "fair_share", "margin_first"))
    default_tier: int = param(1, "Tier of an order line whose customer is not in the customers table and that has no priority.", min=1, max=99)
    forecast_tier: int = param(0, "Forecast demand without orders is served after every booked order (0), or with the orders of this tier "
                               "(1 = before all of them).", min=0, max=99)
    ctp_lead_weeks: int = param(1, "Capable-to-promise: units made with spare hours count from this many weeks after the run week "
                                "(this week's production is scheduled).", min=0, max=52)
