"""Parameters of the closed loop (declared once; see :mod:`soe_lib.core.params`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.params import param

__all__ = ["LoopParams"]


@dataclass(frozen=True)
class LoopParams:
    """What changed since last week, and whether decisions worked (notebooks/05_what_changed.ipynb). Definitions: docs/closed-loop.md."""

    forecast_changes_rows: int = param(50, "SKU-locations listed in forecast_changes (those whose sensed demand moved most, in money).", min=1, max=100_000)
    worked_share: float = param(
        0.5, "An executed action worked when the risk it removed is at least this share of the benefit expected when it was recorded.", min=0, max=10
    )
    track_record_weeks: int = param(8, "Past published weeks the sensing track record scores.", min=1, max=104)
