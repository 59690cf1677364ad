"""Supply gap analysis (step 3): projected inventory, gaps and their root cause, inbound delays, capacity, storage."""

from .capacity import capacity_load, carry_over, line_completion
from .gaps import CAUSE_COLUMNS, CAUSES, GAP_COLUMNS, find_gaps, mark_lines
from .inbound import LINE_COLUMNS, delay_summary, line_delays
from .params import SupplyParams
from .step import SupplyWeek, analyse_supply, demand_spread, shortage_probability
from .storage import storage_load

__all__ = [
    "CAUSES",
    "CAUSE_COLUMNS",
    "GAP_COLUMNS",
    "LINE_COLUMNS",
    "analyse_supply",
    "capacity_load",
    "carry_over",
    "delay_summary",
    "demand_spread",
    "find_gaps",
    "line_completion",
    "line_delays",
    "mark_lines",
    "shortage_probability",
    "storage_load",
    "SupplyParams",
    "SupplyWeek",
]
