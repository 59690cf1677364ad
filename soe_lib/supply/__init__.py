"""Supply gap analysis (step 3): projected inventory, gaps and their root cause, inbound delays, capacity, storage."""

from .capacity import capacity_load, carry_over, due_load, line_completion, load_table
from .gaps import CAUSE_COLUMNS, CAUSES, GAP_COLUMNS, find_gaps, mark_lines
from .inbound import LINE_COLUMNS, delay_summary, line_delays
from .params import SupplyParams
from .step import (
    SupplyPart,
    SupplyWeek,
    analyse_supply,
    demand_spread,
    horizon,
    number_gaps,
    shortage_probability,
    supply_part,
    supply_week,
)
from .storage import storage_load, units_held

__all__ = [
    "CAUSES",
    "CAUSE_COLUMNS",
    "GAP_COLUMNS",
    "LINE_COLUMNS",
    "analyse_supply",
    "capacity_load",
    "carry_over",
    "delay_summary",
    "due_load",
    "horizon",
    "load_table",
    "number_gaps",
    "supply_part",
    "supply_week",
    "units_held",
    "demand_spread",
    "find_gaps",
    "line_completion",
    "line_delays",
    "mark_lines",
    "shortage_probability",
    "storage_load",
    "SupplyParams",
    "SupplyPart",
    "SupplyWeek",
]
