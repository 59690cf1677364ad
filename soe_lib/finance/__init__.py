"""Financial impact (step 4): money at risk, plan vs estimate, countermeasures, the decision list, feedback to S&OP."""

from .catalogue import ACTIONS, load_catalogue
from .countermeasures import (
    COLUMNS,
    accept_options,
    allocate_options,
    expedite_options,
    generate_options,
    overtime_options,
    shape_demand_options,
    substitute_options,
    transfer_options,
)
from .decisions import FIRST_MOVE, cap_to_budget, capacity_items, decision_items, demand_items, gap_items, storage_items
from .feedback import sop_feedback
from .money import excess_inventory, money_at_risk, plan_vs_estimate, rollup_money
from .params import FinanceParams
from .step import INPUT_TABLES, FinanceWeek, assess_week

__all__ = [
    "ACTIONS",
    "COLUMNS",
    "FIRST_MOVE",
    "FinanceParams",
    "FinanceWeek",
    "INPUT_TABLES",
    "accept_options",
    "allocate_options",
    "assess_week",
    "cap_to_budget",
    "capacity_items",
    "decision_items",
    "demand_items",
    "excess_inventory",
    "expedite_options",
    "gap_items",
    "generate_options",
    "load_catalogue",
    "money_at_risk",
    "overtime_options",
    "plan_vs_estimate",
    "rollup_money",
    "shape_demand_options",
    "sop_feedback",
    "storage_items",
    "substitute_options",
    "transfer_options",
]
