"""The built-in sample company: a deterministic generator of every input table."""

from .company import DEFAULTS, GENERATOR_VERSION, RUN_WEEK, ensure_sample, generate_sample, write_sample

__all__ = [
    "DEFAULTS",
    "GENERATOR_VERSION",
    "RUN_WEEK",
    "ensure_sample",
    "generate_sample",
    "write_sample",
]
