"""Financial impact (step 4): money at risk, plan vs estimate, countermeasures, the decision list, feedback to S&OP."""

from .catalogue import ACTIONS, CatalogueError, load_catalogue
from .countermeasures import COLUMNS, generate_options, substitutes_at
from .decisions import FIRST_MOVE, cap_to_budget, decision_items, sop_items
from .feedback import sop_feedback
from .money import (
    estimate_sums,
    excess_rows,
    largest_excess,
    money_at_risk,
    plan_vs_estimate,
    plan_vs_estimate_of,
    rollup_money,
)
from .params import FinanceParams
from .parts import GapPart, ProjectionPart, gap_part, join_gap_parts, projection_part, substitute_pairs, week_world
from .plan import PlanResult, apply_plan, greedy_plan, joint_plan, reproject
from .step import INPUT_TABLES, FinanceWeek, assess_week
from .world import World, make_world, profiles, series_blocks

__all__ = [
    "ACTIONS",
    "COLUMNS",
    "CatalogueError",
    "FIRST_MOVE",
    "FinanceParams",
    "FinanceWeek",
    "GapPart",
    "INPUT_TABLES",
    "PlanResult",
    "ProjectionPart",
    "World",
    "apply_plan",
    "assess_week",
    "cap_to_budget",
    "decision_items",
    "estimate_sums",
    "excess_rows",
    "gap_part",
    "generate_options",
    "greedy_plan",
    "join_gap_parts",
    "joint_plan",
    "largest_excess",
    "load_catalogue",
    "make_world",
    "money_at_risk",
    "plan_vs_estimate",
    "plan_vs_estimate_of",
    "profiles",
    "projection_part",
    "reproject",
    "rollup_money",
    "series_blocks",
    "sop_feedback",
    "sop_items",
    "substitute_pairs",
    "substitutes_at",
    "week_world",
]
