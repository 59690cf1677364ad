"""The closed loop (step 5): what changed since last week and why, whether last weeks' decisions worked, and
sensing's track record."""

from .bridge import PARTS, Walk, WeekInputs, at_risk_money, bridge_table, estimate_gap, walk, week_inputs
from .changes import ITEM_COLUMNS, forecast_changes, item_changes, items_of_week, published_items
from .outcomes import OUTCOME_COLUMNS, action_outcomes, decision_credit, decision_receipts, executed, value_rollup
from .params import LoopParams
from .step import INPUT_TABLES, LoopWeek, close_loop
from .track import TRACK_COLUMNS, track_record

__all__ = [
    "INPUT_TABLES",
    "ITEM_COLUMNS",
    "LoopParams",
    "LoopWeek",
    "OUTCOME_COLUMNS",
    "PARTS",
    "TRACK_COLUMNS",
    "Walk",
    "WeekInputs",
    "action_outcomes",
    "at_risk_money",
    "bridge_table",
    "close_loop",
    "decision_credit",
    "decision_receipts",
    "estimate_gap",
    "executed",
    "forecast_changes",
    "item_changes",
    "items_of_week",
    "published_items",
    "track_record",
    "value_rollup",
    "walk",
    "week_inputs",
]
