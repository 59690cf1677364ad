"""Financial impact (step 4): money at risk, plan vs estimate, countermeasures, the decision list, feedback to S&OP."""

from .catalogue import ACTIONS, load_catalogue
from .countermeasures import COLUMNS, World, generate_options, make_world, substitutes_at
from .decisions import FIRST_MOVE, cap_to_budget, decision_items, sop_items
from .feedback import sop_feedback
from .money import (
    estimate_sums,
    excess_inventory,
    excess_rows,
    largest_excess,
    loss_factor,
    money_at_risk,
    plan_vs_estimate,
    plan_vs_estimate_of,
    rollup_money,
    series_blocks,
    shipped_qty,
)
from .params import FinanceParams
from .parts import GapPart, ProjectionPart, gap_part, join_gap_parts, projection_part, substitute_pairs
from .plan import PlanResult, apply_plan, greedy_plan, joint_plan
from .step import INPUT_TABLES, FinanceWeek, assess_week

__all__ = [
    "ACTIONS",
    "COLUMNS",
    "FIRST_MOVE",
    "FinanceParams",
    "FinanceWeek",
    "INPUT_TABLES",
    "PlanResult",
    "World",
    "apply_plan",
    "assess_week",
    "cap_to_budget",
    "decision_items",
    "estimate_sums",
    "excess_inventory",
    "excess_rows",
    "largest_excess",
    "plan_vs_estimate_of",
    "GapPart",
    "gap_part",
    "join_gap_parts",
    "ProjectionPart",
    "projection_part",
    "substitute_pairs",
    "substitutes_at",
    "generate_options",
    "greedy_plan",
    "joint_plan",
    "load_catalogue",
    "loss_factor",
    "make_world",
    "money_at_risk",
    "plan_vs_estimate",
    "rollup_money",
    "series_blocks",
    "shipped_qty",
    "sop_feedback",
    "sop_items",
]
