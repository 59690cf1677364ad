"""The built-in sample company: a deterministic generator of every input table."""

from .company import (
    DEFAULTS,
    GENERATOR_VERSION,
    RUN_WEEK,
    Truth,
    ensure_sample,
    generate_sample,
    replacing_folder,
    sample_with_truth,
    write_company,
    write_sample,
)
from .partitioned import PART_TABLES, write_sample_parts
from .weeks import NOT_EXECUTED_EVERY, next_week, simulate_weeks, write_weeks

__all__ = [
    "DEFAULTS",
    "GENERATOR_VERSION",
    "NOT_EXECUTED_EVERY",
    "PART_TABLES",
    "RUN_WEEK",
    "Truth",
    "ensure_sample",
    "generate_sample",
    "next_week",
    "replacing_folder",
    "sample_with_truth",
    "simulate_weeks",
    "write_company",
    "write_sample",
    "write_sample_parts",
    "write_weeks",
]
