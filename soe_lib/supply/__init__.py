"""Supply gap analysis (step 3): projected inventory, gaps and their root cause, inbound delays, capacity, storage."""

from .capacity import capacity_load, carry_over, line_completion
from .gaps import CAUSE_COLUMNS, CAUSES, GAP_COLUMNS, find_gaps, mark_lines
from .inbound import LINE_COLUMNS, delay_summary, line_delays
from .params import SupplyParams
from .step import SupplyWeek, analyse_supply
from .storage import storage_load

__all__ = [
    "CAUSES",
    "CAUSE_COLUMNS",
    "GAP_COLUMNS",
    "LINE_COLUMNS",
    "SupplyParams",
    "SupplyWeek",
    "analyse_supply",
    "capacity_load",
    "carry_over",
    "delay_summary",
    "find_gaps",
    "line_completion",
    "line_delays",
    "mark_lines",
    "storage_load",
]
